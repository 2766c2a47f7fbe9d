//! The validated build configuration. CLI flags and `quire.toml` both end up here; the
//! manifest records it so a release says how it was made.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Everything a build needs besides the input bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BuildConfig {
    /// Input files or directories. Not recorded in the manifest (machine paths).
    #[serde(skip)]
    pub inputs: Vec<PathBuf>,
    /// Output release directory. Not recorded in the manifest.
    #[serde(skip)]
    pub output: PathBuf,
    /// A `tokenizer.json`; `None` = the embedded default.
    #[serde(skip)]
    pub tokenizer: Option<PathBuf>,
    /// Worker threads; 0 = one per core. Never changes the output.
    #[serde(skip)]
    pub jobs: usize,
    pub source: SourceConfig,
    pub clean: CleanConfig,
    pub lang: LangConfig,
    pub dedup: DedupConfig,
    pub release: ReleaseConfig,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            inputs: vec![PathBuf::from("raw")],
            output: PathBuf::from("release"),
            tokenizer: None,
            jobs: 0,
            source: SourceConfig::default(),
            clean: CleanConfig::default(),
            lang: LangConfig::default(),
            dedup: DedupConfig::default(),
            release: ReleaseConfig::default(),
        }
    }
}

/// Limits that keep hostile input from exhausting memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// Largest article (a `.txt` file, or one JSONL line) read, after decompression.
    pub max_doc_bytes: u64,
    /// Largest decompressed stream read from one `.gz`/`.zst` file.
    pub max_decompressed_bytes: u64,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            max_doc_bytes: 16 << 20,
            max_decompressed_bytes: 4 << 30,
        }
    }
}

/// Boilerplate removal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CleanConfig {
    /// Use corpus-wide line repetition (counted over distinct documents) as a signal.
    pub corpus_lines: bool,
    /// Memory for the first-sighting filter of corpus line statistics, in MiB.
    pub line_filter_mib: usize,
    /// Longest block (in words) taken for a photo caption when printed twice in a row.
    pub caption_max_words: usize,
    /// Other documents that must print a long (20+ word) line before it counts as
    /// furniture; short lines need one.
    pub long_line_repeats: u32,
    /// Split words glued together by lost line breaks, in documents where many are.
    pub unglue: bool,
    /// Share of a document's words that must look glued before it is repaired.
    pub unglue_min_share: f64,
    /// Distinct words kept in the corpus word table (and word pairs in the pair table).
    pub word_table_cap: usize,
}

impl Default for CleanConfig {
    fn default() -> Self {
        CleanConfig {
            corpus_lines: true,
            line_filter_mib: 32,
            caption_max_words: 25,
            long_line_repeats: 2,
            unglue: true,
            unglue_min_share: 0.02,
            word_table_cap: 4_000_000,
        }
    }
}

/// Language identification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LangConfig {
    /// ISO 639-1 codes the detector may answer; narrows detection only.
    pub allowlist: Vec<String>,
    /// When set, only documents in these languages are kept (others are dropped and counted).
    pub keep_langs: Option<Vec<String>>,
}

impl Default for LangConfig {
    fn default() -> Self {
        LangConfig {
            allowlist: [
                "en", "vi", "ja", "zh", "ko", "th", "id", "ms", "tl", "fr", "de", "es", "pt", "ru",
                "el",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            keep_langs: None,
        }
    }
}

/// Deduplication: exact (same normalised body) and near-duplicate (MinHash LSH over
/// shingles, candidates verified by their Jaccard similarity and containment). See
/// [`crate::dedup`] for the method and its memory use; [`DedupConfig::validate`] (defined
/// there) checks the invariants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Drop exact duplicates: documents with the same content key (the sha256 of the
    /// NFC, case-folded, whitespace-collapsed text; see `dedup::content_key`).
    pub exact: bool,
    /// Also drop near-duplicates (syndicated copies with edits, truncation, typos).
    pub near: bool,
    /// Words per shingle (word n-gram) for text written with spaces.
    pub shingle_words: usize,
    /// Characters per shingle for text mostly in scripts written without spaces
    /// (Han, kana, Thai, Lao, Khmer, Myanmar).
    pub shingle_chars: usize,
    /// Share of letters in scripts without spaces from which a body is shingled by characters.
    pub char_script_share: f64,
    /// LSH bands; MinHash uses `bands * rows` permutations.
    pub bands: usize,
    /// MinHash values per band.
    pub rows: usize,
    /// Smallest shingle hashes kept per body (bottom-k) to verify candidates; bodies with
    /// fewer distinct shingles are compared exactly.
    pub sample_size: usize,
    /// Candidates with at least this Jaccard similarity are duplicates.
    pub jaccard: f64,
    /// Candidates where this share of the smaller body's shingles is found in the larger
    /// one are duplicates (a truncated copy), provided `min_size_ratio` holds.
    pub containment: f64,
    /// The containment rule applies only when the smaller body has at least this share of
    /// the larger one's shingles, so a passage quoted by another story does not count.
    pub min_size_ratio: f64,
    /// Every member of a cluster must have at least this share of its shingles in the
    /// cluster's kept (longest) body, or match it by the rules above; members that do not
    /// are split off, so a chain of pairs cannot join two stories that share a passage.
    pub kept_containment: f64,
    /// Bodies with fewer distinct shingles take part in exact dedup only.
    pub min_shingles: usize,
    /// In an LSH bucket, each body is compared with at most this many earlier members
    /// (bounds the work of very large buckets).
    pub bucket_window: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            exact: true,
            near: true,
            shingle_words: 4,
            shingle_chars: 5,
            char_script_share: 0.3,
            bands: 40,
            rows: 3,
            sample_size: 512,
            jaccard: 0.4,
            containment: 0.5,
            min_size_ratio: 0.3,
            kept_containment: 0.35,
            min_shingles: 10,
            bucket_window: 64,
        }
    }
}

/// Release layout.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReleaseConfig {
    /// Uncompressed bytes buffered before a Parquet row group is flushed.
    pub row_group_bytes: u64,
    /// Row groups per shard file.
    pub row_groups_per_shard: usize,
    /// Longest text passed to the tokenizer in one call, in bytes; longer bodies are
    /// encoded in pieces cut at paragraph or whitespace boundaries.
    pub encode_chunk_bytes: usize,
    /// Splits and their shares, in order. Whole duplicate clusters go to one split, chosen
    /// by a stable hash of the kept article's content.
    pub splits: Vec<SplitShare>,
}

/// One split and the share of documents it gets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SplitShare {
    pub name: String,
    pub share: f64,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        ReleaseConfig {
            row_group_bytes: 100 << 20,
            row_groups_per_shard: 5,
            encode_chunk_bytes: 64 << 10,
            splits: vec![SplitShare {
                name: "train".into(),
                share: 1.0,
            }],
        }
    }
}

impl ReleaseConfig {
    /// Parse `train=0.98,validation=0.01,test=0.01`.
    pub fn parse_splits(spec: &str) -> Result<Vec<SplitShare>> {
        let mut splits = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| Error::Config(format!("split `{part}` is not NAME=SHARE")))?;
            let share: f64 = share
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("split `{part}`: `{share}` is not a number")))?;
            splits.push(SplitShare {
                name: name.trim().to_string(),
                share,
            });
        }
        Ok(splits)
    }
}

impl BuildConfig {
    /// Read a `quire.toml`; fields it does not set keep their defaults.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("`{}`: {e}", path.display())))
    }

    /// Check invariants the rest of the code relies on.
    pub fn validate(&self) -> Result<()> {
        if self.inputs.is_empty() {
            return Err(Error::Config("no input given".into()));
        }
        if self.release.row_group_bytes == 0 || self.release.row_groups_per_shard == 0 {
            return Err(Error::Config(
                "row_group_bytes and row_groups_per_shard must be > 0".into(),
            ));
        }
        if self.release.encode_chunk_bytes < 1024 {
            return Err(Error::Config(
                "encode_chunk_bytes must be at least 1024".into(),
            ));
        }
        self.dedup.validate()?;
        let splits = &self.release.splits;
        if splits.is_empty()
            || splits
                .iter()
                .any(|s| s.share.is_nan() || s.share <= 0.0 || s.share > 1.0)
        {
            return Err(Error::Config("every split needs a share in (0, 1]".into()));
        }
        let total: f64 = splits.iter().map(|s| s.share).sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(Error::Config(format!(
                "split shares add up to {total}, not 1"
            )));
        }
        for (i, s) in splits.iter().enumerate() {
            let ok = !s.name.is_empty()
                && s.name.len() <= 64
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || splits[..i].iter().any(|o| o.name == s.name) {
                return Err(Error::Config(format!(
                    "split name `{}` must be unique, [A-Za-z0-9_]{{1,64}}",
                    s.name
                )));
            }
        }
        if self.source.max_doc_bytes == 0 || self.source.max_decompressed_bytes == 0 {
            return Err(Error::Config("size limits must be > 0".into()));
        }
        Ok(())
    }
}
