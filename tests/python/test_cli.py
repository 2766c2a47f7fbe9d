"""The CLI contract other tools rely on: exit codes, one warning line per bad input, --json."""

import json
import os
import shutil

from conftest import RAW, manifest, run_quire


def test_bad_inputs_warn_once_each_and_build_succeeds(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(sorted(RAW.glob("*.txt"))[0], inputs / "good.txt")
    (inputs / "empty.txt").write_bytes(b"")
    (inputs / "noise.txt").write_bytes(os.urandom(4096))
    out = tmp_path / "rel"
    proc = run_quire("build", inputs, "-o", out)
    assert proc.returncode == 0
    for name in ("empty.txt", "noise.txt"):
        lines = [line for line in proc.stderr.splitlines() if name in line]
        assert len(lines) == 1, f"{name}: {lines}"
    assert not any("good.txt" in line for line in proc.stderr.splitlines())
    st = manifest(out)["stats"]
    assert st["input_files"] == 3
    assert st["docs_out"] == 1
    # Every input is accounted for: read into a document, skipped or rejected.
    assert st["docs_in"] + sum(st["skipped"].values()) + sum(st["rejected"].values()) == 3


def test_json_outputs(raw_release, tmp_path):
    build = run_quire("build", RAW, "-o", tmp_path / "rel", "--json", "--quiet")
    summary = json.loads(build.stdout)
    assert summary["stats"] == manifest(tmp_path / "rel")["stats"]
    inspect = json.loads(run_quire("inspect", raw_release, "--json").stdout)
    assert inspect["stats"] == manifest(raw_release)["stats"]
    verify = json.loads(run_quire("verify", raw_release, "--json").stdout)
    assert verify["ok"] is True


def test_usage_error_exit_code(tmp_path):
    proc = run_quire("build", "--no-such-flag", check=False)
    assert proc.returncode == 2
    proc = run_quire("build", tmp_path / "missing-input", "-o", tmp_path / "o", check=False)
    assert proc.returncode != 0
    assert "missing-input" in proc.stderr
