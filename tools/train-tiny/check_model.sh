#!/usr/bin/env bash
# check_model.sh -- the C engine against a model folder made by tools/train-tiny (train.py or train_moe.py).
# Three checks, all against what transformers computed in the training run (train_results.json,
# reference_logits.bin in the folder):
#   1. logits: `ql logits` on the run's 64 reference ids; max |delta logit| <= 1e-3 and argmax equal at every
#      position (tools/train-tiny/compare_logits.py);
#   2. greedy generation: `ql generate` (temperature 0) from each prompt's ids gives the run's greedy ids token
#      for token (a near-tie in the argmax can flip under another summation order: a finding to look at);
#   3. validation perplexity: `ql eval` on the held-out tail of ../shared/corpus/train.txt.xz (the protocol of
#      train.py: one-piece tokenization, non-overlapping 2048-token windows, 2047 scored tokens each); the
#      token ids' sha256 equals the run's val_ids_sha256_int32le and the perplexity is within 0.5 % of its
#      val_ppl (BF16 weights, FP32 math on both sides). About 5 minutes on two cores.
# Usage: tools/train-tiny/check_model.sh [MODEL_DIR] [SHARED_DIR]   (defaults models/qwen3-tiny-moe, ../shared)
# Exit 0 when both pass, 1 when one fails, 77 when the corpus or the weights are absent.
set -euo pipefail
model=${1:-models/qwen3-tiny-moe}
shared=${2:-../shared}
corpus=$shared/corpus/train.txt.xz
ref=$model/train_results.json
[ -f "$ref" ] || { echo "$ref: not found (expected a tools/train-tiny model folder)"; exit 1; }
[ -f "$model/model.safetensors" ] || { echo "SKIP: $model/model.safetensors not found"; exit 77; }
[ -f "$corpus" ] || { echo "SKIP: $corpus not found"; exit 77; }
[ -x build/bin/ql ] || { echo "build/bin/ql not found: run make build/bin/ql first"; exit 1; }
name=$(basename "$model")
work=build/check-$name
mkdir -p "$work" build/tiny-val
status=0

read -r offset val_ppl val_sha ids < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["split"]["split_offset"], d["val_ppl"], d["val_ids_sha256_int32le"],
      ",".join(map(str, d["reference_logits"]["ids"] if "reference_logits" in d and "ids" in d["reference_logits"]
                         else d["val_ids_first64"])))' "$ref")

build/bin/ql logits -m "$model" --ids "$ids" -o "$work/logits.bin" 2> "$work/logits.err"
python3 tools/train-tiny/compare_logits.py "$model/reference_logits.bin" "$work/logits.bin" || status=1

python3 - "$model" <<'PY' || status=1
import json, subprocess, sys
m = sys.argv[1]
gens = json.load(open(m + "/train_results.json"))["generations"]
same = 0
for g in gens:
    r = subprocess.run(["build/bin/ql", "generate", "-m", m, "--ids", " ".join(map(str, g["prompt_ids"])),
                        "-n", str(len(g["greedy_ids"]))], capture_output=True, text=True)
    out = [int(x) for x in r.stdout.replace(",", " ").split()] if r.returncode == 0 else None
    same += out is not None and out[:len(g["greedy_ids"])] == g["greedy_ids"]
print("%s greedy generations equal to the training run's token for token: %d of %d" %
      ("ok" if same == len(gens) else "FAILED", same, len(gens)))
sys.exit(0 if same == len(gens) else 1)
PY

if [ ! -f build/tiny-val/train.txt ]; then
    xz -dc "$corpus" > build/tiny-val/train.txt.tmp && mv build/tiny-val/train.txt.tmp build/tiny-val/train.txt
fi
build/bin/ql eval -m "$model" --text build/tiny-val/train.txt --text-offset "$offset" \
    > "$work/eval.out" 2> "$work/eval.err"
ids_sha=$(sed -n 's/.*ids sha256 \([0-9a-f]*\).*/\1/p' "$work/eval.err")
ppl=$(awk '{for (i = 1; i < NF; i++) if ($i == "ppl") print $(i + 1)}' "$work/eval.out")
rel=$(awk -v a="$ppl" -v b="$val_ppl" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; printf "%.3g", d }')
if [ "$ids_sha" = "$val_sha" ]; then echo "ok validation ids sha256 $ids_sha equals the training run's"
else echo "FAILED validation ids sha256 '$ids_sha', training run $val_sha"; status=1; fi
if awk -v r="$rel" 'BEGIN { exit !(r <= 0.005) }'; then
    echo "ok validation ppl $ppl (ql eval) vs $val_ppl (training script): relative difference $rel <= 0.005"
else echo "FAILED validation ppl '$ppl' (ql eval) vs $val_ppl (training script): relative difference $rel > 0.005"
    status=1; fi
exit $status
