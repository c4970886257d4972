//! GB/T 28181 (2016 and 2022) for a monitoring platform, as pure functions.
//!
//! No IO, no clock, no async: every function that depends on time takes `now`.
//! The server's `sources/gb28181` shell owns the sockets; `sim` uses the same
//! codec for the device side.
//!
//! - [`sip`]: SIP request/response parse and serialise (RFC 3261 subset GB/T 28181 uses).
//! - [`digest`]: RFC 2617 MD5 digest as GB/T 28181 registration uses it.
//! - [`manscdp`]: the MANSCDP XML bodies carried in SIP MESSAGE, with charsets.
//! - [`sdp`]: the live-view INVITE's SDP (offer, answer, the `y=` SSRC).
//! - [`id`]: the 20-digit GB/T 28181 code (国标编码).
//! - [`device`]: registration and keepalive state machines, catalog page assembly.

mod alarm;
pub mod device;
pub mod digest;
pub mod id;
pub mod manscdp;
pub mod sdp;
pub mod sip;
pub mod time;
mod xml;

pub use device::{CatalogAssembler, Liveness, Registration};
pub use digest::{Challenge, Credentials};
pub use id::DeviceId;
pub use manscdp::Body;
pub use sip::{Message, SipError};
