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

Usage:
    scripts/eval-corpus.py [CORPUS] [--check] [--mistakes N] [--show-misses]

The binary is `$MAILSLEUTH`, else target/release/mailsleuth, else target/debug/mailsleuth.
Exit status 0, or with --check: 1 when recall < 90 % or false alarms >= 2 %.
Standard library only.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.join(REPO, "..", "shared", "corpus", "public-lines.jsonl")
NOT_PROBLEMS = ("ok", "other")
RECALL_TARGET = 0.90
FALSE_ALARM_LIMIT = 0.02


def find_binary():
    env = os.environ.get("MAILSLEUTH")
    if env:
        return env
    for profile in ("release", "debug"):
        p = os.path.join(REPO, "target", profile, "mailsleuth")
        if os.access(p, os.X_OK):
            return p
    sys.exit("eval-corpus: no mailsleuth binary: set $MAILSLEUTH or run `cargo build`")


def load_corpus(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            text = text.strip()
            if not text:
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as e:
                sys.exit(f"eval-corpus: {path}:{n}: not JSON: {e}")
            # One log line must stay one input line for the classifier.
            row["line"] = row["line"].replace("\r", " ").replace("\n", " ")
            rows.append(row)
    return rows


def classify(binary, lines):
    data = "".join(line + "\n" for line in lines)
    proc = subprocess.run(
        [binary, "logs", "classify", "-", "--format", "json"],
        input=data.encode("utf-8"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"eval-corpus: {binary} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    out = {}
    for text in proc.stdout.decode("utf-8").splitlines():
        v = json.loads(text)
        out[v["line"]] = v
    if len(out) != len(lines):
        sys.exit(f"eval-corpus: fed {len(lines)} lines, got {len(out)} answers")
    return [out[i + 1] for i in range(len(lines))]


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--check", action="store_true", help="exit 1 when below target")
    ap.add_argument("--mistakes", type=int, default=20, help="how many confusions to list")
    ap.add_argument("--show-misses", action="store_true", help="print the note of every miss")
    args = ap.parse_args()

    rows = load_corpus(args.corpus)
    results = classify(find_binary(), [r["line"] for r in rows])

    per = collections.defaultdict(collections.Counter)
    confusion = collections.Counter()
    sample = {}
    misses = []
    ok_total = ok_alarm = other_total = other_problem = 0
    for row, res in zip(rows, results):
        label = row["label"]
        got = res.get("category") or "-"
        if label == "ok":
            ok_total += 1
            if got not in NOT_PROBLEMS and got != "-":
                ok_alarm += 1
                confusion[(label, got)] += 1
                sample.setdefault((label, got), row["note"])
                misses.append((label, got, res.get("signature"), row["note"]))
            continue
        if label == "other":
            other_total += 1
            if got not in NOT_PROBLEMS and got != "-":
                other_problem += 1
                confusion[(label, got)] += 1
                sample.setdefault((label, got), row["note"])
                misses.append((label, got, res.get("signature"), row["note"]))
            continue
        c = per[label]
        c["total"] += 1
        if got == label:
            c["right"] += 1
        elif got == "-":
            c["unrecognised"] += 1
            confusion[(label, got)] += 1
            sample.setdefault((label, got), row["note"])
            misses.append((label, got, None, row["note"]))
        else:
            c["wrong"] += 1
            confusion[(label, got)] += 1
            sample.setdefault((label, got), row["note"])
            misses.append((label, got, res.get("signature"), row["note"]))

    total = sum(c["total"] for c in per.values())
    right = sum(c["right"] for c in per.values())
    unrec = sum(c["unrecognised"] for c in per.values())
    recall = right / total if total else 0.0
    false_alarms = ok_alarm / ok_total if ok_total else 0.0

    print(f"corpus: {os.path.relpath(args.corpus)} ({len(rows)} lines)")
    print()
    print(f"{'category':<28} {'lines':>5} {'right':>5} {'wrong':>5} {'unrec':>5} {'recall':>7}")
    for label in sorted(per, key=lambda k: (-per[k]["total"], k)):
        c = per[label]
        print(f"{label:<28} {c['total']:>5} {c['right']:>5} {c['wrong']:>5} {c['unrecognised']:>5} {pct(c['right'], c['total']):>6.1f}%")
    print()
    print(f"problem lines:      {total}")
    print(f"recall:             {right}/{total} = {pct(right, total):.1f}%  (target >= {RECALL_TARGET:.0%})")
    print(f"unrecognised:       {unrec}/{total} = {pct(unrec, total):.1f}%")
    print(f"false alarms (ok):  {ok_alarm}/{ok_total} = {pct(ok_alarm, ok_total):.1f}%  (target < {FALSE_ALARM_LIMIT:.0%})")
    print(f"'other' lines given a problem category: {other_problem}/{other_total} = {pct(other_problem, other_total):.1f}%")
    if confusion:
        print()
        print(f"most common mistakes (label -> category; '-' = unrecognised), top {args.mistakes}:")
        for (label, got), n in confusion.most_common(args.mistakes):
            print(f"  {n:>3}  {label} -> {got}   e.g. {sample[(label, got)]}")
    if args.show_misses:
        print()
        print("every miss (label -> category [signature]: note):")
        for label, got, sig, note in sorted(misses, key=lambda m: (m[0], m[1], m[3])):
            print(f"  {label} -> {got} [{sig or '-'}]: {note}")

    if args.check and (recall < RECALL_TARGET or false_alarms >= FALSE_ALARM_LIMIT):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
