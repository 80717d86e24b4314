#!/usr/bin/env bash
# Idempotent, non-interactive install of everything the mail lab needs
# (tests/lab/lab.sh). Must run as root on Debian/Ubuntu. Starts no daemon on
# the host: Postfix is preseeded to "No configuration" and a temporary
# /usr/sbin/policy-rc.d (exit 101) blocks service starts during the install.
set -euo pipefail

# dnsmasq-base: the lab's own DNS server; dovecot-imapd/-lmtpd: IMAP logins and LMTP
# delivery; python3: the scripted SMTP/IMAP clients; openssl: the lab user's password hash;
# ssl-cert: the snakeoil certificate Dovecot's STARTTLS uses; procps: pgrep; mmdebstrap: the
# Courier lab's own Debian root (tests/lab/courier; courier-mta conflicts with postfix);
# prometheus: its promtool checks `mailsleuth metrics` output (tests/monitor.rs; the server
# is not started).
PKGS=(postfix dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd maildrop
      swaks dnsmasq-base strace util-linux iproute2 ripgrep pflogsumm
      python3 openssl ssl-cert procps mmdebstrap prometheus)

die() { echo "install.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v apt-get >/dev/null || die "apt-get not found (Debian/Ubuntu only)"

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: all lab packages already installed"
  exit 0
fi
echo "install.sh: installing: ${missing[*]}"

POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [ "$created_policy" = 1 ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, created by mailsleuth tests/lab/install.sh\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
command -v debconf-set-selections >/dev/null || apt-get install -y -q debconf >/dev/null
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

# Something is missing, so refresh the package lists (stale lists 404).
apt-get update -q
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"

# Belt and braces: if anything got started on the host despite policy-rc.d,
# we leave it alone (we only stop what we start), but warn.
for d in master dovecot dnsmasq; do
  if pgrep -x "$d" >/dev/null 2>&1; then
    echo "install.sh: warning: a '$d' process runs on the host (not started by the lab)" >&2
  fi
done
echo "install.sh: done"
