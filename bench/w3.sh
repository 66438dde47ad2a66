#!/usr/bin/env bash
# W3, 10,000 products (issue 18): 10,000 URL lists of 5–20 small JPEGs and a 10,000-row
# spreadsheet dropped into the real release daemon's inbox, served over HTTPS on loopback (see
# tests/benches/w3.rs for what is timed). Prints throughput, RSS per thousand jobs and the peak,
# the first and last thousand jobs' time, `GET /api/v1/jobs` and the status page's first paint
# with every job in the history, and the restart time. docs/benchmarks.md ("W3") records the
# figures. Linux only (it reads /proc).
#   bench/w3.sh [--quick] [--lists N] [--rows N]     (--quick: 1,000 lists and 1,000 rows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) args+=(--lists 1000 --rows 1000); shift ;;
    --lists|--rows) args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: bench/w3.sh [--quick] [--lists N] [--rows N]" >&2; exit 2 ;;
  esac
done
echo "load: $(uptime)"
# The bench starts the `haul` of the same release build (target/release/haul).
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p haul
cargo bench --quiet --manifest-path "$root/Cargo.toml" -p haul-tests --bench w3 -- "${args[@]}"
echo "load: $(uptime)"
