#!/usr/bin/env bash
# check-tiny-val.sh -- the C engine against the training script on qwen3-tiny's held-out split.
# Decompresses ../shared/corpus/train.txt.xz (pinned by the sha256 in the model card), scores its validation
# tail with `ql eval` (the protocol of tools/train-tiny/train.py: one-piece tokenization, non-overlapping
# 2048-token windows, 2047 scored tokens each) and checks (1) the token ids' sha256 equals the training run's
# val_ids_sha256_int32le (our tokenizer == HF tokenizers on 1.28 MB) and (2) the perplexity is within 0.5 % of
# the training run's val_ppl (BF16 weights, FP32 math on both sides). About 5 minutes on two cores.
# Usage: tools/check-tiny-val.sh [SHARED_DIR]   (default ../shared); exit 77 when the corpus is absent.
set -euo pipefail
shared=${1:-../shared}
corpus=$shared/corpus/train.txt.xz
ref=models/qwen3-tiny/train_results.json
[ -f "$corpus" ] || { echo "SKIP: $corpus not found"; exit 77; }
mkdir -p build/tiny-val
if [ ! -f build/tiny-val/train.txt ]; then xz -dc "$corpus" > build/tiny-val/train.txt.tmp && mv build/tiny-val/train.txt.tmp build/tiny-val/train.txt; fi
read -r offset val_ppl val_sha < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["split"]["split_offset"], d["val_ppl"], d["val_ids_sha256_int32le"])' "$ref")
build/bin/ql eval -m models/qwen3-tiny --text build/tiny-val/train.txt --text-offset "$offset" \
    > build/tiny-val/eval.out 2> build/tiny-val/eval.err
ids_sha=$(sed -n 's/.*ids sha256 \([0-9a-f]*\).*/\1/p' build/tiny-val/eval.err)
ppl=$(awk '{for (i = 1; i < NF; i++) if ($i == "ppl") print $(i + 1)}' build/tiny-val/eval.out)
rel=$(awk -v a="$ppl" -v b="$val_ppl" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; printf "%.6f", d }')
status=0
if [ "$ids_sha" = "$val_sha" ]; then echo "ok validation ids sha256 $ids_sha equals the training run's"
else echo "FAILED validation ids sha256 $ids_sha, training run $val_sha"; status=1; fi
if awk -v r="$rel" 'BEGIN { exit !(r <= 0.005) }'; then echo "ok validation ppl $ppl vs training script $val_ppl (relative difference $rel <= 0.005)"
else echo "FAILED validation ppl $ppl vs training script $val_ppl (relative difference $rel > 0.005)"; status=1; fi
exit $status
