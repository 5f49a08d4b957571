#!/usr/bin/env bash
# verify-backends.sh -- how much the metrics move when only the CPU backend changes (OpenBLAS kernel family and
# thread count): the data behind the tolerances in src/core/verify.c.
# Usage: tools/verify-backends.sh ['EXP...'] ['VARIANT...']
#   default EXP: e02-perplexity e03-kld (~6 minutes per variant on 2 idle cores);
#   default VARIANT: OPENBLAS_CORETYPE=Zen (the committed files' backend: must be bit-equal), the machine's own
#   kernels (NATIVE), OPENBLAS_CORETYPE=Haswell, OPENBLAS_NUM_THREADS=1.
# Prints, per variant, the `make verify` table and the largest relative change per metric (tools/verify-stats.py).
set -uo pipefail
exps=${1:-e02-perplexity e03-kld}
variants=${2:-OPENBLAS_CORETYPE=Zen NATIVE OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1}
for v in $variants; do
  keep=build/verify-backends/${v//[^A-Za-z0-9]/_}
  echo "## $v"
  if [ "$v" = NATIVE ]; then VERIFY_KEEP=$keep tools/verify.sh models/qwen3-tiny "$exps" ''
  else env "$v" VERIFY_KEEP=$keep tools/verify.sh models/qwen3-tiny "$exps" ''; fi
  python3 tools/verify-stats.py results "$keep"
  echo
done
