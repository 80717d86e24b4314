#!/usr/bin/env python3
"""Measure the signature catalogue against a labelled corpus of real mail-log lines.

The corpus (`public-lines.jsonl`, one JSON object a line with `line`, `label`, `note`,
`source`) lives beside the project, in ../shared/corpus/, and is never copied into this
repository. Every line is fed to `mailsleuth logs classify - --format json`; the category
of the signature that won is compared with the corpus label.

Problem lines are those labelled neither `ok` nor `other`. Printed:

- per category: problem lines, recognised with the right category, wrong category,
  unrecognised (no signature), and the recall;
- overall recall, the share of problem lines left unrecognised, the false-alarm rate (an
  `ok` line given a problem category) and how `other` lines fared;
- the most common mistakes (label -> category, with a sample note).

With --by-source (the generalisation figure): the sources (`source`: one project, issue
thread or page) are dealt into K folds (--folds, default 5; all lines of one source in the
same fold); for each fold, of its problem lines:

- `generic`: the share the generic layers alone (`logs classify --no-signatures`: program
  readings and structure, no exact signature) put in the right category;
- `unseen`: the share the full classifier puts in the right category, counting only lines
  whose text matched no example line of the catalogue (message compared after the syslog
  prefix, digits masked).

The classifier is not retrained per fold (its catalogue is hand-written): the folds show how
the figures vary from one group of sources to another. Lines with a label's `alt` category
count as right only in the "right or alt" figure.

Usage:
    scripts/eval-corpus.py [CORPUS] [--check] [--mistakes N] [--show-misses] [--by-source [--folds K]]

The binary is `$MAILSLEUTH`, else target/release/mailsleuth or target/debug/mailsleuth,
whichever was built last (the knowledge base is compiled into it).
Exit status 0, or with --check: 1 when recall < 90 % or false alarms >= 2 %;
2 when it cannot measure (no corpus, no binary, the binary fails).
Standard library only.
"""

import argparse
import collections
import glob
import json
import os
import re
import signal
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.join(REPO, "..", "shared", "corpus", "public-lines.jsonl")
NOT_PROBLEMS = ("ok", "other")
RECALL_TARGET = 0.90
FALSE_ALARM_LIMIT = 0.02


def die(message):
    print(f"eval-corpus: {message}", file=sys.stderr)
    sys.exit(2)


def find_binary():
    """$MAILSLEUTH, else the more recently built of target/release and target/debug (the
    knowledge base is compiled in: an old release build would measure an old catalogue)."""
    env = os.environ.get("MAILSLEUTH")
    if env:
        return env
    found = [
        p
        for p in (os.path.join(REPO, "target", profile, "mailsleuth") for profile in ("release", "debug"))
        if os.access(p, os.X_OK)
    ]
    if not found:
        die("no mailsleuth binary: set $MAILSLEUTH or run `cargo build`")
    return max(found, key=os.path.getmtime)


def load_corpus(path):
    rows = []
    if not os.path.exists(path):
        die(f"no corpus at {path} (pass its path as the first argument)")
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            text = text.strip()
            if not text:
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as e:
                die(f"{path}:{n}: not JSON: {e}")
            # One log line must stay one input line for the classifier.
            row["line"] = row["line"].replace("\r", " ").replace("\n", " ")
            rows.append(row)
    return rows


def classify(binary, lines, generic_only=False):
    data = "".join(line + "\n" for line in lines)
    extra = ["--no-signatures"] if generic_only else []
    try:
        proc = subprocess.run(
            [binary, "logs", "classify", "-", "--format", "json"] + extra,
            input=data.encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as e:
        die(f"cannot run {binary}: {e}")
    if proc.returncode != 0:
        die(f"{binary} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    out = {}
    for text in proc.stdout.decode("utf-8").splitlines():
        v = json.loads(text)
        out[v["line"]] = v
    if len(out) != len(lines):
        die(f"fed {len(lines)} lines, got {len(out)} answers")
    return [out[i + 1] for i in range(len(lines))]


def pct(a, b):
    return 100.0 * a / b if b else 0.0


class Tally:
    """What the classifier made of the corpus, per label."""

    def __init__(self):
        self.per = collections.defaultdict(collections.Counter)  # problem label -> counts
        self.confusion = collections.Counter()  # (label, category) -> lines
        self.sample = {}  # (label, category) -> a note
        self.misses = []  # (label, category, signature, note)
        self.ok_total = self.ok_alarm = self.ok_recognised = 0
        self.recognised = 0  # problem lines given a problem category (right or not)
        self.right_or_alt = 0
        self.layers = collections.Counter()  # layer of the right answers
        self.other_total = self.other_problem = 0

    def miss(self, label, got, signature, note):
        self.confusion[(label, got)] += 1
        self.sample.setdefault((label, got), note)
        self.misses.append((label, got, signature, note))

    def add(self, row, res):
        label, note = row["label"], row["note"]
        got = res.get("category") or "-"
        is_problem = got not in NOT_PROBLEMS and got != "-"
        if label == "ok":
            self.ok_total += 1
            self.ok_recognised += got == "ok"
            if is_problem:
                self.ok_alarm += 1
                self.miss(label, got, res.get("signature"), note)
            return
        if label == "other":
            self.other_total += 1
            if is_problem:
                self.other_problem += 1
                self.miss(label, got, res.get("signature"), note)
            return
        c = self.per[label]
        c["total"] += 1
        self.recognised += is_problem
        if got == label or (got != "-" and got == row.get("alt")):
            self.right_or_alt += 1
        if got == label:
            c["right"] += 1
            self.layers[res.get("layer") or "-"] += 1
            return
        c["unrecognised" if got == "-" else "wrong"] += 1
        self.miss(label, got, res.get("signature"), note)

    def figures(self):
        total = sum(c["total"] for c in self.per.values())
        right = sum(c["right"] for c in self.per.values())
        unrec = sum(c["unrecognised"] for c in self.per.values())
        return total, right, unrec


def report(t, args, corpus_lines, binary):
    total, right, unrec = t.figures()
    print(f"corpus: {os.path.relpath(args.corpus)} ({corpus_lines} lines)")
    print(f"binary: {os.path.relpath(binary)}")
    print()
    print(f"{'category':<28} {'lines':>5} {'right':>5} {'wrong':>5} {'unrec':>5} {'recall':>7}")
    for label in sorted(t.per, key=lambda k: (-t.per[k]["total"], k)):
        c = t.per[label]
        print(f"{label:<28} {c['total']:>5} {c['right']:>5} {c['wrong']:>5} {c['unrecognised']:>5} {pct(c['right'], c['total']):>6.1f}%")
    print()
    print(f"problem lines:      {total}")
    print(f"recall:             {right}/{total} = {pct(right, total):.1f}%  (target >= {RECALL_TARGET:.0%})")
    print(f"unrecognised:       {unrec}/{total} = {pct(unrec, total):.1f}%  (no reading at all)")
    print(f"recognised as a problem: {t.recognised}/{total} = {pct(t.recognised, total):.1f}%  (any category but ok/other)")
    print(f"right or alt:       {t.right_or_alt}/{total} = {pct(t.right_or_alt, total):.1f}%  (the label's alternative category counted too)")
    print("right answers by layer: " + ", ".join(f"{k} {v}" for k, v in sorted(t.layers.items())))
    print(f"false alarms (ok):  {t.ok_alarm}/{t.ok_total} = {pct(t.ok_alarm, t.ok_total):.1f}%  (target < {FALSE_ALARM_LIMIT:.0%})")
    print(f"ok lines recognised as ok: {t.ok_recognised}/{t.ok_total} (the rest: no signature, which is fine)")
    print(f"'other' lines given a problem category: {t.other_problem}/{t.other_total} = {pct(t.other_problem, t.other_total):.1f}%")
    if t.confusion:
        print()
        print(f"most common mistakes (label -> category; '-' = unrecognised), top {args.mistakes}:")
        for (label, got), n in t.confusion.most_common(args.mistakes):
            print(f"  {n:>3}  {label} -> {got}   e.g. {t.sample[(label, got)]}")
    if args.show_misses:
        print()
        print("every miss (label -> category [signature]: note):")
        for label, got, sig, note in sorted(t.misses, key=lambda m: (m[0], m[1], m[3])):
            print(f"  {label} -> {got} [{sig or '-'}]: {note}")


def example_messages():
    """The messages of every example line of the catalogue, normalised (see `norm`)."""
    out = set()
    pat = re.compile(r'\bline:\s*"((?:[^"\\]|\\.)*)"')
    for path in glob.glob(os.path.join(REPO, "knowledge", "signatures", "**", "*.ron"), recursive=True):
        with open(path, encoding="utf-8") as f:
            for m in pat.finditer(f.read()):
                text = m.group(1).replace('\\"', '"').replace("\\\\", "\\")
                out.add(norm(text))
    return out


TAG = re.compile(r"^(?:.*?\s)?[\w/.-]+(?:\[\d+\])?: (.*)$")


def norm(line):
    """The message of a line (after the first `tag[pid]: `), digits masked, spaces squeezed."""
    m = TAG.match(line)
    text = m.group(1) if m else line
    return re.sub(r"\s+", " ", re.sub(r"\d+", "0", text)).strip()


def by_source(rows, binary, folds):
    full = classify(binary, [r["line"] for r in rows])
    generic = classify(binary, [r["line"] for r in rows], generic_only=True)
    seen = example_messages()
    sources = sorted({r["source"] for r in rows})
    fold_of = {src: i % folds for i, src in enumerate(sources)}
    per = [collections.Counter() for _ in range(folds)]
    for row, f, g in zip(rows, full, generic):
        if row["label"] in NOT_PROBLEMS:
            continue
        c = per[fold_of[row["source"]]]
        c["problems"] += 1
        c["generic_right"] += g.get("category") == row["label"]
        if norm(row["line"]) not in seen:
            c["unseen"] += 1
            c["unseen_right"] += f.get("category") == row["label"]
    print()
    print(f"by source: {len(sources)} sources in {folds} folds (all lines of a source in one fold)")
    print(f"{'fold':>4} {'sources':>7} {'problems':>8} {'generic layers alone':>21} {'unseen text, full':>21}")
    tot = collections.Counter()
    g_shares, u_shares = [], []
    for i, c in enumerate(per):
        n_src = sum(1 for s in sources if fold_of[s] == i)
        tot.update(c)
        g_shares.append(pct(c["generic_right"], c["problems"]))
        u_shares.append(pct(c["unseen_right"], c["unseen"]))
        print(f"{i + 1:>4} {n_src:>7} {c['problems']:>8} {c['generic_right']:>8}/{c['problems']:<4} {g_shares[-1]:>6.1f}% {c['unseen_right']:>8}/{c['unseen']:<4} {u_shares[-1]:>6.1f}%")
    print(f"{'all':>4} {len(sources):>7} {tot['problems']:>8} {tot['generic_right']:>8}/{tot['problems']:<4} {pct(tot['generic_right'], tot['problems']):>6.1f}% {tot['unseen_right']:>8}/{tot['unseen']:<4} {pct(tot['unseen_right'], tot['unseen']):>6.1f}%")
    print(f"fold range: generic layers alone {min(g_shares):.1f}-{max(g_shares):.1f}%, unseen text {min(u_shares):.1f}-{max(u_shares):.1f}%")


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` is not an error
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--check", action="store_true", help="exit 1 when below target")
    ap.add_argument("--mistakes", type=int, default=20, help="how many confusions to list")
    ap.add_argument("--show-misses", action="store_true", help="print the note of every miss")
    ap.add_argument("--by-source", action="store_true", help="k-fold by source: the generalisation figures")
    ap.add_argument("--folds", type=int, default=5, help="folds for --by-source (default 5)")
    args = ap.parse_args()

    rows = load_corpus(args.corpus)
    binary = find_binary()
    results = classify(binary, [r["line"] for r in rows])
    t = Tally()
    for row, res in zip(rows, results):
        t.add(row, res)
    report(t, args, len(rows), binary)
    if args.by_source:
        by_source(rows, binary, max(2, args.folds))

    total, right, _ = t.figures()
    recall = right / total if total else 0.0
    false_alarms = t.ok_alarm / t.ok_total if t.ok_total else 0.0
    if args.check and (recall < RECALL_TARGET or false_alarms >= FALSE_ALARM_LIMIT):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
