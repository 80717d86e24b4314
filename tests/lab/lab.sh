#!/usr/bin/env bash
# mailsleuth mail lab: runs a real Postfix (+ maildrop, optionally Dovecot)
# inside private Linux namespaces, breaks it in a named way, sends real mail
# through it and captures the evidence (logs, postconf, queue, stat ...).
#
# Usage:
#   tests/lab/lab.sh run SCENARIO OUTDIR    run one scenario, write evidence to OUTDIR
#   tests/lab/lab.sh list                   list scenarios
#   tests/lab/lab.sh check                  preflight only (root, unshare, packages)
#
# Needs root and permission to create mount/uts/ipc/net/pid namespaces.
# Install the packages first with tests/lab/install.sh.
#
# Nothing on the host is changed: every mount, the hostname, the network and
# every daemon live in the namespaces, which die with the scenario. The only
# host-side trace is an empty directory made by mktemp in /dev/shm or /var/tmp
# (the mount point of the lab's private tmpfs), removed at the end.
#
# Adding a scenario: define  scenario_<name-with-underscores>()  calling the
# lab_* helpers, plus a one-line  describe_<name>()  (optional).  Inside a
# scenario, $LAB_OUT is the output directory and $LAB_W the private world.

set -euo pipefail

LAB_SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SELF="$LAB_SELF_DIR/$(basename "${BASH_SOURCE[0]}")"

LAB_HOSTNAME=${LAB_HOSTNAME:-mx1.lab.example}
LAB_DOMAIN=${LAB_DOMAIN:-lab.example}
LAB_USER=${LAB_USER:-alice}
LAB_SENDER=${LAB_SENDER:-bob@client.lab.example}
# Hard wall-clock limit of one scenario (seconds), including setup/teardown.
LAB_TIMEOUT=${LAB_TIMEOUT:-60}
# Bounded wait for log lines (seconds).
LAB_WAIT=${LAB_WAIT:-20}

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_die() { printf 'lab: ERROR: %s\n' "$*" >&2; exit 2; }

# ---------------------------------------------------------------- preflight

lab_preflight() {
  [ "$(id -u)" -eq 0 ] || lab_die "must run as root (it creates namespaces, mounts tmpfs and runs Postfix); try: sudo $LAB_SELF ${LAB_ARGS:-}"
  local c missing=()
  for c in unshare mount hostname ip postfix postconf postqueue sendmail maildrop timeout stat; do
    command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("$c")
  done
  [ -x /usr/lib/postfix/configure-instance.sh ] || missing+=(/usr/lib/postfix/configure-instance.sh)
  [ ${#missing[@]} -eq 0 ] || lab_die "missing: ${missing[*]} (run tests/lab/install.sh first)"
  local d
  for d in /etc/postfix /var/spool/postfix /var/lib/postfix /var/mail /home /var/log; do
    [ -d "$d" ] || lab_die "$d does not exist on this host (needed as a mount point; is postfix installed?)"
  done
  for d in /etc/passwd /etc/group /etc/shadow /etc/hosts /etc/resolv.conf; do
    [ -e "$d" ] || lab_die "$d does not exist on this host (needed as a mount point)"
  done
  if ! unshare --mount --uts --ipc --net --pid --fork --mount-proc --propagation private \
        sh -c 'mount -t tmpfs lab-probe /mnt 2>/dev/null || mount -t tmpfs lab-probe /tmp' \
        >/dev/null 2>&1; then
    lab_die "cannot create namespaces with unshare (mount/uts/ipc/net/pid) or mount inside them; a container may need --privileged or CAP_SYS_ADMIN"
  fi
}

# ---------------------------------------------------------------- enter

# lab_enter SCENARIO OUTDIR: re-exec this script as PID 1 of fresh namespaces.
lab_enter() {
  local scenario=$1 out=$2 base world rc=0
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  # The private world's mount point must not be under /tmp or /run (the lab
  # gets its own tmpfs on both, which would hide it).
  world=
  for base in /dev/shm /var/tmp; do
    if [ -d "$base" ] && [ -w "$base" ]; then
      world=$(mktemp -d "$base/mailsleuth-lab.XXXXXX" 2>/dev/null) && break
    fi
  done
  [ -n "$world" ] || lab_die "mktemp -d failed in /dev/shm and /var/tmp"
  # shellcheck disable=SC2064
  trap "rmdir '$world' 2>/dev/null || true" EXIT
  local t0=$SECONDS
  timeout --kill-after=5 "$LAB_TIMEOUT" \
    unshare --mount --uts --ipc --net --pid --fork --kill-child --mount-proc --propagation private \
      env LAB_INSIDE=1 LAB_W="$world" LAB_OUT="$out" \
      bash "$LAB_SELF" __inside "$scenario" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    lab_log "scenario '$scenario' hit the ${LAB_TIMEOUT}s limit and was killed"
  fi
  lab_log "scenario '$scenario' finished rc=$rc in $((SECONDS - t0))s; evidence in $out"
  return "$rc"
}

# ---------------------------------------------------------------- setup

# Copy $1 into the world as $2 and bind-mount the copy over $1.
lab_bind_copy() {
  local src=$1 name=$2
  if [ -d "$src" ]; then
    mkdir -p "$LAB_W/$name"
    cp -a "$src/." "$LAB_W/$name/"
  else
    cp -a "$src" "$LAB_W/$name"
  fi
  mount --bind "$LAB_W/$name" "$src"
}

# Bind-mount an empty private directory (owner:group mode) over $1.
lab_bind_empty() {
  local dst=$1 name=$2 owner=$3 mode=$4
  mkdir -p "$LAB_W/$name"
  chown "$owner" "$LAB_W/$name"
  chmod "$mode" "$LAB_W/$name"
  mount --bind "$LAB_W/$name" "$dst"
}

# Bind-mount a private file with the given content over $1 (only if $1 exists:
# creating it would change the host). A symlink into the private /run (e.g.
# systemd-resolved's resolv.conf) gets its target created there first.
lab_bind_file() {
  local dst=$1 name=$2 content=$3 target
  printf '%s\n' "$content" >"$LAB_W/$name"
  chmod 0644 "$LAB_W/$name"
  if [ -L "$dst" ]; then
    target=$(readlink -m "$dst")
    case "$target" in
      /run/*) mkdir -p "$(dirname "$target")"; : >>"$target" ;;
    esac
  fi
  if [ -e "$dst" ]; then
    mount --bind "$LAB_W/$name" "$dst"
  else
    lab_log "note: $dst does not exist on the host; not mounted (main.cf does not depend on it)"
  fi
}

lab_setup() {
  [ "${LAB_INSIDE:-}" = 1 ] && [ "$$" -eq 1 ] || lab_die "lab_setup must run inside the namespace (via lab_enter)"
  export PATH=/usr/sbin:/usr/bin:/sbin:/bin
  export LC_ALL=C TZ=UTC
  umask 022
  # Belt and braces: nothing we mount may propagate to the host.
  mount --make-rprivate /
  mount -t tmpfs -o mode=0755,size=512m mailsleuth-lab "$LAB_W"
  mkdir "$LAB_W/out"
  # Before /tmp and /run are covered: OUTDIR may be under either.
  mount --bind "$LAB_OUT" "$LAB_W/out"
  LAB_OUT="$LAB_W/out"

  mount -t tmpfs -o mode=1777,size=64m lab-tmp /tmp
  # A private /run: daemons (dovecot) create their runtime dirs there, and
  # the host's sockets (systemd, dbus, syslog) are out of reach.
  mount -t tmpfs -o mode=0755,size=16m lab-run /run
  mkdir -m 1777 /run/lock
  # If /dev/log is a real socket (a syslog daemon on the host), hide it so no
  # lab program logs into the host's syslog.
  if [ -S /dev/log ]; then mount --bind /dev/null /dev/log; fi
  hostname "$LAB_HOSTNAME"
  ip link set lo up

  # Accounts: private copies, alice appended (useradd would rename files
  # over the bind mounts and leave lock files in the host's /etc).
  lab_bind_copy /etc/passwd passwd
  lab_bind_copy /etc/group group
  lab_bind_copy /etc/shadow shadow
  local uid=2001
  while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do uid=$((uid + 1)); done
  if ! getent passwd "$LAB_USER" >/dev/null; then
    echo "$LAB_USER:x:$uid:$uid:Lab User:/home/$LAB_USER:/bin/bash" >>/etc/passwd
    echo "$LAB_USER:x:$uid:" >>/etc/group
    echo "$LAB_USER:!:19000:0:99999:7:::" >>/etc/shadow
  fi

  lab_bind_file /etc/hosts hosts "127.0.0.1 $LAB_HOSTNAME mx1 localhost
::1 localhost ip6-localhost ip6-loopback"
  lab_bind_file /etc/resolv.conf resolv.conf "nameserver 127.0.0.1
search $LAB_DOMAIN"
  lab_bind_file /etc/mailname mailname "$LAB_HOSTNAME"

  lab_bind_empty /home home root:root 0755
  lab_bind_empty /var/mail mail root:mail 2775
  lab_bind_empty /var/log log root:root 0755
  lab_bind_empty /var/spool/postfix spool-postfix root:root 0755
  lab_bind_empty /var/lib/postfix lib-postfix postfix:postfix 0755

  # Postfix configuration: the package's master.cf etc., our own main.cf.
  lab_bind_copy /etc/postfix etc-postfix
  rm -f /etc/postfix/main.cf /etc/postfix/*.db /etc/postfix/*.lmdb
  lab_write_main_cf
  printf 'postmaster: root\nroot: %s\n' "$LAB_USER" >/etc/postfix/aliases
  postalias /etc/postfix/aliases

  lab_add_user_maildir "$LAB_USER"
}

lab_write_main_cf() {
  local protos=ipv4
  [ -r /proc/net/if_inet6 ] && grep -q ' lo$' /proc/net/if_inet6 && protos=all
  cat >/etc/postfix/main.cf <<EOF
# mailsleuth lab main.cf (minimal; generated by tests/lab/lab.sh)
compatibility_level = 3.6
myhostname = $LAB_HOSTNAME
mydomain = $LAB_DOMAIN
myorigin = \$myhostname
mydestination = \$myhostname, localhost.\$mydomain, localhost
inet_interfaces = loopback-only
inet_protocols = $protos
mynetworks = 127.0.0.0/8 [::1]/128
relayhost =
biff = no
append_dot_mydomain = no
alias_maps = hash:/etc/postfix/aliases
alias_database = hash:/etc/postfix/aliases
maillog_file = /var/log/mail.log
mailbox_command = /usr/bin/maildrop -d "\$USER"
smtpd_banner = \$myhostname ESMTP
EOF
}

# lab_add_user_maildir USER: home 0755, an empty Maildir (0700) owned by USER
# and a ~/.mailfilter pointing maildrop at it (Debian's maildrop otherwise
# delivers to the mbox /var/mail/USER).
lab_add_user_maildir() {
  local u=$1 d
  d=/home/$u
  mkdir -p "$d/Maildir/cur" "$d/Maildir/new" "$d/Maildir/tmp"
  printf 'DEFAULT="$HOME/Maildir/"\n' >"$d/.mailfilter"
  chown -R "$u:$u" "$d"
  chmod 0755 "$d"
  chmod 0600 "$d/.mailfilter"
  chmod -R 0700 "$d/Maildir"
}

# ---------------------------------------------------------------- daemons

lab_start_postfix() {
  /usr/lib/postfix/configure-instance.sh - >"$LAB_W/configure-instance.out" 2>&1 \
    || { cat "$LAB_W/configure-instance.out" >&2; lab_die "configure-instance.sh failed"; }
  postfix start >"$LAB_W/postfix-start.out" 2>&1 \
    || { cat "$LAB_W/postfix-start.out" >&2; lab_die "postfix start failed"; }
  # Wait until the master and postlogd are up (the first logged line proves it).
  local _
  for _ in $(seq 1 50); do
    [ -s /var/log/mail.log ] && postfix status >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  postfix status >/dev/null 2>&1 || lab_die "postfix did not come up"
}

# Optional lab DNS: dnsmasq on 127.0.0.1 with no upstream (--no-resolv).
# Names in the lab zone it does not know get NXDOMAIN; names outside it get
# REFUSED (Postfix: "Host not found, try again"). Extra dnsmasq options
# (e.g. --address=/mx.client.lab.example/127.0.0.2) may be passed.
lab_start_dns() {
  command -v dnsmasq >/dev/null || lab_die "dnsmasq not installed"
  dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 \
    --pid-file=/run/lab-dnsmasq.pid \
    --local="/$LAB_DOMAIN/" \
    --address="/$LAB_HOSTNAME/127.0.0.1" \
    --mx-host="$LAB_DOMAIN,$LAB_HOSTNAME,10" \
    --log-queries --log-facility=/var/log/dnsmasq.log "$@"
}

# Optional: Dovecot with a private /etc/dovecot and /var/lib/dovecot, logging
# to /var/log/dovecot.log. Extra settings (dovecot.conf syntax) in $1 go to
# /etc/dovecot/local.conf. Its stdout goes to a file: dovecot keeps an
# inherited stdout open after daemonising and would hang a pipe.
# shellcheck disable=SC2120  # optional argument, used by future scenarios
lab_setup_dovecot() {
  [ -d /etc/dovecot ] && [ -d /var/lib/dovecot ] || lab_die "dovecot-core not installed (tests/lab/install.sh)"
  lab_bind_copy /etc/dovecot etc-dovecot
  lab_bind_empty /var/lib/dovecot lib-dovecot root:root 0755
  cat >/etc/dovecot/local.conf <<EOF
# mailsleuth lab additions
listen = 127.0.0.1, ::1
log_path = /var/log/dovecot.log
mail_location = maildir:~/Maildir
${1:-}
EOF
}

lab_start_dovecot() {
  dovecot >"$LAB_W/dovecot.out" 2>&1 </dev/null \
    || { cat "$LAB_W/dovecot.out" >&2; lab_die "dovecot did not start"; }
  local _
  for _ in $(seq 1 50); do
    if [ -S /run/dovecot/master ] || [ -S /run/dovecot/login/imap ]; then return 0; fi
    sleep 0.1
  done
  lab_log "warning: dovecot sockets not seen after 5s"
}

lab_stop() {
  postfix stop >/dev/null 2>&1 || true
  local f pid
  for f in /run/lab-dnsmasq.pid /run/dovecot/master.pid; do
    [ -r "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  # Whatever is left dies with PID 1 of the namespace (this shell).
}

# ---------------------------------------------------------------- traffic

LAB_SENT_N=0
# lab_send SIZE_BYTES RCPT: submit one message of ~SIZE_BYTES (headers + body,
# as piped into sendmail) via the real /usr/sbin/sendmail.
lab_send() {
  local size=$1 rcpt=$2 hdr body_len n
  LAB_SENT_N=$((LAB_SENT_N + 1))
  n=$LAB_SENT_N
  hdr=$(printf 'From: Bob <%s>\nTo: <%s>\nSubject: lab message %d, %d bytes\nMessage-ID: <lab-%d-%d@client.%s>\nDate: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n' \
    "$LAB_SENDER" "$rcpt" "$n" "$size" "$n" "$size" "$LAB_DOMAIN" "$(date -R)")
  body_len=$((size - ${#hdr} - 1))
  [ "$body_len" -gt 0 ] || body_len=1
  {
    printf '%s\n' "$hdr"
    # deterministic 72-char lines, cut to the exact length, ending in a newline
    awk -v n="$body_len" 'BEGIN {
        line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop";
        s = ""; while (length(s) < n) s = s line "\n";
        s = substr(s, 1, n - 1); printf "%s\n", s }'
  } | /usr/sbin/sendmail -i -f "$LAB_SENDER" -- "$rcpt"
}

lab_count_status() { grep -c ' status=' /var/log/mail.log 2>/dev/null || true; }

# lab_wait_status N: wait (bounded by $LAB_WAIT s) until N status= lines exist,
# then until every delivered message has its "removed" line.
lab_wait_status() {
  local want=$1 t=0 limit=$((LAB_WAIT * 10)) have
  while :; do
    have=$(lab_count_status)
    [ "${have:-0}" -ge "$want" ] && break
    t=$((t + 1))
    if [ "$t" -ge "$limit" ]; then
      lab_log "timeout: only ${have:-0}/$want status= lines after ${LAB_WAIT}s"
      return 1
    fi
    sleep 0.1
  done
  local sent removed
  for _ in $(seq 1 30); do
    sent=$(grep -c ' status=sent' /var/log/mail.log || true)
    removed=$(grep -c ': removed$' /var/log/mail.log || true)
    [ "${removed:-0}" -ge "${sent:-0}" ] && break
    sleep 0.1
  done
  sleep 0.3   # let trailing lines (e.g. qmgr) land
}

# ---------------------------------------------------------------- capture

lab_capture() {
  local o=$LAB_OUT
  cp /var/log/mail.log "$o/mail.log"
  postconf -n >"$o/postconf-n.txt" 2>&1 || true
  postqueue -j >"$o/postqueue-j.txt" 2>&1 || true
  mailq >"$o/mailq.txt" 2>&1 || true
  stat -c '%A %a %U %G %F %n' /tmp /var/tmp /var/spool/postfix /var/spool/postfix/* \
    /var/mail /home /home/"$LAB_USER" /home/"$LAB_USER"/Maildir /home/"$LAB_USER"/Maildir/* \
    /usr/bin/maildrop >"$o/stat.txt" 2>&1 || true
  {
    echo "# Maildir contents (size name) after the run"
    find /home/"$LAB_USER"/Maildir -type f -printf '%s %P\n' | sort
    echo "# /var/mail"
    find /var/mail -type f -printf '%s %P\n' | sort
  } >"$o/delivered.txt" 2>&1 || true
}

lab_versions() {
  dpkg-query -W postfix maildrop dovecot-core 2>/dev/null || true
}

# lab_notes TITLE DESCRIPTION: write NOTES.md (call after lab_capture).
lab_notes() {
  local title=$1 what=$2
  {
    echo "# $title"
    echo
    echo "Captured by \`tests/lab/lab.sh run $LAB_SCENARIO OUTDIR\` (real Postfix in Linux namespaces)."
    echo
    echo "## What was done"
    echo
    printf '%s\n' "$what"
    echo
    echo "## Package versions (dpkg-query -W)"
    echo
    echo '```'
    lab_versions
    echo '```'
    echo
    echo "Kernel: $(uname -r)"
    echo
    echo "## Result summary (from mail.log)"
    echo
    echo '```'
    lab_summary
    echo '```'
    echo
    echo "## Files"
    echo
    echo "- mail.log: the real Postfix log (maillog_file, written by postlogd)"
    echo "- postconf-n.txt, postqueue-j.txt, mailq.txt: command output after the traffic"
    echo "- stat.txt: stat -c '%A %a %U %G %F %n' of the relevant paths"
    echo "- delivered.txt: files in the Maildir / mail spool after the run"
  } >"$LAB_OUT/NOTES.md"
}

# One line per message: queue id, size=, status (from qmgr/local lines).
lab_summary() {
  awk '
    /\/qmgr\[[0-9]+\]: [0-9A-F]+: from=/ {
      id = $6; sub(":", "", id)
      if (match($0, /size=[0-9]+/)) size[id] = substr($0, RSTART + 5, RLENGTH - 5)
      if (!(id in seen)) { seen[id] = 1; order[++n] = id }
    }
    / status=/ {
      id = $6; sub(":", "", id)
      match($0, /status=[a-z]+/); st[id] = substr($0, RSTART + 7, RLENGTH - 7)
      if (match($0, /dsn=[0-9.]+/)) dsn[id] = substr($0, RSTART + 4, RLENGTH - 4)
    }
    END { for (i = 1; i <= n; i++) { id = order[i]
            printf "%s size=%s dsn=%s status=%s\n", id, size[id], dsn[id], st[id] } }
  ' /var/log/mail.log
}

# ---------------------------------------------------------------- scenarios

LAB_TRAFFIC_SIZES=(1024 2048 5000 7500 8000 9000 20000 40000 100000)

lab_standard_traffic() {
  local s
  for s in "${LAB_TRAFFIC_SIZES[@]}"; do
    lab_send "$s" "$LAB_USER@$LAB_HOSTNAME"
  done
  # On a timeout, still capture the evidence; the expectations then fail.
  lab_wait_status "${#LAB_TRAFFIC_SIZES[@]}" || LAB_WAIT_FAILED=1
}

describe_founding_tmp_0700() { echo "/tmp is root 0700: maildrop defers messages > 8 KB (tmpfile() fails)"; }
scenario_founding_tmp_0700() {
  lab_setup
  chmod 0700 /tmp
  lab_start_postfix
  lab_standard_traffic
  lab_capture
  lab_notes "founding-tmp-0700: /tmp mode 0700 breaks maildrop for large messages" \
"- Private namespaces; hostname $LAB_HOSTNAME; tmpfs on /tmp, then \`chmod 0700 /tmp\` (owner root).
- Minimal main.cf (see postconf-n.txt): local delivery through \`mailbox_command = /usr/bin/maildrop -d \"\$USER\"\`.
- User $LAB_USER with an empty ~/Maildir; no Courier authdaemon runs (hence the s_connect() noise).
- Sent with /usr/sbin/sendmail to $LAB_USER@$LAB_HOSTNAME, one message each of ${LAB_TRAFFIC_SIZES[*]} bytes (size as piped into sendmail).
- Waited for one status= line per message, then captured.
- Expected: messages whose piped size exceeds 8192 bytes (maildrop reads 8 KB blocks and calls tmpfile() in /tmp for more) are deferred with dsn=4.3.0 \"maildrop: Unable to create temporary file\"; smaller ones are delivered (status=sent)."
  lab_stop
  lab_expect_founding
}

describe_healthy_maildrop() { echo "control: same traffic, /tmp 1777, everything delivered"; }
scenario_healthy_maildrop() {
  lab_setup
  chmod 1777 /tmp
  lab_start_postfix
  lab_standard_traffic
  lab_capture
  lab_notes "healthy-maildrop: control run, /tmp 1777" \
"- Same world and traffic as founding-tmp-0700, but /tmp stays mode 1777.
- Sent with /usr/sbin/sendmail to $LAB_USER@$LAB_HOSTNAME, one message each of ${LAB_TRAFFIC_SIZES[*]} bytes.
- Expected: every message status=sent (dsn=2.0.0); the queue is empty afterwards."
  lab_stop
  lab_expect_all_sent
}

describe_capture_outputs() { echo "reference outputs: postconf -n/-d/-M, postqueue -j (deferred mix), /proc/net/tcp*, doveconf -n"; }
scenario_capture_outputs() {
  lab_setup
  lab_start_dns --address=/mx.client.lab.example/127.0.0.2 \
    --mx-host=client.lab.example,mx.client.lab.example,10
  lab_setup_dovecot
  lab_start_postfix
  lab_start_dovecot
  chmod 0700 /tmp
  local o=$LAB_OUT
  # 1 local delivery that works, 1 that is deferred (maildrop tmpfile),
  # 1 refused remote MX, 1 DNS "try again", 1 NXDOMAIN bounce (whose bounce
  # notice to bob@client.lab.example is deferred too).
  lab_send 2048 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 40000 "$LAB_USER@$LAB_HOSTNAME"
  lab_send 3000 carol@client.lab.example
  lab_send 3000 dave@example.net
  lab_send 3000 erin@nx.lab.example
  lab_wait_status 6 || true
  # The deferred bounce notice (sender MAILER-DAEMON) goes on hold, for a queue_name "hold".
  local held
  held=$(postqueue -j | awk -F'"' '/"sender": "MAILER-DAEMON"/ && /"queue_name": "deferred"/ {for (i=1;i<NF;i++) if ($i=="queue_id") {print $(i+2); exit}}')
  [ -n "$held" ] && postsuper -h "$held" >/dev/null 2>&1 || true
  sleep 0.3

  cp /var/log/mail.log "$o/mail.log"
  postconf -n >"$o/postconf-n.txt" 2>&1
  postconf -d >"$o/postconf-d.txt" 2>&1
  postconf -M >"$o/postconf-M.txt" 2>&1
  postqueue -j >"$o/postqueue-j.txt" 2>&1
  postqueue -p >"$o/postqueue-p.txt" 2>&1 || true
  cat /proc/net/tcp >"$o/proc-net-tcp.txt"
  cat /proc/net/tcp6 >"$o/proc-net-tcp6.txt" 2>/dev/null || true
  ss -ltnp >"$o/ss-ltnp.txt" 2>&1 || true
  doveconf -n >"$o/doveconf-n.txt" 2>&1 || true
  cp /var/log/dovecot.log "$o/dovecot.log" 2>/dev/null || : >"$o/dovecot.log"
  cp /var/log/dnsmasq.log "$o/dnsmasq.log" 2>/dev/null || true

  {
    echo "# Reference outputs from a real Postfix/Dovecot (lab)"
    echo
    echo "Captured by \`tests/lab/lab.sh run capture-outputs OUTDIR\` inside Linux namespaces"
    echo "(hostname $LAB_HOSTNAME, only \`lo\`, private /tmp /run /etc/postfix /etc/dovecot"
    echo "/var/spool/postfix /var/log ...). See tests/lab/lab.sh, scenario_capture_outputs."
    echo
    echo "## Package versions (dpkg-query -W)"
    echo
    echo '```'
    dpkg-query -W postfix maildrop dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dnsmasq-base 2>/dev/null || true
    echo '```'
    echo
    echo "Kernel: $(uname -r)"
    echo
    echo "## Set-up"
    echo
    echo "- main.cf: the lab's minimal one (postconf-n.txt); master.cf: Debian's package default (postconf-M.txt)."
    echo "- dnsmasq on 127.0.0.1, no upstream: MX client.lab.example -> mx.client.lab.example = 127.0.0.2 (nothing listens),"
    echo "  unknown names under lab.example -> NXDOMAIN, anything else -> REFUSED."
    echo "- Dovecot: Debian's default config plus /etc/dovecot/local.conf (listen on loopback, log_path, maildir)."
    echo "- /tmp chmod 0700 after the daemons started (so maildrop defers messages > 8 KB)."
    echo "- Mail submitted with /usr/sbin/sendmail (bob@client.lab.example as sender):"
    echo "  2048 B and 40000 B to $LAB_USER@$LAB_HOSTNAME, 3000 B each to carol@client.lab.example,"
    echo "  dave@example.net, erin@nx.lab.example; then \`postsuper -h\` on the deferred bounce notice"
    echo "  (sender MAILER-DAEMON), so postqueue -j shows a \"hold\" queue entry too."
    echo
    echo "## Commands, one per file"
    echo
    echo "| file | command |"
    echo "| --- | --- |"
    echo "| mail.log | copy of /var/log/mail.log (\`maillog_file\`, written by postlogd) |"
    echo "| postconf-n.txt | \`postconf -n\` |"
    echo "| postconf-d.txt | \`postconf -d\` |"
    echo "| postconf-M.txt | \`postconf -M\` |"
    echo "| postqueue-j.txt | \`postqueue -j\` |"
    echo "| postqueue-p.txt | \`postqueue -p\` (= mailq) |"
    echo "| proc-net-tcp.txt | \`cat /proc/net/tcp\` (smtpd on 127.0.0.1:25, dovecot, dnsmasq listening) |"
    echo "| proc-net-tcp6.txt | \`cat /proc/net/tcp6\` |"
    echo "| ss-ltnp.txt | \`ss -ltnp\` at the same moment, to cross-check the /proc/net parsing |"
    echo "| doveconf-n.txt | \`doveconf -n\` (dovecot running) |"
    echo "| dovecot.log | Dovecot's log_path |"
    echo "| dnsmasq.log | the lab DNS server's query log |"
    echo
    echo "## Queue summary (from mail.log)"
    echo
    echo '```'
    lab_summary
    echo '```'
    if [ -n "$held" ]; then echo; echo "Held with postsuper -h: $held"; fi
  } >"$o/README.md"
  lab_stop
  grep -q '"queue_name": "deferred"' "$o/postqueue-j.txt" || { lab_log "expected deferred messages in postqueue -j"; return 1; }
}

# ---------------------------------------------------------------- expectations

LAB_WAIT_FAILED=0

lab_expect_founding() {
  local f=$LAB_OUT/mail.log bad=$LAB_WAIT_FAILED
  local small_sent large_def
  small_sent=$(grep -c ' status=sent ' "$f" || true)
  large_def=$(grep ' status=deferred ' "$f" | grep -c 'Unable to create temporary file' || true)
  lab_log "founding-tmp-0700: sent=$small_sent deferred(tmpfile)=$large_def"
  [ "$small_sent" -ge 1 ] || { lab_log "expected some small messages to be delivered"; bad=1; }
  [ "$large_def" -ge 1 ] || { lab_log "expected large messages deferred with 'Unable to create temporary file'"; bad=1; }
  return "$bad"
}

lab_expect_all_sent() {
  local f=$LAB_OUT/mail.log n
  n=$(grep -c ' status=sent ' "$f" || true)
  if grep -q ' status=\(deferred\|bounced\)' "$f"; then
    lab_log "expected no deferred/bounced messages"; return 1
  fi
  [ "$LAB_WAIT_FAILED" = 0 ] || { lab_log "not every message got its status= line in time"; return 1; }
  lab_log "all $n messages delivered"
}

# ---------------------------------------------------------------- main

lab_usage() { sed -n '2,/^$/p' "$LAB_SELF" | sed 's/^# \{0,1\}//'; }

lab_list() {
  local f name
  for f in $(declare -F | awk '{print $3}' | grep '^scenario_'); do
    name=${f#scenario_}
    if declare -F "describe_$name" >/dev/null; then
      printf '%-24s %s\n' "${name//_/-}" "$("describe_$name")"
    else
      printf '%s\n' "${name//_/-}"
    fi
  done
}

lab_main() {
  local cmd=${1:-}
  LAB_ARGS="$*"
  case "$cmd" in
    run)
      [ $# -eq 3 ] || lab_die "usage: $0 run SCENARIO OUTDIR"
      local fn="scenario_${2//-/_}"
      declare -F "$fn" >/dev/null || lab_die "unknown scenario '$2' (try: $0 list)"
      lab_preflight
      lab_enter "$2" "$3"
      ;;
    __inside)
      [ "${LAB_INSIDE:-}" = 1 ] || lab_die "__inside is internal"
      LAB_SCENARIO=$2
      "scenario_${2//-/_}"
      ;;
    list) lab_list ;;
    check) lab_preflight; lab_log "preflight ok" ;;
    -h|--help|help) lab_usage ;;
    *) lab_usage >&2; exit 2 ;;
  esac
}

# Allow sourcing (for future scenario files) without running main.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  lab_main "$@"
fi
