#!/usr/bin/env bash
# Live scenarios: a real Postfix broken on purpose, then mailsleuth itself run *inside* the
# lab namespace as an admin would run it (`collect`, `why`), against the live daemons.
#
#   tests/lab/live.sh run live-founding OUTDIR      (needs OUTDIR/bin/mailsleuth)
#
# The binary is passed through OUTDIR (bind-mounted into the lab before /tmp is covered),
# so it works wherever the checkout lives. Outputs in OUTDIR: bundle.json (the live
# observations), why.json and why.txt, mail.log, and the usual lab captures.
# Built on lab.sh (sourced; see its header for the isolation guarantees).

set -euo pipefail
# shellcheck source=tests/lab/lab.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab.sh"
# lab_enter re-executes LAB_SELF inside the namespaces: that must be this file.
LAB_SELF="$LAB_SELF_DIR/$(basename "${BASH_SOURCE[0]}")"

lab_run_mailsleuth() {
  local bin=$LAB_OUT/bin/mailsleuth
  [ -x "$bin" ] || lab_die "no mailsleuth binary at OUTDIR/bin/mailsleuth"
  local t0 t1
  t0=$(date +%s%N)
  "$bin" collect -o "$LAB_OUT/bundle.json" 2>"$LAB_OUT/collect.err" || lab_die "mailsleuth collect failed: $(cat "$LAB_OUT/collect.err")"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000)) >"$LAB_OUT/collect.ms"
  local rc=0
  "$bin" why --format json --no-system-rules >"$LAB_OUT/why.json" || rc=$?
  NO_COLOR=1 "$bin" why --no-system-rules >"$LAB_OUT/why.txt" || true
  echo "$rc" >"$LAB_OUT/why.exit"
}

describe_live_founding() { echo "founding case live: /tmp root 0700, maildrop, relayhost and lab DNS set; mailsleuth collect + why run inside"; }
scenario_live_founding() {
  lab_setup
  # A relayhost and a DNS server of the lab's own, so collect has real values to see.
  postconf -e 'relayhost = [relay.lab.example]:587'
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  chmod 0700 /tmp
  lab_start_postfix
  local s
  for s in 2000 5000 20000 40000; do lab_send "$s" "$LAB_USER@$LAB_HOSTNAME"; done
  lab_wait_status 4 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-founding: mailsleuth run inside a broken lab host" \
    "/tmp chmod 0700 (root); relayhost [relay.lab.example]:587; dnsmasq on 127.0.0.1 for lab.example; four messages of 2000, 5000, 20000 and 40000 bytes to $LAB_USER; then \`mailsleuth collect\` and \`mailsleuth why\` run inside the namespace."
  lab_stop
  grep -q 'Unable to create temporary file' "$LAB_OUT/mail.log" || { lab_log "expected maildrop tmpfile deferrals"; return 1; }
}

describe_live_master_stopped() { echo "Postfix master stopped: local submissions pile up in maildrop/, nothing listens on 25"; }
scenario_live_master_stopped() {
  lab_setup
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  postfix stop >/dev/null 2>&1
  sleep 0.5
  local s
  for s in 3000 4000 5000; do lab_send "$s" "$LAB_USER@$LAB_HOSTNAME"; done
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-master-stopped" "Postfix started, one message delivered, then \`postfix stop\`; three more messages submitted with sendmail (they wait in maildrop/); mailsleuth run inside."
  lab_stop
  [ "$(find /var/spool/postfix/maildrop -type f | wc -l)" -ge 3 ] || { lab_log "expected messages waiting in maildrop/"; return 1; }
}

describe_live_relay_refused() { echo "relayhost [192.0.2.10]:25 where nothing listens: outbound mail deferred with Connection refused"; }
scenario_live_relay_refused() {
  lab_setup
  # An address of this namespace that is not one of Postfix's own (inet_interfaces is
  # loopback-only): connecting to it is refused at once. A loopback address would be
  # "mail loops back to myself" instead.
  # (A veth pair: the dummy driver is not available on every kernel.)
  ip link add lab0 type veth peer name lab1
  ip addr add 192.0.2.10/24 dev lab1
  ip link set lab0 up && ip link set lab1 up
  postconf -e 'relayhost = [192.0.2.10]:25'
  lab_start_postfix
  local s
  for s in 2000 3000 4000; do lab_send "$s" "carol@example.net"; done
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 4 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-relay-refused" "relayhost = [192.0.2.10]:25 on a veth interface (nothing listens there); three messages to carol@example.net, one local; mailsleuth run inside."
  lab_stop
  grep -q 'Connection refused' "$LAB_OUT/mail.log" || { lab_log "expected Connection refused deferrals"; return 1; }
}

describe_live_maildir_root() { echo "home_mailbox = Maildir/ and alice's Maildir owned by root 0700: Postfix local(8) bounces (5.2.0)"; }
scenario_live_maildir_root() {
  lab_setup
  postconf -e 'home_mailbox = Maildir/' 'mailbox_command ='
  chown -R root:root "/home/$LAB_USER/Maildir"
  chmod -R 0700 "/home/$LAB_USER/Maildir"
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 9000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-maildir-root" "home_mailbox = Maildir/ (Postfix's own Maildir delivery, no maildrop); /home/$LAB_USER/Maildir chown root:root, chmod 0700; two messages to $LAB_USER; mailsleuth run inside."
  lab_stop
  grep -q 'status=\(bounced\|deferred\)' "$LAB_OUT/mail.log" || { lab_log "expected failed deliveries"; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lab_main "$@"
fi
