//! Read answers as the bytes of a response body, for every backend. The HTTP shell says how
//! ([`Render`]: the service root that makes links absolute, a member to hide from anonymous
//! readers, a size cap); the store either streams rows straight into bytes
//! ([`crate::read::read_rendered`]) or, for the shapes it does not stream, renders the
//! [`ReadResponse`] value with [`render_response`] — both apply the same rules here, so a
//! client cannot tell which path answered.

use crate::{ReadResponse, StoreError};
use serde_json::Value;
use std::io::Write;

/// How a read answer becomes a body.
#[derive(Debug, Clone)]
pub struct Render {
    /// `http://host/v1.1` (no trailing slash): relative links are prefixed with it.
    pub service_root: String,
    /// A member removed from every `properties` and `parameters` object (the HJ 212 MN for
    /// readers without a token, see the server's `redact`), `None` to keep everything.
    pub hidden: Option<String>,
    /// Largest body in bytes; a larger answer is [`StoreError::ResponseTooLarge`].
    pub max_bytes: usize,
}

/// A rendered read answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadBody {
    /// `application/json` bytes.
    Json(Vec<u8>),
    /// `$value` of a property, as text/plain (redaction of text is the caller's).
    Text(String),
    NoContent,
}

/// Removes `key` from every `properties` and `parameters` object in `v`, at any depth, and from
/// the `parameters` column of `dataArray` rows.
pub fn hide_member(v: &mut Value, key: &str) {
    match v {
        Value::Object(map) => {
            for k in ["properties", "parameters"] {
                if let Some(Value::Object(inner)) = map.get_mut(k) {
                    inner.shift_remove(key);
                }
            }
            // dataArray: rows are arrays in the order of `components`.
            let parameters_at = map
                .get("components")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().position(|n| n == "parameters"));
            if let (Some(i), Some(Value::Array(rows))) = (parameters_at, map.get_mut("dataArray")) {
                for row in rows {
                    if let Some(Value::Object(p)) = row.get_mut(i) {
                        p.shift_remove(key);
                    }
                }
            }
            for (_, child) in map.iter_mut() {
                hide_member(child, key);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| hide_member(v, key)),
        _ => {}
    }
}

/// A writer that fails once more than `cap` bytes were written, so an oversized answer is
/// refused after at most `cap` bytes of buffer instead of after all of it.
pub(crate) struct Capped {
    pub buf: Vec<u8>,
    pub cap: usize,
}

impl Capped {
    pub fn new(cap: usize) -> Capped {
        Capped {
            buf: Vec::new(),
            cap,
        }
    }
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.cap {
            return Err(std::io::Error::other("response over the cap"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The answer `value` as bytes: links absolute, the hidden member removed, within the cap.
pub fn render_value(mut value: Value, render: &Render) -> Result<Vec<u8>, StoreError> {
    crate::links::make_absolute(&mut value, &render.service_root);
    if let Some(key) = &render.hidden {
        hide_member(&mut value, key);
    }
    let mut out = Capped::new(render.max_bytes);
    serde_json::to_writer(&mut out, &value).map_err(|_| StoreError::ResponseTooLarge {
        cap: render.max_bytes,
    })?;
    Ok(out.buf)
}

/// A [`ReadResponse`] rendered: what a backend that does not stream answers.
pub fn render_response(response: ReadResponse, render: &Render) -> Result<ReadBody, StoreError> {
    Ok(match response {
        ReadResponse::Json(v) => ReadBody::Json(render_value(v, render)?),
        ReadResponse::Text(t) => ReadBody::Text(t),
        ReadResponse::NoContent => ReadBody::NoContent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hidden_members_go_from_properties_parameters_and_data_arrays() {
        let mut v = json!({
            "value": [{
                "properties": { "mn": "A1", "st": "21", "kind": "station" },
                "Datastreams": [{ "Observations": [{ "parameters": { "mn": "A1", "qn": "1" } }] }],
            }],
            "x": { "components": ["id", "parameters"], "dataArray": [[1, { "mn": "A1", "cn": "2061" }]] },
        });
        hide_member(&mut v, "mn");
        let text = v.to_string();
        assert!(!text.contains("A1"), "{text}");
        assert!(text.contains("\"st\":\"21\"") && text.contains("2061"));
        // Order of the remaining members is kept (clients and the streamed path compare bytes).
        assert!(
            text.contains("{\"st\":\"21\",\"kind\":\"station\"}"),
            "{text}"
        );
    }

    #[test]
    fn answers_over_the_cap_are_refused() {
        let r = Render {
            service_root: "http://h/v1.1".into(),
            hidden: None,
            max_bytes: 50,
        };
        let v = json!({ "value": "x".repeat(100) });
        assert!(matches!(
            render_value(v, &r),
            Err(StoreError::ResponseTooLarge { cap: 50 })
        ));
        let ok = render_value(json!({"@iot.nextLink": "Things?$top=1"}), &r).expect("small");
        assert_eq!(ok, br#"{"@iot.nextLink":"http://h/v1.1/Things?$top=1"}"#);
    }
}
