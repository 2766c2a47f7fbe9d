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
use crate::clean::{Cleaner, Decision, LineStats};
use crate::config::BuildConfig;
use crate::dedup::{self, ContentKey, ExactDedup, Verdict};
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
    Article(Box<Spilled>),
    Empty(String),
    Rejected(Rejection),
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
}

impl Stages {
    pub fn new(cfg: &BuildConfig) -> Self {
        Stages {
            cleaner: Cleaner::new(&cfg.clean),
            lang: LangId::new(&cfg.lang),
        }
    }

    fn read(&self, cfg: &BuildConfig, unit: Unit) -> ReadOutcome {
        let raw = match source::decode(unit, &cfg.source) {
            Ok(raw) => raw,
            Err(rejection) => return ReadOutcome::Rejected(rejection),
        };
        let article = Article::parse(raw);
        let cleaned = self.cleaner.clean(article.clone(), None);
        if cleaned.body().next().is_none() {
            return ReadOutcome::Empty(article.source);
        }
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
        ReadOutcome::Article(Box::new(Spilled { key, article }))
    }

    fn write(
        &self,
        cfg: &BuildConfig,
        article: Article,
        lines: Option<&LineStats>,
        tokenizer: &Tokenizer,
    ) -> Result<WriteOutcome> {
        let mut cleaned = self.cleaner.clean(article, lines);
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs)
        .build()
        .map_err(|e| Error::Config(format!("cannot start {} worker threads: {e}", cfg.jobs)))?;
    pool.install(|| build_with(cfg, &tokenizer, reporter))
}

/// The read pass's results.
struct ReadPass {
    stats: Stats,
    problems: Vec<Rejection>,
    dedup: ExactDedup,
    spilled: u64,
}

fn build_with(
    cfg: &BuildConfig,
    tokenizer: &Tokenizer,
    reporter: &dyn Reporter,
) -> Result<BuildReport> {
    let stages = Stages::new(cfg);
    // The spill lives beside the output so it is on the same disk as the release.
    let parent = output_parent(&cfg.output);
    fs_err::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let spill = tempfile::Builder::new()
        .prefix(".quire-spill-")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;

    let ReadPass {
        mut stats,
        problems,
        dedup,
        spilled,
    } = read_pass(cfg, &stages, spill.as_file(), spill.path(), reporter)?;

    // Line statistics over the distinct documents only.
    let lines = if cfg.clean.corpus_lines {
        let mut lines = LineStats::new(cfg.clean.line_filter_mib);
        for_each_spilled(spill.path(), |index, s| {
            if matches!(dedup.verdict(index, &s.key), Verdict::Keep { .. }) {
                lines.add_document(s.article.blocks.iter().map(|b| b.text.as_str()));
            }
            Ok(())
        })?;
        Some(lines)
    } else {
        None
    };

    let mut writer = ReleaseWriter::create(&cfg.output, &cfg.release)?;
    reporter.start("write", spilled);
    let mut pending: Vec<(Article, u32)> = Vec::with_capacity(WRITE_BATCH);
    let mut flush = |pending: &mut Vec<(Article, u32)>, stats: &mut Stats| -> Result<()> {
        let outcomes: Vec<Result<(WriteOutcome, u32)>> = std::mem::take(pending)
            .into_par_iter()
            .map(|(a, dup_count)| Ok((stages.write(cfg, a, lines.as_ref(), tokenizer)?, dup_count)))
            .collect();
        let n = outcomes.len() as u64;
        for outcome in outcomes {
            let (outcome, dup_count) = outcome?;
            let blocks = match outcome {
                WriteOutcome::Dropped(reason, source, blocks) => {
                    bump(&mut stats.dropped, reason, 1);
                    reporter.warn(&format!("dropped `{source}` ({reason})"));
                    blocks
                }
                WriteOutcome::Doc(mut doc, blocks) => {
                    doc.dup_count = dup_count;
                    stats.docs_out += 1;
                    stats.tokens += doc.tokens.len() as u64;
                    stats.captions += doc.captions.len() as u64;
                    stats.parallel_pairs += doc.parallel.len() as u64;
                    bump(&mut stats.languages, &doc.lang, 1);
                    writer.write(split_of(&doc), &doc)?;
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
    for_each_spilled(spill.path(), |index, s| {
        match dedup.verdict(index, &s.key) {
            Verdict::Keep { dup_count } => {
                pending.push((s.article, dup_count));
                if pending.len() >= WRITE_BATCH {
                    flush(&mut pending, &mut stats)?;
                }
            }
            Verdict::Duplicate { .. } => {
                bump(&mut stats.dropped, "exact_duplicate", 1);
                reporter.advance(1);
            }
        }
        Ok(())
    })?;
    flush(&mut pending, &mut stats)?;
    reporter.finish();

    let info = TokenizerInfo {
        name: tokenizer.name().to_string(),
        sha256: tokenizer.sha256().to_string(),
        json: tokenizer.json().to_vec(),
    };
    let config = serde_json::to_value(cfg)?;
    let manifest = writer.finish(config, &info, &stats)?;
    Ok(BuildReport { manifest, problems })
}

/// Pass 1: read every input, spill the non-empty articles in input order.
fn read_pass(
    cfg: &BuildConfig,
    stages: &Stages,
    spill: &std::fs::File,
    spill_path: &Path,
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
        dedup: ExactDedup::new(),
        spilled: 0,
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
                ReadOutcome::Empty(source) => {
                    pass.stats.docs_in += 1;
                    bump(&mut pass.stats.dropped, "empty_after_clean", 1);
                    reporter.warn(&format!("dropped `{source}` (empty_after_clean)"));
                }
                ReadOutcome::Article(s) => {
                    pass.stats.docs_in += 1;
                    if !s.article.notes.is_empty() {
                        pass.stats.repaired += 1;
                        reporter.warn(&format!(
                            "repaired `{}`: {}",
                            s.article.source,
                            s.article.notes.join("; ")
                        ));
                    }
                    pass.dedup.add(pass.spilled, s.key);
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

/// Every document goes to `train` until splits are configured.
fn split_of(_doc: &Document) -> &'static str {
    "train"
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
