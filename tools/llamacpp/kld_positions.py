#!/usr/bin/env python3
"""KL(ref || q) and top-1 agreement from two sets of QLLOGITS files (`ql logits -o`), on llama-perplexity's
scored positions: in each window of T tokens, the logits at positions T/2 .. T-2 (its --kl-divergence scores
the second half of each chunk). Pure Python (no numpy here), double precision.
Usage: kld_positions.py REF1.qll[,REF2.qll...] Q1.qll[,Q2.qll...]   (one file per window, in the same order)
Prints: mean_kld se_kld median_kld p99_kld same_top se_same_top tokens (se = one standard error, as
llama-perplexity's "±"; quantiles type 7)."""
import math, struct, sys
from array import array


def read(path):
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic != b"QLLOGITS":
            sys.exit("kld_positions.py: error: %s: not a QLLOGITS file" % path)
        ver, n_seqs, V, D, n_hidden = struct.unpack("<5I", f.read(20))
        seqs = []
        for _ in range(n_seqs):
            (T,) = struct.unpack("<I", f.read(4))
            f.read(4 * T)
            lg = array("f")
            lg.fromfile(f, T * V)
            f.seek(4 * n_hidden * T * D, 1)
            seqs.append((T, lg))
        return V, seqs


def logsoftmax(z):
    m = max(z)
    s = math.log(math.fsum(math.exp(v - m) for v in z))
    return [v - m - s for v in z]


def quantile(xs, p):
    xs = sorted(xs)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    return xs[lo] + (h - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])


kl, same = [], []
for rp, qp in zip(sys.argv[1].split(","), sys.argv[2].split(",")):
    V, rs = read(rp)
    V2, qs = read(qp)
    assert V == V2
    for (T, a), (T2, b) in zip(rs, qs):
        assert T == T2
        for t in range(T // 2, T - 1):
            za, zb = a[t * V:(t + 1) * V], b[t * V:(t + 1) * V]
            la, lb = logsoftmax(za), logsoftmax(zb)
            kl.append(math.fsum(math.exp(x) * (x - y) for x, y in zip(la, lb)))
            same.append(1.0 if max(range(V), key=za.__getitem__) == max(range(V), key=zb.__getitem__) else 0.0)
n = len(kl)
mk = math.fsum(kl) / n
sk = math.sqrt(math.fsum((x - mk) ** 2 for x in kl) / (n - 1) / n)
ms = math.fsum(same) / n
ss = math.sqrt(ms * (1 - ms) / (n - 1))
print("%.6g %.6g %.6g %.6g %.6g %.6g %d" % (mk, sk, quantile(kl, 0.5), quantile(kl, 0.99), ms, ss, n))
