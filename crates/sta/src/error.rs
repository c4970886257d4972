use thiserror::Error;

/// Errors of the pure STA layer. Each maps to one HTTP status in the server.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StaError {
    /// 404: the path names something that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 400: the path is malformed.
    #[error("bad resource path: {0}")]
    BadPath(String),
    /// 400: a query option is malformed; the message names the option and the problem.
    #[error("{option}: {message}")]
    BadQuery { option: String, message: String },
    /// 501: a query option or feature this server does not implement.
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// 400: a request body is invalid.
    #[error("{0}")]
    BadBody(String),
}

impl StaError {
    pub fn query(option: &str, message: impl Into<String>) -> StaError {
        StaError::BadQuery {
            option: option.to_string(),
            message: message.into(),
        }
    }
}
