//! The build, in streaming passes over a spill file:
//!
//! 1. **read**: read → decode → article → clean (evidence inside the article only) →
//!    dedup key, in parallel over batches; each article is spilled to a temporary file
//!    in input order;
//! 2. **dedup + line statistics**: duplicates are resolved from the keys alone, then the
//!    lines of the kept articles are counted, so syndicated copies do not make each
//!    other's body look like site furniture;
//! 3. **write**: the spill is read back; the kept articles are cleaned again with the
//!    corpus statistics, language-annotated and tokenized in parallel batches, and
//!    written in order.
//!
//! Memory is bounded by the batch sizes, one key per document and the line statistics'
//! fixed-size filter, whatever the corpus size. Every parallel step keeps input order, so
//! the release does not depend on `--jobs`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::article::Article;
use crate::clean::{Cleaner, Decision, Lexicon, LineStats, Unglue, WordStats};
use crate::config::BuildConfig;
use crate::dedup::{self, ContentKey, NearDedup, Sketch, Sketcher, Verdict};
use crate::error::{Error, Result};
use crate::lang::LangId;
use crate::release::{Document, Manifest, ReleaseWriter, Stats, TokenizerInfo};
use crate::source::{self, Rejection, Unit};
use crate::tokenize::Tokenizer;

/// Documents processed together in the read pass (bounded further by [`BATCH_BYTES`]).
const BATCH_DOCS: usize = 512;
const BATCH_BYTES: usize = 32 << 20;
/// Documents cleaned, annotated and tokenized together in the write pass.
const WRITE_BATCH: usize = 256;

/// Where the build reports what happens; the CLI prints, tests collect.
pub trait Reporter: Sync {
    /// A one-line warning about one input (rejected, skipped, repaired, dropped).
    fn warn(&self, _message: &str) {}
    /// A pass started with `total` units of work (0 = unknown).
    fn start(&self, _pass: &str, _total: u64) {}
    /// `n` more units done in the current pass.
    fn advance(&self, _n: u64) {}
    /// The current pass finished.
    fn finish(&self) {}
}

/// A reporter that says nothing.
pub struct Silent;
impl Reporter for Silent {}

/// What a finished build produced.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub manifest: Manifest,
    /// Input problems (skips and rejections), in input order.
    pub problems: Vec<Rejection>,
}

/// One article after the read pass, as spilled to disk.
#[derive(Debug, Serialize, Deserialize)]
struct Spilled {
    key: ContentKey,
    article: Article,
}

/// The outcome of reading one unit.
enum ReadOutcome {
    /// An article with the sketch and length of its clean body.
    Article(Box<Spilled>, Sketch, u32),
    Empty(String, Option<String>),
    Rejected(Rejection),
}

/// One line of the dedup audit file: an article left out as a copy of another.
#[derive(Debug, Serialize)]
struct Removed {
    source: String,
    source_id: Option<String>,
    /// The release `id` of the article kept for the cluster (`null` if that one was
    /// dropped later, e.g. by a language filter).
    kept_id: Option<String>,
    kept_source: String,
    /// Share of this article's shingles found in the kept one (1 for exact copies).
    similarity: f32,
    exact: bool,
}

/// The outcome of the write pass for one kept article.
enum WriteOutcome {
    Doc(Box<Document>, BTreeMap<&'static str, u64>),
    Dropped(&'static str, String, BTreeMap<&'static str, u64>),
}

/// The stages, shared by the worker threads.
pub struct Stages {
    pub cleaner: Cleaner,
    pub lang: LangId,
    pub sketcher: Sketcher,
}

/// Corpus statistics the write pass cleans with.
struct Corpus<'a> {
    lines: Option<&'a LineStats>,
    unglue: Option<Unglue<'a>>,
}

impl Stages {
    pub fn new(cfg: &BuildConfig) -> Result<Self> {
        Ok(Stages {
            cleaner: Cleaner::new(&cfg.clean),
            lang: LangId::new(&cfg.lang),
            sketcher: Sketcher::new(&cfg.dedup)?,
        })
    }

    fn read(&self, cfg: &BuildConfig, unit: Unit) -> ReadOutcome {
        let raw = match source::decode(unit, &cfg.source) {
            Ok(raw) => raw,
            Err(rejection) => return ReadOutcome::Rejected(rejection),
        };
        let article = Article::parse(raw);
        let cleaned = self.cleaner.clean(&article, None);
        if cleaned.body().next().is_none() {
            return ReadOutcome::Empty(article.source, article.source_id);
        }
        // Near-duplicates are judged on the body as cleaned from the article alone.
        let body = cleaned
            .body()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        let sketch = self.sketcher.sketch(&body);
        let body_chars = u32::try_from(body.chars().count()).unwrap_or(u32::MAX);
        // Exact duplicates are the same article text, furniture included (re-encoded,
        // re-wrapped, re-cased copies). Bodies that match only after cleaning are the
        // near-duplicate stage's to judge: a page whose cleaning kept only a site footer
        // must not swallow its siblings.
        let key = dedup::content_key(
            &article
                .blocks
                .iter()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        ReadOutcome::Article(Box::new(Spilled { key, article }), sketch, body_chars)
    }

    fn write(
        &self,
        cfg: &BuildConfig,
        article: Article,
        corpus: &Corpus,
        tokenizer: &Tokenizer,
    ) -> Result<WriteOutcome> {
        let mut cleaned = self.cleaner.clean(&article, corpus.lines);
        if let Some(unglue) = &corpus.unglue {
            let mut texts: Vec<&mut String> = cleaned
                .blocks
                .iter_mut()
                .filter(|b| matches!(b.decision, Decision::Body | Decision::Caption))
                .map(|b| &mut b.text)
                .collect();
            unglue.repair_document(&mut texts, cfg.clean.unglue_min_share);
        }
        let annotated = self.lang.annotate(&mut cleaned);
        let mut dropped_blocks = BTreeMap::new();
        for b in &cleaned.blocks {
            if let Decision::Drop(reason) = b.decision {
                *dropped_blocks.entry(reason.as_str()).or_insert(0) += 1;
            }
        }
        if annotated.paragraphs.is_empty() {
            return Ok(WriteOutcome::Dropped(
                "empty_after_clean",
                cleaned.source,
                dropped_blocks,
            ));
        }
        if let Some(keep) = &cfg.lang.keep_langs {
            if !keep.contains(&annotated.lang) {
                return Ok(WriteOutcome::Dropped(
                    "language_filter",
                    cleaned.source,
                    dropped_blocks,
                ));
            }
        }
        let text = annotated
            .paragraphs
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n\n");
        let tokens = tokenizer.encode(&text, cfg.release.encode_chunk_bytes)?;
        let doc = Document {
            id: dedup::doc_id(&dedup::content_key(&text)),
            source: cleaned.source,
            source_id: cleaned.source_id,
            url: cleaned.url,
            title: cleaned.title,
            byline: cleaned.byline,
            published: cleaned.published,
            lang: annotated.lang,
            text,
            paragraph_langs: annotated.paragraphs.into_iter().map(|(_, l)| l).collect(),
            captions: annotated.captions,
            parallel: annotated.parallel,
            credit: cleaned.credit,
            tokens,
            dup_count: 1,
        };
        Ok(WriteOutcome::Doc(Box::new(doc), dropped_blocks))
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    *map.entry(key.to_string()).or_insert(0) += n;
}

/// Run a whole build: inputs in `cfg.inputs`, release at `cfg.output`.
pub fn build(cfg: &BuildConfig, reporter: &dyn Reporter) -> Result<BuildReport> {
    cfg.validate()?;
    let tokenizer = match &cfg.tokenizer {
        Some(path) => Tokenizer::from_file(path)?,
        None => Tokenizer::embedded()?,
    };
    in_pool(cfg, || build_with(cfg, &tokenizer, reporter))
}

/// Run `f` on a pool of `cfg.jobs` worker threads (0 = one per core).
fn in_pool<T: Send>(cfg: &BuildConfig, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs)
        .build()
        .map_err(|e| Error::Config(format!("cannot start {} worker threads: {e}", cfg.jobs)))?
        .install(f)
}

/// The read pass's results.
struct ReadPass {
    stats: Stats,
    problems: Vec<Rejection>,
    near: NearDedup,
    spilled: u64,
    /// With `quire dedup`: every decoded article's id and its spill index, in input order.
    log: Option<Vec<(String, Option<u64>)>>,
}

/// Where a build keeps its temporary files: beside the output, on the same disk.
fn work_dir(output: &Path) -> Result<tempfile::TempDir> {
    let parent = output_parent(output);
    fs_err::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    tempfile::Builder::new()
        .prefix(".quire-work-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))
}

fn build_with(
    cfg: &BuildConfig,
    tokenizer: &Tokenizer,
    reporter: &dyn Reporter,
) -> Result<BuildReport> {
    let stages = Stages::new(cfg)?;
    let work = work_dir(&cfg.output)?;
    let spill_path = work.path().join("articles.jsonl");
    let ReadPass {
        mut stats,
        problems,
        near,
        spilled,
        ..
    } = read_pass(cfg, &stages, &spill_path, work.path(), false, reporter)?;
    let clusters = near.resolve()?;

    // Corpus statistics over one article per duplicate cluster, so syndicated copies do
    // not make each other's body look like furniture.
    let mut lines = cfg
        .clean
        .corpus_lines
        .then(|| LineStats::new(cfg.clean.line_filter_mib));
    let mut words = cfg
        .clean
        .unglue
        .then(|| WordStats::new(cfg.clean.word_table_cap));
    if lines.is_some() || words.is_some() {
        for_each_spilled(&spill_path, |index, s| {
            if matches!(clusters.verdict(index), Verdict::Keep { .. }) {
                if let Some(lines) = &mut lines {
                    lines.add_document(s.article.blocks.iter().map(|b| b.text.as_str()));
                }
                if let Some(words) = &mut words {
                    for b in &s.article.blocks {
                        words.add_text(&b.text);
                    }
                }
            }
            Ok(())
        })?;
    }
    let lexicon = Lexicon::from_tokenizer_json(tokenizer.json());
    let corpus = Corpus {
        lines: lines.as_ref(),
        unglue: words.as_ref().map(|w| Unglue::new(w, &lexicon, 3)),
    };

    let mut writer = ReleaseWriter::create(&cfg.output, &cfg.release)?;
    reporter.start("write", spilled);
    // For the audit file: release ids and sources of the articles that head a cluster of
    // two or more, and the removed copies (memory grows with duplicates, not documents).
    let mut kept: std::collections::HashMap<u64, (Option<String>, String)> = Default::default();
    let mut removed: Vec<(u64, Removed, u64)> = Vec::new();
    let mut pending: Vec<(u64, Article, u32, ContentKey)> = Vec::with_capacity(WRITE_BATCH);
    let mut flush = |pending: &mut Vec<(u64, Article, u32, ContentKey)>,
                     stats: &mut Stats,
                     kept: &mut std::collections::HashMap<u64, (Option<String>, String)>|
     -> Result<()> {
        let outcomes: Vec<Result<(u64, WriteOutcome, u32, ContentKey)>> = std::mem::take(pending)
            .into_par_iter()
            .map(|(i, a, dup_count, key)| {
                Ok((i, stages.write(cfg, a, &corpus, tokenizer)?, dup_count, key))
            })
            .collect();
        let n = outcomes.len() as u64;
        for outcome in outcomes {
            let (index, outcome, dup_count, key) = outcome?;
            let blocks = match outcome {
                WriteOutcome::Dropped(reason, source, blocks) => {
                    bump(&mut stats.dropped, reason, 1);
                    reporter.warn(&format!("dropped `{source}` ({reason})"));
                    // Only cluster heads are looked up by the audit file.
                    if dup_count > 1 {
                        kept.insert(index, (None, source));
                    }
                    blocks
                }
                WriteOutcome::Doc(mut doc, blocks) => {
                    doc.dup_count = dup_count;
                    stats.docs_out += 1;
                    stats.tokens += doc.tokens.len() as u64;
                    stats.captions += doc.captions.len() as u64;
                    stats.parallel_pairs += doc.parallel.len() as u64;
                    bump(&mut stats.languages, &doc.lang, 1);
                    writer.write(split_of(cfg, &key), &doc)?;
                    if dup_count > 1 {
                        kept.insert(index, (Some(doc.id.clone()), doc.source.clone()));
                    }
                    blocks
                }
            };
            for (reason, n) in blocks {
                bump(&mut stats.blocks_dropped, reason, n);
            }
        }
        reporter.advance(n);
        Ok(())
    };
    for_each_spilled(&spill_path, |index, s| {
        match clusters.verdict(index) {
            Verdict::Keep { dup_count } => {
                pending.push((index, s.article, dup_count, s.key));
                if pending.len() >= WRITE_BATCH {
                    flush(&mut pending, &mut stats, &mut kept)?;
                }
            }
            Verdict::Duplicate {
                kept_index,
                similarity,
            } => {
                let exact = clusters.is_exact_copy(index);
                let reason = if exact {
                    "exact_duplicate"
                } else {
                    "near_duplicate"
                };
                bump(&mut stats.dropped, reason, 1);
                let entry = Removed {
                    source: s.article.source,
                    source_id: s.article.source_id,
                    kept_id: None,
                    kept_source: String::new(),
                    similarity,
                    exact,
                };
                removed.push((index, entry, kept_index));
                reporter.advance(1);
            }
        }
        Ok(())
    })?;
    flush(&mut pending, &mut stats, &mut kept)?;
    reporter.finish();

    let mut audit = Vec::new();
    for (_, mut entry, kept_index) in removed {
        if let Some((id, source)) = kept.get(&kept_index) {
            entry.kept_id = id.clone();
            entry.kept_source = source.clone();
        }
        serde_json::to_writer(&mut audit, &entry)?;
        audit.push(b'\n');
    }
    writer.add_file(DEDUP_AUDIT, &audit)?;

    let info = TokenizerInfo {
        name: tokenizer.name().to_string(),
        sha256: tokenizer.sha256().to_string(),
        json: tokenizer.json().to_vec(),
    };
    let config = serde_json::to_value(cfg)?;
    let manifest = writer.finish(config, &info, &stats)?;
    Ok(BuildReport { manifest, problems })
}

/// The audit file listing every article removed as a duplicate.
pub const DEDUP_AUDIT: &str = "dedup/removed.jsonl";

/// What `quire dedup` found.
#[derive(Debug, Clone)]
pub struct DedupReport {
    pub articles: u64,
    pub clusters: u64,
    pub problems: Vec<Rejection>,
    pub stats: Stats,
}

/// Run the build's read and dedup passes and write one `{"id","cluster"}` line per input
/// article (`id` = the JSONL id, or the input path for files; `cluster` = the id of the
/// article kept for its cluster). Memory: one id per article.
pub fn dedup_clusters(
    cfg: &BuildConfig,
    reporter: &dyn Reporter,
    out: &mut (dyn Write + Send),
) -> Result<DedupReport> {
    cfg.validate()?;
    in_pool(cfg, || {
        let stages = Stages::new(cfg)?;
        let work = work_dir(&cfg.output)?;
        let spill_path = work.path().join("articles.jsonl");
        let pass = read_pass(cfg, &stages, &spill_path, work.path(), true, reporter)?;
        let clusters = pass.near.resolve()?;
        let log = pass.log.unwrap_or_default();
        let mut id_of_index: Vec<&str> = Vec::with_capacity(pass.spilled as usize);
        for (id, index) in &log {
            if index.is_some() {
                id_of_index.push(id);
            }
        }
        let io = |e| Error::io("<output>", e);
        let mut kept = std::collections::HashSet::new();
        for (id, index) in &log {
            let cluster = match index {
                Some(i) => {
                    let k = clusters.cluster_of(*i);
                    kept.insert(k);
                    id_of_index.get(k as usize).copied().unwrap_or(id)
                }
                None => id,
            };
            let line = serde_json::json!({"id": id, "cluster": cluster});
            writeln!(out, "{line}").map_err(io)?;
        }
        let singles = log.iter().filter(|(_, i)| i.is_none()).count() as u64;
        Ok(DedupReport {
            articles: log.len() as u64,
            clusters: kept.len() as u64 + singles,
            problems: pass.problems,
            stats: pass.stats,
        })
    })
}

/// Pass 1: read every input, spill the non-empty articles in input order and feed their
/// keys and sketches to the dedup stage.
fn read_pass(
    cfg: &BuildConfig,
    stages: &Stages,
    spill_path: &Path,
    work: &Path,
    keep_log: bool,
    reporter: &dyn Reporter,
) -> Result<ReadPass> {
    let discovery = source::discover(&cfg.inputs)?;
    let mut pass = ReadPass {
        stats: Stats {
            input_files: discovery.files.len() as u64,
            input_bytes: discovery.files.iter().map(|f| f.bytes).sum(),
            ..Stats::default()
        },
        problems: Vec::new(),
        near: NearDedup::new(&cfg.dedup, work)?,
        spilled: 0,
        log: keep_log.then(Vec::new),
    };
    let record = |pass: &mut ReadPass, r: Rejection| {
        reporter.warn(&r.to_string());
        let map = if r.reason.is_skip() {
            &mut pass.stats.skipped
        } else {
            &mut pass.stats.rejected
        };
        bump(map, r.reason.as_str(), 1);
        pass.problems.push(r);
    };
    for r in discovery.problems {
        record(&mut pass, r);
    }

    let spill = fs_err::File::create(spill_path).map_err(|e| Error::io(spill_path, e))?;
    let mut out = BufWriter::new(spill);
    let io_err = |e| Error::io(spill_path, e);
    let mut flush = |batch: &mut Vec<Unit>, pass: &mut ReadPass| -> Result<()> {
        let outcomes: Vec<ReadOutcome> = std::mem::take(batch)
            .into_par_iter()
            .map(|u| stages.read(cfg, u))
            .collect();
        for outcome in outcomes {
            match outcome {
                ReadOutcome::Rejected(r) => record(pass, r),
                ReadOutcome::Empty(source, source_id) => {
                    pass.stats.docs_in += 1;
                    bump(&mut pass.stats.dropped, "empty_after_clean", 1);
                    reporter.warn(&format!("dropped `{source}` (empty_after_clean)"));
                    if let Some(log) = &mut pass.log {
                        log.push((source_id.unwrap_or(source), None));
                    }
                }
                ReadOutcome::Article(s, sketch, body_chars) => {
                    pass.stats.docs_in += 1;
                    if !s.article.notes.is_empty() {
                        pass.stats.repaired += 1;
                        reporter.warn(&format!(
                            "repaired `{}`: {}",
                            s.article.source,
                            s.article.notes.join("; ")
                        ));
                    }
                    if let Some(log) = &mut pass.log {
                        let id = s
                            .article
                            .source_id
                            .clone()
                            .unwrap_or_else(|| s.article.source.clone());
                        log.push((id, Some(pass.spilled)));
                    }
                    pass.near.add(pass.spilled, s.key, sketch, body_chars)?;
                    pass.spilled += 1;
                    serde_json::to_writer(&mut out, &*s)?;
                    out.write_all(b"\n").map_err(io_err)?;
                }
            }
        }
        Ok(())
    };

    reporter.start("read", discovery.files.len() as u64);
    let mut batch: Vec<Unit> = Vec::new();
    let mut batch_bytes = 0usize;
    for file in &discovery.files {
        for item in source::open(file, &cfg.source) {
            match item {
                Ok(unit) => {
                    batch_bytes += unit_len(&unit);
                    batch.push(unit);
                    if batch.len() >= BATCH_DOCS || batch_bytes >= BATCH_BYTES {
                        flush(&mut batch, &mut pass)?;
                        batch_bytes = 0;
                    }
                }
                Err(r) => {
                    // Keep warnings in input order: finish what came before first.
                    flush(&mut batch, &mut pass)?;
                    batch_bytes = 0;
                    record(&mut pass, r);
                }
            }
        }
        reporter.advance(1);
    }
    flush(&mut batch, &mut pass)?;
    out.flush().map_err(io_err)?;
    reporter.finish();
    Ok(pass)
}

/// Stream the spill file back, one article at a time, with its index.
fn for_each_spilled(path: &Path, mut f: impl FnMut(u64, Spilled) -> Result<()>) -> Result<()> {
    let file = fs_err::File::open(path).map_err(|e| Error::io(path, e))?;
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        f(index as u64, serde_json::from_str(&line)?)?;
    }
    Ok(())
}

/// The split of a kept article: a stable hash of its content key placed on the
/// configured shares, so the same article lands in the same split in every build.
fn split_of<'a>(cfg: &'a BuildConfig, key: &ContentKey) -> &'a str {
    let mut h = [0u8; 8];
    h.copy_from_slice(&key[8..16]);
    let x = u64::from_be_bytes(h) as f64 / (u64::MAX as f64 + 1.0);
    let mut acc = 0.0;
    let splits = &cfg.release.splits;
    for s in splits {
        acc += s.share;
        if x < acc {
            return &s.name;
        }
    }
    splits.last().map_or("train", |s| s.name.as_str())
}

fn unit_len(unit: &Unit) -> usize {
    match unit {
        Unit::Text { bytes, .. } | Unit::JsonLine { bytes, .. } => bytes.len(),
    }
}

/// The directory that will hold the release directory.
fn output_parent(output: &Path) -> PathBuf {
    match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
