#!/usr/bin/env bash
# verify-backends.sh -- measures how much the metrics move when only the CPU backend changes (OpenBLAS kernel
# family and thread count), the data behind the tolerances in src/core/verify.c.
# Usage: tools/verify-backends.sh ['EXP...']   (default: e02-perplexity e03-kld; ~10 minutes on 2 cores)
# Prints, per backend variant, the `make verify` table against the committed results.
set -uo pipefail
exps=${1:-e02-perplexity e03-kld}
for variant in "OPENBLAS_NUM_THREADS=1" "OPENBLAS_CORETYPE=Haswell" "OPENBLAS_CORETYPE=Sandybridge"; do
  echo "## $variant"
  env "$variant" tools/verify.sh models/qwen3-tiny "$exps" ''
  echo
done
