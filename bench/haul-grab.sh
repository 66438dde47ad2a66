#!/usr/bin/env bash
# The command the peer harness times for haul (its PROJECT_CMD): the whole job — download,
# strip metadata, hash, package — for every product list in URL_DIR, into OUT, trusting CA.
#   bench/haul-grab.sh URL_DIR OUT CA
# It runs `haul grab` with no daemon, so the engine runs in this process and the harness's
# peak-RSS figure is haul's own. A throw-away HAUL_HOME holds the journal and the config.
set -euo pipefail
url_dir=$1 out=$2 ca=$3
here=$(cd "$(dirname "$0")" && pwd)
haul=${HAUL_BIN:-${CARGO_TARGET_DIR:-$here/../target}/release/haul}
home=$(mktemp -d "${TMPDIR:-/tmp}/haul-bench.XXXXXX")
trap 'rm -rf "$home"' EXIT
cat >"$home/config.toml" <<TOML
# The harness serves from 127.0.0.1 with its own CA.
allow_private_networks = true
extra_ca_file = "$ca"
${HAUL_BENCH_CONFIG:-}
TOML
# One product per pNNNN.txt; the folder's all.txt repeats every URL and is not a product.
lists=()
for list in "$url_dir"/p*.txt; do lists+=(--list "$list"); done
HAUL_HOME=$home "$haul" grab "${lists[@]}" --out "$out" >/dev/null
