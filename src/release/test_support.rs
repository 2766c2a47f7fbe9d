//! Helpers shared by the release and verify tests: sample documents, a one-call release
//! writer, and reading shards back into `Document`s.

use std::path::Path;

use arrow::array::{
    Array, AsArray, Int32Array, ListArray, RecordBatch, StringArray, StructArray,
    TimestampMillisecondArray,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use super::{Caption, Document, Manifest, ParallelPair, ReleaseWriter, Stats, TokenizerInfo};
use crate::config::ReleaseConfig;

pub(crate) fn sample_docs() -> Vec<(&'static str, Document)> {
    let d = |id: &str, lang: &str, text: &str, tokens: Vec<u32>| Document {
        id: id.into(),
        source: "fixture.jsonl".into(),
        lang: lang.into(),
        text: text.into(),
        paragraph_langs: vec![lang.into()],
        tokens,
        dup_count: 1,
        ..Document::default()
    };
    vec![
        (
            "train",
            Document {
                source_id: Some("a-1".into()),
                url: Some("https://example.org/a?x=1&y=ü".into()),
                title: Some("Ünïcödé — “quotes” 😀".into()),
                byline: Some("Zoë Ørsted".into()),
                published: Some(1_700_000_000_123),
                paragraph_langs: vec!["de".into(), "en".into()],
                captions: vec![
                    Caption {
                        text: "Ein Bild".into(),
                        lang: "de".into(),
                    },
                    Caption {
                        text: "A picture".into(),
                        lang: "en".into(),
                    },
                ],
                parallel: vec![ParallelPair {
                    src_lang: "de".into(),
                    src: "Ein Bild".into(),
                    tgt_lang: "en".into(),
                    tgt: "A picture".into(),
                }],
                credit: Some("Foto: dpa".into()),
                dup_count: 3,
                ..d(
                    "00112233445566aa",
                    "de",
                    "Erster Absatz.\n\nSecond paragraph.",
                    vec![1, 2, 3, 2_000_000_000],
                )
            },
        ),
        ("test", d("00112233445566bb", "und", "", vec![])),
        (
            "train",
            d("00112233445566cc", "ja", "日本語のテキスト。", vec![7; 40]),
        ),
        (
            "test",
            Document {
                published: Some(-86_400_000),
                paragraph_langs: vec![],
                ..d("00112233445566dd", "no", "Norsk tekst.", vec![0, 5])
            },
        ),
        (
            "train",
            d(
                "00112233445566ee",
                "en",
                "Plain English text.\n\nTwo paragraphs.",
                vec![9, 8, 7],
            ),
        ),
    ]
}

pub(crate) fn stats_for(docs: &[(&str, Document)]) -> Stats {
    let mut s = Stats {
        input_files: 2,
        input_bytes: 1234,
        docs_in: docs.len() as u64 + 1,
        docs_out: docs.len() as u64,
        tokens: docs.iter().map(|(_, d)| d.tokens.len() as u64).sum(),
        ..Stats::default()
    };
    s.dropped.insert("exact_duplicate".into(), 1);
    s.rejected.insert("binary".into(), 1);
    for (_, d) in docs {
        *s.languages.entry(d.lang.clone()).or_insert(0) += 1;
    }
    s
}

pub(crate) fn tokenizer() -> TokenizerInfo {
    let json = br#"{"version":"1.0","model":{"type":"WordLevel","vocab":{"[UNK]":0}}}"#.to_vec();
    TokenizerInfo {
        name: "test-wordlevel".into(),
        sha256: hex::encode(Sha256::digest(&json)),
        json,
    }
}

/// Write `docs` as a release at `out` with `cfg`.
pub(crate) fn write_release_with(
    out: &Path,
    docs: &[(&str, Document)],
    cfg: &ReleaseConfig,
) -> Manifest {
    let mut w = ReleaseWriter::create(out, cfg).unwrap();
    for (split, d) in docs {
        w.write(split, d.clone()).unwrap();
    }
    w.add_file("dedup/removed.jsonl", b"{\"id\":\"x\"}\n")
        .unwrap();
    w.finish(
        serde_json::json!({"release": {"row_group_bytes": cfg.row_group_bytes}, "lang": {"min": 0.5}}),
        &tokenizer(),
        &stats_for(docs),
    )
    .unwrap()
}

/// The sample release at `out`, with the default configuration.
pub(crate) fn write_sample(out: &Path) -> Manifest {
    write_release_with(out, &sample_docs(), &ReleaseConfig::default())
}

fn opt_str(a: &StringArray, i: usize) -> Option<String> {
    a.is_valid(i).then(|| a.value(i).to_string())
}

fn strings(a: &dyn Array) -> Vec<String> {
    let a = a.as_string::<i32>();
    (0..a.len()).map(|i| a.value(i).to_string()).collect()
}

/// Decode a batch of the release schema back into documents.
pub(crate) fn batch_to_docs(b: &RecordBatch) -> Vec<Document> {
    let s = |name: &str| b.column_by_name(name).unwrap().as_string::<i32>().clone();
    let l = |name: &str| {
        b.column_by_name(name)
            .unwrap()
            .as_any()
            .downcast_ref::<ListArray>()
            .unwrap()
            .clone()
    };
    let i32s = |name: &str| {
        b.column_by_name(name)
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone()
    };
    let (id, source, source_id, url, title, byline, lang, text, credit) = (
        s("id"),
        s("source"),
        s("source_id"),
        s("url"),
        s("title"),
        s("byline"),
        s("lang"),
        s("text"),
        s("credit"),
    );
    let published = b
        .column_by_name("published")
        .unwrap()
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap()
        .clone();
    let (pl, caps, cap_langs, par, toks) = (
        l("paragraph_langs"),
        l("captions"),
        l("caption_langs"),
        l("parallel"),
        l("tokens"),
    );
    let (n_tokens, dup) = (i32s("n_tokens"), i32s("dup_count"));
    (0..b.num_rows())
        .map(|i| {
            let (ct, cl) = (
                strings(caps.value(i).as_ref()),
                strings(cap_langs.value(i).as_ref()),
            );
            let pr = par.value(i);
            let pr = pr.as_any().downcast_ref::<StructArray>().unwrap();
            let cols: Vec<Vec<String>> = (0..4).map(|c| strings(pr.column(c))).collect();
            let tokens: Vec<u32> = toks
                .value(i)
                .as_any()
                .downcast_ref::<Int32Array>()
                .unwrap()
                .values()
                .iter()
                .map(|t| *t as u32)
                .collect();
            assert_eq!(n_tokens.value(i) as usize, tokens.len());
            Document {
                id: id.value(i).into(),
                source: source.value(i).into(),
                source_id: opt_str(&source_id, i),
                url: opt_str(&url, i),
                title: opt_str(&title, i),
                byline: opt_str(&byline, i),
                published: published.is_valid(i).then(|| published.value(i)),
                lang: lang.value(i).into(),
                text: text.value(i).into(),
                paragraph_langs: strings(pl.value(i).as_ref()),
                captions: ct
                    .into_iter()
                    .zip(cl)
                    .map(|(text, lang)| Caption { text, lang })
                    .collect(),
                parallel: (0..cols[0].len())
                    .map(|k| ParallelPair {
                        src_lang: cols[0][k].clone(),
                        src: cols[1][k].clone(),
                        tgt_lang: cols[2][k].clone(),
                        tgt: cols[3][k].clone(),
                    })
                    .collect(),
                credit: opt_str(&credit, i),
                tokens,
                dup_count: dup.value(i) as u32,
            }
        })
        .collect()
}

/// Every document of a shard file.
pub(crate) fn read_shard(path: &Path) -> Vec<Document> {
    let f = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    reader.flat_map(|b| batch_to_docs(&b.unwrap())).collect()
}

/// All files of a directory tree, relative paths with their bytes, sorted.
pub(crate) fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}
