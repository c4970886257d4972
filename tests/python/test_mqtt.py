"""The SensorThings MQTT extension with independent clients (issue 17): paho-mqtt (PyPI) and
Debian's mosquitto_pub / mosquitto_sub against the real binary run with --mqtt. Create by
publish and read over HTTP; subscribe and receive an HTTP-created observation; $select; the
retained latest value; refusal of a bad payload and of a publish without the right role; a
subscriber that reconnects keeps receiving."""

import json
import queue
import shutil
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
import requests

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


@pytest.fixture(scope="module")
def env(mqtt_server):
    base, token = mqtt_server["base"], mqtt_server["token"]
    thing = {
        "name": "poultry house 1", "description": "farm",
        "Locations": [{"name": "l", "description": "l", "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [106.4, 26.5]}}],
        "Datastreams": [{
            "name": f"ds{k}", "description": "d", "observationType": MEASUREMENT,
            "unitOfMeasurement": {"name": "degC", "symbol": "degC", "definition": "ucum:Cel"},
            "Sensor": {"name": "s", "description": "s", "encodingType": "text/html", "metadata": "m"},
            "ObservedProperty": {"name": f"p{k}", "definition": f"urn:py:p{k}", "description": "p"},
        } for k in range(3)],
    }
    r = requests.post(f"{base}/Things", json=thing, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return mqtt_server


class Client:
    """A paho client whose events land in queues."""

    def __init__(self, port, client_id, username=None, password=None, websocket=False):
        self.messages = queue.Queue()
        self.acks = queue.Queue()
        self.subacks = queue.Queue()
        self.connected = queue.Queue()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                        transport="websockets" if websocket else "tcp")
        if websocket:
            c.ws_set_options(path="/mqtt")
        if username is not None:
            c.username_pw_set(username, password)
        c.on_connect = lambda _c, _u, _f, rc, _p=None: self.connected.put(rc)
        c.on_message = lambda _c, _u, m: self.messages.put((m.topic, json.loads(m.payload), m.retain))
        c.on_publish = lambda _c, _u, mid, _rc=None, _p=None: self.acks.put(mid)
        c.on_subscribe = lambda _c, _u, mid, codes, _p=None: self.subacks.put(codes)
        c.connect("127.0.0.1", port, keepalive=10)
        c.loop_start()
        self.client = c
        rc = self.connected.get(timeout=5)
        assert not rc.is_failure, rc

    def publish(self, topic, payload):
        info = self.client.publish(topic, json.dumps(payload) if not isinstance(payload, str) else payload, qos=1)
        return info.mid

    def acked(self, mid, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.acks.get(timeout=max(0.01, deadline - time.time())) == mid:
                    return True
            except queue.Empty:
                return False
        return False

    def subscribe(self, topic):
        self.client.subscribe(topic, qos=1)
        return self.subacks.get(timeout=5)

    def message(self, timeout=5):
        return self.messages.get(timeout=timeout)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def results(base, ds):
    r = requests.get(f"{base}/Datastreams({ds})/Observations?$orderby=phenomenonTime&$select=result")
    return [o["result"] for o in r.json()["value"]]


def test_publish_creates_then_http_reads(env):
    c = Client(env["mqtt_port"], "py-sonde", "py-sonde", env["token"])
    mid = c.publish("v1.1/Datastreams(1)/Observations", {"phenomenonTime": "2026-04-01T08:00:00Z", "result": 21.5})
    assert c.acked(mid, 5), "PUBACK"
    # PUBACK after the commit: readable at once.
    assert results(env["base"], 1) == [21.5]
    c.close()


def test_bad_payload_and_missing_role_are_not_acknowledged(env):
    c = Client(env["mqtt_port"], "py-bad", "py-bad", env["token"])
    mid = c.publish("v1.1/Datastreams(2)/Observations", "{not json")
    assert not c.acked(mid, 1.5)
    anon = Client(env["mqtt_port"], "py-anon")
    mid = anon.publish("v1.1/Datastreams(2)/Observations", {"phenomenonTime": "2026-04-01T08:00:00Z", "result": 1})
    assert not anon.acked(mid, 1.5)
    assert results(env["base"], 2) == []
    metrics = requests.get(env["base"].replace("/v1.1", "/metrics")).text
    assert 'qingshui_mqtt_refusals_total{reason="bad_payload"} 1' in metrics
    assert 'qingshui_mqtt_refusals_total{reason="not_authorised"} 1' in metrics
    c.close()
    anon.close()


def test_subscribe_select_retained_and_reconnect(env):
    base, token = env["base"], env["token"]
    post = lambda t, v: requests.post(
        f"{base}/Datastreams(3)/Observations", json={"phenomenonTime": t, "result": v},
        headers={"Authorization": f"Bearer {token}"})
    assert post("2026-04-01T07:00:00Z", 1.0).status_code == 201
    s = Client(env["mqtt_port"], "py-dash")
    codes = s.subscribe("v1.1/Datastreams(3)/Observations?$select=result,phenomenonTime")
    assert not codes[0].is_failure
    topic, v, retain = s.message()
    assert retain and v["result"] == 1.0 and set(v) == {"phenomenonTime", "result"}, v
    assert post("2026-04-01T08:00:00Z", 2.0).status_code == 201
    topic, v, retain = s.message()
    assert topic == "v1.1/Datastreams(3)/Observations?$select=result,phenomenonTime"
    assert not retain and v["result"] == 2.0 and set(v) == {"phenomenonTime", "result"}
    # Reconnect (same client id) and keep receiving.
    s.close()
    s = Client(env["mqtt_port"], "py-dash")
    s.subscribe("v1.1/Datastreams(3)/Observations")
    _, v, retain = s.message()
    assert retain and v["result"] == 2.0
    assert post("2026-04-01T09:00:00Z", 3.0).status_code == 201
    _, v, retain = s.message()
    assert not retain and v["result"] == 3.0 and "@iot.selfLink" in v
    s.close()


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients not installed (make mosquitto)")
def test_mosquitto_clients(env):
    port = str(env["mqtt_port"])
    # mosquitto_sub: the retained latest value of datastream 1, then exit (-C 1).
    out = subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "v1.1/Datastreams(1)/Observations", "-C", "1",
         "-W", "5", "-V", "mqttv311"],
        capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["result"] == 21.5
    # mosquitto_pub with the token as password, QoS 1: the observation is stored.
    r = subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-u", "gateway", "-P", env["token"],
         "-t", "v1.1/Datastreams(1)/Observations", "-V", "mqttv311",
         "-m", json.dumps({"phenomenonTime": "2026-04-01T09:00:00Z", "result": 22.5})],
        capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert results(env["base"], 1) == [21.5, 22.5]
    # A wrong password is refused at CONNECT.
    r = subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-u", "gateway", "-P", "wrong",
         "-t", "v1.1/Datastreams(1)/Observations", "-V", "mqttv311", "-m", "{}"],
        capture_output=True, text=True, timeout=10)
    assert r.returncode != 0


def test_mqtt5_refusal_has_a_reason_code(env):
    """paho over MQTT 5: a refused publish is answered with a failure reason code."""
    acks = queue.Queue()
    connected = queue.Queue()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="py-v5", protocol=mqtt.MQTTv5)
    c.username_pw_set("py-v5", env["token"])
    c.on_connect = lambda _c, _u, _f, rc, _p=None: connected.put(rc)
    c.on_publish = lambda _c, _u, mid, rc, _p=None: acks.put((mid, rc))
    c.connect("127.0.0.1", env["mqtt_port"], keepalive=10)
    c.loop_start()
    try:
        assert not connected.get(timeout=5).is_failure
        bad = c.publish("v1.1/Datastreams(2)/Observations", "{not json", qos=1).mid
        mid, rc = acks.get(timeout=5)
        assert mid == bad and rc.is_failure and rc.value == 0x99, rc  # payload format invalid
        good = c.publish("v1.1/Datastreams(2)/Observations",
                         json.dumps({"phenomenonTime": "2026-04-02T08:00:00Z", "result": 5}), qos=1).mid
        mid, rc = acks.get(timeout=5)
        assert mid == good and not rc.is_failure, rc
        assert results(env["base"], 2) == [5]
    finally:
        c.disconnect()
        c.loop_stop()


def test_websocket_publish_and_subscribe(env):
    """MQTT over WebSocket (browsers): the same session, rights and topics."""
    sub = Client(env["ws_port"], "py-ws-sub", websocket=True)
    sub.subscribe("v1.1/Datastreams(1)/Observations?$select=result")
    _, v, retain = sub.message()
    assert retain and "result" in v
    pub = Client(env["ws_port"], "py-ws-pub", "py-ws-pub", env["token"], websocket=True)
    mid = pub.publish("v1.1/Datastreams(1)/Observations", {"phenomenonTime": "2026-04-03T08:00:00Z", "result": 33.5})
    assert pub.acked(mid, 5)
    _, v, retain = sub.message()
    assert not retain and v == {"result": 33.5}
    pub.close()
    sub.close()
