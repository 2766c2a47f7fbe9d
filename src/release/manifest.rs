//! `manifest.json`: what a release contains and how it was made. Written once at the end
//! of a build; read back (with hard limits, since a release may come from anywhere) by
//! `verify` and `inspect`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::paths::MANIFEST;
use super::{Stats, FORMAT, FORMAT_VERSION};
use crate::error::{Error, Result};

/// Largest `manifest.json` read. A real one is a few KiB per thousand shards.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Deepest JSON nesting accepted. A real manifest nests about 4 levels (plus whatever the
/// config has); the limit is checked before parsing so no parser recursion limit is needed.
pub const MAX_JSON_DEPTH: usize = 64;

/// The row schema a release uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaInfo {
    pub name: String,
    pub version: u32,
    /// sha256 of `schema/document.schema.json`.
    pub sha256: String,
}

/// The tokenizer the `tokens` column was produced with; shipped as `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerEntry {
    pub name: String,
    pub sha256: String,
    pub file: String,
}

/// Totals of one split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitInfo {
    pub rows: u64,
    pub tokens: u64,
    pub shards: u64,
}

/// One Parquet shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardEntry {
    pub path: String,
    pub split: String,
    pub rows: u64,
    pub tokens: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Any other file of the release (card, tokenizer, extra files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`. Field order here is the key order in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `quire-release`.
    pub format: String,
    pub format_version: u32,
    pub tool_version: String,
    pub schema: SchemaInfo,
    /// The build configuration, as given by the pipeline.
    pub config: serde_json::Value,
    pub tokenizer: TokenizerEntry,
    pub stats: Stats,
    pub splits: BTreeMap<String, SplitInfo>,
    /// Sorted by path.
    pub shards: Vec<ShardEntry>,
    /// Sorted by path; every file but the shards, `manifest.json` and `SHA256SUMS`.
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// The exact bytes of `manifest.json`: pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(self)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Total rows over all shards.
    pub fn rows(&self) -> u64 {
        self.shards.iter().map(|s| s.rows).sum()
    }
}

/// Nesting depth of a JSON text, counted over `[`/`{` outside strings. Linear, no
/// recursion, and it does not need valid JSON: it only has to bound what the parser sees.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let (mut in_str, mut escaped) = (false, false);
    for &b in bytes {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn manifest_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Release {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Read `DIR/manifest.json` within the size and depth limits, as untyped JSON. The file
/// must be a regular file (not a symlink).
fn read_manifest_value(dir: &Path) -> Result<serde_json::Value> {
    let path = dir.join(MANIFEST);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
    if !meta.file_type().is_file() {
        return Err(manifest_err(&path, "is not a regular file"));
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(manifest_err(
            &path,
            format!(
                "is {} bytes, above the {MAX_MANIFEST_BYTES} byte limit",
                meta.len()
            ),
        ));
    }
    let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
    // `take` bounds the read even if the file grows after the size check.
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&path, e))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(manifest_err(&path, "grew above the size limit while read"));
    }
    let depth = json_depth(&bytes);
    if depth > MAX_JSON_DEPTH {
        return Err(manifest_err(
            &path,
            format!("nests {depth} levels deep, above the limit of {MAX_JSON_DEPTH}"),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| manifest_err(&path, format!("is not valid JSON: {e}")))
}

/// Whether `dir` holds a quire release of any format version: the one thing that lets a
/// build replace an existing directory.
pub(crate) fn is_quire_release(dir: &Path) -> bool {
    read_manifest_value(dir)
        .ok()
        .and_then(|v| {
            v.get("format")
                .and_then(|f| f.as_str())
                .map(|f| f == FORMAT)
        })
        .unwrap_or(false)
}

/// Read and parse `DIR/manifest.json`: at most 16 MiB, at most 64 levels deep, format
/// `quire-release` version 1, no unknown keys. Paths and hashes are not checked here
/// (see [`crate::verify::verify`]).
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let value = read_manifest_value(dir)?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(manifest_err(
                &path,
                format!("format is {other:?}, not {FORMAT:?}"),
            ));
        }
        None => return Err(manifest_err(&path, "has no `format` string")),
    }
    match value.get("format_version").and_then(|f| f.as_u64()) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(manifest_err(
                &path,
                format!("format_version is {v}; this quire reads version {FORMAT_VERSION}"),
            ));
        }
        None => return Err(manifest_err(&path, "has no integer `format_version`")),
    }
    serde_json::from_value(value).map_err(|e| manifest_err(&path, format!("malformed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_only_structure() {
        assert_eq!(json_depth(b"{}"), 1);
        assert_eq!(json_depth(br#"{"a":[1,{"b":[]}]}"#), 4);
        assert_eq!(json_depth(br#"{"a":"[[[[\"[[["}"#), 1);
        assert_eq!(json_depth(&vec![b'['; 100_000]), 100_000);
    }

    #[test]
    fn limits_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let write = |s: &[u8]| std::fs::write(dir.path().join(MANIFEST), s).unwrap();
        assert!(read_manifest(dir.path()).is_err()); // missing
        write(b"not json");
        assert!(read_manifest(dir.path()).is_err());
        write(format!("{}{}", "[".repeat(65), "]".repeat(65)).as_bytes());
        let e = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(e.contains("deep"), "{e}");
        write(br#"{"format":"other","format_version":1}"#);
        assert!(read_manifest(dir.path())
            .unwrap_err()
            .to_string()
            .contains("format"));
        write(br#"{"format":"quire-release","format_version":2}"#);
        assert!(read_manifest(dir.path())
            .unwrap_err()
            .to_string()
            .contains("version"));
        assert!(is_quire_release(dir.path()));
    }
}
