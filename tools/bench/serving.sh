#!/usr/bin/env bash
# tools/bench/serving.sh -- our CPU engine beside llama.cpp, same threads, same prompt lengths, interleaved.
# Usage: [LLAMA_CPP_DIR=/path/to/llama.cpp/build] tools/bench/serving.sh [MODEL] [ROUNDS] [OUTDIR]
#   MODEL   HF checkpoint folder (default models/qwen3-tiny)    ROUNDS  interleaved rounds (default 3)
#   OUTDIR  where the records go (default results/<model>@cpu/e07-serving)
#   env: THREADS (default 2), PREFILL (default 512,2048), DECODE (default 64), PAIRS (see below),
#        LLAMA_CPP_COMMIT (the commit of the llama.cpp build, for the manifest when llama-bench says "unknown"),
#        GGUF_DIR (keep the exports there and reuse them: <recipe>.gguf; they must come from the same MODEL)
# Protocol: llama-bench's. prefill pp T = one forward of T tokens (the last position's logits), decode tg N = N
# one-token steps from an empty cache; tok/s. Each round runs `ql bench` (one rep) and then llama-bench (-r 1)
# for every pair, so load from other processes hits both alike; the table shows the medians over rounds and
# the ratio ours / llama.cpp. PAIRS: ";"-separated "recipe|gguf export args|packed|tests": ours runs the recipe
# (simulated quantization; packed 1 = --packed, the packed decode GEMV of src/ops/qgemv.h with FP32
# activations; q8 = --packed-q8, activations quantized per 32 to int8 as llama.cpp does, within the bound of
# qgemv.h step 6; 0 = the FP32 dequantized path), llama.cpp the GGUF `ql export-gguf` writes for it; tests:
# pd = prefill and decode (default), d = decode only, p = prefill only. The default compares prefill on bf16
# against llama.cpp F32, and decode of each packed recipe against its nearest ggml type.
# llama.cpp settings: its defaults (KV cache F16, flash attention auto, ubatch 512) but -t THREADS. Ours: the
# engine's own threading (src/ops/cpu_exec.h), FP32 KV cache.
# Without LLAMA_CPP_DIR only our numbers are measured. LLAMA_CPP_DIR is a user's own build (this repository
# never builds or ships llama.cpp): the folder holding bin/llama-bench (or llama-bench itself).
# Writes OUTDIR/<recipe>.json (ours, from `ql bench --json`, CPU model in its manifest), OUTDIR/llamacpp-<gguf>.json
# (llama-bench's own JSON), OUTDIR/table.md (the side-by-side table) and prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-models/qwen3-tiny}
ROUNDS=${2:-3}
name=$(basename "$MODEL")
OUT=${3:-results/$name@cpu/e07-serving}
THREADS=${THREADS:-2}
PREFILL=${PREFILL:-512,2048}
DECODE=${DECODE:-64}
QL=build/bin/ql
# OpenBLAS kernels for our prefill: this OpenBLAS (0.3.21) does not recognise the CPU of this machine and falls
# back to Prescott (SSE3); Cooperlake is its AVX-512 (+BF16) family, which test_model passes with. A caller's own
# OPENBLAS_CORETYPE is kept. Recorded in the manifest. (llama.cpp does not use OpenBLAS here.)
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Cooperlake}
[ -x "$QL" ] || { echo "serving.sh: error: $QL missing: run make first" >&2; exit 1; }
PAIRS=${PAIRS:-"bf16|-r bf16|0|pd;int8-w8a8|-r bf16 --q8_0|q8|d;rtn-int4|--weights int4-g128-sym|q8|d;mxfp4-w4a16|-r mxfp4-w4a16|q8|d"}
LB=""
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
  for c in "$LLAMA_CPP_DIR/bin/llama-bench" "$LLAMA_CPP_DIR/llama-bench"; do [ -x "$c" ] && LB=$c && break; done
  [ -n "$LB" ] || { echo "serving.sh: error: no llama-bench under $LLAMA_CPP_DIR (bin/ or top level)" >&2; exit 1; }
fi
mkdir -p "$OUT"
work=$(mktemp -d "${TMPDIR:-/tmp}/ql-serving.XXXXXX")
trap 'rm -rf "$work"' EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "serving.sh: $MODEL, $ROUNDS rounds, threads $THREADS, prefill $PREFILL, decode $DECODE; load average: $load0" >&2
IFS=';' read -r -a pairs <<< "$PAIRS"
if [ -n "$LB" ]; then
  for p in "${pairs[@]}"; do
    IFS='|' read -r recipe eargs packed tests <<< "$p"
    if [ -n "${GGUF_DIR:-}" ] && [ -s "$GGUF_DIR/$recipe.gguf" ]; then ln -s "$(realpath "$GGUF_DIR/$recipe.gguf")" "$work/$recipe.gguf"; continue; fi
    # shellcheck disable=SC2086
    "$QL" export-gguf -m "$MODEL" $eargs -o "$work/$recipe.gguf" 2>>"$work/export.log"
    if [ -n "${GGUF_DIR:-}" ]; then mkdir -p "$GGUF_DIR" && cp "$work/$recipe.gguf" "$GGUF_DIR/$recipe.gguf"; fi
  done
fi
for r in $(seq 1 "$ROUNDS"); do
  for p in "${pairs[@]}"; do
    IFS='|' read -r recipe eargs packed tests <<< "$p"
    pk=""; [ "$packed" = 1 ] && pk=--packed; [ "$packed" = q8 ] && pk=--packed-q8
    pf=$PREFILL; dc=$DECODE
    case "${tests:-pd}" in d) pf=0 ;; p) dc=0 ;; esac
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=$THREADS "$QL" bench -m "$MODEL" -r "$recipe" --prefill "$pf" --decode "$dc" --reps 1 $pk \
        --json "$work/ours-$recipe-$r.json" >> "$work/ours.txt" 2>>"$work/ours.log"
    if [ -n "$LB" ]; then
      "$LB" -m "$work/$recipe.gguf" -p "$pf" -n "$dc" -t "$THREADS" -r 1 -o jsonl \
          > "$work/ll-$recipe-$r.jsonl" 2>>"$work/llamacpp.log" || { echo "serving.sh: llama-bench failed on $recipe (log: $work/llamacpp.log)" >&2; tail -3 "$work/llamacpp.log" >&2; exit 1; }
    fi
  done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work" "$OUT" "$PAIRS" "$ROUNDS" "$PREFILL" "$DECODE" "${LB:+1}" "$THREADS" "$load0" "$load1" "$MODEL" <<'PY'
import json, os, statistics, sys, glob, time
work, out, pairs, rounds, prefill, decode, have_ll, threads, load0, load1, model = sys.argv[1:12]
rounds = int(rounds); prefill = [int(x) for x in prefill.split(",") if int(x) > 0]; decode = int(decode)
pairs = [(p.split("|") + ["pd"])[:4] for p in pairs.split(";") if p]
all_tests = [("pp%d" % t, "prefill%d_tok_s" % t, t, 0) for t in prefill] + ([("tg%d" % decode, "decode_tok_s", 0, decode)] if decode > 0 else [])
rows = []
ll_build = None
for recipe, eargs, packed, which in pairs:
    tests = [t for t in all_tests if (t[0].startswith("pp") and "p" in which) or (t[0].startswith("tg") and "d" in which)]
    ours = [json.load(open(os.path.join(work, "ours-%s-%d.json" % (recipe, r)))) for r in range(1, rounds + 1)]
    json.dump(dict(ours[-1], rounds=rounds, metrics={k: statistics.median(o["metrics"][k] for o in ours) for k in ours[0]["metrics"]},
                   per_round=[o["metrics"] for o in ours]), open(os.path.join(out, recipe + ".json.tmp"), "w"), indent=1)
    os.replace(os.path.join(out, recipe + ".json.tmp"), os.path.join(out, recipe + ".json"))
    ll = {}
    if have_ll:
        recs = []
        for r in range(1, rounds + 1):
            for line in open(os.path.join(work, "ll-%s-%d.jsonl" % (recipe, r))):
                if line.strip():
                    recs.append(json.loads(line))
        with open(os.path.join(out, "llamacpp-%s.json.tmp" % recipe), "w") as f:
            json.dump(recs, f, indent=1)
        os.replace(os.path.join(out, "llamacpp-%s.json.tmp" % recipe), os.path.join(out, "llamacpp-%s.json" % recipe))
        for rec in recs:
            key = "pp%d" % rec["n_prompt"] if rec["n_gen"] == 0 else "tg%d" % rec["n_gen"]
            ll.setdefault(key, []).append(rec["avg_ts"])
        gtype = recs[0].get("model_type", "?")
        ll_build = {k: recs[0].get(k) for k in ("build_commit", "build_number", "cpu_info", "backends", "n_threads",
                                                 "type_k", "type_v", "flash_attn", "n_ubatch")}
    for name, key, _, _ in tests:
        o = statistics.median(x["metrics"][key] for x in ours)
        l = statistics.median(ll[name]) if name in ll else None
        tag = {"1": " packed", "q8": " packed-q8"}.get(packed, "") if name.startswith("tg") else ""
        rows.append((recipe + tag, gtype if have_ll else "-", name, o, l))
cpu = ours[0]["manifest"]["cpu_model"]
lines = ["# e07-serving, CPU: %s; %s; medians of %d interleaved rounds" % (cpu, ours[0]["manifest"]["device"], rounds), "",
         "| ours (recipe) | llama.cpp (GGUF) | test | ours tok/s | llama.cpp tok/s | ours / llama.cpp |", "|---|---|---|---|---|---|"]
for recipe, g, name, o, l in rows:
    lines.append("| %s | %s | %s | %.1f | %s | %s |" % (recipe, g, name, o, "%.1f" % l if l else "-", "%.2fx" % (o / l) if l else "-"))
txt = "\n".join(lines) + "\n"
open(os.path.join(out, "table.md.tmp"), "w").write(txt)
os.replace(os.path.join(out, "table.md.tmp"), os.path.join(out, "table.md"))
# The run's manifest: both engines' identities and the conditions (a benchmark record, not a cache-keyed result).
man = {"benchmark": "e07-serving cpu", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "model": model,
       "cpu_model": cpu, "threads": int(threads), "rounds": rounds, "statistic": "median over interleaved rounds",
       "load_average_before": load0, "load_average_after": load1, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
       "cpu_flags": sorted({f for f in open("/proc/cpuinfo").read().split() if f.startswith(("avx512", "amx", "avx_vnni", "fma", "avx2"))}),
       "ours": {"engine": "ql bench", "git_rev": os.popen("git describe --always --dirty --abbrev=12 2>/dev/null").read().strip(),
                "threads": ours[0]["manifest"].get("threads"), "kv_cache": "f32"},
       "llamacpp": dict(ll_build or {}, commit=os.environ.get("LLAMA_CPP_COMMIT", (ll_build or {}).get("build_commit"))) if have_ll else None,
       "pairs": [{"recipe": r, "gguf_export": e, "packed": p, "tests": w,
                  "ours_device": json.load(open(os.path.join(out, r + ".json")))["manifest"]["device"]} for r, e, p, w in pairs]}
with open(os.path.join(out, "manifest.json.tmp"), "w") as f:
    json.dump(man, f, indent=1)
os.replace(os.path.join(out, "manifest.json.tmp"), os.path.join(out, "manifest.json"))
print(txt)
PY
