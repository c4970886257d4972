// Issue 12 read behaviours, backend-neutral (included at the end of suite.rs): present-but-null
// properties and times echoed as sent.

#[tokio::test]
async fn a_null_property_is_200_with_null_and_404_only_for_what_does_not_exist() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    // resultTime was never set: the property exists and is null.
    let (status, v) = s.get("Observations(1)/resultTime").await;
    assert_eq!((status, v), (StatusCode::OK, json!({ "resultTime": null })));
    // The body `null` parses to JSON null (an empty body would read as the string "").
    let (status, v) = s.get("Observations(1)/resultTime/$value").await;
    assert_eq!((status, v), (StatusCode::OK, Value::Null));
    // A property that is set still reads as before.
    let (status, v) = s.get("Observations(1)/result").await;
    assert_eq!((status, v), (StatusCode::OK, json!({ "result": 0.020 })));
    // An entity that does not exist is 404, whatever its property.
    let (status, v) = s.get("Observations(99)/resultTime").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["type"], "error");
    let (status, _) = s.get("Observations(99)/resultTime/$value").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A property the entity type does not have is not a null property.
    let (status, v) = s.get("Observations(1)/noSuchProperty").await;
    assert!(status.is_client_error(), "{status} {v}");
    assert_ne!(status, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn times_echo_as_sent_with_fractions_only_when_they_are_there() {
    let s = start().await;
    let mut thing = station("L02", 106.43, 26.59, 30.0);
    thing["Datastreams"][0]["Observations"] = json!([
        {
            "phenomenonTime": "2015-03-03T00:00:00Z",
            "resultTime": "2015-03-03T00:00:01Z",
            "validTime": "2015-03-03T00:00:00Z/2015-03-04T00:00:00Z",
            "result": 1.5
        },
        {
            "phenomenonTime": "2015-03-03T00:00:00.123Z/2015-03-03T01:00:00Z",
            "resultTime": "2015-03-03T01:00:00.5Z",
            "result": 2.5
        }
    ]);
    let (status, body, _) = s.post("Things", thing).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, o1) = s.get("Observations(1)").await;
    assert_eq!(o1["phenomenonTime"], "2015-03-03T00:00:00Z");
    assert_eq!(o1["resultTime"], "2015-03-03T00:00:01Z");
    assert_eq!(o1["validTime"], "2015-03-03T00:00:00Z/2015-03-04T00:00:00Z");
    let (_, o2) = s.get("Observations(2)").await;
    assert_eq!(
        o2["phenomenonTime"],
        "2015-03-03T00:00:00.123Z/2015-03-03T01:00:00Z"
    );
    assert_eq!(o2["resultTime"], "2015-03-03T01:00:00.500Z");
    // The Datastream's computed phenomenonTime spans its observations, in the same form.
    let (_, ds) = s.get("Datastreams(1)").await;
    assert_eq!(ds["phenomenonTime"], "2015-03-03T00:00:00Z/2015-03-03T01:00:00Z");
    assert_eq!(ds["resultTime"], "2015-03-03T00:00:01Z/2015-03-03T01:00:00.500Z");
    // PATCHing another property leaves the time as it was sent.
    let (status, _, _) = s
        .send(reqwest::Method::PATCH, "Observations(1)", json!({ "result": 1.75 }))
        .await;
    assert!(status.is_success(), "{status}");
    let (_, o1) = s.get("Observations(1)").await;
    assert_eq!(o1["result"], 1.75);
    assert_eq!(o1["phenomenonTime"], "2015-03-03T00:00:00Z");
    // Collections and dataArray print the same strings.
    let (_, page) = s.get("Datastreams(1)/Observations?$orderby=id&$select=phenomenonTime").await;
    assert_eq!(page["value"][0]["phenomenonTime"], "2015-03-03T00:00:00Z");
    let (_, arr) = s
        .get("Datastreams(1)/Observations?$orderby=id&$resultFormat=dataArray&$select=phenomenonTime,result")
        .await;
    assert_eq!(arr["value"][0]["dataArray"][0][0], "2015-03-03T00:00:00Z");
    // A HistoricalLocation's time, sent without a fraction.
    let (status, body, _) = s
        .post(
            "HistoricalLocations",
            json!({ "time": "2015-03-03T00:00:00Z", "Thing": { "@iot.id": 1 }, "Locations": [{ "@iot.id": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, hl) = s
        .get("HistoricalLocations?$filter=time eq 2015-03-03T00:00:00Z")
        .await;
    assert_eq!(hl["value"][0]["time"], "2015-03-03T00:00:00Z", "{hl}");
    s.stop().await;
}

#[tokio::test]
async fn observations_of_a_datastream_come_in_time_order_when_no_order_is_named() {
    let s = start().await;
    let mut thing = station("L03", 106.43, 26.59, 30.0);
    // Ids 1, 2, 3 in time order 3rd, 1st, 2nd: a back-filled hour arrives last.
    thing["Datastreams"][0]["Observations"] = json!([
        { "phenomenonTime": "2026-03-15T10:00:00Z", "result": 3.5 },
        { "phenomenonTime": "2026-03-15T08:00:00Z", "result": 1.5 },
        { "phenomenonTime": "2026-03-15T09:00:00Z", "result": 2.5 }
    ]);
    let (status, body, _) = s.post("Things", thing).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, page) = s.get("Datastreams(1)/Observations").await;
    assert_eq!(ids(&page), vec![2, 3, 1], "the (datastream, time) order");
    // An $expand under the Datastream takes the first N of that same order, per parent, and its
    // nextLink continues where it stopped.
    let (_, ds) = s.get("Datastreams(1)?$expand=Observations($top=2)").await;
    let members: Vec<i64> = ds["Observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["@iot.id"].as_i64().unwrap())
        .collect();
    assert_eq!(members, vec![2, 3]);
    let next = ds["Observations@iot.nextLink"].as_str().unwrap().to_string();
    let rest = s.get_url(&next).await;
    assert_eq!(ids(&rest), vec![1]);
    // Nested, through Things: the same per-parent top.
    let (_, things) = s
        .get("Things?$expand=Datastreams($expand=Observations($top=1;$select=result))")
        .await;
    assert_eq!(
        things["value"][0]["Datastreams"][0]["Observations"],
        json!([{ "result": 1.5 }])
    );
    // Server-driven paging walks the same order to the end.
    let mut seen = Vec::new();
    let (_, mut page) = s.get("Datastreams(1)/Observations?$top=1").await;
    loop {
        seen.extend(ids(&page));
        match page["@iot.nextLink"].as_str() {
            Some(url) => page = s.get_url(url).await,
            None => break,
        }
    }
    assert_eq!(seen, vec![2, 3, 1]);
    // Observations not reached through a Datastream stay in id order, and an explicit order wins.
    let (_, all) = s.get("Observations").await;
    assert_eq!(ids(&all), vec![1, 2, 3]);
    let (_, by_id) = s.get("Datastreams(1)/Observations?$orderby=id").await;
    assert_eq!(ids(&by_id), vec![1, 2, 3]);
    s.stop().await;
}
