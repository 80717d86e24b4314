#!/usr/bin/python3
"""Minimal SMTP client (socket only; the lab root has python3-minimal).
usage: smtpsend.py HOST PORT FROM TO SIZE TAG [SOURCE_ADDRESS]
Sends one message of about SIZE bytes; prints the server's replies. SOURCE_ADDRESS: connect
from that local address (127.0.0.2: a client Courier's smtpaccess does not let relay)."""
import socket, sys, time, os

host, port, mfrom, rcpt, size, tag = sys.argv[1:7]
size = int(size)

def msg():
    hdr = ("From: Lab Sender <%s>\r\nTo: <%s>\r\nSubject: %s (%d bytes)\r\n"
           "Message-ID: <%s.%d@lab.example>\r\nDate: %s\r\n\r\n"
           % (mfrom, rcpt, tag, size, tag, os.getpid(),
              time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())))
    body = []
    n = len(hdr)
    i = 0
    while n < size:
        l = ("%s line %05d " % (tag, i)).ljust(70, "x") + "\r\n"
        body.append(l); n += len(l); i += 1
    return (hdr + "".join(body)).encode()

source = (sys.argv[7], 0) if len(sys.argv) > 7 else None
s = socket.create_connection((host, int(port)), timeout=30, source_address=source)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode(errors="replace").rstrip("\r\n")
        lines.append(l)
        if len(l) < 4 or l[3] != "-":
            break
    print("S: " + " | ".join(lines))
    return int(lines[-1][:3])
def cmd(c):
    print("C: " + c)
    s.sendall(c.encode() + b"\r\n")
    return reply()

rc = 0
if reply() != 220: sys.exit(1)
cmd("EHLO client.lab.example")
if cmd("MAIL FROM:<%s>" % mfrom) // 100 != 2: rc = 1
elif cmd("RCPT TO:<%s>" % rcpt) // 100 != 2: rc = 1
elif cmd("DATA") == 354:
    data = msg().replace(b"\r\n.", b"\r\n..")
    s.sendall(data + b"\r\n.\r\n")
    print("C: <%d bytes>" % len(data))
    if reply() // 100 != 2: rc = 1
else:
    rc = 1
cmd("QUIT")
sys.exit(rc)
