//! The SensorThings MQTT topics (OGC 18-088 §14, ../shared/reference/sensorthings.md §6): what a
//! PUBLISH creates and what a SUBSCRIBE listens to. Pure: no IO, no store.

use sta::{EntityType, Query, ResourcePath, Tail};

/// Every STA topic starts with the version.
pub const PREFIX: &str = "v1.1/";

/// Why a topic is not one we serve.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TopicError {
    #[error("the topic does not start with {PREFIX}")]
    NotSta,
    #[error("wildcards (+, #) are not SensorThings topics")]
    Wildcard,
    #[error("bad resource path: {0}")]
    Path(String),
    #[error("only $select may follow a topic (the standard defines no other option there)")]
    Option,
    #[error("bad $select: {0}")]
    Select(String),
    #[error("observations are created on v1.1/Observations or v1.1/<path>/Observations")]
    NotCreatable,
    #[error("$ref and $value are not subscribable")]
    Tail,
    #[error("a single-entity topic must name the entity by id (e.g. v1.1/Things(1))")]
    NoId,
}

/// The resource path of a create topic (`v1.1/Datastreams(1)/Observations`): the same path an
/// HTTP POST would name, so the store links the Datastream as it does for HTTP.
pub fn create_path(topic: &str) -> Result<ResourcePath, TopicError> {
    let rest = topic.strip_prefix(PREFIX).ok_or(TopicError::NotSta)?;
    if rest.contains(['+', '#']) {
        return Err(TopicError::Wildcard);
    }
    if rest.contains('?') {
        return Err(TopicError::NotCreatable);
    }
    let path = sta::parse_path(rest).map_err(|e| TopicError::Path(e.to_string()))?;
    if path.target() != EntityType::Observation || !path.is_collection() || path.tail != Tail::None
    {
        return Err(TopicError::NotCreatable);
    }
    Ok(path)
}

/// What a subscription listens to.
#[derive(Debug, Clone, PartialEq)]
pub enum SubKind {
    /// A collection: its new or updated members, each as the entity's JSON. `datastream` is
    /// `Some` for `Datastreams(id)/Observations` (the hot path, matched without a read),
    /// `all` for a top-level set such as `Observations`.
    Collection { datastream: Option<i64>, all: bool },
    /// `v1.1/Things(1)`: the entity, each time it is updated.
    Entity { entity: EntityType, id: i64 },
    /// `v1.1/Things(1)/name`: `{"name": …}`, each time the entity is updated.
    Property {
        entity: EntityType,
        id: i64,
        name: &'static str,
    },
}

/// A parsed subscription topic.
#[derive(Debug, Clone, PartialEq)]
pub struct SubTopic {
    /// The topic exactly as subscribed (messages are published on it).
    pub topic: String,
    pub path: ResourcePath,
    /// The raw `$select=…` option (empty: every property).
    pub select: String,
    pub kind: SubKind,
}

impl SubTopic {
    /// The entity type the messages carry.
    pub fn target(&self) -> EntityType {
        self.path.target()
    }
}

/// Parses a SUBSCRIBE topic filter.
pub fn subscription(topic: &str) -> Result<SubTopic, TopicError> {
    let rest = topic.strip_prefix(PREFIX).ok_or(TopicError::NotSta)?;
    if rest.contains(['+', '#']) {
        return Err(TopicError::Wildcard);
    }
    let (path_text, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = sta::parse_path(path_text).map_err(|e| TopicError::Path(e.to_string()))?;
    let select = select_option(path.target(), query)?;
    let last = path.last();
    let kind = match path.tail {
        Tail::Ref | Tail::PropertyValue(_) => return Err(TopicError::Tail),
        Tail::Property(name) => match last.id {
            Some(id) => SubKind::Property {
                entity: last.entity,
                id,
                name,
            },
            None => return Err(TopicError::NoId),
        },
        Tail::None if path.is_collection() => SubKind::Collection {
            datastream: match path.steps.as_slice() {
                [ds, obs]
                    if ds.entity == EntityType::Datastream
                        && obs.entity == EntityType::Observation =>
                {
                    ds.id
                }
                _ => None,
            },
            all: path.steps.len() == 1,
        },
        Tail::None => match last.id {
            Some(id) => SubKind::Entity {
                entity: last.entity,
                id,
            },
            None => return Err(TopicError::NoId),
        },
    };
    if !select.is_empty() && matches!(kind, SubKind::Property { .. }) {
        return Err(TopicError::Option);
    }
    Ok(SubTopic {
        topic: topic.to_string(),
        path,
        select,
        kind,
    })
}

/// Only `$select` may follow a topic; it is checked as an HTTP `$select` would be.
fn select_option(entity: EntityType, query: &str) -> Result<String, TopicError> {
    if query.is_empty() {
        return Ok(String::new());
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.iter().any(|(k, _)| k != "$select") {
        return Err(TopicError::Option);
    }
    Query::parse(entity, query).map_err(|e| TopicError::Select(e.to_string()))?;
    Ok(query.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_topics() {
        assert!(create_path("v1.1/Observations").is_ok());
        let p = create_path("v1.1/Datastreams(7)/Observations").unwrap();
        assert_eq!(p.steps[0].id, Some(7));
        assert_eq!(
            create_path("v1.1/Things(1)").unwrap_err(),
            TopicError::NotCreatable
        );
        assert_eq!(
            create_path("v1.1/Observations(3)").unwrap_err(),
            TopicError::NotCreatable
        );
        assert_eq!(
            create_path("v1.0/Observations").unwrap_err(),
            TopicError::NotSta
        );
        assert_eq!(
            create_path("v1.1/Observations?$select=id").unwrap_err(),
            TopicError::NotCreatable
        );
    }

    #[test]
    fn subscription_kinds() {
        let s = subscription("v1.1/Datastreams(4)/Observations").unwrap();
        assert_eq!(
            s.kind,
            SubKind::Collection {
                datastream: Some(4),
                all: false
            }
        );
        let s = subscription("v1.1/Observations?$select=result,phenomenonTime").unwrap();
        assert_eq!(
            s.kind,
            SubKind::Collection {
                datastream: None,
                all: true
            }
        );
        assert_eq!(s.select, "$select=result,phenomenonTime");
        let s = subscription("v1.1/Things(2)/Datastreams").unwrap();
        assert_eq!(
            s.kind,
            SubKind::Collection {
                datastream: None,
                all: false
            }
        );
        assert_eq!(s.target(), EntityType::Datastream);
        let s = subscription("v1.1/Things(2)").unwrap();
        assert_eq!(
            s.kind,
            SubKind::Entity {
                entity: EntityType::Thing,
                id: 2
            }
        );
        let s = subscription("v1.1/Things(2)/name").unwrap();
        assert!(matches!(s.kind, SubKind::Property { name: "name", .. }));
    }

    #[test]
    fn refused_subscriptions() {
        assert_eq!(subscription("v1.1/#").unwrap_err(), TopicError::Wildcard);
        assert_eq!(
            subscription("v1.1/Datastreams(+)/Observations").unwrap_err(),
            TopicError::Wildcard
        );
        assert_eq!(
            subscription("v1.1/Observations?$filter=result gt 3").unwrap_err(),
            TopicError::Option
        );
        assert!(matches!(
            subscription("v1.1/Observations?$select=nonsense"),
            Err(TopicError::Select(_))
        ));
        assert!(matches!(
            subscription("v1.1/Nothing(1)"),
            Err(TopicError::Path(_))
        ));
        assert_eq!(
            subscription("v1.1/Things(1)/name/$value").unwrap_err(),
            TopicError::Tail
        );
        assert_eq!(subscription("farm/house1").unwrap_err(), TopicError::NotSta);
    }
}
