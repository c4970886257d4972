//! TLS to the database (`src/tls.rs`) against the real PostgreSQL of `make test-postgres`, which
//! `.ci/postgres.sh` starts with `ssl=on` and a certificate for `localhost` signed by a
//! throwaway CA (`QINGSHUI_TEST_PG_TLS`: its directory; skipped without it or
//! `QINGSHUI_TEST_DATABASE_URL`). libpq's `sslmode`/`sslrootcert` in the URL mean what they mean
//! to psql: verify-full checks the chain and the host name, verify-ca the chain only, require
//! without a root file only encrypts; a CA that did not sign the certificate is refused, with a
//! message that says so; `sslcert`/`sslkey` log a role in where the server asks for a client
//! certificate; and a whole store — writer, readers, listener — runs encrypted.

mod common;

use std::path::PathBuf;
use store::{NewObservation, Store, WriteCommand, WriteOutcome};
use store_postgres::{PgConfig, PgStore};

struct Env {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    admin: String,
    tls: PathBuf,
}

fn env() -> Option<Env> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let tls = std::env::var("QINGSHUI_TEST_PG_TLS")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    Some(Env {
        admin,
        tls: PathBuf::from(tls),
    })
}

impl Env {
    /// The admin URL on `host`, with `options` (`sslmode=…&sslrootcert=…`) added.
    fn url(&self, host: &str, options: &str) -> String {
        let url = self.admin.replace("127.0.0.1", host);
        let sep = if url.contains('?') { '&' } else { '?' };
        if options.is_empty() {
            url
        } else {
            format!("{url}{sep}{options}")
        }
    }

    fn root(&self, file: &str) -> String {
        format!("sslrootcert={}", self.tls.join(file).display())
    }
}

/// Connects (on a thread: the blocking client runs a runtime of its own) and tells whether the
/// session is encrypted, or the connection error.
fn encrypted(url: &str) -> Result<bool, String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut c = store_postgres::connect(&url).map_err(|e| e.to_string())?;
        let row = c
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .map_err(|e| e.to_string())?;
        Ok(row.get(0))
    })
    .join()
    .expect("connect thread")
}

#[test]
fn sslmodes_verify_as_libpq_does() {
    let Some(env) = env() else {
        eprintln!("QINGSHUI_TEST_DATABASE_URL or QINGSHUI_TEST_PG_TLS is not set: skipped");
        return;
    };
    let ca = env.root("ca.pem");
    // Without sslmode: a plain connection, as before.
    assert_eq!(encrypted(&env.url("127.0.0.1", "")), Ok(false));
    assert_eq!(
        encrypted(&env.url("127.0.0.1", "sslmode=disable")),
        Ok(false)
    );
    // verify-full: the chain and the name (the certificate is for localhost).
    assert_eq!(
        encrypted(&env.url("localhost", &format!("sslmode=verify-full&{ca}"))),
        Ok(true)
    );
    let wrong_name = encrypted(&env.url("127.0.0.1", &format!("sslmode=verify-full&{ca}")))
        .expect_err("127.0.0.1 is not the certificate's name");
    assert!(wrong_name.contains("certificate"), "{wrong_name}");
    eprintln!("verify-full to 127.0.0.1: {wrong_name}");
    // verify-ca: the chain only.
    assert_eq!(
        encrypted(&env.url("127.0.0.1", &format!("sslmode=verify-ca&{ca}"))),
        Ok(true)
    );
    // A CA that did not sign the server's certificate is refused, in both modes.
    let other = env.root("other-ca.pem");
    for mode in ["verify-full", "verify-ca", "require"] {
        let refused = encrypted(&env.url("localhost", &format!("sslmode={mode}&{other}")))
            .expect_err("an unknown issuer");
        assert!(
            refused.contains("certificate") && refused.contains("UnknownIssuer"),
            "{mode}: {refused}"
        );
        eprintln!("{mode} with another CA: {refused}");
    }
    // require without a root file: encrypted, not verified (libpq's meaning).
    assert_eq!(
        encrypted(&env.url("127.0.0.1", "sslmode=require")),
        Ok(true)
    );
    // A root file that is not there is named.
    let missing = encrypted(&env.url(
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent/root.pem",
    ))
    .expect_err("no root file");
    assert!(missing.contains("/nonexistent/root.pem"), "{missing}");
}

/// Who the server says the session belongs to (on a thread, as `encrypted`).
fn user_of(url: &str) -> Result<String, String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut c = store_postgres::connect(&url).map_err(|e| e.to_string())?;
        let row = c
            .query_one("SELECT current_user::TEXT", &[])
            .map_err(|e| e.to_string())?;
        Ok(row.get(0))
    })
    .join()
    .expect("connect thread")
}

#[test]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let Some(env) = env() else {
        eprintln!("QINGSHUI_TEST_DATABASE_URL or QINGSHUI_TEST_PG_TLS is not set: skipped");
        return;
    };
    // The role qs_cert may log in only with the certificate the test CA issued it (pg_hba
    // `hostssl … cert`, .ci/postgres.sh).
    let as_cert = |options: &str| {
        env.url("localhost", options)
            .replacen("//postgres@", "//qs_cert@", 1)
    };
    let ca = env.root("ca.pem");
    let (cert, key) = (env.tls.join("client.pem"), env.tls.join("client.key"));
    let presented = as_cert(&format!(
        "sslmode=verify-full&{ca}&sslcert={}&sslkey={}",
        cert.display(),
        key.display()
    ));
    assert_eq!(user_of(&presented), Ok("qs_cert".to_owned()));
    let refused =
        user_of(&as_cert(&format!("sslmode=verify-full&{ca}"))).expect_err("no client certificate");
    assert!(refused.contains("valid client certificate"), "{refused}");
    let missing = user_of(&as_cert(&format!(
        "sslmode=verify-full&{ca}&sslcert={}&sslkey=/nonexistent/client.key",
        cert.display()
    )))
    .expect_err("no key file");
    assert!(
        missing.contains("sslkey /nonexistent/client.key"),
        "{missing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_runs_every_connection_encrypted() {
    let Some(env) = env() else {
        eprintln!("QINGSHUI_TEST_DATABASE_URL or QINGSHUI_TEST_PG_TLS is not set: skipped");
        return;
    };
    let admin = env.admin.clone();
    let (schema, url) =
        std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, "tls_"))
            .join()
            .expect("schema thread")
            .expect("schema");
    let app = format!("tls_test_{schema}");
    let url = format!(
        "{}&sslmode=verify-full&{}&application_name={app}",
        url.replace("127.0.0.1", "localhost"),
        env.root("ca.pem")
    );
    let store = PgStore::open(PgConfig::new(url)).expect("open the store over TLS");
    store
        .write(common::intake())
        .await
        .expect("create over TLS");
    let rows: Vec<NewObservation> = (0..100)
        .map(|i| common::tp(1_767_225_600_000_000 + i * 300_000_000, 0.02))
        .collect();
    let out = store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .expect("write over TLS");
    assert!(matches!(out, WriteOutcome::Rows(r) if r.len() == 100 && r.iter().all(Result::is_ok)));
    let latest = store.latest(Some(vec![1])).await.expect("read over TLS");
    assert_eq!(latest.len(), 1);
    assert_eq!(
        store.backend_health().await.tls.as_deref(),
        Some("verify-full"),
        "health names the mode"
    );

    // Every session of this store (the writer under its own name, the readers and the listener
    // under the URL's) is encrypted.
    let writer = store_postgres::fence::writer_application_name(store_postgres::scope_of(&schema));
    let admin = env.admin.clone();
    let (plain, encrypted): (i64, i64) = std::thread::spawn(move || {
        let mut c = store_postgres::connect(&admin).expect("connect");
        let row = c
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE NOT s.ssl), COUNT(*) FILTER (WHERE s.ssl)
                 FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
                 WHERE a.application_name IN ($1, $2)",
                &[&app, &writer],
            )
            .expect("sessions");
        (row.get(0), row.get(1))
    })
    .join()
    .expect("query thread");
    assert_eq!(plain, 0, "a session of the store is not encrypted");
    assert!(
        encrypted >= 3,
        "the writer, the readers and the listener: {encrypted} sessions"
    );
    store.close().await;
}
