#!/usr/bin/python3
"""Tiny authoritative DNS server for the Courier lab (socket only), on 127.0.0.1:53
UDP and TCP. Answers the lab zone lab.example and loopback PTRs; every other name
gets NXDOMAIN for names under lab.example and REFUSED otherwise (no upstream: the lab
has no network). Courier's own resolver (rfc1035) and couriertcpd's reverse lookup
hang when nothing answers on the nameserver, so the lab needs this."""
import socket, struct, threading, os

A, PTR, MX, AAAA, ANY = 1, 12, 15, 28, 255
ZONE = "lab.example"
RECORDS = {
    ("mailhost.lab.example", A): [socket.inet_aton("127.0.1.1")],
    ("lab.example", A): [socket.inet_aton("127.0.1.1")],
    ("lab.example", MX): ["mx"],
    ("client.lab.example", A): [socket.inet_aton("127.0.0.1")],
    # a next hop that cannot be reached (only lo is up): courieresmtp deferrals. Not 127.x:
    # every 127.x address reaches the lab's own courieresmtpd (a mail loop)
    ("relay-down.lab.example", A): [socket.inet_aton("192.0.2.25")],
    ("1.0.0.127.in-addr.arpa", PTR): ["localhost"],
    ("1.1.0.127.in-addr.arpa", PTR): ["mailhost.lab.example"],
    ("localhost", A): [socket.inet_aton("127.0.0.1")],
}
NAMES = {n for n, _ in RECORDS}

def enc_name(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.rstrip(".").split(".") if p) + b"\0"

def parse_q(d):
    i, labels = 12, []
    while d[i]:
        labels.append(d[i + 1:i + 1 + d[i]].decode(errors="replace")); i += 1 + d[i]
    qt, qc = struct.unpack("!HH", d[i + 1:i + 5])
    return ".".join(labels).lower(), qt, d[12:i + 5]

def answer(d):
    qid, flags = struct.unpack("!HH", d[:4])
    name, qt, qsec = parse_q(d)
    rr = []
    for t in ([A, MX, PTR, AAAA] if qt == ANY else [qt]):
        for v in RECORDS.get((name, t), []):
            if t == A: rdata = v
            elif t == PTR: rdata = enc_name(v)
            elif t == MX: rdata = struct.pack("!H", 10) + enc_name("mailhost.lab.example")
            else: continue
            rr.append(b"\xc0\x0c" + struct.pack("!HHIH", t, 1, 300, len(rdata)) + rdata)
    known = name in NAMES or name.endswith("in-addr.arpa") and name.startswith(("1.0.0.127", "1.1.0.127"))
    if rr or known:
        rcode = 0
    elif name == ZONE or name.endswith("." + ZONE) or name.endswith("in-addr.arpa"):
        rcode = 3   # NXDOMAIN
    else:
        rcode = 5   # REFUSED
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | rcode
    return struct.pack("!HHHHHH", qid, rflags, 1, len(rr), 0, 0) + qsec + b"".join(rr)

def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
    while True:
        d, a = s.recvfrom(4096)
        try: s.sendto(answer(d), a)
        except Exception: pass

def tcp_one(c):
    try:
        n = struct.unpack("!H", c.recv(2))[0]; d = b""
        while len(d) < n: d += c.recv(n - len(d))
        r = answer(d); c.sendall(struct.pack("!H", len(r)) + r)
    except Exception: pass
    finally: c.close()

def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 53)); s.listen(16)
    while True:
        c, _ = s.accept(); threading.Thread(target=tcp_one, args=(c,), daemon=True).start()

threading.Thread(target=tcp, daemon=True).start()
with open("/run/lab-dnsd.pid", "w") as p: p.write("%d\n" % os.getpid())
udp()
