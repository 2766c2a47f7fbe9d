"""A release reads the same in every tool an ML engineer uses, and agrees with its manifest.

Each test runs on the release of raw/ and on the release of the generated JSONL corpus.
"""

import hashlib
import json
import re
import shutil
import subprocess

import duckdb
import jsonschema
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tokenizers
import yaml

from conftest import SCHEMA_DIR, manifest, shard_paths


def arrow_type_name(t: pa.DataType) -> str:
    """A pyarrow type in the grammar of schema/document.schema.json."""
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_int32(t):
        return "int32"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.unit}]" + (f", tz={t.tz}" if t.tz else "")
    if pa.types.is_list(t):
        return f"list<{arrow_type_name(t.value_type)}>"
    if pa.types.is_struct(t):
        fields = ", ".join(f"{f.name}: {arrow_type_name(f.type)}" for f in t)
        return f"struct<{fields}>"
    return f"?{t}"


def inner_nullable_fields(t: pa.DataType, where: str):
    """List items and struct fields nested in `t` that are nullable (the schema says never)."""
    out = []
    if pa.types.is_list(t):
        if t.value_field.nullable:
            out.append(f"{where}[]")
        out += inner_nullable_fields(t.value_type, f"{where}[]")
    elif pa.types.is_struct(t):
        for f in t:
            if f.nullable:
                out.append(f"{where}.{f.name}")
            out += inner_nullable_fields(f.type, f"{where}.{f.name}")
    return out


def no_space(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_rows_match_manifest(release):
    m = manifest(release)
    table = pq.read_table(release / "data")
    assert table.num_rows == m["stats"]["docs_out"] > 0
    assert sum(s["rows"] for s in m["shards"]) == table.num_rows
    assert [s["path"] for s in m["shards"]] == [
        p.relative_to(release).as_posix() for p in shard_paths(release)
    ], "manifest shards and data/*.parquet differ"
    for shard in m["shards"]:
        path = release / shard["path"]
        assert pq.ParquetFile(path).metadata.num_rows == shard["rows"], shard["path"]
        assert path.stat().st_size == shard["bytes"], shard["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shard["sha256"], shard["path"]
        n_tokens = pq.read_table(path, columns=["n_tokens"]).column("n_tokens").to_pylist()
        assert sum(n_tokens) == shard["tokens"], shard["path"]
    for name, split in m["splits"].items():
        shards = [s for s in m["shards"] if s["split"] == name]
        assert split["rows"] == sum(s["rows"] for s in shards)
        assert split["tokens"] == sum(s["tokens"] for s in shards)
        assert split["shards"] == len(shards)
    assert m["stats"]["tokens"] == sum(s["tokens"] for s in m["shards"])
    st = m["stats"]
    assert st["docs_in"] == st["docs_out"] + sum(st["dropped"].values()), st


def test_schema_is_the_declared_one_in_every_shard(release):
    declared = json.loads((SCHEMA_DIR / "document.schema.json").read_text(encoding="utf-8"))
    want = [(c["name"], no_space(c["type"]), c["nullable"]) for c in declared["columns"]]
    schemas = [pq.read_schema(p) for p in shard_paths(release)]
    assert schemas
    for path, schema in zip(shard_paths(release), schemas):
        # Key-value metadata may differ per shard; the columns may not.
        assert schema.remove_metadata() == schemas[0].remove_metadata(), path.name
        got = [(f.name, no_space(arrow_type_name(f.type)), f.nullable) for f in schema]
        assert got == want, path.name
        nested = [x for f in schema for x in inner_nullable_fields(f.type, f.name)]
        assert nested == [], f"{path.name}: nullable list items/struct fields {nested}"
    # The whole table, as pyarrow assembles it from all shards, has the same schema.
    assert pq.read_table(release / "data").schema.remove_metadata() == schemas[0].remove_metadata()


def test_duckdb_language_counts(release):
    m = manifest(release)
    glob = (release / "data" / "*.parquet").as_posix()
    rows = duckdb.sql(f"SELECT lang, count(*) FROM '{glob}' GROUP BY 1 ORDER BY 1").fetchall()
    assert dict(rows) == m["stats"]["languages"]
    ((total,),) = duckdb.sql(f"SELECT count(*) FROM '{glob}'").fetchall()
    assert total == m["stats"]["docs_out"]


def test_polars_scan(release):
    m = manifest(release)
    df = pl.scan_parquet((release / "data" / "*.parquet").as_posix()).collect()
    assert df.height == m["stats"]["docs_out"]
    assert df["n_tokens"].sum() == m["stats"]["tokens"]
    assert (df["tokens"].list.len() == df["n_tokens"]).all()
    assert df["published"].dtype == pl.Datetime("ms")


def card_front_matter(release) -> dict:
    text = (release / "README.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md has no YAML front matter"
    return yaml.safe_load(match.group(1))


def test_datasets_load_dataset(release):
    import datasets

    m = manifest(release)
    # No arguments: the card's YAML front matter alone must tell datasets what to load.
    ds = datasets.load_dataset(str(release))
    assert sorted(ds.keys()) == sorted(m["splits"].keys())
    for name, split in m["splits"].items():
        assert ds[name].num_rows == split["rows"], name
    card = card_front_matter(release)
    info = card["dataset_info"]
    infos = info if isinstance(info, list) else [info]
    card_rows = {s["name"]: s["num_examples"] for i in infos for s in i["splits"]}
    assert card_rows == {k: v["rows"] for k, v in m["splits"].items()}
    row = ds[next(iter(ds.keys()))][0]
    assert set(row) >= {"id", "text", "tokens", "lang"}


def test_tokens_decode_to_text_with_the_shipped_tokenizer(release):
    m = manifest(release)
    tok_path = release / "tokenizer.json"
    assert hashlib.sha256(tok_path.read_bytes()).hexdigest() == m["tokenizer"]["sha256"]
    tok = tokenizers.Tokenizer.from_file(str(tok_path))
    tok.encode_special_tokens = True
    table = pq.read_table(release / "data", columns=["id", "text", "tokens", "n_tokens"])
    bad_decode, bad_encode = [], []
    for row in table.to_pylist():
        assert row["n_tokens"] == len(row["tokens"]), row["id"]
        if tok.decode(row["tokens"], skip_special_tokens=False) != row["text"]:
            bad_decode.append(row["id"])
        # Live parity: Python tokenizers gives the ids quire wrote.
        if tok.encode(row["text"], add_special_tokens=False).ids != row["tokens"]:
            bad_encode.append(row["id"])
    assert not bad_decode, f"tokens do not decode to text: {bad_decode}"
    assert not bad_encode, f"python tokenizers disagrees with quire: {bad_encode}"


def test_manifest_validates_against_schema(release):
    schema = json.loads((SCHEMA_DIR / "manifest.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(manifest(release))


def test_sha256sum_check(release):
    if shutil.which("sha256sum") is None:
        pytest.fail("sha256sum (coreutils) is not installed")
    proc = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=release, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = {line.split("  ", 1)[1] for line in (release / "SHA256SUMS").read_text().splitlines()}
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert listed == on_disk - {"SHA256SUMS"}


def test_release_layout(release):
    m = manifest(release)
    names = {p.name for p in release.iterdir()}
    assert names == {"README.md", "manifest.json", "SHA256SUMS", "tokenizer.json", "data", "dedup"}
    for shard in m["shards"]:
        assert re.fullmatch(r"data/train-\d{5}-of-\d{5}-[0-9a-f]{16}\.parquet", shard["path"])
    assert m["format"] == "quire-release"
    assert m["tokenizer"]["file"] == "tokenizer.json"
    assert {f["path"] for f in m["files"]} >= {"README.md", "tokenizer.json", "dedup/removed.jsonl"}
    # Every article left out as a duplicate is in the audit file, with the one kept for it.
    removed = [json.loads(l) for l in (release / "dedup" / "removed.jsonl").read_text().splitlines()]
    dups = sum(v for k, v in m["stats"]["dropped"].items() if k.endswith("_duplicate"))
    assert len(removed) == dups
    ids = set(pq.read_table(release / "data", columns=["id"]).column(0).to_pylist())
    assert all(r["kept_id"] in ids for r in removed if r["kept_id"] is not None)
