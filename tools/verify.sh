#!/usr/bin/env bash
# verify.sh -- `make verify`: recompute results on this machine and compare their metrics with the committed
# ones (src/core/verify.h says how: bit-equal on the same backend, else per-metric tolerances).
# Usage: tools/verify.sh MODEL 'EXP...' 'ARGS'
#   Runs build/bin/<exp> --model MODEL --results TMP ARGS for each EXP (in order: e08 reads e02 from TMP),
#   with e03's reference cache under TMP too, so nothing is reused from earlier runs; then
#   build/bin/verify-results results TMP. The temporary tree is removed on every exit path.
set -euo pipefail
model=$1; exps=$2; args=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ql-verify.XXXXXX")
# VERIFY_KEEP=DIR keeps the recomputed tree there (for tools/verify-backends.sh); else it is removed on exit.
if [ -n "${VERIFY_KEEP:-}" ]; then mkdir -p "$(dirname "$VERIFY_KEEP")"; trap 'rm -rf "$VERIFY_KEEP"; mv "$tmp" "$VERIFY_KEEP"' EXIT
else trap 'rm -rf "$tmp"' EXIT; fi
for e in $exps; do
  [ -x "build/bin/$e" ] || { echo "verify: no driver build/bin/$e (EXP must name experiments/<id>)" >&2; exit 2; }
  extra=
  [ "$e" = e03-kld ] && extra="--cache $tmp/cache"
  # e08 judges e02's results: it needs them in the same tree (verify EXP=e08-targets alone uses the committed ones)
  if [ "$e" = e08-targets ] && [ ! -d "$tmp/$(basename "$model")/e02-perplexity" ]; then
    mkdir -p "$tmp/$(basename "$model")" && cp -r "results/$(basename "$model")/e02-perplexity" "$tmp/$(basename "$model")/"
    keep_e02=1
  fi
  echo "verify: build/bin/$e --model $model --results $tmp $extra $args" >&2
  # shellcheck disable=SC2086
  "build/bin/$e" --model "$model" --results "$tmp" $extra $args 2> "$tmp/$e.log" || {
    tail -5 "$tmp/$e.log" >&2; echo "verify: $e failed (log above)" >&2; exit 1; }
  [ "${keep_e02:-0}" = 1 ] && rm -rf "$tmp/$(basename "$model")/e02-perplexity" && keep_e02=0
done
build/bin/verify-results results "$tmp"
