//! Throughput of the clean stage (article parsing + per-block decisions with corpus line
//! statistics), one thread, on real news pages.
//!
//! cargo bench --bench clean_speed -- ../shared/bench/boilerplate/dev
//! (reads every `<id>.txt` page in the folder, skipping `*.gold.txt`; repeats the corpus
//! until the thread has used at least two CPU seconds). Pages per CPU second of the
//! thread is the per-core figure; on a shared machine wall time also counts the time the
//! thread waited for a core, so it is printed beside it but not relied on.

use quire::article::Article;
use quire::clean::{Cleaner, LineStats};
use quire::config::CleanConfig;
use quire::source::{Format, RawDoc};

mod common;
use common::thread_cpu;

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "../shared/bench/boilerplate/dev".into());
    let mut pages: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("read the page folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".txt") && !n.ends_with(".gold.txt")
        })
        .filter_map(|p| {
            Some((
                p.file_name()?.to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).ok()?,
            ))
        })
        .collect();
    pages.sort();
    let articles: Vec<Article> = pages
        .iter()
        .map(|(name, text)| {
            Article::parse(RawDoc {
                source: name.clone(),
                text: text.clone(),
                format: Some(Format::Text),
                ..Default::default()
            })
        })
        .collect();
    let mut lines = LineStats::new(32);
    for a in &articles {
        lines.add_document(a.blocks.iter().map(|b| b.text.as_str()));
    }
    let cleaner = Cleaner::new(&CleanConfig::default());
    let bytes: usize = pages.iter().map(|(_, t)| t.len()).sum();
    let start = std::time::Instant::now();
    let cpu0 = thread_cpu();
    let mut done = 0usize;
    let mut kept = 0usize;
    while thread_cpu() - cpu0 < 2.0 {
        for (name, text) in &pages {
            let a = Article::parse(RawDoc {
                source: name.clone(),
                text: text.clone(),
                format: Some(Format::Text),
                ..Default::default()
            });
            kept += cleaner.clean(&a, Some(&lines)).body().count();
            done += 1;
        }
    }
    let cpu = thread_cpu() - cpu0;
    let wall = start.elapsed().as_secs_f64();
    let passes = done as f64 / pages.len() as f64;
    println!(
        "clean: {:.0} pages per CPU second, {:.1} MB per CPU second, one thread ({:.0} pages/s wall); {} pages of {:.1} KB average, {} body blocks per pass",
        done as f64 / cpu,
        passes * bytes as f64 / cpu / 1e6,
        done as f64 / wall,
        pages.len(),
        bytes as f64 / pages.len() as f64 / 1e3,
        kept as f64 / passes
    );
}
