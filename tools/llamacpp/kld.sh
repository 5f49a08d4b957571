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
# llama.cpp's "±" is one standard error (of the mean KLD, of the same-top fraction); e03's intervals are 95 %
# block-bootstrap percentiles (_lo, _hi). llama.cpp scores n_ctx/2 - 1 positions per chunk (the second half).
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
# Our engine on the same GGUF files and the same scored positions (kld_positions.py): FP32 activations, so
# the gap to llama.cpp's column is its activation rounding (Q8 for Q4_0 / Q4_1 / MXFP4 / NVFP4) and its kernels.
"$QL" tokenize --tokenizer "$MODEL" < "$TEXT" | tr ' ' '\n' | awk -v n=$((CTX * CHUNKS)) 'NR <= n' > "$OUT/ids.txt"
ours_logits() {  # GGUF -> comma-separated list of per-window QLLOGITS files
  local files=""
  for w in $(seq 0 $((CHUNKS - 1))); do
    sed -n "$((w * CTX + 1)),$(((w + 1) * CTX))p" "$OUT/ids.txt" | tr '\n' ' ' > "$OUT/ids-$w.txt"
    "$QL" logits -m "$1" --ids "$(cat "$OUT/ids-$w.txt")" -o "$1.$w.qll" 2>>"$OUT/ours.log"
    files="$files${files:+,}$1.$w.qll"
  done
  echo "$files"
}
REF_QLL=$(ours_logits "$OUT/kld-f32.gguf")
VARIANTS=("q4_0|--weights int4-g128-sym|rtn-int4" "q4_1|--weights int4-g128-asym|rtn-int4-asym" "mxfp4|-r mxfp4-w4a16|mxfp4-w4a16" "nvfp4|-r nvfp4-w4a16|nvfp4-w4a16")
TSV=$OUT/kld.tsv
printf 'gguf\trecipe\tllamacpp_kld_mean\tllamacpp_kld_mean_se\tllamacpp_kld_median\tllamacpp_kld_p99\tllamacpp_same_top\tllamacpp_same_top_se\tllamacpp_tokens\te03_kld_mean\te03_kld_mean_lo\te03_kld_mean_hi\te03_kld_median\te03_kld_p99\te03_top1_agree\te03_top1_lo\te03_top1_hi\te03_tokens\tours_gguf_kld_mean\tours_gguf_kld_mean_se\tours_gguf_same_top\tours_gguf_same_top_se\tours_gguf_tokens\n' > "$TSV.tmp"
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r g eargs recipe <<< "$v"
  # shellcheck disable=SC2086
  "$QL" export-gguf -m "$MODEL" $eargs -o "$OUT/kld-$g.gguf" 2>>"$OUT/export.log" || { echo "kld.sh: export $g failed" >&2; continue; }
  "$PPL_BIN" -m "$OUT/kld-$g.gguf" "${COMMON[@]}" --kl-divergence-base "$OUT/kld-base.bin" --kl-divergence > "$OUT/kld-$g.log" 2>&1 \
    || { echo "kld.sh: llama-perplexity failed on $g: $OUT/kld-$g.log" >&2; continue; }
  Q_QLL=$(ours_logits "$OUT/kld-$g.gguf")
  same=$(python3 tools/llamacpp/kld_positions.py "$REF_QLL" "$Q_QLL")
  rm -f "$OUT/kld-$g.gguf".*.qll
  python3 - "$g" "$recipe" "$OUT/kld-$g.log" "results/$name/e03-kld/$recipe.json" "$same" >> "$TSV.tmp" <<'PY'
import json, re, sys
g, recipe, log, e03, same = sys.argv[1:6]
txt = open(log, encoding="utf-8", errors="replace").read()
def stat(label, se=False):
    # llama-perplexity's KL summary lines: "Mean    KLD:   0.083296 ±   0.001550" (± one standard error),
    # "Median  KLD:", "99.0%   KLD:", "Same top p:  80.182 ± 0.5 %"
    m = re.findall(r"^" + re.escape(label) + r"\s*:?\s*([-0-9.]+)(?:\s*±\s*([-0-9.]+))?", txt, re.M)
    if not m: return float("nan")
    return float(m[-1][1]) if se else float(m[-1][0])
# scored tokens: llama-perplexity scores positions n_ctx/2 .. n_ctx-2 of each chunk (n_ctx/2 - 1 per chunk)
nch = re.findall(r"(?:calculating perplexity|computing) over (\d+) chunks, n_ctx=(\d+)", txt)
ntok = int(nch[-1][0]) * (int(nch[-1][1]) // 2 - 1) if nch else float("nan")
ll = [stat("Mean    KLD"), stat("Mean    KLD", True), stat("Median  KLD"), stat("99.0%   KLD"),
      stat("Same top p") / 100, stat("Same top p", True) / 100, ntok]
try:
    m = json.load(open(e03))["metrics"]
    ours = [m["kld_mean"], m["kld_mean_lo"], m["kld_mean_hi"], m["kld_median"], m["kld_p99"], m["top1_agree"],
            m["top1_agree_lo"], m["top1_agree_hi"], m["tokens"]]
except OSError:
    ours = [float("nan")] * 9
sp = [float(x) for x in same.split()]
print("\t".join([g, recipe] + ["%.6g" % x for x in ll + ours + [sp[0], sp[1], sp[4], sp[5], sp[6]]]))
PY
done
rm -f "$OUT/kld-f32.gguf".*.qll
mv -f "$TSV.tmp" "$TSV"
column -t -s $'\t' "$TSV"
