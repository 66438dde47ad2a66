#!/usr/bin/env bash
# Handoff latency: browser → native host → daemon → `accepted`, with the real release binaries
# (see native-host/benches/handoff.rs for what is timed). Prints a p50/p95/max table and exits
# non-zero when a p95 is over the 20 ms target. docs/benchmarks.md ("Handoff") records the figures.
#   bench/handoff.sh [--runs N] [--media N] [--page FILE | --html-kib N]
# Without --page or --html-kib it sends a saved real Amazon page from ../shared/fixtures when
# present (else a generated 1 MiB page).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
page=$root/../shared/fixtures/pages/amazon/com-duct-tape-B00N150YS4.html
args=("$@")
if [[ " $* " != *" --page "* && " $* " != *" --html-kib "* && -f $page ]]; then
  args+=(--page "$page")
fi
# The host starts the `haul` beside it: both come from the same release build.
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p haul -p haul-native-host
cargo bench --quiet --manifest-path "$root/Cargo.toml" -p haul-native-host --bench handoff -- "${args[@]}"
