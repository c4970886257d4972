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

/// An open server holding station L01 (Thing 1, Datastream 1, two observations).
async fn start_with_l01() -> TestServer {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    s
}

/// L01 plus one observation per result, hourly from 2026-03-16T00:00Z.
async fn observations_with(s: &TestServer, results: &[Value]) {
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
    let s = start_with_l01().await;
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
    let s = start_with_l01().await;
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
    let s = start_with_l01().await;
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
    /// A request with a raw body and content type; the answer's status and JSON (or null).
    async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}/{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    async fn json_patch(&self, path: &str, ops: Value) -> (StatusCode, Value) {
        let (method, kind) = (reqwest::Method::PATCH, "application/json-patch+json");
        self.raw(method, path, kind, ops.to_string()).await
    }
    async fn delete(&self, path_and_query: &str) -> (StatusCode, Value) {
        let method = reqwest::Method::DELETE;
        self.raw(method, path_and_query, "application/json", String::new()).await
    }
}

#[tokio::test]
async fn json_patch_applies_every_operation_atomically() {
    let s = start_with_l01().await;
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

#[tokio::test]
async fn filtered_delete_removes_matches_and_recomputes_the_datastream() {
    let s = start_with_l01().await;
    // 08:00 0.020, 09:00 0.024 from the station; then a bad calibration period 00:00..04:00
    // on the 16th and one good value at 05:00.
    observations_with(&s, &[json!(9), json!(9), json!(9), json!(9), json!(0.03)]).await;
    s.post("Things", station("L02", 106.42, 26.56, 20.0)).await;
    // The safeguard: no $filter, no force → 400, nothing deleted; other options refused.
    let (status, err) = s.delete("Observations").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["message"].as_str().unwrap().contains("force=true"));
    let (status, err) = s.delete("Observations?$filter=result gt 1&$top=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (_, all) = s.get("Observations?$count=true&$top=0").await;
    assert_eq!(all["@iot.count"], 9);
    // Delete the bad period of datastream 1 only, through its navigation path.
    let (status, body) = s
        .delete("Datastreams(1)/Observations?$filter=phenomenonTime ge 2026-03-16T00:00:00Z and phenomenonTime lt 2026-03-16T04:00:00Z")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "deleted": 4 }));
    let (_, left) = s.get("Datastreams(1)/Observations?$orderby=phenomenonTime").await;
    assert_eq!(results(&left), [json!(0.02), json!(0.024), json!(0.03)]);
    let (_, other) = s.get("Datastreams(2)/Observations?$count=true").await;
    assert_eq!(other["@iot.count"], 2, "another datastream's data stay");
    // The datastream's phenomenonTime and the latest value are recomputed: delete the newest.
    let (status, body) = s.delete("Observations?$filter=result eq 0.03").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "deleted": 1 })));
    let (_, ds) = s.get("Datastreams(1)").await;
    let t = ds["phenomenonTime"].as_str().unwrap();
    assert!(t.starts_with("2026-03-15T08:00:00") && t.contains("/2026-03-15T09:00:00"), "{t}");
    let (_, latest) = s
        .get("Datastreams(1)/Observations?$orderby=phenomenonTime desc&$top=1")
        .await;
    assert_eq!(latest["value"][0]["result"], 0.024);
    // Nothing matches: 0. Forced: the whole collection. Other collections cascade as usual.
    let (_, body) = s.delete("Observations?$filter=result gt 100").await;
    assert_eq!(body, json!({ "deleted": 0 }));
    let (status, body) = s.delete("Things?$filter=name eq 'L02'").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "deleted": 1 })));
    let (_, ds) = s.get("Datastreams?$count=true").await;
    assert_eq!(ds["@iot.count"], 1, "L02's datastream went with it");
    let (status, body) = s.delete("Observations?force=true").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "deleted": 2 })));
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(ds["phenomenonTime"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn filtered_delete_needs_the_write_role_and_respects_its_limit() {
    let s = start_tuned(false, |c| c.sta.max_delete_rows = 1).await;
    let r = s
        .client
        .post(format!("{}/Things", s.base))
        .bearer_auth("secret-token")
        .json(&station("L01", 106.43, 26.59, 30.0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let path = "Observations?$filter=result gt 0";
    assert_eq!(s.delete(path).await.0, StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .delete(format!("{}/{path}", s.base))
        .bearer_auth("secret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err: Value = r.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("sta.max_delete_rows"), "{err}");
    let (_, v) = s.get("Observations?$count=true").await;
    assert_eq!(v["@iot.count"], 2, "over the limit, nothing is deleted");
    s.stop().await;
}

#[tokio::test]
async fn observed_area_is_the_envelope_of_the_features_and_follows_deletes() {
    let s = start_with_l01().await;
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(
        ds["observedArea"],
        json!({ "type": "Point", "coordinates": [106.43, 26.59] }),
        "one generated feature: its point"
    );
    let (status, foi, _) = s
        .post(
            "FeaturesOfInterest",
            json!({ "name": "boat sample", "description": "d", "encodingType": "application/geo+json",
                    "feature": { "type": "Point", "coordinates": [106.38, 26.47] } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let foi = foi["@iot.id"].as_i64().unwrap();
    for hour in [10, 11] {
        let (status, body, _) = s
            .post(
                "Observations",
                json!({ "phenomenonTime": format!("2026-03-15T{hour}:00:00Z"), "result": 0.03,
                        "Datastream": { "@iot.id": 1 }, "FeatureOfInterest": { "@iot.id": foi } }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(
        ds["observedArea"],
        json!({ "type": "Polygon", "coordinates": [[[106.38, 26.47], [106.43, 26.47], [106.43, 26.59], [106.38, 26.59], [106.38, 26.47]]] })
    );
    // $filter sees it too.
    let (_, hit) = s
        .get("Datastreams?$filter=st_intersects(observedArea, geography'POINT (106.4 26.5)')")
        .await;
    assert_eq!(ids(&hit), [1]);
    // Moving the feature moves the area.
    let (status, _, _) = s
        .send(
            reqwest::Method::PATCH,
            &format!("FeaturesOfInterest({foi})"),
            json!({ "feature": { "type": "Point", "coordinates": [106.50, 26.60] } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(ds["observedArea"]["coordinates"][0][2], json!([106.5, 26.6]), "{ds}");
    // Deleting the boat samples shrinks it back; deleting everything clears it.
    let (status, _) = s
        .delete(&format!("Observations?$filter=FeatureOfInterest/id eq {foi}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(ds["observedArea"]["type"], "Point");
    s.delete("Observations?force=true").await;
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(ds["observedArea"], Value::Null);
    s.stop().await;
}

fn datastream_body(thing: Value) -> Value {
    json!({
        "name": "DO", "description": "dissolved oxygen",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        "unitOfMeasurement": { "name": "milligram per litre", "symbol": "mg/L", "definition": "ucum:mg/L" },
        "Thing": thing,
        "Sensor": { "@iot.id": 1 },
        "ObservedProperty": { "@iot.id": 1 }
    })
}

fn by_id(responses: &Value) -> std::collections::HashMap<String, Value> {
    responses["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[tokio::test]
async fn batch_runs_requests_with_references() {
    let s = start_with_l01().await;
    let (status, out, _) = s
        .post(
            "$batch",
            json!({ "requests": [
                { "id": "t", "method": "post", "url": "Things", "body": { "name": "L09", "description": "new buoy" } },
                { "id": "d", "method": "post", "url": "v1.1/Datastreams", "dependsOn": ["t"],
                  "body": datastream_body(json!({ "@iot.id": "$t" })) },
                { "id": "r", "method": "get", "url": "$t/Datastreams?$select=name", "dependsOn": ["d"] },
                { "id": "p", "method": "patch", "url": "$t", "headers": { "Content-Type": "application/json-patch+json" },
                  "body": [{ "op": "add", "path": "/properties", "value": { "code": "L09" } }] },
                { "id": "x", "method": "get", "url": "Things(99)" },
                { "id": "y", "method": "get", "url": "Things", "dependsOn": ["x"] }
            ] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let r = by_id(&out);
    assert_eq!(r["t"]["status"], 201);
    assert!(r["t"]["headers"]["location"].as_str().unwrap().ends_with("/v1.1/Things(2)"));
    assert_eq!(r["d"]["status"], 201, "{}", r["d"]);
    assert_eq!(r["r"]["body"]["value"], json!([{ "name": "DO" }]));
    assert_eq!(r["p"]["status"], 200);
    assert_eq!(r["p"]["body"]["properties"], json!({ "code": "L09" }));
    assert_eq!(r["x"]["status"], 404);
    assert_eq!(r["x"]["body"]["type"], "error");
    assert_eq!(r["y"]["status"], 424, "a dependant of a failed request does not run");
    // Malformed batches are refused whole.
    let (status, err, _) = s
        .post("$batch", json!({ "requests": [{ "id": "1", "method": "get", "url": "Things", "dependsOn": ["0"] }] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    s.stop().await;
}

#[tokio::test]
async fn batch_atomicity_group_commits_together_or_rolls_back() {
    let s = start_with_l01().await;
    // The second request of the group fails (no unitOfMeasurement): the Thing created by the
    // first is rolled back, and both responses say so.
    let mut bad = datastream_body(json!({ "@iot.id": "$a" }));
    bad.as_object_mut().unwrap().remove("unitOfMeasurement");
    let (status, out, _) = s
        .post(
            "$batch",
            json!({ "requests": [
                { "id": "a", "method": "post", "url": "Things", "atomicityGroup": "g1", "body": { "name": "A", "description": "d" } },
                { "id": "b", "method": "post", "url": "Datastreams", "atomicityGroup": "g1", "body": bad },
                { "id": "c", "method": "get", "url": "Things", "dependsOn": ["g1"] },
                { "id": "e", "method": "get", "url": "Things?$count=true" }
            ] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let r = by_id(&out);
    assert_eq!(r["b"]["status"], 400, "{}", r["b"]);
    assert!(r["b"]["body"]["message"].as_str().unwrap().contains("unitOfMeasurement"));
    assert_eq!(r["a"]["status"], 424, "{}", r["a"]);
    assert!(r["a"]["body"]["message"].as_str().unwrap().contains("rolled back"));
    assert_eq!(r["a"]["atomicityGroup"], "g1");
    assert_eq!(r["c"]["status"], 424);
    assert_eq!(r["e"]["body"]["@iot.count"], 1, "the group's Thing is gone");
    // A group that succeeds: every write committed, references inside the group resolved.
    let (_, out, _) = s
        .post(
            "$batch",
            json!({ "requests": [
                { "id": "a", "method": "post", "url": "Things", "atomicityGroup": "g2", "body": { "name": "A", "description": "d" } },
                { "id": "b", "method": "post", "url": "Datastreams", "atomicityGroup": "g2", "body": datastream_body(json!({ "@iot.id": "$a" })) },
                { "id": "c", "method": "patch", "url": "$a", "atomicityGroup": "g2", "body": { "description": "patched" } },
                { "id": "d", "method": "delete", "url": "Things(1)", "atomicityGroup": "g2" }
            ] }),
        )
        .await;
    let r = by_id(&out);
    assert_eq!(
        ["a", "b", "c", "d"].map(|k| r[k]["status"].as_u64().unwrap()),
        [201, 201, 200, 200],
        "{out}"
    );
    assert_eq!(r["c"]["body"]["description"], "patched");
    let (_, things) = s.get("Things?$expand=Datastreams($select=name)&$select=name").await;
    assert_eq!(
        things["value"],
        json!([{ "name": "A", "Datastreams": [{ "name": "DO" }] }])
    );
    s.stop().await;
}

#[tokio::test]
async fn batch_writes_need_the_write_role() {
    // `$batch` is a POST: like every write it needs a token (the HTTP guard refuses it before
    // its body is read), and each request inside then runs with that token's role.
    let s = start_with(false).await;
    let batch = json!({ "requests": [
        { "id": "1", "method": "post", "url": "Things", "body": { "name": "A", "description": "d" } },
        { "id": "2", "method": "get", "url": "Things?$count=true" }
    ] });
    let (status, out, _) = s.post("$batch", batch.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{out}");
    let out: Value = s
        .client
        .post(format!("{}/$batch", s.base))
        .bearer_auth("secret-token")
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = by_id(&out);
    assert_eq!(r["1"]["status"], 201, "{out}");
    assert_eq!(r["2"]["body"]["@iot.count"], 1);
    s.stop().await;
}

#[tokio::test]
async fn update_to_another_observations_time_is_a_conflict() {
    let s = start_with_l01().await;
    // Observation 2 is at 09:00 in the same datastream: moving 1 there would break the
    // (datastream, phenomenonTime) key.
    let (status, err, _) = s
        .send(
            reqwest::Method::PATCH,
            "Observations(1)",
            json!({ "phenomenonTime": "2026-03-15T09:00:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(err["message"].as_str().unwrap().contains("phenomenonTime"));
    let (status, _) = s
        .json_patch(
            "Observations(1)",
            json!([{ "op": "replace", "path": "/phenomenonTime", "value": "2026-03-15T09:00:00Z" }]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A free time is fine, and the datastream's phenomenonTime follows.
    let (status, _, _) = s
        .send(
            reqwest::Method::PATCH,
            "Observations(1)",
            json!({ "phenomenonTime": "2026-03-15T07:00:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, ds) = s.get("Datastreams(1)").await;
    assert!(ds["phenomenonTime"].as_str().unwrap().starts_with("2026-03-15T07:00:00"), "{ds}");
    s.stop().await;
}

#[tokio::test]
async fn batch_stops_running_requests_past_the_response_cap() {
    let s = start_tuned(true, |c| c.http.max_response_bytes = 4000).await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let mut requests: Vec<Value> = (0..10)
        .map(|i| json!({ "id": format!("g{i}"), "method": "get", "url": "Things?$expand=Datastreams,Locations" }))
        .collect();
    requests.push(json!({ "id": "w", "method": "post", "url": "Things", "body": { "name": "late", "description": "d" } }));
    let (status, out, _) = s.post("$batch", json!({ "requests": requests })).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let r = by_id(&out);
    assert_eq!(r["g0"]["status"], 200);
    assert_eq!(r["g9"]["status"], 400, "{}", r["g9"]);
    assert!(r["w"]["body"]["message"].as_str().unwrap().contains("max_response_bytes"));
    let (_, things) = s.get("Things?$count=true").await;
    assert_eq!(things["@iot.count"], 1, "the request past the cap did not run");
    s.stop().await;
}

/// The standard's form of `$batch`: `multipart/mixed` with a change set whose second request
/// references the first by its Content-ID; a failing change set answers once and leaves
/// nothing behind.
#[tokio::test]
async fn batch_multipart_with_change_sets() {
    let s = start_with_l01().await;
    let datastream = datastream_body(json!({ "@iot.id": "$1" })).to_string();
    let batch = |datastream: &str| {
        [
            "--b1",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            "GET Things?$count=true&$select=name HTTP/1.1",
            "",
            "",
            "--b1",
            "Content-Type: multipart/mixed; boundary=cs1",
            "",
            "--cs1",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "Content-ID: 1",
            "",
            "POST Things HTTP/1.1",
            "Content-Type: application/json",
            "",
            r#"{"name": "L09", "description": "浮标"}"#,
            "--cs1",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "Content-ID: 2",
            "",
            "POST Datastreams HTTP/1.1",
            "Content-Type: application/json",
            "",
            datastream,
            "--cs1--",
            "--b1--",
            "",
        ]
        .join("\r\n")
    };
    let send = |body: String| {
        s.client
            .post(format!("{}/$batch", s.base))
            .header("Content-Type", "multipart/mixed; boundary=b1")
            .body(body)
            .send()
    };
    let r = send(batch(&datastream)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("multipart/mixed; boundary=batchresponse_"), "{ct}");
    let text = r.text().await.unwrap();
    assert!(text.contains("HTTP/1.1 200 OK"), "{text}");
    assert!(text.contains(r#""@iot.count":1"#), "{text}");
    assert_eq!(text.matches("HTTP/1.1 201 Created").count(), 2, "{text}");
    assert!(text.contains("Content-ID: 2\r\n"), "{text}");
    assert!(text.contains("/v1.1/Things(2)"), "{text}");
    let (_, things) = s.get("Things(2)/Datastreams?$select=name").await;
    assert_eq!(things["value"], json!([{ "name": "DO" }]));
    // The change set fails in its second request: one answer (400), the Thing rolled back.
    let mut bad = datastream_body(json!({ "@iot.id": "$1" }));
    bad.as_object_mut().unwrap().remove("unitOfMeasurement");
    let r = send(batch(&bad.to_string())).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert_eq!(text.matches("HTTP/1.1").count(), 2, "one GET, one change set: {text}");
    assert!(text.contains("HTTP/1.1 400 Bad Request"), "{text}");
    assert!(text.contains("unitOfMeasurement"), "{text}");
    let (_, count) = s.get("Things?$count=true&$top=0").await;
    assert_eq!(count["@iot.count"], 2, "the failed change set left its Thing: {count}");
    // A malformed multipart body is refused whole, with the reason.
    let r = send("--b1\r\nContent-Type: application/http\r\n\r\nGET Things HTTP/1.1\r\n".into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err: Value = r.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("does not end with"), "{err}");
    s.stop().await;
}
