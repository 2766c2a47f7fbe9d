//! Library errors. Per-input problems are not errors: they become
//! [`crate::source::Rejection`]s that are counted and reported while the build goes on.

use std::path::PathBuf;

/// A failure that stops the current command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error on `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("failed to load tokenizer `{path}`: {reason}")]
    Tokenizer { path: String, reason: String },
    #[error("failed to tokenize document `{source_name}`: {reason}")]
    Encode { source_name: String, reason: String },
    #[error("failed to write Parquet `{path}`: {reason}")]
    Parquet { path: PathBuf, reason: String },
    #[error("release `{path}`: {reason}")]
    Release { path: PathBuf, reason: String },
    #[error("no input found in {0}")]
    NoInput(String),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Spill(#[from] crate::spill::CodecError),
}

impl Error {
    /// Wrap an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
