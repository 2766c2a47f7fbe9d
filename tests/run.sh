#!/usr/bin/env bash
# Run every test of quire on a fresh machine:   bash tests/run.sh
#
# Steps: Python test venv (.venv, pinned deps) · cargo fmt --check · clippy -D warnings ·
# cargo test --profile ci · binary (profile ci) · pytest tests/python · and, when ../shared exists
# beside the repo, the shared tamper suite and bad-input corpus against the binary.
# Every step runs even if an earlier one failed (so one run shows everything); the last
# line is "N passed, N failed" over the steps, and the exit status is non-zero on any failure.
#
# Environment: PYTHON (default python3, CPython 3.11) builds the venv; QUIRE_SKIP_SHARED=1
# skips the ../shared steps.

set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
SHARED="$ROOT/../shared"
WORK="$ROOT/tests/.work"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
# The ci profile is release without link-time optimisation (Cargo.toml): the same code,
# built once for the tests and the binary instead of linked whole for each test binary.
BIN="$ROOT/target/ci/quire"
REQ="tests/python/requirements.txt"
CONSTRAINTS="tests/python/constraints.txt"

# A non-login shell (CI) may not have rustup's directory on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
# No colour codes in logs; no prompts.
export CARGO_TERM_COLOR=never PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1

passed=0
failed=0
failed_steps=()
run_start=$(date +%s)

step() {
    local name=$1
    shift
    local t0
    t0=$(date +%s)
    echo
    echo "==> $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "--- ok: $name ($(($(date +%s) - t0)) s)"
    else
        failed=$((failed + 1))
        failed_steps+=("$name")
        echo "--- FAILED: $name ($(($(date +%s) - t0)) s)"
    fi
}

# The venv is rebuilt only when the pins or the interpreter change (a stamp records them).
python_venv() {
    local python=${PYTHON:-python3}
    if ! command -v "$python" >/dev/null 2>&1; then
        echo "no $python on PATH"
        return 1
    fi
    local version
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || return 1
    [ "$version" = "3.11" ] || echo "warning: $python is $version; the pins were chosen for CPython 3.11"
    local stamp
    stamp="$("$python" -c 'import sys; print(sys.version)' | tr -d '\n')|$(cat "$REQ" "$CONSTRAINTS" | sha256sum)"
    if [ -x "$PY" ] && [ -f "$VENV/.quire-stamp" ] && [ "$(cat "$VENV/.quire-stamp")" = "$stamp" ]; then
        echo "venv up to date"
        return 0
    fi
    rm -rf "$VENV"
    "$python" -m venv "$VENV" || return 1
    "$PY" -m pip install --quiet -r "$REQ" -c "$CONSTRAINTS" || return 1
    printf '%s' "$stamp" >"$VENV/.quire-stamp"
    "$PY" -m pip freeze | grep -iE '^(pyarrow|duckdb|polars|datasets|tokenizers|jsonschema|pytest)=='
}

pytest_suite() {
    # Exit 5 (no test collected) is a failure too: the suite must run.
    QUIRE_BIN="$BIN" "$PY" -m pytest tests/python -q -p no:cacheprovider
}

# A release of raw/ for the shared suites, built fresh.
shared_release() {
    rm -rf "$WORK/release"
    mkdir -p "$WORK"
    "$BIN" build "$ROOT/raw" -o "$WORK/release" --quiet
}

tamper_suite() {
    shared_release || return 1
    local log="$WORK/tamper.log"
    "$PY" "$SHARED/bench/tamper/tamper.py" "$WORK/release" "$WORK/tamper" --force \
        --check "$BIN verify {}" >"$log" 2>&1
    local rc=$?
    grep -vE ' caught ' "$log" | tail -n 20
    local last
    last=$(tail -n 1 "$log")
    echo "$last"
    # All caught: "tamper caught=N/N" with both numbers equal.
    [[ $last =~ caught=([0-9]+)/([0-9]+) ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "$rc" -eq 0 ]
}

badinput_suite() {
    local corpus="$WORK/badinput" out="$WORK/badinput.out"
    # The corpus holds mode-000 files and a FIFO: make everything removable first.
    chmod -R u+rwX "$corpus" 2>/dev/null
    rm -rf "$corpus" "$out" "$out.build.log"
    python3 "$SHARED/bench/badinput/make_badinput.py" "$corpus" --small >"$WORK/badinput.make.log" 2>&1 || {
        cat "$WORK/badinput.make.log"
        return 1
    }
    local root_flag=()
    # Mode-000 inputs are readable by root: the scorer must know (CI runs as root).
    [ "$(id -u)" -eq 0 ] && root_flag=(--builder-ran-as-root)
    "$PY" "$SHARED/bench/badinput/score_badinput.py" "$corpus" \
        --build "$BIN build {in} -o {out}" --out "$out" "${root_flag[@]}" >"$WORK/badinput.log" 2>&1
    local rc=$?
    # Only the cases that went wrong, then the summary.
    grep -E 'FAIL|^#' "$WORK/badinput.log" | head -n 40
    tail -n 1 "$WORK/badinput.log"
    return $rc
}

# The venv installs (network, disk) while cargo compiles (CPU); its step is counted when
# pytest needs it.
mkdir -p "$WORK"
python_venv >"$WORK/venv.log" 2>&1 &
venv_pid=$!
wait_venv() {
    wait "$venv_pid"
    local rc=$?
    cat "$WORK/venv.log"
    return $rc
}

step "cargo fmt --check" cargo fmt --all -- --check --color=never
step "cargo clippy --all-targets -D warnings" cargo clippy --all-targets --quiet -- -D warnings
step "cargo test --profile ci" cargo test --profile ci
step "binary (profile ci)" cargo build --profile ci --bins --quiet
step "python venv (.venv)" wait_venv
step "pytest tests/python" pytest_suite

if [ -d "$SHARED" ] && [ "${QUIRE_SKIP_SHARED:-0}" != "1" ]; then
    step "shared tamper suite" tamper_suite
    step "shared bad-input corpus" badinput_suite
else
    echo
    echo "(no ../shared beside the repo: shared tamper and bad-input suites not run)"
fi

echo
echo "total $(($(date +%s) - run_start)) s"
for s in "${failed_steps[@]+"${failed_steps[@]}"}"; do
    echo "failed step: $s"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
