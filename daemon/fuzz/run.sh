#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 10), one after another, with libFuzzer's
# memory cap at 512 MiB so an input that makes a reader allocate without bound fails as a crash.
# Usage: daemon/fuzz/run.sh [SECONDS] [TARGET...]
# The toolchain here is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass the sanitizer flags
# libFuzzer needs (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-10}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
# The sanitizer is off by default here (Rust checks bounds itself, and the instrumented build is
# several times slower to make); FUZZ_SANITIZER=address turns AddressSanitizer on.
sanitizer="${FUZZ_SANITIZER:-none}"
cargo fuzz build --sanitizer "$sanitizer"
# The targets are run as built: `cargo fuzz run` would build them again with other settings
# (its own debug-info level), doubling the build for nothing.
bin="${CARGO_TARGET_DIR:-target}/$(rustc -vV | sed -n 's/^host: //p')/release"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  echo "fuzz: $target for ${seconds}s"
  "$bin/$target" "corpus/$target" "${seeds[@]}" -artifact_prefix="artifacts/$target/" \
    -max_total_time="$seconds" -rss_limit_mb=512 -max_len=65536 -print_final_stats=1 2>&1 \
    | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==|SUMMARY|thread)' || true
  # libFuzzer exits non-zero on a crash and leaves the input under artifacts/.
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "fuzz: $target found a crash: $(ls "artifacts/$target")" >&2
    exit 1
  fi
done
