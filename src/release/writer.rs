//! [`ReleaseWriter`]: the public entry point of the release stage.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::manifest::{FileEntry, Manifest, SchemaInfo, ShardEntry, SplitInfo, TokenizerEntry};
use super::paths::{
    check_rel_path, check_split_name, shard_path, CARD, DATA_DIR, MANIFEST, SUMS, TOKENIZER,
};
use super::publish::{sync_dir, Staging};
use super::schema::{document_schema, DocumentSchema};
use super::shard::SplitWriter;
use super::{batch::DocBatch, card, sums, Document, Stats, FORMAT, FORMAT_VERSION};
use crate::config::ReleaseConfig;
use crate::error::{Error, Result};

/// The tokenizer a release was tokenized with.
#[derive(Debug, Clone)]
pub struct TokenizerInfo {
    /// Human-readable name (e.g. the model it comes from).
    pub name: String,
    /// Lowercase hex sha256 of `json`.
    pub sha256: String,
    /// The bytes shipped as `tokenizer.json`.
    pub json: Vec<u8>,
}

/// Writes one release. Documents go to per-split Parquet shards in a temporary directory
/// beside the output; [`ReleaseWriter::finish`] names the shards, writes the card,
/// manifest and `SHA256SUMS`, and swaps the result into place. Dropping the writer without
/// `finish` (or any error) removes the temporary directory and leaves the output untouched.
pub struct ReleaseWriter {
    staging: Staging,
    schema: &'static DocumentSchema,
    cfg: ReleaseConfig,
    splits: BTreeMap<String, SplitWriter>,
    /// Extra files added with [`ReleaseWriter::add_file`], by path.
    files: BTreeMap<String, FileEntry>,
    /// Set by the first failed `write`/`add_file`: a shard may then be half-written, so
    /// nothing more is accepted and `finish` refuses to publish.
    failed: bool,
}

fn release_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Release {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ReleaseWriter {
    /// Start a release that will replace `output` (which must not exist, be empty, or be
    /// a previous quire release) when finished.
    pub fn create(output: &Path, cfg: &ReleaseConfig) -> Result<Self> {
        if cfg.row_group_bytes == 0 || cfg.row_groups_per_shard == 0 {
            return Err(Error::Config(
                "release.row_group_bytes and release.row_groups_per_shard must be positive".into(),
            ));
        }
        let schema = document_schema()?;
        // Build an empty batch once so a drift between `Document` and the schema file
        // fails here, before any input is read.
        DocBatch::default().take(&schema.arrow)?;
        let staging = Staging::create(output)?;
        let data = staging.path().join(DATA_DIR);
        std::fs::create_dir(&data).map_err(|e| Error::io(&data, e))?;
        Ok(ReleaseWriter {
            staging,
            schema,
            cfg: cfg.clone(),
            splits: BTreeMap::new(),
            files: BTreeMap::new(),
            failed: false,
        })
    }

    fn check_usable(&self) -> Result<()> {
        if self.failed {
            return Err(release_err(
                self.staging.path(),
                "an earlier write failed; this release cannot be completed",
            ));
        }
        Ok(())
    }

    /// Append a document to `split` (`[A-Za-z0-9_]+`). Splits may interleave; each has
    /// one open shard. The document is taken, so its text and tokens are freed as soon as
    /// they are copied into the batch: a huge document is never held twice while Parquet
    /// encodes it. An error leaves the writer unusable (every later call fails): drop it.
    pub fn write(&mut self, split: &str, doc: Document) -> Result<()> {
        self.check_usable()?;
        let result = self.write_inner(split, doc);
        self.failed |= result.is_err();
        result
    }

    fn write_inner(&mut self, split: &str, doc: Document) -> Result<()> {
        if !self.splits.contains_key(split) {
            if let Some(why) = check_split_name(split) {
                return Err(release_err(self.staging.path(), why));
            }
            let w = SplitWriter::new(
                split,
                &self.staging.path().join(DATA_DIR),
                self.schema.arrow.clone(),
                &self.schema.sha256,
                &self.cfg,
            );
            self.splits.insert(split.to_string(), w);
        }
        match self.splits.get_mut(split) {
            Some(w) => w.write(doc),
            None => Ok(()), // inserted just above
        }
    }

    /// Add an extra file (e.g. `dedup/removed.jsonl`) at a relative path; it is listed
    /// in the manifest's `files` and in `SHA256SUMS`. The reserved top-level names and the
    /// `data/` directory (shards only) are refused, as is a path given twice or one that
    /// would be both a file and a directory. An error leaves the writer unusable.
    pub fn add_file(&mut self, rel_path: &str, bytes: &[u8]) -> Result<()> {
        self.check_usable()?;
        let result = self.add_file_inner(rel_path, bytes);
        self.failed |= result.is_err();
        result
    }

    fn add_file_inner(&mut self, rel_path: &str, bytes: &[u8]) -> Result<()> {
        let fail = |why: String| Err(release_err(Path::new(rel_path), why));
        if let Some(why) = check_rel_path(rel_path) {
            return fail(why);
        }
        if [MANIFEST, SUMS, CARD, TOKENIZER].contains(&rel_path) {
            return fail("is a name the release writes itself".into());
        }
        if rel_path == DATA_DIR || rel_path.starts_with(&format!("{DATA_DIR}/")) {
            return fail(format!("`{DATA_DIR}/` holds only shards"));
        }
        for existing in self.files.keys() {
            if existing == rel_path
                || existing.starts_with(&format!("{rel_path}/"))
                || rel_path.starts_with(&format!("{existing}/"))
            {
                return fail(format!("conflicts with `{existing}`, already added"));
            }
        }
        self.staging.write_file(rel_path, bytes)?;
        self.files.insert(
            rel_path.to_string(),
            FileEntry {
                path: rel_path.to_string(),
                bytes: bytes.len() as u64,
                sha256: sha256_hex(bytes),
            },
        );
        Ok(())
    }

    /// Close every shard, write `tokenizer.json`, `README.md`, `manifest.json` and
    /// `SHA256SUMS`, fsync, and swap the release into place. `stats` must agree with
    /// what was written (`docs_out` = rows, `tokens` = tokens).
    pub fn finish(
        self,
        config: serde_json::Value,
        tokenizer: &TokenizerInfo,
        stats: &Stats,
    ) -> Result<Manifest> {
        self.check_usable()?;
        let ReleaseWriter {
            staging,
            schema,
            splits,
            files: extra,
            ..
        } = self;
        let root = staging.path().to_path_buf();

        let tok_sha = sha256_hex(&tokenizer.json);
        if !tokenizer.sha256.eq_ignore_ascii_case(&tok_sha) {
            return Err(release_err(
                Path::new(TOKENIZER),
                format!(
                    "TokenizerInfo.sha256 is {} but the bytes to ship hash to {tok_sha}",
                    tokenizer.sha256
                ),
            ));
        }

        // Final shard names need the shard count and each file's hash.
        let mut shards = Vec::new();
        let mut split_infos = BTreeMap::new();
        let mut arrow_bytes = BTreeMap::new();
        for (name, w) in splits {
            let done = w.finish()?;
            let count = done.len();
            let mut info = SplitInfo::default();
            for (i, sh) in done.into_iter().enumerate() {
                let path = shard_path(&name, i, count, &sh.sha256);
                let dest = root.join(&path);
                std::fs::rename(&sh.temp_path, &dest).map_err(|e| Error::io(&dest, e))?;
                info.rows += sh.rows;
                info.tokens += sh.tokens;
                info.shards += 1;
                *arrow_bytes.entry(name.clone()).or_insert(0) += sh.arrow_bytes;
                shards.push(ShardEntry {
                    path,
                    split: name.clone(),
                    rows: sh.rows,
                    tokens: sh.tokens,
                    bytes: sh.bytes,
                    sha256: sh.sha256,
                });
            }
            split_infos.insert(name, info);
        }
        shards.sort_by(|a, b| a.path.cmp(&b.path));
        let data = root.join(DATA_DIR);
        if shards.is_empty() {
            // An empty `data/` would be an unlisted directory: a release holds only what
            // its manifest lists.
            std::fs::remove_dir(&data).map_err(|e| Error::io(&data, e))?;
        } else {
            sync_dir(&data)?;
        }

        let rows: u64 = shards.iter().map(|s| s.rows).sum();
        let tokens: u64 = shards.iter().map(|s| s.tokens).sum();
        if stats.docs_out != rows || stats.tokens != tokens {
            return Err(release_err(
                &root,
                format!(
                    "stats say {} documents / {} tokens written, the shards hold {rows} / {tokens}",
                    stats.docs_out, stats.tokens
                ),
            ));
        }

        staging.write_file(TOKENIZER, &tokenizer.json)?;
        let mut files: Vec<FileEntry> = extra.into_values().collect();
        files.push(FileEntry {
            path: TOKENIZER.into(),
            bytes: tokenizer.json.len() as u64,
            sha256: tok_sha.clone(),
        });

        let mut manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            tool_version: crate::TOOL_VERSION.into(),
            schema: SchemaInfo {
                name: schema.name.clone(),
                version: schema.version,
                sha256: schema.sha256.clone(),
            },
            config,
            tokenizer: TokenizerEntry {
                name: tokenizer.name.clone(),
                sha256: tok_sha,
                file: TOKENIZER.into(),
            },
            stats: stats.clone(),
            splits: split_infos,
            shards,
            files,
        };

        // The card is rendered from the manifest (minus its own entry) and then listed.
        let card = card::render(&manifest, schema, &arrow_bytes);
        staging.write_file(CARD, card.as_bytes())?;
        manifest.files.push(FileEntry {
            path: CARD.into(),
            bytes: card.len() as u64,
            sha256: sha256_hex(card.as_bytes()),
        });
        manifest.files.sort_by(|a, b| a.path.cmp(&b.path));

        let manifest_bytes = manifest.to_bytes()?;
        staging.write_file(MANIFEST, &manifest_bytes)?;
        let manifest_sha = sha256_hex(&manifest_bytes);

        let sums = sums::render(
            manifest
                .shards
                .iter()
                .map(|s| (s.path.as_str(), s.sha256.as_str()))
                .chain(
                    manifest
                        .files
                        .iter()
                        .map(|f| (f.path.as_str(), f.sha256.as_str())),
                )
                .chain([(MANIFEST, manifest_sha.as_str())]),
        );
        // Written last: a release without SHA256SUMS is never complete.
        staging.write_file(SUMS, sums.as_bytes())?;

        staging.publish()?;
        Ok(manifest)
    }
}
