#!/usr/bin/env python3
"""verify-stats -- the largest relative change of each metric between the committed results and a tree
recomputed on another backend (tools/verify-backends.sh keeps one), grouped by experiment and recipe class
(weight-only: bf16, *-w4a16, int4 RTN / GPTQ / AWQ; activation-quantized: everything else). The data behind the
tolerances in src/core/verify.c. Usage: tools/verify-stats.py COMMITTED_ROOT FRESH_ROOT"""
import fnmatch, glob, json, os, re, sys

WEIGHT_ONLY = ["bf16", "*-w4a16", "rtn-int4*", "gptq*", "awq*"]

def flat(j):
    out = dict(j.get("metrics", {}))
    for c in j.get("cases", []) or []:
        for k, v in (c.get("metrics") or {}).items():
            out[c.get("name", "?") + "/" + k] = v
    return out

def main(committed, fresh):
    worst = {}
    for f in sorted(glob.glob(os.path.join(fresh, "*", "*", "*.json"))):
        model, exp, name = f.split(os.sep)[-3:]
        c = os.path.join(committed, model, exp, name)
        if not os.path.exists(c):
            continue
        a, b = flat(json.load(open(c))), flat(json.load(open(f)))
        recipe = name[:-5]
        cls = "weight-only" if any(fnmatch.fnmatch(recipe, p) for p in WEIGHT_ONLY) else "act-quant"
        for k, v in a.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not isinstance(b.get(k), (int, float)):
                continue
            key = (exp, cls, re.sub(r"^[^/]*/", "case/", k))
            rel = abs(b[k] - v) / abs(v) if v else abs(b[k] - v)
            if rel >= worst.get(key, (-1, ""))[0]:
                worst[key] = (rel, recipe)
    print("| experiment | recipes | metric | max relative change | recipe |\n|---|---|---|---|---|")
    for (exp, cls, k), (rel, recipe) in sorted(worst.items()):
        print(f"| {exp} | {cls} | {k} | {rel:.3g} | {recipe} |")

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
