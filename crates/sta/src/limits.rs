//! Query budgets: how big a request may be before it is refused with a 400, checked while parsing
//! so that a hostile request costs no more than the limit (no deep recursion, no huge trees).
//! The server fills these from `[sta]` in its configuration; each error names the setting.

/// Limits applied while parsing `$expand`, `$filter` and `$orderby`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Deepest `$expand` nesting, counting path segments (`Datastreams/Thing` is 2) and nested
    /// `$expand` options alike.
    pub max_expand_depth: usize,
    /// Most navigation steps in one `$filter` / `$orderby` property path
    /// (`Datastream/Thing/name` is 2).
    pub max_filter_nav_depth: usize,
    /// Most nodes (operators, literals, properties, calls) in one `$filter` expression.
    pub max_filter_nodes: usize,
    /// Most vertices in one geometry literal of `$filter`.
    pub max_geometry_vertices: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_expand_depth: 4,
            max_filter_nav_depth: 3,
            max_filter_nodes: 200,
            max_geometry_vertices: 1_000,
        }
    }
}

/// The largest `$top` / `$skip` accepted: SQLite's LIMIT/OFFSET are signed 64-bit.
pub const MAX_COUNT_VALUE: u64 = i64::MAX as u64;
