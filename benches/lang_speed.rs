//! Throughput of the language stage, one thread, on the real news corpus.
//!
//! cargo bench --bench lang_speed -- ../shared/corpus [--max-docs N] [--dump FILE]
//!
//! Reads every `*.jsonl.zst` file in the folder, splits each article into blocks as the
//! build does (`Article::parse`: lines, hard-wrapped ones joined; head fields left out),
//! and times per corpus (thread CPU time, since the machine is shared):
//! - `evidence`: `LangId::evidence` on every paragraph alone;
//! - `annotate`: `LangId::annotate` on the article, every paragraph a body block (what the
//!   build runs after cleaning).
//!
//! `--dump FILE` writes every decision (document language, each paragraph's best language
//! and reliability, captions and pairs) so two versions can be compared line by line.

use std::io::{BufRead, Write};

use quire::article::Article;
use quire::clean::{CleanArticle, CleanBlock, Decision};
use quire::config::LangConfig;
use quire::lang::LangId;
use quire::source::{Format, RawDoc};

mod common;
use common::thread_cpu;

struct Doc {
    id: String,
    paragraphs: Vec<String>,
}

fn read_corpus(path: &std::path::Path, max_docs: usize) -> Vec<Doc> {
    let file = std::fs::File::open(path).expect("open corpus file");
    let reader = std::io::BufReader::new(zstd::Decoder::new(file).expect("zstd stream"));
    let mut docs = Vec::new();
    for line in reader.lines() {
        if docs.len() >= max_docs {
            break;
        }
        let line = line.expect("read corpus line");
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let article = Article::parse(RawDoc {
            source: id.clone(),
            title: v["title"].as_str().map(str::to_string),
            text: v["text"].as_str().unwrap_or_default().to_string(),
            format: Some(Format::Jsonl),
            ..Default::default()
        });
        let paragraphs = article
            .blocks
            .into_iter()
            .filter(|b| b.role.is_none())
            .map(|b| b.text)
            .collect();
        docs.push(Doc { id, paragraphs });
    }
    docs
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = "../shared/corpus".to_string();
    let mut max_docs = usize::MAX;
    let mut dump: Option<std::io::BufWriter<std::fs::File>> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--max-docs" => {
                i += 1;
                max_docs = args[i].parse().expect("--max-docs N");
            }
            "--dump" => {
                i += 1;
                dump = Some(std::io::BufWriter::new(
                    std::fs::File::create(&args[i]).expect("create dump file"),
                ));
            }
            a if a.starts_with('-') => {} // cargo bench passes --bench
            a => dir = a.to_string(),
        }
        i += 1;
    }
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .expect("read the corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    files.sort();

    let t0 = thread_cpu();
    let lang = LangId::new(&LangConfig::default());
    let _ = lang.detect("warm up the model"); // unpacks the n-gram tables
    println!("model load: {:.2} CPU-s", thread_cpu() - t0);

    let (mut all_bytes, mut all_ev, mut all_an) = (0usize, 0f64, 0f64);
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let docs = read_corpus(path, max_docs);
        let n_par: usize = docs.iter().map(|d| d.paragraphs.len()).sum();
        let bytes: usize = docs
            .iter()
            .flat_map(|d| &d.paragraphs)
            .map(String::len)
            .sum();

        let t = thread_cpu();
        let mut reliable = 0usize;
        for d in &docs {
            for p in &d.paragraphs {
                reliable += usize::from(lang.evidence(p).reliable());
            }
        }
        let ev = thread_cpu() - t;

        let mut articles: Vec<CleanArticle> = docs
            .iter()
            .map(|d| CleanArticle {
                source: d.id.clone(),
                blocks: d
                    .paragraphs
                    .iter()
                    .map(|p| CleanBlock {
                        text: p.clone(),
                        decision: Decision::Body,
                    })
                    .collect(),
                ..Default::default()
            })
            .collect();
        let t = thread_cpu();
        let annotated: Vec<_> = articles.iter_mut().map(|a| lang.annotate(a)).collect();
        let an = thread_cpu() - t;

        let mb = bytes as f64 / 1e6;
        println!(
            "{name:<28} {:>6} docs {:>7} paragraphs {:>6.1} MB | evidence {:>6.2} CPU-s {:>6.1} MB/s {:>8.0} par/s ({reliable} reliable) | annotate {:>6.2} CPU-s {:>6.1} MB/s",
            docs.len(),
            n_par,
            mb,
            ev,
            mb / ev,
            n_par as f64 / ev,
            an,
            mb / an,
        );
        all_bytes += bytes;
        all_ev += ev;
        all_an += an;

        if let Some(out) = dump.as_mut() {
            for ((d, a), an) in docs.iter().zip(&articles).zip(&annotated) {
                let per: Vec<String> = d
                    .paragraphs
                    .iter()
                    .map(|p| {
                        let det = lang.detect(p);
                        format!("{}{}", det.lang, if det.reliable { "" } else { "?" })
                    })
                    .collect();
                let decisions: String = a
                    .blocks
                    .iter()
                    .map(|b| match b.decision {
                        Decision::Body => 'b',
                        Decision::Caption => 'c',
                        Decision::Drop(_) => 'd',
                    })
                    .collect();
                let para: Vec<&str> = an.paragraphs.iter().map(|(_, l)| l.as_str()).collect();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    d.id,
                    an.lang,
                    para.join(","),
                    decisions,
                    an.parallel.len(),
                    per.join(",")
                )
                .expect("write dump");
            }
        }
    }
    let mb = all_bytes as f64 / 1e6;
    println!(
        "{:<28} {mb:>6.1} MB | evidence {all_ev:.2} CPU-s {:.1} MB/s | annotate {all_an:.2} CPU-s {:.1} MB/s",
        "all",
        mb / all_ev,
        mb / all_an
    );
}
