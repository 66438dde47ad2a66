#!/usr/bin/env bash
# Times haul beside curl, aria2c, wget2 and the aria2c + exiftool + zip pipeline on the shared
# peer harness (nginx over HTTPS on loopback; see ../shared/bench/README.md), in one run.
#   bench/run.sh W1|W2 [--netem] [--runs N] [--peers a,b] ...   (options go to baseline.sh)
# Prints the harness's table (wall time, peak RSS, CPU, project/peer ratios) and leaves the full
# results in /tmp/bench-data/results/. docs/benchmarks.md records the figures and the commands.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
harness=${HAUL_BENCH_HARNESS:-$root/../shared/bench}
[ -x "$harness/baseline.sh" ] || { echo "bench: no peer harness at $harness (set HAUL_BENCH_HARNESS)" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p haul
"$harness/setup.sh"
export PROJECT_CMD="$root/bench/haul-grab.sh {url_dir} {out} {ca}"
exec "$harness/baseline.sh" "$@"
