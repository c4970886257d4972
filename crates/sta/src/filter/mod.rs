//! OData `$filter` for SensorThings (OGC 18-088 §9.3.3.5): lexer, precedence parser, AST.

mod ast;
mod lexer;
mod parser;

pub use ast::{BinaryOp, Expr, Function, Literal};
pub use parser::{parse_filter, parse_filter_with};
