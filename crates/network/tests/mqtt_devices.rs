//! `[[mqtt_devices]]`: topic patterns mapped to station parameters by JSON pointers
//! (docs/mqtt.md, "Device mapping"); bad mappings are refused at their position.

use network::{Problem, parse_network};

const HONGFENG: &str = include_str!("../../../config/hongfeng.toml");

fn with(table: &str) -> String {
    format!("{HONGFENG}\n[[mqtt_devices]]\n{table}")
}

#[test]
fn a_pattern_binds_the_station_and_maps_parameters() {
    let text = with(
        "topic = \"buoy/{station}/telemetry\"\ntime = \"/ts\"\nvalues = { water_temp = \"/t\", do = \"/o2/mg\" }\n",
    );
    let net = parse_network(&text, "m.toml").expect("parses");
    let d = &net.mqtt_devices[0];
    assert_eq!(d.time.as_deref(), Some("/ts"));
    assert_eq!(
        d.values,
        vec![
            ("do".to_string(), "/o2/mg".to_string()),
            ("water_temp".to_string(), "/t".to_string())
        ]
    );
    assert_eq!(d.station_for("buoy/L01/telemetry").as_deref(), Some("L01"));
    assert_eq!(d.station_for("buoy/L01/status"), None);
    assert_eq!(d.station_for("buoy//telemetry"), None);
    assert_eq!(d.station_for("buoy/L01/telemetry/x"), None);
    // Written back, it parses to the same network.
    let again = parse_network(&net.to_toml().expect("toml"), "again.toml").expect("round trip");
    assert_eq!(again.mqtt_devices, net.mqtt_devices);
}

#[test]
fn a_fixed_topic_names_its_station() {
    let text = with("topic = \"dam/sonde\"\nstation = \"L01\"\nvalues = { ph = \"/ph\" }\n");
    let net = parse_network(&text, "m.toml").expect("parses");
    assert_eq!(
        net.mqtt_devices[0].station_for("dam/sonde").as_deref(),
        Some("L01")
    );
}

#[test]
fn bad_mappings_are_refused() {
    for (table, needle) in [
        (
            "topic = \"a/{x}/{y}\"\nvalues = { ph = \"/ph\" }\n",
            "at most one",
        ),
        ("topic = \"a/#\"\nvalues = { ph = \"/ph\" }\n", "wildcards"),
        (
            "topic = \"v1.1/Observations\"\nstation = \"L01\"\nvalues = { ph = \"/ph\" }\n",
            "v1.1",
        ),
        (
            "topic = \"a/b\"\nvalues = { ph = \"/ph\" }\n",
            "name the station",
        ),
        (
            "topic = \"a/b\"\nstation = \"Z99\"\nvalues = { ph = \"/ph\" }\n",
            "unknown station",
        ),
        (
            "topic = \"a/{s}\"\nvalues = { nope = \"/ph\" }\n",
            "unknown parameter",
        ),
        (
            "topic = \"a/{s}\"\nvalues = { ph = \"ph\" }\n",
            "JSON pointer",
        ),
        ("topic = \"a/{s}\"\nvalues = {}\n", "no values"),
    ] {
        let e = parse_network(&with(table), "m.toml").expect_err(table);
        assert!(
            matches!(e.problem, Problem::BadMqttDevice { .. }),
            "{table}: {e}"
        );
        assert!(e.to_string().contains(needle), "{table}: {e}");
    }
}
