//! What a PUBLISH writes: an STA create topic (`v1.1/…/Observations`) becomes the same
//! [`WriteCommand::Create`] an HTTP POST to that path makes (validation, Datastream link,
//! idempotency and revisions are the store's, as for HTTP); any other topic is looked up in the
//! network file's device mappings ([`super::devices`]).

use super::Shared;
use super::topic;
use store::{NewObservation, WriteCommand};

/// The write a publish asks for.
pub enum Command {
    /// One STA create, exactly as HTTP.
    Write(WriteCommand),
    /// Values of a device mapping (several datastreams from one message), stored all or none.
    Rows(Vec<NewObservation>),
}

/// A refusal: the counted reason and the message logged.
pub type Refused = (&'static str, String);

pub fn command_for(shared: &Shared, topic_name: &str, payload: &[u8]) -> Result<Command, Refused> {
    if topic_name.starts_with(topic::PREFIX) {
        let path = topic::create_path(topic_name).map_err(|e| ("unknown_topic", e.to_string()))?;
        let body: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| ("bad_payload", format!("the payload is not JSON: {e}")))?;
        if !body.is_object() {
            return Err((
                "bad_payload",
                "the payload must be one Observation (a JSON object)".into(),
            ));
        }
        return Ok(Command::Write(WriteCommand::Create { path, body }));
    }
    match shared
        .devices
        .rows(topic_name, payload, store::clock::now_micros())
    {
        Some(rows) => rows.map(Command::Rows),
        None => Err((
            "unknown_topic",
            format!(
                "{topic_name} is neither a SensorThings create topic nor a mapped device topic"
            ),
        )),
    }
}
