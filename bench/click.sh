#!/usr/bin/env bash
# The click path (issue 18): a press of the button on a real saved Amazon page, through the real
# native host and the running release daemon to the ZIP in place, over the peer harness's 40 ms
# round trip, beside `curl --parallel` (HTTP/2), one curl fetching one file at a time and a loop
# of one curl process per file — all given the URLs haul extracts. Then W1 (12 JPEGs + a 20 MB
# video) through the running daemon the same way. See native-host/benches/click.rs for what is
# timed; docs/benchmarks.md ("Click path") records the figures.
#   bench/click.sh [--runs N] [--page FILE --url URL] [--only click|w1] [--log-dir DIR]
#   HAUL_BIN=/path/to/other/haul bench/click.sh ...   (that build's daemon, this bench)
# Needs root (network namespace, iptables) and the harness beside the checkout
# (../shared/bench, or HAUL_BENCH_HARNESS). Every use of the harness, and the timed runs, hold
# the shared lock (HAUL_BENCH_LOCK; by default ../labels/bench.lock beside the checkout, when
# that folder exists), so that only one benchmark runs at a time on a shared machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
harness=${HAUL_BENCH_HARNESS:-$root/../shared/bench}
pages=${HAUL_BENCH_PAGES:-$root/../shared/fixtures/pages}
page=$pages/amazon/com-duct-tape-B00N150YS4.html
url=https://www.amazon.com/dp/B00N150YS4
runs=7 only="" log=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --page) page=$2; shift 2 ;;
    --url) url=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --log-dir) log=(--log-dir "$2"); shift 2 ;;
    *) echo "usage: bench/click.sh [--runs N] [--page FILE --url URL] [--only click|w1] [--log-dir DIR]" >&2; exit 2 ;;
  esac
done
[ -x "$harness/serve.sh" ] || { echo "click: no peer harness at $harness (set HAUL_BENCH_HARNESS)" >&2; exit 1; }
[ -f "$page" ] || { echo "click: no saved page at $page" >&2; exit 1; }
lock=${HAUL_BENCH_LOCK:-$root/../labels/bench.lock}
locked() { if [ -e "$(dirname "$lock")" ]; then flock "$lock" "$@"; else "$@"; fi; }

# HAUL_BIN: time another build's `haul` (a before/after comparison) with this host and bench.
if [ -n "${HAUL_BIN:-}" ]; then build=(-p haul-native-host); else build=(-p haul -p haul-native-host); fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" "${build[@]}"
# Built now, run below without cargo: the locked part holds no build lock and compiles nothing.
bench=$(cargo bench --no-run --quiet --message-format=json --manifest-path "$root/Cargo.toml" \
  -p haul-native-host --bench click | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
[ -x "$bench" ] || { echo "click: the bench did not build" >&2; exit 1; }
locked "$harness/setup.sh" --no-apt >/dev/null

data=${BENCH_DATA:-/tmp/bench-data}  # the harness's data (its default)
click=/tmp/bench-click
# The harness's own data stays as it is: the click's files are served from a folder of their
# own (its certificate, the page's media paths).
rm -rf "$click"
mkdir -p "$click/www"
ln -s "$data/tls" "$click/tls"
for d in w1 floor; do ln -s "$data/www/$d" "$click/www/$d"; done
chmod 755 "$click" "$click/www"

run() {
  # Inside the namespace: nginx, the delayer, the daemon, the host and the peers. A counting
  # rule (no target: it only counts) gives the TCP connections each run opens.
  BENCH_DATA=$click "$harness/serve.sh" start --netem
  trap 'BENCH_DATA=$click "$harness/serve.sh" stop' EXIT
  ip netns exec benchlat iptables -w -I INPUT 1 -i lo -p tcp --dport "${BENCH_PORT:-18443}" --syn
  echo "load before: $(uptime)"
  if [ "$only" != w1 ]; then
    ip netns exec benchlat "$bench" --page "$page" --url "$url" --www "$click/www" \
      --source "$data/www/w1/p0001" --ca "$data/tls/ca.pem" --runs "$runs" --count-syns "${log[@]}"
  fi
  if [ "$only" != click ]; then
    ip netns exec benchlat "$bench" --list "$data/urls/w1/p0001.txt" \
      --ca "$data/tls/ca.pem" --runs "$runs" --count-syns "${log[@]}"
  fi
  echo "load after: $(uptime)"
}
export -f run
export root harness page url runs only click data bench
locked bash -c "$(declare -p log); run"
