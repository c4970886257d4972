#!/usr/bin/env bash
# Runs each fuzz target for a fixed number of executions and prints libFuzzer's closing line.
#   fuzz/run.sh [RUNS] [TARGET…]     (default: 10,000,000 runs of every target)
# libFuzzer needs nightly compiler features; RUSTC_BOOTSTRAP=1 enables them on the stable
# toolchain the project builds with. No sanitizer: the code under test is safe Rust, where a panic,
# a stack overflow, an abort on allocation or the RSS limit is what we look for, and the runs are
# several times faster without ASan. Install the runner once: `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-10000000}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(decode sta_query)
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/qingshui/fuzz-target}"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cargo fuzz build -O -s none "$t"
  echo "== $t: $runs runs"
  log="artifacts/$t.log"
  mkdir -p artifacts
  status=0
  cargo fuzz run -O -s none "$t" "corpus/$t" "seeds/$t" -- \
    -runs="$runs" -max_len=4096 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$log"
    echo "fuzz target $t failed (exit $status); the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
