//! The STA-query → SQL compiler. Dialect-parameterised; no engine is called from here.

pub mod compile;
pub mod dialect;
pub mod mapping;

pub use compile::{Scope, SqlBuilder, SqlValue};
pub use dialect::Dialect;
