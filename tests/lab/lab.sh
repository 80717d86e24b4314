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
# REFUSED (Postfix: "Host not found, try again"). The host's own name is a
# host record: A 127.0.0.1 and, like a real zone, NODATA for AAAA (an
# --address entry would answer NXDOMAIN for the AAAA). Extra dnsmasq options
# (e.g. --address=/mx.client.lab.example/127.0.0.2) may be passed.
lab_start_dns() {
  command -v dnsmasq >/dev/null || lab_die "dnsmasq not installed"
  dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 \
    --pid-file=/run/lab-dnsmasq.pid \
    --local="/$LAB_DOMAIN/" \
    --host-record="$LAB_HOSTNAME,127.0.0.1" \
    --mx-host="$LAB_DOMAIN,$LAB_HOSTNAME,10" \
    --log-queries --log-facility=/var/log/dnsmasq.log "$@"
}

# Optional: Dovecot with a private /etc/dovecot and /var/lib/dovecot, logging
# to /var/log/dovecot.log. Extra settings (dovecot.conf syntax) in $1 go to
# /etc/dovecot/local.conf. Its stdout goes to a file: dovecot keeps an
# inherited stdout open after daemonising and would hang a pipe.
# shellcheck disable=SC2120  # the argument is optional (capture-outputs passes none)
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
    # deterministic 72-char lines, cut to the exact length, ending in a newline (written
    # line by line: building one string grows quadratically, seconds for a 1 MB message)
    awk -v n="$body_len" 'BEGIN {
        line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop";
        L = length(line) + 1; full = int((n - 1) / L);
        for (i = 0; i < full; i++) print line;
        printf "%s\n", substr(line, 1, (n - 1) - full * L) }'
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

# ---------------------------------------------------------------- scenarios: log-signature captures
#
# These scenarios exist to capture real log lines for the signature catalogue
# (knowledge/signatures/*.ron): each provokes a family of failures and keeps the
# logs; they check only that the expected messages were logged.

# lab_smtp_raw HOST PORT LOCAL_IP SCRIPT: a raw SMTP client for protocol abuse
# (pipelining, non-SMTP commands, hang-ups) that swaks will not commit. SCRIPT
# is a list of "send TEXT" / "read" / "sleep SECS" / "close" lines.
lab_smtp_raw() {
  python3 - "$@" <<'PY'
import socket, sys, time
host, port, local, script = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket()
s.settimeout(10)
s.bind((local, 0))
s.connect((host, port))
def read():
    try:
        return s.recv(65536)
    except OSError:
        return b""
for step in script.split("\n"):
    step = step.strip()
    if not step:
        continue
    op, _, arg = step.partition(" ")
    if op == "send":
        s.sendall(arg.encode().decode("unicode_escape").encode())
    elif op == "read":
        read()
    elif op == "sleep":
        time.sleep(float(arg))
    elif op == "close":
        break
s.close()
PY
}

# lab_swaks ARGS...: one swaks session against the lab's smtpd; its transcript
# goes to $LAB_W/swaks.log (a refused session is the point, not an error).
lab_swaks() {
  swaks --server 127.0.0.1 --timeout 10 "$@" >>"$LAB_W/swaks.log" 2>&1 || true
}

# lab_expect_logged FILE REGEX...: every REGEX matches a line of FILE (else return 1).
lab_expect_logged() {
  local f=$1 re bad=0
  shift
  for re in "$@"; do
    grep -Eq -- "$re" "$f" || { lab_log "expected a line matching /$re/ in $(basename "$f")"; bad=1; }
  done
  return "$bad"
}

# lab_wait_until WHAT CMD...: poll CMD every 0.1 s until it succeeds, for at most LAB_WAIT s.
lab_wait_until() {
  local what=$1 t=0
  shift
  while ! "$@"; do
    t=$((t + 1)); [ "$t" -ge $((LAB_WAIT * 10)) ] && { lab_log "timeout waiting for $what"; return 1; }
    sleep 0.1
  done
}

lab_wait_log() {  # lab_wait_log FILE REGEX: bounded wait for a line
  lab_wait_until "/$2/ in $1" grep -Eq "$2" "$1"
}

describe_capture_smtpd_rejects() { echo "smtpd: relay, unknown user, HELO, sender domain, DNSBL, greylisting, SASL, client errors, rate limits"; }
scenario_capture_smtpd_rejects() {
  lab_setup
  lab_start_dns \
    --address=/2.0.0.127.zen.spamhaus.org/127.0.0.2 --local=/zen.spamhaus.org/ \
    --address=/bad.example.org.dbl.spamhaus.org/127.0.1.2 --local=/dbl.spamhaus.org/ \
    --address=/bad.example.org/127.0.0.9 --address=/client.lab.example/127.0.0.8 \
    --ptr-record=4.0.0.127.in-addr.arpa,ghost.lab.example \
    --local=/0.0.127.in-addr.arpa/
  lab_setup_dovecot "auth_verbose = yes
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}"
  printf 'grey@%s DEFER_IF_PERMIT Greylisted, see http://postgrey.schweikert.ch/help/%s.html\n' \
    "$LAB_HOSTNAME" "$LAB_HOSTNAME" >/etc/postfix/recipient_access
  postmap /etc/postfix/recipient_access
  # Loopback clients are not "mynetworks" here, so the restrictions apply to swaks.
  postconf -e "mynetworks = 192.0.2.0/24" \
    "smtpd_helo_required = yes" \
    "smtpd_recipient_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, reject_non_fqdn_sender, reject_unknown_sender_domain, reject_unauth_destination, check_recipient_access hash:/etc/postfix/recipient_access, reject_rhsbl_helo dbl.spamhaus.org, reject_rbl_client zen.spamhaus.org, reject_rbl_client bl.spamcop.net, reject_unknown_client_hostname" \
    "smtpd_sasl_auth_enable = yes" "smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth" \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem" \
    "smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key" \
    "smtpd_hard_error_limit = 3" "smtpd_timeout = 3s" "smtpd_error_sleep_time = 0"
  lab_start_postfix
  lab_start_dovecot
  local me=$LAB_USER@$LAB_HOSTNAME
  # Phase 1: restrictions.
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "nosuch@$LAB_HOSTNAME"
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t someone@example.com
  lab_swaks --ehlo client -f "$LAB_SENDER" -t "$me"
  lab_swaks --ehlo client.lab.example -f someone -t "$me"
  lab_swaks --ehlo client.lab.example -f someone@nx.lab.example -t "$me"
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "grey@$LAB_HOSTNAME"
  lab_swaks --ehlo bad.example.org -f "$LAB_SENDER" -t "$me"
  lab_swaks --local-interface 127.0.0.2 --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  lab_swaks --local-interface 127.0.0.3 --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  lab_swaks --local-interface 127.0.0.4 --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  # SASL with a wrong password, and for a user that does not exist.
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me" -a PLAIN -au "$LAB_USER" -ap wrong-password
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me" -a PLAIN -au nosuch -ap wrong-password
  # Client misbehaviour: errors, pipelining before the greeting, non-SMTP, hang-ups, timeouts.
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "read
send EHLO client.lab.example\r\n
read
send RCPT TO:<a@b>\r\n
read
send RCPT TO:<a@b>\r\n
read
send RCPT TO:<a@b>\r\n
read
send RCPT TO:<a@b>\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "send EHLO client.lab.example\r\nMAIL FROM:<bob@client.lab.example>\r\n
sleep 0.5
read
send QUIT\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "read
send GET / HTTP/1.1\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "read
send EHLO client.lab.example\r\n
read
send MAIL FROM:<bob@client.lab.example>\r\n
read
close"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "read
send EHLO client.lab.example\r\n
read
sleep 4
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "read
send EHLO client.lab.example\r\n
read
send STARTTLS\r\n
read
send this is not a TLS client hello\r\n
read"
  sleep 1
  # Phase 2: anvil's per-client limits.
  postconf -e "smtpd_sasl_auth_enable = no" "smtpd_recipient_restrictions = reject_unauth_destination" \
    "smtpd_client_connection_rate_limit = 2" "smtpd_client_message_rate_limit = 1" \
    "smtpd_client_recipient_rate_limit = 2"
  postfix reload >/dev/null 2>&1; sleep 1
  for _ in 1 2 3; do
    lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me,postmaster@$LAB_HOSTNAME,root@$LAB_HOSTNAME"
  done
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  cp /var/log/dovecot.log "$LAB_OUT/dovecot.log" 2>/dev/null || true
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  lab_notes "capture-smtpd-rejects: smtpd restrictions, SASL failures, client errors, anvil limits" \
"- smtpd on 127.0.0.1:25 with loopback outside mynetworks, HELO/sender/recipient restrictions, an access map answering DEFER_IF_PERMIT Greylisted (postgrey's reply text), DNSBLs zen.spamhaus.org (lab DNS lists 127.0.0.2) and bl.spamcop.net (lab DNS refuses: lookup error), Dovecot SASL.
- swaks sessions from 127.0.0.1-4 break one restriction each; raw sessions pipeline, speak HTTP, hang up, time out and fail STARTTLS; then anvil rate limits (2 connections, 1 message, 2 recipients per minute)."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'Relay access denied' 'User unknown in local recipient table' \
    'Helo command rejected' 'blocked using zen.spamhaus.org' 'Greylisted' 'SASL PLAIN authentication failed' \
    'Connection rate limit exceeded'
}

describe_capture_smtpd_failures() { echo "smtpd: milter and policy service down, size limits, queue file system full, broken TLS certificate, missing SASL socket"; }
scenario_capture_smtpd_failures() {
  lab_setup
  lab_start_dns --address=/client.lab.example/127.0.0.8
  lab_setup_dovecot "service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}"
  postconf -e "mynetworks = 192.0.2.0/24" \
    "smtpd_sasl_auth_enable = yes" "smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth" \
    "smtpd_tls_security_level = may" \
    "smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem" \
    "smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key"
  lab_start_postfix
  lab_start_dovecot
  local me=$LAB_USER@$LAB_HOSTNAME
  # Phase 1: a milter and a policy service that are not running.
  postconf -e "smtpd_milters = inet:127.0.0.1:8891" "milter_default_action = tempfail"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  postconf -e "smtpd_milters =" \
    "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:10023"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  # Phase 2: size limit and a queue file system "full" (queue_minfree).
  postconf -e "smtpd_recipient_restrictions = reject_unauth_destination" "message_size_limit = 20000"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me" --body "$(head -c 30000 /dev/zero | tr '\0' 'x' | fold -w 70)"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "read
send EHLO client.lab.example\r\n
read
send MAIL FROM:<bob@client.lab.example> SIZE=50000\r\n
read
send QUIT\r\n
read"
  postconf -e "queue_minfree = 999999999999" "message_size_limit = 10240000"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  # Phase 3: a broken TLS certificate path and a missing SASL socket.
  postconf -e "queue_minfree = 0" "smtpd_tls_cert_file = /etc/postfix/missing-cert.pem" \
    "smtpd_sasl_path = private/no-auth-here"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  lab_notes "capture-smtpd-failures: smtpd with its helpers missing" \
"- smtpd with a milter (inet:127.0.0.1:8891) and a policy service (inet:127.0.0.1:10023) that are not running, message_size_limit 20000 (with and without SIZE=), queue_minfree larger than the file system, then a missing TLS certificate and a missing Dovecot SASL socket."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'connect to Milter service' 'problem talking to server' \
    'Message size exceeds fixed limit' 'Insufficient system storage' 'no SASL authentication mechanisms'
}

# lab_mail_client PROTO ARGS...: IMAP/POP3 logins (good, bad, unknown user, no
# auth, a non-TLS client on the TLS port) through Python's imaplib/poplib.
lab_mail_client() {
  python3 - "$@" <<'PY'
import imaplib, poplib, socket, sys, time
what = sys.argv[1]
def attempt(f):
    try:
        f()
    except Exception:
        pass
if what == "imap-bad":
    def f():
        c = imaplib.IMAP4("127.0.0.1")
        try:
            c.login(sys.argv[2], sys.argv[3])
        finally:
            c.logout()
    attempt(f)
elif what == "imap-good":
    def f():
        c = imaplib.IMAP4("127.0.0.1")
        c.login(sys.argv[2], sys.argv[3])
        c.select("INBOX")
        c.logout()
    attempt(f)
elif what == "pop3-bad":
    def f():
        c = poplib.POP3("127.0.0.1")
        c.user(sys.argv[2])
        try:
            c.pass_(sys.argv[3])
        finally:
            c.quit()
    attempt(f)
elif what == "imap-noauth":
    def f():
        s = socket.create_connection(("127.0.0.1", 143))
        s.recv(1024)
        s.close()
    attempt(f)
elif what == "imaps-plain":
    def f():
        s = socket.create_connection(("127.0.0.1", 993))
        s.sendall(b"a1 LOGIN alice secret\r\n")
        time.sleep(0.3)
        s.close()
    attempt(f)
elif what == "imap-junk":
    def f():
        s = socket.create_connection(("127.0.0.1", 143))
        s.recv(1024)
        for i in range(25):
            s.sendall(b"x%d BOGUS\r\n" % i)
            time.sleep(0.02)
        time.sleep(0.5)
        s.close()
    attempt(f)
PY
}

describe_capture_dovecot() { echo "dovecot: IMAP/POP3 login failures, TLS handshake errors, LDA/LMTP quota, unknown user, permission denied"; }
scenario_capture_dovecot() {
  lab_setup
  lab_setup_dovecot "auth_verbose = yes
auth_username_format = %Ln
mail_plugins = \$mail_plugins quota
protocol lda {
  mail_plugins = \$mail_plugins quota
}
protocol lmtp {
  mail_plugins = \$mail_plugins quota
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=20K
}
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}"
  # alice gets a password (secret) for the successful login.
  local hash
  hash=$(openssl passwd -6 secret)
  # (not sed -i: it would rename a file over the bind mount)
  awk -F: -v OFS=: -v u="$LAB_USER" -v h="$hash" '$1 == u { $2 = h } { print }' /etc/shadow >"$LAB_W/shadow.new"
  cat "$LAB_W/shadow.new" >/etc/shadow
  postconf -e "mailbox_command = /usr/lib/dovecot/dovecot-lda -f \"\$SENDER\" -a \"\$RECIPIENT\""
  lab_start_postfix
  lab_start_dovecot
  local me=$LAB_USER@$LAB_HOSTNAME
  # Logins.
  lab_mail_client imap-good "$LAB_USER" secret
  lab_mail_client imap-bad "$LAB_USER" wrong-password
  lab_mail_client imap-bad nosuch wrong-password
  lab_mail_client pop3-bad "$LAB_USER" wrong-password
  lab_mail_client imap-noauth
  lab_mail_client imaps-plain
  lab_mail_client imap-junk
  # Dovecot LDA as mailbox_command: one fits the 20 KB quota, one does not.
  # The first attempt fails: dovecot-lda runs as alice and cannot write the
  # root-owned log file. Then the log is opened up and the queue flushed.
  lab_send 2048 "$me"
  lab_send 40000 "$me"
  lab_wait_status 2 || true
  chmod 0666 /var/log/dovecot.log /run/dovecot/stats-writer 2>/dev/null || true
  postqueue -f
  lab_wait_log /var/log/dovecot.log 'Quota exceeded' || true
  sleep 0.5
  # LMTP as local_transport: quota and an unknown user.
  postconf -e "local_transport = lmtp:unix:private/dovecot-lmtp" "local_recipient_maps ="
  postfix reload >/dev/null 2>&1; sleep 1
  lab_send 40000 "$me"
  lab_send 2048 "nosuch@$LAB_HOSTNAME"
  lab_wait_status 6 || true
  # LDA again, with a Maildir the user cannot write.
  postconf -e "local_transport = local:\$myhostname"
  postfix reload >/dev/null 2>&1; sleep 1
  chown root:root "/home/$LAB_USER/Maildir/tmp" "/home/$LAB_USER/Maildir/new"
  lab_send 1024 "$me"
  lab_wait_status 7 || true
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  cp /var/log/dovecot.log "$LAB_OUT/dovecot.log" 2>/dev/null || true
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  doveconf -n >"$LAB_OUT/doveconf-n.txt" 2>&1 || true
  lab_notes "capture-dovecot: Dovecot logins, LDA and LMTP failures" \
"- Dovecot 2.3 with auth_verbose, a 20 KB maildir quota, LMTP socket in Postfix's queue; alice's password is 'secret'.
- IMAP/POP3 logins (good, wrong password, unknown user), a client that leaves, a plain-text client on 993, junk commands.
- dovecot-lda as mailbox_command (first unable to open its log file as the user), then LMTP as local_transport (quota, unknown user), then a Maildir tmp/ owned by root."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'Quota exceeded' "User doesn't exist" &&
    lab_expect_logged "$LAB_OUT/dovecot.log" 'auth failed' 'SSL_accept\(\) failed'
}

# lab_remote_mx: scripted remote SMTP servers on 127.0.0.10-19, one behaviour
# per address, so that the real Postfix smtp client logs its real reactions.
# The reply texts are modelled on what the named providers and filters
# document; the Postfix lines around them are real.
lab_remote_mx() {
  python3 - >"$LAB_W/remote-mx.log" 2>&1 <<'PY' &
import socket, socketserver, threading, time

RCPT = {
    "grey": "450 4.2.0 <{a}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/remote.lab.example.html",
    "greymilter": "451 4.7.1 Greylisting in action, please come back later",
    "full": "552 5.2.2 <{a}>: Recipient address rejected: Mailbox full",
    "gfull": "452-4.2.2 The recipient's inbox is out of storage space. Please direct\r\n452-4.2.2 the recipient to\r\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp a1si123 - gsmtp",
    "unknown": "550 5.1.1 <{a}>: Recipient address rejected: User unknown in virtual mailbox table",
    "gunknown": "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550-5.1.1 unnecessary spaces. For more information, go to\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si124 - gsmtp",
    "ounknown": "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [DB5PEPF00014B8E.eurprd02.prod.outlook.com]",
    "spamhaus": "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1",
    "barracuda": "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=127.0.0.1",
    "outlookbl": "550 5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM0PR02MB1234.eurprd02.prod.outlook.com]",
    "yahoorate": "421 4.7.0 [TSS04] Messages from 127.0.0.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
    "grate": "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\r\n450-4.2.1 prevents additional messages from being delivered. Please resend your\r\n450-4.2.1 message at a later time. If the user is able to receive mail at that\r\n450-4.2.1 time, your message will be delivered. For more information, go to\r\n450 4.2.1  https://support.google.com/mail/?p=ReceivingRate a1si125 - gsmtp",
    "spf": "550 5.7.23 <{a}>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=bob@client.lab.example;ip=127.0.0.1;r=<UNKNOWN>",
    "relay": "554 5.7.1 <{a}>: Relay access denied",
    "rdns": "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]",
    "tempfail": "451 4.3.0 <{a}>: Temporary lookup failure",
}
DATA = {
    "dmarc": "550-5.7.26 Unauthenticated email from client.lab.example is not accepted due to domain's\r\n550-5.7.26 DMARC policy. Please contact the administrator of client.lab.example domain\r\n550-5.7.26 if this was a legitimate mail. To learn about the DMARC initiative, go\r\n550 5.7.26  https://support.google.com/mail/answer/2451690 a1si126 - gsmtp",
    "gspam": "550-5.7.1 [127.0.0.1      12] Our system has detected that this message is\r\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n550-5.7.1 this message has been blocked. For more information, go to\r\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError a1si127 - gsmtp",
    "big": "552 5.3.4 Message size exceeds fixed limit",
    "virus": "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Signature",
}

def line(f):
    l = f.readline()
    return l.decode("latin-1").rstrip("\r\n") if l else None

class H(socketserver.StreamRequestHandler):
    def send(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def handle(self):
        ip = self.server.server_address[0]
        mode = MODES[ip]
        if mode == "refuse-greeting":
            self.send("554 5.7.1 mx.refuse.lab.example ESMTP not accepting messages from 127.0.0.1"); line(self.rfile); return
        if mode == "drop": return
        if mode == "silent": time.sleep(20); return
        name = "mx1.lab.example" if mode == "myname" else "mx.remote.lab.example"
        self.send("220 %s ESMTP" % name)
        rcpts = []
        while True:
            l = line(self.rfile)
            if l is None: return
            u = l.upper()
            if u.startswith("EHLO"):
                ext = ["250-%s" % name, "250-PIPELINING", "250-SIZE 10240000"]
                if mode == "tls-broken": ext.append("250-STARTTLS")
                if mode == "auth": ext.append("250-AUTH PLAIN LOGIN")
                ext.append("250 8BITMIME")
                self.send("\r\n".join(ext))
            elif u.startswith("HELO"): self.send("250 %s" % name)
            elif u.startswith("STARTTLS"):
                self.send("220 2.0.0 Ready to start TLS"); self.wfile.write(b"garbage, not TLS\r\n"); self.wfile.flush(); return
            elif u.startswith("AUTH"):
                self.send("535 5.7.8 Error: authentication failed: authentication failure")
            elif u.startswith("MAIL"):
                if mode == "drop-mail": return
                self.send("250 2.1.0 Ok")
            elif u.startswith("RCPT"):
                if mode == "hang-rcpt": time.sleep(20); return
                a = l[l.find("<") + 1:l.find(">")]
                local = a.split("@")[0]
                rcpts.append(local)
                self.send(RCPT.get(local, "250 2.1.5 Ok").format(a=a))
            elif u.startswith("DATA"):
                self.send("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    d = line(self.rfile)
                    if d is None: return
                    if d == ".": break
                    if mode == "drop-data": return
                reply = next((DATA[r] for r in rcpts if r in DATA), "250 2.0.0 Ok: queued as 4XqTz21kP3z9v")
                self.send(reply)
            elif u.startswith("RSET"): rcpts = []; self.send("250 2.0.0 Ok")
            elif u.startswith("QUIT"): self.send("221 2.0.0 Bye"); return
            else: self.send("502 5.5.2 Error: command not recognized")

MODES = {"127.0.0.10": "normal", "127.0.0.11": "refuse-greeting", "127.0.0.12": "drop",
         "127.0.0.13": "silent", "127.0.0.14": "myname", "127.0.0.15": "tls-broken",
         "127.0.0.16": "normal", "127.0.0.17": "auth", "127.0.0.18": "hang-rcpt",
         "127.0.0.19": "drop-mail"}
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
for ip in MODES:
    srv = socketserver.ThreadingTCPServer((ip, 25), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
print("ready", flush=True)
time.sleep(3600)
PY
  local _
  for _ in $(seq 1 50); do grep -q ready "$LAB_W/remote-mx.log" 2>/dev/null && return 0; sleep 0.1; done
  lab_log "remote MX did not start: $(cat "$LAB_W/remote-mx.log")"
}

describe_capture_smtp_replies() { echo "smtp client: refused/timed-out/unreachable next hops, lost connections, loops, TLS and SASL failures, remote 4xx/5xx replies"; }
scenario_capture_smtp_replies() {
  lab_setup
  local d dns=() n=10
  for d in remote refuse drop silent myname tlsbroken tlsneeded auth hangrcpt dropmail; do
    dns+=(--address="/mx.$d.lab.example/127.0.0.$n" --mx-host="$d.lab.example,mx.$d.lab.example,10")
    n=$((n + 1))
  done
  lab_start_dns "${dns[@]}" \
    --address=/mx.closed.lab.example/127.0.0.20 --mx-host=closed.lab.example,mx.closed.lab.example,10 \
    --address=/mx.noroute.lab.example/198.51.100.1 --mx-host=noroute.lab.example,mx.noroute.lab.example,10 \
    --address=/mx.unreach.lab.example/203.0.113.1 --mx-host=unreach.lab.example,mx.unreach.lab.example,10 \
    --address=/mx.blackhole.lab.example/192.0.2.1 --mx-host=blackhole.lab.example,mx.blackhole.lab.example,10 \
    --mx-host=loop.lab.example,mx1.lab.example,10 \
    --address=/client.lab.example/127.0.0.8
  ip route add unreachable 198.51.100.0/24
  ip route add 192.0.2.0/24 dev lo
  printf 'tlsneeded.lab.example encrypt\n' >/etc/postfix/tls_policy
  printf '[mx.auth.lab.example]:25 bob:wrong-password\nmx.auth.lab.example bob:wrong-password\n' >/etc/postfix/sasl_passwd
  postmap /etc/postfix/tls_policy /etc/postfix/sasl_passwd
  postconf -e "smtp_connect_timeout = 3s" "smtp_helo_timeout = 3s" "smtp_rcpt_timeout = 3s" \
    "smtp_tls_security_level = may" "smtp_tls_policy_maps = hash:/etc/postfix/tls_policy" \
    "smtp_sasl_auth_enable = yes" "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd" \
    "smtp_sasl_security_options = noanonymous" "smtp_tls_loglevel = 1"
  lab_remote_mx
  lab_start_postfix
  local r
  for r in grey greymilter full gfull unknown gunknown ounknown spamhaus barracuda outlookbl yahoorate grate spf relay rdns tempfail dmarc gspam big virus ok; do
    lab_send 1024 "$r@remote.lab.example"
  done
  for d in refuse drop silent myname tlsbroken tlsneeded auth hangrcpt dropmail closed noroute unreach blackhole loop; do
    lab_send 1024 "someone@$d.lab.example"
  done
  lab_wait_status 35 || true
  # The time-outs (3 s each) come last.
  for d in silent hangrcpt blackhole; do
    lab_wait_log /var/log/mail.log "to=<someone@$d.lab.example>.*status=" || true
  done
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  lab_notes "capture-smtp-replies: the Postfix smtp client against scripted next hops" \
"- Scripted SMTP servers on 127.0.0.10-19 (a Python script in lab.sh) answer RCPT/DATA with texts modelled on greylisting, blocklists, Gmail, Outlook and Yahoo replies, refuse the greeting, drop or stall the connection, greet with our own hostname, offer broken STARTTLS or AUTH that fails.
- Also: nothing listening (refused), an unreachable route, no route at all, a black hole (connect timeout), an MX pointing back to us, TLS required but not offered."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'Greylisted' 'refused to talk to me' 'loops back to myself' \
    'Connection timed out' 'TLS is required' 'SASL authentication failed'
}

# lab_wait_more N: wait (bounded) until N more status= lines than now exist.
lab_wait_more() {
  local want=$(( $(lab_count_status) + $1 ))
  shift
  "$@"
  lab_have_status() { [ "$(lab_count_status)" -ge "$want" ]; }
  lab_wait_until "status lines" lab_have_status
}

describe_capture_local_failures() { echo "local/virtual/pipe: unknown user, loops, mailbox permissions and size, maildrop quota, failing commands"; }
scenario_capture_local_failures() {
  lab_setup
  lab_start_dns --address=/client.lab.example/127.0.0.8
  local me=$LAB_USER@$LAB_HOSTNAME
  # Commands as aliases (local(8) runs them as default_privs).
  cat >>/etc/postfix/aliases <<'ALIASES'
notfound: "|/usr/local/bin/no-such-filter"
segv: "|/bin/sh -c 'kill -SEGV $$'"
slow: "|/bin/sleep 30"
tempfail: "|/bin/sh -c 'echo mailbox is locked; exit 75'"
noperm: "|/bin/sh -c 'echo refusing to deliver; exit 77'"
unavailable: "|/bin/sh -c 'echo filter service gone; exit 69'"
tofile: /root/forbidden.mbox
ALIASES
  postalias /etc/postfix/aliases
  # A pipe(8) transport for one domain, and virtual(8) mailboxes for another.
  cat >>/etc/postfix/master.cf <<'MASTER'
failpipe  unix  -       n       n       -       -       pipe
  flags=R user=nobody argv=/bin/false
MASTER
  printf 'pipe.lab.example failpipe:\n' >/etc/postfix/transport
  printf 'carol@virt.lab.example carol/\n' >/etc/postfix/vmailbox
  postmap /etc/postfix/transport /etc/postfix/vmailbox
  # Postfix warns when the source is newer than the .db (and at least 100 s old).
  touch -d '10 minutes ago' /etc/postfix/vmailbox
  touch -d '1 hour ago' /etc/postfix/vmailbox.db
  postconf -e "mailbox_command =" "command_time_limit = 2s" \
    "transport_maps = hash:/etc/postfix/transport" \
    "virtual_mailbox_domains = virt.lab.example" "virtual_mailbox_maps = hash:/etc/postfix/vmailbox" \
    "virtual_mailbox_base = /var/vmail" "virtual_uid_maps = static:5000" "virtual_gid_maps = static:5000"
  # alice's mbox exists but belongs to root: local cannot open it.
  install -o root -g root -m 0600 /dev/null "/var/mail/$LAB_USER"
  lab_start_postfix
  lab_send 1024 "$me"
  lab_send 1024 "nosuch@$LAB_HOSTNAME"
  local r
  for r in notfound segv slow tempfail noperm unavailable tofile; do
    lab_send 1024 "$r@$LAB_HOSTNAME"
  done
  lab_send 1024 "someone@pipe.lab.example"
  lab_send 1024 "carol@virt.lab.example"
  lab_send 1024 "dave@virt.lab.example"
  # A message that was already delivered here once: a forwarding loop.
  printf 'Delivered-To: %s\nSubject: loop\n\nloop\n' "$me" | sendmail -f "$LAB_SENDER" "$me"
  lab_wait_log /var/log/mail.log 'to=<slow@' || true
  lab_wait_status 12 || true
  # The mbox size limit, and a Maildir whose tmp/ the user cannot write.
  rm -f "/var/mail/$LAB_USER"
  postconf -e "mailbox_size_limit = 4000" "message_size_limit = 4000"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_send 3000 "$me"
  lab_send 3000 "$me"
  lab_wait_log /var/log/mail.log 'File too large|size limit' || true
  postconf -e "home_mailbox = Maildir/" "mailbox_size_limit = 51200000" "message_size_limit = 10240000"
  chown root:root "/home/$LAB_USER/Maildir/tmp"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_wait_more 1 lab_send 1024 "$me" || true
  # maildrop: a 5 KB Maildir quota, then a filter file with group/world permissions.
  chown "$LAB_USER:$LAB_USER" "/home/$LAB_USER/Maildir/tmp"
  postconf -e "home_mailbox =" "mailbox_command = /usr/bin/maildrop -d \"\$USER\""
  printf '5000S\n' >"/home/$LAB_USER/Maildir/maildirsize"
  chown "$LAB_USER:$LAB_USER" "/home/$LAB_USER/Maildir/maildirsize"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_wait_more 1 lab_send 8000 "$me" || true
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  lab_notes "capture-local-failures: local, virtual and pipe delivery failures" \
"- Aliases to commands that are missing, crash, hang, exit 75/77/69, a file the default_privs user cannot write; a pipe(8) transport running /bin/false; virtual(8) mailboxes under a missing base; a message already Delivered-To the recipient; a root-owned mbox; mailbox_size_limit; a Maildir tmp/ the user cannot write; maildrop with a 5000-byte maildirsize quota."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'unknown user' 'mail forwarding loop' 'Command died with status' \
    'File too large' 'maildir over quota'
}

describe_capture_system_errors() { echo "system: missing/old lookup tables, unsupported map types, bad parameters, unknown transport, ownership, full file systems, corrupt queue files"; }
scenario_capture_system_errors() {
  lab_setup
  lab_start_dns --address=/client.lab.example/127.0.0.8
  local me=$LAB_USER@$LAB_HOSTNAME
  # Mail submitted while Postfix is down stays in maildrop/ (postdrop complains).
  # (configure-instance.sh creates the queue directories; postfix itself is not started.)
  /usr/lib/postfix/configure-instance.sh - >/dev/null 2>&1 || true
  postfix check >/dev/null 2>&1 || true
  timeout 10 sendmail -f "$LAB_SENDER" "$me" </dev/null 2>"$LAB_W/sendmail-down.err" || true
  # A virtual alias map whose .db was never built, a canonical map that is older than its
  # source, and an unknown transport for one domain.
  printf 'x@%s alice\n' "$LAB_HOSTNAME" >/etc/postfix/virtual
  printf 'bob@client.lab.example bob@client.lab.example\n' >/etc/postfix/canonical
  printf 'unk.lab.example nosuchtransport:\n' >/etc/postfix/transport
  postmap /etc/postfix/canonical /etc/postfix/transport
  touch -d '10 minutes ago' /etc/postfix/canonical
  touch -d '1 hour ago' /etc/postfix/canonical.db
  postconf -e "virtual_alias_maps = hash:/etc/postfix/virtual" \
    "sender_canonical_maps = hash:/etc/postfix/canonical" \
    "transport_maps = hash:/etc/postfix/transport"
  lab_start_postfix
  lab_wait_log /var/log/mail.log 'virtual' || true
  # A corrupt file in the incoming queue; a flush makes qmgr scan it.
  printf 'this is not a queue file\n' >"$LAB_W/ABC1234567"
  chown postfix:postfix "$LAB_W/ABC1234567"
  chmod 0700 "$LAB_W/ABC1234567"
  mv "$LAB_W/ABC1234567" /var/spool/postfix/incoming/
  postqueue -f
  LAB_WAIT=5 lab_wait_log /var/log/mail.log 'ABC1234567' || true
  sleep 1
  # Build the missing map; the maildrop/ message then goes through.
  postmap /etc/postfix/virtual
  postfix reload >/dev/null 2>&1; sleep 1
  lab_send 1024 "someone@unk.lab.example"
  lab_wait_log /var/log/mail.log 'someone@unk.lab.example' || true
  # Map types this build does not have, and a bad boolean value.
  postconf -e "virtual_alias_maps = ldap:/etc/postfix/ldap-aliases.cf" "smtpd_use_tls = maybe"
  postfix reload >/dev/null 2>&1; sleep 1
  lab_send 1024 "$me"
  swaks --server 127.0.0.1 --timeout 5 -f "$LAB_SENDER" -t "$me" >/dev/null 2>&1 || true
  sleep 2
  postconf -e "virtual_alias_maps =" "smtpd_use_tls = no"
  postfix reload >/dev/null 2>&1; sleep 1
  # Wrong ownership in the queue, as `postfix check` reports it.
  chown root:root /var/spool/postfix/active
  postfix check >/dev/null 2>&1 || true
  chown postfix:root /var/spool/postfix/active
  # A full mail spool (a 64 KB tmpfs over /var/mail) and a full Maildir.
  postconf -e "mailbox_command ="
  postfix reload >/dev/null 2>&1; sleep 1
  mount -t tmpfs -o size=64k,mode=2775,gid=mail lab-mail-full /var/mail
  dd if=/dev/zero of=/var/mail/filler bs=4k count=100 2>/dev/null || true
  lab_wait_more 1 lab_send 20000 "$me" || true
  umount /var/mail
  postconf -e "home_mailbox = Maildir/"
  postfix reload >/dev/null 2>&1; sleep 1
  mount -t tmpfs -o size=64k,mode=0700,uid="$(id -u "$LAB_USER")" lab-maildir-full "/home/$LAB_USER/Maildir/tmp"
  dd if=/dev/zero of="/home/$LAB_USER/Maildir/tmp/filler" bs=4k count=100 2>/dev/null || true
  lab_wait_more 1 lab_send 20000 "$me" || true
  umount "/home/$LAB_USER/Maildir/tmp"
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  cp "$LAB_W/sendmail-down.err" "$LAB_OUT/sendmail-down.err" 2>/dev/null || true
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  lab_notes "capture-system-errors: tables, parameters, transports, full file systems, a corrupt queue file" \
"- sendmail while Postfix is down; virtual_alias_maps without its .db; a canonical .db older than its source; a transport naming a service not in master.cf; an ldap: map on a build without LDAP; smtpd_use_tls = maybe; a root-owned active/ queue directory; a full /var/mail and a full Maildir (64 KB tmpfs); a garbage file in the incoming queue."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'is older than source file' 'open database' 'unsupported dictionary type' \
    'bad boolean configuration' 'No space left on device' 'corrupt'
}

describe_capture_postscreen() { echo "postscreen: DNSBL rank and reject, denylist, pregreet, hangup, pipelining, non-SMTP, bare newline, limits"; }
scenario_capture_postscreen() {
  lab_setup
  lab_start_dns --address=/2.0.0.127.zen.spamhaus.org/127.0.0.2 --local=/zen.spamhaus.org/ \
    --address=/client.lab.example/127.0.0.8
  printf '127.0.0.5 reject\n127.0.0.6 permit\n' >/etc/postfix/postscreen_access.cidr
  postconf -Me "smtp/inet=smtp inet n - y - 1 postscreen" \
    "smtpd/pass=smtpd pass - - y - - smtpd" \
    "dnsblog/unix=dnsblog unix - - y - 0 dnsblog" \
    "tlsproxy/unix=tlsproxy unix - - y - 0 tlsproxy"
  postconf -e "mynetworks = 192.0.2.0/24" \
    "postscreen_access_list = permit_mynetworks, cidr:/etc/postfix/postscreen_access.cidr" \
    "postscreen_dnsbl_sites = zen.spamhaus.org*3" "postscreen_dnsbl_threshold = 3" \
    "postscreen_dnsbl_action = enforce" "postscreen_greet_action = enforce" "postscreen_greet_wait = 2s" \
    "postscreen_pipelining_enable = yes" "postscreen_pipelining_action = enforce" \
    "postscreen_non_smtp_command_enable = yes" "postscreen_non_smtp_command_action = drop" \
    "postscreen_bare_newline_enable = yes" "postscreen_bare_newline_action = enforce" \
    "postscreen_command_time_limit = 3s" "postscreen_command_count_limit = 4" \
    "postscreen_client_connection_count_limit = 2"
  lab_start_postfix
  local me=$LAB_USER@$LAB_HOSTNAME
  lab_swaks --local-interface 127.0.0.2 --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  lab_swaks --local-interface 127.0.0.5 --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  lab_swaks --local-interface 127.0.0.6 --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "send EHLO client.lab.example\r\n
sleep 2.5
read
send QUIT\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.1 "sleep 0.5
close"
  lab_smtp_raw 127.0.0.1 25 127.0.0.3 "sleep 2.5
read
send GET / HTTP/1.1\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.4 "sleep 2.5
read
send EHLO client.lab.example\n
read
send QUIT\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.7 "sleep 2.5
read
send EHLO client.lab.example\r\nMAIL FROM:<bob@client.lab.example>\r\n
read
send QUIT\r\n
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.9 "sleep 2.5
read
send EHLO client.lab.example\r\n
read
sleep 4
read"
  lab_smtp_raw 127.0.0.1 25 127.0.0.10 "sleep 2.5
read
send NOOP\r\n
read
send NOOP\r\n
read
send NOOP\r\n
read
send NOOP\r\n
read
send NOOP\r\n
read
send NOOP\r\n
read"
  # A client that passed the tests, and a new one connecting three times at once (the limit is two).
  lab_swaks --ehlo client.lab.example -f "$LAB_SENDER" -t "$me"
  for _ in 1 2 3; do
    lab_smtp_raw 127.0.0.1 25 127.0.0.11 "sleep 1
close" &
  done
  wait
  sleep 1
  cp /var/log/mail.log "$LAB_OUT/mail.log"
  postconf -n >"$LAB_OUT/postconf-n.txt" 2>&1 || true
  lab_notes "capture-postscreen: postscreen tests and limits" \
"- postscreen in front of smtpd with a DNSBL (zen.spamhaus.org*3, lab DNS lists 127.0.0.2), an access list (deny 127.0.0.5, permit 127.0.0.6), greet/pipelining/non-SMTP/bare-newline tests enforced, command time and count limits, at most 2 connections per client."
  lab_stop
  lab_expect_logged "$LAB_OUT/mail.log" 'DNSBL rank' 'PREGREET' 'NON-SMTP COMMAND' 'too many connections'
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
