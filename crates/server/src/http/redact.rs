//! What anonymous readers must not see, and responses that cannot grow without bound.
//!
//! An HJ 212 station's MN is its login name: with it, a guesser only needs the password. The
//! store keeps it (Thing `properties.mn`, Observation `parameters.mn`, shared with other callers),
//! so the HTTP layer removes it from what requests without a valid token get.

use super::error::ApiError;
use axum::http::StatusCode;
use serde_json::Value;

/// The key the network plan and the HJ 212 source use for a station's MN.
pub const MN: &str = "mn";

/// Removes `mn` from every `properties` and `parameters` object in `v`, expanded entities and
/// `dataArray` rows included (the rule itself is `store::render::hide_member`, which the
/// store's streamed answers apply too).
pub fn strip_mns(v: &mut Value) {
    store::render::hide_member(v, MN);
}

/// `properties/$value` and `parameters/$value` answer the object as text: the MN goes there too.
pub fn strip_mn_text(text: String) -> String {
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(mut map)) if map.contains_key(MN) => {
            map.remove(MN);
            Value::Object(map).to_string()
        }
        _ => text,
    }
}

/// A query that filters or orders on an MN would read it out one character at a time
/// (`startswith(properties/mn,'8')`), so anonymous requests may not name it.
pub fn mentions_mn(decoded_query: &str) -> bool {
    ["properties/mn", "parameters/mn"].iter().any(|p| {
        decoded_query.match_indices(p).any(|(at, _)| {
            !decoded_query[at + p.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// The 400 for an answer over `[http] max_response_bytes`.
pub fn too_large(cap: usize) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!(
            "the response would be larger than {cap} bytes ([http] max_response_bytes); ask for less ($top, $select, fewer $expand levels)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mns_go_from_properties_parameters_and_data_arrays() {
        let mut v = json!({
            "value": [{
                "properties": { "mn": "A1", "st": "21", "kind": "station" },
                "Datastreams": [{ "Observations": [{ "parameters": { "mn": "A1", "qn": "1" } }] }],
            }],
            "dataArray@iot.count": 1,
            "x": { "components": ["id", "parameters"], "dataArray": [[1, { "mn": "A1", "cn": "2061" }]] },
        });
        strip_mns(&mut v);
        let text = v.to_string();
        assert!(!text.contains("A1"), "{text}");
        assert!(
            text.contains("\"st\":\"21\"") && text.contains("2061"),
            "{text}"
        );
    }

    #[test]
    fn filters_naming_the_mn_are_recognised() {
        assert!(mentions_mn("$filter=startswith(properties/mn,'8')"));
        assert!(mentions_mn("$orderby=parameters/mn"));
        assert!(!mentions_mn("$filter=properties/mnemonic eq 'x'"));
        assert!(!mentions_mn("$filter=name eq 'mn'"));
    }

    #[test]
    fn oversized_responses_are_refused_naming_the_limit() {
        let e = too_large(50);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("max_response_bytes") && e.message.contains("50"));
    }
}
