#!/usr/bin/env bash
# Benchmark: a full `mailsleuth collect` (and `why`) on a host with 10,000 Maildir messages
# (10 users × 1,000) and 1,000 queued messages, built as a sysroot in a temporary directory.
# Usage: benches/collect.sh [USERS] [MESSAGES_PER_USER] [QUEUED]
# Prints wall time per run (best of 5), the bundle size and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-10}; per=${2:-1000}; queued=${3:-1000}
cargo build --release --quiet
bin=target/release/mailsleuth
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/etc/postfix "$root"/var/log "$root"/tmp "$root"/var/tmp "$root"/usr/sbin
chmod 1777 "$root"/tmp "$root"/var/tmp
: > "$root"/usr/sbin/postfix
printf 'myhostname = mx1.bench.example\nhome_mailbox = Maildir/\nmaillog_file = /var/log/mail.log\n' > "$root"/etc/postfix/main.cf
echo "root:x:0:0:root:/root:/bin/bash" > "$root"/etc/passwd
for u in $(seq 1 "$users"); do
  uid=$((1000 + u)); home="$root/home/user$u"
  echo "user$u:x:$uid:$uid::/home/user$u:/bin/bash" >> "$root"/etc/passwd
  mkdir -p "$home"/Maildir/{cur,new,tmp} "$home"/Maildir/.Sent/{cur,new,tmp}
  ( cd "$home"/Maildir/cur && seq 1 "$per" | sed "s/^/17000000.M/; s/\$/P1.mx1:2,S/" | xargs touch )
done
for q in maildrop incoming active deferred hold; do mkdir -p "$root/var/spool/postfix/$q"; done
for h in 0 1 2 3 4 5 6 7 8 9 A B C D E F; do mkdir -p "$root/var/spool/postfix/deferred/$h"; done
for i in $(seq 1 "$queued"); do
  h=$(printf '%X' $((i % 16)))
  head -c $((2000 + i * 7)) /dev/zero > "$root/var/spool/postfix/deferred/$h/$(printf '%X%05X' $((i % 16)) "$i")"
done
if [ -f tests/fixtures/captured/founding-tmp-0700/mail.log ]; then cp tests/fixtures/captured/founding-tmp-0700/mail.log "$root"/var/log/mail.log; fi

best=""
for run in 1 2 3 4 5; do
  s=$(date +%s%N)
  "$bin" collect --root "$root" -o "$root/bundle.json" 2>/dev/null
  e=$(( ($(date +%s%N) - s) / 1000000 ))
  if [ -z "$best" ] || [ "$e" -lt "$best" ]; then best=$e; fi
done
size=$(stat -c %s "$root/bundle.json")
peak=$( { /usr/bin/time -f '%M' "$bin" collect --root "$root" -o "$root/bundle2.json" 2>&1 >/dev/null; } | tail -1 )
s=$(date +%s%N); "$bin" diagnose --bundle "$root/bundle.json" --format json --no-system-rules > /dev/null || true; d=$(( ($(date +%s%N) - s) / 1000000 ))
echo "collect: ${users} users × ${per} Maildir messages, ${queued} queued: best of 5 = ${best} ms; bundle ${size} bytes; peak RSS ${peak} KB; diagnose from bundle ${d} ms"
