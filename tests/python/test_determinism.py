"""The same input gives a byte-identical release: whatever the output directory, the number
of worker threads, or where on disk the input lies."""

import shutil

from conftest import RAW, build, release_files


def test_byte_identical_across_dirs_jobs_and_input_location(work, tmp_path):
    a = build(RAW, tmp_path / "out_a", "--jobs", "1")
    # The same articles under another absolute path (same directory name: it is part of the
    # input's display name), built from another working directory with two workers.
    moved = tmp_path / "elsewhere" / "deeper" / "raw"
    shutil.copytree(RAW, moved)
    b = build(moved, tmp_path / "second" / "out_b", "--jobs", "2", cwd=tmp_path / "elsewhere")
    files_a, files_b = release_files(a), release_files(b)
    assert sorted(files_a) == sorted(files_b)
    differ = [name for name in files_a if files_a[name] != files_b[name]]
    assert differ == [], f"files differ between builds: {differ}"
    # No machine path leaks into the release.
    for name, data in files_a.items():
        for path in (str(tmp_path), str(RAW.parent)):
            assert path.encode() not in data, f"{name} contains {path}"


def test_byte_identical_jsonl_corpus(dup_corpus, tmp_path):
    a = build(dup_corpus["path"], tmp_path / "a", "--jobs", "1")
    b = build(dup_corpus["path"], tmp_path / "b", "--jobs", "2")
    assert release_files(a) == release_files(b)
