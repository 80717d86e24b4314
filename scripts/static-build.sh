#!/usr/bin/env bash
# A static mailsleuth (glibc, static-pie) to copy to a broken host, and a check that it is
# static and works: `ldd` finds no shared library, --version runs, and a bundle's diagnosis
# is the same as the normal build's. About 15 minutes on the 2-core CI machine (a release
# build of every crate). Not part of .ci/run for that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target "$target" --bin mailsleuth
bin="target/$target/release/mailsleuth"
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "static-build.sh: $bin links shared libraries:" >&2
  ldd "$bin" >&2
  exit 1
fi
"$bin" --version
bundle=tests/scenarios/lab-live-founding/bundle.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Exit 2 is the verdict (CRITICAL), not a failure.
cargo run --quiet --locked -- diagnose --bundle "$bundle" --no-system-rules --format json >"$tmp/want" || [ $? -le 3 ]
"$bin" diagnose --bundle "$bundle" --no-system-rules --format json >"$tmp/got" || [ $? -le 3 ]
want=$(grep -o -m1 '"id": "[^"]*"' "$tmp/want")
got=$(grep -o -m1 '"id": "[^"]*"' "$tmp/got")
[ -n "$want" ] && [ "$want" = "$got" ] || { echo "static-build.sh: rank 1 differs: $got vs $want" >&2; exit 1; }
echo "static-build.sh: $bin is static ($(du -h "$bin" | cut -f1)) and gives the same rank 1 ($got)"
