#!/usr/bin/env bash
# tools/bench/serving.sh -- our CPU engine beside llama.cpp, same threads, same prompt lengths, interleaved.
# Usage: [LLAMA_CPP_DIR=/path/to/llama.cpp/build] tools/bench/serving.sh [MODEL] [ROUNDS] [OUTDIR]
#   MODEL   HF checkpoint folder (default models/qwen3-tiny)    ROUNDS  interleaved rounds (default 3)
#   OUTDIR  where the records go (default results/<model>@cpu/e07-serving)
#   env: THREADS (default 2), PREFILL (default 512,2048), DECODE (default 64), PAIRS (see below)
# Protocol: llama-bench's. prefill pp T = one forward of T tokens (the last position's logits), decode tg N = N
# one-token steps from an empty cache; tok/s. Each round runs `ql bench` (one rep) and then llama-bench (-r 1)
# for every pair, so load from other processes hits both alike; the table shows the medians over rounds and
# the ratio ours / llama.cpp. PAIRS: ";"-separated "recipe|gguf export args|packed": ours runs the recipe (simulated quantization,
# --packed: the packed decode GEMV of src/ops/qgemv.h), llama.cpp the GGUF `ql export-gguf` writes for it.
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
[ -x "$QL" ] || { echo "serving.sh: error: $QL missing: run make first" >&2; exit 1; }
PAIRS=${PAIRS:-"bf16|-r bf16|0;int8-w8a8|-r bf16 --q8_0|1;rtn-int4|--weights int4-g128-sym|1;mxfp4-w4a16|-r mxfp4-w4a16|1"}
LB=""
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
  for c in "$LLAMA_CPP_DIR/bin/llama-bench" "$LLAMA_CPP_DIR/llama-bench"; do [ -x "$c" ] && LB=$c && break; done
  [ -n "$LB" ] || { echo "serving.sh: error: no llama-bench under $LLAMA_CPP_DIR (bin/ or top level)" >&2; exit 1; }
fi
mkdir -p "$OUT"
work=$(mktemp -d "${TMPDIR:-/tmp}/ql-serving.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "serving.sh: $MODEL, $ROUNDS rounds, threads $THREADS, prefill $PREFILL, decode $DECODE; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
IFS=';' read -r -a pairs <<< "$PAIRS"
if [ -n "$LB" ]; then
  for p in "${pairs[@]}"; do
    IFS='|' read -r recipe eargs packed <<< "$p"
    # shellcheck disable=SC2086
    "$QL" export-gguf -m "$MODEL" $eargs -o "$work/$recipe.gguf" 2>>"$work/export.log"
  done
fi
for r in $(seq 1 "$ROUNDS"); do
  for p in "${pairs[@]}"; do
    IFS='|' read -r recipe eargs packed <<< "$p"
    pk=""; [ "$packed" = 1 ] && pk=--packed
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=$THREADS "$QL" bench -m "$MODEL" -r "$recipe" --prefill "$PREFILL" --decode "$DECODE" --reps 1 $pk \
        --json "$work/ours-$recipe-$r.json" >> "$work/ours.txt" 2>>"$work/ours.log"
    if [ -n "$LB" ]; then
      "$LB" -m "$work/$recipe.gguf" -p "$PREFILL" -n "$DECODE" -t "$THREADS" -r 1 -o jsonl \
          > "$work/ll-$recipe-$r.jsonl" 2>>"$work/llamacpp.log" || { echo "serving.sh: llama-bench failed on $recipe (log: $work/llamacpp.log)" >&2; tail -3 "$work/llamacpp.log" >&2; exit 1; }
    fi
  done
done
python3 - "$work" "$OUT" "$PAIRS" "$ROUNDS" "$PREFILL" "$DECODE" "${LB:+1}" <<'PY'
import json, os, statistics, sys, glob
work, out, pairs, rounds, prefill, decode, have_ll = sys.argv[1:8]
rounds = int(rounds); prefill = [int(x) for x in prefill.split(",") if int(x) > 0]; decode = int(decode)
pairs = [p.split("|") for p in pairs.split(";") if p]
tests = [("pp%d" % t, "prefill%d_tok_s" % t, t, 0) for t in prefill] + ([("tg%d" % decode, "decode_tok_s", 0, decode)] if decode > 0 else [])
rows = []
for recipe, eargs, packed in pairs:
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
    for name, key, _, _ in tests:
        o = statistics.median(x["metrics"][key] for x in ours)
        l = statistics.median(ll[name]) if name in ll else None
        rows.append((recipe + (" packed" if packed == "1" and name.startswith("tg") else ""), gtype if have_ll else "-", name, o, l))
cpu = ours[0]["manifest"]["cpu_model"]
lines = ["# e07-serving, CPU: %s; %s; medians of %d interleaved rounds" % (cpu, ours[0]["manifest"]["device"], rounds), "",
         "| ours (recipe) | llama.cpp (GGUF) | test | ours tok/s | llama.cpp tok/s | ours / llama.cpp |", "|---|---|---|---|---|---|"]
for recipe, g, name, o, l in rows:
    lines.append("| %s | %s | %s | %.1f | %s | %s |" % (recipe, g, name, o, "%.1f" % l if l else "-", "%.2fx" % (o / l) if l else "-"))
txt = "\n".join(lines) + "\n"
open(os.path.join(out, "table.md.tmp"), "w").write(txt)
os.replace(os.path.join(out, "table.md.tmp"), os.path.join(out, "table.md"))
print(txt)
PY
