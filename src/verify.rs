//! Stage `verify`: check a release directory completely and list every problem.
//!
//! A release may come from anywhere, so nothing in it is trusted: the manifest is read
//! within size and depth limits, every path is checked before it is opened, no symlink is
//! followed, every byte is hashed, every shard footer is decoded, and anything in the
//! directory that no list mentions is a problem. Checks go on after a failure so that the
//! report is complete.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use arrow::array::{Array, Int32Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::release::manifest::{read_manifest, Manifest};
use crate::release::paths::{
    check_rel_path, check_split_name, parse_shard_path, CARD, DATA_DIR, MANIFEST, SUMS, TOKENIZER,
};
use crate::release::schema::{document_schema, DocumentSchema};
use crate::release::{sums, FORMAT_VERSION};

/// Largest `SHA256SUMS` read (the manifest's own limit is in `read_manifest`); a real one
/// is ~100 bytes per file.
const MAX_SUMS_BYTES: u64 = 16 << 20;

/// What `verify` found. The release is good iff `problems` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// One line per problem, each starting with the path it concerns.
    pub problems: Vec<String>,
    /// Distinct files whose bytes were hashed.
    pub files_checked: usize,
    /// Rows counted from the footers of the shards that could be read.
    pub rows: u64,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Size and hash of a file that passed the path checks.
#[derive(Debug, Clone)]
struct Facts {
    bytes: u64,
    sha256: String,
}

/// An entry the manifest lists (shard or file).
#[derive(Debug, Clone)]
struct Listed {
    bytes: u64,
    sha256: String,
}

struct Verifier<'a> {
    root: PathBuf,
    schema: &'a DocumentSchema,
    problems: Vec<String>,
    /// Per path: `None` once a problem was reported for it (not checked again).
    facts: BTreeMap<String, Option<Facts>>,
    rows: u64,
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Check a whole release. `Err` only if `dir` is not a directory; everything wrong inside
/// it is listed in the report.
pub fn verify(dir: &Path) -> Result<VerifyReport> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Release {
            path: dir.to_path_buf(),
            reason: "is not a directory".into(),
        });
    }
    let schema = document_schema()?;
    let mut v = Verifier {
        root: dir.to_path_buf(),
        schema,
        problems: Vec::new(),
        facts: BTreeMap::new(),
        rows: 0,
    };

    let manifest = match read_manifest(dir) {
        Ok(m) => Some(m),
        Err(e) => {
            v.problem(format!("{MANIFEST}: {}", short_error(&e)));
            None
        }
    };
    let listed = match &manifest {
        Some(m) => v.check_manifest(m),
        None => BTreeMap::new(),
    };
    let sums_paths = v.check_sums(manifest.is_some().then_some(&listed));

    // Everything some list names; with no readable manifest, SHA256SUMS is the only list.
    let mut known: BTreeSet<String> = listed.keys().cloned().collect();
    if manifest.is_none() {
        known.extend(sums_paths);
    }
    v.check_unlisted(&known);

    let files_checked = v.facts.values().filter(|f| f.is_some()).count();
    Ok(VerifyReport {
        problems: v.problems,
        files_checked,
        rows: v.rows,
    })
}

/// An error's message without the absolute path prefix, for a report about one release.
fn short_error(e: &Error) -> String {
    match e {
        Error::Release { reason, .. } => reason.clone(),
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

impl Verifier<'_> {
    fn problem(&mut self, p: String) {
        self.problems.push(p);
    }

    /// Check a release-relative path and hash the file behind it: the path must be
    /// syntactically safe, every directory on the way a real directory (not a symlink),
    /// and the file a regular file. Cached; each path's problems are reported once.
    fn file(&mut self, rel: &str) -> Option<Facts> {
        if let Some(cached) = self.facts.get(rel) {
            return cached.clone();
        }
        let facts = match self.inspect_file(rel) {
            Ok(f) => Some(f),
            Err(why) => {
                self.problem(why);
                None
            }
        };
        self.facts.insert(rel.to_string(), facts.clone());
        facts
    }

    fn inspect_file(&self, rel: &str) -> std::result::Result<Facts, String> {
        if let Some(why) = check_rel_path(rel) {
            // SHA256SUMS lines are path-checked while parsed, so only the manifest gets here.
            return Err(format!("{MANIFEST}: {why}"));
        }
        let mut path = self.root.clone();
        let comps: Vec<&str> = rel.split('/').collect();
        for (i, comp) in comps.iter().enumerate() {
            path.push(comp);
            let last = i + 1 == comps.len();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| {
                let so_far = comps[..=i].join("/");
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!("{rel}: missing ({so_far} does not exist)")
                } else {
                    format!("{rel}: cannot stat {so_far}: {e}")
                }
            })?;
            let ft = meta.file_type();
            if ft.is_symlink() {
                return Err(format!("{rel}: {} is a symlink", comps[..=i].join("/")));
            }
            if !last && !ft.is_dir() {
                return Err(format!(
                    "{rel}: {} is not a directory",
                    comps[..=i].join("/")
                ));
            }
            if last && !ft.is_file() {
                return Err(format!("{rel}: not a regular file"));
            }
        }
        hash_file(&path).map_err(|e| format!("{rel}: cannot read: {e}"))
    }

    /// Everything about the manifest's own content, its listed files and its shards.
    /// Returns the listed paths (shards and files, plus `manifest.json`).
    fn check_manifest(&mut self, m: &Manifest) -> BTreeMap<String, Listed> {
        let s = self.schema;
        if m.schema.sha256 != s.sha256 || m.schema.version != s.version || m.schema.name != s.name {
            self.problem(format!(
                "{MANIFEST}: schema is {} v{} ({}), this quire knows {} v{} ({})",
                m.schema.name, m.schema.version, m.schema.sha256, s.name, s.version, s.sha256
            ));
        }

        // Every listed path, once; a second listing is a problem whatever its hash.
        let mut listed: BTreeMap<String, Listed> = BTreeMap::new();
        let entries = m
            .shards
            .iter()
            .map(|e| (e.path.as_str(), e.bytes, e.sha256.as_str()))
            .chain(
                m.files
                    .iter()
                    .map(|e| (e.path.as_str(), e.bytes, e.sha256.as_str())),
            );
        for (path, bytes, sha256) in entries {
            if let Some(prev) = listed.get(path) {
                let how = if prev.sha256 == sha256 && prev.bytes == bytes {
                    "with the same hash"
                } else {
                    "with conflicting hashes"
                };
                self.problem(format!(
                    "{MANIFEST}: {path} is listed more than once ({how})"
                ));
                continue;
            }
            if !is_sha256_hex(sha256) {
                self.problem(format!(
                    "{MANIFEST}: {path} has a malformed sha256 {sha256:?}"
                ));
            }
            if path == MANIFEST || path == SUMS {
                self.problem(format!(
                    "{MANIFEST}: lists {path}, which cannot list itself"
                ));
            }
            listed.insert(
                path.to_string(),
                Listed {
                    bytes,
                    sha256: sha256.to_string(),
                },
            );
        }
        if !is_sorted(m.shards.iter().map(|e| &e.path)) {
            self.problem(format!("{MANIFEST}: shards are not sorted by path"));
        }
        if !is_sorted(m.files.iter().map(|e| &e.path)) {
            self.problem(format!("{MANIFEST}: files are not sorted by path"));
        }
        for f in &m.files {
            if f.path.starts_with(&format!("{DATA_DIR}/")) {
                self.problem(format!(
                    "{MANIFEST}: {} is listed as a file but {DATA_DIR}/ holds only shards",
                    f.path
                ));
            }
        }
        if !m.files.iter().any(|f| f.path == CARD) {
            self.problem(format!("{MANIFEST}: does not list {CARD}"));
        }
        if m.tokenizer.file != TOKENIZER {
            self.problem(format!(
                "{MANIFEST}: tokenizer.file is {:?}, expected {TOKENIZER:?}",
                m.tokenizer.file
            ));
        }
        match m.files.iter().find(|f| f.path == TOKENIZER) {
            None => self.problem(format!("{MANIFEST}: does not list {TOKENIZER}")),
            Some(f) if f.sha256 != m.tokenizer.sha256 => self.problem(format!(
                "{MANIFEST}: tokenizer.sha256 {} differs from the listed {TOKENIZER} {}",
                m.tokenizer.sha256, f.sha256
            )),
            Some(_) => {}
        }

        // Sizes and hashes of everything listed.
        for (path, entry) in &listed {
            let Some(facts) = self.file(path) else {
                continue;
            };
            if facts.bytes != entry.bytes {
                self.problem(format!(
                    "{path}: {} bytes, manifest says {}",
                    facts.bytes, entry.bytes
                ));
            }
            if facts.sha256 != entry.sha256 {
                self.problem(format!(
                    "{path}: sha256 {}, manifest says {}",
                    facts.sha256, entry.sha256
                ));
            }
        }

        self.check_shards(m);
        listed
    }

    fn check_shards(&mut self, m: &Manifest) {
        // split -> (index -> count) as named, and the totals the shard entries add up to.
        let mut names: BTreeMap<String, BTreeMap<usize, usize>> = BTreeMap::new();
        let mut totals: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        for e in &m.shards {
            let t = totals.entry(e.split.clone()).or_default();
            t.0 += e.rows;
            t.1 += e.tokens;
            t.2 += 1;
            match parse_shard_path(&e.path) {
                None => self.problem(format!(
                    "{}: not a shard name (data/<split>-<i>-of-<n>-<16 hex>.parquet)",
                    e.path
                )),
                Some(n) => {
                    if n.split != e.split {
                        self.problem(format!(
                            "{}: named for split {:?} but listed under split {:?}",
                            e.path, n.split, e.split
                        ));
                    }
                    if !e.sha256.starts_with(&n.hash_prefix) {
                        self.problem(format!(
                            "{}: name hash {} does not match the listed sha256 {}",
                            e.path, n.hash_prefix, e.sha256
                        ));
                    }
                    if let Some(facts) = self.facts.get(&e.path).cloned().flatten() {
                        if !facts.sha256.starts_with(&n.hash_prefix) {
                            self.problem(format!(
                                "{}: name hash {} does not match the file's sha256 {}",
                                e.path, n.hash_prefix, facts.sha256
                            ));
                        }
                    }
                    let idx = names.entry(e.split.clone()).or_default();
                    if idx.insert(n.index, n.count).is_some() {
                        self.problem(format!(
                            "{}: split {:?} has two shards numbered {}",
                            e.path, e.split, n.index
                        ));
                    }
                }
            }
            if self.facts.get(&e.path).is_some_and(|f| f.is_some()) {
                self.check_shard_file(&e.path, &e.split, e.rows, e.tokens);
            }
        }
        for (split, idx) in &names {
            let n = m.shards.iter().filter(|e| &e.split == split).count();
            let consistent = idx
                .iter()
                .enumerate()
                .all(|(i, (index, count))| i == *index && *count == n);
            if !consistent || idx.len() != n {
                self.problem(format!(
                    "{MANIFEST}: the {n} shards of split {split:?} are not numbered 0..{n} of {n}"
                ));
            }
        }

        // The split summary and the stats must agree with the shard list.
        for split in m.splits.keys() {
            if let Some(why) = check_split_name(split) {
                self.problem(format!("{MANIFEST}: {why}"));
            }
        }
        let all: BTreeSet<&String> = m.splits.keys().chain(totals.keys()).collect();
        for split in all {
            let (rows, tokens, shards) = totals.get(split).copied().unwrap_or_default();
            match m.splits.get(split) {
                None => self.problem(format!(
                    "{MANIFEST}: shards of split {split:?} but no such entry in `splits`"
                )),
                Some(info) => {
                    if (info.rows, info.tokens, info.shards) != (rows, tokens, shards) {
                        self.problem(format!(
                            "{MANIFEST}: splits.{split} says {} rows / {} tokens / {} shards, \
                             the shards add up to {rows} / {tokens} / {shards}",
                            info.rows, info.tokens, info.shards
                        ));
                    }
                }
            }
        }
        let rows: u64 = m.shards.iter().map(|e| e.rows).sum();
        let tokens: u64 = m.shards.iter().map(|e| e.tokens).sum();
        if m.stats.docs_out != rows {
            self.problem(format!(
                "{MANIFEST}: stats.docs_out is {}, the shards hold {rows} rows",
                m.stats.docs_out
            ));
        }
        if m.stats.tokens != tokens {
            self.problem(format!(
                "{MANIFEST}: stats.tokens is {}, the shards hold {tokens} tokens",
                m.stats.tokens
            ));
        }
    }

    /// Decode a shard's footer and its `n_tokens` column. Panics inside the Parquet
    /// decoder (hostile input has found them before) are turned into a problem.
    fn check_shard_file(&mut self, rel: &str, split: &str, rows: u64, tokens: u64) {
        let path = self.root.join(rel);
        let schema = self.schema;
        let result = std::panic::catch_unwind(|| inspect_shard(&path, schema, split, rows, tokens));
        match result {
            Ok(Ok((found_rows, problems))) => {
                self.rows += found_rows;
                for p in problems {
                    self.problem(format!("{rel}: {p}"));
                }
            }
            Ok(Err(e)) => self.problem(format!("{rel}: not a readable Parquet file: {e}")),
            Err(_) => self.problem(format!("{rel}: the Parquet decoder crashed on this file")),
        }
    }

    /// `SHA256SUMS`: present, well-formed, every line matching its file, and listing
    /// exactly the release's files (the manifest's, plus `manifest.json`). Returns the
    /// paths it lists.
    fn check_sums(&mut self, listed: Option<&BTreeMap<String, Listed>>) -> Vec<String> {
        let path = self.root.join(SUMS);
        let bytes = match read_regular_limited(&path, MAX_SUMS_BYTES) {
            Ok(b) => b,
            Err(why) => {
                self.problem(format!("{SUMS}: {why}"));
                return Vec::new();
            }
        };
        let (lines, problems) = sums::parse(&bytes);
        for p in problems {
            self.problem(p);
        }
        if !is_sorted(lines.iter().map(|l| &l.path)) {
            self.problem(format!("{SUMS}: lines are not sorted by path"));
        }
        let mut seen = BTreeSet::new();
        for l in &lines {
            if !seen.insert(l.path.clone()) {
                self.problem(format!("{SUMS}: line {} lists {} again", l.line, l.path));
                continue;
            }
            if l.path == SUMS {
                self.problem(format!("{SUMS}: line {} lists {SUMS} itself", l.line));
                continue;
            }
            if let Some(facts) = self.file(&l.path) {
                if facts.sha256 != l.sha256 {
                    self.problem(format!(
                        "{}: sha256 {}, {SUMS} line {} says {}",
                        l.path, facts.sha256, l.line, l.sha256
                    ));
                }
            }
        }
        if let Some(listed) = listed {
            let expected: BTreeSet<&str> = listed
                .keys()
                .map(String::as_str)
                .chain([MANIFEST])
                .collect();
            for p in &expected {
                if !seen.contains(*p) {
                    self.problem(format!("{SUMS}: does not list {p}"));
                }
            }
            for p in &seen {
                if !expected.contains(p.as_str()) && p != SUMS {
                    self.problem(format!("{SUMS}: lists {p}, which the manifest does not"));
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Walk the directory (never following symlinks) and report anything not accounted
    /// for: files no list names, directories holding nothing listed, symlinks, sockets...
    fn check_unlisted(&mut self, known: &BTreeSet<String>) {
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for p in known {
            let mut cur = p.as_str();
            while let Some((parent, _)) = cur.rsplit_once('/') {
                dirs.insert(parent.to_string());
                cur = parent;
            }
        }
        let mut stack: Vec<(PathBuf, String)> = vec![(self.root.clone(), String::new())];
        while let Some((dir, prefix)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) => {
                    self.problem(format!("{}: cannot list: {e}", display_dir(&prefix)));
                    continue;
                }
            };
            let mut children: Vec<(String, std::fs::FileType)> = Vec::new();
            for entry in entries {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        self.problem(format!("{}: cannot list: {e}", display_dir(&prefix)));
                        continue;
                    }
                };
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    self.problem(format!(
                        "{}: entry {:?} has a name that is not UTF-8",
                        display_dir(&prefix),
                        entry.file_name()
                    ));
                    continue;
                };
                match entry.file_type() {
                    Ok(ft) => children.push((name, ft)),
                    Err(e) => self.problem(format!("{prefix}{name}: cannot stat: {e}")),
                }
            }
            // Sorted so the report is in a stable order.
            children.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, ft) in children {
                let rel = format!("{prefix}{name}");
                let top_level_own = prefix.is_empty() && (name == MANIFEST || name == SUMS);
                if known.contains(&rel) || top_level_own {
                    // Listed paths were fully checked (type included) by `file`; the two
                    // top-level files by `read_manifest` / `check_sums`.
                    continue;
                }
                if ft.is_symlink() {
                    self.problem(format!("{rel}: unlisted symlink"));
                } else if ft.is_dir() {
                    if dirs.contains(&rel) {
                        stack.push((dir.join(&name), format!("{rel}/")));
                    } else {
                        self.problem(format!("{rel}/: unlisted directory"));
                    }
                } else if ft.is_file() {
                    self.problem(format!("{rel}: unlisted file"));
                } else {
                    self.problem(format!("{rel}: unlisted special file"));
                }
            }
        }
    }
}

fn display_dir(prefix: &str) -> String {
    if prefix.is_empty() {
        ".".to_string()
    } else {
        prefix.to_string()
    }
}

fn is_sorted<'a>(mut it: impl Iterator<Item = &'a String>) -> bool {
    let Some(mut prev) = it.next() else {
        return true;
    };
    for cur in it {
        if cur <= prev {
            return false;
        }
        prev = cur;
    }
    true
}

/// Open a file without following a final symlink (on Linux), so a path checked a moment
/// ago cannot be swapped for a link to somewhere else.
fn open_nofollow(path: &Path) -> std::io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW);
    }
    opts.open(path)
}

fn hash_file(path: &Path) -> std::io::Result<Facts> {
    let mut f = open_nofollow(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Facts {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Read a top-level regular file of at most `limit` bytes.
fn read_regular_limited(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "missing".to_string()
        } else {
            e.to_string()
        }
    })?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > limit {
        return Err(format!(
            "{} bytes, above the {limit} byte limit",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    open_nofollow(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err("grew above the size limit while read".into());
    }
    Ok(bytes)
}

/// Footer, schema, metadata, row count and token sum of one shard. Returns the footer's
/// row count and the problems found; `Err` if the file cannot be decoded at all.
fn inspect_shard(
    path: &Path,
    schema: &DocumentSchema,
    split: &str,
    rows: u64,
    tokens: u64,
) -> std::result::Result<(u64, Vec<String>), String> {
    let mut problems = Vec::new();
    let file = open_nofollow(path).map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| e.to_string())?;
    let md = builder.metadata().clone();
    let footer_rows = u64::try_from(md.file_metadata().num_rows()).unwrap_or(0);
    let group_rows: i64 = md.row_groups().iter().map(|g| g.num_rows()).sum();
    if u64::try_from(group_rows).ok() != Some(footer_rows) {
        problems.push(format!(
            "footer says {footer_rows} rows but its row groups hold {group_rows}"
        ));
    }
    if footer_rows != rows {
        problems.push(format!("{footer_rows} rows, manifest says {rows}"));
    }

    let kv: BTreeMap<&str, Option<&str>> = md
        .file_metadata()
        .key_value_metadata()
        .map(|kvs| {
            kvs.iter()
                .map(|kv| (kv.key.as_str(), kv.value.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    let version = FORMAT_VERSION.to_string();
    let expect: [(&str, Option<&str>); 4] = [
        ("quire.format_version", Some(&version)),
        ("quire.tool_version", None),
        ("quire.schema", Some(&schema.sha256)),
        ("quire.split", Some(split)),
    ];
    for (key, want) in expect {
        match (kv.get(key).copied().flatten(), want) {
            (None, _) => problems.push(format!("metadata {key} is missing")),
            (Some(got), Some(want)) if got != want => {
                problems.push(format!("metadata {key} is {got:?}, expected {want:?}"))
            }
            _ => {}
        }
    }

    let found = builder.schema().clone();
    if found.fields() != schema.arrow.fields() {
        problems.push(format!(
            "Arrow schema differs from {} v{}",
            schema.name, schema.version
        ));
        // Without the right schema the token column cannot be located reliably.
        return Ok((footer_rows, problems));
    }
    let idx = found.index_of("n_tokens").map_err(|e| e.to_string())?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [idx]);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| e.to_string())?;
    let mut sum: u64 = 0;
    let mut read_rows: u64 = 0;
    for batch in reader {
        let batch = batch.map_err(|e| format!("reading n_tokens: {e}"))?;
        let Some(col) = batch.column(0).as_any().downcast_ref::<Int32Array>() else {
            return Err("n_tokens is not an int32 column".into());
        };
        read_rows += col.len() as u64;
        for v in col.iter() {
            match v.map(u64::try_from) {
                Some(Ok(n)) => sum += n,
                _ => {
                    problems.push("n_tokens holds a null or negative value".into());
                    return Ok((footer_rows, problems));
                }
            }
        }
    }
    if read_rows != footer_rows {
        problems.push(format!(
            "{read_rows} rows decoded, footer says {footer_rows}"
        ));
    }
    if sum != tokens {
        problems.push(format!("n_tokens sums to {sum}, manifest says {tokens}"));
    }
    Ok((footer_rows, problems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::test_support::write_sample;
    use serde_json::Value;
    use std::io::Write;

    fn fresh() -> (tempfile::TempDir, PathBuf, Manifest) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rel");
        let m = write_sample(&out);
        (dir, out, m)
    }

    fn problems(dir: &Path) -> Vec<String> {
        verify(dir).unwrap().problems
    }

    /// Assert the release is rejected with a problem mentioning `needle`.
    fn caught(dir: &Path, needle: &str) {
        let p = problems(dir);
        assert!(
            p.iter().any(|l| l.contains(needle)),
            "no problem mentions {needle:?}: {p:#?}"
        );
    }

    fn sha_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// Replace `manifest.json` and update its line in SHA256SUMS, as an attacker (or
    /// tamper.py) would: only the manifest-level checks can then catch the edit.
    fn write_manifest_consistently(out: &Path, bytes: &[u8]) {
        let old = sha_hex(&std::fs::read(out.join(MANIFEST)).unwrap());
        std::fs::write(out.join(MANIFEST), bytes).unwrap();
        let sums = std::fs::read_to_string(out.join(SUMS)).unwrap();
        std::fs::write(out.join(SUMS), sums.replace(&old, &sha_hex(bytes))).unwrap();
    }

    fn edit_manifest(out: &Path, f: impl FnOnce(&mut Value)) {
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(out.join(MANIFEST)).unwrap()).unwrap();
        f(&mut v);
        write_manifest_consistently(out, &serde_json::to_vec_pretty(&v).unwrap());
    }

    #[test]
    fn pristine_release_verifies() {
        let (_d, out, m) = fresh();
        let r = verify(&out).unwrap();
        assert!(r.is_ok(), "{:#?}", r.problems);
        assert_eq!(r.rows, 5);
        assert_eq!(r.rows, m.rows());
        // 2 shards + README, tokenizer, extra file + manifest.json
        assert_eq!(r.files_checked, 6);
    }

    #[test]
    fn not_a_directory_is_an_error() {
        let (_d, out, _) = fresh();
        assert!(verify(&out.join(MANIFEST)).is_err());
        assert!(verify(&out.join("nope")).is_err());
    }

    #[test]
    fn shard_byte_damage() {
        type Damage = fn(&mut Vec<u8>);
        let cases: [(&str, Damage); 6] = [
            ("bit flip mid-shard", |b| {
                let i = b.len() / 2;
                b[i] ^= 0x10
            }),
            ("bit flip in footer", |b| {
                let i = b.len() - 12;
                b[i] ^= 0x01
            }),
            ("truncate 50%", |b| b.truncate(b.len() / 2)),
            ("truncate 1 byte", |b| {
                b.pop();
            }),
            ("append", |b| b.extend_from_slice(b"junk")),
            ("zero length", |b| b.clear()),
        ];
        for (name, damage) in cases {
            let (_d, out, m) = fresh();
            let shard = out.join(&m.shards[0].path);
            let mut bytes = std::fs::read(&shard).unwrap();
            damage(&mut bytes);
            std::fs::write(&shard, &bytes).unwrap();
            let p = problems(&out);
            assert!(
                p.iter().any(|l| l.starts_with(&m.shards[0].path)),
                "{name}: {p:#?}"
            );
        }
    }

    #[test]
    fn deleted_shard() {
        let (_d, out, m) = fresh();
        std::fs::remove_file(out.join(&m.shards[1].path)).unwrap();
        caught(&out, "missing");
    }

    #[test]
    fn extra_files_and_dirs() {
        let (_d, out, m) = fresh();
        std::fs::copy(out.join(&m.shards[0].path), out.join("data/extra.parquet")).unwrap();
        std::fs::write(out.join("notes.txt"), b"hi").unwrap();
        std::fs::create_dir(out.join("empty")).unwrap();
        std::fs::write(out.join("dedup/more.jsonl"), b"{}").unwrap();
        let p = problems(&out);
        for needle in [
            "data/extra.parquet: unlisted file",
            "notes.txt: unlisted file",
            "empty/: unlisted directory",
            "dedup/more.jsonl: unlisted file",
        ] {
            assert!(p.iter().any(|l| l == needle), "{needle}: {p:#?}");
        }
    }

    #[test]
    fn swapped_and_replaced_shards() {
        let (_d, out, m) = fresh();
        let (a, b) = (out.join(&m.shards[0].path), out.join(&m.shards[1].path));
        let tmp = out.join("swap");
        std::fs::rename(&a, &tmp).unwrap();
        std::fs::rename(&b, &a).unwrap();
        std::fs::rename(&tmp, &b).unwrap();
        caught(&out, "does not match the file's sha256");
        caught(&out, "metadata quire.split");

        let (_d, out, m) = fresh();
        std::fs::copy(out.join(&m.shards[1].path), out.join(&m.shards[0].path)).unwrap();
        caught(&out, &format!("{}: sha256", m.shards[0].path));
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_shard() {
        let (d, out, m) = fresh();
        let shard = out.join(&m.shards[0].path);
        let outside = d.path().join("outside.parquet");
        std::fs::rename(&shard, &outside).unwrap();
        std::os::unix::fs::symlink(&outside, &shard).unwrap();
        caught(&out, "is a symlink");

        // A symlinked directory on the way is refused too, even with identical content.
        let (d, out, m) = fresh();
        let moved = d.path().join("data_elsewhere");
        std::fs::rename(out.join("data"), &moved).unwrap();
        std::os::unix::fs::symlink(&moved, out.join("data")).unwrap();
        caught(&out, &format!("{}: data is a symlink", m.shards[0].path));
    }

    #[test]
    fn escaping_manifest_paths() {
        let (d, out, m) = fresh();
        // Identical bytes outside the release, reached through `..`.
        let outside = d.path().join("_outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::copy(out.join(&m.shards[0].path), outside.join("x.parquet")).unwrap();
        edit_manifest(&out, |v| {
            v["shards"][0]["path"] = Value::from("../_outside/x.parquet");
        });
        caught(&out, "contains `..`");

        let passwd = std::fs::read("/etc/passwd").unwrap_or_default();
        for evil in ["/etc/passwd", "../../../../../../../../../../etc/passwd"] {
            let (_d, out, _) = fresh();
            edit_manifest(&out, |v| {
                v["files"][0]["path"] = Value::from(evil);
                v["files"][0]["bytes"] = Value::from(passwd.len());
                v["files"][0]["sha256"] = Value::from(sha_hex(&passwd));
            });
            let p = problems(&out);
            assert!(p.iter().any(|l| l.contains(evil)), "{evil}: {p:#?}");
            // The entry it replaced is now an unlisted file as well.
            assert!(p.iter().any(|l| l.contains("README.md")), "{p:#?}");
        }
    }

    #[test]
    fn sums_damage() {
        let (_d, out, _) = fresh();
        std::fs::remove_file(out.join(SUMS)).unwrap();
        caught(&out, "SHA256SUMS: missing");

        let (_d, out, m) = fresh();
        let sums = std::fs::read_to_string(out.join(SUMS)).unwrap();
        let kept: String = sums
            .lines()
            .filter(|l| !l.ends_with(&m.shards[0].path))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(out.join(SUMS), kept).unwrap();
        caught(
            &out,
            &format!("SHA256SUMS: does not list {}", m.shards[0].path),
        );

        let (_d, out, _) = fresh();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(out.join(SUMS))
            .unwrap();
        writeln!(f, "{}  zzz", "0".repeat(64)).unwrap();
        caught(&out, "zzz: missing");
        caught(&out, "SHA256SUMS: lists zzz");

        let (_d, out, _) = fresh();
        std::fs::write(out.join(SUMS), b"garbage\n").unwrap();
        caught(&out, "SHA256SUMS line 1");
    }

    #[test]
    fn manifest_damage() {
        let (_d, out, _) = fresh();
        write_manifest_consistently(&out, b"this is not json");
        caught(&out, "manifest.json: is not valid JSON");

        let (_d, out, _) = fresh();
        let bytes = std::fs::read(out.join(MANIFEST)).unwrap();
        write_manifest_consistently(&out, &bytes[..bytes.len() / 2]);
        caught(&out, "manifest.json: is not valid JSON");

        let (_d, out, _) = fresh();
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        write_manifest_consistently(&out, deep.as_bytes());
        caught(&out, "nests 100000 levels deep");

        let (_d, out, _) = fresh();
        std::fs::remove_file(out.join(MANIFEST)).unwrap();
        caught(&out, "manifest.json: No such file");
        // With no manifest, SHA256SUMS still flags what it lists and what is extra.
        caught(&out, "manifest.json: missing");
    }

    #[test]
    fn huge_manifest_is_refused_unread() {
        let (_d, out, _) = fresh();
        // 64 MiB of fake entries, streamed so the test never holds it in memory.
        let mut f = std::io::BufWriter::new(std::fs::File::create(out.join(MANIFEST)).unwrap());
        f.write_all(b"{\"format\":\"quire-release\",\"shards\":[")
            .unwrap();
        let entry = format!(
            "{{\"path\":\"data/x.parquet\",\"sha256\":\"{}\",\"bytes\":1}},",
            "0".repeat(64)
        );
        let mut written = 0;
        while written < 64 << 20 {
            f.write_all(entry.as_bytes()).unwrap();
            written += entry.len();
        }
        f.write_all(b"{}]}").unwrap();
        drop(f);
        caught(&out, "above the 16777216 byte limit");
    }

    #[test]
    fn duplicate_entries() {
        let (_d, out, _) = fresh();
        edit_manifest(&out, |v| {
            let mut dup = v["shards"][0].clone();
            dup["sha256"] = Value::from("f".repeat(64));
            v["shards"].as_array_mut().unwrap().push(dup);
        });
        caught(&out, "listed more than once (with conflicting hashes)");
    }

    #[test]
    fn manifest_counts_must_match_the_shards() {
        let (_d, out, _) = fresh();
        edit_manifest(&out, |v| v["stats"]["docs_out"] = Value::from(6));
        caught(&out, "stats.docs_out is 6");

        let (_d, out, _) = fresh();
        edit_manifest(&out, |v| v["splits"]["train"]["rows"] = Value::from(4));
        caught(&out, "splits.train says 4 rows");

        let (_d, out, m) = fresh();
        edit_manifest(&out, |v| {
            v["shards"][0]["rows"] = Value::from(m.shards[0].rows + 1);
            v["shards"][0]["tokens"] = Value::from(m.shards[0].tokens + 1);
            v["splits"][&m.shards[0].split]["rows"] = Value::from(m.shards[0].rows + 1);
            v["splits"][&m.shards[0].split]["tokens"] = Value::from(m.shards[0].tokens + 1);
            v["stats"]["docs_out"] = Value::from(m.rows() + 1);
            v["stats"]["tokens"] = Value::from(m.shards.iter().map(|s| s.tokens).sum::<u64>() + 1);
        });
        caught(&out, "rows, manifest says");
        caught(&out, "n_tokens sums to");

        let (_d, out, _) = fresh();
        edit_manifest(&out, |v| v["format_version"] = Value::from(2));
        caught(&out, "format_version is 2");

        let (_d, out, _) = fresh();
        edit_manifest(&out, |v| {
            v["schema"]["sha256"] = Value::from("0".repeat(64))
        });
        caught(&out, "manifest.json: schema is");

        let (_d, out, _) = fresh();
        edit_manifest(&out, |v| v["surprise"] = Value::from(1));
        caught(&out, "unknown field");
    }

    #[test]
    fn every_problem_is_listed() {
        let (_d, out, m) = fresh();
        std::fs::remove_file(out.join(&m.shards[0].path)).unwrap();
        std::fs::write(out.join(&m.shards[1].path), b"PAR1").unwrap();
        std::fs::write(out.join("extra"), b"").unwrap();
        let p = problems(&out);
        assert!(p.len() >= 4, "{p:#?}");
        caught(&out, "missing");
        caught(&out, "extra: unlisted file");
        caught(&out, "not a readable Parquet file");
    }
}
