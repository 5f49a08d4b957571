#!/usr/bin/env python3
"""gptq_ref -- an independent GPTQ, written from the paper (Frantar et al. 2022, arXiv:2210.17323, Algorithm 1)
in pure Python (no numpy), to check src/quant/gptq.c on a fixed small case.

Case: W is 64 x 256 and X is 512 x 256, drawn from Python's own seeded Mersenne Twister (random.Random(seed)):
W ~ N(0, 0.02^2), X ~ N(0, 1) with every 16th input channel scaled by 8 (outlier channels, so act-order
matters). Both sides quantize W to int4-g128-sym with GPTQ, damp 0.01, static act-order (columns in descending
diag(H), each keeping its original group's scale, the scales chosen up front from the original W):

  H = 2 X^T X (one sample), dead columns none here, damping 0.01 * mean(diag H);
  U = upper Cholesky factor of H^-1 (here: Cholesky of H, triangular inverse, H^-1 = L^-T L^-1, Cholesky
      again) in double;
  for each column j in processing order: q = Q(w_j), e = (w_j - q) / U_jj, and every later column k gets
      w_k -= e U_jk immediately (the paper's unblocked form; the C side uses blocks of 128 with the lazy batch
      update, which is the same arithmetic reordered).

The grid (int4g_sym.h): scale s = bf16(amax_g / D) per row and group of 128 (D = 7.5, the GPTQ grid; --divisor 7
for AutoAWQ's symmetric rule, when the C side is built with it), code = clamp(round-half-even(w / s), -8, 7). Everything here is double except the
scale, rounded to FP32 then BF16 as the C code stores it; the C side computes in FP32, so a handful of codes
may differ where a value falls within FP32 rounding of a decision boundary, and one flip changes the error fed
to the row's later columns.

Prints: the fraction of identical codes, ||X W^T - X Q^T||^2 for the C GPTQ, this GPTQ and plain RTN.
Usage: tools/gptq-ref/gptq_ref.py [--bin build/bin/test_gptq] [--seed 1] [--divisor 7.5]
"""
import argparse
import math
import os
import random
import struct
import subprocess
import sys
import tempfile

N, K, R, G = 64, 256, 512, 128


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def bf16(x):
    """Round an FP32 value to BF16, nearest-even (finite inputs)."""
    u = struct.unpack("<I", struct.pack("<f", f32(x)))[0]
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", u))[0]


def rne(x):
    r = math.floor(x + 0.5)
    if r - x == 0.5 and r % 2 != 0:   # exact tie: to even
        r -= 1
    return r


def scales_of(W, divisor):
    S = []
    for n in range(N):
        row = []
        for g in range(K // G):
            amax = max(abs(W[n][k]) for k in range(g * G, (g + 1) * G))
            row.append(bf16(f32(f32(amax) / divisor)))
        S.append(row)
    return S


def quant(w, s):
    if s == 0:
        return 0
    return max(-8, min(7, rne(w / s)))


def cholesky(A):
    """Lower L with A = L L^T (A symmetric positive definite, list of lists)."""
    n = len(A)
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        d = A[j][j] - sum(L[j][k] * L[j][k] for k in range(j))
        if d <= 0:
            raise ValueError("not positive definite")
        L[j][j] = math.sqrt(d)
        for i in range(j + 1, n):
            L[i][j] = (A[i][j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L


def lower_inverse(L):
    n = len(L)
    M = [[0.0] * n for _ in range(n)]
    for j in range(n):
        M[j][j] = 1.0 / L[j][j]
        for i in range(j + 1, n):
            M[i][j] = -sum(L[i][k] * M[k][j] for k in range(j, i)) / L[i][i]
    return M


def gptq(W, X, S):
    # H = 2 X^T X
    H = [[0.0] * K for _ in range(K)]
    for x in X:
        for i in range(K):
            xi = 2.0 * x[i]
            if xi == 0:
                continue
            Hi = H[i]
            for j in range(i, K):
                Hi[j] += xi * x[j]
    for i in range(K):
        for j in range(i):
            H[i][j] = H[j][i]
    perm = sorted(range(K), key=lambda j: (-H[j][j], j))
    A = [[H[perm[i]][perm[j]] for j in range(K)] for i in range(K)]
    damp = 0.01 * sum(A[j][j] for j in range(K)) / K
    for j in range(K):
        A[j][j] += damp
    Li = lower_inverse(cholesky(A))            # A^-1 = Li^T Li
    Ainv = [[sum(Li[k][i] * Li[k][j] for k in range(max(i, j), K)) for j in range(K)] for i in range(K)]
    Lu = cholesky(Ainv)                          # Ainv = Lu Lu^T, U = Lu^T upper
    U = [[Lu[j][i] for j in range(K)] for i in range(K)]
    Q = [[0] * K for _ in range(N)]
    for n in range(N):
        w = [W[n][perm[j]] for j in range(K)]
        for j in range(K):
            c = perm[j]
            s = S[n][c // G]
            q = quant(w[j], s)
            Q[n][c] = q
            e = (w[j] - q * s) / U[j][j]
            Uj = U[j]
            for k in range(j + 1, K):
                w[k] -= e * Uj[k]
    return Q


def out_err(W, X, Q, S):
    e = 0.0
    for x in X:
        for n in range(N):
            a = 0.0
            for k in range(K):
                a += x[k] * (W[n][k] - Q[n][k] * S[n][k // G])
            e += a * a
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/bin/test_gptq")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--divisor", type=float, default=7.5)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    W = [[f32(rnd.gauss(0, 0.02)) for _ in range(K)] for _ in range(N)]
    X = [[f32(rnd.gauss(0, 1) * (8.0 if k % 16 == 3 else 1.0)) for k in range(K)] for _ in range(R)]
    with tempfile.TemporaryDirectory() as d:
        inp, outp = os.path.join(d, "case.txt"), os.path.join(d, "codes.txt")
        with open(inp, "w") as f:
            f.write(f"{N} {K} {R}\n")
            f.write(" ".join(repr(v) for row in W for v in row) + "\n")
            f.write(" ".join(repr(v) for row in X for v in row) + "\n")
        subprocess.run([a.bin, "--ref-case", inp, outp], check=True)
        lines = open(outp).read().split("\n")
    Qc = [[int(t) for t in lines[n].split()] for n in range(N)]
    err_c = float(lines[N].split()[1])
    S = scales_of(W, a.divisor)
    Qp = gptq(W, X, S)
    Qr = [[quant(W[n][k], S[n][k // G]) for k in range(K)] for n in range(N)]
    same = sum(Qc[n][k] == Qp[n][k] for n in range(N) for k in range(K)) / (N * K)
    err_p = out_err(W, X, Qp, S)
    err_c2 = out_err(W, X, Qc, S)
    err_r = out_err(W, X, Qr, S)
    print(f"gptq_ref: {N}x{K}, {R} rows, seed {a.seed}, int4-g128-sym scale amax/{a.divisor:g}")
    print(f"identical codes: {same:.5f} ({round(same * N * K)} of {N * K})")
    print(f"||XW^T - XQ^T||^2: C gptq {err_c:.6g} (recomputed here {err_c2:.6g}), python gptq {err_p:.6g}, "
          f"RTN {err_r:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
