//! The qingshui station simulator.
//!
//! This part is pure: [`Simulator`] turns (seed, station, parameter, instant) into the value a
//! Hongfeng Lake station would report, with its HJ 212 data flag and whether the station is
//! online — the same inputs always give the same reading, whatever the order or speed of the
//! calls. The senders in [`send`] (HJ 212 over TCP, SensorThings over HTTP) drive a server
//! through its public interfaces only; they are the only IO in this crate.
//!
//! Patterns and events follow `shared/reference/hongfeng.md` §4–§6; the assumptions are listed
//! in `docs/network.md`.

mod clock;
mod events;
mod model;
mod noise;
mod physics;
mod ranges;
mod scenario;
pub mod send;

pub use model::{DataFlag, Reading, SimParameter, SimStation, Simulator};
pub use scenario::{EventKind, Scenario, ScriptedEvent};
