#!/usr/bin/env bash
# Install figures: time and size of a fresh install from the lock (every extra, as `make install`),
# twice in a row (the two `pip freeze` must be equal), of a core-only install (`pip install .` with
# the lock's versions), and the wall time of `make test` on a fresh clone.
#
#   bash benchmarks/install.sh [--no-test]      -> benchmarks/results/install.md
#
# Each install starts from an empty venv and an empty uv cache (so packages are downloaded or read
# from the machine's wheelhouse, as on a new machine). Work happens under $TMPDIR, not in the repo.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
RUN_TESTS=1
[[ "${1:-}" == "--no-test" ]] && RUN_TESTS=0
WORK="$(mktemp -d "${TMPDIR:-/tmp}/neurodec-install-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
OUT="$REPO/benchmarks/results/install.md"
PYTHON="${PYTHON:-python3}"
WHEELHOUSE="${WHEELHOUSE-/opt/pypi-more/files}"
FIND_LINKS=()
[[ -n "$WHEELHOUSE" && -d "$WHEELHOUSE" ]] && FIND_LINKS=(--find-links "$WHEELHOUSE")
export UV_CACHE_DIR="$WORK/uv-cache"

git clone --quiet "$REPO" "$WORK/clone"
cd "$WORK/clone"

seconds() { local t0=$1; python3 -c "import time; print(f'{time.time() - $t0:.0f}')"; }
size_mb() { du -sm "$1" | cut -f1; }

full_install() {  # $1: label; a fresh clone's `make install` with an empty uv cache
    rm -rf .venv "$UV_CACHE_DIR"
    local t0; t0=$(python3 -c "import time; print(time.time())")
    if ! make --no-print-directory install PYTHON="$PYTHON" WHEELHOUSE="$WHEELHOUSE" >"$WORK/$1.log" 2>&1; then
        tail -20 "$WORK/$1.log" >&2
        echo "make install failed ($1)" >&2
        exit 1
    fi
    echo "$(seconds "$t0") $(size_mb .venv)"
    .venv/bin/python -m pip freeze --exclude-editable >"$WORK/$1.freeze"
}

full_install full1 >"$WORK/full1.row"
full_install full2 >"$WORK/full2.row"
read -r full1_s full1_mb <"$WORK/full1.row"
read -r full2_s full2_mb <"$WORK/full2.row"
if cmp -s "$WORK/full1.freeze" "$WORK/full2.freeze"; then same="identical"; else same="DIFFERENT"; fi
n_pkgs=$(wc -l <"$WORK/full1.freeze")

# Core only: `pip install .` with no extra, constrained to the lock's versions.
rm -rf "$UV_CACHE_DIR"
"$PYTHON" -m venv "$WORK/core"
t0=$(python3 -c "import time; print(time.time())")
"$WORK/core/bin/python" -m pip install --quiet uv==0.13.8
"$WORK/core/bin/uv" pip install --quiet --python "$WORK/core/bin/python" "${FIND_LINKS[@]}" \
    -c requirements/lock.txt .
core_s=$(seconds "$t0")
core_mb=$(size_mb "$WORK/core")
core_pkgs=$("$WORK/core/bin/python" -m pip freeze | wc -l)

test_row="| \`make test\` on the fresh clone (all tests, coverage) | not run (--no-test) | |"
if [[ $RUN_TESTS == 1 ]]; then
    # the clone lives outside the checkout's parent: point it at the same data root
    export NEURODEC_DATA="${NEURODEC_DATA:-$REPO/../shared/data}"
    t0=$(python3 -c "import time; print(time.time())")
    make --no-print-directory test >"$WORK/test.log" 2>&1 || grep -E "^(FAILED|ERROR) " "$WORK/test.log" >&2 || true
    test_s=$(seconds "$t0")
    summary=$(grep -E '^=+ .*(passed|failed).* =+$' "$WORK/test.log" | tail -1 | tr -d '=' | xargs)
    cov=$(grep -E '^TOTAL' "$WORK/test.log" | awk '{print $NF}')
    test_row="| \`make test\` on the fresh clone (all tests, coverage) | ${test_s} s wall | ${summary}; coverage ${cov} |"
fi

{
    echo "# Install figures"
    echo
    echo "Command: \`bash benchmarks/install.sh\` ($(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD))."
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m), $("$PYTHON" --version)."
    echo "Every install starts from an empty venv and an empty uv cache; wheelhouse: ${WHEELHOUSE:-none}"
    echo "(torch and its CUDA libraries are read from it when present, else downloaded from PyPI)."
    echo
    echo "| what | time | size / result |"
    echo "|---|---|---|"
    echo "| \`make install\` from the lock, every extra (1st) | ${full1_s} s | ${full1_mb} MB venv, ${n_pkgs} packages |"
    echo "| \`make install\` again from nothing (2nd) | ${full2_s} s | ${full2_mb} MB; \`pip freeze\` ${same} to the 1st |"
    echo "| core only (\`pip install .\`, lock's versions, no extra) | ${core_s} s | ${core_mb} MB venv, ${core_pkgs} packages |"
    echo "${test_row}"
} >"$OUT"
cat "$OUT"
