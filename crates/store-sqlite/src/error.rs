//! rusqlite's errors as [`StoreError`]s. The neutral crate cannot know rusqlite, and the orphan
//! rule forbids `From<rusqlite::Error> for StoreError` here, so SQLite calls convert with
//! [`Db::db`] before `?`.

use store::StoreError;

/// SQLite's texts for the limits a crafted request can reach (sqlite3.c).
const LIMIT_MESSAGES: &[&str] = &[
    "Expression tree is too large",
    "too many terms in compound SELECT",
    "too many SQL variables",
    "integer overflow",
    "parser stack overflow",
    "too many arguments on function",
    "too many columns",
    "at most 64 tables in a join",
    "statement too long",
    "string or blob too big",
    "too many FROM clause terms",
    // rusqlite's text for SQLITE_ERROR raised by the parser's recursion guard.
    "Recursion limit",
];

/// SQLite's error in our words: interruptions and engine limits are the client's to fix, the
/// rest is a database error.
pub fn to_store_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            match f.code {
                ErrorCode::OperationInterrupted => {
                    return StoreError::Interrupted("the query was interrupted".into());
                }
                ErrorCode::TooBig => return too_complex(&e),
                _ => {}
            }
        }
        let text = e.to_string();
        if LIMIT_MESSAGES.iter().any(|m| text.contains(m)) {
            return too_complex(&e);
        }
        StoreError::Database(text)
    }
}

fn too_complex(e: &rusqlite::Error) -> StoreError {
    StoreError::TooComplex(format!(
        "the request is too large or complex for the database ({e}); use fewer $filter terms, a shorter $expand or smaller numbers"
    ))
}

/// `.db()?` on a rusqlite result: the conversion `?` cannot do across crates.
pub trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(to_store_error)
    }
}
