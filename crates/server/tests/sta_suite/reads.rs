// Issue 12 read behaviours, backend-neutral (included at the end of suite.rs): present-but-null
// properties and times echoed as sent.

#[tokio::test]
async fn a_null_property_is_200_with_null_and_404_only_for_what_does_not_exist() {
    let s = start().await;
    s.post("Things", station("L01", 106.43, 26.59, 30.0)).await;
    // resultTime was never set: the property exists and is null.
    let (status, v) = s.get("Observations(1)/resultTime").await;
    assert_eq!((status, v), (StatusCode::OK, json!({ "resultTime": null })));
    let r = s
        .client
        .get(format!("{}/Observations(1)/resultTime/$value", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "null");
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
    let r = s
        .client
        .patch(format!("{}/Observations(1)", s.base))
        .json(&json!({ "result": 1.75 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
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
