//! Each kind of bad network file is rejected, naming the right line (table-driven).

use network::{Problem, parse_network};

/// A small valid network; each case below changes one line of it.
const BASE: &str = r#"schema_version = 1

[network]
id = "mini"
name_zh = "小网"
name_en = "Mini network"
bbox = [106.36, 26.42, 106.47, 26.60]

[cadence]
realtime_interval_s = 300
analyser_cycle_hours = [0, 4, 8, 12, 16, 20]

[[basins]]
id = "north"
name_zh = "北部湖区"
name_en = "North basin"

[[parameters]]
code = "tp"
hj212 = "w21011"
name_zh = "总磷"
name_en = "Total phosphorus"
unit = "mg/L"
unit_name = "milligram per litre"
ucum = "mg/L"
decimals = 3

[[parameters]]
code = "sd"
hj212 = "w01004"
name_zh = "透明度"
name_en = "Transparency"
unit = "m"
unit_name = "metre"
ucum = "m"
decimals = 2

[[stations]]
code = "L01"
name_zh = "北湖"
name_en = "North Lake"
kind = "lake"
basin = "north"
target_class = "III"
lon = 106.430
lat = 26.590
mn = "010000520181000000000001"
pw = "520001"
analysers = ["tp"]
manual = ["sd"]

[[stations]]
code = "W01"
name_zh = "取水口"
name_en = "Intake"
kind = "intake"
basin = "north"
target_class = "Ⅱ"
lon = 106.440
lat = 26.578
mn = "010000520181000000000002"
pw = "520002"
analysers = ["tp"]

[[zones]]
id = "lake"
name_zh = "湖"
name_en = "Lake"
kind = "lake_outline"
schematic = true
polygon = [[[106.40, 26.55], [106.46, 26.55], [106.46, 26.60], [106.40, 26.60], [106.40, 26.55]]]

[[video_points]]
id = "V01"
name_zh = "视频点01"
name_en = "Camera 01"
kind = "ptz"
zone = "lake"
lon = 106.445
lat = 26.580
"#;

fn one_based_line_of(text: &str, marker: &str) -> usize {
    let offset = text
        .find(marker)
        .unwrap_or_else(|| panic!("marker `{marker}` not in text"));
    text[..offset].matches('\n').count() + 1
}

#[test]
fn base_file_is_valid() {
    let net = parse_network(BASE, "mini.toml").expect("valid");
    assert_eq!(net.stations.len(), 2);
    assert_eq!(
        net.station("W01").map(|s| s.target_class.as_str()),
        Some("II")
    );
}

#[test]
fn bad_files_are_rejected_on_the_right_line() {
    type Check = fn(&Problem) -> bool;
    // (what, text to replace, replacement, marker on the expected line, expected problem)
    let cases: &[(&str, &str, &str, &str, Check)] = &[
        (
            "syntax error",
            "name_en = \"Mini network\"",
            "name_en = \"Mini network",
            "name_en = \"Mini network",
            |p| matches!(p, Problem::Syntax(_)),
        ),
        (
            "unknown key",
            "pw = \"520001\"",
            "pw = \"520001\"\npasword = \"x\"",
            "pasword",
            |p| matches!(p, Problem::Syntax(m) if m.contains("pasword")),
        ),
        (
            "wrong type",
            "lat = 26.590",
            "lat = \"north\"",
            "lat = \"north\"",
            |p| matches!(p, Problem::Syntax(_)),
        ),
        (
            "unknown station kind",
            "kind = \"lake\"\n",
            "kind = \"pond\"\n",
            "kind = \"pond\"",
            |p| matches!(p, Problem::Syntax(m) if m.contains("pond")),
        ),
        (
            "schema version",
            "schema_version = 1",
            "schema_version = 2",
            "schema_version",
            |p| matches!(p, Problem::UnsupportedSchemaVersion { found: 2, .. }),
        ),
        (
            "duplicate station id",
            "code = \"W01\"",
            "code = \"L01\" # again",
            "code = \"L01\" # again",
            |p| {
                matches!(
                    p,
                    Problem::DuplicateId {
                        what: "station code",
                        first_line: 39,
                        ..
                    }
                )
            },
        ),
        (
            "bad identifier",
            "code = \"W01\"",
            "code = \"W 01\"",
            "code = \"W 01\"",
            |p| matches!(p, Problem::BadIdentifier { .. }),
        ),
        (
            "duplicate MN",
            "mn = \"010000520181000000000002\"",
            "mn = \"010000520181000000000001\" # same",
            "# same",
            |p| matches!(p, Problem::DuplicateMn { other_station, .. } if other_station == "L01"),
        ),
        (
            "MN with a frame separator",
            "mn = \"010000520181000000000002\"",
            "mn = \"0100005201;8\"",
            "mn = \"0100005201;8\"",
            |p| matches!(p, Problem::BadHj212Field { what: "MN", .. }),
        ),
        (
            "automatic station without PW",
            "pw = \"520002\"\n",
            "",
            "code = \"W01\"",
            |p| matches!(p, Problem::MissingHj212 { .. }),
        ),
        (
            "unknown basin",
            "basin = \"north\"\ntarget_class = \"Ⅱ\"",
            "basin = \"west\"\ntarget_class = \"Ⅱ\"",
            "basin = \"west\"",
            |p| matches!(p, Problem::UnknownBasin(b) if b == "west"),
        ),
        (
            "unknown parameter code",
            "manual = [\"sd\"]",
            "manual = [\"sd\", \"phosphate\"]",
            "manual = [\"sd\", \"phosphate\"]",
            |p| matches!(p, Problem::UnknownParameter(c) if c == "phosphate"),
        ),
        (
            "known parameter missing from the catalogue",
            "manual = [\"sd\"]",
            "manual = [\"sd\", \"chl_a\"]",
            "manual = [\"sd\", \"chl_a\"]",
            |p| matches!(p, Problem::ParameterNotInCatalogue(c) if c == "chl_a"),
        ),
        (
            "unknown code in the catalogue",
            "code = \"sd\"",
            "code = \"secchi\"",
            "code = \"secchi\"",
            |p| matches!(p, Problem::UnknownParameter(_)),
        ),
        (
            "parameter listed twice",
            "manual = [\"sd\"]",
            "manual = [\"sd\", \"tp\"]",
            "manual = [\"sd\", \"tp\"]",
            |p| matches!(p, Problem::DuplicateStationParameter { .. }),
        ),
        (
            "target class VI",
            "target_class = \"III\"",
            "target_class = \"VI\"",
            "target_class = \"VI\"",
            |p| matches!(p, Problem::TargetClassOutOfRange(c) if c == "VI"),
        ),
        (
            "target class worse than V",
            "target_class = \"Ⅱ\"",
            "target_class = \"劣Ⅴ\"",
            "target_class = \"劣Ⅴ\"",
            |p| matches!(p, Problem::TargetClassOutOfRange(_)),
        ),
        (
            "latitude not on Earth",
            "lat = 26.590",
            "lat = 126.590",
            "lat = 126.590",
            |p| matches!(p, Problem::CoordinateOutOfRange { what: "lat", .. }),
        ),
        (
            "longitude outside the network bbox",
            "lon = 106.445",
            "lon = 116.445",
            "lon = 116.445",
            |p| matches!(p, Problem::CoordinateOutOfRange { what: "lon", .. }),
        ),
        (
            "lake point outside the lake outline",
            "lat = 26.578",
            "lat = 26.500",
            "lat = 26.500",
            |p| matches!(p, Problem::OutsideLake { .. }),
        ),
        (
            "bad bbox",
            "bbox = [106.36, 26.42, 106.47, 26.60]",
            "bbox = [106.47, 26.42, 106.36, 26.60]",
            "bbox = ",
            |p| matches!(p, Problem::BadBbox(_)),
        ),
        (
            "polygon not closed",
            "[106.40, 26.60], [106.40, 26.55]]]",
            "[106.40, 26.60], [106.41, 26.55]]]",
            "polygon = ",
            |p| matches!(p, Problem::BadPolygon { reason, .. } if reason.contains("not closed")),
        ),
        (
            "polygon crossing itself",
            "[106.46, 26.55], [106.46, 26.60], [106.40, 26.60]",
            "[106.46, 26.60], [106.46, 26.55], [106.40, 26.60]",
            "polygon = ",
            |p| matches!(p, Problem::BadPolygon { reason, .. } if reason.contains("crosses")),
        ),
        (
            "polygon with too few positions",
            "polygon = [[[106.40, 26.55], [106.46, 26.55], [106.46, 26.60], [106.40, 26.60], [106.40, 26.55]]]",
            "polygon = [[[106.40, 26.55], [106.46, 26.55], [106.40, 26.55]]]",
            "polygon = ",
            |p| matches!(p, Problem::BadPolygon { .. }),
        ),
        (
            "polygon position with three numbers",
            "[106.46, 26.55], [106.46, 26.60]",
            "[106.46, 26.55, 5.0], [106.46, 26.60]",
            "polygon = ",
            |p| matches!(p, Problem::BadPolygon { reason, .. } if reason.contains("3 numbers")),
        ),
        (
            "video point in an unknown zone",
            "zone = \"lake\"",
            "zone = \"shore\"",
            "zone = \"shore\"",
            |p| matches!(p, Problem::UnknownZone(z) if z == "shore"),
        ),
        (
            "duplicate basin",
            "[[parameters]]\ncode = \"tp\"",
            "[[basins]]\nid = \"north\" # twice\nname_zh = \"x\"\nname_en = \"x\"\n\n[[parameters]]\ncode = \"tp\"",
            "# twice",
            |p| {
                matches!(
                    p,
                    Problem::DuplicateId {
                        what: "basin id",
                        ..
                    }
                )
            },
        ),
        (
            "role on a lake point",
            "kind = \"intake\"",
            "kind = \"intake\"\nrole = \"inflow\"",
            "role = \"inflow\"",
            |p| matches!(p, Problem::RoleOnNonRiver(_)),
        ),
        (
            "sim hint out of range",
            "manual = [\"sd\"]",
            "manual = [\"sd\"]\nsim = { bloom = 2.0 }",
            "sim = ",
            |p| {
                matches!(
                    p,
                    Problem::ValueOutOfRange {
                        key: "sim.bloom",
                        ..
                    }
                )
            },
        ),
        (
            "real-time interval of zero",
            "realtime_interval_s = 300",
            "realtime_interval_s = 0",
            "realtime_interval_s = 0",
            |p| {
                matches!(
                    p,
                    Problem::ValueOutOfRange {
                        key: "realtime_interval_s",
                        ..
                    }
                )
            },
        ),
        (
            "missing required key",
            "name_en = \"Intake\"\n",
            "",
            "[[stations]]\ncode = \"W01\"",
            |p| matches!(p, Problem::Syntax(m) if m.contains("name_en")),
        ),
    ];

    assert!(BASE.contains("\ncode = \"L01\""));
    assert_eq!(
        one_based_line_of(BASE, "code = \"L01\""),
        39,
        "BASE layout changed; fix first_line"
    );
    for (what, from, to, marker, check) in cases {
        assert!(BASE.contains(from), "{what}: `{from}` not in BASE");
        let text = BASE.replacen(from, to, 1);
        let err = match parse_network(&text, "mini.toml") {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e,
        };
        assert!(check(&err.problem), "{what}: unexpected problem {err}");
        assert_eq!(err.source_name, "mini.toml");
        assert_eq!(
            err.line,
            one_based_line_of(&text, marker),
            "{what}: wrong line in {err}"
        );
        assert!(err.column >= 1);
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("mini.toml:{}:", err.line)),
            "{what}: {shown}"
        );
    }
}

#[test]
fn never_panics_on_garbage() {
    for text in [
        "",
        "\u{0}",
        "[[stations]]",
        "schema_version = 1",
        "a = [",
        "名 = \"\u{1F600}",
    ] {
        assert!(parse_network(text, "garbage.toml").is_err());
    }
}
