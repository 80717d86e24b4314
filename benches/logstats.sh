#!/usr/bin/env bash
# Benchmark: `mailsleuth logs stats` (every signature, full queue-id correlation) on a
# generated Postfix log, in the same run as `wc -l`, `rg -c 'status=deferred'` and
# `pflogsumm`, with the file in the page cache. Prints wall times, ratios and peak memory.
#
# Usage: benches/logstats.sh [SIZE] [LOG]
#   SIZE  log size for examples/genlog (default 1G); LOG: where to keep it (default: a
#         temporary file, removed at exit; an existing LOG of any content is reused).
#   PFLOGSUMM=0 skips pflogsumm (about 2 minutes per GB); RUNS=N takes the best of N
#   (default 3) for the fast tools.
# Needs: ripgrep, pflogsumm (Debian packages), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1G}; runs=${RUNS:-3}
cargo build --release --quiet --bin mailsleuth --example genlog
bin=target/release/mailsleuth
if [ -n "${2:-}" ]; then
  log=$2
else
  log=$(mktemp --suffix=.log); trap 'rm -f "$log"' EXIT
  : > "$log"
fi
if [ ! -s "$log" ]; then
  echo "generating $size of Postfix log into $log ..." >&2
  target/release/examples/genlog "$size" > "$log"
fi
cat "$log" > /dev/null   # page cache

# best wall time and peak RSS (KB) of RUNS runs: "seconds kb"
measure() {
  local n=$1; shift
  local best="" kb=0
  for _ in $(seq 1 "$n"); do
    local out tf
    tf=$(mktemp)
    /usr/bin/time -o "$tf" -f '%e %M' "$@" > /dev/null 2>&1
    out=$(tail -1 "$tf"); rm -f "$tf"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
    [ "$m" -gt "$kb" ] && kb=$m
  done
  echo "$best $kb"
}

bytes=$(stat -c %s "$log")
lines=$(wc -l < "$log")
printf 'log: %s, %d bytes, %d lines; %d cores; best of %d\n\n' "$log" "$bytes" "$lines" "$(nproc)" "$runs"
read -r wc_t wc_m < <(measure "$runs" wc -l "$log")
read -r rg_t rg_m < <(measure "$runs" rg -c 'status=deferred' "$log")
read -r ms_t ms_m < <(measure "$runs" "$bin" logs stats --all-logs "$log")
read -r ms1_t ms1_m < <(measure 1 "$bin" logs stats --all-logs --threads 1 "$log")
row() { printf '%-44s %8.2f s %9.1f MB  %s\n' "$1" "$2" "$(awk -v k="$3" 'BEGIN{print k/1024}')" "$4"; }
row "wc -l" "$wc_t" "$wc_m" ""
row "rg -c 'status=deferred'" "$rg_t" "$rg_m" ""
row "mailsleuth logs stats --all-logs" "$ms_t" "$ms_m" "$(awk -v a="$ms_t" -v b="$wc_t" 'BEGIN{printf "%.1f× wc -l", a/b}')"
row "mailsleuth logs stats --all-logs --threads 1" "$ms1_t" "$ms1_m" ""
if [ "${PFLOGSUMM:-1}" != 0 ]; then
  read -r pf_t pf_m < <(measure 1 pflogsumm "$log")
  row "pflogsumm" "$pf_t" "$pf_m" "$(awk -v a="$pf_t" -v b="$ms_t" 'BEGIN{printf "mailsleuth is %.0f× faster", a/b}')"
fi
printf '\nthroughput: %s MB/s (%s lines/s)\n' \
  "$(awk -v b="$bytes" -v t="$ms_t" 'BEGIN{printf "%.0f", b/1048576/t}')" \
  "$(awk -v l="$lines" -v t="$ms_t" 'BEGIN{printf "%.0f", l/t}')"
