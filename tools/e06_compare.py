#!/usr/bin/env python3
"""e06_compare -- the before / after table of the packed W4A16 GEMVs for the e06 README and reports: per shape,
kernel and M, the fraction of the large-copy bandwidth (frac_copy) before (an older bench.jsonl) and after (the
current one), and after, the fraction of the same-size copy (frac_copy_same) and the fraction the 0.90 target
is judged by (frac_target, with its reference: L = large copy, S = same-size copy). Numbers are copied from the
records (3 decimals), never typed; the default launch, isolated calls (L2 flushed) only. The old records carry
no same-size copy; "before, same~" divides this run's 4 KiB-aligned same-size copy time (below) by the old
kernel time (a cross-run estimate, marked ~). "after: same, 4K" divides the same-size copy time of the 4 KiB-aligned sizes of the same run
(interpolated linearly in bytes between the nearest aligned sizes measured; an exact measurement where the
case's own copy was aligned) by the kernel time: session 19's records timed cudaMemcpyAsync on bytes / 2
unrounded, which takes a slower path for sizes that are not multiples of 4 KiB; "target, 4K" is the verdict
fraction on that reference (same-size below the line, large copy above it). With --summary, prints instead the
count of M = 1 pairs of every model in the given folders that reach 0.90 on each reference.
Usage: python3 tools/e06_compare.py OLD/bench.jsonl NEW/bench.jsonl
       python3 tools/e06_compare.py --summary results/*@H200/e06-kernels/bench.jsonl"""
import bisect
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


def aligned_reference(paths):
    """Same-size copy times of the 4 KiB-aligned sizes in the given records, and the copy ceiling."""
    pts, copy = {}, None
    for p in paths:
        for line in open(p):
            r = json.loads(line)
            if r.get("mode") == "ceiling" and r["kernel"] == "copy":
                copy = r["gbps"]
            if "copy_same_ms" in r and (int(r["bytes"] // 2) // 16 * 16) % 4096 == 0:
                pts[r["bytes"]] = r["copy_same_ms"]
    xs = sorted(pts)

    def t(b):
        if b in pts:
            return pts[b]
        i = bisect.bisect_left(xs, b)
        if i == 0:
            return pts[xs[0]]
        if i == len(xs):
            return pts[xs[-1]] * b / xs[-1]
        b0, b1 = xs[i - 1], xs[i]
        return pts[b0] + (pts[b1] - pts[b0]) * (b - b0) / (b1 - b0)
    return t, copy


def verdict4k(r, t4k, copy):
    ta = t4k(r["bytes"])
    fs = ta / r["median_ms"]
    small = r["bytes"] / (ta * 1e-3) / 1e9 < 0.90 * copy
    return fs, (fs if small else r["frac_copy"]), ("S" if small else "L")


def summary(paths):
    t4k, copy = aligned_reference(paths)
    met = met4 = tot = 0
    for p in paths:
        for line in open(p):
            r = json.loads(line)
            if r.get("mode") != "isolated" or r.get("depth") != 1 or r["M"] != 1 or "frac_target" not in r:
                continue
            tot += 1
            met += r["frac_target"] >= 0.90
            met4 += verdict4k(r, t4k, copy)[1] >= 0.90
    print("M = 1 packed pairs: %d; reach 0.90 as recorded: %d; against the 4 KiB-aligned copies: %d" % (tot, met, met4))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--summary":
        summary(sys.argv[2:])
        return
    if len(sys.argv) < 3:
        sys.exit("usage: e06_compare.py OLD/bench.jsonl NEW/bench.jsonl")
    old = load(sys.argv[1], (0, 2))   # the old default: pipeline depth 2
    new = load(sys.argv[2], (0, 1))   # the new default: depth 1
    shapes = []
    for (layer, n, k, _, _) in new:
        if (layer, n, k) not in shapes:
            shapes.append((layer, n, k))
    t4k, copy = aligned_reference([sys.argv[2]])
    print("| layer | N x K | kernel | M | before: copy | before: same~ | after: copy | after: same | target (ref) "
          "| after: same, 4K | target, 4K (ref) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for layer, n, k in shapes:
        for kern in W4:
            for m in (1, 4, 8):
                r = new.get((layer, n, k, kern, m))
                if r is None:
                    continue
                o = old.get((layer, n, k, kern, m))
                b_copy = "%.3f" % o["frac_copy"] if o else "-"
                b_same = "%.3f" % (t4k(r["bytes"]) / o["median_ms"]) if o else "-"
                ref = "L" if r["target_ref"] == "large copy" else "S"
                fs4, ft4, ref4 = verdict4k(r, t4k, copy)
                print("| %s | %d x %d | %s | %d | %s | %s | %.3f | %.3f | %.3f (%s) | %.3f | %.3f (%s) |" % (
                    layer, n, k, kern, m, b_copy, b_same, r["frac_copy"], r["frac_copy_same"], r["frac_target"], ref,
                    fs4, ft4, ref4))


if __name__ == "__main__":
    main()
