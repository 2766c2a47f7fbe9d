//! The build, in streaming passes over a spill file:
//!
//! 1. **read**: read → decode → article → clean (evidence inside the article only) →
//!    dedup key, sketch and line keys, in parallel over batches; each article is spilled
//!    to a temporary file in input order;
//! 2. **dedup + corpus statistics**: duplicates are resolved from the keys alone, then
//!    the lines and words of the kept articles are counted, so syndicated copies do not
//!    make each other's body look like site furniture;
//! 3. **write**: the spill is read back; the kept articles are cleaned again with the
//!    corpus statistics, language-annotated and tokenized in parallel batches, and
//!    written in order.
//!
//! Every pass is a three-step conveyor ([`conveyor`]): one batch is read in, the one
//! before it is processed by all threads, and the one before that is merged into the
//! pass's ordered state, at the same time. Memory is bounded by the batch sizes, one key
//! per document and the fixed-size statistics tables, whatever the corpus size. Merges
//! happen in input order, so the release does not depend on `--jobs`.

use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::article::Article;
use crate::clean::{
    Cleaner, Decision, Draft, Lexicon, LineKey, LineStats, Unglue, WordEvents, WordStats,
};
use crate::config::BuildConfig;
use crate::dedup::{self, ContentKey, NearDedup, Sketch, Sketcher, Verdict};
use crate::error::{Error, Result};
use crate::lang::LangId;
use crate::release::{Document, Manifest, ReleaseWriter, Stats, TokenizerInfo};
use crate::source::{self, RawDoc, RejectReason, Rejection, Unit};
use crate::spill;
use crate::timing::{Clocks, PassTime, Stage, Timings};
use crate::tokenize::{self, Tokenizer};

/// Documents processed together in one batch of a pass (bounded further by
/// [`BATCH_BYTES`]). Three batches are in flight at a time.
const BATCH_DOCS: usize = 512;
const BATCH_BYTES: usize = 32 << 20;

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
    /// A pass ended: its wall seconds and the CPU seconds (summed over threads) each
    /// stage spent in it.
    fn pass_done(&self, _time: &PassTime) {}
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
    /// Where the time went (not part of the release).
    pub timings: Timings,
}

/// One article after the read pass, as spilled to disk (encoded by [`crate::spill`],
/// which also reads back just the parts the statistics pass and the audit file need).
#[derive(Debug)]
struct Spilled {
    key: ContentKey,
    article: Article,
    /// Each block's [`LineStats::key`] (empty when the build counts no lines).
    line_keys: Vec<u64>,
    /// What the article's own evidence decided in the read pass.
    draft: Draft,
}

impl Spilled {
    fn decode(payload: &[u8]) -> Result<Spilled> {
        let (key, article, line_keys, draft) = spill::decode(payload)?;
        Ok(Spilled {
            key,
            article,
            line_keys,
            draft,
        })
    }
}

/// One input item, in input order.
enum Item {
    Unit(Unit),
    /// A problem found while opening or reading a file.
    Problem(Rejection),
    /// The end of one input file (for progress).
    FileDone,
}

/// An article as the read pass hands it to the ordered merge.
struct ReadArticle {
    /// The spill record (length prefix and [`Spilled`]), encoded by the worker thread.
    line: Vec<u8>,
    key: ContentKey,
    sketch: Sketch,
    body_chars: u32,
    source: String,
    source_id: Option<String>,
    notes: Vec<String>,
}

/// The outcome of reading one item.
enum ReadOutcome {
    Article(Box<ReadArticle>),
    Empty(String, Option<String>),
    Rejected(Rejection),
    FileDone,
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

/// The stages of the read pass, shared by the worker threads.
pub struct Stages {
    pub cleaner: Cleaner,
    pub sketcher: Sketcher,
    /// Text bytes from which the write pass cleans an article in place: [`LEAN_ARTICLE`].
    lean_article: usize,
}

/// What only the write pass needs, prepared beside the read pass ([`Prepared`]): the
/// tokenizer, its lexicon for glued-word repair, and the language identifier (~0.6 CPU-s
/// in all, two thirds of it the tokenizer's tables).
struct Tools {
    tokenizer: Tokenizer,
    lexicon: Lexicon,
    lang: LangId,
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
            sketcher: Sketcher::new(&cfg.dedup)?,
            lean_article: LEAN_ARTICLE,
        })
    }

    fn read(&self, cfg: &BuildConfig, unit: Unit, clocks: &Clocks) -> Result<ReadOutcome> {
        let raw = match clocks.time(Stage::Decode, || source::decode(unit, &cfg.source)) {
            Ok(raw) => raw,
            Err(rejection) => return Ok(ReadOutcome::Rejected(rejection)),
        };
        let source = raw.source.clone();
        let count_lines = cfg.clean.corpus_lines;
        Ok(
            isolated(|| self.read_article(raw, count_lines, clocks)).unwrap_or_else(|message| {
                ReadOutcome::Rejected(Rejection {
                    source,
                    reason: RejectReason::InternalError,
                    detail: format!("quire failed on this article, please report it: {message}"),
                })
            }),
        )
    }

    /// Parse, clean and sketch one decoded article, and spill it (with its blocks' line
    /// keys when `count_lines`: worked out once here, they serve the statistics pass and
    /// the write pass's lookups).
    fn read_article(&self, raw: RawDoc, count_lines: bool, clocks: &Clocks) -> ReadOutcome {
        let article = clocks.time(Stage::Decode, || Article::parse(raw));
        let (draft, cleaned) = clocks.time(Stage::Clean, || self.cleaner.draft_and_clean(&article));
        if cleaned.body().next().is_none() {
            return ReadOutcome::Empty(article.source, article.source_id);
        }
        let (sketch, body_chars) = clocks.time(Stage::Sketch, || {
            // Near-duplicates are judged on the body as cleaned from the article alone: its
            // paragraphs joined by blank lines, as the release prints them (not joined
            // here, which would copy the whole body).
            let paragraphs: Vec<&str> = cleaned.body().map(|b| b.text.as_str()).collect();
            let sketch = self.sketcher.sketch_parts(&paragraphs);
            let chars = paragraphs.iter().map(|p| p.chars().count()).sum::<usize>()
                + 2 * paragraphs.len().saturating_sub(1);
            let body_chars = u32::try_from(chars).unwrap_or(u32::MAX);
            (sketch, body_chars)
        });
        drop(cleaned);
        // Exact duplicates are the same article text, furniture included (re-encoded,
        // re-wrapped, re-cased copies). Bodies that match only after cleaning are the
        // near-duplicate stage's to judge: a page whose cleaning kept only a site footer
        // must not swallow its siblings. The content key and the line keys read the same
        // normal form of each block: made once, in one pass, for both.
        let (key, line_keys) = clocks.time(Stage::Sketch, || {
            let texts: Vec<&str> = article.blocks.iter().map(|b| b.text.as_str()).collect();
            content_and_line_keys(&texts, count_lines)
        });
        let line = clocks.time(Stage::Spill, || {
            let mut line = vec![0u8; 8];
            spill::encode(&key, &article, &line_keys, &draft, &mut line);
            let len = (line.len() - 8) as u64;
            line[..8].copy_from_slice(&len.to_le_bytes());
            line
        });
        ReadOutcome::Article(Box::new(ReadArticle {
            line,
            key,
            sketch,
            body_chars,
            source: article.source,
            source_id: article.source_id,
            notes: article.notes,
        }))
    }

    fn write(
        &self,
        cfg: &BuildConfig,
        spilled: Spilled,
        corpus: &Corpus,
        tools: &Tools,
        clocks: &Clocks,
    ) -> Result<WriteOutcome> {
        let source = spilled.article.source.clone();
        // The panic's message is already on stderr (the default hook prints it); the
        // article is counted and warned about as dropped.
        isolated(|| self.write_article(cfg, spilled, corpus, tools, clocks)).unwrap_or_else(|_| {
            Ok(WriteOutcome::Dropped(
                "internal_error",
                source,
                BTreeMap::new(),
            ))
        })
    }

    /// Finish cleaning one spilled article with the corpus evidence, then repair, tag and
    /// tokenize it.
    fn write_article(
        &self,
        cfg: &BuildConfig,
        spilled: Spilled,
        corpus: &Corpus,
        tools: &Tools,
        clocks: &Clocks,
    ) -> Result<WriteOutcome> {
        let Spilled {
            key,
            mut article,
            line_keys,
            draft,
        } = spilled;
        // A huge article is cleaned from its own block texts, not from copies of them.
        let lean = article.blocks.iter().map(|b| b.text.len()).sum::<usize>() >= self.lean_article;
        let mut cleaned = clocks.time(Stage::Clean, || {
            if lean {
                self.cleaner
                    .finish_taking_text(&mut article, draft, corpus.lines, &line_keys)
            } else {
                self.cleaner
                    .finish_with_keys(&article, draft, corpus.lines, &line_keys)
            }
        });
        if let Some(unglue) = &corpus.unglue {
            clocks.time(Stage::Unglue, || {
                let mut texts: Vec<&mut String> = cleaned
                    .blocks
                    .iter_mut()
                    .filter(|b| matches!(b.decision, Decision::Body | Decision::Caption))
                    .map(|b| &mut b.text)
                    .collect();
                unglue.repair_document(&mut texts, cfg.clean.unglue_min_share);
            });
        }
        let annotated = clocks.time(Stage::Lang, || {
            tools.lang.annotate_taking_body(&mut cleaned)
        });
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
        let paragraphs: Vec<&str> = annotated
            .paragraphs
            .iter()
            .map(|(t, _)| t.as_str())
            .collect();
        let id = clocks.time(Stage::Sketch, || {
            // The key hashes the normal form of all the article's blocks, and the normal
            // form only collapses whitespace between them: when the release text is those
            // blocks, unchanged and in order, its key is the one already computed. (A
            // lean article's blocks were taken by the clean stage.) Else it is the key of
            // the paragraphs, which is the key of the text that joins them.
            let same = !lean
                && paragraphs.len() == article.blocks.len()
                && paragraphs
                    .iter()
                    .zip(&article.blocks)
                    .all(|(p, b)| *p == b.text);
            let key = if same {
                key
            } else {
                dedup::content_key_of_blocks(&paragraphs)
            };
            dedup::doc_id(&key)
        });
        drop(article);
        let text = paragraphs.join("\n\n");
        let tokens = clocks.time(Stage::Tokenize, || {
            tools
                .tokenizer
                .encode(&text, cfg.release.encode_chunk_bytes)
        })?;
        let doc = Document {
            id,
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

/// The content key of blocks (joined by whitespace) and, when `count_lines`, each
/// block's [`LineStats::key`], from one pass over their normal form.
fn content_and_line_keys(blocks: &[&str], count_lines: bool) -> (ContentKey, Vec<u64>) {
    let mut content = dedup::ContentHasher::default();
    let mut line_keys = Vec::with_capacity(if count_lines { blocks.len() } else { 0 });
    for block in blocks {
        let mut line = LineKey::default();
        let mut first = true;
        let surely_nfc = crate::text::normal_form(block, true, &mut |piece, nums| {
            content.push(piece, std::mem::take(&mut first));
            if count_lines {
                line.push(piece, nums);
            }
        });
        if !surely_nfc {
            // Rare: each key takes its own general path.
            let keys = if count_lines {
                blocks.iter().map(|b| LineStats::key(b)).collect()
            } else {
                Vec::new()
            };
            return (dedup::content_key_slow(blocks), keys);
        }
        if count_lines {
            line_keys.push(line.finish());
        }
    }
    (content.finish(), line_keys)
}

/// Text bytes from which an article is cleaned in place ([`Cleaner::finish_taking_text`])
/// in the write pass, its paragraphs' key worked out rather than compared with its blocks.
/// Copying the text costs little below this; above it the copy is the article's size again.
const LEAN_ARTICLE: usize = 8 << 20;

/// Run one article's work. A panic in it is a bug in quire, never expected; caught here, it
/// costs that article (counted, with the panic's message) instead of the whole build.
fn isolated<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    *map.entry(key.to_string()).or_insert(0) += n;
}

/// Run a whole build: inputs in `cfg.inputs`, release at `cfg.output`.
pub fn build(cfg: &BuildConfig, reporter: &dyn Reporter) -> Result<BuildReport> {
    cfg.validate()?;
    let clocks = Clocks::new();
    // A tokenizer file the user names is read first, so a bad one fails the build at once.
    let given = match &cfg.tokenizer {
        Some(path) => Some(clocks.time(Stage::Tokenize, || Tokenizer::from_file(path))?),
        None => None,
    };
    // The lexicon reads the same file the tokenizer is built from, so it need not wait
    // for the tokenizer's tables.
    let json: &[u8] = given
        .as_ref()
        .map_or(tokenize::embedded_json(), Tokenizer::json);
    std::thread::scope(|scope| {
        // Only the write pass needs these: prepare them while the read pass runs.
        let prepared = Prepared {
            tokenizer: scope.spawn(|| match given.clone() {
                Some(t) => Ok(t),
                None => clocks.time(Stage::Tokenize, Tokenizer::embedded),
            }),
            rest: scope.spawn(|| {
                let lexicon = clocks.time(Stage::Unglue, || Lexicon::from_tokenizer_json(json));
                let lang = clocks.time(Stage::Lang, || LangId::new(&cfg.lang));
                (lexicon, lang)
            }),
        };
        in_pool(cfg, || build_with(cfg, prepared, &clocks, reporter))
    })
}

/// The write pass's [`Tools`], being prepared beside the read pass on two threads of
/// their own: the tokenizer's tables on one, the lexicon and the language model on the
/// other. On a small build the read pass is over at once and the write pass waits for
/// these; split in two, it waits for the longer one only.
struct Prepared<'scope> {
    tokenizer: std::thread::ScopedJoinHandle<'scope, Result<Tokenizer>>,
    rest: std::thread::ScopedJoinHandle<'scope, (Lexicon, LangId)>,
}

impl Prepared<'_> {
    fn join(self) -> Result<Tools> {
        let failed =
            |what: &str| Error::Config(format!("preparing the {what} failed unexpectedly"));
        let tokenizer = self.tokenizer.join().map_err(|_| failed("tokenizer"))??;
        let (lexicon, lang) = self
            .rest
            .join()
            .map_err(|_| failed("lexicon and language model"))?;
        Ok(Tools {
            tokenizer,
            lexicon,
            lang,
        })
    }
}

/// Run `f` on a pool of `cfg.jobs` worker threads (0 = one per core).
fn in_pool<T: Send>(cfg: &BuildConfig, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs)
        .build()
        .map_err(|e| Error::Config(format!("cannot start {} worker threads: {e}", cfg.jobs)))?
        .install(f)
}

/// Run one pass as a conveyor over batches: `next` reads the next batch serially, `work`
/// maps a batch's items on all threads, and `merge` takes the results in input order.
/// Reading batch n+1 and merging batch n-1 overlap the work on batch n, so the serial
/// steps (decompression, spill I/O, dedup bookkeeping, Parquet encoding) do not leave
/// the other threads idle.
fn conveyor<I: Send, O: Send>(
    mut next: impl FnMut() -> Result<Option<Vec<I>>> + Send,
    work: impl Fn(I) -> O + Sync,
    mut merge: impl FnMut(Vec<O>) -> Result<()> + Send,
) -> Result<()> {
    let mut batch = next()?;
    let mut done: Option<Vec<O>> = None;
    while let Some(items) = batch.take() {
        let (outs, (merged, following)) = rayon::join(
            || items.into_par_iter().map(&work).collect::<Vec<O>>(),
            || (done.take().map_or(Ok(()), &mut merge), next()),
        );
        merged?;
        batch = following?;
        done = Some(outs);
    }
    match done {
        Some(outs) => merge(outs),
        None => Ok(()),
    }
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

/// A spill record's payload with its index and what the reader's filter said about it.
type SpillLine<T> = (u64, Vec<u8>, T);

/// The most [`SpillReader::next_line`] reserves from a record's length before reading it.
const SPILL_RESERVE_CAP: u64 = 64 << 20;

/// Records of the spill file, read back in order with their index.
struct SpillReader {
    reader: BufReader<fs_err::File>,
    path: PathBuf,
    index: u64,
}

impl SpillReader {
    fn open(path: &Path) -> Result<Self> {
        let file = fs_err::File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(SpillReader {
            reader: BufReader::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            index: 0,
        })
    }

    /// The next record's payload and its index, or `None` at the end. Bytes: the decoder
    /// checks the UTF-8 of the strings it reads, so nothing is checked twice.
    fn next_line(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        let io = |e| Error::io(&self.path, e);
        if self.reader.fill_buf().map_err(io)?.is_empty() {
            return Ok(None);
        }
        let mut len = [0u8; 8];
        self.reader.read_exact(&mut len).map_err(io)?;
        let len = u64::from_le_bytes(len);
        // Sized at once up to a cap (reading into an empty buffer grew it by doubling,
        // copying each record ~twice); read through `take`, so a damaged length can make
        // no huge allocation.
        let mut line = Vec::with_capacity(len.min(SPILL_RESERVE_CAP) as usize);
        (&mut self.reader)
            .take(len)
            .read_to_end(&mut line)
            .map_err(io)?;
        if line.len() as u64 != len {
            return Err(spill::CodecError("truncated").into());
        }
        let index = self.index;
        self.index += 1;
        Ok(Some((index, line)))
    }

    /// Up to [`BATCH_DOCS`] lines (or [`BATCH_BYTES`]) that `want` accepts, with what
    /// `want` says about each; `None` at the end of the file.
    fn next_batch<T>(
        &mut self,
        mut want: impl FnMut(u64) -> Option<T>,
    ) -> Result<Option<Vec<SpillLine<T>>>> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < BATCH_DOCS && bytes < BATCH_BYTES {
            let Some((index, line)) = self.next_line()? else {
                break;
            };
            if let Some(t) = want(index) {
                bytes += line.len();
                batch.push((index, line, t));
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// What one kept article adds to the corpus statistics.
struct Counted {
    line_keys: Option<Vec<u64>>,
    words: Option<WordEvents>,
}

// Not inlined: benches/instructions.sh counts the build proper as this function's
// instructions, and link-time optimisation would otherwise fold it into its caller.
#[inline(never)]
fn build_with(
    cfg: &BuildConfig,
    prepared: Prepared,
    clocks: &Clocks,
    reporter: &dyn Reporter,
) -> Result<BuildReport> {
    let stages = Stages::new(cfg)?;
    let work = work_dir(&cfg.output)?;
    let spill_path = work.path().join("articles.spill");
    let ReadPass {
        mut stats,
        problems,
        near,
        spilled,
        ..
    } = read_pass(
        cfg,
        &stages,
        &spill_path,
        work.path(),
        false,
        clocks,
        reporter,
    )?;

    let timer = clocks.pass("dedup");
    let clusters = clocks.time(Stage::Dedup, || near.resolve())?;
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
        let (count_lines, count_words) = (lines.is_some(), words.is_some());
        let mut spill = SpillReader::open(&spill_path)?;
        conveyor(
            || {
                clocks.time(Stage::Spill, || {
                    spill.next_batch(|i| {
                        matches!(clusters.verdict(i), Verdict::Keep { .. }).then_some(())
                    })
                })
            },
            |(_, line, ()): (u64, Vec<u8>, ())| -> Result<Counted> {
                let (blocks, keys) = clocks.time(Stage::Spill, || spill::decode_blocks(&line))?;
                Ok(clocks.time(Stage::Stats, || {
                    Counted {
                        // The read pass spilled one key per block when lines are counted.
                        line_keys: count_lines.then(|| LineStats::distinct(keys)),
                        words: count_words.then(|| WordEvents::of_texts(&blocks)),
                    }
                }))
            },
            |counted| {
                let counted = counted.into_iter().collect::<Result<Vec<Counted>>>()?;
                let (keys, events): (Vec<_>, Vec<_>) =
                    counted.into_iter().map(|c| (c.line_keys, c.words)).unzip();
                let (pairs, word_tables) = words.as_mut().map(WordStats::tables_mut).unzip();
                // The three tables are independent: fill them side by side, each in input
                // order. Each part is timed on the thread that runs it.
                let count = |add: &mut dyn FnMut()| clocks.time(Stage::Stats, add);
                rayon::join(
                    || {
                        if let Some(lines) = &mut lines {
                            count(&mut || keys.iter().flatten().for_each(|k| lines.add_keys(k)));
                        }
                    },
                    || {
                        rayon::join(
                            || {
                                if let Some(mut p) = pairs {
                                    count(&mut || events.iter().flatten().for_each(|ev| p.add(ev)));
                                }
                            },
                            || {
                                if let Some(mut t) = word_tables {
                                    count(&mut || events.iter().flatten().for_each(|ev| t.add(ev)));
                                }
                            },
                        )
                    },
                );
                Ok(())
            },
        )?;
    }
    let tools = prepared.join()?;
    let tools = &tools;
    let tokenizer = &tools.tokenizer;
    reporter.pass_done(&timer.done());
    let corpus = Corpus {
        lines: lines.as_ref(),
        unglue: words.as_ref().map(|w| Unglue::new(w, &tools.lexicon, 3)),
    };

    let timer = clocks.pass("write");
    let mut writer = ReleaseWriter::create(&cfg.output, &cfg.release)?;
    reporter.start("write", spilled);
    // For the audit file: release ids and sources of the articles that head a cluster of
    // two or more, and the removed copies (memory grows with duplicates, not documents).
    let mut kept: std::collections::HashMap<u64, (Option<String>, String)> = Default::default();
    let mut removed: Vec<(u64, Removed, u64)> = Vec::new();
    let mut spill = SpillReader::open(&spill_path)?;
    enum Written {
        Kept(WriteOutcome, u32, ContentKey),
        Copy(Removed, u64),
    }
    conveyor(
        || {
            clocks.time(Stage::Spill, || {
                spill.next_batch(|i| Some(clusters.verdict(i)))
            })
        },
        |(index, line, verdict): (u64, Vec<u8>, Verdict)| -> Result<(u64, Written)> {
            let written = match verdict {
                Verdict::Keep { dup_count } => {
                    let s = clocks.time(Stage::Spill, || Spilled::decode(&line))?;
                    drop(line);
                    let key = s.key;
                    let outcome = stages.write(cfg, s, &corpus, tools, clocks)?;
                    Written::Kept(outcome, dup_count, key)
                }
                Verdict::Duplicate {
                    kept_index,
                    similarity,
                } => {
                    let (source, source_id) =
                        clocks.time(Stage::Spill, || spill::decode_head(&line))?;
                    let exact = clusters.is_exact_copy(index);
                    let entry = Removed {
                        source: source.to_string(),
                        source_id: source_id.map(str::to_string),
                        kept_id: None,
                        kept_source: String::new(),
                        similarity,
                        exact,
                    };
                    Written::Copy(entry, kept_index)
                }
            };
            Ok((index, written))
        },
        |outcomes| {
            let n = outcomes.len() as u64;
            for outcome in outcomes {
                let (index, written) = outcome?;
                let (outcome, dup_count, key) = match written {
                    Written::Copy(entry, kept_index) => {
                        let reason = if entry.exact {
                            "exact_duplicate"
                        } else {
                            "near_duplicate"
                        };
                        bump(&mut stats.dropped, reason, 1);
                        removed.push((index, entry, kept_index));
                        continue;
                    }
                    Written::Kept(outcome, dup_count, key) => (outcome, dup_count, key),
                };
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
                        if dup_count > 1 {
                            kept.insert(index, (Some(doc.id.clone()), doc.source.clone()));
                        }
                        clocks.time(Stage::Write, || writer.write(split_of(cfg, &key), *doc))?;
                        blocks
                    }
                };
                for (reason, n) in blocks {
                    bump(&mut stats.blocks_dropped, reason, n);
                }
            }
            reporter.advance(n);
            Ok(())
        },
    )?;
    reporter.finish();
    // The tables' borrowers go first, and the spill file is closed before its directory
    // is deleted (below).
    drop((corpus, spill));

    let finish = || -> Result<Manifest> {
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
        clocks.time(Stage::Write, || writer.finish(config, &info, &stats))
    };
    // Freeing the corpus tables (the long words one by one, on another thread than the
    // one that counted them) and deleting the spill file took ~0.1 s at the end of a
    // whole-corpus build with the other core idle: done beside the release's last writes.
    let (manifest, ()) = rayon::join(finish, move || drop((words, lines, work)));
    let manifest = manifest?;
    reporter.pass_done(&timer.done());
    Ok(BuildReport {
        manifest,
        problems,
        timings: clocks.report(),
    })
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
        let clocks = Clocks::new();
        let stages = Stages::new(cfg)?;
        let work = work_dir(&cfg.output)?;
        let spill_path = work.path().join("articles.spill");
        let pass = read_pass(
            cfg,
            &stages,
            &spill_path,
            work.path(),
            true,
            &clocks,
            reporter,
        )?;
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
    clocks: &Clocks,
    reporter: &dyn Reporter,
) -> Result<ReadPass> {
    let timer = clocks.pass("read");
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
    let mut out = BufWriter::with_capacity(1 << 20, spill);
    let io_err = |e| Error::io(spill_path, e);
    let mut items = discovery.files.iter().flat_map(|file| {
        source::open(file, &cfg.source)
            .map(|item| match item {
                Ok(unit) => Item::Unit(unit),
                Err(r) => Item::Problem(r),
            })
            .chain(std::iter::once(Item::FileDone))
    });
    reporter.start("read", discovery.files.len() as u64);
    conveyor(
        || {
            clocks.time(Stage::Read, || {
                let mut batch = Vec::new();
                let mut bytes = 0usize;
                while batch.len() < BATCH_DOCS && bytes < BATCH_BYTES {
                    let Some(item) = items.next() else {
                        break;
                    };
                    if let Item::Unit(unit) = &item {
                        bytes += unit_len(unit);
                    }
                    batch.push(item);
                }
                Ok((!batch.is_empty()).then_some(batch))
            })
        },
        |item| match item {
            Item::Unit(unit) => stages.read(cfg, unit, clocks),
            Item::Problem(r) => Ok(ReadOutcome::Rejected(r)),
            Item::FileDone => Ok(ReadOutcome::FileDone),
        },
        |outcomes| {
            for outcome in outcomes {
                match outcome? {
                    ReadOutcome::FileDone => reporter.advance(1),
                    ReadOutcome::Rejected(r) => record(&mut pass, r),
                    ReadOutcome::Empty(source, source_id) => {
                        pass.stats.docs_in += 1;
                        bump(&mut pass.stats.dropped, "empty_after_clean", 1);
                        reporter.warn(&format!("dropped `{source}` (empty_after_clean)"));
                        if let Some(log) = &mut pass.log {
                            log.push((source_id.unwrap_or(source), None));
                        }
                    }
                    ReadOutcome::Article(a) => {
                        pass.stats.docs_in += 1;
                        if !a.notes.is_empty() {
                            pass.stats.repaired += 1;
                            reporter.warn(&format!(
                                "repaired `{}`: {}",
                                a.source,
                                a.notes.join("; ")
                            ));
                        }
                        if let Some(log) = &mut pass.log {
                            let id = a.source_id.clone().unwrap_or_else(|| a.source.clone());
                            log.push((id, Some(pass.spilled)));
                        }
                        let index = pass.spilled;
                        let ReadArticle {
                            line,
                            key,
                            sketch,
                            body_chars,
                            ..
                        } = *a;
                        clocks.time(Stage::Dedup, || {
                            pass.near.add(index, key, sketch, body_chars)
                        })?;
                        pass.spilled += 1;
                        clocks
                            .time(Stage::Spill, || out.write_all(&line))
                            .map_err(io_err)?;
                    }
                }
            }
            Ok(())
        },
    )?;
    out.flush().map_err(io_err)?;
    reporter.finish();
    reporter.pass_done(&timer.done());
    Ok(pass)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Format;

    #[test]
    fn a_lean_article_is_written_as_a_copied_one() {
        let cfg = BuildConfig::default();
        let mut stages = Stages::new(&cfg).unwrap();
        let clocks = Clocks::new();
        let tools = Tools {
            tokenizer: Tokenizer::embedded().unwrap(),
            lexicon: Lexicon::from_tokenizer_json(tokenize::embedded_json()),
            lang: LangId::new(&cfg.lang),
        };
        let corpus = Corpus {
            lines: None,
            unglue: None,
        };
        let plain = "Hanoi hosts the talks\n\nThe two ministers met in Hanoi on Monday to sign \
                     the agreement on trade and investment between both countries.\n\nThey \
                     will meet again next year in Tokyo, the ministry said.";
        // Cleaning drops the furniture, and decomposed marks take the general key path.
        let furnished = format!(
            "{plain}\n\nHome / News / World\n\nToàn cảnh hội nghi\u{0323}.\n\nLeave a Reply"
        );
        for text in [plain.to_string(), furnished] {
            let raw = RawDoc {
                source: "t.txt".into(),
                format: Some(Format::Text),
                text,
                ..Default::default()
            };
            let ReadOutcome::Article(read) = stages.read_article(raw, true, &clocks) else {
                panic!("not an article");
            };
            let mut docs = Vec::new();
            for lean in [usize::MAX, 0] {
                stages.lean_article = lean;
                let spilled = Spilled::decode(&read.line[8..]).unwrap();
                match stages
                    .write(&cfg, spilled, &corpus, &tools, &clocks)
                    .unwrap()
                {
                    WriteOutcome::Doc(doc, _) => docs.push(*doc),
                    WriteOutcome::Dropped(reason, ..) => panic!("dropped: {reason}"),
                }
            }
            assert_eq!(docs[0], docs[1]);
            assert_eq!(
                docs[0].id,
                dedup::doc_id(&dedup::content_key(&docs[0].text))
            );
            assert!(!docs[0].tokens.is_empty());
        }
    }

    #[test]
    fn a_panic_in_one_article_becomes_its_message() {
        assert_eq!(isolated(|| 7), Ok(7));
        let slice = || {
            let s = String::from("Imagé");
            s[..5].len()
        };
        let err = isolated(slice).unwrap_err();
        assert!(err.contains("char boundary"), "{err}");
        let formatted = isolated(|| -> u8 { panic!("bad {}", 1) }).unwrap_err();
        assert_eq!(formatted, "bad 1");
        assert_eq!(isolated(|| -> u8 { panic!("plain") }).unwrap_err(), "plain");
    }
}
