#!/usr/bin/env bash
# A 2 GiB video and a 2 GiB HLS stream of 2,000 segments through the real release daemon
# (issue 18, item 4), each killed with SIGKILL half-way and resumed, served over HTTPS on
# loopback (see tests/benches/big.rs for what is measured). Prints the peak RSS per phase, the
# download rate, the bytes served before the kill and after the restart, and whether the ZIP's
# video is the served one (SHA-256). docs/benchmarks.md ("Large video and HLS") records the
# figures. Linux only (it reads /proc). Needs about 4.5 GiB of free disk where the temporary
# HAUL_HOME goes ($TMPDIR); everything is removed at the end.
#   bench/big.sh [--mib N] [--segments N] [--only video|hls]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --mib|--segments|--only) args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: bench/big.sh [--mib N] [--segments N] [--only video|hls]" >&2; exit 2 ;;
  esac
done
echo "load: $(uptime)"
df -h "${TMPDIR:-/tmp}"
# The bench starts the `haul` of the same release build (target/release/haul).
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p haul
cargo bench --quiet --manifest-path "$root/Cargo.toml" -p haul-tests --bench big -- "${args[@]}"
echo "load: $(uptime)"
