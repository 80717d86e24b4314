#!/usr/bin/env bash
# Fuzz/property bench: every property-test target, each run again and again for MINUTES
# (default 3) with a high case count (CASES, default 20000 per run; each run draws new random
# cases), release build. The corpus-seeded target (tests/props_corpus.rs) damages real
# mail-log lines read at run time from MAILSLEUTH_FUZZ_CORPUS (default: the shared corpus
# beside the project, ../shared/corpus/public-lines.jsonl); its lines are never copied into
# the repository. A failing case is printed by proptest with its minimal input: keep it as a
# regression case in the target's own tests.
#
# Usage: scripts/fuzz.sh [MINUTES]      CASES=N scripts/fuzz.sh 10
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-3}
cases=${CASES:-20000}
corpus=${MAILSLEUTH_FUZZ_CORPUS:-../shared/corpus/public-lines.jsonl}
if [ ! -f "$corpus" ]; then
  echo "no corpus at $corpus (set MAILSLEUTH_FUZZ_CORPUS): the corpus-seeded target only checks it is unset" >&2
  corpus=""
fi
# target: cargo test arguments, then the test-name filter
targets=(
  "--lib|parse::postconf::props"
  "--lib|logscan::line::props"
  "--lib|time::props"
  "--test props_rules|"
  "--test props_corpus|"
)
cargo test --release --quiet --no-run --lib --test props_rules --test props_corpus
failed=0
for t in "${targets[@]}"; do
  args=${t%%|*}; filter=${t#*|}
  end=$((SECONDS + minutes * 60)); runs=0
  while [ "$SECONDS" -lt "$end" ]; do
    # shellcheck disable=SC2086
    if ! PROPTEST_CASES=$cases MAILSLEUTH_FUZZ_CORPUS=$corpus \
      cargo test --release --quiet $args -- --include-ignored $filter > /tmp/mailsleuth-fuzz.$$ 2>&1; then
      cat /tmp/mailsleuth-fuzz.$$; echo "FAILED: $args $filter" >&2; failed=1; break
    fi
    runs=$((runs + 1))
  done
  printf '%-34s %4d runs x %d cases in %d min\n' "$args $filter" "$runs" "$cases" "$minutes"
done
rm -f /tmp/mailsleuth-fuzz.$$
exit $failed
