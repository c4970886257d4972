//! Synthetic stations for load tests (pure): the network plus `extra` stations cloned from its
//! automatic stations, each with its own code, MN and PW. The server must know them too, so the
//! result is meant to be written out (`Network::to_toml`) and loaded by the server.

use network::{Hj212Link, Network};

/// The network with `extra` synthetic stations `S0001`, `S0002`, … appended. Station `Sn`
/// copies the n-th automatic station (cyclically): kind, basin, position, parameters and
/// simulator hints; the simulator gives it its own values because they hash the station code.
/// MNs are `0100005201810F` followed by 10 hex digits of n (24 characters, the demo
/// convention's prefix with a distinct object class).
pub fn scale_network(network: &Network, extra: usize) -> Network {
    let mut scaled = network.clone();
    let templates: Vec<_> = network
        .stations
        .iter()
        .filter(|s| s.hj212().is_some())
        .cloned()
        .collect();
    if templates.is_empty() {
        return scaled;
    }
    for n in 1..=extra {
        let template = &templates[(n - 1) % templates.len()];
        let mut station = template.clone();
        station.code = format!("S{n:04}");
        station.name_zh = format!("合成站 {}（仿 {}）", station.code, template.code);
        station.name_en = format!(
            "Synthetic station {} (like {})",
            station.code, template.code
        );
        station.note = Some(format!(
            "Synthetic load-test station cloned from {}.",
            template.code
        ));
        let st = template
            .hj212()
            .map_or_else(|| network.hj212_st.clone(), |h| h.st.clone());
        station.set_hj212(Hj212Link {
            mn: format!("0100005201810F{n:010X}"),
            pw: format!("S{:05}", n % 100_000),
            st,
        });
        scaled.stations.push(station);
    }
    scaled
}
