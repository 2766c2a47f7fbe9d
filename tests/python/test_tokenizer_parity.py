"""Token ids: Python `tokenizers` (installed version) against the fixture that the Rust test
checks quire against, and against ids quire writes into a release, live."""

import hashlib
import importlib.util
import json

import pyarrow.parquet as pq
import tokenizers

from conftest import FIXTURE_DIR, ROOT, build, manifest


def load_generator():
    spec = importlib.util.spec_from_file_location("make_fixture", FIXTURE_DIR / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_jsonl(name):
    with (FIXTURE_DIR / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_fixture_texts_are_what_the_generator_makes():
    gen = load_generator()
    assert [(c["name"], c["text"]) for c in read_jsonl("texts.jsonl")] == gen.cases()


def test_python_tokenizers_gives_the_fixture_ids():
    gen = load_generator()
    texts = read_jsonl("texts.jsonl")
    expected = read_jsonl("expected_ids.jsonl")
    tok = tokenizers.Tokenizer.from_file(str(gen.TOKENIZER))
    got = gen.encode_all(tok, [c["text"] for c in texts])
    differ = [e["name"] for e, ids in zip(expected, got) if e["ids"] != ids]
    assert differ == [], f"tokenizers {tokenizers.__version__} disagrees on {differ}"
    meta = json.loads((FIXTURE_DIR / "meta.json").read_text())
    assert meta["tokenizer_sha256"] == hashlib.sha256(gen.TOKENIZER.read_bytes()).hexdigest()
    assert meta["cases"] == len(texts)


def long_article():
    """One long article that survives cleaning: every long paragraph of the sample articles
    and of the fixture's multilingual texts, each once (repeats would be cut as boilerplate)."""
    seen, paragraphs = set(), []
    for case in read_jsonl("texts.jsonl"):
        if case["name"].startswith("long_"):
            continue
        for para in case["text"].split("\n\n"):
            para = para.strip()
            if len(para) > 120 and para not in seen:
                seen.add(para)
                paragraphs.append(para)
    return "\n\n".join(paragraphs)


def test_release_with_small_chunks_and_tokenizer_file(tmp_path):
    """A long article encoded in 1 KiB pieces, with the tokenizer given as a file: the ids
    quire writes equal Python's one-call ids of the row's text."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    record = {"id": "long-1", "title": "A long article", "text": long_article()}
    (inputs / "long.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    config = tmp_path / "quire.toml"
    config.write_text("[release]\nencode_chunk_bytes = 1024\n")
    tok_file = tmp_path / "my-vocab.tokenizer.json"
    tok_file.write_bytes((ROOT / "src" / "tokenize" / "qwen2-bytelevel-bpe.tokenizer.json").read_bytes())
    release = build(inputs, tmp_path / "rel", "--config", config, "--tokenizer", tok_file)

    m = manifest(release)
    assert m["tokenizer"]["name"] == "my-vocab"
    assert (release / "tokenizer.json").read_bytes() == tok_file.read_bytes()
    assert m["config"]["release"]["encode_chunk_bytes"] == 1024

    tok = tokenizers.Tokenizer.from_file(str(release / "tokenizer.json"))
    tok.encode_special_tokens = True
    table = pq.read_table(release / "data", columns=["source_id", "text", "tokens"]).to_pylist()
    assert len(table) == 1
    text = table[0]["text"]
    assert len(text.encode()) > 8 * 1024, f"only {len(text.encode())} bytes kept: nothing to chunk"
    assert tok.encode(text, add_special_tokens=False).ids == table[0]["tokens"]
