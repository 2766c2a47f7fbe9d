"""`quire verify` accepts a fresh release and rejects a damaged one (exit 0 / 1).

These are the project's own tamper cases; the full suite in ../shared/bench/tamper runs from
tests/run.sh when that directory exists."""

import json

import pytest

from conftest import manifest, run_quire, shard_paths


def verify(release, *extra):
    return run_quire("verify", release, *extra, check=False)


def test_fresh_release_verifies(raw_release):
    proc = verify(raw_release)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = verify(raw_release, "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["ok"] is True


def flip_byte(release):
    shard = shard_paths(release)[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))


def add_file(release):
    (release / "data" / "extra.txt").write_text("not part of the release\n")


def add_parquet(release):
    src = shard_paths(release)[0]
    (release / "data" / "train-00001-of-00001-0000000000000000.parquet").write_bytes(src.read_bytes())


def delete_shard(release):
    shard_paths(release)[0].unlink()


def truncate_shard(release):
    shard = shard_paths(release)[0]
    data = shard.read_bytes()
    shard.write_bytes(data[:-1])


def edit_manifest(release):
    m = manifest(release)
    m["stats"]["docs_out"] += 1
    (release / "manifest.json").write_text(json.dumps(m, indent=2) + "\n")


def delete_sums(release):
    (release / "SHA256SUMS").unlink()


def replace_tokenizer(release):
    path = release / "tokenizer.json"
    path.write_bytes(path.read_bytes().replace(b'"<|endoftext|>"', b'"<|endoftexT|>"', 1))


@pytest.mark.parametrize(
    "damage",
    [flip_byte, add_file, delete_shard, add_parquet, truncate_shard, edit_manifest, delete_sums,
     replace_tokenizer],
)
def test_damaged_release_fails(release_copy, damage):
    damage(release_copy)
    proc = verify(release_copy)
    assert proc.returncode == 1, f"{damage.__name__}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    proc = verify(release_copy, "--json")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["ok"] is False and result["problems"], result


def test_missing_release_is_an_error(tmp_path):
    proc = verify(tmp_path / "does-not-exist")
    assert proc.returncode != 0
