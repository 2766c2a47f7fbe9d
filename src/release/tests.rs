//! End-to-end tests of the release writer: write a release, read it back, write it again.

use std::collections::BTreeMap;

use parquet::file::reader::{FileReader, SerializedFileReader};

use super::test_support::*;
use super::*;
use crate::config::ReleaseConfig;

#[test]
fn round_trip_rows_two_splits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    let docs = sample_docs();
    let m = write_sample(&out);

    assert_eq!(m.format, FORMAT);
    assert_eq!(m.splits.len(), 2);
    assert_eq!(m.splits["train"].rows, 3);
    assert_eq!(m.splits["test"].rows, 2);
    assert_eq!(m.splits["train"].tokens, 4 + 40 + 3);
    let mut by_split: BTreeMap<&str, Vec<Document>> = BTreeMap::new();
    for sh in &m.shards {
        assert!(sh
            .path
            .starts_with(&format!("data/{}-00000-of-00001-", sh.split)));
        by_split
            .entry(if sh.split == "train" { "train" } else { "test" })
            .or_default()
            .extend(read_shard(&out.join(&sh.path)));
    }
    for split in ["train", "test"] {
        let want: Vec<Document> = docs
            .iter()
            .filter(|(s, _)| *s == split)
            .map(|(_, d)| d.clone())
            .collect();
        assert_eq!(by_split[split], want, "split {split}");
    }

    let names: Vec<String> = tree(&out).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    for f in [
        "README.md",
        "manifest.json",
        "SHA256SUMS",
        "tokenizer.json",
        "dedup/removed.jsonl",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} missing from {names:?}");
    }
    let files: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        ["README.md", "dedup/removed.jsonl", "tokenizer.json"]
    );
    assert_eq!(read_manifest(&out).unwrap(), m);
    // Nothing but the release and its lock file is left beside it.
    let mut siblings: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    siblings.sort();
    assert_eq!(siblings, [".rel.lock", "rel"]);
}

#[test]
fn shard_metadata_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    // Tiny row groups: every batch flushes a row group; two row groups per shard.
    let cfg = ReleaseConfig {
        row_group_bytes: 1,
        row_groups_per_shard: 2,
        ..ReleaseConfig::default()
    };
    let docs: Vec<(&str, Document)> = (0..5)
        .flat_map(|_| sample_docs())
        .filter(|(s, _)| *s == "train")
        .collect();
    let m = write_release_with(&out, &docs, &cfg);
    assert_eq!(m.splits["train"].rows, 15);
    // batch_bytes = min(8 MiB, 1) = 1 → one row per batch and row group, 2 per shard.
    assert_eq!(m.splits["train"].shards, 8);
    assert_eq!(m.shards.len(), 8);
    assert!(m.shards[7].path.starts_with("data/train-00007-of-00008-"));

    let mut rows = 0;
    for sh in &m.shards {
        let f = std::fs::File::open(out.join(&sh.path)).unwrap();
        let r = SerializedFileReader::new(f).unwrap();
        let md = r.metadata();
        let fm = md.file_metadata();
        assert_eq!(
            fm.created_by(),
            Some(format!("quire version {}", crate::TOOL_VERSION).as_str())
        );
        let kv: BTreeMap<String, String> = fm
            .key_value_metadata()
            .unwrap()
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(kv["quire.format_version"], "1");
        assert_eq!(kv["quire.split"], "train");
        assert_eq!(
            kv["quire.schema"],
            schema::document_schema().unwrap().sha256
        );
        assert_eq!(kv["quire.tool_version"], crate::TOOL_VERSION);
        assert!(md.num_row_groups() <= 2);
        for rg in md.row_groups() {
            for c in rg.columns() {
                assert!(matches!(
                    c.compression(),
                    parquet::basic::Compression::ZSTD(_)
                ));
                // Every column has a page index but the article text, whose minimum and
                // maximum no reader prunes by (and which would cost two copies of a
                // huge document to keep).
                let text = c.column_path().string() == "text";
                assert_eq!(
                    c.column_index_offset().is_some(),
                    !text,
                    "page index of {c:?}"
                );
                assert_eq!(c.statistics().is_some(), !text, "statistics of {c:?}");
            }
        }
        rows += fm.num_rows();
        assert_eq!(read_shard(&out.join(&sh.path)).len() as u64, sh.rows);
    }
    assert_eq!(rows, 15);
    assert!(crate::verify::verify(&out).unwrap().is_ok());
}

#[test]
fn deterministic_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_sample(&a);
    write_sample(&b);
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(!ta.is_empty());
    assert_eq!(ta, tb);
    // Rebuilding in place gives the same bytes too.
    write_sample(&a);
    assert_eq!(tree(&a), tb);
}

#[test]
fn empty_release_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("empty");
    let w = ReleaseWriter::create(&out, &ReleaseConfig::default()).unwrap();
    let m = w
        .finish(serde_json::json!({}), &tokenizer(), &Stats::default())
        .unwrap();
    assert!(m.shards.is_empty() && m.splits.is_empty());
    let card = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        card.starts_with(
            "---\npretty_name: \"quire news corpus\"\nconfigs:\n- config_name: default\n  \
             data_files: \"data/*.parquet\"\n---\n"
        ),
        "{card}"
    );
    assert!(card.contains("no documents"));
    let report = crate::verify::verify(&out).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn card_front_matter() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    write_sample(&out);
    let card = std::fs::read_to_string(out.join("README.md")).unwrap();
    let front = card.split("---\n").nth(1).unwrap();
    for needle in [
        "configs:\n- config_name: default\n  data_files:\n",
        "  - split: \"test\"\n    path: \"data/test-*.parquet\"\n",
        "  - split: \"train\"\n    path: \"data/train-*.parquet\"\n",
        "  - name: \"train\"\n    num_bytes: ",
        "    num_examples: 3\n",
        "    num_examples: 2\n",
        "- \"no\"\n", // Norwegian, quoted so YAML does not read `false`
    ] {
        assert!(front.contains(needle), "{needle:?} not in\n{front}");
    }
    assert!(!front.contains("\"und\""));
    assert!(card.contains("sha256sum -c SHA256SUMS"));
    assert!(card.contains("quire verify"));
}

#[test]
fn replaces_only_releases() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    assert!(ReleaseWriter::create(&out, &ReleaseConfig::default()).is_err());
    std::fs::remove_file(out.join("notes.txt")).unwrap();
    write_sample(&out); // an empty directory is fine
    let docs: Vec<_> = sample_docs().into_iter().take(1).collect();
    let m = write_release_with(&out, &docs, &ReleaseConfig::default());
    assert_eq!(m.rows(), 1);
    assert!(crate::verify::verify(&out).unwrap().is_ok());

    // A writer dropped without finish leaves the output as it was and no temp dir.
    let before = tree(&out);
    let mut w = ReleaseWriter::create(&out, &ReleaseConfig::default()).unwrap();
    w.write("train", sample_docs().remove(0).1).unwrap();
    drop(w);
    assert_eq!(tree(&out), before);
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn concurrent_builds_into_one_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| write_sample(&out));
        }
    });
    let report = crate::verify::verify(&out).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    let cfg = ReleaseConfig::default();
    for bad in ["", "a-b", "../x", "a/b", "a.b"] {
        let mut w = ReleaseWriter::create(&out, &cfg).unwrap();
        assert!(w.write(bad, Document::default()).is_err(), "split {bad:?}");
        // A failed call poisons the writer.
        assert!(w.write("train", Document::default()).is_err());
    }
    for bad in [
        "manifest.json",
        "SHA256SUMS",
        "README.md",
        "tokenizer.json",
        "data/x",
        "data",
        "../x",
        "/etc/passwd",
        "a//b",
    ] {
        let mut w = ReleaseWriter::create(&out, &cfg).unwrap();
        assert!(w.add_file(bad, b"x").is_err(), "file {bad:?}");
    }
    for bad in ["extra/a", "extra", "extra/a/b"] {
        let mut w = ReleaseWriter::create(&out, &cfg).unwrap();
        w.add_file("extra/a", b"x").unwrap();
        assert!(w.add_file(bad, b"y").is_err(), "{bad} after extra/a");
    }
    let mut w = ReleaseWriter::create(&out, &cfg).unwrap();

    // Stats that disagree with the rows, or a tokenizer hash that is not the bytes'.
    w.write("train", sample_docs().remove(0).1).unwrap();
    let e = w
        .finish(serde_json::json!({}), &tokenizer(), &Stats::default())
        .unwrap_err();
    assert!(e.to_string().contains("stats"), "{e}");
    assert!(!out.exists());

    let mut w = ReleaseWriter::create(&out, &cfg).unwrap();
    w.write("train", sample_docs().remove(0).1).unwrap();
    let mut tok = tokenizer();
    tok.sha256 = "0".repeat(64);
    let docs = [sample_docs().remove(0)];
    assert!(w
        .finish(serde_json::json!({}), &tok, &stats_for(&docs))
        .is_err());

    let zero = ReleaseConfig {
        row_groups_per_shard: 0,
        ..cfg
    };
    assert!(ReleaseWriter::create(&out, &zero).is_err());
}

#[test]
fn sha256sum_accepts_the_release() {
    if std::process::Command::new("sha256sum")
        .arg("--version")
        .output()
        .is_err()
    {
        return; // coreutils not installed: nothing to compare against
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    write_sample(&out);
    let st = std::process::Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(&out)
        .status()
        .unwrap();
    assert!(st.success());
}

/// A small validator for the subset of JSON Schema `schema/manifest.schema.json` uses
/// (`type`, `properties`, `required`, `additionalProperties`, `items`, `$ref`, `const`,
/// `pattern` as a fixed hex/regex check is skipped), so the schema file cannot drift from
/// what the writer produces.
fn validate(schema: &serde_json::Value, root: &serde_json::Value, v: &serde_json::Value, at: &str) {
    use serde_json::Value;
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").unwrap();
        return validate(&root["$defs"][name], root, v, at);
    }
    if let Some(c) = schema.get("const") {
        assert_eq!(c, v, "{at}: const");
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "boolean" => v.is_boolean(),
            _ => true,
        };
        assert!(ok, "{at}: expected {t}, got {v}");
    }
    if let (Some(obj), Some(props)) = (v.as_object(), schema.get("properties")) {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert!(
                obj.contains_key(req.as_str().unwrap()),
                "{at}: missing {req}"
            );
        }
        for (k, val) in obj {
            match props.get(k) {
                Some(s) => validate(s, root, val, &format!("{at}.{k}")),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => panic!("{at}: unexpected key {k}"),
                    Some(s @ Value::Object(_)) => validate(s, root, val, &format!("{at}.{k}")),
                    _ => {}
                },
            }
        }
    } else if let (Some(obj), Some(s @ serde_json::Value::Object(_))) =
        (v.as_object(), schema.get("additionalProperties"))
    {
        for (k, val) in obj {
            validate(s, root, val, &format!("{at}.{k}"));
        }
    }
    if let (Some(arr), Some(items)) = (v.as_array(), schema.get("items")) {
        for (i, item) in arr.iter().enumerate() {
            validate(items, root, item, &format!("{at}[{i}]"));
        }
    }
}

#[test]
fn manifest_matches_its_json_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/manifest.schema.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    write_sample(&out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    validate(&schema, &schema, &manifest, "$");
    // And the validator does reject: an unknown key at the top level.
    let mut bad = manifest.clone();
    bad["extra"] = serde_json::json!(1);
    assert!(std::panic::catch_unwind(|| validate(&schema, &schema, &bad, "$")).is_err());
}

#[test]
fn manifest_bytes_are_stable_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    write_sample(&out);
    let text = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(text.ends_with("}\n"));
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "format",
            "format_version",
            "tool_version",
            "schema",
            "config",
            "tokenizer",
            "stats",
            "splits",
            "shards",
            "files"
        ]
    );
    assert!(
        !text.contains(dir.path().to_str().unwrap()),
        "absolute path leaked"
    );
}

#[test]
fn row_groups_follow_the_byte_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    // ~350 bytes a document: a batch is cut at 4096 rows (~1.4 MB), a row group after
    // 3 MiB, i.e. after whole batches, and a shard after 2 row groups.
    let cfg = ReleaseConfig {
        row_group_bytes: 3 << 20,
        row_groups_per_shard: 2,
        ..ReleaseConfig::default()
    };
    let doc = |i: u32| Document {
        id: format!("{i:016x}"),
        source: "s".into(),
        lang: "en".into(),
        text: format!("{i} {}", "lorem ipsum ".repeat(16)),
        tokens: (0..10).map(|t| t + i).collect(),
        dup_count: 1,
        ..Document::default()
    };
    let docs: Vec<(&str, Document)> = (0..30_000).map(|i| ("train", doc(i))).collect();
    let m = write_release_with(&out, &docs, &cfg);
    let mut groups = Vec::new();
    for sh in &m.shards {
        let r =
            SerializedFileReader::new(std::fs::File::open(out.join(&sh.path)).unwrap()).unwrap();
        assert!(r.metadata().num_row_groups() <= 2);
        groups.extend(r.metadata().row_groups().iter().map(|g| g.num_rows()));
    }
    assert_eq!(groups.iter().sum::<i64>(), 30_000);
    let (last, full) = groups.split_last().unwrap();
    assert!(!full.is_empty(), "{groups:?}");
    for g in full {
        assert!(*g > 4096 && g % 4096 == 0, "{groups:?}");
    }
    assert!(*last > 0);
    assert_eq!(m.shards.len(), groups.len().div_ceil(2));
}
