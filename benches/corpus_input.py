#!/usr/bin/env python3
"""Inputs and reports for benches/corpus.sh (a benchmark, not a test).

  prepare  --src DIR --work DIR --scale N   -> prints the input path and its cached size
                                               file; makes both when missing or stale
  longline --src FILE --out DIR --mb MB [--distinct]
                                            -> writes base.jsonl, long-<MB>MB[-distinct].jsonl
                                               and a config raising max_doc_bytes above it
  report / longreport ...                   -> parse /usr/bin/time -v and `--json` output

Streams every corpus file line by line: the ×N corpus is N × 190 MB of JSON once
decompressed, so nothing larger than one line is held in memory.
MB means 10^6 bytes everywhere.
"""

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time

try:  # the pip module when present, else the zstd CLI
    import zstandard
except ImportError:
    zstandard = None

# Bump when the generated corpus or the cached figures change meaning, so old caches
# are rebuilt rather than silently reused.
GENERATOR = 3
SUFFIX = ".jsonl.zst"


# ---------------------------------------------------------------------------- zstd I/O

class ZstdLines:
    """Iterate the lines (bytes, with their newline) of a .zst file."""

    def __init__(self, path):
        self.path = path

    def __iter__(self):
        if zstandard is not None:
            with open(self.path, "rb") as f:
                reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
                yield from io.BufferedReader(reader, 1 << 20)
            return
        proc = subprocess.Popen(["zstd", "-dcq", self.path], stdout=subprocess.PIPE,
                                bufsize=1 << 20)
        done = False
        try:
            yield from proc.stdout
            done = True
        finally:
            proc.stdout.close()
            status = proc.wait()  # a reader that stopped early gets zstd killed by SIGPIPE
            if done and status != 0:
                sys.exit(f"zstd -d failed on {self.path}")


class ZstdWriter:
    """Write bytes to a .zst file (level 3, zstd's default, like a typical dump)."""

    def __init__(self, path):
        self.path = path
        if zstandard is not None:
            self.raw = open(path, "wb")
            self.out = zstandard.ZstdCompressor(level=3).stream_writer(self.raw)
            self.proc = None
        else:
            self.raw = open(path, "wb")
            self.proc = subprocess.Popen(["zstd", "-3", "-qc"], stdin=subprocess.PIPE,
                                         stdout=self.raw, bufsize=1 << 20)
            self.out = self.proc.stdin

    def write(self, b):
        self.out.write(b)

    def close(self):
        self.out.close()
        if self.proc is not None and self.proc.wait() != 0:
            sys.exit(f"zstd failed writing {self.path}")
        self.raw.close()


# ------------------------------------------------------------------------ measuring

class Measure:
    """Lines, decompressed JSONL bytes, UTF-8 bytes of `text`, largest line."""

    def __init__(self):
        self.lines = self.jsonl_bytes = self.text_bytes = 0
        self.max_line = 0
        self.max_line_at = ""

    def add(self, line, text, where):
        self.lines += 1
        self.jsonl_bytes += len(line)
        if text is not None:
            self.text_bytes += len(text.encode("utf-8", "surrogatepass"))
        if len(line) > self.max_line:
            self.max_line, self.max_line_at = len(line), where

    def as_dict(self):
        return {"lines": self.lines, "jsonl_bytes": self.jsonl_bytes,
                "text_bytes": self.text_bytes, "max_line_bytes": self.max_line,
                "max_line_at": self.max_line_at}


def text_of(line):
    try:
        obj = json.loads(line)
    except ValueError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    t = obj.get("text")
    return obj, (t if isinstance(t, str) else None)


# --------------------------------------------------------------------- near-copies

# Units to drop one of, coarsest first: blank-line paragraphs (BBC, livedoor), indented
# paragraph starts (Reuters hard-wraps its lines), lines, then sentences. A copy loses the
# coarsest unit that is at most MAX_DROP of the text — the kind of edit a re-published
# article has; Baomoi's text is a lead line plus one long body line, so dropping a line
# would delete most of the article and the copy would not be a near-duplicate at all.
UNIT_SEPARATORS = [
    re.compile(r"\n[ \t\u3000]*\n\s*"),
    re.compile(r"\n(?=[ \t\u3000])"),
    re.compile(r"\n+"),
    re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*|\n+"),
]
MAX_DROP = 0.25


def drop_unit(text, k):
    """Text without its (k mod count)-th unit, or None if no separator splits it in two.
    Sentences are the last resort and are dropped whatever their share."""
    n = len(text)
    for level, sep in enumerate(UNIT_SEPARATORS):
        spans, start = [], 0
        for m in sep.finditer(text):
            if m.start() == 0 or m.end() >= n or m.start() <= start:
                continue  # keep leading/trailing whitespace with its neighbour
            spans.append((start, m.start()))
            start = m.end()
        spans.append((start, n))
        real = [i for i, (s, e) in enumerate(spans) if text[s:e].strip()]
        if len(real) < 2:
            continue
        i = real[k % len(real)]
        if i + 1 < len(spans):  # the unit and the separator after it
            cut = (spans[i][0], spans[i + 1][0])
        else:  # the last unit and the separator before it
            cut = (spans[i - 1][1], spans[i][1])
        if cut[1] - cut[0] > MAX_DROP * n and level < len(UNIT_SEPARATORS) - 1:
            continue
        return text[: cut[0]] + text[cut[1]:]
    return None


def dump(obj):
    s = json.dumps(obj, ensure_ascii=False)
    try:
        return s.encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # a lone surrogate: keep it escaped, as JSON allows
        return json.dumps(obj).encode("ascii") + b"\n"


def sources(src):
    return sorted(f for f in os.listdir(src) if f.endswith(SUFFIX))


def fingerprint(src, scale):
    files = []
    for f in sources(src):
        st = os.stat(os.path.join(src, f))
        files.append([f, st.st_size, int(st.st_mtime)])
    return {"generator": GENERATOR, "scale": scale, "sources": files}


def generate(src, out, scale):
    """Copy 0 is each source file as is; copy k>0 rewrites every line with id `<id>#k`
    and one unit dropped. Returns the measured input and edit counts."""
    meas = Measure()
    edits = {"edited": 0, "unchanged": 0, "same_as_earlier_copy": 0, "unparsed": 0}
    os.makedirs(out)
    for name in sources(src):
        stem = name[: -len(SUFFIX)]
        shutil.copyfile(os.path.join(src, name), os.path.join(out, f"{stem}.x0{SUFFIX}"))
        writers = [ZstdWriter(os.path.join(out, f"{stem}.x{k}{SUFFIX}"))
                   for k in range(1, scale)]
        for no, line in enumerate(ZstdLines(os.path.join(src, name)), 1):
            obj, text = text_of(line)
            meas.add(line, text, f"{stem}.x0{SUFFIX}:{no}")
            seen = {text}
            for k, w in enumerate(writers, 1):
                if obj is None:  # not an article: copy as is so quire sees the same fault
                    edits["unparsed"] += 1
                    w.write(line)
                    meas.add(line, None, "")
                    continue
                copy = dict(obj)
                copy["id"] = f"{obj.get('id')}#{k}"
                new = drop_unit(text, k) if text else None
                if new is None:
                    edits["unchanged"] += 1
                    new = text
                elif new in seen:
                    edits["same_as_earlier_copy"] += 1
                else:
                    edits["edited"] += 1
                seen.add(new)
                if new is not None:
                    copy["text"] = new
                b = dump(copy)
                w.write(b)
                meas.add(b, new, f"{stem}.x{k}{SUFFIX}:{no}")
        for w in writers:
            w.close()
    return meas, edits


def measure_dir(src):
    meas = Measure()
    for name in sources(src):
        for no, line in enumerate(ZstdLines(os.path.join(src, name)), 1):
            meas.add(line, text_of(line)[1], f"{name}:{no}")
    return meas


def cmd_prepare(a):
    """Print the input path for the scale; (re)make its data and cached size if stale."""
    os.makedirs(a.work, exist_ok=True)
    tag = f"x{a.scale}"
    stats_path = os.path.join(a.work, f"{tag}.stats.json")  # beside, not inside, the
    data = os.path.join(a.work, tag)                        # input: quire walks that dir
    want = fingerprint(a.src, a.scale)
    try:
        with open(stats_path) as f:
            cached = json.load(f)
    except (OSError, ValueError):
        cached = None
    fresh = cached is not None and cached.get("fingerprint") == want
    if a.scale > 1:
        fresh = fresh and os.path.isdir(data)
    if fresh:
        print(f"input: cached {stats_path}", file=sys.stderr)
    else:
        started = time.monotonic()
        if a.scale == 1:
            print(f"measuring {a.src} (once; cached in {stats_path})", file=sys.stderr)
            meas, edits, secs = measure_dir(a.src), None, None
        else:
            print(f"generating the ×{a.scale} corpus in {data} (once) …", file=sys.stderr)
            if os.path.exists(stats_path):
                os.remove(stats_path)  # never leave a cache pointing at half-made data
            shutil.rmtree(data, ignore_errors=True)
            tmp = f"{data}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            meas, edits = generate(a.src, tmp, a.scale)
            os.rename(tmp, data)  # appears whole or not at all
            secs = time.monotonic() - started
        cached = {"fingerprint": want, "input": a.src if a.scale == 1 else data,
                  **meas.as_dict(), "edits": edits, "generation_seconds": secs,
                  "measured_seconds": time.monotonic() - started,
                  "zstd": "zstandard module" if zstandard else "zstd CLI"}
        with open(stats_path + ".tmp", "w") as f:
            json.dump(cached, f, indent=1)
        os.rename(stats_path + ".tmp", stats_path)
    print(cached["input"])
    print(stats_path)


# -------------------------------------------------------------------------- long line

def cmd_longline(a):
    """One real multi-paragraph article, once (baseline) and repeated to MB megabytes; with
    --distinct, the first article once and consecutive distinct articles joined instead."""
    article = None
    lines = iter(ZstdLines(a.src))
    for line in lines:
        obj, text = text_of(line)
        # Repeats need paragraphs to drop; distinct articles are taken as they come.
        if text and (a.distinct or text.count("\n\n") >= 3):
            article = obj
            break
    if article is None:
        sys.exit(f"no {'' if a.distinct else 'multi-paragraph '}article in {a.src}")
    os.makedirs(a.out, exist_ok=True)
    text = article["text"].strip()
    target = int(a.mb * 1e6)
    if a.distinct:
        # Distinct text: every stage sees it all (repeats are dropped as `repeated` blocks).
        texts, size = [text], len(text.encode("utf-8"))
        for line in lines:
            if size >= target:
                break
            _, t = text_of(line)
            if t and t.strip():
                texts.append(t.strip())
                size += len(t.strip().encode("utf-8")) + 2
        if size < target:
            sys.exit(f"{a.src} holds less than {a.mb:g} MB of text")
    else:
        reps = max(1, -(-target // (len(text.encode("utf-8")) + 2)))
        texts = [text] * reps
    out = {}
    suffix = "-distinct" if a.distinct else ""
    for tag, parts in (("base", [text]), (f"long-{a.mb:g}MB{suffix}", texts)):
        doc = {"id": f"{article['id']}/{tag}", "source": article.get("source"),
               "lang": article.get("lang"), "title": article.get("title"),
               "text": "\n\n".join(parts)}
        path = os.path.join(a.out, f"{tag}.jsonl")
        b = dump(doc)
        with open(path, "wb") as f:
            f.write(b)
        out[tag] = {"path": path, "line_bytes": len(b), "repeats": len(parts),
                    "distinct": bool(a.distinct)}
    # For corpus.sh to measure processing (not rejecting) a line over quire's default cap.
    with open(os.path.join(a.out, "raise-limit.toml"), "w") as f:
        f.write(f"[source]\nmax_doc_bytes = {out[tag]['line_bytes'] + (1 << 20)}\n")
    json.dump({"article": article["id"], "article_text_bytes": len(text.encode("utf-8")),
               **out}, sys.stdout)


# ----------------------------------------------------------------------------- report

STAGES = ["read", "decode", "clean", "sketch", "spill", "dedup", "stats", "unglue",
          "lang", "tokenize", "write"]
PASSES = ["read", "dedup", "write"]


def parse_time(path):
    """The figures we need from `/usr/bin/time -v`."""
    vals = {}
    with open(path) as f:
        for line in f:
            key, _, val = line.strip().rpartition(": ")
            vals[key] = val
    wall = 0.0
    for part in vals["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    return {"wall": wall,
            "cpu": float(vals["User time (seconds)"]) + float(vals["System time (seconds)"]),
            "user": float(vals["User time (seconds)"]),
            "sys": float(vals["System time (seconds)"]),
            "rss_kb": int(vals["Maximum resident set size (kbytes)"]),
            "exit": int(vals.get("Exit status", "0"))}


def load_run(prefix):
    t = parse_time(prefix + ".time")
    with open(prefix + ".json") as f:
        j = json.load(f)
    return t, j


def fastest(prefixes):
    runs = [load_run(p) for p in prefixes]
    return min(runs, key=lambda r: r[0]["wall"]), [r[0]["wall"] for r in runs]


def mb(n):
    return n / 1e6


def rss_mb(kb):
    return kb * 1024 / 1e6  # time -v reports KiB


def fmt_map(m, order=()):
    """`k v, …` in data-flow order: quire's JSON object comes back with sorted keys."""
    keys = [k for k in order if k in m] + sorted(k for k in m if k not in order)
    return ", ".join(f"{k} {m[k]}" for k in keys) or "none"


def cmd_report(a):
    with open(a.stats) as f:
        s = json.load(f)
    (t, j), walls = fastest(a.runs)
    st, tm = j["stats"], j["timings"]
    cpu = tm["cpu_seconds"]
    text_mb = mb(s["text_bytes"])
    dropped = sum(st["dropped"].values())
    print()
    print(f"== quire build, corpus ×{a.scale} ==")
    print(f"binary        {a.binary}")
    print(f"machine       nproc {a.nproc}, jobs {a.jobs}; SHARED with other work — "
          f"1-min load average {a.load_before} before, {a.load_after} after, "
          "so wall figures are noisy")
    print(f"input         {s['input']}: {s['lines']:,} lines, "
          f"{mb(s['jsonl_bytes']):,.1f} MB JSONL, {text_mb:,.1f} text MB")
    if s.get("generation_seconds") is not None:
        e = s["edits"]
        print(f"generated     once in {s['generation_seconds']:.1f} s ({s['zstd']}); copies "
              f"k>0: {e['edited']:,} edited, {e['same_as_earlier_copy']:,} same text as "
              f"another copy, {e['unchanged']:,} unchanged (one unit), "
              f"{e['unparsed']:,} not JSON")
    print(f"runs          {len(walls)} (wall {', '.join(f'{w:.1f}' for w in walls)} s; "
          "fastest kept)")
    print(f"docs          {st['docs_in']:,} in, {st['docs_out']:,} out, {dropped:,} dropped "
          f"({fmt_map(st['dropped'])}); {st['tokens']:,} tokens")
    print(f"time          {t['wall']:.1f} s wall, {t['cpu']:.1f} s CPU (user {t['user']:.1f} "
          f"+ sys {t['sys']:.1f}; {t['cpu'] / t['wall']:.2f} cores busy)")
    print(f"throughput    {text_mb / t['wall']:.2f} text MB/s wall, "
          f"{text_mb / t['cpu']:.2f} text MB per CPU-second, "
          f"{st['docs_in'] / t['wall']:,.0f} docs/s")
    print(f"passes (wall) {fmt_map(tm['pass_seconds'], PASSES)}")
    if int(a.scale) > 1:
        print("note          the copies are near-duplicates: stages after dedup (stats, "
              "unglue, lang, tokenize, write) get about the ×1 workload")
    staged = sum(cpu.values())
    print(f"stage CPU s   {fmt_map(cpu, STAGES)} (sum {staged:.1f} of {t['cpu']:.1f} s process CPU)")
    print(f"memory        peak RSS {rss_mb(t['rss_kb']):,.0f} MB; largest input line "
          f"{s['max_line_bytes']:,} B ({s['max_line_at']}) — a whole-corpus peak, "
          "not per line: see --long-line for the 10×-line-size check")
    if a.stderr_lines:
        print(f"warnings      {a.stderr_lines:,} stderr lines from quire, mostly per-article "
              f"repairs (in {a.stderr})")
    if st.get("rejected") or st.get("skipped"):
        print(f"not read      rejected: {fmt_map(st['rejected'])}; "
              f"skipped: {fmt_map(st['skipped'])}")
    print()
    print("Markdown (MB = 10^6 bytes; stage columns are CPU seconds summed over threads):")
    print()
    head = ["scale", "text MB", "wall s", "text MB/s", "MB/CPU-s", "docs/s",
            "peak RSS MB"] + STAGES
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" for _ in head) + "|")
    row = [f"×{a.scale}", f"{text_mb:,.0f}", f"{t['wall']:.1f}", f"{text_mb / t['wall']:.2f}",
           f"{text_mb / t['cpu']:.2f}", f"{st['docs_in'] / t['wall']:,.0f}",
           f"{rss_mb(t['rss_kb']):,.0f}"] + [f"{cpu.get(k, 0):.1f}" for k in STAGES]
    print("| " + " | ".join(row) + " |")


def cmd_longreport(a):
    with open(a.lines) as f:
        ll = json.load(f)
    tag = next(k for k in ll if k.startswith("long-"))
    line = ll[tag]["line_bytes"]
    (bt, bj), _ = fastest(a.base)
    builds = [("baseline", a.base, ll["base"]["line_bytes"]), ("long line", a.long, line)]
    if a.raised:
        builds.append(("long, raised", a.raised, line))
    print()
    print(f"== quire build, one long line ({tag}) ==")
    print(f"binary        {a.binary}")
    print(f"machine       nproc {a.nproc}, jobs {a.jobs}; SHARED — 1-min load average "
          f"{a.load_before} before, {a.load_after} after")
    print(f"article       {ll['article']} ({ll['article_text_bytes']:,} B of text), "
          + (f"then {ll[tag]['repeats'] - 1:,} more distinct articles, joined by blank lines"
             if ll[tag].get("distinct") else
             f"repeated {ll[tag]['repeats']:,}× with blank lines between"))
    verdicts = []
    for name, prefixes, size in builds:
        (t, j), walls = fastest(prefixes)
        st, tm = j["stats"], j["timings"]
        print(f"{name:<13} {size:,} B line, {len(walls)} run(s), fastest: {t['wall']:.2f} s "
              f"wall, {t['cpu']:.2f} s CPU, peak RSS {rss_mb(t['rss_kb']):,.1f} MB")
        print(f"{'':<13} docs {st['docs_in']} in / {st['docs_out']} out, "
              f"{st['tokens']:,} tokens; rejected: {fmt_map(st['rejected'])}; blocks "
              f"dropped: {fmt_map(st['blocks_dropped'])}; dropped: {fmt_map(st['dropped'])}")
        for p in j.get("problems", []):
            print(f"{'':<13} problem: {p['source']}: {p['reason']} — {p['detail']}")
        if name != "baseline":
            print(f"{'':<13} stage CPU s: {fmt_map(tm['cpu_seconds'], STAGES)}")
            print(f"{'':<13} passes (wall s): {fmt_map(tm['pass_seconds'], PASSES)}")
            delta = (t["rss_kb"] - bt["rss_kb"]) * 1024
            processed = st["docs_in"] > 0
            verdicts.append(
                f"{name}: peak RSS − baseline = {mb(delta):,.1f} MB = {delta / line:.2f}× the "
                f"line ({mb(line):,.1f} MB); budget 10× → "
                + ("within" if delta <= 10 * line else "OVER")
                + ("" if processed else " (the line was rejected, not processed)"))
    print()
    for v in verdicts:
        print(v)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("prepare")
    q.add_argument("--src", required=True)
    q.add_argument("--work", required=True)
    q.add_argument("--scale", type=int, required=True)
    q = sub.add_parser("longline")
    q.add_argument("--src", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--mb", type=float, required=True)
    q.add_argument("--distinct", action="store_true")
    for name in ("report", "longreport"):
        q = sub.add_parser(name)
        for opt in ("binary", "nproc", "jobs", "load-before", "load-after"):
            q.add_argument("--" + opt, required=True)
        if name == "report":
            q.add_argument("--stats", required=True)
            q.add_argument("--scale", required=True)
            q.add_argument("--stderr", default="")
            q.add_argument("--stderr-lines", type=int, default=0)
            q.add_argument("runs", nargs="+", help="run prefixes (.time, .json)")
        else:
            q.add_argument("--lines", required=True)
            q.add_argument("--base", nargs="+", required=True)
            q.add_argument("--long", nargs="+", required=True)
            q.add_argument("--raised", nargs="*", default=[],
                           help="runs with max_doc_bytes raised above the line")
    a = p.parse_args()
    {"prepare": cmd_prepare, "longline": cmd_longline, "report": cmd_report,
     "longreport": cmd_longreport}[a.cmd](a)


if __name__ == "__main__":
    main()
