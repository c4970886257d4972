//! The JSON batch format of OData 4.01 (`POST /v1.1/$batch`, as FROST and its clients use it):
//! the request model, its validation, and the substitution of references to earlier results
//! (`$<id>` at the start of a URL and as an `@iot.id` in a body). Pure: the server executes.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub requests: Vec<BatchItem>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchItem {
    pub id: String,
    pub method: String,
    /// Relative to the service root (`Things(1)`, `v1.1/Things(1)`, `/v1.1/Things(1)`), or
    /// absolute; may start with a reference `$<id>`.
    pub url: String,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub atomicity_group: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl BatchItem {
    pub fn method(&self) -> Result<Method, String> {
        Ok(match self.method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            other => {
                return Err(format!(
                    "request '{}': method {other} is not supported",
                    self.id
                ));
            }
        })
    }

    /// A header of the item, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses and checks a batch: at most `max_requests` requests, unique ids, `dependsOn` naming
/// earlier requests (or earlier atomicity groups), the members of an atomicity group adjacent
/// (OData 4.01 §19.1), and no GET inside one (a group is a change set).
pub fn parse(body: &[u8], max_requests: usize) -> Result<BatchRequest, String> {
    let batch: BatchRequest = serde_json::from_slice(body).map_err(|e| {
        format!("not a JSON batch ({{\"requests\": [{{\"id\", \"method\", \"url\", …}}]}}): {e}")
    })?;
    check(batch, max_requests)
}

/// The checks of [`parse`] on a batch read from any form (JSON here, multipart in
/// [`crate::batch_multipart`]).
pub fn check(batch: BatchRequest, max_requests: usize) -> Result<BatchRequest, String> {
    if batch.requests.len() > max_requests {
        return Err(format!(
            "{} requests in one batch, more than the {max_requests} allowed (setting sta.max_batch_requests)",
            batch.requests.len()
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut groups_done: Vec<&str> = Vec::new();
    let mut current_group: Option<&str> = None;
    for item in &batch.requests {
        if item.id.is_empty() || seen.contains(&item.id.as_str()) {
            return Err(format!(
                "request ids must be present and unique: '{}'",
                item.id
            ));
        }
        let method = item.method()?;
        let group = item.atomicity_group.as_deref();
        if group != current_group {
            if let Some(done) = current_group {
                groups_done.push(done);
            }
            if let Some(g) = group
                && groups_done.contains(&g)
            {
                return Err(format!(
                    "request '{}': the requests of atomicity group '{g}' must be adjacent",
                    item.id
                ));
            }
            current_group = group;
        }
        if group.is_some() && method == Method::Get {
            return Err(format!(
                "request '{}': a GET cannot be part of an atomicity group (a change set)",
                item.id
            ));
        }
        for dep in &item.depends_on {
            if !seen.contains(&dep.as_str()) && !groups_done.contains(&dep.as_str()) {
                return Err(format!(
                    "request '{}' depends on '{dep}', which is no earlier request or atomicity group",
                    item.id
                ));
            }
        }
        seen.push(&item.id);
    }
    Ok(batch)
}

/// Strips what precedes the resource path: a scheme and host, `/`, the `v1.1/` version prefix.
/// Returns (path, query) with the query without its `?`.
pub fn split_url(url: &str) -> (&str, &str) {
    let mut rest = url;
    if let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        rest = after.find('/').map_or("", |j| &after[j..]);
    }
    let rest = rest.trim_start_matches('/');
    let rest = rest.strip_prefix("v1.1/").unwrap_or(rest);
    match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    }
}

/// What an earlier request produced: the entity it created or addressed, for references.
#[derive(Debug, Clone, PartialEq)]
pub struct Produced {
    /// The entity's resource path (`Things(5)`).
    pub path: String,
    pub id: i64,
}

/// Replaces a leading `$<id>` in `path` by the referenced entity's path, and every
/// `"@iot.id": "$<id>"` in `body` by its id. An unknown reference is an error naming it.
pub fn substitute(
    path: &str,
    body: Option<&mut Value>,
    produced: &HashMap<String, Produced>,
) -> Result<String, String> {
    let path = match path.strip_prefix('$') {
        Some(rest) => {
            let (r, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!("{}{tail}", lookup(produced, r)?.path)
        }
        None => path.to_string(),
    };
    if let Some(body) = body {
        substitute_ids(body, produced)?;
    }
    Ok(path)
}

fn lookup<'a>(produced: &'a HashMap<String, Produced>, r: &str) -> Result<&'a Produced, String> {
    produced.get(r).ok_or_else(|| {
        format!("reference ${r} names no earlier request that created or addressed an entity")
    })
}

fn substitute_ids(v: &mut Value, produced: &HashMap<String, Produced>) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "@iot.id"
                    && let Value::String(s) = child
                    && let Some(r) = s.strip_prefix('$')
                {
                    *child = Value::from(lookup(produced, r)?.id);
                } else {
                    substitute_ids(child, produced)?;
                }
            }
        }
        Value::Array(items) => {
            for child in items {
                substitute_ids(child, produced)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch(requests: Value) -> Result<BatchRequest, String> {
        parse(json!({ "requests": requests }).to_string().as_bytes(), 10)
    }

    #[test]
    fn validation() {
        let ok = batch(json!([
            { "id": "1", "method": "post", "url": "Things", "body": {}, "atomicityGroup": "g" },
            { "id": "2", "method": "POST", "url": "$1/Datastreams", "atomicityGroup": "g", "dependsOn": ["1"] },
            { "id": "3", "method": "get", "url": "Things", "dependsOn": ["g"] }
        ]))
        .unwrap();
        assert_eq!(ok.requests[1].method(), Ok(Method::Post));
        let cases = [
            (
                json!([{ "id": "1", "method": "GET", "url": "a" }, { "id": "1", "method": "GET", "url": "b" }]),
                "unique",
            ),
            (
                json!([{ "id": "1", "method": "GET", "url": "a", "dependsOn": ["2"] }]),
                "no earlier",
            ),
            (
                json!([{ "id": "1", "method": "GET", "url": "a", "atomicityGroup": "g" }]),
                "GET cannot",
            ),
            (
                json!([{ "id": "1", "method": "HEAD", "url": "a" }]),
                "not supported",
            ),
            (
                json!([
                    { "id": "1", "method": "DELETE", "url": "a", "atomicityGroup": "g" },
                    { "id": "2", "method": "GET", "url": "a" },
                    { "id": "3", "method": "DELETE", "url": "a", "atomicityGroup": "g" }
                ]),
                "adjacent",
            ),
            (
                json!([{ "id": "1", "method": "GET", "url": "a", "extra": 1 }]),
                "not a JSON batch",
            ),
        ];
        for (requests, frag) in cases {
            let e = batch(requests.clone()).unwrap_err();
            assert!(e.contains(frag), "{requests}: {e}");
        }
        let many: Vec<Value> = (0..11)
            .map(|i| json!({ "id": i.to_string(), "method": "GET", "url": "a" }))
            .collect();
        assert!(
            batch(Value::Array(many))
                .unwrap_err()
                .contains("sta.max_batch_requests")
        );
    }

    #[test]
    fn urls_and_references() {
        assert_eq!(split_url("Things(1)?$top=1"), ("Things(1)", "$top=1"));
        assert_eq!(split_url("/v1.1/Things"), ("Things", ""));
        assert_eq!(
            split_url("http://h:8080/v1.1/Things(1)/Datastreams"),
            ("Things(1)/Datastreams", "")
        );
        let produced = HashMap::from([(
            "t".to_string(),
            Produced {
                path: "Things(5)".into(),
                id: 5,
            },
        )]);
        let mut body =
            json!({ "Thing": { "@iot.id": "$t" }, "Sensors": [{ "@iot.id": "$t" }], "name": "$t" });
        assert_eq!(
            substitute("$t/Datastreams", Some(&mut body), &produced).unwrap(),
            "Things(5)/Datastreams"
        );
        assert_eq!(
            body,
            json!({ "Thing": { "@iot.id": 5 }, "Sensors": [{ "@iot.id": 5 }], "name": "$t" })
        );
        assert_eq!(substitute("$t", None, &produced).unwrap(), "Things(5)");
        assert!(
            substitute("$x", None, &produced)
                .unwrap_err()
                .contains("$x")
        );
    }
}
