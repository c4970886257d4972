//! The `$filter` expression tree.

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// An ISO 8601 instant, in UTC microseconds since the epoch.
    DateTime(i64),
    /// An ISO 8601 date `YYYY-MM-DD` (as returned by `date()`).
    Date(String),
    /// A geometry literal `geography'POINT (30 10)'` kept as WKT; validated at parse time.
    Geography(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::Eq | Self::Ne | Self::Gt | Self::Ge | Self::Lt | Self::Le
        )
    }
}

/// The functions of OGC 18-088 Table 31 (string, date, math, geospatial, spatial relationship).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    SubstringOf,
    EndsWith,
    StartsWith,
    Length,
    IndexOf,
    Substring,
    ToLower,
    ToUpper,
    Trim,
    Concat,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    FractionalSeconds,
    Date,
    Time,
    TotalOffsetMinutes,
    Now,
    MinDateTime,
    MaxDateTime,
    Round,
    Floor,
    Ceiling,
    GeoDistance,
    GeoLength,
    GeoIntersects,
    StEquals,
    StDisjoint,
    StTouches,
    StWithin,
    StOverlaps,
    StCrosses,
    StIntersects,
    StContains,
    StRelate,
}

impl Function {
    /// Name as written in a URL, and the accepted argument counts.
    pub fn lookup(name: &str) -> Option<(Function, &'static [usize])> {
        use Function::*;
        let f = match name {
            "substringof" => (SubstringOf, &[2][..]),
            "endswith" => (EndsWith, &[2][..]),
            "startswith" => (StartsWith, &[2][..]),
            "length" => (Length, &[1][..]),
            "indexof" => (IndexOf, &[2][..]),
            "substring" => (Substring, &[2, 3][..]),
            "tolower" => (ToLower, &[1][..]),
            "toupper" => (ToUpper, &[1][..]),
            "trim" => (Trim, &[1][..]),
            "concat" => (Concat, &[2][..]),
            "year" => (Year, &[1][..]),
            "month" => (Month, &[1][..]),
            "day" => (Day, &[1][..]),
            "hour" => (Hour, &[1][..]),
            "minute" => (Minute, &[1][..]),
            "second" => (Second, &[1][..]),
            "fractionalseconds" => (FractionalSeconds, &[1][..]),
            "date" => (Date, &[1][..]),
            "time" => (Time, &[1][..]),
            "totaloffsetminutes" => (TotalOffsetMinutes, &[1][..]),
            "now" => (Now, &[0][..]),
            "mindatetime" => (MinDateTime, &[0][..]),
            "maxdatetime" => (MaxDateTime, &[0][..]),
            "round" => (Round, &[1][..]),
            "floor" => (Floor, &[1][..]),
            "ceiling" => (Ceiling, &[1][..]),
            "geo.distance" => (GeoDistance, &[2][..]),
            "geo.length" => (GeoLength, &[1][..]),
            "geo.intersects" => (GeoIntersects, &[2][..]),
            "st_equals" => (StEquals, &[2][..]),
            "st_disjoint" => (StDisjoint, &[2][..]),
            "st_touches" => (StTouches, &[2][..]),
            "st_within" => (StWithin, &[2][..]),
            "st_overlaps" => (StOverlaps, &[2][..]),
            "st_crosses" => (StCrosses, &[2][..]),
            "st_intersects" => (StIntersects, &[2][..]),
            "st_contains" => (StContains, &[2][..]),
            "st_relate" => (StRelate, &[3][..]),
            _ => return None,
        };
        Some(f)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal),
    /// A property path: `name`, `Datastream/Thing/name`, `properties/depth`, `result`.
    Property(Vec<String>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Call(Function, Vec<Expr>),
}
