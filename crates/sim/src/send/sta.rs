//! A SensorThings client for what stations and field teams send over HTTP: manual samples, and
//! history in bulk through `POST /v1.1/CreateObservations` (dataArray).

use super::SendError;
use super::feed::{Row, result_quality};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// An STA HTTP client bound to one server (`http://127.0.0.1:8080`).
#[derive(Debug, Clone)]
pub struct StaClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// What the server answered to one CreateObservations request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Created {
    pub rows: u64,
    /// Rows the server answered with "error" (the others are stored).
    pub errors: u64,
}

impl StaClient {
    /// `base_url` is the server's HTTP root (`http://127.0.0.1:8080`; a trailing `/v1.1` is
    /// accepted too). `token` is sent as `Authorization: Bearer …` on writes.
    pub fn new(base_url: &str, token: Option<String>) -> Result<StaClient, SendError> {
        let base = base_url
            .trim_end_matches('/')
            .trim_end_matches("/v1.1")
            .to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|source| SendError::Http {
                url: base.clone(),
                source,
            })?;
        Ok(StaClient { http, base, token })
    }

    /// The HTTP root, without `/v1.1`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn sta_url(&self) -> String {
        format!("{}/v1.1", self.base)
    }

    async fn get_json(&self, url: &str, query: &[(&str, &str)]) -> Result<Value, SendError> {
        let http_error = |source| SendError::Http {
            url: url.to_owned(),
            source,
        };
        let response = self
            .http
            .get(with_query(url, query))
            .send()
            .await
            .map_err(http_error)?;
        read_json(url, response).await
    }

    async fn post_json(&self, url: &str, body: &Value) -> Result<Value, SendError> {
        let mut request = self.http.post(url).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|source| SendError::Http {
            url: url.to_owned(),
            source,
        })?;
        read_json(url, response).await
    }

    /// The id of the datastream whose `properties/key` is `key` (a network plan key).
    pub async fn datastream_id(&self, key: &str) -> Result<Option<i64>, SendError> {
        let url = format!("{}/Datastreams", self.sta_url());
        let filter = format!("properties/key eq '{}'", key.replace('\'', "''"));
        let page = self
            .get_json(&url, &[("$filter", &filter), ("$select", "id")])
            .await?;
        Ok(page
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .and_then(|d| d.get("@iot.id"))
            .and_then(Value::as_i64))
    }

    /// Every datastream that carries a plan key, key → id (one paged listing instead of one
    /// `$filter=properties/key eq …` request per datastream).
    pub async fn datastream_ids(&self) -> Result<HashMap<String, i64>, SendError> {
        let mut ids = HashMap::new();
        let mut url = format!("{}/Datastreams", self.sta_url());
        let mut query: Vec<(&str, &str)> = vec![("$select", "id,properties"), ("$top", "1000")];
        loop {
            let page = self.get_json(&url, &query).await?;
            for d in page
                .get("value")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = d
                    .get("properties")
                    .and_then(|p| p.get("key"))
                    .and_then(Value::as_str);
                if let (Some(key), Some(id)) = (key, d.get("@iot.id").and_then(Value::as_i64)) {
                    ids.insert(key.to_owned(), id);
                }
            }
            match page.get("@iot.nextLink").and_then(Value::as_str) {
                Some(next) => {
                    url = next.to_owned();
                    query.clear();
                }
                None => return Ok(ids),
            }
        }
    }

    /// Whether the server holds any observation yet.
    pub async fn has_observations(&self) -> Result<bool, SendError> {
        let url = format!("{}/Observations", self.sta_url());
        let page = self
            .get_json(&url, &[("$top", "1"), ("$select", "id")])
            .await?;
        Ok(page
            .get("value")
            .and_then(Value::as_array)
            .is_some_and(|v| !v.is_empty()))
    }

    /// `POST /v1.1/CreateObservations` with a body from [`create_observations_body`].
    pub async fn create_observations(&self, body: &Value) -> Result<Created, SendError> {
        let url = format!("{}/CreateObservations", self.sta_url());
        let answer = self.post_json(&url, body).await?;
        let rows = answer.as_array().ok_or_else(|| SendError::Protocol {
            url: url.clone(),
            reason: "CreateObservations did not answer with a JSON array".into(),
        })?;
        Ok(Created {
            rows: rows.len() as u64,
            errors: rows.iter().filter(|r| r.as_str() == Some("error")).count() as u64,
        })
    }
}

async fn read_json(url: &str, response: reqwest::Response) -> Result<Value, SendError> {
    let status = response.status();
    let text = response.text().await.map_err(|source| SendError::Http {
        url: url.to_owned(),
        source,
    })?;
    if !status.is_success() {
        return Err(SendError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
            body: text.chars().take(500).collect(),
        });
    }
    serde_json::from_str(&text).map_err(|e| SendError::Protocol {
        url: url.to_owned(),
        reason: format!("the answer is not JSON: {e}"),
    })
}

/// `url?k=v&…` with keys and values percent-encoded (the query option names start with `$`).
fn with_query(url: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let encode = |text: &str| {
        let mut out = String::with_capacity(text.len());
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'$') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{url}?{}", pairs.join("&"))
}

/// RFC 3339 UTC with seconds (`2026-11-29T16:25:00Z`).
pub fn iso_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The CreateObservations (dataArray) body for rows of several datastreams, by id.
/// Each group is (datastream id, interval of its rows, rows); rows of interval data get a
/// phenomenon interval `start/end`.
pub fn create_observations_body<'a>(
    groups: impl IntoIterator<Item = (i64, Option<i64>, &'a [Row])>,
) -> Value {
    let groups: Vec<Value> = groups
        .into_iter()
        .filter(|(_, _, rows)| !rows.is_empty())
        .map(|(id, interval_s, rows)| {
            let time = |t: i64| match interval_s {
                Some(d) => format!("{}/{}", iso_time(t), iso_time(t + d)),
                None => iso_time(t),
            };
            let data: Vec<Value> = rows
                .iter()
                .map(|r| json!([time(r.time), r.value, result_quality(r.flag)]))
                .collect();
            json!({
                "Datastream": { "@iot.id": id },
                "components": ["phenomenonTime", "result", "resultQuality"],
                "dataArray": data,
            })
        })
        .collect();
    Value::Array(groups)
}
