#!/usr/bin/python3
"""Tiny syslog receiver for the Courier lab (runs inside the lab root).

Listens on the unix datagram socket /dev/log (what glibc syslog() uses) and
writes lines in the classic Debian rsyslog format
    Mon DD HH:MM:SS host prog[pid]: msg
mail.*  -> /var/log/mail.log   (like Debian's rsyslog.conf)
auth,authpriv.* -> /var/log/auth.log
everything but auth/authpriv -> /var/log/syslog
Only the standard library's socket/os/time are used (python3-minimal).
"""
import os, socket, sys, time, re

SOCK = sys.argv[1] if len(sys.argv) > 1 else "/dev/log"
HOST = socket.gethostname().split(".")[0]
PRI = re.compile(rb"^<(\d{1,3})>")
TS = re.compile(rb"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ")

files = {}
def out(name):
    f = files.get(name)
    if f is None:
        f = files[name] = open(name, "ab", buffering=0)
    return f

try:
    os.unlink(SOCK)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(SOCK)
os.chmod(SOCK, 0o666)
with open("/run/lab-syslogd.pid", "w") as p:
    p.write("%d\n" % os.getpid())

while True:
    data = s.recv(65536)
    m = PRI.match(data)
    pri = int(m.group(1)) if m else 13  # user.notice
    if m:
        data = data[m.end():]
    fac = pri >> 3
    # The time the receiver saw the line (rsyslog's default for local input
    # keeps the sender's stamp; both are the same clock here).
    t = TS.match(data)
    if t:
        stamp, data = data[: t.end() - 1], data[t.end():]
    else:
        stamp = time.strftime("%b %e %H:%M:%S").encode()
    data = data.rstrip(b"\n\x00").replace(b"\n", b" ")
    line = stamp + b" " + HOST.encode() + b" " + data + b"\n"
    if fac == 2:                      # mail
        out("/var/log/mail.log").write(line)
    if fac in (4, 10):                # auth, authpriv
        out("/var/log/auth.log").write(line)
    else:
        out("/var/log/syslog").write(line)
