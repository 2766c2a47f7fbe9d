"""Shared fixtures for the interop tests: the real `quire` binary and releases built with it.

The binary is `$QUIRE_BIN` (tests/run.sh passes the `target/ci/quire` it builds), else
`target/ci/quire` or `target/release/quire`, whichever exists.
Releases are built once per session into pytest's temporary directory; tests that modify a
release work on a copy.
"""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RAW = ROOT / "raw"
SCHEMA_DIR = ROOT / "schema"
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "tokenizer"

# datasets / huggingface_hub must never try the network (there is none on CI): a local
# directory is all these tests load. Their cache lives in the gitignored tests/.work, emptied
# per session, so runs share no state with each other or with the user's ~/.cache.
HF_HOME = ROOT / "tests" / ".work" / "hf-home"
shutil.rmtree(HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = str(HF_HOME)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def quire_bin() -> pathlib.Path:
    if "QUIRE_BIN" in os.environ:
        return pathlib.Path(os.environ["QUIRE_BIN"])
    built = [ROOT / "target" / p / "quire" for p in ("ci", "release")]
    return next((b for b in built if b.exists()), built[0])


def run_quire(*args, cwd=None, check=True, timeout=600):
    """Run the binary; with `check`, fail the test (showing stderr) on a non-zero exit."""
    binary = quire_bin()
    if not binary.exists():
        pytest.fail(f"{binary} does not exist: run `cargo build --profile ci` (tests/run.sh does)")
    proc = subprocess.run(
        [str(binary), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"quire {' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return proc


def build(inputs, out, *extra, cwd=None):
    """`quire build INPUT... -o OUT EXTRA...`; returns the release directory."""
    inputs = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    run_quire("build", *inputs, "-o", out, *extra, cwd=cwd)
    return pathlib.Path(out)


def manifest(release) -> dict:
    return json.loads((pathlib.Path(release) / "manifest.json").read_text(encoding="utf-8"))


def shard_paths(release):
    return sorted((pathlib.Path(release) / "data").glob("*.parquet"))


def release_files(release) -> dict:
    """Relative path -> bytes of every file under a release."""
    release = pathlib.Path(release)
    return {
        p.relative_to(release).as_posix(): p.read_bytes()
        for p in sorted(release.rglob("*"))
        if p.is_file()
    }


# --- a small JSONL corpus with duplicates -------------------------------------------------

VI_BODY = (
    "Sáng 17/9, Liên hiệp các tổ chức hữu nghị tỉnh Thái Nguyên phối hợp với Công ty TNHH Mani Hà Nội "
    "tổ chức chương trình giao lưu kỷ niệm 50 năm thiết lập quan hệ ngoại giao Việt Nam – Nhật Bản.\n\n"
    "Phát biểu tại chương trình, ông Vũ Duy Hoàng nhấn mạnh chương trình nhằm tăng cường và phát triển "
    "quan hệ tốt đẹp giữa hai nước, góp phần thúc đẩy hội nhập và phát triển kinh tế – xã hội ở địa phương.\n\n"
    "Chương trình có nhiều hoạt động giao lưu văn hóa như trình diễn áo dài, kimono và giới thiệu ẩm thực "
    "Việt Nam, Nhật Bản, diễn ra trong không khí vui tươi, sôi nổi."
)
JA_BODY = (
    "日本とベトナムの外交関係樹立50周年を記念する交流プログラムが、9月17日にタイグエン省で開かれた。"
    "省友好団体連合とマニ・ハノイ社が共同で主催した。\n\n"
    "式典では、省党委員会宣伝部のヴー・ズイ・ホアン部長が挨拶し、両国の良好な関係をさらに強化し、"
    "地域の社会経済発展と国際統合に貢献したいと述べた。\n\n"
    "会場ではアオザイと着物のファッションショーや、ベトナム料理と日本料理の紹介など、多彩な文化交流が"
    "行われ、終始和やかな雰囲気に包まれた。"
)


def raw_bodies():
    """(name, title, body) of the project's sample articles: real scraped text."""
    out = []
    for path in sorted(RAW.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        title = lines[0].strip() if lines else path.stem
        out.append((path.stem, title, "\n".join(lines[1:]).strip()))
    return out


def make_dup_corpus(directory: pathlib.Path):
    """Write corpus.jsonl and return what the tests need to know about it.

    Articles: the five sample articles, one Vietnamese and one Japanese article, plus
    * `near`: a copy of sample 1 with one sentence added (near-identical),
    * `dup`: a copy of sample 2 with another id/url, re-cased and re-spaced (an exact
      duplicate after normalisation).
    """
    directory.mkdir(parents=True, exist_ok=True)
    samples = raw_bodies()
    records = []
    for i, (name, title, body) in enumerate(samples):
        records.append(
            {
                "id": f"sample-{i}",
                "url": f"https://news.example/{name}",
                "title": title,
                "published": f"2023-09-{10 + i:02d}T12:53:00",
                "byline": "Staff reporter",
                "text": body,
            }
        )
    records.append({"id": "vi-1", "title": "Giao lưu Việt – Nhật", "text": VI_BODY,
                    "url": "https://news.example/vi-1"})
    records.append({"id": "ja-1", "title": "日越交流プログラム", "text": JA_BODY,
                    "url": "https://news.example/ja-1"})
    near_src = samples[1][2]
    paragraphs = near_src.split("\n\n")
    paragraphs.insert(len(paragraphs) // 2, "Officials said further talks are planned for next spring.")
    records.append({"id": "near-1", "title": samples[1][1], "text": "\n\n".join(paragraphs),
                    "url": "https://mirror.example/near-1"})
    dup_src = samples[2][2]
    records.append({"id": "dup-1", "title": samples[2][1].upper(),
                    "text": "  " + dup_src.replace(" ", "  ").upper() + "\n",
                    "url": "https://mirror.example/dup-1"})
    path = directory / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return {
        "path": path,
        "n_records": len(records),
        "near_pair": (samples[1][2], "\n\n".join(paragraphs)),
        "dup_pair": (dup_src, records[-1]["text"]),
    }


# --- session fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("quire")


@pytest.fixture(scope="session")
def raw_release(work):
    """A release of the project's raw/ sample articles, built with default settings."""
    return build(RAW, work / "raw_release")


@pytest.fixture(scope="session")
def dup_corpus(work):
    return make_dup_corpus(work / "dup_corpus")


@pytest.fixture(scope="session")
def dup_release(work, dup_corpus):
    return build(dup_corpus["path"], work / "dup_release")


@pytest.fixture(params=["raw", "dup"])
def release(request, raw_release, dup_release):
    """Each interop test runs on both releases."""
    return raw_release if request.param == "raw" else dup_release


@pytest.fixture
def release_copy(raw_release, tmp_path):
    """A private copy of the raw release, for tests that damage it."""
    dest = tmp_path / "copy"
    shutil.copytree(raw_release, dest)
    return dest
