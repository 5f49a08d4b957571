#!/usr/bin/env python3
"""e07_results.py -- derive results/<model>@<gpu>/e07-serving/<recipe>.json from the committed records of a GPU
run (serve.jsonl: one "ceilings" line and one "serve" line per recipe, written by check_qwen3_serve --bench;
manifest.json: commit, binary hashes, GPU, driver, CUDA). Numbers are copied, never computed; per batch the
case "B<n>" holds the faster of the two launch modes (graph / plain) and both raw values beside it. When the run
had --profile, "profile" holds its per-op decode breakdown (microseconds per step by op class, per decode variant
and batch, with that variant's graph TPOT, and for the fused variant the TPOT without programmatic dependent
launch), copied as written.
Usage: tools/e07_results.py results/Qwen3-8B@H200/e07-serving [...]   (make e07-results runs it on every folder)"""
import json
import os
import sys


def derive(d):
    model = os.path.basename(os.path.dirname(os.path.abspath(d)))
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    ceil, rows = None, []
    with open(os.path.join(d, "serve.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["kind"] == "ceilings":
                ceil = r
            elif r["kind"] == "serve":
                rows.append(r)
    if ceil is None or not rows:
        sys.exit("e07_results: %s: serve.jsonl: expected a ceilings line and serve lines" % d)
    names = []
    for r in rows:
        cases = []
        for p in r["prefill"]:
            cases.append({"name": "T%d" % p["T"], "metrics": {k: p[k] for k in (
                "T", "ttft_ms", "tok_s", "flops", "bound_tok_s", "frac", "ttft_min_ms", "reps")}})
        by_b = {}
        for x in r["decode"]:
            by_b.setdefault(x["B"], {})[x["graph"]] = x
        for b in sorted(by_b):
            g = by_b[b]
            best = max(g.values(), key=lambda x: x["tok_s"])
            m = {k: best[k] for k in ("B", "ctx", "tpot_ms", "tok_s", "bytes_per_step", "experts_read",
                                      "bound_tok_s", "frac", "tpot_min_ms", "steps")}
            m["graph"] = best["graph"]
            m["tok_s_plain"] = g[0]["tok_s"] if 0 in g else None
            m["tok_s_graph"] = g[1]["tok_s"] if 1 in g else None
            cases.append({"name": "B%d" % b, "metrics": m})
        p512 = next(c for c in cases if c["name"] == "T512")["metrics"]
        b1 = next(c for c in cases if c["name"] == "B1")["metrics"]
        metrics = {k: r[k] for k in ("weight_bytes", "dense_read_bytes", "expert_bytes", "kv_bytes_per_token",
                                     "scratch_bytes", "kv_capacity_tokens", "kv_capacity_tokens_bf16", "n_layers")}
        metrics.update({"copy_gbps": ceil["copy_gbps"], "gemm_bf16_tflops": ceil["gemm_bf16_tflops"],
                        "prefill_tok_s": p512["tok_s"], "ttft_ms": p512["ttft_ms"],
                        "decode_tok_s": b1["tok_s"], "tpot_ms": b1["tpot_ms"], "decode_frac": b1["frac"]})
        man = dict(manifest)
        man.update({"storage": r["storage"], "note": r["note"], "engine_desc": r["desc"]})
        out = {"experiment": "e07-serving", "model": model, "recipe": r["recipe"], "manifest": man,
               "metrics": metrics, "cases": cases}
        if "profile" in r:
            out["profile"] = r["profile"]
            # Also as cases "prof-v<variant>-B<n>" (the notebook's placeholders read cases): microseconds per
            # step of each op class, the profiled step's sum, and the variant's graph TPOT.
            for pr in r["profile"]:
                m = dict(pr["us"])
                m.update({"profiled_sum_us": pr["profiled_sum_us"], "tpot_graph_ms": pr["tpot_graph_ms"],
                          "B": pr["B"], "ctx": pr["ctx"], "steps": pr["steps"]})
                if pr["variant"] == 1:
                    m["tpot_graph_nopdl_ms"] = pr["tpot_graph_nopdl_ms"]
                cases.append({"name": "prof-v%d-B%d" % (pr["variant"], pr["B"]), "metrics": m})
        path = os.path.join(d, r["recipe"] + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
        names.append(r["recipe"])
    print("e07-results: %s: %d recipes" % (d, len(names)), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for d in sys.argv[1:]:
        derive(d)
