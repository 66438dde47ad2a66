#!/usr/bin/env bash
# The idle daemon: resident memory and CPU time of `haul daemon` with its defaults (status page,
# watched inbox and output folder, journal) on a fresh HAUL_HOME, doing nothing. Linux only (it
# reads /proc). Prints RSS, peak RSS and the CPU time used over the window, and exits non-zero
# when RSS is 20 MiB or more or the daemon used more than 1% of one core while idle.
# docs/benchmarks.md ("Idle") records the figures.
#   bench/idle.sh [--seconds N]     (default 60: long enough to span the inbox's 30 s look)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=60
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: bench/idle.sh [--seconds N]" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p haul
haul="${CARGO_TARGET_DIR:-$root/target}/release/haul"
home=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$home"' EXIT
# A free port for the status page, so a daemon already running here does not clash. The output
# folder exists, as it does once anything was saved: both watched folders are watched.
printf 'status_port = 0\n' > "$home/config.toml"
mkdir -p "$home/output"
HAUL_HOME=$home "$haul" daemon >"$home/daemon.log" 2>&1 &
pid=$!
# Started once `haul status` finds it running.
for _ in $(seq 100); do
  if HAUL_HOME=$home "$haul" status --json 2>/dev/null | grep -q '"running": *true'; then
    break
  fi
  sleep 0.1
done
sleep 2 # start-up work (journal, folders, first scans) is not idle time
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sleep "$seconds"
after=$(ticks)
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
cpu_ms=$(( (after - before) * 1000 / hz ))
printf 'idle daemon over %ss: RSS %.1f MiB (peak %.1f MiB), CPU %d ms (%.3f%% of one core)\n' \
  "$seconds" "$(echo "$rss_kib/1024" | bc -l)" "$(echo "$hwm_kib/1024" | bc -l)" "$cpu_ms" \
  "$(echo "$cpu_ms/($seconds*10)" | bc -l)"
status=0
if (( rss_kib >= 20 * 1024 )); then echo "RSS is over the 20 MiB target" >&2; status=1; fi
if (( cpu_ms * 100 > seconds * 1000 )); then echo "more than 1% of a core while idle" >&2; status=1; fi
exit $status
