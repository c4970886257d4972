//! Typed errors: each names what is wrong with the scene, so the HTTP layer can answer a 4xx
//! that a person can act on.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum ImageryError {
    #[error("not a TIFF: {0}")]
    NotTiff(String),
    #[error("TIFF could not be decoded: {0}")]
    Decode(String),
    #[error("unsupported sample format: {0}")]
    SampleFormat(String),
    #[error("no georeference: {0}")]
    NoGeoreference(String),
    #[error("CRS unsupported: {0}")]
    CrsUnsupported(String),
    #[error("unknown bands: {0}")]
    UnknownBands(String),
    #[error("scene not over the lake: {0}")]
    NotOverLake(String),
    #[error("invalid setting: {0}")]
    Setting(String),
    #[error("could not encode: {0}")]
    Encode(String),
}

impl ImageryError {
    /// A stable machine-readable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            ImageryError::NotTiff(_) => "not_tiff",
            ImageryError::Decode(_) => "tiff_decode",
            ImageryError::SampleFormat(_) => "sample_format",
            ImageryError::NoGeoreference(_) => "no_georeference",
            ImageryError::CrsUnsupported(_) => "crs_unsupported",
            ImageryError::UnknownBands(_) => "unknown_bands",
            ImageryError::NotOverLake(_) => "not_over_lake",
            ImageryError::Setting(_) => "invalid_setting",
            ImageryError::Encode(_) => "encode",
        }
    }
}
