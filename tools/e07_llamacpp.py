#!/usr/bin/env python3
"""e07_llamacpp.py -- the llama.cpp peer of e07-serving (issue 15) as results records: from the files one GPU call
of tools/llamacpp/gpu_peer.sh wrote (serve.jsonl: our check_qwen3_serve --bench; llamabench.jsonl: llama-bench
-o jsonl, one line per test; env.txt, build.log, gen.log, peer.log, serve.log), per model
results/<model>@H200/e07-serving/:
  llamacpp-<type>.json   one record per GGUF type (bf16, q8_0, q4_0, mxfp4) beside our matching recipe
                         (PAIRS), with the ratios ours / llama.cpp;
  llamacpp-bench.jsonl   llama-bench's lines for that model, as written;
  llamacpp-serve.jsonl   our serve.jsonl lines of that call for that model (plus the ceilings line);
  llamacpp-run.log       env.txt, the build's timing and the check lines of that call (peer.log, serve.log,
                         gen.log, the tail of build.log).
Numbers are copied from those files except the ratios and llama.cpp's decode bound, computed as stated below.
  ratio_prefill512  = our prefill tok/s at T = 512 (median of the reps: TTFT wall time, argmax included)
                      / llama-bench pp512 at depth 0, median of its 5 samples (the same statistic; its first
                      sample after the warm-up is 30-50 % slow, so its mean avg_ts is low: ratio_prefill512_vs_mean
                      divides by that mean, llama-bench's printed number)
  ratio_decode_b1   = our decode tok/s at batch 1, context 513 (median, the faster of graph / plain)
                      / llama-bench tg128 at depth 512 (positions 513 .. 640), median of its samples
                      (ratio_decode_b1_vs_mean: by its mean; the two differ by < 1 %)
  ratio_decode_b1_d0 = the same against tg128 at depth 0 (mean)
  llamacpp_decode_bound_tok_s = copy GB/s of our run / (llama.cpp's model bytes minus token_embd (kept on the
                      CPU, one row read per token) plus its F16 KV cache at context 576, the middle of tg128@d512)
Usage: tools/e07_llamacpp.py DIR_FROM_THE_CALL [--results results] [--commit SHA] [--build-cmd TEXT] ...
"""
import argparse
import json
import os
import re
import sys

PAIRS = [("bf16", "bf16"), ("q8_0", "fp8"), ("q4_0", "gptq"), ("mxfp4", "mxfp4-w4a16")]
VALUES = {
    "bf16": "exact: every Linear, token_embd and output are our bf16 recipe's BF16 values",
    "q8_0": "re-quantized: Q8_0 (FP16 d = amax / 127 per 32, RNE) of our fp8 recipe's values (E4M3 x FP32 "
            "scale per 128 x 128); not the same numbers (each within d / 2); token_embd / output BF16 as ours",
    "q4_0": "exact: our gptq storage (INT4 sym, FP16 scale per 128 replicated over its four 32-blocks); "
            "token_embd / output BF16 as ours",
    "mxfp4": "exact: our mxfp4-w4a16 storage (E2M1 + E8M0 per 32); token_embd / output BF16 as ours",
}


def read_jsonl(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    return rows


def read(path):
    return open(path).read() if os.path.exists(path) else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--results", default="results")
    ap.add_argument("--gpu-tag", default="H200")
    ap.add_argument("--commit", required=True, help="the /work/main commit our binaries were built from")
    ap.add_argument("--llama-commit", required=True)
    ap.add_argument("--llama-repo", default="unslothai/llama.cpp (a snapshot of ggml-org/llama.cpp)")
    ap.add_argument("--build-cmd", required=True, help="the llama.cpp build command run on the device")
    ap.add_argument("--device-s", default=None, help="device seconds the call held (the lease)")
    a = ap.parse_args()
    d = a.dir
    serve = read_jsonl(os.path.join(d, "serve.jsonl"))
    bench = read_jsonl(os.path.join(d, "llamabench.jsonl"))
    env = read(os.path.join(d, "env.txt"))
    ceil = next((r for r in serve if r.get("kind") == "ceilings"), None)
    ours = {(r["model"], r["recipe"]): r for r in serve if r.get("kind") == "serve"}
    if ceil is None or not ours:
        sys.exit("e07_llamacpp: %s/serve.jsonl: expected a ceilings line and serve lines" % d)
    if not bench:
        sys.exit("e07_llamacpp: %s/llamabench.jsonl: no llama-bench line" % d)
    build = read(os.path.join(d, "build.log"))
    m = re.search(r"real\s+(\d+)m([\d.]+)s", build)
    build_s = round(int(m.group(1)) * 60 + float(m.group(2)), 1) if m else None
    sums = dict((p, h) for h, p in re.findall(r"^([0-9a-f]{64})  (\S+)$", env, re.M))
    date = re.search(r"^date_utc (\S+)", env, re.M)
    gpu_line = next((l for l in env.splitlines() if l.startswith("NVIDIA")), "")
    nvcc = re.search(r"release ([\d.]+)", env)

    def file_key(row):
        base = os.path.basename(row["model_filename"])
        mm = re.match(r"(.+)-(bf16|q8_0|q4_0|mxfp4)\.gguf$", base)
        return (mm.group(1), mm.group(2)) if mm else (None, None)

    by_model = {}
    for row in bench:
        model, typ = file_key(row)
        if model:
            by_model.setdefault(model, {}).setdefault(typ, []).append(row)
    written = []
    for model, types in sorted(by_model.items()):
        out_dir = os.path.join(a.results, "%s@%s" % (model, a.gpu_tag), "e07-serving")
        os.makedirs(out_dir, exist_ok=True)
        for typ, recipe in PAIRS:
            rows = types.get(typ)
            o = ours.get((model, recipe))
            if not rows or not o:
                print("e07_llamacpp: %s %s: %s" % (model, typ, "no llama-bench lines" if not rows else
                                                    "no run of our %s" % recipe), file=sys.stderr)
                continue
            t = {}
            for r in rows:
                name = ("pp%d" % r["n_prompt"]) if r["n_prompt"] else ("tg%d" % r["n_gen"])
                t["%s-d%d" % (name, r["n_depth"])] = r
            pp = t.get("pp512-d0")
            tg = t.get("tg128-d512")
            tg0 = t.get("tg128-d0")
            o_pp = next(p for p in o["prefill"] if p["T"] == 512)
            o_b1 = max((x for x in o["decode"] if x["B"] == 1), key=lambda x: x["tok_s"])
            r0 = rows[0]
            # llama.cpp's bytes per decode token at context 576: weights on the GPU (token_embd stays on the
            # CPU), F16 K and V of every layer (n_layers * 2 * H_kv * D_h * 2 bytes per position).
            kv_f16 = o["kv_bytes_per_token"] // 2   # ours is FP32 K + V of every layer: half of it in F16
            V, D = 151936, {"Qwen3-0.6B": 1024, "Qwen3-4B": 2560, "Qwen3-8B": 4096}.get(model, 0)
            tied = model in ("Qwen3-0.6B", "Qwen3-4B")
            gpu_bytes = r0["model_size"] - (0 if tied else V * D * 2) + 576 * kv_f16
            # tied: the output layer reads token_embd's copy on the GPU, so nothing is subtracted
            bound = ceil["copy_gbps"] * 1e9 / gpu_bytes if D else None
            med = lambda r: sorted(r["samples_ts"])[len(r["samples_ts"]) // 2] if len(r["samples_ts"]) % 2 else \
                0.5 * (sorted(r["samples_ts"])[len(r["samples_ts"]) // 2 - 1] + sorted(r["samples_ts"])[len(r["samples_ts"]) // 2])
            metrics = {
                "llamacpp_pp512_tok_s": pp["avg_ts"] if pp else None,
                "llamacpp_pp512_median_tok_s": med(pp) if pp else None,
                "llamacpp_tg128_d512_median_tok_s": med(tg) if tg else None,
                "llamacpp_pp512_stddev": pp["stddev_ts"] if pp else None,
                "llamacpp_tg128_d512_tok_s": tg["avg_ts"] if tg else None,
                "llamacpp_tg128_d512_stddev": tg["stddev_ts"] if tg else None,
                "llamacpp_tg128_d0_tok_s": tg0["avg_ts"] if tg0 else None,
                "llamacpp_pp512_d512_tok_s": t["pp512-d512"]["avg_ts"] if "pp512-d512" in t else None,
                "llamacpp_model_bytes": r0["model_size"],
                "llamacpp_decode_bound_tok_s": round(bound, 1) if bound else None,
                "llamacpp_decode_frac": round(tg["avg_ts"] / bound, 4) if (tg and bound) else None,
                "ours_prefill512_tok_s": o_pp["tok_s"],
                "ours_ttft512_ms": o_pp["ttft_ms"],
                "ours_decode_b1_tok_s": o_b1["tok_s"],
                "ours_decode_b1_graph": o_b1["graph"],
                "ours_decode_b1_frac": o_b1["frac"],
                "ours_weight_bytes": o["weight_bytes"],
                "ratio_prefill512": round(o_pp["tok_s"] / med(pp), 4) if pp else None,
                "ratio_prefill512_vs_mean": round(o_pp["tok_s"] / pp["avg_ts"], 4) if pp else None,
                "ratio_decode_b1": round(o_b1["tok_s"] / med(tg), 4) if tg else None,
                "ratio_decode_b1_vs_mean": round(o_b1["tok_s"] / tg["avg_ts"], 4) if tg else None,
                "ratio_decode_b1_d0": round(o_b1["tok_s"] / tg0["avg_ts"], 4) if tg0 else None,
                "copy_gbps": ceil["copy_gbps"],
            }
            metrics = {k: v for k, v in metrics.items() if v is not None}   # absent, never null
            cases = [{"name": k, "metrics": {"tok_s": r["avg_ts"], "stddev_tok_s": r["stddev_ts"],
                                              "n_prompt": r["n_prompt"], "n_gen": r["n_gen"],
                                              "n_depth": r["n_depth"], "samples_tok_s": r["samples_ts"],
                                              "reps": len(r["samples_ts"])}} for k, r in sorted(t.items())]
            manifest = {
                "experiment": "e07-serving", "part": "llama.cpp peer (issue 15)",
                "program": "tools/llamacpp/gpu_peer.sh env|gen|ours|llama in one device call",
                "model": model, "gguf_type": typ, "ours_recipe": recipe, "values": VALUES[typ],
                "gguf_generator": "ql gguf-random --shape %s --type %s --tokenizer <Qwen3 tokenizer> (seed 42)" % (model, typ),
                "gpu": ceil["gpu"], "gpu_line": gpu_line, "cuda_driver_api": ceil["driver"],
                "cuda_runtime": ceil["runtime"], "nvcc": nvcc.group(1) if nvcc else None,
                "date_utc": date.group(1) if date else None,
                "git": a.commit,
                "binary_sha256_run": {k: v for k, v in sums.items() if k.startswith(("bin/", "lib/"))},
                "llama_cpp_repo": a.llama_repo, "llama_cpp_commit": a.llama_commit,
                "llama_cpp_build_commit_reported": r0.get("build_commit"),
                "llama_cpp_build": a.build_cmd, "llama_cpp_build_s": build_s,
                "llama_bench": "-m F -ngl 99 -r %d -p 512 -n 128 -d 0,512 -o jsonl" % len(pp["samples_ts"] if pp else []),
                "llama_bench_backends": r0.get("backends"), "llama_bench_gpu_info": r0.get("gpu_info"),
                "llama_bench_flash_attn": r0.get("flash_attn"), "llama_bench_type_k": r0.get("type_k"),
                "llama_bench_type_v": r0.get("type_v"), "llama_bench_n_ubatch": r0.get("n_ubatch"),
                "llama_model_type": r0.get("model_type"),
                "ours_program": "check_qwen3_serve --bench (prefill T = 512 from position 0; decode batch 1 at "
                                "context 513, KV rows pre-filled; FP32 KV cache)",
                "ours_ran_beside_build": "our bench ran while llama.cpp compiled at nice 19 on the same 16 CPU "
                                         "cores (the GPU was ours alone); llama-bench ran after the build",
                "device_seconds": a.device_s,
            }
            rec = {"experiment": "e07-serving", "model": "%s@%s" % (model, a.gpu_tag), "recipe": "llamacpp-" + typ,
                   "manifest": manifest, "metrics": metrics, "cases": cases}
            path = os.path.join(out_dir, "llamacpp-%s.json" % typ)
            with open(path + ".tmp", "w") as f:
                json.dump(rec, f, indent=1)
                f.write("\n")
            os.replace(path + ".tmp", path)
            written.append((model, typ, recipe, metrics))
        with open(os.path.join(out_dir, "llamacpp-bench.jsonl"), "w") as f:
            for typ in ("bf16", "q8_0", "q4_0", "mxfp4"):
                for r in types.get(typ, []):
                    f.write(json.dumps(r) + "\n")
        with open(os.path.join(out_dir, "llamacpp-serve.jsonl"), "w") as f:
            f.write(json.dumps(ceil) + "\n")
            for (mm, rec_name), r in sorted(ours.items()):
                if mm == model:
                    f.write(json.dumps(r) + "\n")
        with open(os.path.join(out_dir, "llamacpp-run.log"), "w") as f:
            for name in ("env.txt", "peer.log", "gen.log", "serve.log"):
                f.write("==== %s\n%s\n" % (name, read(os.path.join(d, name))))
            f.write("==== build.log (last 15 lines)\n%s\n" % "\n".join(build.splitlines()[-15:]))
    print("| model | GGUF | ours | llama pp512 median (mean) | ours pp512 | ratio | llama tg128@d512 | ours b1 | ratio | "
          "llama tg128@d0 | ratio d0 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    f = lambda v, p=1: "-" if v is None else ("%.*f" % (p, v))
    for model, typ, recipe, m in written:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            model, typ, recipe, f(m.get("llamacpp_pp512_median_tok_s"), 0) + " (" + f(m.get("llamacpp_pp512_tok_s"), 0) + ")",
            f(m["ours_prefill512_tok_s"], 0),
            f(m.get("ratio_prefill512"), 2), f(m.get("llamacpp_tg128_d512_median_tok_s")), f(m["ours_decode_b1_tok_s"]),
            f(m.get("ratio_decode_b1"), 2), f(m.get("llamacpp_tg128_d0_tok_s")), f(m.get("ratio_decode_b1_d0"), 2)))


if __name__ == "__main__":
    main()
