//! Resource paths (OGC 18-088 §9.2): `Things(1)/Datastreams(2)/Observations`, `…/name/$value`, `…/$ref`.

use crate::entity::EntityType;
use crate::error::StaError;

/// One step of a resource path: an entity set (optionally narrowed to one id) reached from the
/// previous step through the navigation property `via`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub entity: EntityType,
    /// Navigation property used to reach this step; `None` for the first step.
    pub via: Option<&'static str>,
    /// Whether `via` is a to-one navigation (the step then denotes a single entity without an id).
    pub to_one: bool,
    pub id: Option<i64>,
}

impl Step {
    /// True when this step denotes one entity rather than a collection.
    pub fn is_single(&self) -> bool {
        self.id.is_some() || self.to_one
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// The entity or collection itself.
    None,
    /// `…/name`: a property of a single entity, as `{"name": …}`.
    Property(&'static str),
    /// `…/name/$value`: the raw value as text/plain.
    PropertyValue(&'static str),
    /// `…/$ref`: association links.
    Ref,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    pub steps: Vec<Step>,
    pub tail: Tail,
}

impl ResourcePath {
    pub fn last(&self) -> &Step {
        // A parsed path always has at least one step.
        &self.steps[self.steps.len() - 1]
    }

    /// The entity type addressed.
    pub fn target(&self) -> EntityType {
        self.last().entity
    }

    pub fn is_collection(&self) -> bool {
        !self.last().is_single()
    }
}

/// Parses the part of the URL after the version prefix, e.g. `Things(1)/Locations`.
pub fn parse_path(path: &str) -> Result<ResourcePath, StaError> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Err(StaError::BadPath("empty resource path".into()));
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut tail = Tail::None;
    let segments: Vec<&str> = split_segments(path)?;
    let mut i = 0;
    while i < segments.len() {
        let seg = segments[i];
        let (name, id) = split_id(seg)?;
        if steps.is_empty() {
            let entity = EntityType::from_set_name(name)
                .ok_or_else(|| StaError::NotFound(format!("no entity set named '{name}'")))?;
            steps.push(Step {
                entity,
                via: None,
                to_one: false,
                id,
            });
            i += 1;
            continue;
        }
        let prev = &steps[steps.len() - 1];
        if name == "$ref" && id.is_none() {
            if i + 1 != segments.len() {
                return Err(StaError::BadPath(
                    "$ref must be the last path segment".into(),
                ));
            }
            tail = Tail::Ref;
            break;
        }
        if !prev.is_single() {
            return Err(StaError::BadPath(format!(
                "'{name}' cannot follow the collection {}: address one entity by id first",
                prev.entity.set_name()
            )));
        }
        if let Some(nav) = prev.entity.navigation(name) {
            if id.is_some() && !nav.to_many {
                return Err(StaError::BadPath(format!(
                    "'{name}' is a to-one navigation property and takes no id"
                )));
            }
            steps.push(Step {
                entity: nav.target,
                via: Some(nav.name),
                to_one: !nav.to_many,
                id,
            });
            i += 1;
            continue;
        }
        if let Some(prop) = prev.entity.property(name) {
            if id.is_some() {
                return Err(StaError::BadPath(format!("property '{name}' takes no id")));
            }
            match segments.get(i + 1) {
                None => tail = Tail::Property(prop.name),
                Some(&"$value") if i + 2 == segments.len() => tail = Tail::PropertyValue(prop.name),
                Some(other) => {
                    return Err(StaError::BadPath(format!(
                        "unexpected segment '{other}' after property '{name}'"
                    )));
                }
            }
            break;
        }
        return Err(StaError::NotFound(format!(
            "{} has no property or navigation property named '{name}'",
            prev.entity
        )));
    }
    Ok(ResourcePath { steps, tail })
}

fn split_segments(path: &str) -> Result<Vec<&str>, StaError> {
    // Ids may be quoted strings containing '/', so split only outside quotes.
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    for (i, c) in path.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '/' if !in_quote => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_quote {
        return Err(StaError::BadPath("unterminated quoted id".into()));
    }
    out.push(&path[start..]);
    if out.iter().any(|s| s.is_empty()) {
        return Err(StaError::BadPath("empty path segment".into()));
    }
    Ok(out)
}

/// Splits `Things(1)` into `("Things", Some(1))`. Quoted ids (`Things('7')`) are accepted when
/// they hold an integer, since this server issues integer ids; any other id cannot exist.
fn split_id(seg: &str) -> Result<(&str, Option<i64>), StaError> {
    let Some(open) = seg.find('(') else {
        return Ok((seg, None));
    };
    if !seg.ends_with(')') {
        return Err(StaError::BadPath(format!(
            "segment '{seg}' has an unclosed '('"
        )));
    }
    let name = &seg[..open];
    let raw = &seg[open + 1..seg.len() - 1];
    Ok((name, Some(parse_id(raw)?)))
}

/// Parses an entity id literal as it appears in a URL or `@iot.id`.
pub fn parse_id(raw: &str) -> Result<i64, StaError> {
    let unquoted = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(raw);
    unquoted
        .parse::<i64>()
        .map_err(|_| StaError::NotFound(format!("no entity with id {raw}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityType::*;

    #[test]
    fn paths() {
        type Expected = Result<(Vec<(EntityType, Option<i64>)>, Tail), &'static str>;
        let cases: &[(&str, Expected)] = &[
            ("Things", Ok((vec![(Thing, None)], Tail::None))),
            ("/Things(1)", Ok((vec![(Thing, Some(1))], Tail::None))),
            ("Things('12')", Ok((vec![(Thing, Some(12))], Tail::None))),
            (
                "Things(1)/Datastreams",
                Ok((vec![(Thing, Some(1)), (Datastream, None)], Tail::None)),
            ),
            (
                "Things(1)/Datastreams(3)/Observations/$ref",
                Ok((
                    vec![(Thing, Some(1)), (Datastream, Some(3)), (Observation, None)],
                    Tail::Ref,
                )),
            ),
            (
                "Observations(5)/Datastream/Thing/name/$value",
                Ok((
                    vec![(Observation, Some(5)), (Datastream, None), (Thing, None)],
                    Tail::PropertyValue("name"),
                )),
            ),
            (
                "Datastreams(2)/unitOfMeasurement",
                Ok((
                    vec![(Datastream, Some(2))],
                    Tail::Property("unitOfMeasurement"),
                )),
            ),
            ("Things/Datastreams", Err("cannot follow the collection")),
            ("Thingz", Err("no entity set")),
            ("Things(1)/Foo", Err("no property or navigation")),
            ("Things(1", Err("unclosed")),
            ("Things(1)/name/foo", Err("unexpected segment")),
            ("Observations(1)/Datastream(2)", Err("to-one")),
            ("Things(1)//Locations", Err("empty path segment")),
            ("Things(1)/$ref/name", Err("last path segment")),
            ("Things(abc)", Err("no entity with id")),
        ];
        for (input, expected) in cases {
            let got = parse_path(input);
            match (got, expected) {
                (Ok(p), Ok((steps, tail))) => {
                    let s: Vec<_> = p.steps.iter().map(|s| (s.entity, s.id)).collect();
                    assert_eq!(&s, steps, "{input}");
                    assert_eq!(&p.tail, tail, "{input}");
                }
                (Err(e), Err(fragment)) => {
                    assert!(e.to_string().contains(fragment), "{input}: {e}");
                }
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }
}
