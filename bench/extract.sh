#!/usr/bin/env bash
# How long `haul extract` takes on every saved page in ../shared/fixtures/pages (the marketplace
# pages and the 56 any-shop pages), as a user runs it: the release binary, reading and
# un-gzipping the file, parsing, extracting, printing JSON. Each page runs --runs times (default
# 5); the fastest run counts (the others measure the machine's noise). Prints the slowest pages
# and the median, and exits non-zero when any page takes 100 ms or more (issue 11's bar).
# docs/benchmarks.md ("Extraction") records the figures.
#   bench/extract.sh [--runs N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pages="$root/../shared/fixtures/pages"
runs=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/extract.sh [--runs N]" >&2; exit 2 ;;
  esac
done
[[ -d $pages ]] || { echo "the saved pages ($pages) are absent" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p haul
haul="${CARGO_TARGET_DIR:-$root/target}/release/haul"
# The any-shop pages' addresses, as the browser would hand them over.
urls=$(python3 -c 'import json,sys; [print(k, v["url"]) for k, v in json.load(open(sys.argv[1])).items()]' \
  "$pages/anyshop/pages.json")
results=$(mktemp)
trap 'rm -f "$results"' EXIT
while IFS= read -r -d '' page; do
  rel=${page#"$pages/"}
  url=$(awk -v f="${rel#anyshop/}" '$1 == f {print $2}' <<<"$urls")
  args=(extract --json "$page")
  [[ -n $url && $rel == anyshop/* ]] && args+=(--url "$url")
  best=
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$haul" "${args[@]}" >/dev/null
    took=$(( ($(date +%s%N) - start) / 1000 ))
    if [[ -z $best || $took -lt $best ]]; then best=$took; fi
  done
  printf '%d %s\n' "$best" "$rel" >>"$results"
done < <(find "$pages" -name '*.html' -print0 -o -name '*.html.gz' -print0)
sort -n "$results" -o "$results"
count=$(wc -l <"$results")
median=$(awk -v n="$count" 'NR == int((n + 1) / 2) {print $1}' "$results")
echo "haul extract, fastest of $runs runs, $count pages: median $(( median / 1000 )).$(( median % 1000 / 100 )) ms; slowest:"
tail -n 5 "$results" | sort -rn | awk '{printf "  %7.1f ms  %s\n", $1 / 1000, $2}'
slowest=$(tail -n 1 "$results" | cut -d' ' -f1)
if (( slowest >= 100000 )); then
  echo "the slowest page takes 100 ms or more" >&2
  exit 1
fi
