#!/usr/bin/env python3
"""Make a lab bundle fit to commit as a replay fixture (tests/scenarios/*/bundle.json).

The lab copies the host's /etc/passwd and /etc/group and shares the host's mount table, so a
bundle collected inside it carries facts about the machine that ran the lab. This keeps
system accounts (uid < 1000), nobody and the lab user, and only the mounts a mail host
cares about (/, /tmp, /var, /home, /etc, /run), and drops the observations about the homes
and mailboxes of the accounts it removed. Everything else is left exactly as observed.

The Courier lab's bundles (tests/lab/courier) go through it too: their root is an overlay
whose layer paths (on the machine that ran the lab) are replaced.

Usage: tests/lab/scrub-bundle.py IN.json OUT.json [LAB_USER]
"""
import json
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
lab_user = sys.argv[3] if len(sys.argv) > 3 else "alice"
b = json.load(open(src))
# Users removed from passwd: drop the observations made about their home and mailbox too.
removed = []
for o in b["observations"]:
    if o["source"].get("path") == "/etc/passwd" and o["payload"].get("status") == "text":
        for line in o["payload"]["text"].splitlines():
            f = line.split(":")
            if len(f) >= 6 and f[2].isdigit() and int(f[2]) >= 1000 and f[0] not in ("nobody", lab_user):
                removed += [f[5], "/var/mail/" + f[0], "/var/spool/mail/" + f[0]]
def about_removed(o):
    path = o["source"].get("path") or ""
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in removed if r not in ("", "/"))
b["observations"] = [o for o in b["observations"] if not about_removed(o)]
keep_mounts = ("/tmp", "/var", "/home", "/etc", "/run")
for o in b["observations"]:
    path = o["source"].get("path")
    p = o["payload"]
    if p.get("status") != "text":
        continue
    lines = p["text"].splitlines(keepends=True)
    if path in ("/etc/passwd", "/etc/group"):
        def keep(line):
            f = line.split(":")
            if len(f) < 3 or not f[2].isdigit():
                return False
            return int(f[2]) < 1000 or f[0] in ("nobody", "nogroup", lab_user)
        p["text"] = "".join(l for l in lines if keep(l))
    elif path == "/proc/self/mounts":
        def keep(line):
            f = line.split()
            return len(f) > 1 and (f[1] == "/" or f[1].startswith(keep_mounts))
        p["text"] = "".join(l for l in lines if keep(l))
        # The Courier lab's root is an overlay whose layers live on the machine that ran it.
        p["text"] = re.sub(r"(lowerdir|upperdir|workdir)=[^,\s]*", r"\1=/lab-scratch/\1", p["text"])
json.dump(b, open(dst, "w"), indent=1, sort_keys=False)
