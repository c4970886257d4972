//! Devices with a list of protocol links: `[[stations.links]]`, the short HJ 212 form as sugar
//! for one such link, and bad links rejected at their position.

use network::{DeviceLink, NetworkError, Problem, parse_network};

const HONGFENG: &str = include_str!("../../../config/hongfeng.toml");
const R01_SHORT: &str = "mn = \"010000520181000000000001\"\npw = \"520001\"\n";
const R01_NOTE: &str = "largest storm response. River name unverified (hongfeng.md §1).\"\n";

/// The demo file with R01's link written as a `[[stations.links]]` table holding `fields`.
fn with_r01_link(fields: &str) -> String {
    assert!(HONGFENG.contains(R01_SHORT) && HONGFENG.contains(R01_NOTE));
    HONGFENG.replacen(R01_SHORT, "", 1).replacen(
        R01_NOTE,
        &format!("{R01_NOTE}\n[[stations.links]]\n{fields}"),
        1,
    )
}

fn error(text: &str) -> NetworkError {
    match parse_network(text, "links.toml") {
        Ok(_) => panic!("parsed, expected an error"),
        Err(e) => e,
    }
}

/// 1-based line and column of the first `marker` in `text` (columns in characters).
fn position_of(text: &str, marker: &str) -> (usize, usize) {
    let offset = text
        .find(marker)
        .unwrap_or_else(|| panic!("`{marker}` not in the text"));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[test]
fn the_short_form_is_one_hj212_link() {
    let net = parse_network(HONGFENG, "config/hongfeng.toml").expect("demo file parses");
    for station in &net.stations {
        assert_eq!(station.links.len(), 1, "{}", station.code);
        assert_eq!(station.links[0].protocol(), "hj212");
        let DeviceLink::Hj212(link) = &station.links[0];
        assert_eq!(station.hj212(), Some(link));
    }
}

#[test]
fn a_links_table_reads_like_the_short_form() {
    let long =
        with_r01_link("protocol = \"hj212\"\nmn = \"010000520181000000000001\"\npw = \"520001\"\n");
    let from_long = parse_network(&long, "long.toml").expect("links form parses");
    let from_short = parse_network(HONGFENG, "short.toml").expect("short form parses");
    assert_eq!(from_long, from_short);
    let r01 = from_long.station("R01").expect("R01");
    assert_eq!(r01.hj212().map(|h| h.st.as_str()), Some("21"));
    // Written back in the short form, which reads back the same.
    let again = parse_network(&from_long.to_toml().expect("to_toml"), "again.toml")
        .expect("written file parses");
    assert_eq!(again, from_long);
}

#[test]
fn an_unknown_protocol_is_named_at_its_position() {
    let text = with_r01_link("protocol = \"gb28182\"\n");
    let e = error(&text);
    assert!(
        matches!(&e.problem, Problem::UnknownProtocol { station, protocol } if station == "R01" && protocol == "gb28182"),
        "{e}"
    );
    let (line, column) = position_of(&text, "\"gb28182\"");
    assert_eq!((e.line, e.column), (line, column), "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("links.toml:{line}:{column}: ")) && shown.contains("gb28182"),
        "{shown}"
    );
}

#[test]
fn a_link_without_its_fields_is_refused_at_the_table() {
    let text = with_r01_link("protocol = \"hj212\"\nmn = \"010000520181000000000001\"\n");
    let e = error(&text);
    assert!(
        matches!(
            e.problem,
            Problem::MissingLinkField {
                protocol: "hj212",
                field: "pw",
                ..
            }
        ),
        "{e}"
    );
    let table = position_of(&text, "protocol = \"hj212\"").0;
    assert!(
        (table - 1..=table + 1).contains(&e.line),
        "{e} (table on line {table})"
    );
}

#[test]
fn two_links_of_one_protocol_are_refused() {
    // The short form stays and a second HJ 212 link is added.
    let text = HONGFENG.replacen(
        R01_NOTE,
        &format!(
            "{R01_NOTE}\n[[stations.links]]\nprotocol = \"hj212\"\nmn = \"0100005201810000000000FF\"\npw = \"x\"\n"
        ),
        1,
    );
    let e = error(&text);
    assert!(
        matches!(e.problem, Problem::DuplicateLink { protocol: "hj212", ref station } if station == "R01"),
        "{e}"
    );
    assert_eq!(e.line, position_of(&text, "protocol = \"hj212\"").0);
}

#[test]
fn a_bad_field_in_a_link_keeps_its_position() {
    let text = with_r01_link("protocol = \"hj212\"\nmn = \"0100;bad\"\npw = \"520001\"\n");
    let e = error(&text);
    assert!(
        matches!(e.problem, Problem::BadHj212Field { what: "MN", .. }),
        "{e}"
    );
    assert_eq!(
        (e.line, e.column),
        position_of(&text, "\"0100;bad\""),
        "{e}"
    );
}
