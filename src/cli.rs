//! Command-line interface: clap arguments → a validated [`BuildConfig`] → library calls →
//! human output on stdout (or `--json`), warnings and progress on stderr.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use crate::article::Article;
use crate::clean::{Cleaner, Decision, LineStats};
use crate::config::BuildConfig;
use crate::lang::LangId;
use crate::pipeline::{self, Reporter};
use crate::release::{self, Stats};
use crate::source;
use crate::timing::PassTime;
use crate::verify;

/// Exit code for a failure (a build error, a release that does not verify).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage error (clap uses the same).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "quire",
    version,
    about = "Turn raw scraped news articles into a verifiable, NLP-ready Parquet dataset release"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a release from raw articles (`.txt`, `.jsonl`, optionally `.gz`/`.zst`).
    Build(BuildArgs),
    /// Check a release: every file hashed, nothing missing or extra, Parquet footers valid.
    Verify {
        /// Release directory.
        dir: PathBuf,
        /// Print a machine-readable result.
        #[arg(long)]
        json: bool,
    },
    /// Show a release's statistics.
    Inspect {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Find duplicate articles the way `build` does and write their clusters.
    Dedup(DedupArgs),
    /// Language of each JSONL `{"id","text"}` line on stdin, as `{"id","lang"}` on stdout.
    Lang {
        /// Split each text into language segments: `{"id","segments":[{"text","lang"}]}`.
        #[arg(long)]
        segments: bool,
        /// A `quire.toml` whose `[lang]` section sets the allowlist.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Show each block of articles with the decision the clean stage makes and why.
    ///
    /// Lines that other given articles print too count as site furniture, as in a build
    /// (which counts one article per duplicate cluster; this command does not deduplicate).
    Clean {
        /// Article files (or folders, JSONL, compressed files).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print one JSON object per block.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Input files or directories [default: raw]
    pub inputs: Vec<PathBuf>,
    /// Release directory to create or replace.
    #[arg(short, long, default_value = "release")]
    pub out: PathBuf,
    /// A HuggingFace `tokenizer.json` [default: the embedded Qwen2 byte-level BPE].
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// A `quire.toml` with stage settings.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Worker threads (0 = one per core). Never changes the output.
    #[arg(short, long, default_value_t = 0)]
    pub jobs: usize,
    /// Keep only documents in these languages (comma-separated ISO 639-1 codes).
    #[arg(long, value_delimiter = ',')]
    pub keep_langs: Option<Vec<String>>,
    /// Splits and shares, e.g. `train=0.98,validation=0.01,test=0.01`.
    #[arg(long)]
    pub split: Option<String>,
    /// Print a machine-readable summary instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No warnings or progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

impl BuildArgs {
    /// Parse, then validate into the typed configuration the library takes.
    pub fn into_config(self) -> Result<BuildConfig> {
        let mut cfg = load_config(&self.config)?;
        if !self.inputs.is_empty() {
            cfg.inputs = self.inputs;
        }
        cfg.output = self.out;
        cfg.tokenizer = self.tokenizer;
        cfg.jobs = self.jobs;
        if self.keep_langs.is_some() {
            cfg.lang.keep_langs = self.keep_langs;
        }
        if let Some(spec) = &self.split {
            cfg.release.splits = crate::config::ReleaseConfig::parse_splits(spec)?;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[derive(Debug, Args)]
pub struct DedupArgs {
    /// Input files or directories [default: raw]
    pub inputs: Vec<PathBuf>,
    /// Where to write one `{"id","cluster"}` JSON line per input article (`-` = stdout).
    #[arg(long)]
    pub clusters: PathBuf,
    /// A `quire.toml` with stage settings.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Worker threads (0 = one per core). Never changes the output.
    #[arg(short, long, default_value_t = 0)]
    pub jobs: usize,
    /// No warnings or progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The configuration from `--config FILE`, or the defaults.
fn load_config(path: &Option<PathBuf>) -> Result<BuildConfig> {
    Ok(match path {
        Some(path) => BuildConfig::from_toml_file(path)?,
        None => BuildConfig::default(),
    })
}

/// Run a parsed command; the returned code is the process exit status.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Build(args) => build(args),
        Command::Verify { dir, json } => verify_cmd(&dir, json),
        Command::Inspect { dir, json } => inspect(&dir, json),
        Command::Dedup(args) => dedup(args),
        Command::Lang { segments, config } => {
            let cfg = load_config(&config)?;
            let lang = LangId::new(&cfg.lang);
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            crate::lang::run_jsonl(stdin, stdout, segments, &lang)?;
            Ok(0)
        }
        Command::Clean { files, json } => clean(&files, json),
    }
}

/// Warnings and progress on stderr; the bar only on a terminal.
struct Console {
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
    warnings: Mutex<u64>,
}

impl Console {
    fn new(quiet: bool) -> Self {
        Console {
            quiet,
            bar: Mutex::new(None),
            warnings: Mutex::new(0),
        }
    }
}

impl Reporter for Console {
    fn warn(&self, message: &str) {
        if let Ok(mut n) = self.warnings.lock() {
            *n += 1;
        }
        if self.quiet {
            return;
        }
        let line = format!("warning: {}", message.replace(['\n', '\r'], " "));
        match self.bar.lock().ok().as_deref() {
            Some(Some(bar)) => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }

    fn start(&self, pass: &str, total: u64) {
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>6} [{bar:40}] {pos}/{len} {per_sec} {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(pass.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }

    fn pass_done(&self, t: &PassTime) {
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        eprintln!("{}", pass_line(t));
    }
}

/// `  read    3.20 s   CPU s: clean 2.10  sketch 0.52  decode 0.41`: a pass's wall time
/// and the CPU seconds of its stages, largest first.
fn pass_line(t: &PassTime) -> String {
    let mut stages: Vec<&(&str, f64)> = t.cpu.iter().filter(|(_, s)| *s >= 0.005).collect();
    stages.sort_by(|a, b| b.1.total_cmp(&a.1));
    let parts: Vec<String> = stages.iter().map(|(n, s)| format!("{n} {s:.2}")).collect();
    format!(
        "{:>6} {:>7.2} s   CPU s: {}",
        t.name,
        t.wall,
        parts.join("  ")
    )
}

fn build(args: BuildArgs) -> Result<u8> {
    let json_out = args.json;
    let console = Console::new(args.quiet);
    let cfg = args.into_config()?;
    let started = std::time::Instant::now();
    let report = pipeline::build(&cfg, &console).context("build failed")?;
    let elapsed = started.elapsed().as_secs_f64();
    let m = &report.manifest;
    let out = cfg.output.display().to_string();
    let mut stdout = std::io::stdout().lock();
    if json_out {
        let summary = json!({
            "output": out,
            "seconds": elapsed,
            "stats": m.stats,
            "shards": m.shards.iter().map(|s| json!({"path": s.path, "rows": s.rows, "tokens": s.tokens, "bytes": s.bytes})).collect::<Vec<_>>(),
            "problems": report.problems.iter().map(|p| json!({"source": p.source, "reason": p.reason.as_str(), "detail": p.detail})).collect::<Vec<_>>(),
            "timings": report.timings,
        });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        write_stats_table(&mut stdout, &m.stats)?;
        writeln!(stdout, "{:<22}{}", "shards", m.shards.len())?;
        writeln!(stdout, "{:<22}{elapsed:.2}s", "time")?;
        let t = &report.timings;
        let cpu: Vec<String> = t
            .cpu_seconds
            .iter()
            .filter(|(_, s)| *s >= 0.005)
            .map(|(n, s)| format!("{n} {s:.2}"))
            .collect();
        writeln!(stdout, "{:<22}{}", "CPU seconds", cpu.join(", "))?;
        writeln!(stdout, "release written to `{out}`")?;
    }
    Ok(0)
}

fn dedup(args: DedupArgs) -> Result<u8> {
    let console = Console::new(args.quiet);
    let mut cfg = load_config(&args.config)?;
    if !args.inputs.is_empty() {
        cfg.inputs = args.inputs;
    }
    cfg.jobs = args.jobs;
    // Temporary files go beside the clusters file.
    let target = if args.clusters.as_os_str() == "-" {
        PathBuf::from("clusters")
    } else {
        args.clusters.clone()
    };
    cfg.output = target.clone();
    let report = if args.clusters.as_os_str() == "-" {
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let r = pipeline::dedup_clusters(&cfg, &console, &mut out)?;
        out.flush()?;
        r
    } else {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(parent)
            .with_context(|| format!("cannot write beside `{}`", target.display()))?;
        let r = {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            let r = pipeline::dedup_clusters(&cfg, &console, &mut out)?;
            out.flush()?;
            r
        };
        tmp.persist(&target)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        r
    };
    if !args.quiet {
        eprintln!(
            "{} articles in {} clusters ({} removed as duplicates)",
            report.articles,
            report.clusters,
            report.articles - report.clusters
        );
    }
    Ok(0)
}

fn write_map(
    out: &mut impl Write,
    label: &str,
    map: &std::collections::BTreeMap<String, u64>,
) -> std::io::Result<()> {
    if map.is_empty() {
        return Ok(());
    }
    let total: u64 = map.values().sum();
    let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(out, "{label:<22}{total} ({})", parts.join(", "))
}

fn write_stats_table(out: &mut impl Write, s: &Stats) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<22}{} ({} bytes)",
        "input files", s.input_files, s.input_bytes
    )?;
    write_map(out, "skipped", &s.skipped)?;
    write_map(out, "rejected", &s.rejected)?;
    writeln!(out, "{:<22}{}", "documents in", s.docs_in)?;
    write_map(out, "dropped", &s.dropped)?;
    writeln!(out, "{:<22}{}", "documents out", s.docs_out)?;
    if s.repaired > 0 {
        writeln!(out, "{:<22}{}", "repaired", s.repaired)?;
    }
    write_map(out, "languages", &s.languages)?;
    write_map(out, "blocks dropped", &s.blocks_dropped)?;
    writeln!(
        out,
        "{:<22}{} ({} parallel pairs)",
        "captions", s.captions, s.parallel_pairs
    )?;
    writeln!(out, "{:<22}{}", "tokens", s.tokens)
}

fn verify_cmd(dir: &std::path::Path, json_out: bool) -> Result<u8> {
    let report =
        verify::verify(dir).with_context(|| format!("cannot verify `{}`", dir.display()))?;
    let ok = report.problems.is_empty();
    let mut stdout = std::io::stdout().lock();
    if json_out {
        let v = json!({
            "ok": ok,
            "problems": report.problems,
            "files_checked": report.files_checked,
            "rows": report.rows,
        });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if ok {
        writeln!(
            stdout,
            "ok: `{}` verified ({} files, {} rows)",
            dir.display(),
            report.files_checked,
            report.rows
        )?;
    } else {
        for p in &report.problems {
            writeln!(stdout, "problem: {p}")?;
        }
        writeln!(
            stdout,
            "FAILED: `{}` has {} problem(s)",
            dir.display(),
            report.problems.len()
        )?;
    }
    Ok(if ok { 0 } else { EXIT_FAILURE })
}

fn inspect(dir: &std::path::Path, json_out: bool) -> Result<u8> {
    let m = release::read_manifest(dir)
        .with_context(|| format!("cannot read release `{}`", dir.display()))?;
    let mut stdout = std::io::stdout().lock();
    if json_out {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&m)?)?;
        return Ok(0);
    }
    writeln!(stdout, "{:<22}{}", "tool version", m.tool_version)?;
    writeln!(
        stdout,
        "{:<22}{} ({})",
        "tokenizer", m.tokenizer.name, &m.tokenizer.sha256
    )?;
    write_stats_table(&mut stdout, &m.stats)?;
    for s in &m.shards {
        writeln!(
            stdout,
            "{:<22}{} rows, {} tokens, {} bytes",
            s.path, s.rows, s.tokens, s.bytes
        )?;
    }
    Ok(0)
}

/// Every article of `files`, decoded and parsed, in order; a file or article that cannot
/// be read is reported once (when `report`) and sets `failed`.
fn each_article(
    files: &[PathBuf],
    cfg: &BuildConfig,
    report: bool,
    failed: &mut bool,
    mut f: impl FnMut(Article) -> Result<()>,
) -> Result<()> {
    for path in files {
        let discovery = source::discover(std::slice::from_ref(path))?;
        for r in &discovery.problems {
            if report {
                eprintln!("warning: {r}");
            }
            *failed = true;
        }
        for file in &discovery.files {
            for unit in source::open(file, &cfg.source) {
                match unit.and_then(|u| source::decode(u, &cfg.source)) {
                    Ok(raw) => f(Article::parse(raw))?,
                    Err(r) => {
                        if report {
                            eprintln!("warning: {r}");
                        }
                        *failed = true;
                    }
                }
            }
        }
    }
    Ok(())
}

fn clean(files: &[PathBuf], json_out: bool) -> Result<u8> {
    let cfg = BuildConfig::default();
    let cleaner = Cleaner::new(&cfg.clean);
    let lang = LangId::new(&cfg.lang);
    let color = !json_out && std::io::stdout().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    // Two passes, so memory does not grow with the number of articles: count the lines
    // every article prints, then decide.
    let mut lines = LineStats::new(cfg.clean.line_filter_mib);
    each_article(files, &cfg, false, &mut failed, |article| {
        lines.add_keys(&LineStats::document_keys(
            article.blocks.iter().map(|b| b.text.as_str()),
        ));
        Ok(())
    })?;
    let lines = (lines.documents() > 1).then_some(&lines);
    failed = false;
    each_article(files, &cfg, true, &mut failed, |article| {
        let mut cleaned = cleaner.clean(&article, lines);
        let annotated = lang.annotate(&mut cleaned);
        if json_out {
            for b in &cleaned.blocks {
                let v = json!({"source": cleaned.source, "decision": b.decision.label(), "text": b.text});
                writeln!(stdout, "{v}")?;
            }
            return Ok(());
        }
        writeln!(stdout, "== {} [{}]", cleaned.source, annotated.lang)?;
        let field = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        writeln!(stdout, "   title: {}", field(&cleaned.title))?;
        writeln!(
            stdout,
            "   byline: {}   credit: {}",
            field(&cleaned.byline),
            field(&cleaned.credit)
        )?;
        for b in &cleaned.blocks {
            let label = b.decision.label();
            let (on, off) = match (color, b.decision) {
                (false, _) => ("", ""),
                (true, Decision::Body) => ("\x1b[32m", "\x1b[0m"),
                (true, Decision::Caption) => ("\x1b[36m", "\x1b[0m"),
                (true, Decision::Drop(_)) => ("\x1b[2;31m", "\x1b[0m"),
            };
            writeln!(stdout, "{on}{label:>15} | {}{off}", b.text)?;
        }
        for p in &annotated.parallel {
            writeln!(
                stdout,
                "{:>15} | {} ({}) = {} ({})",
                "parallel", p.src, p.src_lang, p.tgt, p.tgt_lang
            )?;
        }
        Ok(())
    })?;
    Ok(if failed { EXIT_FAILURE } else { 0 })
}

/// True when the error chain ends in a closed stdout (`quire inspect | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
