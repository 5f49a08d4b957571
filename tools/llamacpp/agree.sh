#!/usr/bin/env bash
# tools/llamacpp/agree.sh -- our engine against llama.cpp's llama-perplexity on GGUF files we export.
# Usage: LLAMA_CPP_DIR=/path/to/llama.cpp/build tools/llamacpp/agree.sh [MODEL] [TEXT] [CHUNKS] [THREADS]
#   MODEL   HF checkpoint folder (default models/qwen3-tiny)
#   TEXT    the text file both read (default ../shared/data/wikitext-2/wiki.test.raw)
#   CHUNKS  chunks of 512 tokens (default 64)     THREADS  llama.cpp threads (default 2)
# LLAMA_CPP_DIR is a user's own llama.cpp build (this repository never builds or ships llama.cpp): the folder
# holding bin/llama-perplexity (or llama-perplexity itself). Without it the script exits 77 (skipped).
# Protocol (src/eval/perplexity_llamacpp.h): -c 512 -b 512 (one chunk per context), F32 KV cache, flash
# attention off; ours is `ql ppl-llamacpp` on the same GGUF file. For each export it prints both PPLs and
# the relative gap, and checks:
#   f32 GGUF: llama.cpp computes in F32 as we do: |gap| <= 1e-5;
#   bf16 GGUF: llama.cpp's CPU vec_dot rounds activations to BF16 (type_traits_cpu[BF16].vec_dot_type), which
#     `ql ppl-llamacpp --act bf16` emulates: |gap to that| <= 1e-5 (the gap to our plain run is reported);
#   q8_0 / q4_0 / q4_1 / mxfp4 / nvfp4: llama.cpp quantizes activations to Q8_0 (Q8_1 for Q4_1) blocks of 32
#     with an FP16 scale amax/127; we do not emulate that exactly, so the expected gap is bounded by the effect
#     of a coarser grid of the same kind, per-token int8 (`--act int8-channel`: one scale per row of K):
#     |gap| <= |gap of ours with int8-channel activations| + 1e-5.
# Writes build/out/llamacpp/<model>/agreement.tsv and the logs beside it. Exit 0 when every check holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-models/qwen3-tiny}
TEXT=${2:-../shared/data/wikitext-2/wiki.test.raw}
CHUNKS=${3:-64}
THREADS=${4:-2}
if [ -z "${LLAMA_CPP_DIR:-}" ]; then echo "SKIP: LLAMA_CPP_DIR is not set (a llama.cpp build with llama-perplexity)" >&2; exit 77; fi
PPL_BIN=""
for c in "$LLAMA_CPP_DIR/bin/llama-perplexity" "$LLAMA_CPP_DIR/llama-perplexity"; do [ -x "$c" ] && PPL_BIN=$c && break; done
[ -n "$PPL_BIN" ] || { echo "agree.sh: error: no llama-perplexity under $LLAMA_CPP_DIR (bin/ or top level)" >&2; exit 1; }
[ -f "$TEXT" ] || { echo "agree.sh: error: $TEXT not found (the text file both engines read)" >&2; exit 1; }
QL=build/bin/ql
[ -x "$QL" ] || { echo "agree.sh: error: $QL missing: run make first" >&2; exit 1; }
OUT=build/out/llamacpp/$(basename "$MODEL")
mkdir -p "$OUT"

# name | how ql export-gguf makes it
VARIANTS=(
  "f32|-r bf16"
  "bf16|-r bf16 --float bf16"
  "q8_0|-r bf16 --q8_0"
  "q4_0|--weights int4-g128-sym"
  "q4_1|--weights int4-g128-asym"
  "mxfp4|-r mxfp4-w4a16"
  "nvfp4|-r nvfp4-w4a16"
)
nll_ours() { "$QL" ppl-llamacpp -m "$1" -f "$TEXT" -c 512 --chunks "$CHUNKS" $2 2>>"$OUT/ours.log" | awk '{print $6}'; }
TSV="$OUT/agreement.tsv"
printf 'gguf\tppl_ours\tppl_llamacpp\trel_gap\treference\tppl_reference\trel_gap_to_reference\tbound\tok\n' > "$TSV.tmp"
fail=0
for v in "${VARIANTS[@]}"; do
  name=${v%%|*}; args=${v#*|}
  g="$OUT/$name.gguf"
  "$QL" export-gguf -m "$MODEL" $args -o "$g" 2>>"$OUT/export.log"
  n_ours=$(nll_ours "$g" "")
  "$PPL_BIN" -m "$g" -f "$TEXT" -c 512 -b 512 --chunks "$CHUNKS" -t "$THREADS" -fa off -ctk f32 -ctv f32 \
      --ppl-output-type 1 > "$OUT/llamacpp-$name.log" 2>&1 || { echo "agree.sh: llama-perplexity failed on $g (see $OUT/llamacpp-$name.log)" >&2; fail=1; continue; }
  # --ppl-output-type 1 lines: "<pos>  <ppl %.4f>  <mean nll %f>  <sd>"; the last is the running total
  n_ll=$(awk 'NF == 4 && $1 ~ /^[0-9]+$/ && $3 ~ /^[0-9.]+$/ {m = $3} END {print m}' "$OUT/llamacpp-$name.log")
  [ -n "$n_ll" ] || { echo "agree.sh: no perplexity lines in $OUT/llamacpp-$name.log" >&2; fail=1; continue; }
  # a run that stopped early (no "Final estimate") covers fewer chunks than ours: not comparable
  grep -q 'Final estimate' "$OUT/llamacpp-$name.log" || { echo "agree.sh: $name: llama-perplexity stopped before its final estimate (see $OUT/llamacpp-$name.log)" >&2; fail=1; continue; }
  case $name in
    f32)  ref="plain"; n_ref=$n_ours ;;
    bf16) ref="act-bf16"; n_ref=$(nll_ours "$g" "--act bf16") ;;
    *)    ref="act-int8-channel"; n_ref=$(nll_ours "$g" "--act int8-channel") ;;
  esac
  python3 - "$name" "$n_ours" "$n_ll" "$ref" "$n_ref" >> "$TSV.tmp" <<'PY' || fail=1
import math, sys
name, n_ours, n_ll, ref, n_ref = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
p_ours, p_ll, p_ref = math.exp(n_ours), math.exp(n_ll), math.exp(n_ref)
gap = p_ll / p_ours - 1
# llama.cpp prints the mean NLL with 6 decimals: +-5e-7 in log PPL, i.e. 5e-7 relative, inside the 1e-5.
if ref == "plain":
    gap_ref, bound, ok = gap, 1e-5, abs(gap) <= 1e-5
elif ref == "act-bf16":
    gap_ref = p_ll / p_ref - 1
    bound, ok = 1e-5, abs(gap_ref) <= 1e-5
else:
    gap_ref = p_ref / p_ours - 1
    bound = abs(gap_ref) + 1e-5
    ok = abs(gap) <= bound
print(f"{name}\t{p_ours:.6f}\t{p_ll:.6f}\t{gap:+.3e}\t{ref}\t{p_ref:.6f}\t{gap_ref:+.3e}\t{bound:.3e}\t{'yes' if ok else 'NO'}")
sys.exit(0 if ok else 1)
PY
done
mv "$TSV.tmp" "$TSV"
column -t -s $'\t' "$TSV"
echo "llama.cpp: $PPL_BIN; text $TEXT ($(sha256sum "$TEXT" | cut -c1-16)...), $CHUNKS chunks of 512, $THREADS threads; table: $TSV" >&2
exit $fail
