//! Links in read answers. A store knows no public URL: it writes `@iot.selfLink`,
//! `…@iot.navigationLink` and `…@iot.nextLink` relative to the service root (`Things(1)`,
//! `Things(1)/Datastreams`, `Things?$skip=100&$top=100`), and the HTTP shell, which knows the URL
//! clients reach it by, makes them absolute with [`make_absolute`].

use serde_json::{Map, Value};

fn is_link(key: &str) -> bool {
    key.ends_with("@iot.selfLink")
        || key.ends_with("@iot.navigationLink")
        || key.ends_with("@iot.nextLink")
}

/// Entities sit in `value` arrays and under navigation properties, which are capitalised
/// (`Thing`, `Datastreams`); the lower-case members (`properties`, `result`, `parameters`, …)
/// are the client's own JSON, whose keys are never rewritten.
fn holds_entities(key: &str) -> bool {
    key == "value" || key.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Prefixes every link of a read answer with `service_root` (`http://host/v1.1`, no trailing
/// slash).
pub fn make_absolute(answer: &mut Value, service_root: &str) {
    match answer {
        Value::Object(members) => absolute_in_entity(members, service_root),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| make_absolute(v, service_root)),
        _ => {}
    }
}

fn absolute_in_entity(members: &mut Map<String, Value>, service_root: &str) {
    for (key, value) in members.iter_mut() {
        if is_link(key) {
            if let Value::String(link) = value {
                *link = format!("{service_root}/{link}");
            }
        } else if holds_entities(key) {
            make_absolute(value, service_root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_of_entities_become_absolute_and_client_json_stays() {
        let mut v = json!({
            "@iot.nextLink": "Things?$top=1&$skip=1",
            "value": [{
                "@iot.selfLink": "Things(1)",
                "Datastreams@iot.navigationLink": "Things(1)/Datastreams",
                "properties": {"a@iot.selfLink": "mine"},
                "Datastreams": [{"@iot.selfLink": "Datastreams(2)"}],
                "Datastreams@iot.nextLink": "Things(1)/Datastreams?$top=1&$skip=1"
            }]
        });
        make_absolute(&mut v, "http://h/v1.1");
        assert_eq!(
            v,
            json!({
                "@iot.nextLink": "http://h/v1.1/Things?$top=1&$skip=1",
                "value": [{
                    "@iot.selfLink": "http://h/v1.1/Things(1)",
                    "Datastreams@iot.navigationLink": "http://h/v1.1/Things(1)/Datastreams",
                    "properties": {"a@iot.selfLink": "mine"},
                    "Datastreams": [{"@iot.selfLink": "http://h/v1.1/Datastreams(2)"}],
                    "Datastreams@iot.nextLink": "http://h/v1.1/Things(1)/Datastreams?$top=1&$skip=1"
                }]
            })
        );
    }
}
