# qingshui — two commands for a newcomer: `make demo` and `make test`.
#
# Builds share one cargo target directory outside the clone so that repeated CI runs on the same
# machine reuse compiled dependencies. Override with CARGO_TARGET_DIR=… if you like.

CARGO_TARGET_DIR ?= /var/cache/qingshui/target
export CARGO_TARGET_DIR
VENV := .venv
PY := $(VENV)/bin/python
QINGSHUI_DEBUG := $(CARGO_TARGET_DIR)/debug/qingshui

.PHONY: demo serve test test-deps sipp mosquitto report-deps test-rust test-postgres postgres-up postgres-down test-python build fmt lint bench clean

# PDF reports (typst) are a cargo feature, off in a plain `cargo build`; the demo and the tests
# build with it (docs/reports.md).
FEATURES := --features server/pdf,qingshui/pdf

include web/web.mk

## Run the platform with the Hongfeng Lake demo on the embedded store (release build).
## The dashboard is built first so that the binary embeds it.
demo: web-build report-deps
	cargo run --release -p qingshui --features pdf -- demo

## Run the server alone on ./data with the Hongfeng network, accepting anonymous writes (local use).
serve: web-build
	cargo run --release -p qingshui -- serve --open --network config/hongfeng.toml --hj212 127.0.0.1:9212

## Install what the tests need, then run every test. The dashboard is built before the Rust
## build so that the debug binary the browser test drives embeds it.
test: test-deps web-build test-rust test-postgres web-test test-python web-e2e

test-deps: $(VENV)/.installed sipp mosquitto report-deps

# The PDF report's CJK font (Debian fonts-noto-cjk; never downloaded by the build) and poppler's
# pdftotext/pdftoppm, which crates/server/tests/reports.rs reads the PDF back with.
report-deps:
	@if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || ! command -v pdftoppm >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk poppler-utils; \
	fi

# SIPp (Debian sip-tester) is the independent GB/T 28181 camera of crates/server/tests/gb28181_sipp.rs.
sipp:
	@if ! command -v sipp >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sip-tester; \
	fi

# mosquitto_pub / mosquitto_sub (Debian mosquitto-clients) are independent MQTT clients of
# tests/python/test_mqtt.py.
mosquitto:
	@if ! command -v mosquitto_pub >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mosquitto-clients; \
	fi

$(VENV)/.installed: tests/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

build:
	cargo build --workspace --all-targets $(FEATURES)

test-rust: build report-deps
	QINGSHUI_REQUIRE_SIPP=1 cargo test --workspace $(FEATURES)

## A throwaway PostgreSQL on 127.0.0.1:55433 (Debian packages installed when missing; docs/postgres.md).
postgres-up:
	bash .ci/postgres.sh up

postgres-down:
	bash .ci/postgres.sh down

PG_TEST_URL := postgres://postgres@127.0.0.1:55433/postgres
# The test server's CA and certificates (.ci/postgres.sh), for crates/store-postgres/tests/tls.rs.
PG_TEST_TLS := /tmp/qingshui-postgres-55433.tls
# The tests that go through the store, once more on PostgreSQL (each test its own schema).
PG_TESTS := --test sta_api --test hj212_ingest --test alerts_e2e --test accounts \
	--test review --test scenes_api --test domain_api --test time_sanity --test on_demand_datastreams \
	--test alert_catch_up

## The backend-facing tests on PostgreSQL; the database is stopped even when they fail.
test-postgres: build test-deps
	bash .ci/postgres.sh up
	QINGSHUI_TEST_DATABASE_URL=$(PG_TEST_URL) cargo test -p server --features pdf $(PG_TESTS) \
		&& QINGSHUI_TEST_DATABASE_URL=$(PG_TEST_URL) cargo test -p server --features pdf --test mqtt_sta out_of_order_ids \
		&& QINGSHUI_TEST_DATABASE_URL=$(PG_TEST_URL) cargo test -p qingshui --features pdf --test multi_node --test store_copy --test durability \
		&& QINGSHUI_TEST_DATABASE_URL=$(PG_TEST_URL) QINGSHUI_TEST_PG_TLS=$(PG_TEST_TLS) cargo test -p store-postgres \
		&& QINGSHUI_TEST_DATABASE_URL=$(PG_TEST_URL) QINGSHUI_BIN=$(QINGSHUI_DEBUG) $(PY) -m pytest -q tests/python/test_frost_client.py; \
	rc=$$?; bash .ci/postgres.sh down; exit $$rc

test-python: build test-deps
	QINGSHUI_BIN=$(QINGSHUI_DEBUG) $(PY) -m pytest -q tests/python

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets $(FEATURES) -- -D warnings

## Benchmarks (release build); results and commands are in BENCHMARKS.md.
bench:
	cargo run --release -p qingshui-bench --bin sta_bench

clean:
	rm -rf $(VENV) test-output
