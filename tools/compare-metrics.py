#!/usr/bin/env python3
"""compare-metrics -- do the committed numbers of the work tree equal those of a git revision?

Usage: tools/compare-metrics.py REV [--root DIR]
       tools/compare-metrics.py --dirs A B      (two results trees on disk, e.g. from tools/check-refactor.sh)

For every results/**/*.json (the runs/ sidecars excluded) in the work tree or in REV, compares the
"metrics" object and the "cases" array of the work-tree file with those of the file at REV (read with
`git show REV:path`), as parsed JSON values (so a reformatted file with the same numbers is equal; numbers
compare exactly, no tolerance). Prints one line per file (same / DIFF / only-here / only-in-REV) and a
summary, and exits 0 when every file is the same, 1 on any difference or any file present on one side
only, 2 on a usage or git error. Manifests (binary hashes, cache keys) are not compared on purpose: they
change with every build. Python 3 standard library only.
"""
import json
import os
import subprocess
import sys


def git(args, root):
    return subprocess.run(["git", "-C", root] + args, check=True, capture_output=True).stdout


def is_result(path):
    parts = path.split("/")
    return parts[0] == "results" and path.endswith(".json") and "runs" not in parts[1:-1]


def diff_keys(a, b, prefix=""):
    """The first few paths where two JSON values differ, for the report line."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(prefix + k + (" (missing here)" if k not in a else " (missing in REV)"))
            elif a[k] != b[k]:
                out.extend(diff_keys(a[k], b[k], prefix + k + "."))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                out.extend(diff_keys(x, y, prefix + "[%d]." % i))
    else:
        out.append("%s %r -> %r" % (prefix.rstrip("."), b, a))
    return out


def compare_file(path, a, b):
    """Prints the line of one file present on both sides (a here, b the other side); True when its "metrics"
    and "cases" are equal."""
    # A results file is an object with "metrics" / "cases"; some records (e07's llamacpp-*.json, llama-bench's
    # own output) are JSON arrays: those compare as whole values.
    va = {"metrics": a.get("metrics"), "cases": a.get("cases")} if isinstance(a, dict) else {"value": a}
    vb = {"metrics": b.get("metrics"), "cases": b.get("cases")} if isinstance(b, dict) else {"value": b}
    if va == vb:
        print("%-60s same" % path)
        return True
    d = diff_keys(va, vb)
    print("%-60s DIFF (%d values; first: %s)" % (path, len(d), "; ".join(d[:3])))
    return False


def summary(n_same, n_bad):
    """Prints the closing line; the exit status (1 on any difference or one-sided file)."""
    print("%d file(s) same, %d differ or present on one side only" % (n_same, n_bad))
    return 1 if n_bad else 0


def compare_dirs(a_root, b_root):
    """The same comparison between two results trees on disk (every <model>/<exp>/<recipe>.json of either)."""
    def files(root):
        out = set()
        for d, _, fs in os.walk(root):
            for f in fs:
                rel = os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                if rel.endswith(".json") and "runs" not in rel.split("/")[:-1]:
                    out.add(rel)
        return out
    fa, fb = files(a_root), files(b_root)
    n_same = n_bad = 0
    for path in sorted(fa | fb):
        if path not in fa or path not in fb:
            print("%-60s only in %s" % (path, a_root if path in fa else b_root))
            n_bad += 1
            continue
        with open(os.path.join(a_root, path), encoding="utf-8") as f:
            a = json.load(f)
        with open(os.path.join(b_root, path), encoding="utf-8") as f:
            b = json.load(f)
        if compare_file(path, a, b):
            n_same += 1
        else:
            n_bad += 1
    return summary(n_same, n_bad)


def main(argv):
    if len(argv) == 4 and argv[1] == "--dirs":
        return compare_dirs(argv[2], argv[3])
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    rev, root = argv[1], "."
    if len(argv) == 4 and argv[2] == "--root":
        root = argv[3]
    elif len(argv) != 2:
        print("compare-metrics: error: usage: tools/compare-metrics.py REV [--root DIR]", file=sys.stderr)
        return 2
    try:
        top = git(["rev-parse", "--show-toplevel"], root).decode().strip()
        git(["rev-parse", "--verify", rev + "^{commit}"], top)
        in_rev = [p for p in git(["ls-tree", "-r", "--name-only", rev, "--", "results"], top).decode().split("\n")
                  if p and is_result(p)]
    except subprocess.CalledProcessError as e:
        print("compare-metrics: error: git failed: %s" % e.stderr.decode().strip(), file=sys.stderr)
        return 2
    here = []
    for d, _, files in os.walk(os.path.join(top, "results")):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), top).replace(os.sep, "/")
            if is_result(rel):
                here.append(rel)
    n_same = n_bad = 0
    print("%-60s %s" % ("file", "metrics+cases vs " + rev))
    for path in sorted(set(here) | set(in_rev)):
        if path not in in_rev:
            print("%-60s only-here" % path)
            n_bad += 1
            continue
        if path not in here:
            print("%-60s only-in-REV" % path)
            n_bad += 1
            continue
        with open(os.path.join(top, path), encoding="utf-8") as f:
            a = json.load(f)
        b = json.loads(git(["show", "%s:%s" % (rev, path)], top).decode("utf-8"))
        if compare_file(path, a, b):
            n_same += 1
        else:
            n_bad += 1
    return summary(n_same, n_bad)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
