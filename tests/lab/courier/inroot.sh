#!/bin/bash
# Runs inside the Courier lab root (chroot), as root, in the lab's namespaces.
# usage: inroot.sh SCENARIO      (captures go to /out, the bind-mounted OUTDIR)
# Exit: 0 the scenario reproduced what it expects, 1 it did not, 2 set-up error.
set -uo pipefail
SCEN=$1
OUT=/out
LAB_WAIT=${LAB_WAIT:-30}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
log() { echo "[lab $(date +%T)] $*" | tee -a $OUT/lab-steps.txt >&2; }
: > $OUT/lab-steps.txt
T0=$(date +%s%N)

# ---------------------------------------------------------------------------
# helpers
start_syslog() {
    mkdir -p /var/log
    rm -f /var/log/mail.log /var/log/syslog /var/log/auth.log
    python3 /lab/syslogd.py /dev/log </dev/null >/var/log/lab-syslogd.out 2>&1 &
    for i in $(seq 50); do [[ -S /dev/log ]] && break; sleep 0.1; done
    [[ -S /dev/log ]] || { log "syslog receiver did not start"; exit 2; }
}
start_dns() {
    python3 /lab/dnsd.py </dev/null >/var/log/lab-dnsd.out 2>&1 &
    for i in $(seq 50); do grep -qE ':0035 [0-9A-F:]+ 0A ' /proc/net/tcp 2>/dev/null && break; sleep 0.1; done
}
start_authdaemond() {
    mkdir -p /run/courier/authdaemon
    chown courier:courier /run/courier/authdaemon; chmod 0750 /run/courier/authdaemon
    # Readiness: wait for authdaemond's own 'Installation complete' syslog line (the socket
    # file is no sign: a stopped authdaemond leaves it behind, and lookups then fail).
    local n0; n0=$(grep -c 'authdaemond: Installation complete' /var/log/mail.log 2>/dev/null || true)
    /usr/sbin/authdaemond start; log "authdaemond start rc=$?"
    for i in $(seq 100); do
        [[ $(grep -c 'authdaemond: Installation complete' /var/log/mail.log 2>/dev/null || true) -gt ${n0:-0} ]] && break
        sleep 0.1
    done
    sleep 0.5
}
start_esmtpd() {
    esmtpd start; log "esmtpd start rc=$?"
    # wait for the listener without connecting to it (a probe connection would log a
    # courieresmtpd 'started' line with nothing after it): :0019 in state LISTEN (0A)
    for i in $(seq 50); do grep -qE ':0019 [0-9A-F:]+ 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null && break; sleep 0.1; done
}
# send_smtp TAG:SIZE… — one SMTP session per message to 127.0.0.1:25
send_smtp() {
    local spec tag size rc
    for spec in "$@"; do
        tag=${spec%%:*}; size=${spec##*:}
        python3 /lab/smtpsend.py 127.0.0.1 25 sender@lab.example alice@lab.example $size $tag >> $OUT/smtp-dialogue.txt 2>&1
        rc=$?; log "smtp $tag ($size bytes) rc=$rc"
    done
}
# send_local TAG:SIZE… — Courier's own /usr/sbin/sendmail (local submission)
send_local() {
    local spec tag size rc
    for spec in "$@"; do
        tag=${spec%%:*}; size=${spec##*:}
        python3 - "$tag" "$size" > /lab/$tag.eml <<'PY'
import sys
tag, size = sys.argv[1], int(sys.argv[2])
h = "From: Lab Sender <sender@lab.example>\nTo: <alice@lab.example>\nSubject: %s (%d bytes, local sendmail)\n\n" % (tag, size)
b, i = "", 0
while len(h) + len(b) < size:
    b += ("%s line %05d " % (tag, i)).ljust(70, "x") + "\n"; i += 1
sys.stdout.write(h + b)
PY
        echo "== sendmail $tag ($size bytes)" >> $OUT/sendmail-output.txt
        /usr/sbin/sendmail -f sender@lab.example alice@lab.example < /lab/$tag.eml >> $OUT/sendmail-output.txt 2>&1
        rc=$?; echo "rc=$rc" >> $OUT/sendmail-output.txt
        log "sendmail $tag ($size bytes) rc=$rc"
    done
}
# final delivery lines: courierlocal ',size=N,success: …' / ',status: deferred|failed',
# courierd's own ',status: deferred' (recipient lookup failures)
FINAL_RE='courier(d|local|esmtp|dsn): id=.*(,success: |,status: (deferred|failed|success))'
wait_final() {   # wait_final N [LOGFILE-OFFSET-LINES]
    local want=$1 skip=${2:-0} c deadline=$(( $(date +%s) + LAB_WAIT ))
    while :; do
        c=$(tail -n +$((skip+1)) /var/log/mail.log | grep -cE "$FINAL_RE" || true)
        [[ ${c:-0} -ge $want ]] && break
        [[ $(date +%s) -ge $deadline ]] && { log "timeout waiting: $c of $want final lines"; break; }
        sleep 0.3
    done
    sleep 1
    log "final delivery lines: $(tail -n +$((skip+1)) /var/log/mail.log | grep -cE "$FINAL_RE")"
}
capture() {   # capture DIR
    local d=$1
    mkdir -p $d/var/log $d/etc/courier
    cp /var/log/mail.log $d/var/log/mail.log
    cp /var/log/syslog $d/var/log/syslog 2>/dev/null || true
    cp /var/log/auth.log $d/var/log/auth.log 2>/dev/null || true
    mailq > $d/mailq.txt 2>&1; echo "rc=$?" > $d/mailq.rc
    find /var/lib/courier/msgq /var/lib/courier/msgs /var/lib/courier/tmp \
        -printf '%M %u:%g %10s %TY-%Tm-%Td %TH:%TM:%.8TS %p\n' > $d/queue-listing.txt 2>&1
    for c in $(find /var/lib/courier/msgs -name 'C*' -type f 2>/dev/null | sort); do
        echo "== $c"; tr '\0' '\n' < "$c" | cat -v
    done > $d/queue-control-files.txt 2>&1
    stat /tmp > $d/stat-tmp.txt
    stat -c '%A %u:%g %U:%G %n' /tmp /var/lib/courier /home/alice /home/alice/Maildir /home/alice/Maildir/* > $d/stat-paths.txt 2>&1
    for f in me locals defaultdomain hosteddomains hosteddomains.dat esmtpacceptmailfor esmtpacceptmailfor.dir \
             esmtpacceptmailfor.dat esmtproutes aliases aliasdir aliases.dat courierd esmtpd authdaemonrc \
             module.local smtpaccess smtpaccess.dat enablefiltering filters; do
        [[ -e /etc/courier/$f ]] && cp -a /etc/courier/$f $d/etc/courier/ 2>/dev/null
    done
    ls -la /etc/courier > $d/etc/courier/ls-la.txt
    cp /etc/maildroprc $d/etc/maildroprc
    ps -eo pid,ppid,user,stat,lstart,args --sort=pid > $d/ps.txt
    find /home/alice/Maildir -type f -printf '%s %p\n' > $d/maildir-listing.txt 2>&1
    df -k /var/lib/courier /tmp /home > $d/df.txt 2>&1
    dpkg-query -W -f '${Package} ${Version}\n' courier-base courier-mta courier-authdaemon \
        courier-authlib maildrop spamc > $d/versions.txt
}
count() { grep -cE "$1" ${2:-/var/log/mail.log} || true; }

# ---------------------------------------------------------------------------
# the fault that has to exist before anything starts
TMPMODE=1777
[[ $SCEN = founding ]] && TMPMODE=0700
chown root:root /tmp; chmod $TMPMODE /tmp
log "/tmp is $(stat -c '%A %U:%G' /tmp)"

start_syslog
start_dns
logger -p mail.info -t lab "courier lab scenario $SCEN starting"

# Courier configuration -------------------------------------------------------
cd /etc/courier
echo mailhost.lab.example > me
echo lab.example > defaultdomain
printf 'localhost\nmailhost.lab.example\nlab.example\n' > locals
# domain-not-accepted: lab.example is in locals, but not in esmtpacceptmailfor(.dir), so
# courieresmtpd refuses it from clients that may not relay (513 Relaying denied).
# domain-accepted, its near miss: the same outside client, lab.example listed there too.
[[ $SCEN = domain-accepted ]] && echo lab.example > esmtpacceptmailfor.dir/lab
# DEFAULTDELIVERY: hand every local delivery to maildrop (as on the story's host)
sed -i 's#^DEFAULTDELIVERY=.*#DEFAULTDELIVERY="| /usr/bin/maildrop"#' courierd
makealiases; makesmtpaccess; makehosteddomains; makeacceptmailfor
cd /

# alice, her Maildir, maildroprc through spamc ---------------------------------
useradd -m -s /bin/bash alice
su alice -c 'maildirmake.maildrop $HOME/Maildir'
cat > /etc/maildroprc <<'MDRC'
# Global maildrop filter file (lab: the story's spamc set-up; spamd is NOT running)
DEFAULT="$HOME/Maildir/"
xfilter "/usr/bin/spamc"
MDRC

if [[ $SCEN = maildroprc-broken ]]; then
    # an edit gone wrong: an unterminated condition in the global filter file
    printf 'if (/^Subject: .*lab/\n{\n' >> /etc/maildroprc
fi
if [[ $SCEN = maildir-root-owned ]]; then
    chown -R root:root /home/alice/Maildir; chmod 0700 /home/alice/Maildir
fi

# start the services like Debian's init scripts do ------------------------------
chown root:courier /run/courier 2>/dev/null || { mkdir -p /run/courier; chown root:courier /run/courier; }
chmod 0775 /run/courier
BATCH="${LAB_BATCH:-small1:1500 large1:12000 small2:3000 large2:20000 small3:5000 large3:40000 small4:7000 large4:64000 large5:150000}"

case $SCEN in
authdaemond-down)
    # 1. courierd is down for a while (say, maintenance); authdaemond runs and the
    #    SMTP server queues two messages (submission works without courierd).
    start_authdaemond
    courierfilter start; log "courierfilter start rc=$?"
    start_esmtpd
    send_smtp early1:2500 early2:25000
    # 2. authdaemond goes away (stopped, as a crash of it would leave it)
    /usr/sbin/authdaemond stop; log "authdaemond stop rc=$?"
    sleep 0.5
    # 3. courierd comes back and tries the queued mail
    courier start; log "courier start rc=$?"
    wait_final 4     # courierd logs each deferral twice
    # 4. new mail: SMTP and local submissions for a local user
    send_smtp $BATCH
    send_local small5:2000 large6:30000
    sleep 2
    ;;
domain-not-accepted|domain-accepted)
    start_authdaemond
    courierfilter start; log "courierfilter start rc=$?"
    courier start; log "courier start rc=$?"
    start_esmtpd
    # from 127.0.0.2: an outside client (smtpaccess lets only 127.0.0.1 relay)
    for spec in out1:1500 out2:3000 out3:20000; do
        python3 /lab/smtpsend.py 127.0.0.1 25 sender@client.lab.example alice@lab.example ${spec##*:} ${spec%%:*} 127.0.0.2 >> $OUT/smtp-dialogue.txt 2>&1
        log "smtp ${spec%%:*} from 127.0.0.2 rc=$?"
    done
    # and a relay attempt for someone else's domain: refused in both scenarios, rightly
    python3 /lab/smtpsend.py 127.0.0.1 25 sender@client.lab.example bob@elsewhere.example 1200 relay1 127.0.0.2 >> $OUT/smtp-dialogue.txt 2>&1
    log "smtp relay1 to bob@elsewhere.example from 127.0.0.2 rc=$?"
    [[ $SCEN = domain-accepted ]] && wait_final 3
    sleep 1
    ;;
authdaemond-never-started)
    # authdaemond was never started (no socket file at all)
    courierfilter start; log "courierfilter start rc=$?"
    courier start; log "courier start rc=$?"
    start_esmtpd
    send_smtp $BATCH
    send_local small5:2000 large6:30000
    sleep 2
    ;;
queue-fs-full)
    start_authdaemond
    courierfilter start; log "courierfilter start rc=$?"
    courier start; log "courier start rc=$?"
    start_esmtpd
    # /var/lib/courier is its own 1 MB tmpfs (courier-lab.sh); it fills up while Courier runs
    dd if=/dev/zero of=/var/lib/courier/lab-filler bs=4k 2>$OUT/filler-dd.txt
    log "filled /var/lib/courier: $(df -k /var/lib/courier | tail -1)"
    send_smtp $BATCH
    send_local small5:2000 large6:30000
    sleep 2
    ;;
*)
    start_authdaemond
    courierfilter start; log "courierfilter start rc=$?"
    courier start; log "courier start rc=$?"
    start_esmtpd
    send_smtp $BATCH
    wait_final 9
    ;;
esac

capture $OUT
log "captured"
# mailsleuth itself, live inside the broken host, as an admin would run it (when the lab
# was given a binary: courier-lab.sh's MAILSLEUTH_BIN; tests/courier_lab.rs does).
if [[ -x /lab/mailsleuth ]]; then
    t0=$(date +%s%N)
    /lab/mailsleuth collect -o $OUT/bundle.json 2>$OUT/mailsleuth.err; echo "$?" > $OUT/collect.exit
    t1=$(date +%s%N)
    /lab/mailsleuth why --format json > $OUT/why.json 2>>$OUT/mailsleuth.err; echo "$?" > $OUT/why.exit
    NO_COLOR=1 /lab/mailsleuth why > $OUT/why.txt 2>>$OUT/mailsleuth.err
    log "mailsleuth collect $(( (t1 - t0) / 1000000 )) ms; why exit $(cat $OUT/why.exit)"
else
    : > $OUT/why.txt
fi

# ---------------------------------------------------------------------------
# expectations
ML=/var/log/mail.log
ok=1
expect() {   # expect DESCRIPTION ACTUAL OP WANT
    local d=$1 a=$2 op=$3 w=$4
    if [ "$a" "$op" "$w" ]; then echo "ok   $d: $a $op $w"; else echo "FAIL $d: $a (want $op $w)"; ok=0; fi
}
QN=$(grep -oE '^ *[0-9]+ messages?\.' $OUT/mailq.txt | grep -oE '[0-9]+' || echo -1)
{
case $SCEN in
founding)
    expect "deliveries (success)" "$(count 'courierlocal: id=.*,success: Message delivered')" -eq 4
    expect "maildrop temp-file lines" "$(count 'courierlocal: id=.*: maildrop: Unable to create temporary file\.')" -eq 5
    expect "courierlocal deferrals" "$(count 'courierlocal: id=.*,status: deferred')" -eq 5
    expect "mailq messages" "$QN" -eq 5 ;;
founding-near-miss)
    expect "deliveries (success)" "$(count 'courierlocal: id=.*,success: Message delivered')" -eq 9
    expect "deferrals" "$(count 'status: deferred')" -eq 0
    expect "mailq messages" "$QN" -eq 0 ;;
authdaemond-down)
    expect "courieresmtpd authdaemon s_connect lines" "$(count 'courieresmtpd: authdaemon: s_connect\(\) failed')" -ge 9
    expect "RCPT 450 errors" "$(count 'courieresmtpd: error,relay=.*: 450 Service temporarily unavailable\.')" -eq 9
    expect "courierd deferrals of queued mail" "$(count 'courierd: id=.*,status: deferred')" -ge 2
    expect "local sendmail refused (rc=75)" "$(count '^rc=75' $OUT/sendmail-output.txt)" -eq 2
    expect "mailq messages" "$QN" -eq 2 ;;
authdaemond-never-started)
    expect "courieresmtpd s_connect ENOENT lines" "$(count 'courieresmtpd: authdaemon: s_connect\(\) failed: No such file or directory')" -ge 9
    expect "RCPT 450 errors" "$(count 'courieresmtpd: error,relay=.*: 450 Service temporarily unavailable\.')" -eq 9
    expect "local sendmail refused (rc=75)" "$(count '^rc=75' $OUT/sendmail-output.txt)" -eq 2
    expect "mailq messages" "$QN" -eq 0 ;;
maildir-root-owned)
    expect "courierlocal deferrals" "$(count 'courierlocal: id=.*,status: deferred')" -eq 9
    expect "deliveries (success)" "$(count ',success: ')" -eq 0
    expect "mailq messages" "$QN" -eq 9 ;;
domain-not-accepted)
    expect "RCPT refused 513 Relaying denied" "$(count '^S: 513 ' $OUT/smtp-dialogue.txt)" -eq 4
    expect "courieresmtpd error lines" "$(count 'courieresmtpd: error,relay=.*513 Relaying denied')" -eq 4
    expect "mailq messages" "$QN" -eq 0 ;;
domain-accepted)
    expect "deliveries (success)" "$(count 'courierlocal: id=.*,success: Message delivered')" -eq 3
    expect "Relaying denied (the relay attempt only)" "$(count 'to=<bob@elsewhere.example>: 513 Relaying denied')" -eq 1
    expect "mailq messages" "$QN" -eq 0 ;;
maildroprc-broken)
    expect "deliveries (success)" "$(count ',success: ')" -eq 0
    expect "courierlocal deferrals" "$(count 'courierlocal: id=.*,status: deferred')" -eq 9 ;;
queue-fs-full)
    expect "submit ENOSPC lines" "$(count 'submit: No space left on device')" -ge 9
    expect "SMTP DATA refused 432" "$(count '^S: 432 ' $OUT/smtp-dialogue.txt)" -eq 9
    expect "local sendmail refused" "$(count '^rc=0' $OUT/sendmail-output.txt)" -eq 0
    expect "mailq messages" "$QN" -eq 0 ;;
esac
} | tee $OUT/expectations.txt
grep -q '^FAIL' $OUT/expectations.txt && ok=0

# ---------------------------------------------------------------------------
# after the fix: repair the fault the way an admin would, then `courier flush`
# (the evidence above is captured first; this goes to OUTDIR/after-fix/)
FIXED=""
case $SCEN in
founding)           chmod 1777 /tmp; FIXED="chmod 1777 /tmp; courier flush" ;;
maildir-root-owned) chown -R alice:alice /home/alice/Maildir; FIXED="chown -R alice:alice ~alice/Maildir; courier flush" ;;
authdaemond-down)   start_authdaemond; FIXED="authdaemond start; courier flush" ;;
queue-fs-full)      rm -f /var/lib/courier/lab-filler; FIXED="rm the filler; (senders retry)" ;;
esac
if [[ -n $FIXED && ${LAB_AFTER_FIX:-1} = 1 ]]; then
    mark=$(wc -l < /var/log/mail.log)
    logger -p mail.info -t lab "fix applied: $FIXED"
    if [[ $SCEN = queue-fs-full ]]; then
        send_smtp retry1:1500 retry2:30000
        want=2
    else
        courier flush > $OUT/courier-flush.txt 2>&1; log "courier flush rc=$? ($(cat $OUT/courier-flush.txt))"
        want=$QN
        # Observed: after deferrals made by courierd itself (recipient look-up 450, as in
        # authdaemond-down) the first flush only logs 'completed,id=…' and nothing is
        # retried; a second flush then starts the deliveries. Do it and record it.
        sleep 4
        if ! tail -n +$((mark+1)) /var/log/mail.log | grep -q 'courierd: started,id='; then
            logger -p mail.info -t lab "no delivery started after the first courier flush: flushing again"
            courier flush >> $OUT/courier-flush.txt 2>&1; log "second courier flush rc=$?"
        fi
    fi
    wait_final $want $mark
    capture $OUT/after-fix
    tail -n +$((mark+1)) /var/log/mail.log > $OUT/after-fix/mail.log.new-lines
    echo "$FIXED" > $OUT/after-fix/FIX.txt
fi
if [[ -n ${LAB_DEBUG_CMD:-} ]]; then bash -c "$LAB_DEBUG_CMD" > $OUT/debug.txt 2>&1; fi
log "scenario $SCEN: $([[ $ok = 1 ]] && echo reproduced || echo NOT reproduced) ($(( ($(date +%s%N) - T0) / 1000000 )) ms in the root)"
[[ $ok = 1 ]] && exit 0 || exit 1
