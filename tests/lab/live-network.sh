#!/usr/bin/env bash
# Live scenarios for the services/network/DNS rules: a real Postfix whose helpers (content
# filter, milter, policy server), listeners, firewall, relayhost or DNS are broken (or, for
# the near misses, work), then mailsleuth run inside the lab as an admin would run it.
#
#   tests/lab/live-network.sh list
#   tests/lab/live-network.sh run live-content-filter-down OUTDIR   (needs OUTDIR/bin/mailsleuth)
#
# Built on live.sh and lab.sh (sourced; see lab.sh's header for the isolation guarantees).
# Every address used here lives in the lab's private network namespace: 192.0.2.0/24 and
# 198.51.100.0/24 (documentation ranges) stand for public addresses; "remote" mail servers
# are small Python scripts on loopback addresses of the namespace. Outputs as in live.sh;
# tests/lab/scrub-bundle.py turns OUTDIR/bundle.json into a scenario's bundle.json.

set -euo pipefail
# shellcheck source=tests/lab/live.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/live.sh"
LAB_SELF="$LAB_SELF_DIR/$(basename "${BASH_SOURCE[0]}")"

# ---------------------------------------------------------------- helpers

# ln_public_addr ADDR/PREFIX...: a veth pair (lab0 <-> lab1) with the addresses on lab1: the
# host's "public" interface.
ln_public_addr() {
  ip link add lab0 type veth peer name lab1
  local a
  for a in "$@"; do ip addr add "$a" dev lab1; done
  ip link set lab0 up && ip link set lab1 up
}

# ln_helper KIND ARGS...: start one of the Python helpers below in the background and wait
# until it listens. KIND: sink ADDR PORT [REPLY_AT_RCPT] (an SMTP server that accepts, or
# answers every RCPT with REPLY), amavis PORT REINJECT_PORT (accepts and re-injects, as
# amavisd does), milter PORT (a milter that accepts everything), policy PORT [ACTION].
ln_helper() {
  local kind=$1 log
  shift
  log="$LAB_W/helper-$kind-$$-$RANDOM.log"
  python3 - "$kind" "$@" >"$log" 2>&1 <<'PY' &
import socket, socketserver, smtplib, struct, sys, threading, time

kind, args = sys.argv[1], sys.argv[2:]
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True

def line(f):
    l = f.readline()
    return l.decode("latin-1").rstrip("\r\n") if l else None

class Smtp(socketserver.StreamRequestHandler):
    name = "mx.remote.example"
    rcpt_reply = None
    reinject = None
    def send(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def handle(self):
        self.send("220 %s ESMTP" % self.name)
        sender, rcpts = "", []
        while True:
            l = line(self.rfile)
            if l is None: return
            u = l.upper()
            if u.startswith("EHLO"): self.send("250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME" % self.name)
            elif u.startswith("HELO"): self.send("250 %s" % self.name)
            elif u.startswith("MAIL"): sender = l[l.find("<") + 1:l.find(">")]; self.send("250 2.1.0 Ok")
            elif u.startswith("RCPT"):
                a = l[l.find("<") + 1:l.find(">")]
                if self.rcpt_reply:
                    peer = self.client_address[0]
                    self.send(self.rcpt_reply.replace("{ip}", peer).replace("{a}", a))
                else:
                    rcpts.append(a); self.send("250 2.1.5 Ok")
            elif u.startswith("DATA"):
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    d = line(self.rfile)
                    if d is None: return
                    if d == ".": break
                    data.append(d[1:] if d.startswith("..") else d)
                if self.reinject:
                    msg = "X-Virus-Scanned: lab filter\r\n" + "\r\n".join(data) + "\r\n"
                    with smtplib.SMTP("127.0.0.1", self.reinject) as s:
                        s.sendmail(sender, rcpts, msg.encode("latin-1"))
                self.send("250 2.0.0 Ok: queued as 4XqTz21kP3z9v")
            elif u.startswith("RSET"): rcpts = []; self.send("250 2.0.0 Ok")
            elif u.startswith("QUIT"): self.send("221 2.0.0 Bye"); return
            else: self.send("250 2.0.0 Ok")

class Milter(socketserver.BaseRequestHandler):
    # Sendmail milter protocol v6: negotiate no actions, then "continue" to everything.
    def handle(self):
        s = self.request
        def read(n):
            b = b""
            while len(b) < n:
                c = s.recv(n - len(b))
                if not c: return None
                b += c
            return b
        while True:
            h = read(4)
            if h is None: return
            (n,) = struct.unpack(">I", h)
            body = read(n)
            if body is None: return
            cmd, data = body[:1], body[1:]
            def reply(c, d=b""):
                s.sendall(struct.pack(">I", 1 + len(d)) + c + d)
            if cmd == b"O":
                ver, act, proto = struct.unpack(">III", data[:12])
                reply(b"O", struct.pack(">III", 6, 0, 0))
            elif cmd in (b"D", b"A"):
                pass
            elif cmd == b"Q":
                return
            elif cmd == b"E":
                reply(b"a")
            else:
                reply(b"c")

class Policy(socketserver.StreamRequestHandler):
    action = "DUNNO"
    def handle(self):
        while True:
            attrs = {}
            while True:
                l = line(self.rfile)
                if l is None: return
                if l == "": break
                k, _, v = l.partition("=")
                attrs[k] = v
            self.wfile.write(("action=%s\n\n" % self.action).encode()); self.wfile.flush()

if kind == "sink":
    addr, port = args[0], int(args[1])
    # A multi-line reply is written with literal \r\n between its lines.
    Smtp.rcpt_reply = args[2].replace("\\r\\n", "\r\n") if len(args) > 2 else None
    srv = socketserver.ThreadingTCPServer((addr, port), Smtp)
elif kind == "amavis":
    Smtp.name = "localhost"
    Smtp.reinject = int(args[1])
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", int(args[0])), Smtp)
elif kind == "milter":
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", int(args[0])), Milter)
elif kind == "policy":
    Policy.action = args[1] if len(args) > 1 else "DUNNO"
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", int(args[0])), Policy)
else:
    sys.exit("unknown helper " + kind)
print("ready", flush=True)
srv.serve_forever()
PY
  lab_wait_until "helper $kind" grep -q ready "$log" || lab_die "helper $kind did not start: $(cat "$log")"
}

# ln_dns ARGS...: the lab DNS (dnsmasq on 127.0.0.1, authoritative for lab.example) without
# lab_start_dns's defaults (this host as lab.example's MX, mx1 at 127.0.0.1).
ln_dns() {
  dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 --pid-file=/run/lab-dnsmasq.pid \
    --local="/$LAB_DOMAIN/" "$@"
}

# ln_smtp_session RCPT: one SMTP session from 127.0.0.1 to the lab's smtpd.
ln_smtp_session() {
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$1" --body "lab message to $1"
}

ln_finish() {
  lab_capture
  lab_run_mailsleuth
  lab_notes "$1" "$2"
  lab_stop
}

# ---------------------------------------------------------------- content filter

AMAVIS_MASTER_CF='
smtp-amavis unix -      -       n       -       2       smtp
    -o smtp_data_done_timeout=1200
    -o smtp_send_xforward_command=yes
    -o disable_dns_lookups=yes
    -o max_use=20
127.0.0.1:10025 inet n  -       n       -       -       smtpd
    -o content_filter=
    -o local_recipient_maps=
    -o relay_recipient_maps=
    -o smtpd_restriction_classes=
    -o smtpd_delay_reject=no
    -o smtpd_client_restrictions=permit_mynetworks,reject
    -o smtpd_helo_restrictions=
    -o smtpd_sender_restrictions=
    -o smtpd_recipient_restrictions=permit_mynetworks,reject
    -o smtpd_data_restrictions=reject_unauth_pipelining
    -o smtpd_end_of_data_restrictions=
    -o mynetworks=127.0.0.0/8
    -o smtpd_error_sleep_time=0
    -o smtpd_soft_error_limit=1001
    -o smtpd_hard_error_limit=1000
    -o smtpd_client_connection_count_limit=0
    -o smtpd_client_connection_rate_limit=0
    -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters'

describe_live_content_filter_down() { echo "content_filter = smtp-amavis:[127.0.0.1]:10024 (Debian amavis setup) while nothing listens on 10024"; }
scenario_live_content_filter_down() {
  lab_setup
  lab_start_dns
  printf '%s\n' "$AMAVIS_MASTER_CF" >>/etc/postfix/master.cf
  postconf -e 'content_filter = smtp-amavis:[127.0.0.1]:10024'
  lab_start_postfix
  local s
  for s in 2000 3000 4000; do lab_send "$s" "$LAB_USER@$LAB_HOSTNAME"; done
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  ln_finish "live-content-filter-down" "Debian's amavisd-new README.Postfix setup (smtp-amavis transport, re-injection smtpd on 127.0.0.1:10025) with content_filter = smtp-amavis:[127.0.0.1]:10024, but amavisd is not running: three local messages; mailsleuth run inside."
  grep -q '10024: Connection refused' "$LAB_OUT/mail.log" || { lab_log "expected refused connections to 10024"; return 1; }
}

describe_live_content_filter_up() { echo "near miss: the same amavis setup with the filter up; a remote MX refuses (mail deferred for another reason)"; }
scenario_live_content_filter_up() {
  lab_setup
  lab_start_dns --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.20
  printf '%s\n' "$AMAVIS_MASTER_CF" >>/etc/postfix/master.cf
  postconf -e 'content_filter = smtp-amavis:[127.0.0.1]:10024'
  ln_helper amavis 10024 10025
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 3000 "carol@example.net"
  lab_send 4000 "carol@example.net"
  lab_wait_status 5 || LAB_WAIT_FAILED=1
  ln_finish "live-content-filter-up" "The amavis setup with a stand-in filter on 127.0.0.1:10024 (a Python SMTP server that re-injects into 127.0.0.1:10025, as amavisd does); one local message delivered, two to carol@example.net whose MX (127.0.0.20) refuses connections; mailsleuth run inside."
  grep -q 'example.net.*Connection refused' "$LAB_OUT/mail.log" || { lab_log "expected the remote MX to refuse"; return 1; }
}

# ---------------------------------------------------------------- milter

describe_live_milter_down() { echo "smtpd_milters = non_smtpd_milters = inet:127.0.0.1:8891 (opendkim's port) with nothing listening; milter_default_action left at tempfail"; }
scenario_live_milter_down() {
  lab_setup
  lab_start_dns
  postconf -e 'smtpd_milters = inet:127.0.0.1:8891' 'non_smtpd_milters = $smtpd_milters'
  lab_start_postfix
  ln_smtp_session "$LAB_USER@$LAB_HOSTNAME"
  ln_smtp_session "$LAB_USER@$LAB_HOSTNAME"
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  sleep 2
  ln_finish "live-milter-down" "opendkim-style milter settings (smtpd_milters = inet:127.0.0.1:8891, non_smtpd_milters = \$smtpd_milters, milter_default_action at its default tempfail) with no milter running; two SMTP sessions from 127.0.0.1 (swaks) and one sendmail submission; mailsleuth run inside."
  grep -q 'connect to Milter service' "$LAB_OUT/mail.log" || { lab_log "expected milter connect warnings"; return 1; }
}

describe_live_milter_up() { echo "near miss: the same milter settings with a milter listening on 8891; mail delivered"; }
scenario_live_milter_up() {
  lab_setup
  lab_start_dns
  postconf -e 'smtpd_milters = inet:127.0.0.1:8891' 'non_smtpd_milters = $smtpd_milters'
  ln_helper milter 8891
  lab_start_postfix
  ln_smtp_session "$LAB_USER@$LAB_HOSTNAME"
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-milter-up" "smtpd_milters = inet:127.0.0.1:8891 with a milter listening (a Python stand-in speaking milter protocol 6 that accepts everything); one SMTP session and one sendmail submission, both delivered; mailsleuth run inside."
  ! grep -q 'connect to Milter service' "$LAB_OUT/mail.log" || { lab_log "the milter should be reachable"; return 1; }
}

# ---------------------------------------------------------------- policy service

describe_live_policy_down() { echo "check_policy_service inet:127.0.0.1:10023 (postgrey's port) with nothing listening: 451 4.3.5"; }
scenario_live_policy_down() {
  lab_setup
  lab_start_dns
  postconf -e 'smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:10023'
  lab_start_postfix
  ln_smtp_session "$LAB_USER@$LAB_HOSTNAME"
  ln_smtp_session "postmaster@$LAB_HOSTNAME"
  sleep 1
  ln_finish "live-policy-down" "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:10023 (postgrey's Debian port) with no policy server running; two SMTP sessions from 127.0.0.1 (swaks); mailsleuth run inside."
  grep -q 'Server configuration problem' "$LAB_OUT/mail.log" || { lab_log "expected 451 4.3.5"; return 1; }
}

describe_live_policy_greylisting() { echo "near miss: the policy server runs and greylists (450 4.2.0)"; }
scenario_live_policy_greylisting() {
  lab_setup
  lab_start_dns
  postconf -e 'smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:10023'
  ln_helper policy 10023 'DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/mx1.lab.example.html'
  lab_start_postfix
  ln_smtp_session "$LAB_USER@$LAB_HOSTNAME"
  ln_smtp_session "postmaster@$LAB_HOSTNAME"
  sleep 1
  ln_finish "live-policy-greylisting" "The same check_policy_service with a policy server listening on 127.0.0.1:10023 (a Python stand-in answering postgrey's DEFER_IF_PERMIT Greylisted); two SMTP sessions, both greylisted with 450; mailsleuth run inside."
  grep -q 'Greylisted' "$LAB_OUT/mail.log" || { lab_log "expected greylisting"; return 1; }
}

# ---------------------------------------------------------------- listeners

# The MX of lab.example is this host (mx1.lab.example, 192.0.2.25).
ln_dns_mx_here() {
  lab_start_dns --host-record="$LAB_HOSTNAME,192.0.2.25" \
    --ptr-record="25.2.0.192.in-addr.arpa,$LAB_HOSTNAME" "$@"
}

describe_live_smtp_commented_out() { echo "the smtp inet line of master.cf commented out: master runs, nothing listens on 25"; }
scenario_live_smtp_commented_out() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns_mx_here
  sed -i 's/^smtp      inet/#smtp      inet/' /etc/postfix/master.cf
  postconf -e 'inet_interfaces = all'
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-smtp-commented-out" "inet_interfaces = all on a host with 192.0.2.25 (the lab DNS: MX lab.example -> mx1.lab.example -> 192.0.2.25), and the 'smtp inet ... smtpd' line of master.cf commented out; one local message (sendmail) delivered; mailsleuth run inside."
  ! grep -q '^smtp  *inet' /etc/postfix/master.cf || { lab_log "expected the smtp inet line commented out"; return 1; }
}

describe_live_submission_not_reloaded() { echo "submission added to master.cf after Postfix started, no postfix reload: nothing on 587"; }
scenario_live_submission_not_reloaded() {
  lab_setup
  lab_start_dns
  lab_start_postfix
  postconf -M 'submission/inet=submission inet n - y - - smtpd' \
    >/dev/null
  postconf -P 'submission/inet/syslog_name=postfix/submission' 'submission/inet/smtpd_tls_security_level=encrypt' \
    'submission/inet/smtpd_sasl_auth_enable=yes' 'submission/inet/smtpd_client_restrictions=permit_sasl_authenticated,reject'
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-submission-not-reloaded" "Postfix started with the package's master.cf; then the submission service was added with postconf -M/-P (as Debian's commented-out block, with TLS and SASL), without postfix reload; one local message delivered; mailsleuth run inside."
}

describe_live_null_client() { echo "near miss: a null client (mydestination empty, relayhost, loopback-only, smtp inet commented out as STANDARD_CONFIGURATION_README advises)"; }
scenario_live_null_client() {
  lab_setup
  ln_public_addr 192.0.2.26/24
  # lab_start_dns makes this host the MX of lab.example; a null client is not.
  dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 --pid-file=/run/lab-dnsmasq.pid \
    --local="/$LAB_DOMAIN/" --mx-host="$LAB_DOMAIN,mail.$LAB_DOMAIN,10" --address="/mail.$LAB_DOMAIN/127.0.0.30" \
    --host-record="$LAB_HOSTNAME,192.0.2.26"
  ln_helper sink 127.0.0.30 25
  sed -i 's/^smtp      inet/#smtp      inet/' /etc/postfix/master.cf
  postconf -e "myorigin = \$mydomain" "relayhost = [mail.$LAB_DOMAIN]" 'mydestination =' \
    'local_transport = error:local delivery is disabled' 'inet_interfaces = loopback-only'
  lab_start_postfix
  lab_send 2000 "root@$LAB_DOMAIN"
  lab_send 3000 "carol@example.net"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-null-client" "The null client of Postfix's STANDARD_CONFIGURATION_README: myorigin = \$mydomain, relayhost = [mail.lab.example] (a Python SMTP server on 127.0.0.30 accepting everything), mydestination empty, local delivery disabled, inet_interfaces = loopback-only and the smtp inet line commented out; the host has 192.0.2.26; two messages relayed; mailsleuth run inside."
}

describe_live_loopback_only_mx() { echo "inet_interfaces = loopback-only on the host the domain's MX points to (192.0.2.25)"; }
scenario_live_loopback_only_mx() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns_mx_here
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-loopback-only-mx" "The lab's main.cf (inet_interfaces = loopback-only, mydestination = \$myhostname, localhost.\$mydomain, localhost) on a host with 192.0.2.25, which the lab DNS names as mx1.lab.example, the MX of lab.example; one local message delivered; mailsleuth run inside."
}

describe_live_inet_interfaces_absent() { echo "inet_interfaces = 192.0.2.99, an address no interface has: postfix start and sendmail fail"; }
scenario_live_inet_interfaces_absent() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns_mx_here
  postconf -e 'inet_interfaces = 192.0.2.99'
  /usr/lib/postfix/configure-instance.sh - >/dev/null 2>&1 || true
  # Every Postfix program checks inet_interfaces first: start and sendmail both fail.
  postfix start >"$LAB_W/postfix-start.out" 2>&1 || true
  sleep 1
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME" 2>"$LAB_W/sendmail.err" || true
  # No master, so no postlogd: the fatal errors go to stderr (and syslog, which the lab has
  # not), and the mail log stays empty.
  : >/var/log/mail.log
  ln_finish "live-inet-interfaces-absent" "inet_interfaces = 192.0.2.99 while the host has 192.0.2.25 (the address moved, or a typo); postfix start says: $(tr '\n' ' ' <"$LAB_W/postfix-start.out"); sendmail says: $(tr '\n' ' ' <"$LAB_W/sendmail.err"); the mail log (maillog_file, written by postlogd, which master starts) stays empty; mailsleuth run inside."
  grep -q 'no local interface found' "$LAB_W/sendmail.err" || { lab_log "expected sendmail to fail on inet_interfaces"; return 1; }
}

describe_live_inet_interfaces_other_nic() { echo "two addresses; inet_interfaces = 198.51.100.7 while myhostname/MX resolve to 192.0.2.25"; }
scenario_live_inet_interfaces_other_nic() {
  lab_setup
  ln_public_addr 192.0.2.25/24 198.51.100.7/24
  ln_dns_mx_here
  postconf -e 'inet_interfaces = 198.51.100.7'
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-inet-interfaces-other-nic" "A host with two addresses, 192.0.2.25 (mx1.lab.example, the MX of lab.example in the lab DNS) and 198.51.100.7 (a backup network); inet_interfaces = 198.51.100.7; one local message delivered; mailsleuth run inside."
}

describe_live_inet_interfaces_right_nic() { echo "near miss: two addresses; inet_interfaces = 192.0.2.25, the one myhostname and the MX resolve to"; }
scenario_live_inet_interfaces_right_nic() {
  lab_setup
  ln_public_addr 192.0.2.25/24 198.51.100.7/24
  ln_dns_mx_here
  postconf -e 'inet_interfaces = 192.0.2.25, 127.0.0.1'
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-inet-interfaces-right-nic" "A host with 192.0.2.25 (mx1.lab.example, the MX of lab.example) and 198.51.100.7; inet_interfaces = 192.0.2.25, 127.0.0.1; one local message delivered; mailsleuth run inside."
}

# ---------------------------------------------------------------- firewall

# An nftables input policy of drop that accepts ssh and the tcp ports given ("80, 443").
ln_nft_input_drop() {
  nft -f - <<NFT
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		ip protocol icmp accept
		meta l4proto ipv6-icmp accept
		tcp dport 22 accept
		tcp dport { $1 } accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
NFT
}

describe_live_firewall_in_drop() { echo "nft input policy drop, only ssh accepted; Postfix listens on 192.0.2.25:25"; }
scenario_live_firewall_in_drop() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns_mx_here
  postconf -e 'inet_interfaces = all'
  ln_nft_input_drop "80, 443"
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-firewall-in-drop" "inet_interfaces = all on 192.0.2.25 (MX of lab.example); nftables input policy drop accepting only ssh, http/https, loopback and established traffic (port 25 forgotten); one local message delivered; mailsleuth run inside."
}

describe_live_firewall_in_open() { echo "near miss: the same nft input policy drop, with tcp dport { 25, 587 } accepted"; }
scenario_live_firewall_in_open() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns_mx_here
  postconf -e 'inet_interfaces = all'
  ln_nft_input_drop "25, 587"
  lab_start_postfix
  lab_send 2000 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 1 || LAB_WAIT_FAILED=1
  ln_finish "live-firewall-in-open" "inet_interfaces = all on 192.0.2.25; nftables input policy drop that accepts tcp dport { 25, 587 }; one local message delivered; mailsleuth run inside."
}

# Remote MXes on 198.51.100.0/24, routed out of the "public" interface where nothing
# answers: a black hole, as a remote network that drops packets.
ln_remote_blackhole() {
  ln_public_addr 192.0.2.25/24
  # A gateway whose MAC nobody has: packets leave and are never answered (no ARP failure,
  # which would be "No route to host").
  ip neigh add 192.0.2.1 lladdr 02:00:5e:00:02:01 dev lab1 nud permanent
  ip route add 198.51.100.0/24 via 192.0.2.1 dev lab1
  postconf -e 'inet_interfaces = all'
  lab_start_dns --host-record="$LAB_HOSTNAME,192.0.2.25" \
    --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/198.51.100.25 \
    --mx-host=example.com,mx.example.com,10 --address=/mx.example.com/198.51.100.26 "$@"
}

describe_live_firewall_out_drop() { echo "nft output chain drops tcp dport 25: every remote MX times out"; }
scenario_live_firewall_out_drop() {
  lab_setup
  ln_remote_blackhole
  postconf -e 'smtp_connect_timeout = 10s'
  nft -f - <<'NFT'
table inet filter {
	chain output {
		type filter hook output priority filter; policy accept;
		oif "lo" accept
		tcp dport 25 counter drop comment "no direct SMTP from this host"
	}
}
NFT
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 3000 "dave@example.com"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-firewall-out-drop" "nftables output chain dropping tcp dport 25 (loopback excepted); two messages to example.net and example.com (MXes at 198.51.100.25/.26); smtp_connect_timeout = 10s to keep the lab short (the default is 30s); mailsleuth run inside."
  grep -q 'Connection timed out' "$LAB_OUT/mail.log" || { lab_log "expected connect timeouts"; return 1; }
}

describe_live_remote_mx_timeout() { echo "near miss: no firewall, no relayhost; one remote MX does not answer (connect timeout)"; }
scenario_live_remote_mx_timeout() {
  lab_setup
  ln_remote_blackhole
  postconf -e 'smtp_connect_timeout = 10s'
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-remote-mx-timeout" "No firewall rules; the MX of example.net (198.51.100.25) does not answer; one message to example.net, one local; smtp_connect_timeout = 10s; mailsleuth run inside."
  grep -q 'Connection timed out' "$LAB_OUT/mail.log" || { lab_log "expected a connect timeout"; return 1; }
}

describe_live_relayhost_timeout() { echo "relayhost = [198.51.100.10]:587 that does not answer: Connection timed out"; }
scenario_live_relayhost_timeout() {
  lab_setup
  ln_remote_blackhole
  postconf -e 'relayhost = [198.51.100.10]:587' 'smtp_connect_timeout = 10s'
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 3000 "dave@example.com"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  ln_finish "live-relayhost-timeout" "relayhost = [198.51.100.10]:587 (routed out of the public interface, where nothing answers); two remote messages, one local; smtp_connect_timeout = 10s; mailsleuth run inside."
  grep -q '198.51.100.10.*Connection timed out' "$LAB_OUT/mail.log" || { lab_log "expected relayhost timeouts"; return 1; }
}

# ---------------------------------------------------------------- DNS

describe_live_recipient_nxdomain() { echo "mail to carol@gmial.com (a typo): NXDOMAIN, bounced; the resolver answers everything else"; }
scenario_live_recipient_nxdomain() {
  lab_setup
  lab_start_dns --local=/gmial.com/ --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10
  ln_helper sink 127.0.0.10 25
  lab_start_postfix
  lab_send 2000 "carol@gmial.com"
  lab_send 2100 "dave@gmial.com"
  lab_send 3000 "carol@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 4 || LAB_WAIT_FAILED=1
  ln_finish "live-recipient-nxdomain" "The lab DNS answers NXDOMAIN for gmial.com (a typo of gmail.com) and knows example.net (MX on 127.0.0.10, a Python SMTP server accepting mail); two messages to gmial.com, one to example.net, one local; mailsleuth run inside."
  grep -q 'gmial.com type=[A-Z]*: Host not found' "$LAB_OUT/mail.log" || { lab_log "expected NXDOMAIN bounces"; return 1; }
}

describe_live_resolver_down() { echo "near miss: no DNS server at all; remote mail deferred with 'Host not found, try again'"; }
scenario_live_resolver_down() {
  lab_setup
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 2100 "dave@example.com"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  ln_finish "live-resolver-down" "resolv.conf names 127.0.0.1 where no DNS server runs; two remote messages (example.net, example.com), one local; mailsleuth run inside."
  grep -q 'try again' "$LAB_OUT/mail.log" || { lab_log "expected try-again deferrals"; return 1; }
}

describe_live_chroot_resolv_stale() { echo "resolv.conf changed after Postfix started: the chrooted smtp still asks the old nameserver"; }
scenario_live_chroot_resolv_stale() {
  lab_setup
  # The first resolver (127.0.0.1) is what Postfix copies into its chroot at start.
  lab_start_postfix
  # Then the host moves to another resolver (a DHCP renewal, systemd-resolved...).
  printf 'nameserver 127.0.0.53\nsearch %s\n' "$LAB_DOMAIN" >/etc/resolv.conf
  dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.53 --bind-interfaces --port=53 --pid-file=/run/lab-dnsmasq.pid \
    --local="/$LAB_DOMAIN/" --address="/$LAB_HOSTNAME/127.0.0.1" --mx-host="$LAB_DOMAIN,$LAB_HOSTNAME,10" \
    --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10
  ln_helper sink 127.0.0.10 25
  lab_send 2000 "carol@example.net"
  lab_send 2100 "dave@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  ln_finish "live-chroot-resolv-stale" "Postfix started with resolv.conf naming 127.0.0.1 (copied into /var/spool/postfix/etc by Debian's start script); then /etc/resolv.conf changed to 127.0.0.53, where the only DNS server runs (it knows example.net); smtp runs chrooted (the package's master.cf); two messages to example.net, one local; mailsleuth run inside."
  grep -q 'try again' "$LAB_OUT/mail.log" || { lab_log "expected try-again deferrals from the chrooted smtp"; return 1; }
}

describe_live_chroot_off_resolv_differs() { echo "near miss: the chroot copy of resolv.conf is stale but no Postfix service runs chrooted"; }
scenario_live_chroot_off_resolv_differs() {
  lab_setup
  # Every service unchrooted, as RHEL ships master.cf.
  sed -i -E 's/^([a-z0-9.:-]+ +[a-z-]+ +[-yn] +[-yn] +)y /\1n /' /etc/postfix/master.cf
  lab_start_postfix
  printf 'nameserver 127.0.0.53\nsearch %s\n' "$LAB_DOMAIN" >/etc/resolv.conf
  dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.53 --bind-interfaces --port=53 --pid-file=/run/lab-dnsmasq.pid \
    --local="/$LAB_DOMAIN/" --address="/$LAB_HOSTNAME/127.0.0.1" --mx-host="$LAB_DOMAIN,$LAB_HOSTNAME,10" \
    --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10
  ln_helper sink 127.0.0.10 25
  lab_send 2000 "carol@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-chroot-off-resolv-differs" "master.cf with every chroot column set to n (as RHEL ships it); Postfix started with resolv.conf naming 127.0.0.1, then resolv.conf changed to 127.0.0.53 (the DNS server); the copy in /var/spool/postfix/etc is stale but unused; one message to example.net delivered, one local; mailsleuth run inside."
}

describe_live_myhostname_nxdomain() { echo "myhostname = mail.lab.example, which DNS does not know; a remote MX rejects the HELO name"; }
scenario_live_myhostname_nxdomain() {
  lab_setup
  lab_start_dns --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10
  ln_helper sink 127.0.0.10 25 '450 4.7.1 <mail.lab.example>: Helo command rejected: Host not found'
  postconf -e "myhostname = mail.$LAB_DOMAIN" "mydestination = \$myhostname, $LAB_HOSTNAME, localhost.\$mydomain, localhost"
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-myhostname-nxdomain" "myhostname = mail.lab.example (the lab DNS knows only mx1.lab.example: NXDOMAIN); the MX of example.net (a Python SMTP server on 127.0.0.10) answers RCPT as Postfix's reject_unknown_helo_hostname does; one remote message, one local; mailsleuth run inside."
}

describe_live_myhostname_no_aaaa() { echo "near miss: myhostname has an A record and no AAAA (NODATA); remote mail delivered"; }
scenario_live_myhostname_no_aaaa() {
  lab_setup
  lab_start_dns --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10
  ln_helper sink 127.0.0.10 25
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-myhostname-no-aaaa" "myhostname = mx1.lab.example has an A record (127.0.0.1) and no AAAA record in the lab DNS; one message to example.net (accepted by a Python SMTP server on 127.0.0.10), one local; mailsleuth run inside."
}

# Gmail's documented reply for a sender IP without a usable PTR.
GMAIL_PTR='550-5.7.25 [{ip}] The IP address sending this message does not have a\r\n550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not\r\n550-5.7.25 point to the sending IP. As a policy, Gmail does not accept messages\r\n550-5.7.25 from IPs with missing PTR records. For more information, go to\r\n550 5.7.25  https://support.google.com/mail/answer/81126#ip-practices a1si128 - gsmtp'

describe_live_ptr_missing() { echo "our sending address 192.0.2.25 has no PTR; the remote MX rejects with 550 5.7.25"; }
scenario_live_ptr_missing() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns --address="/$LAB_HOSTNAME/192.0.2.25" --local=/2.0.192.in-addr.arpa/ \
    --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10 \
    --mx-host=client.lab.example,mx.client.lab.example,10 --address=/mx.client.lab.example/127.0.0.11
  # The senders' domain accepts the bounces.
  ln_helper sink 127.0.0.11 25
  ln_helper sink 127.0.0.10 25 "$GMAIL_PTR"
  postconf -e 'smtp_bind_address = 192.0.2.25'
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 2100 "dave@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 3 || LAB_WAIT_FAILED=1
  ln_finish "live-ptr-missing" "The host sends from 192.0.2.25 (smtp_bind_address), mx1.lab.example's A record; the lab DNS has no PTR for it (NXDOMAIN); the MX of example.net (a Python SMTP server on 127.0.0.10) answers RCPT with Gmail's documented 550-5.7.25 PTR text; two remote messages, one local; mailsleuth run inside."
  grep -q '5.7.25' "$LAB_OUT/mail.log" || { lab_log "expected the PTR rejection"; return 1; }
}

describe_live_ptr_ok_blocklisted() { echo "near miss: PTR matches myhostname; the remote MX rejects for a blocklist listing (554 5.7.1)"; }
scenario_live_ptr_ok_blocklisted() {
  lab_setup
  ln_public_addr 192.0.2.25/24
  ln_dns --address="/$LAB_HOSTNAME/192.0.2.25" --ptr-record="25.2.0.192.in-addr.arpa,$LAB_HOSTNAME" \
    --mx-host=example.net,mx.example.net,10 --address=/mx.example.net/127.0.0.10 \
    --mx-host=client.lab.example,mx.client.lab.example,10 --address=/mx.client.lab.example/127.0.0.11
  # The senders' domain accepts the bounces.
  ln_helper sink 127.0.0.11 25
  ln_helper sink 127.0.0.10 25 '554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}'
  postconf -e 'smtp_bind_address = 192.0.2.25'
  lab_start_postfix
  lab_send 2000 "carol@example.net"
  lab_send 2500 "$LAB_USER@$LAB_HOSTNAME"
  lab_wait_status 2 || LAB_WAIT_FAILED=1
  ln_finish "live-ptr-ok-blocklisted" "The host sends from 192.0.2.25, whose PTR is mx1.lab.example (and back); the MX of example.net answers RCPT with a Spamhaus blocklist rejection; one remote message, one local; mailsleuth run inside."
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lab_main "$@"
fi
