#!/usr/bin/env bash
# Whole-corpus build benchmark (not a test): how fast and how big `quire build` runs on
# the shared news corpora, optionally scaled up with near-duplicate copies.
#
#   bash benches/corpus.sh [--scale N] [--jobs N] [--runs N] [--long-line MB [--distinct]]
#                          [--no-build | --bin PATH]
#
#   --scale N       1 (default): ../shared/corpus as is; N >= 2: N copies of every corpus
#                   file under target/corpus-bench/xN/ (copy k>0: id `<id>#k`, one
#                   paragraph or sentence dropped), generated once and reused
#   --jobs N        passed to `quire build --jobs` (default: quire's own, all cores)
#   --runs N        repeat each build N times and keep the fastest (default 1)
#   --long-line MB  instead: peak RSS of a build over one JSONL line of MB megabytes
#                   (a real article repeated) minus that of a one-short-article line;
#                   over quire's max_doc_bytes, also with that limit raised
#   --distinct      with --long-line: the line is distinct articles joined (Vietnamese
#                   news), which every stage sees whole, instead of one article repeated
#   --no-build      reuse the binary of the previous run (target/corpus-bench/quire), to
#                   compare scales on one binary while src/ keeps changing
#   --bin PATH      measure this binary instead of building one (an earlier release's,
#                   say); later --no-build runs reuse it
#
# MB = 10^6 bytes. Everything it writes stays under target/corpus-bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '5,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

SCALE=1 JOBS="" RUNS=1 LONG_MB="" BUILD=1 DISTINCT=0 GIVEN=
while (($#)); do
  case "$1" in
    --scale) SCALE="${2:?}"; shift 2 ;;
    --jobs) JOBS="${2:?}"; shift 2 ;;
    --runs) RUNS="${2:?}"; shift 2 ;;
    --long-line) LONG_MB="${2:?}"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --bin) GIVEN="${2:?}"; BUILD=0; shift 2 ;;
    --distinct) DISTINCT=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[[ $SCALE =~ ^[1-9][0-9]*$ ]] || { echo "--scale must be a positive integer" >&2; exit 2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[[ -z $JOBS || $JOBS =~ ^[0-9]+$ ]] || { echo "--jobs must be an integer" >&2; exit 2; }
[[ -z $LONG_MB || $LONG_MB =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "--long-line takes MB" >&2; exit 2; }

CORPUS=../shared/corpus
WORK=target/corpus-bench
PY="python3 benches/corpus_input.py"
mkdir -p "$WORK/runs"

# Run a private copy so a rebuild by someone else between runs cannot swap the binary.
BIN="$WORK/quire"
if ((BUILD)); then
  # Others edit src/ while this runs: a build can fail on their half-made change, so retry.
  for attempt in 1 2 3 4 5; do
    if cargo build --release --quiet; then break; fi
    ((attempt < 5)) || { echo "cargo build --release failed $attempt times" >&2; exit 1; }
    echo "cargo build failed (attempt $attempt); retrying in 60 s" >&2
    sleep 60
  done
  cp target/release/quire "$BIN"
  REV="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
    REV="$REV + uncommitted changes in src/ or Cargo.*"
  fi
  echo "$REV" >"$BIN.rev"
fi
if [[ -n $GIVEN ]]; then
  [[ -x $GIVEN ]] || { echo "--bin $GIVEN: not an executable" >&2; exit 2; }
  cp "$GIVEN" "$BIN"
  echo "$GIVEN (given, not built here)" >"$BIN.rev"
fi
[[ -x $BIN && -f $BIN.rev ]] || { echo "no earlier binary in $BIN: run without --no-build" >&2; exit 1; }
# The tree changes under us, so name the exact binary: equal hashes = comparable runs.
BINARY_DESC="quire built from $(cat "$BIN.rev"), sha256 $(sha256sum "$BIN" | cut -c1-12)"

NPROC="$(nproc)"
load1() { cut -d' ' -f1 /proc/loadavg; }
JOBS_ARGS=()
[[ -n $JOBS ]] && JOBS_ARGS=(--jobs "$JOBS")

# run_builds TAG INPUT [QUIRE ARGS…]: RUNS timed builds into $WORK/out-TAG; sets PREFIXES
# to the files of each run (.time, .json, .err). Not run in a subshell, so a failed build
# stops the script.
run_builds() {
  local tag="$1" input="$2" out="$WORK/out-$1" i prefix status
  shift 2
  local cmd=("$BIN" build "$input" -o "$out" --json "${JOBS_ARGS[@]}" "$@")
  PREFIXES=()
  for ((i = 1; i <= RUNS; i++)); do
    prefix="$WORK/runs/$tag-$i"
    rm -rf "$out"  # quire writes a fresh release; a stale one would skew the write pass
    echo "build $tag, run $i/$RUNS: /usr/bin/time -v ${cmd[*]}" >&2
    status=0
    /usr/bin/time -v -o "$prefix.time" "${cmd[@]}" >"$prefix.json" 2>"$prefix.err" \
      || status=$?
    if ((status != 0)); then
      echo "quire build failed (exit $status); last stderr lines:" >&2
      tail -n 20 "$prefix.err" >&2
      exit 1
    fi
    PREFIXES+=("$prefix")
  done
}

echo "nproc $NPROC; 1-min load average $(load1) — the machine is shared, figures are noisy"
LOAD_BEFORE="$(load1)"

if [[ -n $LONG_MB ]]; then
  # A real article repeated, paragraph breaks kept. quire's clean stage drops the repeats
  # as `repeated` blocks, so this loads read/decode/clean; later stages see one copy.
  # With --distinct, consecutive articles of the largest corpus, joined.
  LINES_JSON="$WORK/long/lines.json"
  mkdir -p "$WORK/long"
  LONG_ARGS=(--src "$CORPUS/bbc_zitros.jsonl.zst") SUFFIX=""
  ((DISTINCT)) && LONG_ARGS=(--src "$CORPUS/baomoi_magizbox.jsonl.zst" --distinct) SUFFIX="-distinct"
  $PY longline "${LONG_ARGS[@]}" --out "$WORK/long" --mb "$LONG_MB" >"$LINES_JSON"
  LONG_TAG="long-$(python3 -c "import sys; print(f'{float(sys.argv[1]):g}')" "$LONG_MB")MB$SUFFIX"
  run_builds long-base "$WORK/long/base.jsonl"
  BASE_RUNS=("${PREFIXES[@]}")
  run_builds "$LONG_TAG" "$WORK/long/$LONG_TAG.jsonl"
  LONG_RUNS=("${PREFIXES[@]}")
  # quire rejects a line over [source] max_doc_bytes (16 MiB by default) without buffering
  # it; that run shows the guard works. To measure what processing such a line costs,
  # build it again with the limit raised just above its size.
  RAISED_RUNS=()
  if python3 -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["stats"]["rejected"])' \
    "${LONG_RUNS[0]}.json"; then
    run_builds "$LONG_TAG-raised" "$WORK/long/$LONG_TAG.jsonl" \
      --config "$WORK/long/raise-limit.toml"
    RAISED_RUNS=("${PREFIXES[@]}")
  fi
  $PY longreport --binary "$BINARY_DESC" --nproc "$NPROC" --jobs "${JOBS:-auto}" \
    --load-before "$LOAD_BEFORE" --load-after "$(load1)" --lines "$LINES_JSON" \
    --base "${BASE_RUNS[@]}" --long "${LONG_RUNS[@]}" --raised "${RAISED_RUNS[@]}"
  exit 0
fi

# prepare prints the input path, then the cached-size file (made once per scale).
$PY prepare --src "$CORPUS" --work "$WORK" --scale "$SCALE" >"$WORK/prepare.out"
mapfile -t PREP <"$WORK/prepare.out"
INPUT="${PREP[0]}" STATS="${PREP[1]}"

run_builds "x$SCALE" "$INPUT"
RUN_PREFIXES=("${PREFIXES[@]}")
LAST="${RUN_PREFIXES[-1]}"
$PY report --binary "$BINARY_DESC" --nproc "$NPROC" --jobs "${JOBS:-auto}" \
  --load-before "$LOAD_BEFORE" --load-after "$(load1)" --stats "$STATS" --scale "$SCALE" \
  --stderr "$LAST.err" --stderr-lines "$(wc -l <"$LAST.err")" "${RUN_PREFIXES[@]}"
