#!/usr/bin/env bash
# quire vs HuggingFace datatrove on the same slice of ../shared/corpus: speed, CPU, memory.
#
#   bash benches/datatrove/compare.sh [SLICE_MB]      # from the repo root; SLICE_MB defaults to 15
#
# RUNS=2 runs each tool twice (at most 2: the machine's 2 cores are shared) and keeps the faster
# run of each. QUIRE=PATH measures that quire binary (an earlier release's, say) instead of
# building target/release/quire. Everything it makes lives under target/ (gitignored): the
# venv in target/datatrove-venv, the slice, outputs and logs in target/datatrove-bench.
set -euo pipefail

cd "$(dirname "$0")/../.."
slice_mb=${1:-15}
runs=${RUNS:-1}
[[ $runs == 1 || $runs == 2 ]] || { echo "RUNS must be 1 or 2" >&2; exit 2; }
corpus=../shared/corpus
tokenizer=../shared/tokenizers/qwen2-bytelevel-bpe.tokenizer.json
venv=target/datatrove-venv
bench=target/datatrove-bench
python=${PYTHON:-python3.11}
# Nothing may reach the Hub at run time: the tokenizer is a local file, spaCy models are blank.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# Versions this comparison was made with. sudachipy/sudachidict_core and pyvi are what
# datatrove's word tokenizers for ja and vi import; zstandard reads the corpus for the slice.
requirements=(
  "datatrove[processing]==0.10.1" "xxhash==3.8.2" "spacy==3.8.18" "orjson==3.13.0"
  "tokenizers==0.23.3" "pyarrow==26.0.1" "sudachipy==0.7.0" "sudachidict_core==20261015"
  "pyvi==0.1.1" "zstandard==0.25.0"
)

step() { printf '\n== %s\n' "$*" >&2; }

# 1. venv, reinstalled only when the pins change.
if [[ ! -x $venv/bin/python || "$(cat "$venv/.pins" 2>/dev/null)" != "${requirements[*]}" ]]; then
  step "installing datatrove into $venv (PyPI)"
  t0=$SECONDS
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" > "$venv/.pins"
  echo "install took $((SECONDS - t0)) s" >&2
fi
vpy=$venv/bin/python
dt_version=$("$vpy" -c 'import importlib.metadata as m; print(m.version("datatrove"))')

# 2. The slice: the first lines of each corpus file, each file's share of text bytes as in the
# whole corpus (so en/ja/vi mix as there), interleaved round-robin. Prefixes rather than a
# stride: a plain piece of each source, with whatever duplicates it holds, the same every time.
# datatrove shards work by file, so it gets the same lines split into one file per task.
step "slicing ${slice_mb} MB of text from $corpus"
mkdir -p "$bench"
"$vpy" - "$corpus" "$slice_mb" "$bench" <<'PY'
import io, json, pathlib, sys
import zstandard

corpus, mb, bench = pathlib.Path(sys.argv[1]), float(sys.argv[2]), pathlib.Path(sys.argv[3])
files = sorted(corpus.glob("*.jsonl.zst"))

def lines(path):
    with open(path, "rb") as f:
        yield from io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")

def text_bytes(line):
    return len(json.loads(line)["text"].encode())

def trim(line):
    """Only the fields both tools read: datatrove's ParquetWriter takes its schema from the
    first document, and the corpus's empty `url`/`date` fields would only add noise."""
    d = json.loads(line)
    return json.dumps({k: d[k] for k in ("id", "source", "lang", "title", "text")}, ensure_ascii=False)

totals = {p: sum(text_bytes(l) for l in lines(p)) for p in files}
want = mb * 1e6
quota = {p: want * totals[p] / sum(totals.values()) for p in files}
taken = {}
for p in files:
    got, rows = 0, []
    for l in lines(p):
        n = text_bytes(l)
        if got + n > quota[p] and rows:
            break
        got += n
        rows.append(trim(l))
    taken[p] = rows
order = [row for i in range(max(map(len, taken.values())))
         for p in files if i < len(taken[p]) for row in [taken[p][i]]]

with open(bench / "slice.jsonl", "w", encoding="utf-8") as f:
    f.write("\n".join(order) + "\n")
shards = bench / "slice-shards"
shards.mkdir(exist_ok=True)
sizes = [text_bytes(l) for l in order]
half, acc, cut = sum(sizes) / 2, 0, 0
while acc < half:
    acc += sizes[cut]
    cut += 1
for i, part in enumerate([order[:cut], order[cut:]]):
    (shards / f"{i:05d}.jsonl").write_text("\n".join(part) + "\n", encoding="utf-8")
langs = {}
for l in order:
    d = json.loads(l)
    langs[d["lang"]] = langs.get(d["lang"], 0) + len(d["text"].encode())
json.dump({"docs": len(order), "text_bytes": sum(sizes),
           "file_bytes": (bench / "slice.jsonl").stat().st_size,
           "text_bytes_by_lang": langs,
           "docs_by_file": {p.name: len(taken[p]) for p in files}},
          open(bench / "slice.json", "w"), indent=1)
PY
cat "$bench/slice.json" >&2

# 3./4. Each whole command runs under a small meter, which measures what /usr/bin/time -v would
# and what it would miss. CPU: getrusage(RUSAGE_CHILDREN) after every descendant is reaped:
# the meter is a child subreaper, so processes orphaned on the way (datatrove's forkserver,
# which reaps the workers but is itself never waited for) come back to it. wait4() on the
# command alone, which is what /usr/bin/time reports, saw 2.4 of datatrove's 24 CPU-s in a
# 1 MB trial. Memory: ru_maxrss is the peak RSS of the largest
# single process, not a sum; so the meter also samples the process tree every 0.2 s for the
# peak sum of PSS (shared pages split between processes, so forked workers are not counted
# twice), the honest "memory of the whole run". The sampled CPU is a cross-check.
measure() { # measure NAME -- CMD...: writes $bench/NAME.{stdout,stderr,measure.json}
  local name=$1; shift 2
  "$vpy" - "$bench/$name" "$@" <<'PY'
import ctypes, json, os, resource, subprocess, sys, time

prefix, cmd = sys.argv[1], sys.argv[2:]
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
tick = os.sysconf("SC_CLK_TCK")

def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out

def sample(p):
    try:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        rss = pss = 0
        with open(f"/proc/{p}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
        return cpu, rss, pss
    except (OSError, IndexError, ValueError):
        return None

cpu_seen, peak_pss, peak_rss_sum, peak_rss_one = {}, 0, 0, 0
with open(prefix + ".stdout", "wb") as out, open(prefix + ".stderr", "wb") as err:
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    while True:
        pid, status, _ = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        pss = rss = 0
        for p in tree(child.pid):
            s = sample(p)
            if s:
                cpu_seen[p] = max(cpu_seen.get(p, 0), s[0])
                rss += s[1]; pss += s[2]
                peak_rss_one = max(peak_rss_one, s[1])
        peak_pss, peak_rss_sum = max(peak_pss, pss), max(peak_rss_sum, rss)
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    # Reap the orphans (they exit once the command's pipes close), so their CPU is counted.
    deadline, orphans_left = time.time() + 60, False
    while True:
        try:
            if os.wait4(-1, os.WNOHANG)[0] == 0:
                if time.time() > deadline:
                    orphans_left = True
                    break
                time.sleep(0.05)
        except ChildProcessError:
            break
code = os.waitstatus_to_exitcode(status)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu_rusage = ru.ru_utime + ru.ru_stime
res = {
    "exit": code, "wall_s": wall, "orphans_left": orphans_left,
    "cpu_rusage_s": cpu_rusage, "cpu_sampled_s": sum(cpu_seen.values()),
    "cpu_s": cpu_rusage,
    "max_rss_one_process_mb": max(ru.ru_maxrss * 1024, peak_rss_one) / 1e6,
    "peak_tree_pss_mb": peak_pss / 1e6, "peak_tree_rss_sum_mb": peak_rss_sum / 1e6,
    "processes_seen": len(cpu_seen),
    # Others share the 2 cores: a 1-minute load above ~2 before or after means contention.
    "loadavg_1min_before": load_before, "loadavg_1min_after": os.getloadavg()[0],
}
if res["cpu_sampled_s"] > 1.05 * cpu_rusage or orphans_left:
    print("warning: some CPU escaped getrusage; see cpu_sampled_s", file=sys.stderr)
json.dump(res, open(prefix + ".measure.json", "w"), indent=1)
print(json.dumps(res), file=sys.stderr)
sys.exit(code)
PY
}

# 3. quire. Other people edit src/ meanwhile: if the build fails, keep an existing binary.
quire=${QUIRE:-target/release/quire}
if [[ -z ${QUIRE:-} ]]; then
  step "cargo build --release"
  if ! cargo build --release 2> "$bench/cargo.stderr"; then
    tail -5 "$bench/cargo.stderr" >&2
    [[ -x $quire ]] || { echo "no quire binary to measure" >&2; exit 1; }
    echo "cargo build failed (see $bench/cargo.stderr); measuring the existing $quire" >&2
  fi
fi
[[ -x $quire ]] || { echo "QUIRE=$quire: not an executable" >&2; exit 2; }
# Others edit src/ meanwhile, so say which code the binary was built from (a given binary
# is named by its path: which code made it is not known here).
if [[ -n ${QUIRE:-} ]]; then
  quire_version="$("$quire" --version) ($quire, sha256 $(sha256sum "$quire" | cut -c1-12))"
else
  quire_version="$("$quire" --version) at $(git rev-parse --short HEAD)"
  git diff --quiet HEAD -- src Cargo.toml Cargo.lock || quire_version+=" + uncommitted changes"
fi

for run in $(seq "$runs"); do
  step "quire, run $run"
  rm -rf "$bench/quire-out"
  measure "quire-$run" -- "$quire" build "$bench/slice.jsonl" -o "$bench/quire-out" --json --jobs 2 ||
    { tail -20 "$bench/quire-$run.stderr" >&2; exit 1; }
  step "datatrove $dt_version, run $run"
  # datatrove skips tasks its logs call completed, so each run starts from nothing.
  rm -rf "$bench/dt-work" "$bench/dt-out"
  measure "datatrove-$run" -- "$vpy" benches/datatrove/pipeline.py \
    "$bench/slice-shards" "$bench/dt-work" "$bench/dt-out" "$tokenizer" ||
    { tail -20 "$bench/datatrove-$run.stderr" >&2; exit 1; }
done

# 5. Report.
"$vpy" - "$bench" "$runs" "$dt_version" "$quire_version" <<'PY'
import glob, json, sys
import pyarrow.parquet as pq

bench, runs, dt_version, quire_version = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
slice_ = json.load(open(f"{bench}/slice.json"))
mb = slice_["text_bytes"] / 1e6

def best(name):
    """The faster run, its number, and every run."""
    ms = [json.load(open(f"{bench}/{name}-{r}.measure.json")) for r in range(1, runs + 1)]
    i = min(range(runs), key=lambda r: ms[r]["wall_s"])
    return ms[i], i + 1, ms

def stats(path):
    """datatrove's merged stats.json: a list of {"name": step, "stats": {...}}."""
    return {s["name"]: s["stats"] for s in json.load(open(path))}

def count(v):
    return v["total"] if isinstance(v, dict) else v

q, q_run, q_all = best("quire")
qj = json.load(open(f"{bench}/quire-{q_run}.stdout"))["stats"]
d, _, d_all = best("datatrove")
s1 = stats(f"{bench}/dt-work/logs/1-filter-sign/stats.json")
s4 = stats(f"{bench}/dt-work/logs/4-dedup-write/stats.json")
def first(st, key):
    """Stats of the first step whose name (with datatrove's emoji prefix) contains key."""
    return next(v for k, v in st.items() if key.lower() in k.lower())

dt_in = count(first(s1, "READER")["documents"])
dt_after_filter = count(first(s1, "quality")["forwarded"])
dt_out = sum(pq.ParquetFile(f).metadata.num_rows for f in glob.glob(f"{bench}/dt-out/data/*.parquet"))
dt_tokens = count(first(s4, "TOKENIZER")["tokens"])
dropped = {k.removeprefix("dropped_"): count(v) for k, v in first(s1, "quality").items() if k.startswith("dropped_")}

rows = [
    ("wall s", q["wall_s"], d["wall_s"], "{:.2f}"),
    ("CPU s (user+sys, whole tree)", q["cpu_s"], d["cpu_s"], "{:.2f}"),
    ("MB/s of text (wall)", mb / q["wall_s"], mb / d["wall_s"], "{:.2f}"),
    ("MB of text per CPU-second", mb / q["cpu_s"], mb / d["cpu_s"], "{:.2f}"),
    ("peak RSS, largest process (MB)", q["max_rss_one_process_mb"], d["max_rss_one_process_mb"], "{:.0f}"),
    ("peak PSS, whole tree, sampled (MB)", q["peak_tree_pss_mb"], d["peak_tree_pss_mb"], "{:.0f}"),
    ("docs in", qj["docs_in"], dt_in, "{}"),
    ("docs out", qj["docs_out"], dt_out, "{}"),
    ("tokens out", qj["tokens"], dt_tokens, "{}"),
]
ratio_rows = {"MB/s of text (wall)", "MB of text per CPU-second"}
print()
print(f"Slice: {slice_['docs']} docs, {mb:.2f} MB of `text` (UTF-8 bytes of the text fields; "
      f"the JSONL file is {slice_['file_bytes'] / 1e6:.2f} MB), "
      + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(slice_["text_bytes_by_lang"].items()))
      + ". Both on 2 workers; " + ("the faster of 2 runs each." if runs > 1 else "1 run each."))
print(f"quire: {quire_version}; datatrove {dt_version}.")
print()
print(f"| | quire | datatrove {dt_version} | quire / datatrove |")
print("| --- | ---: | ---: | ---: |")
for label, a, b, fmt in rows:
    ratio = f"**{a / b:.1f}x**" if label in ratio_rows else ""
    print(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")
print()
print("Peak RSS is the largest single process (wait4's ru_maxrss and /proc samples); datatrove runs "
      "several worker processes, so its whole-run memory is the sampled PSS sum of the process tree.")
print(f"datatrove: {dt_in} docs in, {dt_after_filter} after quality filters, {dt_out} after MinHash dedup; "
      f"filter drops: {json.dumps(dropped, sort_keys=True)}")
print(f"quire dropped: {json.dumps(qj['dropped'], sort_keys=True)}")
print()
print("Raw numbers (every run):")
for name, ms in (("quire", q_all), ("datatrove", d_all)):
    for i, m in enumerate(ms, 1):
        print(f"  {name} run {i}: {json.dumps(m)}")
PY
