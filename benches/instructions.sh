#!/usr/bin/env bash
# Instructions one `quire build` executes (not a test), counted by valgrind's callgrind: a
# figure that does not move with the machine's load, for comparing binaries on a shared
# machine where wall and CPU times of one binary swing by ±15%.
#
#   bash benches/instructions.sh [--docs N] [--bin PATH]...
#
#   --docs N     sample size: the first N / (number of files) articles of each
#                ../shared/corpus file (default 1200), written once to
#                target/corpus-bench/instr-N.jsonl
#   --bin PATH   count this binary; repeat to count several on the same sample
#                (default: a fresh `cargo build --release`)
#
# Each count is `valgrind --tool=callgrind BIN build SAMPLE -o OUT -q -j 1` (one thread, so
# the count does not depend on scheduling). Printed per binary: all instructions; those of
# the build proper (`quire::pipeline::build_with`, inclusive: everything but argument
# parsing and the write pass's tools, the embedded tokenizer, its lexicon and the language
# model, which are built on two threads of their own);
# and the costliest functions by their own instructions. valgrind emulates neither SHA-NI
# nor AVX-512, so SHA-256 takes its portable path here (the MinHash fold still takes its
# AVX2 one): compare binaries with each other, not with the wall-clock figures of
# benches/corpus.sh.
#
# Everything it writes stays under target/corpus-bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

DOCS=1200
BINS=()
while (($#)); do
  case "$1" in
    --docs) DOCS="${2:?}"; shift 2 ;;
    --bin) BINS+=("${2:?}"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[[ $DOCS =~ ^[1-9][0-9]*$ ]] || { echo "--docs must be a positive integer" >&2; exit 2; }
for tool in valgrind callgrind_annotate zstdcat; do
  command -v "$tool" >/dev/null || { echo "needs $tool (valgrind, zstd)" >&2; exit 1; }
done

WORK=target/corpus-bench
mkdir -p "$WORK"
SAMPLE="$WORK/instr-$DOCS.jsonl"
if [[ ! -s $SAMPLE ]]; then
  files=(../shared/corpus/*.jsonl.zst)
  per=$(((DOCS + ${#files[@]} - 1) / ${#files[@]}))
  : >"$SAMPLE.tmp"
  for f in "${files[@]}"; do
    # `head` closes the pipe early; zstdcat's broken pipe is expected.
    { zstdcat "$f" || true; } | head -n "$per" >>"$SAMPLE.tmp"
  done
  mv "$SAMPLE.tmp" "$SAMPLE"
fi

if ((${#BINS[@]} == 0)); then
  cargo build --release --quiet
  cp target/release/quire "$WORK/instr-quire"
  BINS=("$WORK/instr-quire")
fi

echo "sample        $SAMPLE: $(wc -l <"$SAMPLE") articles, $(($(wc -c <"$SAMPLE") / 1000)) kB"
for bin in "${BINS[@]}"; do
  [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 1; }
  out="$WORK/instr-out"
  cg="$WORK/instr.callgrind"
  rm -rf "$out" "$cg"
  valgrind --tool=callgrind --callgrind-out-file="$cg" \
    "$bin" build "$SAMPLE" -o "$out" -q -j 1 >/dev/null 2>"$cg.log" ||
    { tail -5 "$cg.log" >&2; exit 1; }
  callgrind_annotate "$cg" >"$cg.self" 2>/dev/null
  callgrind_annotate --inclusive=yes "$cg" >"$cg.inclusive" 2>/dev/null
  total=$(awk '/PROGRAM TOTALS/ && !t {t = $1} END {print t}' "$cg.self")
  proper=$(awk '/quire::pipeline::build_with / && !t {t = $1} END {print t}' "$cg.inclusive")
  echo
  echo "== $bin (sha256 $(sha256sum "$bin" | cut -c1-12))"
  echo "instructions  all ${total:-?}; build proper ${proper:-?}"
  echo "costliest functions (own instructions):"
  awk '/file:function/ {on = 1; next} on && NF && !/^-+$/ && n < 12 {print; n++}' "$cg.self" |
    sed -E 's/ \[[^]]*\]$//; s/^/  /'
done
