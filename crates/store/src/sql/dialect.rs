//! What differs between SQL engines. The compiler emits standard SQL and asks the dialect for the
//! few pieces that are engine-specific: placeholders, JSON member access, functions, null order.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Placeholder for the `n`-th parameter (1-based).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// A member of a JSON text column, typed natively where the engine can.
    pub fn json_member(self, column: &str, path: &[String]) -> String {
        match self {
            Dialect::Sqlite => {
                let mut p = String::from("$");
                for seg in path {
                    if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                        p.push_str(&format!("[{seg}]"));
                    } else {
                        p.push_str(&format!(
                            ".\"{}\"",
                            seg.replace('"', "").replace('\'', "''")
                        ));
                    }
                }
                format!("json_extract({column}, '{p}')")
            }
            Dialect::Postgres => {
                let p: Vec<String> = path
                    .iter()
                    .map(|s| s.replace(['\'', '{', '}', ','], ""))
                    .collect();
                format!("({column}::jsonb #>> '{{{}}}')", p.join(","))
            }
        }
    }

    /// ORDER BY suffix of a column that is never NULL: no null order to ask for. On
    /// PostgreSQL this matters: a b-tree (ASC NULLS LAST) delivers `ASC` and, backwards,
    /// `DESC`, but not `ASC NULLS FIRST`, so a page ordered by id with the null rule was a
    /// sort of the whole table (`Observations?$top=1` on 10 M rows: seconds).
    pub fn order_suffix_not_null(self, descending: bool) -> &'static str {
        if descending { " DESC" } else { " ASC" }
    }

    /// ORDER BY suffix giving OGC 18-088's null order: first ascending, last descending.
    pub fn order_suffix(self, descending: bool) -> &'static str {
        match (self, descending) {
            // SQLite already sorts NULL as the smallest value.
            (Dialect::Sqlite, false) => " ASC",
            (Dialect::Sqlite, true) => " DESC",
            (Dialect::Postgres, false) => " ASC NULLS FIRST",
            (Dialect::Postgres, true) => " DESC NULLS LAST",
        }
    }

    /// Name of a server-side helper function (registered as UDFs on SQLite, created by the
    /// migration on PostgreSQL) for what plain SQL cannot express portably.
    pub fn helper(self, name: &str) -> String {
        format!("qs_{name}")
    }

    pub fn bool_literal(self, b: bool) -> &'static str {
        match (self, b) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
        }
    }

    pub fn concat(self, a: &str, b: &str) -> String {
        format!("({a} || {b})")
    }

    /// 1-based position of `needle` in `hay`, 0 when absent.
    pub fn position(self, hay: &str, needle: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({hay}, {needle})"),
            Dialect::Postgres => format!("strpos({hay}, {needle})"),
        }
    }
}
