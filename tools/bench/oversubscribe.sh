#!/usr/bin/env bash
# tools/bench/oversubscribe.sh -- what a busy machine costs `ql logits`: prefill of N tokens with the machine as
# it is, then beside one busy loop per core (same priority, as another user's job would be), for the engine's
# own threading (the default of ql logits / generate / bench, src/ops/cpu_exec.h) and OpenBLAS's split
# (--blas-threads, what the experiments use), and llama-bench's prefill beside them when LLAMA_CPP_DIR is set.
# Usage: tools/bench/oversubscribe.sh [MODEL] [N] [ROUNDS]   (defaults models/qwen3-tiny, 2048, 2)
# Prints one line per run: "<load> <variant> <seconds>". The busy loops end with the script (trap).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:-models/qwen3-tiny}; N=${2:-2048}; ROUNDS=${3:-2}
QL=build/bin/ql
ids=$(python3 -c "print(' '.join(str((i * 2654435761) % 8000) for i in range($N)))")
busy=()
stop() { for p in "${busy[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; busy=(); }
trap stop EXIT
one() {  # load variant args...
  local load=$1 v=$2; shift 2
  local t
  t=$("$QL" logits -m "$MODEL" --ids "$ids" -o /dev/null "$@" 2>&1 | sed -n 's/.* tokens in \([0-9.]*\) s.*/\1/p')
  echo "$load $v $t"
}
gg=""
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
  gg=$(mktemp "${TMPDIR:-/tmp}/ql-oversub.XXXXXX.gguf"); trap 'stop; rm -f "$gg"' EXIT
  "$QL" export-gguf -m "$MODEL" -r bf16 -o "$gg" 2>/dev/null
fi
llama() {  # load
  [ -n "$gg" ] || return 0
  local ts
  ts=$("$LLAMA_CPP_DIR/bin/llama-bench" -m "$gg" -p "$N" -n 0 -t 2 -r 1 -o csv 2>/dev/null | tail -1 | awk -F, '{gsub(/"/,"",$(NF-1)); print $(NF-1)}')
  echo "$1 llama.cpp-f32 $(python3 -c "print(round($N / $ts, 3))")"
}
echo "# $MODEL, $N tokens; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do one as-is own; one as-is blas --blas-threads; llama as-is; done
for c in $(seq 1 "$(nproc)"); do sh -c 'while :; do :; done' & busy+=($!); done
sleep 1
for r in $(seq 1 "$ROUNDS"); do one busy own; one busy blas --blas-threads; llama busy; done
stop
