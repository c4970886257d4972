#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the tests (docs/postgres.md): `up` installs the Debian
# packages when pg_config is missing, initdb's a cluster in a temporary directory and starts it on
# $PG_PORT (55433); `down` stops it and removes the directory. The directory is remembered in
# $PG_STATE so that `down` finds it from another shell. The server also speaks TLS, with a
# certificate for `localhost` from a throwaway CA in $PG_TLS (ca.pem; other-ca.pem is a CA
# that did not sign it; client.pem/client.key for the role qs_cert, which logs in only with that
# certificate), for crates/store-postgres/tests/tls.rs.
set -euo pipefail
PORT="${PG_PORT:-55433}"
STATE="${PG_STATE:-/tmp/qingshui-postgres-$PORT.dir}"
TLS="${PG_TLS:-/tmp/qingshui-postgres-$PORT.tls}"
case "${1:-}" in
up)
    # PostGIS evaluates the geospatial $filter functions on PostgreSQL (without it they answer 400).
    # pg_config alone proves nothing: libpq-dev ships it without the server binaries.
    if ! command -v pg_config >/dev/null || [ ! -x "$(pg_config --bindir 2>/dev/null)/initdb" ] \
        || [ ! -f "$(pg_config --sharedir 2>/dev/null)/extension/postgis.control" ]; then
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            postgresql postgresql-contrib postgresql-15-postgis-3
    fi
    if ! command -v openssl >/dev/null; then
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl
    fi
    PGBIN=$(pg_config --bindir)
    RUN=()
    if [ "$(id -u)" = 0 ]; then RUN=(runuser -u postgres --); fi
    if [ -f "$STATE" ]; then
        OLD=$(cat "$STATE")
        if [ -d "$OLD/data" ] && "${RUN[@]}" "$PGBIN/pg_ctl" -D "$OLD/data" status >/dev/null 2>&1; then
            echo "postgres already up on 127.0.0.1:$PORT ($OLD)"; exit 0
        fi
        # Left over from a run that did not stop it (the machine was reused): start afresh.
        rm -rf "$OLD" "$STATE"
    fi
    ROOT=$(mktemp -d /tmp/qingshui-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$ROOT"; fi
    rm -rf "$TLS"; mkdir -p "$TLS"
    EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${EC[@]}" -days 2 -subj "/CN=qingshui test CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -x509 "${EC[@]}" -days 2 -subj "/CN=another CA" -keyout "$TLS/other-ca.key" -out "$TLS/other-ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req "${EC[@]}" -subj "/CN=localhost" -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
        -extfile "$TLS/server.ext" -out "$TLS/server.pem" 2>/dev/null
    # A client certificate for the role qs_cert, which may log in only with it (pg_hba below).
    openssl req "${EC[@]}" -subj "/CN=qs_cert" -keyout "$TLS/client.key" -out "$TLS/client.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >"$TLS/client.ext"
    openssl x509 -req -in "$TLS/client.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
        -extfile "$TLS/client.ext" -out "$TLS/client.pem" 2>/dev/null
    chmod 600 "$TLS/server.key" "$TLS/client.key"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$TLS/server.key" "$TLS/server.pem"; fi
    "${RUN[@]}" "$PGBIN/initdb" -D "$ROOT/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$ROOT/initdb.log"
    HBA="$ROOT/data/pg_hba.conf"
    { printf 'hostssl all qs_cert 127.0.0.1/32 cert\nhost all qs_cert 127.0.0.1/32 reject\n'; cat "$HBA"; } >"$HBA.new"
    mv "$HBA.new" "$HBA"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$HBA"; fi
    "${RUN[@]}" "$PGBIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $ROOT -c max_connections=400 -c fsync=on -c ssl=on -c ssl_cert_file=$TLS/server.pem -c ssl_key_file=$TLS/server.key -c ssl_ca_file=$TLS/ca.pem" start >/dev/null \
        || { cat "$ROOT/server.log" >&2; rm -rf "$ROOT"; exit 1; }
    "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE ROLE qs_cert LOGIN" postgres
    echo "$ROOT" >"$STATE"
    echo "postgres up: postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
down)
    [ -f "$STATE" ] || exit 0
    ROOT=$(cat "$STATE"); PGBIN=$(pg_config --bindir)
    RUN=(); if [ "$(id -u)" = 0 ]; then RUN=(runuser -u postgres --); fi
    "${RUN[@]}" "$PGBIN/pg_ctl" -D "$ROOT/data" -m fast -w stop >/dev/null || true
    rm -rf "$ROOT" "$STATE" "$TLS"
    echo "postgres down"
    ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
