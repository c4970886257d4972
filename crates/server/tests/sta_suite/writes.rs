// Conformance list, `$filter` arithmetic and the write-side extensions of issue 12 (JSON-Patch,
// filtered DELETE, observedArea, `$batch`). Included at the end of `suite.rs`, so it shares
// its helpers and runs against every backend.

const REQ: &str = "http://www.opengis.net/spec/iot_sensing/1.1/req/";

#[tokio::test]
async fn conformance_lists_classes_and_requirements() {
    let s = start().await;
    let (_, root) = s.get("").await;
    let conf: Vec<&str> = root["serverSettings"]["conformance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for entity in [
        "thing",
        "location",
        "historical-location",
        "datastream",
        "sensor",
        "observed-property",
        "observation",
        "feature-of-interest",
    ] {
        for part in ["", "/properties", "/relations"] {
            let want = format!("{REQ}datamodel/{entity}{part}");
            assert!(conf.contains(&want.as_str()), "{want}");
        }
    }
    for want in [
        "datamodel/entity-control-information/common-control-information",
        "request-data/status-code",
        "request-data/query-status-code",
        "request-data/built-in-query-functions",
        "create-update-delete/update-entity-jsonpatch",
        "create-update-delete/update-entity-put",
        "data-array/data-array",
    ] {
        assert!(conf.contains(&format!("{REQ}{want}").as_str()), "{want}");
    }
    assert!(!conf.iter().any(|c| c.contains("multi-datastream")));
    s.stop().await;
}

async fn observations_with(s: &TestServer, results: &[Value]) {
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    for (i, r) in results.iter().enumerate() {
        let (status, body, _) = s
            .post(
                "Datastreams(1)/Observations",
                json!({ "phenomenonTime": format!("2026-03-16T{:02}:00:00Z", i), "result": r }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

fn results(v: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["result"].clone())
        .collect();
    out.sort_by(|a, b| a.as_f64().partial_cmp(&b.as_f64()).unwrap());
    out
}

#[tokio::test]
async fn filter_div_is_real_division_and_mod_keeps_fractions() {
    let s = start().await;
    // The station brings 0.020 and 0.024; add integers and a double.
    observations_with(&s, &[json!(4), json!(5), json!(7.5)]).await;
    let cases: &[(&str, Value)] = &[
        // 5 div 2 is 2.5, not 2: only 4 matches.
        ("result div 2 eq 2", json!([4])),
        ("result div 2 eq 2.5", json!([5])),
        ("result div 2 eq 3.75", json!([7.5])),
        // Integers keep integer remainders; doubles keep the fraction (7.5 mod 2 = 1.5).
        ("result mod 2 eq 1", json!([5])),
        ("result mod 2 eq 1.5", json!([7.5])),
        ("result mod 2 eq 0", json!([4])),
        // A zero divisor matches nothing rather than failing.
        ("result div 0 eq 1", json!([])),
    ];
    for (filter, want) in cases {
        let (status, v) = s.get(&format!("Observations?$filter={filter}")).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {v}");
        assert_eq!(Value::Array(results(&v)), *want, "{filter}");
    }
    s.stop().await;
}

#[tokio::test]
async fn indexof_is_one_based_as_the_standard_example() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let (_, _, _) = s
        .send(
            reqwest::Method::PATCH,
            "Datastreams(1)",
            json!({ "name": "datastream name 1" }),
        )
        .await;
    for (filter, n) in [
        ("indexof(name,'name') eq 12", 1),
        ("indexof(name,'datastream') eq 1", 1),
        ("indexof(name,'datastream') eq 0", 0),
        ("indexof(name,'absent') eq 0", 1),
    ] {
        let (_, v) = s.get(&format!("Datastreams?$filter={filter}")).await;
        assert_eq!(v["value"].as_array().unwrap().len(), n, "{filter}");
    }
    s.stop().await;
}

#[tokio::test]
async fn update_with_an_inline_entity_is_refused() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let cases = [
        (
            "Things(1)",
            json!({ "Locations": [{ "name": "inline", "description": "d", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [1, 2] } }] }),
            "Locations",
        ),
        (
            "Datastreams(1)",
            json!({ "Sensor": { "name": "inline", "description": "d", "encodingType": "text/html", "metadata": "x" } }),
            "Sensor",
        ),
    ];
    for (path, body, nav) in cases {
        let (status, err, _) = s.send(reqwest::Method::PATCH, path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {err}");
        let message = err["message"].as_str().unwrap();
        assert!(message.contains(nav) && message.contains("@iot.id"), "{message}");
    }
    // Nothing was created or relinked.
    let (_, locs) = s.get("Locations?$count=true").await;
    assert_eq!(locs["@iot.count"], 1);
    let (_, sensors) = s.get("Sensors?$count=true").await;
    assert_eq!(sensors["@iot.count"], 1);
    // Linking by id still works.
    let (status, _, _) = s
        .send(
            reqwest::Method::PATCH,
            "Datastreams(1)",
            json!({ "Sensor": { "@iot.id": 1 } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
}

impl TestServer {
    async fn json_patch(&self, path: &str, ops: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .patch(format!("{}/{path}", self.base))
            .header("content-type", "application/json-patch+json")
            .body(ops.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn json_patch_applies_every_operation_atomically() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let (status, thing) = s
        .json_patch(
            "Things(1)",
            json!([
                { "op": "test", "path": "/name", "value": "L01" },
                { "op": "add", "path": "/properties/owner", "value": "lake bureau" },
                { "op": "replace", "path": "/properties/depth", "value": 31.5 },
                { "op": "copy", "from": "/properties/code", "path": "/properties/alias" },
                { "op": "move", "from": "/properties/alias", "path": "/properties/label" },
                { "op": "remove", "path": "/properties/code" }
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{thing}");
    assert_eq!(
        thing["properties"],
        json!({ "depth": 31.5, "owner": "lake bureau", "label": "L01" })
    );
    assert_eq!(thing["name"], "L01");
    // A failing test: 409, and nothing of the patch is applied.
    let (status, err) = s
        .json_patch(
            "Things(1)",
            json!([
                { "op": "replace", "path": "/name", "value": "renamed" },
                { "op": "test", "path": "/properties/depth", "value": 1 }
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(err["message"].as_str().unwrap().contains("test failed"), "{err}");
    let (_, thing) = s.get("Things(1)").await;
    assert_eq!(thing["name"], "L01");
    // A path that does not exist, a malformed document, a mandatory property removed: 400.
    for ops in [
        json!([{ "op": "remove", "path": "/properties/none" }]),
        json!({ "op": "remove", "path": "/name" }),
        json!([{ "op": "remove", "path": "/name" }]),
    ] {
        let (status, err) = s.json_patch("Things(1)", ops.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ops}: {err}");
        assert_eq!(err["type"], "error");
    }
    // An Observation's result (its times stay as they were), and a relink of its
    // Datastream's Sensor by id.
    let before = observation_time(&s, 1).await;
    assert!(before.as_str().unwrap().starts_with("2026-03-15T08:00:00"), "{before}");
    let (status, obs) = s
        .json_patch(
            "Observations(1)",
            json!([{ "op": "replace", "path": "/result", "value": 0.5 }]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{obs}");
    assert_eq!(obs["result"], 0.5);
    assert_eq!(obs["phenomenonTime"], before);
    let (status, _, _) = s
        .post(
            "Sensors",
            json!({ "name": "spare", "description": "d", "encodingType": "text/html", "metadata": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = s
        .json_patch(
            "Datastreams(1)",
            json!([{ "op": "add", "path": "/Sensor", "value": { "@iot.id": 2 } }]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, sensor) = s.get("Datastreams(1)/Sensor").await;
    assert_eq!(sensor["name"], "spare");
    // A missing entity is 404; a patch needs the write role (see `writes_need_a_token_unless_open`).
    let (status, _) = s
        .json_patch("Things(9)", json!([{ "op": "test", "path": "/name", "value": "x" }]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

/// An observation's phenomenonTime as the server reads it back.
async fn observation_time(s: &TestServer, observation: i64) -> Value {
    s.get(&format!("Observations({observation})/phenomenonTime"))
        .await
        .1["phenomenonTime"]
        .clone()
}
