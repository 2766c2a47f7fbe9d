#!/usr/bin/env bash
# Side-by-side comparison of two quire binaries (not a test): is a change faster?
#
#   bash benches/ab.sh BIN_A BIN_B [--input PATH] [--rotations N] [--jobs N]
#
#   BIN_A, BIN_B    two `quire` binaries, e.g. a copy of target/release/quire made before
#                   a change and the one built after it
#   --input PATH    what both build (default: ../shared/corpus); one corpus file keeps a
#                   rotation short (the Vietnamese file takes ~8 s a build)
#   --rotations N   rounds of one A build and one B build (default 8), A first in odd
#                   rounds and B first in even ones
#   --jobs N        passed to `quire build --jobs` (default: quire's own, all cores)
#
# The machine is shared and its speed drifts by a fifth within minutes, more than most
# single changes gain: figures of separate runs, or a few of each, cannot tell a 5%
# change from the drift. So the builds alternate, and each rotation's B is compared with
# its own A, run seconds before or after it: the mean of those paired differences and how
# many rotations B won say more than the two means. Which binary goes first alternates
# too, so whatever a build gains or loses from following the other one (the input in the
# page cache, memory the kernel has just taken back) falls on both sides alike. Per pass
# wall seconds and per stage CPU seconds come from `quire build --json`; wall and process
# CPU (user + sys) from /usr/bin/time.
#
# Both binaries must make the same release: the script compares their SHA256SUMS after
# every rotation and stops at the first difference (a speed change must not change data).
# Everything it writes stays under target/ab-bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

[[ ${1:-} == -h || ${1:-} == --help ]] && usage 0
(($# >= 2)) || usage
A="$1" B="$2"
shift 2
INPUT=../shared/corpus ROTATIONS=8 JOBS=()
while (($#)); do
  case "$1" in
    --input) INPUT="${2:?}"; shift 2 ;;
    --rotations) ROTATIONS="${2:?}"; shift 2 ;;
    --jobs) JOBS=(--jobs "${2:?}"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[[ $ROTATIONS =~ ^[1-9][0-9]*$ ]] || { echo "--rotations must be a positive integer" >&2; exit 2; }
for bin in "$A" "$B"; do
  [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 2; }
done
[[ -e $INPUT ]] || { echo "no such input: $INPUT" >&2; exit 2; }

WORK=target/ab-bench
rm -rf "$WORK"
mkdir -p "$WORK"
# Private copies: a rebuild of target/release/quire during the runs cannot swap a binary.
cp "$A" "$WORK/a"
cp "$B" "$WORK/b"

run() { # run a|b ROTATION: one build, its --json and /usr/bin/time figures kept
  local who=$1 k=$2
  rm -rf "$WORK/out-$who"
  /usr/bin/time -f '%e %U %S' -o "$WORK/$who-$k.time" \
    "$WORK/$who" build "$INPUT" -o "$WORK/out-$who" --json -q "${JOBS[@]}" \
    > "$WORK/$who-$k.json" 2> "$WORK/$who-$k.err" ||
    { echo "build by $who failed (rotation $k): see $WORK/$who-$k.err" >&2; exit 1; }
}

echo "A = $A ($(sha256sum "$WORK/a" | cut -c1-12)), B = $B ($(sha256sum "$WORK/b" | cut -c1-12))" >&2
echo "input $INPUT, $ROTATIONS rotations; 1-min load average $(cut -d' ' -f1 /proc/loadavg) before" >&2
for ((k = 1; k <= ROTATIONS; k++)); do
  if ((k % 2)); then
    run a "$k"
    run b "$k"
  else
    run b "$k"
    run a "$k"
  fi
  cmp -s "$WORK/out-a/SHA256SUMS" "$WORK/out-b/SHA256SUMS" ||
    { echo "the releases differ (rotation $k): $WORK/out-a, $WORK/out-b" >&2; exit 1; }
  echo "rotation $k/$ROTATIONS: A $(cut -d' ' -f1 "$WORK/a-$k.time") s, B $(cut -d' ' -f1 "$WORK/b-$k.time") s wall" >&2
done

python3 - "$WORK" "$ROTATIONS" <<'PY'
import json, statistics, sys

work, n = sys.argv[1], int(sys.argv[2])

def figures(who, k):
    wall, user, sys_ = (float(x) for x in open(f"{work}/{who}-{k}.time").read().split())
    timings = json.load(open(f"{work}/{who}-{k}.json"))["timings"]
    passes = {f"{p} pass wall s": s for p, s in timings["pass_seconds"].items()}
    return {"wall s": wall, "CPU s": user + sys_, **passes, **timings["cpu_seconds"]}

a = [figures("a", k) for k in range(1, n + 1)]
b = [figures("b", k) for k in range(1, n + 1)]
print(f"| figure | A mean | B mean | B − A, paired mean | B lower in |")
print("| --- | ---: | ---: | ---: | ---: |")
for key in a[0]:
    xa, xb = [r[key] for r in a], [r[key] for r in b]
    diffs = [y - x for x, y in zip(xa, xb)]
    mean_a, mean_b, d = statistics.mean(xa), statistics.mean(xb), statistics.mean(diffs)
    rel = f" ({100 * d / mean_a:+.1f}%)" if mean_a else ""
    wins = sum(1 for x in diffs if x < 0)
    print(f"| {key} | {mean_a:.3f} | {mean_b:.3f} | {d:+.3f}{rel} | {wins}/{n} |")
PY
echo "both binaries made the same release in every rotation" >&2
