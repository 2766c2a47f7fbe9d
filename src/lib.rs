//! quire: raw scraped news articles in, a verifiable NLP-ready Parquet release out.
//!
//! The modules follow the data flow of one article:
//! `source` → `article` → `clean` → `lang` → `dedup` → `tokenize` → `release`,
//! with `verify` checking a finished release and `pipeline` driving the passes.

pub mod alloc;
pub mod article;
pub mod clean;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod error;
pub mod lang;
pub mod pipeline;
pub mod release;
pub mod source;
pub(crate) mod spill;
pub mod text;
pub mod timing;
pub mod tokenize;
pub mod verify;

pub use config::BuildConfig;
pub use error::{Error, Result};

/// Version of the tool, recorded in every release.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
