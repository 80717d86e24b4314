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

describe_live_relayhost_nxdomain() { echo "relayhost [realy.lab.example]:587 (a typo of relay.lab.example): the lab DNS answers NXDOMAIN, outbound mail is deferred"; }
scenario_live_relayhost_nxdomain() {
  lab_setup
  # The lab's own DNS knows relay.lab.example; the relayhost names a typo of it, which the
  # lab zone answers with NXDOMAIN. The resolver itself works.
  postconf -e 'relayhost = [realy.lab.example]:587'
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  lab_start_postfix
  local s
  for s in 2000 3000 4000; do lab_send "$s" "carol@example.net"; done
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 4 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-relayhost-nxdomain" "relayhost = [realy.lab.example]:587 (the lab DNS knows relay.lab.example; the typo gets NXDOMAIN); three messages to carol@example.net, one local; mailsleuth run inside."
  lab_stop
  grep -q 'Host or domain name not found' "$LAB_OUT/mail.log" || { lab_log "expected 'Host or domain name not found' deferrals"; return 1; }
}

describe_live_recipient_nxdomain() { echo "near miss: no relayhost, a recipient domain that does not exist (NXDOMAIN from the lab DNS): that message bounces, the rest flows"; }
scenario_live_recipient_nxdomain() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  LAB_SENDER=root@$LAB_HOSTNAME
  lab_start_postfix
  lab_send 2000 "erin@nx.lab.example"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  # The message to erin bounces; its bounce notice goes to root (an alias of alice).
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-recipient-nxdomain" "No relayhost; the lab DNS answers NXDOMAIN for nx.lab.example. One message from root to erin@nx.lab.example (bounced, 5.4.4), one to $LAB_USER; mailsleuth run inside."
  lab_stop
  grep -q 'status=bounced (Host or domain name not found' "$LAB_OUT/mail.log" || { lab_log "expected a 'Host or domain name not found' bounce"; return 1; }
}

# lab_smtp_to LOCAL_IP RCPT...: one SMTP session from LOCAL_IP (a client on the LAN, as
# far as smtpd is concerned) with one message for the given recipients.
lab_smtp_to() {
  local ip=$1
  shift
  local to
  to=$(IFS=,; echo "$*")
  lab_swaks --local-interface "$ip" --ehlo "client-${ip##*.}.lab.example" -f "app@client.lab.example" -t "$to"
}

describe_live_unknown_recipient() { echo "mail for local users that do not exist: a web application retries webmaster@, a cron job mails reports@, one spam probe"; }
scenario_live_unknown_recipient() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  LAB_SENDER=root@$LAB_HOSTNAME
  lab_start_postfix
  # A web server on the LAN (127.0.0.20) sends its contact form to webmaster@, which has
  # neither an account nor an alias; it retries three times. A spam client (127.0.0.66)
  # probes a random address once. A cron job on this host mails its report to reports@.
  local _
  for _ in 1 2 3; do lab_smtp_to 127.0.0.20 "webmaster@$LAB_HOSTNAME"; done
  lab_smtp_to 127.0.0.66 "k7qzt9@$LAB_HOSTNAME"
  lab_smtp_to 127.0.0.20 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 3000 "reports@$LAB_HOSTNAME"
  # alice's message, reports@'s bounce, and the bounce notice to root (alice).
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-unknown-recipient" "Default local_recipient_maps. Three SMTP sessions from 127.0.0.20 to webmaster@$LAB_HOSTNAME (rejected 550 5.1.1 User unknown in local recipient table), one from 127.0.0.66 to k7qzt9@ (rejected), one to $LAB_USER (delivered); a local sendmail submission from root to reports@ (local(8) bounces: unknown user); mailsleuth run inside."
  lab_stop
  grep -q 'User unknown in local recipient table' "$LAB_OUT/mail.log" && grep -q 'unknown user: "reports"' "$LAB_OUT/mail.log" \
    || { lab_log "expected smtpd rejections and a local(8) unknown user bounce"; return 1; }
}

describe_live_unknown_recipient_spam() { echo "near miss: spam clients probe random local addresses, each once; everything real is delivered"; }
scenario_live_unknown_recipient_spam() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  lab_start_postfix
  local i=0 r
  for r in info2 k7qzt9 mqx31 sales-eu jdoe88; do
    i=$((i + 1))
    lab_smtp_to "127.0.0.$((60 + i))" "$r@$LAB_HOSTNAME"
  done
  lab_smtp_to 127.0.0.20 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-unknown-recipient-spam" "Default local_recipient_maps. Five clients (127.0.0.61-65) each try one random address at $LAB_HOSTNAME (rejected 550 5.1.1); one message to $LAB_USER from 127.0.0.20 is delivered; mailsleuth run inside."
  lab_stop
  [ "$(grep -c 'User unknown in local recipient table' "$LAB_OUT/mail.log")" -eq 5 ] || { lab_log "expected five rejections"; return 1; }
}

# lab_fill DIR BYTES_LEFT: fill DIR's file system (a lab tmpfs) until BYTES_LEFT remain.
lab_fill() {
  local dir=$1 left=$2 avail
  avail=$(df --output=avail -B1 "$dir" | tail -n 1 | tr -d ' ')
  [ "$avail" -gt "$left" ] || return 0
  fallocate -l $((avail - left)) "$dir/lab-filler" 2>/dev/null || dd if=/dev/zero of="$dir/lab-filler" bs=4096 count=$(((avail - left) / 4096)) 2>/dev/null
}

describe_live_queue_fs_full() { echo "the queue file system (a 24 MB tmpfs over /var/spool/postfix) is full: smtpd answers 452, a large local submission fails"; }
scenario_live_queue_fs_full() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  # A small file system of its own under the queue, before Postfix creates its directories.
  mount -t tmpfs -o size=24m,mode=0755 lab-queue /var/spool/postfix
  LAB_SENDER=root@$LAB_HOSTNAME
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  # Something else fills the file system: 600 KB are left, far below 1.5 x message_size_limit.
  lab_fill /var/spool/postfix 600000
  lab_smtp_to 127.0.0.20 "$LAB_USER@$LAB_HOSTNAME"
  lab_smtp_to 127.0.0.21 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 3000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  # Then a 900 KB report from a local job: postdrop cannot write it.
  lab_send 900000 "$LAB_USER@$LAB_HOSTNAME" 2>"$LAB_OUT/sendmail.err" || true
  sleep 0.5
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-queue-fs-full" "A 24 MB tmpfs mounted on /var/spool/postfix before Postfix started; one message delivered; then filled to 600 KB free (message_size_limit is the default 10240000, so smtpd needs 15 MB). Two SMTP sessions (127.0.0.20, .21) get 452 4.3.1; a 3000-byte local submission is delivered; a 900 KB one fails in postdrop (sendmail.err). mailsleuth run inside."
  lab_stop
  grep -q 'Insufficient system storage' "$LAB_OUT/mail.log" || { lab_log "expected 452 Insufficient system storage"; return 1; }
}

describe_live_queue_fs_freed() { echo "near miss: the queue file system was full (452s in the log), then space was freed"; }
scenario_live_queue_fs_freed() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  mount -t tmpfs -o size=24m,mode=0755 lab-queue /var/spool/postfix
  LAB_SENDER=root@$LAB_HOSTNAME
  lab_start_postfix
  lab_fill /var/spool/postfix 600000
  lab_smtp_to 127.0.0.20 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_log /var/log/mail.log 'Insufficient system storage' || LAB_WAIT_FAILED=1
  rm -f /var/spool/postfix/lab-filler
  lab_smtp_to 127.0.0.20 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-queue-fs-freed" "A 24 MB tmpfs on /var/spool/postfix, filled to 600 KB free: one SMTP session gets 452 4.3.1; then the filler is removed and the same client's next message is delivered. mailsleuth run inside."
  lab_stop
  grep -q 'Insufficient system storage' "$LAB_OUT/mail.log" || { lab_log "expected 452 Insufficient system storage"; return 1; }
}

describe_live_mailbox_fs_full() { echo "the mail spool (a 1 MB tmpfs over /var/mail) is full: local(8) defers with No space left on device"; }
scenario_live_mailbox_fs_full() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  # Postfix's own mbox delivery into /var/mail, on a small file system that fills up.
  postconf -e 'mailbox_command ='
  mount -t tmpfs -o size=1m,mode=2775,gid=mail lab-mail /var/mail
  LAB_SENDER=root@$LAB_HOSTNAME
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  lab_fill /var/mail 8192
  local s
  for s in 5000 20000 40000; do lab_send "$s" "$LAB_USER@$LAB_HOSTNAME"; done
  lab_wait_status 4 || LAB_WAIT_FAILED=1
  lab_capture
  lab_run_mailsleuth
  lab_notes "live-mailbox-fs-full" "mailbox_command empty (local(8) appends to /var/mail/$LAB_USER); a 1 MB tmpfs on /var/mail; one message delivered, then the file system filled to 8 KB free; three more messages (5000-40000 bytes) are deferred. mailsleuth run inside."
  lab_stop
  grep -q 'No space left on device' "$LAB_OUT/mail.log" || { lab_log "expected No space left on device"; return 1; }
}

# lab_imap_login SRC_IP USER PASSWORD [plain]: one IMAP session from SRC_IP as a mail
# client makes it (Python's imaplib): STARTTLS (Debian's Dovecot refuses plaintext logins
# from another address), then LOGIN; with `plain`, LOGIN without STARTTLS. The lab's
# certificate is the snakeoil one: not verified.
lab_imap_login() {
  python3 - "$@" <<'PY' || true
import imaplib, socket, ssl, sys
src, user, password = sys.argv[1:4]
plain = sys.argv[4:5] == ["plain"]
class Client(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout or 10, source_address=(src, 0))
try:
    c = Client("127.0.0.1")
    try:
        if not plain:
            c.starttls(ssl._create_unverified_context())
        c.login(user, password)
        c.select("INBOX")
    except imaplib.IMAP4.error:
        pass
    c.logout()
except OSError:
    pass
PY
}

# A Dovecot with IMAP on loopback and the Debian default passdb (PAM against the lab's
# shadow file); alice's password is "secret".
lab_dovecot_imap() {
  lab_setup_dovecot
  local hash
  hash=$(openssl passwd -6 secret)
  # (not sed -i: it would rename a file over the bind mount)
  awk -F: -v OFS=: -v u="$LAB_USER" -v h="$hash" '$1 == u { $2 = h } { print }' /etc/shadow >"$LAB_W/shadow.new"
  cat "$LAB_W/shadow.new" >/etc/shadow
}

lab_capture_dovecot() {
  cp /var/log/dovecot.log "$LAB_OUT/dovecot.log" 2>/dev/null || : >"$LAB_OUT/dovecot.log"
  doveconf -n >"$LAB_OUT/doveconf-n.txt" 2>&1 || true
}

describe_live_imap_wrong_password() { echo "a mail client (127.0.0.30) keeps logging in to IMAP as alice with an old password; alice's laptop (127.0.0.31) logs in fine"; }
scenario_live_imap_wrong_password() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  lab_dovecot_imap
  lab_start_postfix
  lab_start_dovecot
  lab_imap_login 127.0.0.31 "$LAB_USER" secret
  # The phone's retries run side by side (each failure waits auth_failure_delay, 2 s).
  local _
  for _ in 1 2 3 4; do lab_imap_login 127.0.0.30 "$LAB_USER" old-password & done
  wait
  lab_wait_until "4 failed logins in dovecot.log" \
    sh -c '[ "$(grep -c "auth failed" /var/log/dovecot.log)" -ge 4 ]' || LAB_WAIT_FAILED=1
  lab_capture
  lab_capture_dovecot
  lab_run_mailsleuth
  lab_notes "live-imap-wrong-password" "Dovecot 2.3 with Debian's default PAM passdb on 127.0.0.1:143; $LAB_USER's password is 'secret'. One good login from 127.0.0.31, then four IMAP LOGINs as $LAB_USER with 'old-password' from 127.0.0.30. mailsleuth run inside."
  lab_stop
  [ "$(grep -c 'auth failed' "$LAB_OUT/dovecot.log")" -ge 4 ] || { lab_log "expected four failed logins"; return 1; }
}

describe_live_imap_plaintext_refused() { echo "near miss: a client (127.0.0.30) logs in with the right password but without TLS; Dovecot refuses it unchecked"; }
scenario_live_imap_plaintext_refused() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  lab_dovecot_imap
  lab_start_postfix
  lab_start_dovecot
  lab_imap_login 127.0.0.31 "$LAB_USER" secret
  local _
  for _ in 1 2 3 4; do lab_imap_login 127.0.0.30 "$LAB_USER" secret plain & done
  wait
  lab_wait_until "4 refused logins in dovecot.log" \
    sh -c '[ "$(grep -c "auth failed" /var/log/dovecot.log)" -ge 4 ]' || LAB_WAIT_FAILED=1
  lab_capture
  lab_capture_dovecot
  lab_run_mailsleuth
  lab_notes "live-imap-plaintext-refused" "Dovecot 2.3 with Debian's defaults (disable_plaintext_auth = yes, no auth_verbose) on 127.0.0.1:143; $LAB_USER's password is 'secret'. One good login with STARTTLS from 127.0.0.31, then four IMAP LOGINs as $LAB_USER with the right password but without STARTTLS from 127.0.0.30: each is logged as 'auth failed' without method=. mailsleuth run inside."
  lab_stop
  [ "$(grep -c 'auth failed' "$LAB_OUT/dovecot.log")" -ge 4 ] && ! grep -q 'method=PLAIN, rip=127.0.0.30' "$LAB_OUT/dovecot.log" \
    || { lab_log "expected four refused plaintext logins without method="; return 1; }
}

# Postfix delivering local mail through Dovecot's LMTP socket in the queue's private/, both
# started, with the lab's DNS.
live_lmtp_host() {
  lab_setup
  lab_start_dns --host-record=relay.lab.example,127.0.0.3
  lab_setup_dovecot "auth_username_format = %Ln
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}"
  postconf -e 'mailbox_command =' 'mailbox_transport = lmtp:unix:private/dovecot-lmtp'
  LAB_SENDER=root@$LAB_HOSTNAME
  lab_start_postfix
  lab_start_dovecot
}

describe_live_dovecot_lmtp_down() { echo "mailbox_transport = lmtp:unix:private/dovecot-lmtp and Dovecot stopped: local mail is deferred"; }
scenario_live_dovecot_lmtp_down() {
  live_lmtp_host
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  # Dovecot goes away (stopped for maintenance and not started again).
  doveadm stop >/dev/null 2>&1 || kill "$(cat /run/dovecot/master.pid)"
  lab_wait_until "dovecot to exit" sh -c '! pgrep -x dovecot >/dev/null' || true
  local s
  for s in 3000 5000; do lab_send "$s" "$LAB_USER@$LAB_HOSTNAME"; done
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  lab_capture
  lab_capture_dovecot
  lab_run_mailsleuth
  lab_notes "live-dovecot-lmtp-down" "Dovecot 2.3 LMTP listening on /var/spool/postfix/private/dovecot-lmtp; mailbox_transport = lmtp:unix:private/dovecot-lmtp. One message delivered through LMTP, then \`doveadm stop\`; two more messages are deferred. mailsleuth run inside."
  lab_stop
  grep -q 'status=deferred.*dovecot-lmtp' "$LAB_OUT/mail.log" || { lab_log "expected deferrals naming dovecot-lmtp"; return 1; }
}

describe_live_dovecot_lmtp_ok() { echo "near miss: Dovecot LMTP running; one message delivered, one to an unknown user bounced by LMTP"; }
scenario_live_dovecot_lmtp_ok() {
  live_lmtp_host
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 3000 "$LAB_USER@$LAB_HOSTNAME"
  # mailbox_transport takes every local recipient, known to passwd or not: LMTP answers.
  lab_send 2500 "nosuch@$LAB_HOSTNAME"
  # Two delivered, one bounced, and the bounce notice to root (alice) delivered.
  lab_wait_status 4 || LAB_WAIT_FAILED=1
  lab_capture
  lab_capture_dovecot
  lab_run_mailsleuth
  lab_notes "live-dovecot-lmtp-ok" "Dovecot 2.3 LMTP on /var/spool/postfix/private/dovecot-lmtp, mailbox_transport = lmtp:unix:private/dovecot-lmtp, Dovecot running; two messages to $LAB_USER delivered through LMTP, one to nosuch@ bounced by LMTP (User doesn't exist) and its bounce notice delivered to root ($LAB_USER). mailsleuth run inside."
  lab_stop
  [ "$(grep -c 'status=sent' "$LAB_OUT/mail.log")" -ge 3 ] || { lab_log "expected three messages delivered"; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lab_main "$@"
fi
