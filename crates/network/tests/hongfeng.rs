//! The real demo network file parses and has the published shape.

use network::{Method, StationKind, TargetClass, ZoneKind, parse_network};

const HONGFENG: &str = include_str!("../../../config/hongfeng.toml");

fn hongfeng() -> network::Network {
    match parse_network(HONGFENG, "config/hongfeng.toml") {
        Ok(n) => n,
        Err(e) => panic!("config/hongfeng.toml does not parse: {e}"),
    }
}

#[test]
fn has_18_water_stations_and_52_video_points() {
    let net = hongfeng();
    assert_eq!(net.stations.len(), 18);
    assert_eq!(net.stations_of(StationKind::River).count(), 10);
    assert_eq!(net.stations_of(StationKind::Lake).count(), 7);
    assert_eq!(net.stations_of(StationKind::Intake).count(), 1);
    assert_eq!(net.video_points.len(), 52);
    assert!(net.schematic);
}

#[test]
fn intake_is_class_ii_and_the_rest_class_iii() {
    let net = hongfeng();
    let intake = net.station("W01").expect("W01");
    assert_eq!(intake.kind, StationKind::Intake);
    assert_eq!(intake.target_class, TargetClass::II);
    assert!(intake.is_drinking_water_source());
    for s in net.stations.iter().filter(|s| s.code != "W01") {
        assert_eq!(s.target_class, TargetClass::III, "{}", s.code);
    }
}

#[test]
fn basins_follow_the_latitude_rule_for_lake_points() {
    // hongfeng.md §3.1: north basin = in-lake points at latitude >= 26.525.
    let net = hongfeng();
    for s in net.stations_of(StationKind::Lake) {
        let expected = if s.position.lat >= 26.525 {
            "north"
        } else {
            "south"
        };
        assert_eq!(s.basin, expected, "{}", s.code);
    }
}

#[test]
fn every_station_is_automatic_with_unique_mn() {
    let net = hongfeng();
    let mut mns: Vec<&str> = net
        .stations
        .iter()
        .map(|s| s.hj212().expect("automatic").mn.as_str())
        .collect();
    assert!(
        mns.iter()
            .all(|mn| mn.len() == 24 && mn.starts_with("01000052018100000000"))
    );
    mns.sort_unstable();
    mns.dedup();
    assert_eq!(mns.len(), 18);
    assert_eq!(
        net.station_by_mn("010000520181000000000012")
            .map(|s| s.code.as_str()),
        Some("W01")
    );
}

#[test]
fn parameters_per_station_type() {
    let net = hongfeng();
    let codes = |code: &str, method: Method| -> Vec<String> {
        let s = net.station(code).expect("station");
        s.parameters
            .iter()
            .filter(|p| p.method == method)
            .map(|p| p.code.clone())
            .collect()
    };
    assert_eq!(
        codes("R01", Method::Probe),
        ["water_temp", "ph", "do", "conductivity", "turbidity"]
    );
    assert_eq!(codes("L06", Method::Probe).len(), 7);
    assert!(codes("L06", Method::Probe).contains(&"chl_a".to_owned()));
    for code in ["R01", "L01", "W01"] {
        assert_eq!(
            codes(code, Method::Analyser),
            ["cod_mn", "nh3_n", "tp", "tn"]
        );
    }
    assert_eq!(codes("W01", Method::Manual), ["sd", "fe", "mn"]);
    assert_eq!(
        net.parameter("tp").map(|p| p.hj212.as_str()),
        Some("w21011")
    );
    assert_eq!(
        net.parameter("chl_a").map(|p| p.hj212.as_str()),
        Some("w01016")
    );
}

#[test]
fn zones_and_video_points() {
    let net = hongfeng();
    let outline = net
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::LakeOutline)
        .expect("outline");
    assert!(outline.schematic);
    assert!(
        net.zones
            .iter()
            .any(|z| z.kind == ZoneKind::ProtectionLevel1)
    );
    let near_intake = net
        .video_points
        .iter()
        .filter(|v| v.zone == "pz1_intake")
        .count();
    let south = net
        .video_points
        .iter()
        .filter(|v| v.zone == "south_shore")
        .count();
    assert_eq!((near_intake, south), (20, 32));
    // The south-lake cameras sit on the south part of the lake (latitude below the basin line).
    assert!(
        net.video_points
            .iter()
            .filter(|v| v.zone == "south_shore")
            .all(|v| v.position.lat < 26.525)
    );
    let geojson = net.zones_geojson();
    assert_eq!(geojson["features"].as_array().map(Vec::len), Some(3));
}

#[test]
fn round_trip_through_toml() {
    let net = hongfeng();
    let text = net.to_toml().expect("serialises");
    let again = parse_network(&text, "round-trip").expect("re-parses");
    assert_eq!(again, net);
}

#[test]
fn plan_lists_every_entity_once_with_stable_keys() {
    let net = hongfeng();
    let plan = net.plan();
    assert_eq!(plan.things.len(), 18 + 52);
    assert_eq!(plan.locations.len(), 18 + 52);
    assert_eq!(plan.observed_properties.len(), net.parameters.len());
    // River: 5 probes × 2 kinds + 4 analysers + 1 manual = 15; lake: 7×2 + 4 + 1 = 19;
    // intake: 7×2 + 4 + 3 = 21.
    assert_eq!(plan.datastreams.len(), 10 * 15 + 7 * 19 + 21);
    let mut keys: Vec<&str> = plan.datastreams.iter().map(|d| d.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), plan.datastreams.len());
    let tp = plan
        .datastreams
        .iter()
        .find(|d| d.key == "datastream:W01:tp:hourly")
        .expect("W01 TP hourly");
    assert_eq!(tp.unit.symbol, "mg/L");
    assert_eq!(tp.properties["interval_s"], 14_400);
    let op = plan
        .observed_properties
        .iter()
        .find(|o| o.code == "tp")
        .expect("tp");
    assert_eq!(op.definition, "urn:qingshui:parameter:tp");
    let w01 = plan
        .things
        .iter()
        .find(|t| t.key == "station:W01")
        .expect("W01");
    assert_eq!(w01.properties["target_class"], "II");
    assert_eq!(w01.properties["mn"], "010000520181000000000012");
    assert_eq!(w01.properties["basin"], "north");
    assert_eq!(plan, net.plan(), "planning is deterministic");
}

#[test]
fn every_video_point_has_a_gb28181_device_id() {
    let net = hongfeng();
    let mut seen = std::collections::HashSet::new();
    for (n, v) in net.video_points.iter().enumerate() {
        let gb = v
            .gb28181
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no device_id", v.id));
        // Reference video.md §1.2: center 52018100, industry 43, type 132 (IPC),
        // network 2, serial n.
        assert_eq!(
            gb.device_id,
            format!("52018100431322{:06}", n + 1),
            "{}",
            v.id
        );
        assert_eq!(gb.channel_id, gb.device_id, "IPCs: channel = device");
        assert!(seen.insert(gb.device_id.clone()));
    }
    assert_eq!(seen.len(), 52);
}

#[test]
fn gb28181_ids_are_validated() {
    let point = |extra: &str| {
        HONGFENG.replacen(
            "device_id = \"52018100431322000001\"",
            &format!("device_id = \"52018100431322000001\"\n{extra}"),
            1,
        )
    };
    let bad_device = HONGFENG.replacen("52018100431322000001", "5201810043132200000x", 1);
    let err = parse_network(&bad_device, "x.toml").unwrap_err();
    assert!(err.to_string().contains("20 ASCII digits"), "{err}");
    // A channel ID equal to another point's device ID is a duplicate.
    let dup = point("channel_id = \"52018100431322000002\"");
    let err = parse_network(&dup, "x.toml").unwrap_err();
    assert!(err.to_string().contains("duplicate"), "{err}");
    let ok = point("channel_id = \"52018100431312000001\"");
    let net = parse_network(&ok, "x.toml").unwrap();
    let gb = net.video_points[0].gb28181.as_ref().unwrap();
    assert_eq!(gb.channel_id, "52018100431312000001");
    // The channel survives a write/parse round trip.
    let again = parse_network(&net.to_toml().unwrap(), "y.toml").unwrap();
    assert_eq!(again.video_points[0].gb28181, net.video_points[0].gb28181);
}

#[test]
fn the_intake_is_watched_by_protection_zone_cameras() {
    let net = hongfeng();
    let near = net.nearest_video_points("W01", 3);
    assert_eq!(near.len(), 3);
    assert!(near.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
    for (v, d) in &near {
        assert_eq!(v.zone, "pz1_intake", "{}", v.id);
        assert!(*d < 3_000.0, "{} at {d} m", v.id);
    }
    assert!(net.nearest_video_points("nope", 3).is_empty());
}
