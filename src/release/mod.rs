//! Packaging: documents → Parquet shards, `manifest.json`, `SHA256SUMS`, dataset card and the
//! tokenizer used, written into a temporary directory beside the output and renamed into
//! place only when complete.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod batch;
mod card;
pub mod manifest;
pub mod paths;
mod publish;
pub mod schema;
mod shard;
pub mod sums;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
mod writer;

pub use manifest::{read_manifest, FileEntry, Manifest, ShardEntry, SplitInfo};
pub use writer::{ReleaseWriter, TokenizerInfo};

/// `format` of every `manifest.json` quire writes.
pub const FORMAT: &str = "quire-release";
/// Version of the release layout (manifest, names, schema). Bumped on any incompatible
/// change; `verify` reads exactly this version.
pub const FORMAT_VERSION: u32 = 1;

/// A caption kept out of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caption {
    pub text: String,
    pub lang: String,
}

/// Two adjacent captions that translate each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParallelPair {
    pub src_lang: String,
    pub src: String,
    pub tgt_lang: String,
    pub tgt: String,
}

/// One row of the release: a kept article. Field order and types follow
/// `schema/document.schema.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Document {
    /// Hex prefix (16 chars) of the sha256 of the normalised clean text.
    pub id: String,
    pub source: String,
    pub source_id: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub byline: Option<String>,
    /// Milliseconds since the Unix epoch, as printed in the article (no time zone).
    pub published: Option<i64>,
    pub lang: String,
    /// Clean body, paragraphs separated by a blank line.
    pub text: String,
    pub paragraph_langs: Vec<String>,
    pub captions: Vec<Caption>,
    pub parallel: Vec<ParallelPair>,
    pub credit: Option<String>,
    /// Token ids of `text`, no special tokens.
    pub tokens: Vec<u32>,
    /// Articles merged into this one (1 = unique).
    pub dup_count: u32,
}

/// Counts a build records in the manifest. Every input is accounted for:
/// `documents_read = docs_out + Σ dropped`, and every file is read, skipped or rejected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Files found under the inputs (regular files with a supported extension).
    pub input_files: u64,
    /// Bytes of those files on disk.
    pub input_bytes: u64,
    /// Inputs that produced no document, by reason (`empty`, `binary`, …).
    pub skipped: BTreeMap<String, u64>,
    pub rejected: BTreeMap<String, u64>,
    /// Documents decoded from the inputs.
    pub docs_in: u64,
    /// Documents written.
    pub docs_out: u64,
    /// Documents decoded but not written, by reason (`empty_after_clean`, `exact_duplicate`, …).
    pub dropped: BTreeMap<String, u64>,
    /// Documents whose decoding needed a repair (invalid bytes replaced, controls stripped …).
    pub repaired: u64,
    /// Blocks removed by the clean stage, by reason.
    pub blocks_dropped: BTreeMap<String, u64>,
    /// Documents written, by language.
    pub languages: BTreeMap<String, u64>,
    pub captions: u64,
    pub parallel_pairs: u64,
    /// Tokens written.
    pub tokens: u64,
}
