//! Fuzzes the SensorThings request parsers a client reaches without credentials: the resource
//! path, the query string (`$expand` with nested options, `$filter` with geometry literals and
//! times, `$select`, `$orderby`, `$top`/`$skip`), each entity type in turn.
//!
//! Invariant besides "no panic, no stack overflow, no runaway allocation": a query the parser
//! accepts stays within the parser's own `$expand` depth limit, so what reaches the store is
//! bounded however deep the text nests.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sta::{EntityType, Query};

fn expand_depth(q: &Query) -> usize {
    q.expand
        .iter()
        .map(|e| 1 + expand_depth(&e.query))
        .max()
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the entity type the query applies to.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let entity = EntityType::ALL[usize::from(pick) % EntityType::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    let _ = sta::parse_path(&text);
    for raw in [
        text.to_string(),
        format!("$expand={text}"),
        format!("$filter={text}"),
        format!("$orderby={text}"),
        format!("$select={text}"),
    ] {
        if let Ok(q) = Query::parse(entity, &raw) {
            assert!(expand_depth(&q) <= 64, "accepted an unbounded $expand");
        }
    }
    let _ = sta::time::parse_time_value(&text);
    let _ = sta::geo::parse_wkt(&text);
});
