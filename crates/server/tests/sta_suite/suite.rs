// SensorThings API 1.1 end to end: the real server on a random port over a real store, HTTP
// through reqwest. Each test checks behaviour the standard (OGC 18-088) prescribes.
//
// Backend-neutral: included by one test file per backend (`sta_api.rs` for SQLite), which
// defines `open_backend`, the only way this suite gets a store. (`include!`, not a module, so the
// test names stay the same in every backend's binary.)

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::config::Config;

struct TestServer {
    base: String,
    client: reqwest::Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn start_with(open: bool) -> TestServer {
    start_tuned(open, |_| {}).await
}

/// A server with settings changed by `tune` (limits under test).
async fn start_tuned(open: bool, tune: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().unwrap();
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.open = open;
    config.auth.tokens = vec!["secret-token".into()];
    tune(&mut config);
    let store = open_backend(&config).unwrap();
    let running = server::start(config, store).await.unwrap();
    TestServer {
        base: format!("http://{}/v1.1", running.http_addr),
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

async fn start() -> TestServer {
    start_with(true).await
}

impl TestServer {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}/{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    async fn get_url(&self, url: &str) -> Value {
        self.client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value, Option<String>) {
        let r = self
            .client
            .request(method, format!("{}/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|h| h.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            location,
        )
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value, Option<String>) {
        self.send(reqwest::Method::POST, path, body).await
    }
    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }
}

fn station(name: &str, lon: f64, lat: f64, depth: f64) -> Value {
    json!({
        "name": name,
        "description": format!("station {name}"),
        "properties": { "code": name, "depth": depth },
        "Locations": [{
            "name": format!("{name} position"),
            "description": "schematic",
            "encodingType": "application/geo+json",
            "location": { "type": "Point", "coordinates": [lon, lat] }
        }],
        "Datastreams": [{
            "name": format!("{name} TP"),
            "description": "total phosphorus",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "milligram per litre", "symbol": "mg/L", "definition": "http://unitsofmeasure.org/ucum.html#mg/L" },
            "Sensor": { "name": "TP analyser", "description": "analyser", "encodingType": "text/html", "metadata": "https://example.invalid/tp" },
            "ObservedProperty": { "name": "TP", "definition": "urn:qingshui:parameter:tp", "description": "total phosphorus" },
            "Observations": [
                { "phenomenonTime": "2026-03-15T08:00:00Z", "result": 0.020 },
                { "phenomenonTime": "2026-03-15T09:00:00Z", "result": 0.024, "resultQuality": { "flag": "N" } }
            ]
        }]
    })
}

fn ids(v: &Value) -> Vec<i64> {
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["@iot.id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn service_root_lists_sets_and_conformance() {
    let s = start().await;
    let (status, root) = s.get("").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = root["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Things",
            "Locations",
            "HistoricalLocations",
            "Datastreams",
            "Sensors",
            "ObservedProperties",
            "Observations",
            "FeaturesOfInterest"
        ]
    );
    let conf = root["serverSettings"]["conformance"].as_array().unwrap();
    assert!(
        conf.iter()
            .any(|c| c == "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete")
    );
    assert!(
        root["value"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/v1.1/Things")
    );
    s.stop().await;
}

#[tokio::test]
async fn deep_insert_generates_history_and_feature_of_interest() {
    let s = start().await;
    let (status, thing, location) = s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(location.unwrap(), format!("{}/Things(1)", s.base));
    assert_eq!(thing["name"], "L01");
    assert_eq!(
        thing["Datastreams@iot.navigationLink"],
        format!("{}/Things(1)/Datastreams", s.base)
    );
    // A Thing created with a Location has one HistoricalLocation pointing at it.
    let (_, hl) = s
        .get("Things(1)/HistoricalLocations?$expand=Locations($select=name)")
        .await;
    assert_eq!(hl["value"].as_array().unwrap().len(), 1);
    assert_eq!(hl["value"][0]["Locations"][0]["name"], "L01 position");
    // The observations got a FeatureOfInterest generated from the Thing's Location.
    let (_, foi) = s.get("Observations(1)/FeatureOfInterest").await;
    assert_eq!(
        foi["feature"],
        json!({ "type": "Point", "coordinates": [106.43, 26.59] })
    );
    let (_, foi2) = s.get("Observations(2)/FeatureOfInterest").await;
    assert_eq!(
        foi["@iot.id"], foi2["@iot.id"],
        "one feature per location, reused"
    );
    // Datastream phenomenonTime is computed from its observations.
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(
        ds["phenomenonTime"],
        "2026-03-15T08:00:00Z/2026-03-15T09:00:00Z"
    );
    // resultQuality preserved.
    let (_, o2) = s.get("Observations(2)").await;
    assert_eq!(o2["resultQuality"], json!({ "flag": "N" }));
    s.stop().await;
}

#[tokio::test]
async fn deep_insert_is_atomic() {
    let s = start().await;
    let mut bad = station("BAD", 106.0, 26.0, 1.0);
    // The nested ObservedProperty lacks its mandatory definition: nothing at all may be created.
    bad["Datastreams"][0]["ObservedProperty"]
        .as_object_mut()
        .unwrap()
        .remove("definition");
    let (status, err, _) = s.post("Things", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["message"].as_str().unwrap().contains("definition"),
        "{err}"
    );
    for set in [
        "Things",
        "Locations",
        "Sensors",
        "Datastreams",
        "Observations",
        "HistoricalLocations",
    ] {
        let (_, v) = s.get(&format!("{set}?$count=true")).await;
        assert_eq!(
            v["@iot.count"], 0,
            "{set} must be empty after a failed deep insert"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn link_by_id_and_navigation_post() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let (status, ds, _) = s
        .post(
            "Things(1)/Datastreams",
            json!({
                "name": "L01 DO", "description": "dissolved oxygen",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
                "Sensor": { "@iot.id": 1 },
                "ObservedProperty": { "name": "DO", "definition": "urn:qingshui:parameter:do", "description": "dissolved oxygen" }
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ds}");
    let (_, thing) = s
        .get(&format!("Datastreams({})/Thing", ds["@iot.id"]))
        .await;
    assert_eq!(thing["@iot.id"], 1);
    let (status, _, _) = s
        .post(
            "Datastreams(2)/Observations",
            json!({ "phenomenonTime": "2026-03-15T10:00:00Z", "result": 8.1 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, obs) = s.get("Datastreams(2)/Observations").await;
    assert_eq!(obs["value"][0]["result"], 8.1);
    // Linking to a missing entity is a client error naming it.
    let (status, err, _) = s
        .post(
            "Observations",
            json!({ "result": 1, "Datastream": { "@iot.id": 99 } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["message"].as_str().unwrap().contains("Datastreams(99)"));
    s.stop().await;
}

#[tokio::test]
async fn filter_operators_functions_and_precedence() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    s.post("Things", station("L06", 106.38, 26.47, 8.0)).await;
    s.post("Things", station("R01", 106.375, 26.425, 2.0)).await;
    let cases: &[(&str, &[i64])] = &[
        ("Things?$filter=name eq 'L01'", &[1]),
        ("Things?$filter=name ne 'L01'", &[2, 3]),
        (
            "Things?$filter=properties/depth gt 5 and properties/depth lt 20",
            &[2],
        ),
        // and binds tighter than or
        (
            "Things?$filter=name eq 'R01' or name eq 'L01' and properties/depth lt 10",
            &[3],
        ),
        (
            "Things?$filter=(name eq 'R01' or name eq 'L01') and properties/depth lt 10",
            &[3],
        ),
        ("Things?$filter=not startswith(name, 'L')", &[3]),
        ("Things?$filter=endswith(name, '6')", &[2]),
        ("Things?$filter=substringof('0', name)", &[1, 2, 3]),
        ("Things?$filter=length(description) eq 11", &[1, 2, 3]),
        ("Things?$filter=indexof(name, '06') eq 2", &[2]),
        ("Things?$filter=substring(name, 1) eq '01'", &[1, 3]),
        ("Things?$filter=substring(name, 0, 1) eq 'R'", &[3]),
        ("Things?$filter=tolower(name) eq 'l01'", &[1]),
        ("Things?$filter=toupper(tolower(name)) eq 'L01'", &[1]),
        ("Things?$filter=concat(name, '-x') eq 'L06-x'", &[2]),
        ("Things?$filter=trim(concat(' ', name)) eq 'R01'", &[3]),
        ("Things?$filter=properties/depth add 2 mul 5 eq 40", &[1]),
        ("Things?$filter=properties/depth sub 1 div 1 eq 7", &[2]),
        ("Things?$filter=properties/depth mod 3 eq 2", &[2, 3]),
        ("Things?$filter=round(properties/depth div 4) eq 8", &[1]),
        (
            "Things?$filter=floor(properties/depth div 4) eq 7 and ceiling(properties/depth div 4) eq 8",
            &[1],
        ),
        (
            "Things?$filter=Datastreams/Observations/result gt 0.021",
            &[1, 2, 3],
        ),
        ("Things?$filter=Locations/name eq 'L06 position'", &[2]),
        (
            "Things?$filter=st_within(Locations/location, geography'POLYGON ((106.3 26.45, 106.5 26.45, 106.5 26.7, 106.3 26.7, 106.3 26.45))')",
            &[1, 2],
        ),
        (
            "Things?$filter=geo.intersects(Locations/location, geography'POLYGON ((106.37 26.42, 106.38 26.42, 106.38 26.43, 106.37 26.43, 106.37 26.42))')",
            &[3],
        ),
        (
            "Things?$filter=geo.distance(Locations/location, geography'POINT (106.43 26.59)') lt 0.01",
            &[1],
        ),
        (
            "Locations?$filter=st_contains(geography'POLYGON ((106 26, 107 26, 107 27, 106 27, 106 26))', location)",
            &[1, 2, 3],
        ),
        (
            "Locations?$filter=st_disjoint(location, geography'POINT (0 0)')",
            &[1, 2, 3],
        ),
        (
            "Observations?$filter=phenomenonTime gt 2026-03-15T08:30:00Z",
            &[2, 4, 6],
        ),
        (
            "Observations?$filter=phenomenonTime lt 2026-03-15T16:30:00+08:00",
            &[1, 3, 5],
        ),
        (
            "Observations?$filter=hour(phenomenonTime) eq 9 and year(phenomenonTime) eq 2026 and month(phenomenonTime) eq 3 and day(phenomenonTime) eq 15",
            &[2, 4, 6],
        ),
        (
            "Observations?$filter=minute(phenomenonTime) eq 0 and second(phenomenonTime) eq 0",
            &[1, 2, 3, 4, 5, 6],
        ),
        (
            "Observations?$filter=date(phenomenonTime) eq 2026-03-15",
            &[1, 2, 3, 4, 5, 6],
        ),
        (
            "Observations?$filter=phenomenonTime lt now() and phenomenonTime gt mindatetime()",
            &[1, 2, 3, 4, 5, 6],
        ),
        ("Observations?$filter=resultQuality/flag eq 'N'", &[2, 4, 6]),
        (
            "Observations?$filter=Datastream/Thing/name eq 'L06'",
            &[3, 4],
        ),
        ("Observations?$filter=Datastream/id eq 3", &[5, 6]),
        (
            "Observations?$filter=result eq 0.02 and FeatureOfInterest/name eq 'R01 position'",
            &[5],
        ),
    ];
    for (q, want) in cases {
        let (status, v) = s.get(q).await;
        assert_eq!(status, StatusCode::OK, "{q}: {v}");
        assert_eq!(ids(&v), *want, "{q}");
    }
    s.stop().await;
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_the_right_status() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let cases: &[(&str, StatusCode, &str)] = &[
        ("Things(42)", StatusCode::NOT_FOUND, "Things(42)"),
        (
            "Things(1)/Datastreams(99)",
            StatusCode::NOT_FOUND,
            "Datastreams(99)",
        ),
        ("Thingies", StatusCode::NOT_FOUND, "Thingies"),
        ("Things?$filter=name eq", StatusCode::BAD_REQUEST, "$filter"),
        ("Things?$filter=nope eq 1", StatusCode::BAD_REQUEST, "nope"),
        ("Things?$top=-3", StatusCode::BAD_REQUEST, "$top"),
        ("Things?$count=maybe", StatusCode::BAD_REQUEST, "$count"),
        (
            "Things?$expand=Observations",
            StatusCode::BAD_REQUEST,
            "Observations",
        ),
        ("Things?$select=colour", StatusCode::BAD_REQUEST, "colour"),
        (
            "Things?$search=lake",
            StatusCode::NOT_IMPLEMENTED,
            "$search",
        ),
        (
            "Things?$apply=groupby((name))",
            StatusCode::NOT_IMPLEMENTED,
            "$apply",
        ),
        (
            "Observations?$skiptoken=garbage",
            StatusCode::BAD_REQUEST,
            "$skiptoken",
        ),
        ("Things/Datastreams", StatusCode::BAD_REQUEST, "collection"),
    ];
    for (q, status, fragment) in cases {
        let (got, body) = s.get(q).await;
        assert_eq!(got, *status, "{q}: {body}");
        assert_eq!(body["code"], status.as_u16(), "{q}");
        assert!(
            body["message"].as_str().unwrap().contains(fragment),
            "{q}: {body}"
        );
    }
    // Bodies too (declared JSON: bodies of other types are refused with 415, issue #10).
    let r = s
        .client
        .post(format!("{}/Things", s.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("JSON"));
    let (status, body, _) = s
        .post(
            "Things",
            json!({ "name": "x", "description": "y", "colour": "red" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("colour"));
    s.stop().await;
}

#[tokio::test]
async fn properties_values_refs_and_nulls() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let (status, v) = s.get("Things(1)/name").await;
    assert_eq!((status, v), (StatusCode::OK, json!({ "name": "L01" })));
    let r = s
        .client
        .get(format!("{}/Things(1)/name/$value", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), "L01");
    // A null property (200 with null) is in reads.rs.
    let (_, refs) = s.get("Things(1)/Datastreams/$ref").await;
    assert_eq!(
        refs["value"],
        json!([{ "@iot.selfLink": format!("{}/Datastreams(1)", s.base) }])
    );
    let (_, one) = s.get("Datastreams(1)/Thing/$ref").await;
    assert_eq!(
        one,
        json!({ "@iot.selfLink": format!("{}/Things(1)", s.base) })
    );
    let (_, deep) = s
        .get("Observations(1)/Datastream/Thing/Locations(1)/Things(1)/name")
        .await;
    assert_eq!(deep, json!({ "name": "L01" }));
    s.stop().await;
}

#[tokio::test]
async fn expand_select_orderby_and_counts() {
    let s = start().await;
    for (i, name) in ["L01", "L02", "L03"].iter().enumerate() {
        s.post(
            "Things",
            station(name, 106.4, 26.5 + i as f64 * 0.01, 10.0 + i as f64),
        )
        .await;
    }
    let (_, v) = s
        .get("Things?$select=name&$orderby=properties/depth desc&$expand=Datastreams($select=name;$expand=Observations($orderby=result desc;$top=1;$count=true;$select=result),ObservedProperty($select=name))&$count=true&$top=2")
        .await;
    assert_eq!(v["@iot.count"], 3);
    let things = v["value"].as_array().unwrap();
    assert_eq!(things.len(), 2);
    assert_eq!(
        things[0],
        json!({
            "name": "L03",
            "Datastreams": [{
                "name": "L03 TP",
                "Observations": [{ "result": 0.024 }],
                "Observations@iot.count": 2,
                "Observations@iot.nextLink": things[0]["Datastreams"][0]["Observations@iot.nextLink"].clone(),
                "ObservedProperty": { "name": "TP" }
            }]
        })
    );
    let next = things[0]["Datastreams"][0]["Observations@iot.nextLink"]
        .as_str()
        .unwrap();
    assert!(
        next.contains("Datastreams(3)/Observations") && next.contains("$skip=1"),
        "{next}"
    );
    assert!(v["@iot.nextLink"].as_str().unwrap().contains("$skip=2"));
    // Nulls sort first ascending, last descending (OGC 18-088 §9.3.3.3).
    s.client
        .patch(format!("{}/Things(2)", s.base))
        .json(&json!({ "properties": { "code": "L02" } }))
        .send()
        .await
        .unwrap();
    let (_, asc) = s.get("Things?$orderby=properties/depth asc,name").await;
    assert_eq!(ids(&asc), [2, 1, 3]);
    let (_, desc) = s.get("Things?$orderby=properties/depth desc,name").await;
    assert_eq!(ids(&desc), [3, 1, 2]);
    // Multiple keys.
    let (_, multi) = s
        .get("Observations?$orderby=result desc,phenomenonTime asc&$select=id")
        .await;
    // Ties on every key fall back to the id, in the direction of the first key.
    assert_eq!(ids(&multi), [6, 4, 2, 5, 3, 1]);
    // Expand on a single entity, and a to-one path expand.
    let (_, obs) = s
        .get("Observations(1)?$expand=Datastream/Thing($select=name)")
        .await;
    assert_eq!(obs["Datastream"]["Thing"], json!({ "name": "L01" }));
    s.stop().await;
}

#[tokio::test]
async fn paging_follows_next_links_to_the_end() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let rows: Vec<Value> = (0..250)
        .map(|i| {
            json!([
                format!("2026-03-16T{:02}:{:02}:00Z", i / 60, i % 60),
                i as f64
            ])
        })
        .collect();
    let (status, urls, _) = s
        .post("CreateObservations", json!([{ "Datastream": { "@iot.id": 1 }, "components": ["phenomenonTime", "result"], "dataArray": rows }]))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(urls.as_array().unwrap().len(), 250);
    for (query, expect_order) in [
        ("Datastreams(1)/Observations?$top=40&$count=true", "id"),
        ("Observations?$orderby=phenomenonTime desc&$top=33", "desc"),
        (
            "Observations?$filter=result ge 0&$orderby=phenomenonTime&$top=64",
            "asc",
        ),
        (
            "Things(1)/Datastreams(1)/Observations?$orderby=result desc&$top=50",
            "resultdesc",
        ),
    ] {
        let mut url = format!("{}/{query}", s.base);
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = s.get_url(&url).await;
            pages += 1;
            for o in page["value"].as_array().unwrap() {
                seen.push((
                    o["@iot.id"].as_i64().unwrap(),
                    o["phenomenonTime"].as_str().unwrap().to_string(),
                    o["result"].as_f64().unwrap(),
                ));
            }
            match page["@iot.nextLink"].as_str() {
                Some(n) => url = n.to_string(),
                None => break,
            }
            assert!(pages < 100, "{query}: runaway paging");
        }
        assert_eq!(seen.len(), 252, "{query}");
        let mut unique: Vec<i64> = seen.iter().map(|x| x.0).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 252, "{query}: no duplicates across pages");
        let sorted = match expect_order {
            "id" => seen.windows(2).all(|w| w[0].0 < w[1].0),
            "asc" => seen.windows(2).all(|w| w[0].1 <= w[1].1),
            "desc" => seen.windows(2).all(|w| w[0].1 >= w[1].1),
            _ => seen.windows(2).all(|w| w[0].2 >= w[1].2),
        };
        assert!(sorted, "{query}: order kept across pages");
    }
    // $top above the server maximum is capped, with a nextLink.
    let (_, big) = s.get("Observations?$top=100000&$select=id").await;
    assert_eq!(big["value"].as_array().unwrap().len(), 252);
    s.stop().await;
}

#[tokio::test]
async fn data_array_and_the_idempotency_rule() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let body = json!([{
        "Datastream": { "@iot.id": 1 },
        "components": ["phenomenonTime", "result", "resultQuality"],
        "dataArray": [
            ["2026-03-15T10:00:00Z", 0.03, { "flag": "N" }],
            ["not a time", 0.5, null],
            ["2026-03-15T11:00:00Z", 0.031, { "flag": "M" }]
        ]
    }]);
    let (status, urls, _) = s.post("CreateObservations", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        urls,
        json!([
            format!("{}/Observations(3)", s.base),
            "error",
            format!("{}/Observations(4)", s.base)
        ])
    );
    // A station resends the same values: nothing new, same ids.
    let (_, again, _) = s.post("CreateObservations", body).await;
    assert_eq!(again[0], urls[0]);
    assert_eq!(again[2], urls[2]);
    let (_, count) = s
        .get("Datastreams(1)/Observations?$count=true&$top=0")
        .await;
    assert_eq!(count["@iot.count"], 4);
    // A corrected value replaces the stored one (one row, new value).
    let (status, corrected, _) = s
        .post("Datastreams(1)/Observations", json!({ "phenomenonTime": "2026-03-15T10:00:00Z", "result": 0.035, "resultQuality": { "flag": "N" } }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(corrected["@iot.id"], 3);
    assert_eq!(corrected["result"], 0.035);
    let (_, count) = s.get("Observations?$count=true&$top=0").await;
    assert_eq!(count["@iot.count"], 4);
    // dataArray reads.
    let (_, da) = s.get("Datastreams(1)/Observations?$resultFormat=dataArray&$select=id,result&$orderby=phenomenonTime&$count=true").await;
    assert_eq!(da["@iot.count"], 4);
    assert_eq!(da["value"][0]["components"], json!(["id", "result"]));
    assert_eq!(
        da["value"][0]["dataArray"],
        json!([[1, 0.02], [2, 0.024], [3, 0.035], [4, 0.031]])
    );
    assert_eq!(
        da["value"][0]["Datastream@iot.navigationLink"],
        format!("{}/Datastreams(1)", s.base)
    );
    let (status, _) = s
        .get("Observations?$resultFormat=dataArray&$expand=Datastream")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn latest_value_fast_path_matches_the_generic_query() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    s.post("Things", station("L02", 106.42, 26.56, 20.0)).await;
    // An out-of-order backfill must not become "latest".
    s.post(
        "Datastreams(1)/Observations",
        json!({ "phenomenonTime": "2026-03-14T00:00:00Z", "result": 9.9 }),
    )
    .await;
    s.post(
        "Datastreams(2)/Observations",
        json!({ "phenomenonTime": "2026-03-16T00:00:00Z", "result": 0.05 }),
    )
    .await;
    let (_, fast) = s
        .get("Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
        .await;
    for ds in fast["value"].as_array().unwrap() {
        let id = ds["@iot.id"].as_i64().unwrap();
        let (_, generic) = s
            .get(&format!(
                "Datastreams({id})/Observations?$top=1&$orderby=phenomenonTime desc"
            ))
            .await;
        assert_eq!(ds["Observations"], generic["value"], "datastream {id}");
        assert!(ds["Observations@iot.nextLink"].is_string());
    }
    assert_eq!(fast["value"][0]["Observations"][0]["result"], 0.024);
    assert_eq!(fast["value"][1]["Observations"][0]["result"], 0.05);
    let latest: Value = s
        .client
        .get(s.base.replace("/v1.1", "/api/v1/latest"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results: Vec<f64> = latest["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["result"].as_f64().unwrap())
        .collect();
    assert_eq!(results, [0.024, 0.05]);
    assert_eq!(latest["value"][0]["observation_count"], 3);
    // Deleting the latest observation moves "latest" back.
    s.client
        .delete(format!("{}/Observations(2)", s.base))
        .send()
        .await
        .unwrap();
    let (_, fast) = s
        .get("Datastreams(1)?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
        .await;
    assert_eq!(fast["Observations"][0]["result"], 0.02);
    s.stop().await;
}

#[tokio::test]
async fn patch_put_and_location_history() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    let r = s
        .client
        .patch(format!("{}/Things(1)", s.base))
        .json(&json!({ "description": "moved buoy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(
        (t["name"].as_str(), t["description"].as_str()),
        (Some("L01"), Some("moved buoy"))
    );
    // Changing a Thing's Location records a HistoricalLocation. (An update links by id only:
    // an inline Location is refused, see writes.rs.)
    let (_, spot, _) = s
        .post(
            "Locations",
            json!({ "name": "new spot", "description": "d", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [106.44, 26.6] } }),
        )
        .await;
    let (status, _, _) = s
        .send(
            reqwest::Method::PATCH,
            "Things(1)",
            json!({ "Locations": [{ "@iot.id": spot["@iot.id"] }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, locs) = s.get("Things(1)/Locations?$select=name").await;
    assert_eq!(locs["value"], json!([{ "name": "new spot" }]));
    let (_, hls) = s.get("Things(1)/HistoricalLocations?$count=true").await;
    assert_eq!(hls["@iot.count"], 2);
    // PUT replaces: a missing mandatory property is a 400, optional ones are cleared.
    let (status, body, _) = s
        .send(
            reqwest::Method::PUT,
            "Things(1)",
            json!({ "name": "only name" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body, _) = s
        .send(
            reqwest::Method::PUT,
            "Things(1)",
            json!({ "name": "L01", "description": "replaced" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["properties"], Value::Null);
    // Updating a missing entity fails.
    let (status, _, _) = s
        .send(reqwest::Method::PATCH, "Things(9)", json!({ "name": "x" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Type errors are named.
    let (status, body, _) = s
        .send(
            reqwest::Method::PATCH,
            "Datastreams(1)",
            json!({ "unitOfMeasurement": "mg/L" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unitOfMeasurement")
    );
    s.stop().await;
}

#[tokio::test]
async fn delete_cascades() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    s.post("Things", station("L02", 106.42, 26.56, 20.0)).await;
    let count = |v: &Value| v["@iot.count"].as_i64().unwrap();
    // Thing → its Datastreams (→ Observations) and HistoricalLocations.
    let r = s
        .client
        .delete(format!("{}/Things(1)", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(count(&s.get("Datastreams?$count=true").await.1), 1);
    assert_eq!(count(&s.get("Observations?$count=true").await.1), 2);
    assert_eq!(count(&s.get("HistoricalLocations?$count=true").await.1), 1);
    assert_eq!(
        count(&s.get("Locations?$count=true").await.1),
        2,
        "Locations are not owned by the Thing"
    );
    // Location → its HistoricalLocations.
    s.client
        .delete(format!("{}/Locations(2)", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(count(&s.get("HistoricalLocations?$count=true").await.1), 0);
    // ObservedProperty → Datastreams → Observations.
    s.client
        .delete(format!("{}/ObservedProperties(2)", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(count(&s.get("Datastreams?$count=true").await.1), 0);
    assert_eq!(count(&s.get("Observations?$count=true").await.1), 0);
    // Deleting twice is a 404.
    let r = s
        .client
        .delete(format!("{}/Things(1)", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn feature_of_interest_delete_cascades_to_observations() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    s.client
        .delete(format!("{}/FeaturesOfInterest(1)", s.base))
        .send()
        .await
        .unwrap();
    let (_, v) = s.get("Datastreams(1)/Observations?$count=true").await;
    assert_eq!(v["@iot.count"], 0);
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(ds["phenomenonTime"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn writes_need_a_token_unless_open() {
    let s = start_with(false).await;
    let r = s
        .client
        .post(format!("{}/Things", s.base))
        .json(&json!({ "name": "x", "description": "y" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("Bearer"));
    let r = s
        .client
        .post(format!("{}/Things", s.base))
        .bearer_auth("wrong")
        .json(&json!({ "name": "x", "description": "y" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .post(format!("{}/Things", s.base))
        .bearer_auth("secret-token")
        .json(&json!({ "name": "x", "description": "y" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Reads stay public.
    assert_eq!(s.get("Things").await.0, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn data_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().unwrap();
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.open = true;
    for round in 0..2 {
        let store = open_backend(&config).unwrap();
        let running = server::start(config.clone(), store).await.unwrap();
        let base = format!("http://{}/v1.1", running.http_addr);
        let client = reqwest::Client::new();
        if round == 0 {
            let r = client
                .post(format!("{base}/Things"))
                .json(&station("L01", 106.43, 26.59, 30.0))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        } else {
            let v: Value = client
                .get(format!("{base}/Observations?$count=true"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(v["@iot.count"], 2);
            // New ids continue after the old ones.
            let r: Value = client
                .post(format!("{base}/Datastreams(1)/Observations"))
                .json(&json!({ "phenomenonTime": "2026-04-01T00:00:00Z", "result": 1 }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(r["@iot.id"], 3);
        }
        running.stop().await.unwrap();
    }
    if !backend::on_postgres() {
        assert!(dir.path().join("qingshui.sqlite").exists());
    }
}

include!("writes.rs");
include!("reads.rs");
