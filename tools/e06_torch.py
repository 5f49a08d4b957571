#!/usr/bin/env python3
"""e06_torch -- the PyTorch peers of the e06-kernels benchmark: torch.matmul (BF16) and torch._scaled_mm
(FP8 E4M3 x E4M3 -> BF16, per-tensor FP32 scales) at the shapes bench_e06 measured, on the same GPU right after
it, timed as bench_e06 times ("isolated": 256 MiB read before every run to flush the L2, CUDA events around
one call, median / p10 / p90 of 50 runs after 5 warm-ups; seeded random inputs, never zeros).

Usage: python3 tools/e06_torch.py DIR      (DIR: the --out folder of bench_e06)
Reads DIR/<model>@<gpu>/e06-kernels/bench.jsonl (its shapes and the ceilings of that run: copy GB/s, cuBLAS BF16
and cuBLASLt FP8 GEMM TFLOP/s) and writes torch.jsonl beside it, one JSON object per case, with the same
fields (bytes, flops, gbps, tflops, frac_copy, frac_compute, roofline_frac, and the same-size copy as bench_e06
records it: copy_same_ms, a device copy whose bytes read + written equal the case's, timed here the same way
with torch's copy_, then copy_same_gbps, frac_copy_same, frac_target, target_ref). torch._scaled_mm needs every
dimension a multiple of 16: M = 1 and 8 run padded to 16 rows, noted in the line. Runs on the GPU machine only
(it is not part of make: the figures read the committed lines)."""
import glob
import json
import os
import statistics
import sys

import torch

M_LIST = (1, 8, 64, 512, 4096)
REPS = 50


def time_isolated(fn, flush):
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ts = []
    for it in range(REPS + 5):
        flush.sum()   # reads 256 MiB: the L2 then holds clean lines of it
        e0.record()
        fn()
        e1.record()
        e1.synchronize()
        if it >= 5:
            ts.append(e0.elapsed_time(e1))
    ts.sort()
    return ts[REPS // 2], ts[REPS // 10], ts[REPS * 9 // 10]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: e06_torch.py DIR")
    if not torch.cuda.is_available():
        print("SKIP: no CUDA device")
        sys.exit(77)
    flush = torch.ones(64 << 20, dtype=torch.float32, device="cuda")
    # Source and destination of the same-size copies: two separate 1.5 GiB buffers (the largest case, the
    # lm_head in BF16 at M = 4096, moves 1.25 GB: 0.62 GB each way).
    csrc = torch.randint(0, 256, (3 << 29,), dtype=torch.uint8, device="cuda")
    cdst = torch.empty(3 << 29, dtype=torch.uint8, device="cuda")
    memo = {}

    def same_size_copy(nbytes):   # device copy of nbytes / 2 (read + write = nbytes), timed as the cases
        if nbytes not in memo:
            n = (int(nbytes // 2) + 4095) // 4096 * 4096   # 4 KiB multiples: see bench_e06.cu same_size_copy
            src, dst = csrc[:n], cdst[:n]
            memo[nbytes] = time_isolated(lambda: dst.copy_(src), flush)[0]
        return memo[nbytes]

    gen = torch.Generator(device="cuda")
    gen.manual_seed(6)
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*", "e06-kernels", "bench.jsonl"))):
        lines = [json.loads(l) for l in open(path)]
        ceil = {l["kernel"]: l for l in lines if l.get("mode") == "ceiling"}
        copy_gbps = ceil["copy"]["gbps"]
        bf16_rate = ceil["cublas-bf16-gemm"]["tflops"]
        fp8_rate = ceil.get("cublaslt-fp8-gemm", {}).get("tflops", bf16_rate)
        shapes = []
        for l in lines:
            if "layer" in l and (l["model"], l["layer"], l["N"], l["K"]) not in shapes:
                shapes.append((l["model"], l["layer"], l["N"], l["K"]))
        out = []
        for model, layer, N, K in shapes:
            w = (torch.rand(N, K, device="cuda", generator=gen) - 0.5) * 0.04
            wb = w.to(torch.bfloat16)
            w8 = (w * 4096).to(torch.float8_e4m3fn)
            del w
            sa = torch.tensor(1.0 / 4096, device="cuda")
            for M in M_LIST:
                x = ((torch.rand(M, K, device="cuda", generator=gen) - 0.5) * 2).to(torch.bfloat16)
                cases = [("torch-matmul-bf16", lambda: torch.matmul(x, wb.t()), 2.0 * N * K + 2.0 * M * K + 2.0 * M * N,
                          bf16_rate, "bf16", "", M)]
                Mr = max(M, 16)
                x8 = ((torch.rand(Mr, K, device="cuda", generator=gen) - 0.5) * 448).to(torch.float8_e4m3fn)
                note = "M padded to 16 (torch._scaled_mm needs multiples of 16)" if Mr != M else ""
                cases.append(("torch-scaled-mm-fp8",
                              lambda: torch._scaled_mm(x8, w8.t(), scale_a=sa, scale_b=sa, out_dtype=torch.bfloat16),
                              1.0 * N * K + 1.0 * Mr * K + 2.0 * Mr * N, fp8_rate, "fp8", note, Mr))
                for name, fn, nbytes, rate, cname, note_, _ in cases:
                    try:
                        y = fn()
                        if not torch.isfinite(y.float()).all():
                            sys.exit(f"e06_torch: {name} wrote non-finite values at {model} {layer} M={M}")
                        med, p10, p90 = time_isolated(fn, flush)
                    except RuntimeError as e:   # an op this torch build refuses: say so, keep going
                        print(f"{model} {layer} {N}x{K} M={M} {name}: not run ({str(e).splitlines()[0]})")
                        continue
                    sec = med * 1e-3
                    flops = 2.0 * M * N * K
                    floor_s = max(nbytes / (copy_gbps * 1e9), flops / (rate * 1e12))
                    rec = {"model": model, "layer": layer, "N": N, "K": K, "M": M, "kernel": name, "mode": "isolated",
                           "depth": 0, "median_ms": med, "p10_ms": p10, "p90_ms": p90, "reps": REPS, "bytes": nbytes,
                           "flops": flops, "gbps": nbytes / sec / 1e9, "tflops": flops / sec / 1e12,
                           "frac_copy": nbytes / sec / 1e9 / copy_gbps, "frac_compute": flops / sec / 1e12 / rate,
                           "compute_ceiling": cname, "roofline_frac": floor_s / sec}
                    cs = same_size_copy(nbytes)
                    cg = nbytes / (cs * 1e-3) / 1e9
                    small = cg < 0.90 * copy_gbps
                    rec.update({"copy_same_ms": cs, "copy_same_gbps": cg, "frac_copy_same": cs / med,
                                "frac_target": cs / med if small else rec["frac_copy"],
                                "target_ref": "same-size copy" if small else "large copy",
                                "note": note_, "torch": torch.__version__})
                    out.append(rec)
                    print(f"{model:14s} {layer:15s} {N:6d} x {K:<6d} M={M:<4d} {name:20s} {med:9.4f} ms "
                          f"{rec['gbps']:7.0f} GB/s {rec['tflops']:7.2f} TF/s roofline {rec['roofline_frac']:.3f}")
        dst = os.path.join(os.path.dirname(path), "torch.jsonl")
        with open(dst + ".tmp", "w") as f:
            for r in out:
                f.write(json.dumps(r) + "\n")
        os.replace(dst + ".tmp", dst)
        print(f"e06_torch: wrote {dst}", file=sys.stderr)


if __name__ == "__main__":
    main()
