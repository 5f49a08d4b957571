#!/usr/bin/env bash
# tools/llamacpp/kld.sh -- llama.cpp's KL-divergence mode on our GGUF exports, beside our e03 numbers.
# Usage: LLAMA_CPP_DIR=/path/to/llama.cpp/build tools/llamacpp/kld.sh [MODEL] [TEXT] [CTX] [CHUNKS] [THREADS]
#   defaults: models/qwen3-tiny, ../shared/data/wikitext-2/wiki.test.raw, 2048, 3 (e03's ctx and windows), 2
# Protocol: llama-perplexity --kl-divergence-base on the F32 export of the BF16 model (the reference e03 uses:
# BF16 weights, FP32 compute), then --kl-divergence on each weight-only export (F32 KV cache, flash attention
# off, the same chunks). llama.cpp scores the second half of each chunk (CTX/2 - 1 tokens of each) and rounds
# activations to Q8 for its quantized dot products (its vec_dot types; agree.sh); e03 scores every position
# of each window with FP32 activations (results/<model>/e03-kld/<recipe>.json). So the two agree in size,
# not digit for digit: the table prints both. Which recipe each GGUF holds: q4_0 = rtn-int4 (int4-g128-sym, as
# agree.sh), q4_1 = rtn-int4-asym, mxfp4 = mxfp4-w4a16, nvfp4 = nvfp4-w4a16 (exact exports: gguf_export.h).
# Without LLAMA_CPP_DIR the script exits 77 (skipped). Writes build/out/llamacpp/<model>/kld.tsv and the logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-models/qwen3-tiny}
TEXT=${2:-../shared/data/wikitext-2/wiki.test.raw}
CTX=${3:-2048}; CHUNKS=${4:-3}; THREADS=${5:-2}
if [ -z "${LLAMA_CPP_DIR:-}" ]; then echo "SKIP: LLAMA_CPP_DIR is not set (a llama.cpp build with llama-perplexity)" >&2; exit 77; fi
PPL_BIN=""
for c in "$LLAMA_CPP_DIR/bin/llama-perplexity" "$LLAMA_CPP_DIR/llama-perplexity"; do [ -x "$c" ] && PPL_BIN=$c && break; done
[ -n "$PPL_BIN" ] || { echo "kld.sh: error: no llama-perplexity under $LLAMA_CPP_DIR (bin/ or top level)" >&2; exit 1; }
[ -f "$TEXT" ] || { echo "kld.sh: error: $TEXT not found" >&2; exit 1; }
QL=build/bin/ql
[ -x "$QL" ] || { echo "kld.sh: error: $QL missing: run make first" >&2; exit 1; }
name=$(basename "$MODEL")
OUT=build/out/llamacpp/$name
mkdir -p "$OUT"
COMMON=(-f "$TEXT" -c "$CTX" -b "$CTX" --chunks "$CHUNKS" -t "$THREADS" -fa off -ctk f32 -ctv f32)
"$QL" export-gguf -m "$MODEL" -r bf16 -o "$OUT/kld-f32.gguf" 2>>"$OUT/export.log"
"$PPL_BIN" -m "$OUT/kld-f32.gguf" "${COMMON[@]}" --kl-divergence-base "$OUT/kld-base.bin" > "$OUT/kld-base.log" 2>&1 \
  || { echo "kld.sh: llama-perplexity (base) failed: $OUT/kld-base.log" >&2; exit 1; }
VARIANTS=("q4_0|--weights int4-g128-sym|rtn-int4" "q4_1|--weights int4-g128-asym|rtn-int4-asym" "mxfp4|-r mxfp4-w4a16|mxfp4-w4a16" "nvfp4|-r nvfp4-w4a16|nvfp4-w4a16")
TSV=$OUT/kld.tsv
printf 'gguf\trecipe\tllamacpp_kld_mean\tllamacpp_kld_median\tllamacpp_kld_p99\tllamacpp_same_top\te03_kld_mean\te03_kld_median\te03_kld_p99\te03_top1_agree\n' > "$TSV.tmp"
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r g eargs recipe <<< "$v"
  # shellcheck disable=SC2086
  "$QL" export-gguf -m "$MODEL" $eargs -o "$OUT/kld-$g.gguf" 2>>"$OUT/export.log" || { echo "kld.sh: export $g failed" >&2; continue; }
  "$PPL_BIN" -m "$OUT/kld-$g.gguf" "${COMMON[@]}" --kl-divergence-base "$OUT/kld-base.bin" --kl-divergence > "$OUT/kld-$g.log" 2>&1 \
    || { echo "kld.sh: llama-perplexity failed on $g: $OUT/kld-$g.log" >&2; continue; }
  python3 - "$g" "$recipe" "$OUT/kld-$g.log" "results/$name/e03-kld/$recipe.json" >> "$TSV.tmp" <<'PY'
import json, re, sys
g, recipe, log, e03 = sys.argv[1:5]
txt = open(log, encoding="utf-8", errors="replace").read()
def stat(label):
    # llama-perplexity's KL summary lines: "Mean    KLD:   0.083296 ±   0.001", "Median  KLD:", "99.0%   KLD:",
    # "Same top p:  80.182 ± 0.5 %"
    m = re.findall(r"^" + re.escape(label) + r"\s*:?\s*([-0-9.]+)", txt, re.M)
    return float(m[-1]) if m else float("nan")
ll = [stat("Mean    KLD"), stat("Median  KLD"), stat("99.0%   KLD"), stat("Same top p") / 100]
try:
    m = json.load(open(e03))["metrics"]
    ours = [m["kld_mean"], m["kld_median"], m["kld_p99"], m["top1_agree"]]
except OSError:
    ours = [float("nan")] * 4
print("\t".join([g, recipe] + ["%.6g" % x for x in ll + ours]))
PY
done
mv -f "$TSV.tmp" "$TSV"
column -t -s $'\t' "$TSV"
