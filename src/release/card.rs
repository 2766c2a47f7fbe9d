//! The dataset card, `README.md`: YAML front matter that Hugging Face `datasets` reads
//! (`load_dataset(DIR)` needs no arguments), then prose for people.
//!
//! Everything comes from the manifest data, so the card is as reproducible as the rest.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::manifest::Manifest;
use super::paths::{DATA_DIR, SUMS, TOKENIZER};
use super::schema::DocumentSchema;

/// A YAML scalar. JSON string syntax is valid YAML, and quoting matters: unquoted, a split
/// called `true` or a language `no` (Norwegian) would be read back as a boolean.
fn y(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Markdown inline code that cannot be broken out of.
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// Render the card. `arrow_bytes` holds each split's uncompressed Arrow size (`num_bytes`
/// in `dataset_info`, the number `datasets` itself would record).
pub(crate) fn render(
    m: &Manifest,
    schema: &DocumentSchema,
    arrow_bytes: &BTreeMap<String, u64>,
) -> String {
    let mut out = String::new();
    front_matter(&mut out, m, arrow_bytes);
    prose(&mut out, m, schema);
    out
}

/// Name shown by the Hub; also keeps the front matter non-empty (an empty `---\n---`
/// block is not recognised as metadata at all).
const PRETTY_NAME: &str = "quire news corpus";

fn front_matter(out: &mut String, m: &Manifest, arrow_bytes: &BTreeMap<String, u64>) {
    out.push_str("---\n");
    let _ = writeln!(out, "pretty_name: {}", y(PRETTY_NAME));
    let langs: Vec<&String> = m
        .stats
        .languages
        .keys()
        .filter(|l| l.as_str() != "und")
        .collect();
    if !langs.is_empty() {
        out.push_str("language:\n");
        for l in langs {
            let _ = writeln!(out, "- {}", y(l));
        }
    }
    // Splits with rows only: a split without shards would make `datasets` fail on a glob
    // that matches nothing. `features` is deliberately absent from `dataset_info`: the
    // Parquet schema already gives `datasets` the exact types, while the YAML spelling of
    // list features differs between `datasets` versions (3.x reads `list: int32` as a
    // Python list, not a Sequence).
    let splits: Vec<(&String, u64)> = m
        .splits
        .iter()
        .filter(|(_, s)| s.rows > 0)
        .map(|(n, s)| (n, s.rows))
        .collect();
    if !splits.is_empty() {
        out.push_str("configs:\n- config_name: default\n  data_files:\n");
        for (name, _) in &splits {
            let _ = writeln!(
                out,
                "  - split: {}\n    path: {}",
                y(name),
                y(&format!("{DATA_DIR}/{name}-*.parquet"))
            );
        }
        out.push_str("dataset_info:\n  config_name: default\n  splits:\n");
        let mut dataset_size = 0u64;
        for (name, rows) in &splits {
            let bytes = arrow_bytes.get(*name).copied().unwrap_or(0);
            dataset_size += bytes;
            let _ = writeln!(
                out,
                "  - name: {}\n    num_bytes: {bytes}\n    num_examples: {rows}",
                y(name)
            );
        }
        let download: u64 = m.shards.iter().map(|s| s.bytes).sum();
        let _ = writeln!(
            out,
            "  download_size: {download}\n  dataset_size: {dataset_size}"
        );
    } else {
        // No rows: still point `datasets` at the (absent) shards, so it reports "no data
        // files" instead of loading manifest.json and tokenizer.json as rows.
        let _ = writeln!(
            out,
            "configs:\n- config_name: default\n  data_files: {}",
            y(&format!("{DATA_DIR}/*.parquet"))
        );
    }
    out.push_str("---\n\n");
}

fn counts_table(out: &mut String, title: &str, key: &str, map: &BTreeMap<String, u64>) {
    if map.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}\n\n| {key} | count |\n|---|---:|");
    for (k, v) in map {
        let _ = writeln!(out, "| {} | {v} |", code(k));
    }
    out.push('\n');
}

fn prose(out: &mut String, m: &Manifest, schema: &DocumentSchema) {
    let s = &m.stats;
    let rows = m.rows();
    let tokens: u64 = m.shards.iter().map(|s| s.tokens).sum();
    let _ = writeln!(
        out,
        "# {PRETTY_NAME}\n\n\
         Cleaned, deduplicated, language-tagged and tokenized news articles, built by \
         quire {} from raw scraped articles. \
         {rows} documents, {tokens} tokens, in Parquet (`{}` schema v{}).\n",
        m.tool_version, schema.name, schema.version
    );
    if rows == 0 {
        out.push_str("**This release contains no documents.**\n\n");
    }

    out.push_str("## Splits\n\n| split | documents | tokens | shards | Parquet bytes |\n|---|---:|---:|---:|---:|\n");
    for (name, info) in &m.splits {
        let bytes: u64 = m
            .shards
            .iter()
            .filter(|sh| &sh.split == name)
            .map(|sh| sh.bytes)
            .sum();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {bytes} |",
            code(name),
            info.rows,
            info.tokens,
            info.shards
        );
    }
    out.push('\n');

    if !s.languages.is_empty() {
        out.push_str("## Languages\n\nDocuments by language of the body (ISO 639-1; `und` = undetermined).\n\n| language | documents | share |\n|---|---:|---:|\n");
        for (lang, n) in &s.languages {
            let share = if s.docs_out == 0 {
                0.0
            } else {
                100.0 * *n as f64 / s.docs_out as f64
            };
            let _ = writeln!(out, "| {} | {n} | {share:.1} % |", code(lang));
        }
        out.push('\n');
    }

    let _ = writeln!(
        out,
        "## How it was built\n\n\
         - input files: {} ({} bytes)\n\
         - documents decoded: {}\n\
         - documents written: {}\n\
         - documents needing a decoding repair: {}\n\
         - captions kept: {}; caption translation pairs: {}\n",
        s.input_files,
        s.input_bytes,
        s.docs_in,
        s.docs_out,
        s.repaired,
        s.captions,
        s.parallel_pairs
    );
    counts_table(
        out,
        "Inputs skipped (produced no document), by reason:",
        "reason",
        &s.skipped,
    );
    counts_table(out, "Inputs rejected, by reason:", "reason", &s.rejected);
    counts_table(out, "Documents dropped, by reason:", "reason", &s.dropped);
    counts_table(
        out,
        "Blocks removed by cleaning, by reason:",
        "reason",
        &s.blocks_dropped,
    );
    out.push_str("The full build configuration is recorded under `config` in `manifest.json`.\n\n");

    let _ = writeln!(
        out,
        "## Tokenizer\n\n\
         `tokens` holds the ids of `text` under {} (sha256 `{}`), shipped as `{TOKENIZER}` \
         (load it with the `tokenizers` library: `Tokenizer.from_file(\"{TOKENIZER}\")`). \
         No special tokens are added, and special-token strings that occur in an article \
         (such as `<|endoftext|>`) are encoded as plain text, so to reproduce the ids set \
         `tok.encode_special_tokens = True` and call `tok.encode(text, add_special_tokens=False)`. \
         Ids are `int32` (see below).\n",
        code(&m.tokenizer.name),
        m.tokenizer.sha256
    );

    out.push_str("## Columns\n\nList items and struct fields are never null; `?` marks a nullable column.\n\n| column | type | description |\n|---|---|---|\n");
    for c in &schema.columns {
        let q = if c.nullable { "?" } else { "" };
        let _ = writeln!(
            out,
            "| `{}` | `{}{q}` | {} |",
            c.name,
            c.type_,
            c.description.replace('|', "\\|")
        );
    }
    let _ = writeln!(
        out,
        "\n`tokens` is `list<int32>`, not unsigned: Parquet has no unsigned physical type \
         (uint32 is only an annotation some readers mishandle), PyTorch, JAX, Java and \
         DuckDB `INTEGER` are signed 32-bit, and vocabularies are far below 2^31.\n\n\
         Schema sha256: `{}` (also in every shard's `quire.schema` metadata).\n",
        schema.sha256
    );

    let first_split = m
        .splits
        .keys()
        .next()
        .map(String::as_str)
        .unwrap_or("train");
    let _ = writeln!(
        out,
        "## Loading\n\n\
         ```python\n\
         from datasets import load_dataset\n\
         ds = load_dataset(\"path/to/this/dir\")          # one split per `data/<split>-*.parquet`\n\n\
         import pyarrow.dataset as pads\n\
         table = pads.dataset(\"path/to/this/dir/{DATA_DIR}\", format=\"parquet\").to_table()\n\n\
         import polars as pl\n\
         df = pl.read_parquet(\"path/to/this/dir/{DATA_DIR}/{first_split}-*.parquet\")\n\
         ```\n\n\
         ```sql\n\
         -- DuckDB\n\
         SELECT lang, count(*) FROM 'path/to/this/dir/{DATA_DIR}/*.parquet' GROUP BY lang;\n\
         ```\n\n\
         Shard names are `<split>-<index>-of-<count>-<first 16 hex of the file's sha256>.parquet`.\n"
    );

    let _ = writeln!(
        out,
        "## Verifying\n\n\
         ```sh\n\
         quire verify path/to/this/dir     # every hash, size, shard footer, schema and count; no unlisted files\n\
         cd path/to/this/dir && sha256sum -c {SUMS}   # hashes only, needs nothing but coreutils\n\
         ```\n\n\
         `manifest.json` lists every shard (split, rows, tokens, bytes, sha256) and every \
         other file; `{SUMS}` covers every file including the manifest. The same inputs and \
         configuration give a byte-identical release."
    );
}
