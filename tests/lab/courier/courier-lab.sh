#!/bin/bash
# courier-lab.sh SCENARIO OUTDIR — a real Courier MTA 1.0.16 + maildrop 2.9.3 (Debian 12)
# broken on purpose inside private namespaces; captures the evidence into OUTDIR.
#
#   sudo lab/courier-lab.sh list
#   sudo lab/courier-lab.sh founding runs/founding
#   sudo lab/courier-lab.sh all runs            # every scenario, timings in runs/timings.txt
#
# The Debian root (mmdebstrap --variant=apt) is cached in target/courier-lab-cache/base
# (built from target/courier-lab-cache/root.tar, which is built when missing). Each run mounts a tmpfs-backed
# overlay over that base inside its own mount namespace, so the base never changes
# and nothing on the host changes: all mounts, the hostname, the network (only lo)
# and every daemon live and die with the namespaces (PID 1 of the PID namespace is
# this script; when it exits the kernel kills whatever is left).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# The cache lives under target/ (ignored by git, and outside tests/, which the scenario
# test walks: a Debian root there would be walked too).
CACHE=${COURIER_LAB_CACHE:-$(cd "$TOP/../.." && pwd)/target/courier-lab-cache}
BASE=$CACHE/base
TARBALL=$CACHE/root.tar
SUITE=bookworm
PKGS=courier-mta,maildrop,spamc,courier-authdaemon,procps,python3-minimal,strace,netbase
LAB_TIMEOUT=${LAB_TIMEOUT:-180}
SCENARIOS="founding founding-near-miss authdaemond-down authdaemond-never-started maildir-root-owned queue-fs-full domain-not-accepted domain-accepted maildroprc-broken"

die() { echo "courier-lab: $*" >&2; exit 2; }

ensure_base() {
    [[ -x $BASE/usr/lib/courier/courier/courierd ]] && return 0
    command -v mmdebstrap >/dev/null || apt-get install -y mmdebstrap >/dev/null
    mkdir -p "$CACHE"
    if [[ ! -s $TARBALL ]]; then
        echo "courier-lab: building $TARBALL (mmdebstrap $SUITE)…" >&2
        # --format=tar: the target name ends in .part, from which mmdebstrap would guess a directory.
        mmdebstrap --variant=apt --format=tar --include=$PKGS $SUITE "$TARBALL.part" >&2
        mv "$TARBALL.part" "$TARBALL"
    fi
    rm -rf "$BASE.part"; mkdir -p "$BASE.part"
    tar -C "$BASE.part" -xf "$TARBALL"
    mv "$BASE.part" "$BASE"
}

# ---------------------------------------------------------------------------
# PID 1 of the new namespaces: build the private root and chroot into it.
inner() {
    local scenario=$1 out=$2
    mount --make-rprivate /
    local scr=$CACHE/mnt
    mount -t tmpfs -o size=1g,mode=0700 courier-lab "$scr"
    mkdir -p "$scr"/{upper,work,root}
    mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$scr/upper,workdir=$scr/work" "$scr/root"
    local R=$scr/root
    mount -t proc proc "$R/proc"
    mount -t tmpfs -o mode=0755 tmpfs "$R/run"
    mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
    mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
    mkdir -p "$R/lab" "$R/out"
    if [[ $scenario = queue-fs-full ]]; then
        # Courier's queue (/var/lib/courier: msgq, msgs, tmp, track…) on its own tiny tmpfs,
        # filled up later by inroot.sh while Courier runs.
        cp -a "$R/var/lib/courier" "$scr/courier-queue-orig"
        mount -t tmpfs -o size=1m,nr_inodes=4096 courier-queue "$R/var/lib/courier"
        cp -a "$scr/courier-queue-orig/." "$R/var/lib/courier/"
        chown --reference="$scr/courier-queue-orig" "$R/var/lib/courier"
        chmod --reference="$scr/courier-queue-orig" "$R/var/lib/courier"
    fi
    cp "$HERE"/syslogd.py "$HERE"/dnsd.py "$HERE"/smtpsend.py "$HERE"/inroot.sh "$R/lab/"
    # mailsleuth runs live inside when given (MAILSLEUTH_BIN: a binary linked against a glibc
    # no newer than bookworm's 2.36).
    if [[ -n ${MAILSLEUTH_BIN:-} ]]; then cp "$MAILSLEUTH_BIN" "$R/lab/mailsleuth"; fi
    mount --bind "$out" "$R/out"
    hostname mailhost
    ip link set lo up
    echo "nameserver 127.0.0.1" > "$R/etc/resolv.conf"   # nothing answers: no DNS in the lab
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tmailhost.lab.example mailhost\n' > "$R/etc/hosts"
    echo mailhost.lab.example > "$R/etc/mailname"
    local rc=0
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8 \
        LAB_WAIT="${LAB_WAIT:-30}" LAB_DEBUG_CMD="${LAB_DEBUG_CMD:-}" LAB_BATCH="${LAB_BATCH:-}" LAB_AFTER_FIX="${LAB_AFTER_FIX:-1}" chroot "$R" /bin/bash /lab/inroot.sh "$scenario" || rc=$?
    exit $rc
}

case ${1:-} in
    __inner) shift; inner "$@" ;;
    list) for s in $SCENARIOS; do echo "$s"; done ;;
    all)
        [[ $# -eq 2 ]] || die "usage: $0 all RUNSDIR"
        mkdir -p "$2"; : > "$2/timings.txt"; worst=0
        for s in $SCENARIOS; do
            rm -rf "${2:?}/$s"; rc=0
            "$0" "$s" "$2/$s" >"$2/$s.console.txt" 2>&1 || rc=$?
            cat "$2/$s/timing.txt" >> "$2/timings.txt" 2>/dev/null || echo "scenario=$s rc=$rc" >> "$2/timings.txt"
            mv "$2/$s.console.txt" "$2/$s/console.txt" 2>/dev/null || true
            [[ $rc -gt $worst ]] && worst=$rc
        done
        cat "$2/timings.txt"; exit $worst ;;
    ""|-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *)
        [[ $# -eq 2 ]] || die "usage: $0 SCENARIO OUTDIR"
        [[ $(id -u) -eq 0 ]] || die "must run as root"
        scenario=$1
        [[ " $SCENARIOS " == *" $scenario "* ]] || die "unknown scenario $scenario (try: $0 list)"
        ensure_base
        mkdir -p "$CACHE/mnt" "$2"
        out=$(cd "$2" && pwd)
        start=$(date +%s%N)
        rc=0
        timeout --foreground -k 5 "$LAB_TIMEOUT" \
            unshare --mount --uts --ipc --net --pid --fork --mount-proc --propagation private \
            "$0" __inner "$scenario" "$out" || rc=$?
        end=$(date +%s%N)
        ms=$(( (end - start) / 1000000 ))
        printf 'scenario=%s rc=%s seconds=%d.%d\n' "$scenario" "$rc" $((ms / 1000)) $((ms % 1000 / 100)) | tee "$out/timing.txt"
        exit $rc ;;
esac
