"""Starts the real qingshui server (the debug binary built by `make test`) on a free port with a
fresh SQLite data directory for each test module, or, when QINGSHUI_TEST_DATABASE_URL names a
PostgreSQL server (`make test-postgres`), a fresh schema of that database."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest


def _binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "target"))
    path = os.environ.get("QINGSHUI_BIN", os.path.join(target, "debug", "qingshui"))
    if not os.path.exists(path):
        pytest.fail(f"qingshui binary not found at {path}; run `cargo build -p qingshui` or set QINGSHUI_BIN")
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_env():
    """The environment that runs the server on a fresh PostgreSQL schema, or None (SQLite)."""
    admin = os.environ.get("QINGSHUI_TEST_DATABASE_URL", "").strip()
    if not admin:
        return None
    schema = f"py_{os.getpid()}_{int(time.time() * 1e6) & 0xFFFFFFFF:x}"
    subprocess.run(["psql", admin, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    sep = "&" if "?" in admin else "?"
    return dict(os.environ, QINGSHUI_DATABASE_URL=f"{admin}{sep}options=-csearch_path%3D{schema}")


def _start(extra):
    data = tempfile.mkdtemp(prefix="qingshui-py-")
    port = _free_port()
    proc = subprocess.Popen(
        [_binary(), "serve", "--data-dir", data, "--http", f"127.0.0.1:{port}", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_postgres_env(),
    )
    base = f"http://127.0.0.1:{port}/v1.1"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base, timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                proc.kill()
                pytest.fail(f"server did not start:\n{out}")
            time.sleep(0.1)
    return proc, data, base


def _stop(proc, data):
    proc.terminate()
    proc.wait(timeout=20)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    proc, data, base = _start(["--open"])
    yield base
    _stop(proc, data)


MQTT_TOKEN = "py-mqtt-token"


@pytest.fixture(scope="module")
def mqtt_server():
    """Not `--open`: anonymous clients may read but not publish; MQTT_TOKEN may write."""
    mqtt_port, ws_port = _free_port(), _free_port()
    conf = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    conf.write(f'[mqtt]\nwebsocket = "127.0.0.1:{ws_port}"\n')
    conf.close()
    proc, data, base = _start(["--token", MQTT_TOKEN, "--mqtt", f"127.0.0.1:{mqtt_port}", "--config", conf.name])
    yield {"base": base, "mqtt_port": mqtt_port, "ws_port": ws_port, "token": MQTT_TOKEN}
    _stop(proc, data)
    os.unlink(conf.name)
