//! Loading a monitoring network into the store, and the HJ 212 station registry built from it.
//!
//! The loader upserts `Network::plan()` through the `Store` trait only (typed reads by plan key,
//! STA writes):
//! every entity carries `properties.key` = its plan key; existing entities are found by that key,
//! missing ones are created, changed ones are PATCHed and equal ones are left alone, so a second
//! load of the same file changes nothing.
//!
//! HJ 212 passwords never reach the store: the plan puts `mn` and `st` in Thing properties but no
//! `pw`, and the registry keeps passwords in memory only.

use crate::directory::DatastreamDirectory;
use anyhow::{Context, anyhow, bail};
use hj212::{DecoderOptions, StationOptions};
use network::{DataKind, DatastreamPlan, Method, Network};
use serde_json::{Map, Value, json};
use sta::EntityType;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use store::{KeyedEntity, Store, WriteCommand, WriteOutcome};

/// Property that carries an entity's plan key (`station:R01`, `datastream:R01:tp:hourly`, …).
pub const KEY_PROPERTY: &str = "key";

/// Writes in flight at once while loading: enough for the writer to group them into few
/// commits (one fsync for many entities), bounded so a 10⁴-entity network does not queue all.
const LOAD_CONCURRENCY: usize = 256;

/// What one load did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkLoad {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Store id of every planned entity, by plan key.
    pub ids: BTreeMap<String, i64>,
}

impl NetworkLoad {
    fn count(&mut self, change: Change) {
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Created,
    Updated,
    Unchanged,
}

/// One entity to upsert: its key, collection and the full desired body (with links by id).
struct Desired {
    key: String,
    entity: EntityType,
    body: Value,
}

/// Upserts the network's plan into the store. Idempotent: a second call changes nothing.
pub async fn load_network(
    store: &Arc<dyn Store>,
    network: &Network,
) -> anyhow::Result<NetworkLoad> {
    let plan = network.plan();
    let mut load = NetworkLoad::default();

    // Phase 1: entities without links.
    let mut first = Vec::new();
    for l in &plan.locations {
        first.push(Desired {
            key: l.key.clone(),
            entity: EntityType::Location,
            body: json!({
                "name": l.name, "description": l.description, "encodingType": l.encoding_type,
                "location": l.location, "properties": { KEY_PROPERTY: l.key },
            }),
        });
    }
    for s in &plan.sensors {
        first.push(Desired {
            key: s.key.clone(),
            entity: EntityType::Sensor,
            body: json!({
                "name": s.name, "description": s.description, "encodingType": s.encoding_type,
                "metadata": s.metadata, "properties": { KEY_PROPERTY: s.key },
            }),
        });
    }
    for o in &plan.observed_properties {
        first.push(Desired {
            key: o.key.clone(),
            entity: EntityType::ObservedProperty,
            body: json!({
                "name": o.name, "definition": o.definition, "description": o.description,
                "properties": with_key(&o.properties, &o.key),
            }),
        });
    }
    upsert_all(store, first, &mut load).await?;

    // Phase 2: Things, linked to their Location.
    let mut things = Vec::new();
    for t in &plan.things {
        let location = id_of(&load.ids, &t.location_key)?;
        things.push(Desired {
            key: t.key.clone(),
            entity: EntityType::Thing,
            body: json!({
                "name": t.name, "description": t.description,
                "properties": with_key(&t.properties, &t.key),
                "Locations": [{ "@iot.id": location }],
            }),
        });
    }
    upsert_all(store, things, &mut load).await?;

    // Phase 3: Datastreams, linked to Thing, Sensor and ObservedProperty.
    let mut datastreams = Vec::new();
    for d in &plan.datastreams {
        datastreams.push(datastream_desired(d, &load.ids)?);
    }
    upsert_all(store, datastreams, &mut load).await?;
    Ok(load)
}

fn with_key(properties: &Map<String, Value>, key: &str) -> Value {
    let mut p = properties.clone();
    p.insert(KEY_PROPERTY.to_owned(), json!(key));
    Value::Object(p)
}

fn id_of(ids: &BTreeMap<String, i64>, key: &str) -> anyhow::Result<i64> {
    ids.get(key)
        .copied()
        .ok_or_else(|| anyhow!("the plan refers to '{key}', which was not loaded"))
}

fn datastream_desired(d: &DatastreamPlan, ids: &BTreeMap<String, i64>) -> anyhow::Result<Desired> {
    Ok(Desired {
        key: d.key.clone(),
        entity: EntityType::Datastream,
        body: json!({
            "name": d.name, "description": d.description,
            "unitOfMeasurement": { "name": d.unit.name, "symbol": d.unit.symbol, "definition": d.unit.definition },
            "observationType": d.observation_type,
            "properties": with_key(&d.properties, &d.key),
            "Thing": { "@iot.id": id_of(ids, &d.thing_key)? },
            "Sensor": { "@iot.id": id_of(ids, &d.sensor_key)? },
            "ObservedProperty": { "@iot.id": id_of(ids, &d.observed_property_key)? },
        }),
    })
}

/// Every keyed entity of a collection, by key (one typed read per collection, not one per key).
async fn existing_by_key(
    store: &Arc<dyn Store>,
    entity: EntityType,
) -> anyhow::Result<HashMap<String, KeyedEntity>> {
    let rows = store
        .keyed_entities(entity, None)
        .await
        .with_context(|| format!("reading the keyed {}", entity.set_name()))?;
    Ok(rows.into_iter().map(|e| (e.key.clone(), e)).collect())
}

/// True when the stored entity already has every member and link of the desired body.
fn equal(desired: &Value, stored: &KeyedEntity) -> bool {
    let Some(fields) = desired.as_object() else {
        return false;
    };
    let link_id = |l: &Value| l.get("@iot.id").and_then(Value::as_i64);
    fields.iter().all(|(name, want)| match want {
        // Links: compare ids only.
        Value::Object(link) if link.contains_key("@iot.id") => {
            stored.links.get(name).map(Vec::as_slice) == link_id(want).map(|id| vec![id]).as_deref()
        }
        Value::Array(links) if links.iter().all(|l| l.get("@iot.id").is_some()) => {
            let mut want: Vec<Option<i64>> = links.iter().map(link_id).collect();
            want.sort();
            let mut have: Vec<Option<i64>> = stored
                .links
                .get(name)
                .map(|ids| ids.iter().copied().map(Some).collect())
                .unwrap_or_default();
            have.sort();
            want == have
        }
        want => stored.members.get(name) == Some(want),
    })
}

async fn upsert_all(
    store: &Arc<dyn Store>,
    desired: Vec<Desired>,
    load: &mut NetworkLoad,
) -> anyhow::Result<()> {
    let mut existing: HashMap<EntityType, HashMap<String, KeyedEntity>> = HashMap::new();
    for d in &desired {
        if let std::collections::hash_map::Entry::Vacant(slot) = existing.entry(d.entity) {
            slot.insert(existing_by_key(store, d.entity).await?);
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut pending = desired.into_iter();
    loop {
        while tasks.len() < LOAD_CONCURRENCY {
            let Some(d) = pending.next() else { break };
            let current = existing.get(&d.entity).and_then(|m| m.get(&d.key)).cloned();
            let store = store.clone();
            tasks.spawn(async move { upsert_one(&store, d, current).await });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let (key, id, change) = done.context("loader task failed")??;
        load.ids.insert(key, id);
        load.count(change);
    }
    Ok(())
}

async fn upsert_one(
    store: &Arc<dyn Store>,
    d: Desired,
    current: Option<KeyedEntity>,
) -> anyhow::Result<(String, i64, Change)> {
    let set = d.entity.set_name();
    match current {
        Some(stored) => {
            let id = stored.id;
            if equal(&d.body, &stored) {
                return Ok((d.key, id, Change::Unchanged));
            }
            let path = sta::parse_path(&format!("{set}({id})"))?;
            store
                .write(WriteCommand::Update {
                    path,
                    body: d.body,
                    replace: false,
                })
                .await
                .with_context(|| format!("updating {set}({id}) '{}'", d.key))?;
            Ok((d.key, id, Change::Updated))
        }
        None => {
            let path = sta::parse_path(set)?;
            match store
                .write(WriteCommand::Create { path, body: d.body })
                .await
            {
                Ok(WriteOutcome::Created { id, .. }) => Ok((d.key, id, Change::Created)),
                Ok(other) => bail!("creating {set} '{}': unexpected outcome {other:?}", d.key),
                Err(e) => Err(anyhow!("creating {set} '{}': {e}", d.key)),
            }
        }
    }
}

/// Parses `+08:00` / `-05:30` / `Z` into seconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes()[0] {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(sign * (h * 3600 + m * 60))
}

/// What the HJ 212 listener needs to know about one station.
#[derive(Debug, Clone)]
pub struct RegisteredStation {
    /// Index in [`StationRegistry::stations`] (stable for the registry's life; used by status).
    pub index: usize,
    pub code: String,
    pub mn: String,
    /// Kept in memory only; never stored or served.
    pub pw: String,
    pub st: String,
    pub options: StationOptions,
    /// Lowercase HJ 212 factor code → parameter code, for parameters measured automatically.
    pub factors: HashMap<String, String>,
    /// Seconds between real-time uploads (for idle and offline judgements).
    pub realtime_interval_s: u32,
}

/// Stations by MN, with passwords and the mapping from (factor, data kind) to datastream ids.
/// Datastreams for data kinds the plan does not hold (minute, daily, real-time data of an
/// analyser) are created on first use from the station's hourly datastream of that parameter.
pub struct StationRegistry {
    stations: Vec<RegisteredStation>,
    by_mn: HashMap<String, usize>,
    decoder_options: DecoderOptions,
    /// Datastream ids by plan key: the shared directory, refreshed when one is created on demand.
    directory: Arc<DatastreamDirectory>,
    /// Hourly plan of each (station, parameter): the template of on-demand datastreams.
    templates: HashMap<(String, String), DatastreamPlan>,
    /// Thing / Sensor / ObservedProperty ids the templates link to.
    entity_ids: BTreeMap<String, i64>,
    /// Serialises on-demand creation so two connections never create the same datastream twice.
    creating: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for StationRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationRegistry")
            .field("stations", &self.stations.len())
            .finish_non_exhaustive()
    }
}

impl StationRegistry {
    /// Builds the registry from the network, the ids a [`load_network`] returned and the shared
    /// datastream directory (refreshed after the load).
    pub fn new(
        network: &Network,
        load: &NetworkLoad,
        directory: Arc<DatastreamDirectory>,
    ) -> anyhow::Result<StationRegistry> {
        let utc_offset_seconds = parse_utc_offset(&network.utc_offset)
            .ok_or_else(|| anyhow!("network utc_offset '{}' is not ±HH:MM", network.utc_offset))?;
        let default_station = StationOptions {
            utc_offset_seconds,
            ..StationOptions::default()
        };
        let mut stations = Vec::new();
        let mut by_mn = HashMap::new();
        for st in &network.stations {
            let Some(link) = st.hj212() else { continue };
            let factors = st
                .parameters
                .iter()
                .filter(|p| p.method != Method::Manual)
                .filter_map(|p| network.parameter(&p.code))
                .map(|p| (p.hj212.to_ascii_lowercase(), p.code.clone()))
                .collect();
            by_mn.insert(link.mn.clone(), stations.len());
            stations.push(RegisteredStation {
                index: stations.len(),
                code: st.code.clone(),
                mn: link.mn.clone(),
                pw: link.pw.clone(),
                st: link.st.clone(),
                options: default_station.clone(),
                factors,
                realtime_interval_s: st.realtime_interval_s,
            });
        }
        let plan = network.plan();
        let mut templates = HashMap::new();
        for d in plan.datastreams {
            if d.data_kind == DataKind::Hourly {
                templates.insert((d.station_code.clone(), d.parameter_code.clone()), d);
            }
        }
        Ok(StationRegistry {
            stations,
            by_mn,
            // Every station shares the network's switches, so the per-MN map stays empty and the
            // decoder uses `default_station` (cheap to clone per connection).
            decoder_options: DecoderOptions {
                default_station,
                ..DecoderOptions::default()
            },
            directory,
            templates,
            entity_ids: load.ids.clone(),
            creating: tokio::sync::Mutex::new(()),
        })
    }

    pub fn stations(&self) -> &[RegisteredStation] {
        &self.stations
    }

    pub fn by_mn(&self, mn: &str) -> Option<&RegisteredStation> {
        self.by_mn.get(mn).map(|&i| &self.stations[i])
    }

    /// Options for each connection's decoder.
    pub fn decoder_options(&self) -> DecoderOptions {
        self.decoder_options.clone()
    }

    /// The datastream id of a station's parameter and data kind, if it exists already.
    pub fn datastream(&self, station: &str, parameter: &str, kind: DataKind) -> Option<i64> {
        self.directory.datastream(station, parameter, kind)
    }

    /// The datastream id, creating the datastream if the station measures the parameter but the
    /// plan has no datastream of this kind. `Ok(None)`: the station does not measure it.
    pub async fn datastream_or_create(
        &self,
        store: &Arc<dyn Store>,
        station: &str,
        parameter: &str,
        kind: DataKind,
    ) -> anyhow::Result<Option<i64>> {
        if let Some(id) = self.datastream(station, parameter, kind) {
            return Ok(Some(id));
        }
        let Some(template) = self
            .templates
            .get(&(station.to_owned(), parameter.to_owned()))
        else {
            return Ok(None);
        };
        let _guard = self.creating.lock().await;
        if let Some(id) = self.datastream(station, parameter, kind) {
            return Ok(Some(id));
        }
        let plan = on_demand_plan(template, kind);
        // Several nodes on one database: the same station may send to two of them at once, so
        // the check and the creation also hold the store's lock for this key (a PostgreSQL
        // advisory lock), released after the commit: the second node then finds the first's.
        let across = store_lock(store, &format!("create {}", plan.key)).await?;
        let created = self.create_on_demand(store, &plan).await;
        if let Some(lock) = across {
            // The lock's connection is closed off the runtime's threads.
            let _ = tokio::task::spawn_blocking(move || drop(lock)).await;
        }
        created.map(Some)
    }

    async fn create_on_demand(
        &self,
        store: &Arc<dyn Store>,
        plan: &DatastreamPlan,
    ) -> anyhow::Result<i64> {
        let desired = datastream_desired(plan, &self.entity_ids)?;
        // Another process (or an earlier run) may have created it: upsert by key.
        let current = store
            .keyed_entities(EntityType::Datastream, Some(plan.key.clone()))
            .await
            .context("reading the datastream by key")?
            .into_iter()
            .next();
        let (key, id, _) = upsert_one(store, desired, current).await?;
        tracing::info!(datastream = %key, id, "created on demand for HJ 212 data");
        // Visible to the domain API and alerts right away, not only once the commit stream is read.
        self.directory
            .refresh(store)
            .await
            .context("refreshing the datastream directory")?;
        Ok(id)
    }
}

/// Holds the store's lock `name` among the nodes sharing the database (`None` at once on a
/// store with one node); waits up to 10 s for another node to let it go.
async fn store_lock(
    store: &Arc<dyn Store>,
    name: &str,
) -> anyhow::Result<Option<Box<dyn store::Leadership>>> {
    let Some(mut lock) = store.leadership(name) else {
        return Ok(None);
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (back, held) = tokio::task::spawn_blocking(move || {
            let held = lock.try_acquire();
            (lock, held)
        })
        .await
        .context("the store lock's thread")?;
        lock = back;
        if held.with_context(|| format!("taking the store lock '{name}'"))? {
            return Ok(Some(lock));
        }
        if std::time::Instant::now() > deadline {
            let _ = tokio::task::spawn_blocking(move || drop(lock)).await;
            bail!("another node has held the store lock '{name}' for more than 10 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A datastream of another data kind for the same station and parameter as `hourly`.
fn on_demand_plan(hourly: &DatastreamPlan, kind: DataKind) -> DatastreamPlan {
    let mut plan = hourly.clone();
    plan.key = network::datastream_key(&hourly.station_code, &hourly.parameter_code, kind);
    plan.data_kind = kind;
    plan.name = hourly.name.replace("hourly", kind.as_str());
    plan.description = hourly.description.replace("hourly", kind.as_str());
    plan.properties
        .insert("data_kind".to_owned(), json!(kind.as_str()));
    match kind {
        DataKind::Daily => {
            plan.properties
                .insert("interval_s".to_owned(), json!(86_400));
        }
        // Minute and real-time intervals are set on the station (MinInterval, RtdInterval).
        _ => {
            plan.properties.remove("interval_s");
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_offsets() {
        assert_eq!(parse_utc_offset("+08:00"), Some(28_800));
        assert_eq!(parse_utc_offset("-05:30"), Some(-19_800));
        assert_eq!(parse_utc_offset("Z"), Some(0));
        assert_eq!(parse_utc_offset("8"), None);
        assert_eq!(parse_utc_offset("+25:00"), None);
    }

    #[test]
    fn equality_compares_link_ids_and_desired_members_only() {
        let desired = json!({"name": "a", "Thing": {"@iot.id": 3}, "Locations": [{"@iot.id": 1}, {"@iot.id": 2}]});
        let mut members = Map::new();
        members.insert("name".into(), json!("a"));
        members.insert("description".into(), json!("extra"));
        let stored = KeyedEntity {
            id: 9,
            key: "k".into(),
            members,
            links: [
                ("Thing".to_owned(), vec![3]),
                ("Locations".to_owned(), vec![2, 1]),
            ]
            .into(),
        };
        assert!(equal(&desired, &stored));
        assert!(!equal(&json!({"name": "b"}), &stored));
        assert!(!equal(&json!({"Thing": {"@iot.id": 4}}), &stored));
        assert!(!equal(&json!({"Locations": [{"@iot.id": 1}]}), &stored));
        assert!(!equal(&json!({"missing": 1}), &stored));
    }
}
