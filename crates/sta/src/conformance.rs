//! What `serverSettings.conformance` lists on the service root: every requirement class and
//! every requirement of OGC 18-088 this server meets, as the standard names them (its
//! `[[requirement-…,<path>]]` anchors, relative to [`BASE`]). Clients look for both kinds.
//! Only what is true belongs here: MultiDatastream is not implemented, so neither it nor its
//! requirements are listed; the MQTT classes are added by the server when its MQTT listener
//! runs ([`MQTT_CLASSES`]).

/// The base every requirement URI of OGC 18-088 is relative to.
pub const BASE: &str = "http://www.opengis.net/spec/iot_sensing/1.1/req/";

/// The MQTT extension's two classes: listed (with their endpoint) only by a server that runs
/// an MQTT listener, so not part of [`conformance`].
pub const MQTT_CLASSES: [&str; 2] = [
    "receive-updates-via-mqtt/receive-updates",
    "create-observations-via-mqtt/observations-creation",
];

/// The data model: one requirements class per entity type, each with its two requirements.
const DATAMODEL_ENTITIES: &[&str] = &[
    "thing",
    "location",
    "historical-location",
    "datastream",
    "sensor",
    "observed-property",
    "observation",
    "feature-of-interest",
];

/// Requirement classes and requirements other than the per-entity data model ones.
const OTHER: &[&str] = &[
    "datamodel",
    "datamodel/entity-control-information",
    "datamodel/entity-control-information/common-control-information",
    "resource-path",
    "resource-path/resource-path-to-entities",
    "request-data",
    "request-data/order",
    "request-data/expand",
    "request-data/select",
    "request-data/status-code",
    "request-data/query-status-code",
    "request-data/orderby",
    "request-data/top",
    "request-data/skip",
    "request-data/count",
    "request-data/filter",
    "request-data/built-in-filter-operations",
    "request-data/built-in-query-functions",
    "request-data/pagination",
    "create-update-delete",
    "create-update-delete/create-entity",
    "create-update-delete/link-to-existing-entities",
    "create-update-delete/deep-insert",
    "create-update-delete/deep-insert-status-code",
    "create-update-delete/update-entity",
    "create-update-delete/delete-entity",
    "create-update-delete/historical-location-auto-creation",
    "create-update-delete/historical-location-manual-creation",
    "create-update-delete/update-entity-put",
    "create-update-delete/update-entity-jsonpatch",
    "data-array",
    "data-array/data-array",
    // The standard's multipart/mixed `$batch` with change sets (`sta::batch_multipart`).
    "batch-request",
    "batch-request/batch-request",
];

/// The full URIs, classes before their requirements, in a stable order.
pub fn conformance() -> Vec<String> {
    let mut out = Vec::with_capacity(DATAMODEL_ENTITIES.len() * 3 + OTHER.len());
    let (first, rest) = OTHER.split_at(1);
    out.extend(first.iter().map(|p| format!("{BASE}{p}")));
    for e in DATAMODEL_ENTITIES {
        out.push(format!("{BASE}datamodel/{e}"));
        out.push(format!("{BASE}datamodel/{e}/properties"));
        out.push(format!("{BASE}datamodel/{e}/relations"));
    }
    out.extend(rest.iter().map(|p| format!("{BASE}{p}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_classes_and_requirements_once() {
        let all = conformance();
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        for want in [
            "datamodel",
            "datamodel/thing/properties",
            "datamodel/feature-of-interest/relations",
            "datamodel/entity-control-information/common-control-information",
            "request-data/status-code",
            "request-data/query-status-code",
            "create-update-delete/update-entity-jsonpatch",
            "data-array/data-array",
            "batch-request/batch-request",
        ] {
            assert!(all.contains(&format!("{BASE}{want}")), "{want}");
        }
        // Not implemented, so not claimed.
        for absent in ["multi-datastream", "receive-updates-via-mqtt"] {
            assert!(!all.iter().any(|u| u.contains(absent)), "{absent}");
        }
    }
}
