#!/usr/bin/env python3
"""e06_compare -- the before / after table of the packed W4A16 GEMVs for the e06 README and reports: per shape,
kernel and M, the fraction of the large-copy bandwidth (frac_copy) before (an older bench.jsonl) and after (the
current one), and after, the fraction of the same-size copy (frac_copy_same) and the fraction the 0.90 target
is judged by (frac_target, with its reference: L = large copy, S = same-size copy). Numbers are copied from the
records (3 decimals), never typed; the default launch, isolated calls (L2 flushed) only. The old records carry
no same-size copy; "before, same" divides this run's same-size copy time by the old kernel time (a cross-run
estimate, marked ~).
Usage: python3 tools/e06_compare.py OLD/bench.jsonl NEW/bench.jsonl [MODEL]"""
import json
import sys

W4 = ["nvfp4", "mxfp4", "int4-g32-sym", "int4-g64-sym", "int4-g128-sym", "int4-g32-asym", "int4-g64-asym",
      "int4-g128-asym", "cublas-bf16", "cublaslt-fp8"]


def load(path, default_depths):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("mode") != "isolated" or r.get("depth") not in default_depths:
            continue
        out[(r["layer"], r["N"], r["K"], r["kernel"], r["M"])] = r
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: e06_compare.py OLD/bench.jsonl NEW/bench.jsonl")
    old = load(sys.argv[1], (0, 2))   # the old default: pipeline depth 2
    new = load(sys.argv[2], (0, 1))   # the new default: depth 1
    shapes = []
    for (layer, n, k, _, _) in new:
        if (layer, n, k) not in shapes:
            shapes.append((layer, n, k))
    print("| layer | N x K | kernel | M | before: copy | before: same~ | after: copy | after: same | target (ref) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for layer, n, k in shapes:
        for kern in W4:
            for m in (1, 4, 8):
                r = new.get((layer, n, k, kern, m))
                if r is None:
                    continue
                o = old.get((layer, n, k, kern, m))
                b_copy = "%.3f" % o["frac_copy"] if o else "-"
                b_same = "%.3f" % (r["copy_same_ms"] / o["median_ms"]) if o else "-"
                ref = "L" if r["target_ref"] == "large copy" else "S"
                print("| %s | %d x %d | %s | %d | %s | %s | %.3f | %.3f | %.3f (%s) |" % (
                    layer, n, k, kern, m, b_copy, b_same, r["frac_copy"], r["frac_copy_same"], r["frac_target"], ref))


if __name__ == "__main__":
    main()
