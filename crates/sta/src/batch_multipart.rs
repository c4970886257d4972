//! The standard's form of `$batch` (OGC 18-088's batch requests, OData 4.0 Part 1 §11.7 "Batch Requests"):
//! a `multipart/mixed` body whose parts are `application/http` requests, or change sets — a
//! nested `multipart/mixed` whose requests apply together or not at all — with `Content-ID`
//! headers that later requests of the same change set reference as `$<id>`.
//!
//! Read into the same [`BatchRequest`] as the JSON form (a change set becomes an atomicity
//! group, a `Content-ID` the request id), so both forms run through one executor; the answers
//! are written back as `multipart/mixed` ([`write_response`]). Pure: no IO. Line ends may be
//! CRLF (the standard) or bare LF (what hand-written clients often send).

use crate::batch::{BatchItem, BatchRequest};
use serde_json::Value;
use std::collections::HashMap;

/// The `boundary` parameter of a `multipart/mixed` content type (quoted or not).
pub fn boundary_of(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let kind = parts.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// Reads a multipart batch whose content type is `content_type`; the checks of the JSON form
/// apply ([`crate::batch::check`]). Errors name the part (1-based) and what is wrong with it.
pub fn parse(body: &[u8], content_type: &str, max_requests: usize) -> Result<BatchRequest, String> {
    let boundary = boundary_of(content_type).ok_or_else(|| {
        format!("content type '{content_type}' is not multipart/mixed with a boundary")
    })?;
    let text = std::str::from_utf8(body).map_err(|e| format!("the batch is not UTF-8: {e}"))?;
    let text = text.replace("\r\n", "\n");
    let mut requests = Vec::new();
    let mut changesets = 0;
    for (n, part) in split_parts(&text, &boundary)?.into_iter().enumerate() {
        let at = format!("part {}", n + 1);
        let (headers, content) = split_head(part);
        let headers = header_map(headers);
        let kind = header(&headers, "content-type").unwrap_or_default();
        if let Some(inner) = boundary_of(kind) {
            changesets += 1;
            let group = format!("changeset{changesets}");
            for (m, member) in split_parts(content, &inner)?.into_iter().enumerate() {
                let at = format!("{at}, change set request {}", m + 1);
                let (mime, http) = split_head(member);
                let item = request(&at, &header_map(mime), http, requests.len())?;
                requests.push(BatchItem {
                    atomicity_group: Some(group.clone()),
                    ..item
                });
            }
        } else {
            requests.push(request(&at, &headers, content, requests.len())?);
        }
    }
    crate::batch::check(BatchRequest { requests }, max_requests)
}

/// The parts between `--boundary` lines, up to `--boundary--`.
fn split_parts<'a>(text: &'a str, boundary: &str) -> Result<Vec<&'a str>, String> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut current: Option<usize> = None;
    let mut offset: usize = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == delimiter || trimmed == format!("{delimiter}--") {
            if let Some(start) = current {
                // The line end before the delimiter belongs to it, not to the part.
                let end = offset.saturating_sub(1).max(start);
                parts.push(&text[start..end]);
            }
            if trimmed.ends_with("--") && trimmed != delimiter {
                return Ok(parts);
            }
            current = Some(offset + line.len());
        }
        offset += line.len();
    }
    Err(format!(
        "the multipart body does not end with '--{boundary}--' (boundary '{boundary}')"
    ))
}

/// Header lines and what follows the first blank line.
fn split_head(part: &str) -> (&str, &str) {
    let part = part.trim_start_matches('\n');
    match part.find("\n\n") {
        Some(i) => (&part[..i], &part[i + 2..]),
        None if part.trim().is_empty() => ("", ""),
        None => (part, ""),
    }
}

fn header_map(lines: &str) -> HashMap<String, String> {
    lines
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn header<'a>(headers: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    headers.get(name).map(String::as_str)
}

/// One `application/http` part: `METHOD URL HTTP/1.1`, headers, a blank line, a JSON body.
fn request(
    at: &str,
    mime: &HashMap<String, String>,
    http: &str,
    index: usize,
) -> Result<BatchItem, String> {
    if let Some(kind) = header(mime, "content-type")
        && !kind.to_ascii_lowercase().starts_with("application/http")
    {
        return Err(format!(
            "{at}: content type '{kind}', expected application/http (or a multipart/mixed change set)"
        ));
    }
    let (head, body) = split_head(http);
    let mut lines = head.lines();
    let line = lines.next().unwrap_or_default().trim();
    let mut words = line.split_whitespace();
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return Err(format!(
            "{at}: the request line '{line}' is not 'METHOD URL HTTP/1.1'"
        ));
    };
    let headers: HashMap<String, String> = header_map(&lines.collect::<Vec<_>>().join("\n"));
    let body = body.trim();
    let body = if body.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str::<Value>(body)
                .map_err(|e| format!("{at}: the body of {method} {url} is not JSON: {e}"))?,
        )
    };
    // The id other requests reference: the part's Content-ID (in the MIME headers, where the
    // standard puts it, or among the request's own, where some clients do).
    let id = header(mime, "content-id")
        .or_else(|| header(&headers, "content-id"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("part{}", index + 1));
    Ok(BatchItem {
        id,
        method: method.to_string(),
        url: url.to_string(),
        headers,
        body,
        atomicity_group: None,
        depends_on: Vec::new(),
    })
}

/// The reason phrase of the status codes a batch answers with.
fn reason(status: u64) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// The answers of a batch (the JSON form's response objects: `id`, `atomicityGroup`, `status`,
/// `headers.location`, `body`, in request order) as a `multipart/mixed` body with `boundary`.
/// A change set that failed answers with one response, its failing request's (in OData 4.0
/// a change set is one unit); one that applied answers each request with its
/// `Content-ID`.
pub fn write_response(responses: &[Value], boundary: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut i = 0;
    let mut changesets = 0;
    while i < responses.len() {
        let group = responses[i].get("atomicityGroup").and_then(Value::as_str);
        let mut j = i + 1;
        while group.is_some()
            && j < responses.len()
            && responses[j].get("atomicityGroup").and_then(Value::as_str) == group
        {
            j += 1;
        }
        let members = &responses[i..j];
        out.push_str(&format!("--{boundary}\r\n"));
        match group {
            None => http_part(&mut out, &members[0], false),
            Some(_) => {
                let status = |r: &Value| r.get("status").and_then(Value::as_u64).unwrap_or(500);
                let failed = members.iter().any(|r| !(200..300).contains(&status(r)));
                if failed {
                    let culprit = members
                        .iter()
                        .find(|r| !(200..300).contains(&status(r)) && status(r) != 424)
                        .or_else(|| members.iter().find(|r| !(200..300).contains(&status(r))))
                        .unwrap_or(&members[0]);
                    http_part(&mut out, culprit, false);
                } else {
                    changesets += 1;
                    let inner = format!("changesetresponse_{changesets}_{boundary}");
                    out.push_str(&format!(
                        "Content-Type: multipart/mixed; boundary={inner}\r\n\r\n"
                    ));
                    for r in members {
                        out.push_str(&format!("--{inner}\r\n"));
                        http_part(&mut out, r, true);
                    }
                    out.push_str(&format!("--{inner}--\r\n"));
                }
            }
        }
        i = j;
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

fn http_part(out: &mut String, r: &Value, with_id: bool) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if with_id && let Some(id) = r.get("id").and_then(Value::as_str) {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    let status = r.get("status").and_then(Value::as_u64).unwrap_or(500);
    out.push_str(&format!("\r\nHTTP/1.1 {status} {}\r\n", reason(status)));
    if let Some(l) = r.pointer("/headers/location").and_then(Value::as_str) {
        out.push_str(&format!("Location: {l}\r\n"));
    }
    match r.get("body") {
        Some(body) => {
            let text = body.to_string();
            out.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}\r\n",
                text.len()
            ));
        }
        None => out.push_str("\r\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CT: &str = "multipart/mixed; boundary=batch_36522ad7";

    fn standard_example() -> String {
        [
            "--batch_36522ad7",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            "GET Things(1)?$select=name HTTP/1.1",
            "Host: example.org",
            "",
            "",
            "--batch_36522ad7",
            "Content-Type: multipart/mixed; boundary=changeset_77162fcd",
            "",
            "--changeset_77162fcd",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "Content-ID: 1",
            "",
            "POST Things HTTP/1.1",
            "Content-Type: application/json",
            "",
            r#"{"name": "R01", "description": "浮标"}"#,
            "--changeset_77162fcd",
            "Content-Type: application/http",
            "Content-ID: 2",
            "",
            "POST $1/Datastreams HTTP/1.1",
            "Content-Type: application/json",
            "",
            r#"{"name": "TP"}"#,
            "--changeset_77162fcd--",
            "",
            "--batch_36522ad7--",
            "",
        ]
        .join("\r\n")
    }

    #[test]
    fn boundary_is_read_quoted_or_not() {
        assert_eq!(boundary_of(CT).as_deref(), Some("batch_36522ad7"));
        assert_eq!(
            boundary_of("Multipart/Mixed;boundary=\"b 1\"").as_deref(),
            Some("b 1")
        );
        assert_eq!(boundary_of("application/json"), None);
        assert_eq!(boundary_of("multipart/mixed"), None);
    }

    #[test]
    fn the_standard_form_becomes_requests_and_an_atomicity_group() {
        for text in [standard_example(), standard_example().replace("\r\n", "\n")] {
            let b = parse(text.as_bytes(), CT, 100).expect("parses");
            assert_eq!(b.requests.len(), 3);
            let get = &b.requests[0];
            assert_eq!(
                (get.method.as_str(), get.url.as_str()),
                ("GET", "Things(1)?$select=name")
            );
            assert_eq!(get.atomicity_group, None);
            assert_eq!(get.body, None);
            let (a, d) = (&b.requests[1], &b.requests[2]);
            assert_eq!(a.id, "1");
            assert_eq!(a.atomicity_group.as_deref(), Some("changeset1"));
            assert_eq!(a.body, Some(json!({"name": "R01", "description": "浮标"})));
            assert_eq!(a.header("Content-Type"), Some("application/json"));
            assert_eq!((d.id.as_str(), d.url.as_str()), ("2", "$1/Datastreams"));
            assert_eq!(d.atomicity_group, a.atomicity_group);
        }
    }

    #[test]
    fn bad_batches_are_refused_naming_the_part() {
        let unterminated = standard_example().replace("--batch_36522ad7--", "");
        assert!(
            parse(unterminated.as_bytes(), CT, 100)
                .unwrap_err()
                .contains("does not end with")
        );
        let bad_json = standard_example().replace(r#"{"name": "TP"}"#, "{name");
        let e = parse(bad_json.as_bytes(), CT, 100).unwrap_err();
        assert!(
            e.contains("part 2, change set request 2") && e.contains("not JSON"),
            "{e}"
        );
        let get_in_changeset = standard_example().replace("POST $1/Datastreams", "GET Things");
        assert!(
            parse(get_in_changeset.as_bytes(), CT, 100)
                .unwrap_err()
                .contains("cannot be part of an atomicity group")
        );
        assert!(
            parse(standard_example().as_bytes(), CT, 2)
                .unwrap_err()
                .contains("more than the 2 allowed")
        );
        assert!(parse(b"x", "application/json", 5).is_err());
    }

    #[test]
    fn answers_are_written_per_request_and_a_failed_change_set_as_one() {
        let ok = vec![
            json!({"id": "part1", "status": 200, "body": {"name": "R01"}}),
            json!({"id": "1", "atomicityGroup": "changeset1", "status": 201,
                   "headers": {"location": "http://h/v1.1/Things(5)"}, "body": {"@iot.id": 5}}),
            json!({"id": "2", "atomicityGroup": "changeset1", "status": 201, "body": {"@iot.id": 9}}),
        ];
        let text = String::from_utf8(write_response(&ok, "B")).expect("utf8");
        assert!(
            text.starts_with("--B\r\nContent-Type: application/http\r\n"),
            "{text}"
        );
        assert!(text.contains("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Type: multipart/mixed; boundary=changesetresponse_1_B"));
        assert!(
            text.contains(
                "Content-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\nLocation: http://h/v1.1/Things(5)\r\n"
            ),
            "{text}"
        );
        assert!(text.contains("--changesetresponse_1_B--\r\n"));
        assert!(text.ends_with("--B--\r\n"));
        let failed = vec![
            json!({"id": "1", "atomicityGroup": "changeset1", "status": 424, "body": {"message": "rolled back"}}),
            json!({"id": "2", "atomicityGroup": "changeset1", "status": 400, "body": {"message": "bad TP"}}),
        ];
        let text = String::from_utf8(write_response(&failed, "B")).expect("utf8");
        assert_eq!(text.matches("HTTP/1.1").count(), 1, "{text}");
        assert!(
            text.contains("HTTP/1.1 400 Bad Request") && text.contains("bad TP"),
            "{text}"
        );
    }
}
