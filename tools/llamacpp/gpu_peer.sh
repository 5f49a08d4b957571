#!/bin/bash
# gpu_peer.sh -- e07-serving's llama.cpp peer on one GPU machine (issue 15): GGUF files of the CUDA serving
# engine's random weights (ql gguf-random), our check_qwen3_serve --bench, and llama-bench of a user's own
# llama.cpp CUDA build on those files, in one session on one machine, so that every ratio ours / theirs comes
# from the same card and the same call. This script builds nothing (LLAMA_BENCH names the user's build).
#
# Phases (in this order; gen may run in the background beside ours and check, llama waits for each file):
#   env     the machine, driver, CUDA, CPU, memory, the carry's SHA256SUMS          -> stdout
#   gen     ql gguf-random of each SET into $GG, one at a time (atomic: a file exists once complete)
#   ours    check_qwen3_serve --bench --models $OURS_MODELS --recipes $OURS_RECIPES --reps $OURS_REPS
#           -> $OUT/serve.jsonl (its stdout is the check log)
#   check   check_gguf_random --gguf on each SET's file (its bytes against the engine's device planes:
#           src/cli/cmd_gguf_random.h), waiting for files only while process $CHECK_UNTIL_PID runs
#   llama   for each SET in order: wait for its file, llama-bench -m F -ngl 99 -r $REPS -p 512 -n 128 -d 0,512
#           -o jsonl >> $OUT/llamabench.jsonl (stderr >> $OUT/llamabench.log), then delete the file;
#           a SET whose turn comes after $DEADLINE (epoch seconds) is skipped and logged
# Environment: C (the unpacked tools/llamacpp/device_carry.sh tarball: bin/ lib/ libs/ tok/), OUT, GG (GGUF
# folder: default /dev/shm/gg when it has 48 GiB free, else ./gg), LLAMA_BENCH (llama phase), DEADLINE,
# SETS (default below: Qwen3-8B first, the pairs a deadline should keep), REPS (5), OURS_THREADS (4: the CPU
# threads of the checks' reference engine, so that a concurrent build keeps the other cores).
# Then tools/e07_llamacpp.py turns $OUT into results/<model>@H200/e07-serving/llamacpp-<type>.json.
set -u
phase=${1:?usage: gpu_peer.sh env|gen|ours|check|llama}
C=${C:?C: the unpacked carry}
OUT=${OUT:?OUT: the output folder}
SETS=${SETS:-"Qwen3-8B:q4_0 Qwen3-8B:bf16 Qwen3-8B:mxfp4 Qwen3-8B:q8_0 Qwen3-0.6B:q4_0 Qwen3-0.6B:bf16 Qwen3-0.6B:mxfp4 Qwen3-0.6B:q8_0"}
REPS=${REPS:-5}
export LD_LIBRARY_PATH="$C/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${GG:-}" ]; then
    free_kb=$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)
    if [ "${free_kb:-0}" -gt $((48 * 1024 * 1024)) ]; then GG=/dev/shm/gg; else GG=$PWD/gg; fi
fi
mkdir -p "$GG" "$OUT"
ts() { date -u +%H:%M:%S; }

case $phase in
env)
    echo "date_utc $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv,noheader
    nvidia-smi | sed -n 1,12p
    nvcc --version | tail -2
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core)'
    free -g | sed -n 1,2p
    df -h /dev/shm . | tail -2
    echo "GG $GG"
    cat "$C/SHA256SUMS"
    ;;
gen)
    if [ ! -f "$C/tok/tokenizer.json" ] && [ -f "$C/tok/tok.pack.json" ]; then
        python3 "$(dirname "$0")/tokpack.py" unpack "$C/tok/tok.pack.json" "$C/tok/tokenizer.json" || exit 1
    fi
    for s in $SETS; do
        model=${s%%:*} type=${s##*:}
        f="$GG/$model-$type.gguf"
        echo "$(ts) gen $model $type"
        "$C/bin/ql" gguf-random --shape "$model" --type "$type" --tokenizer "$C/tok" --threads "${GEN_THREADS:-6}" -o "$f" ||
            echo "$(ts) gen $model $type FAILED"
    done
    echo "$(ts) gen done"
    ;;
ours)
    echo "$(ts) ours start"
    OMP_NUM_THREADS=${OURS_THREADS:-4} OPENBLAS_NUM_THREADS=${OURS_THREADS:-4} "$C/bin/check_qwen3_serve" --bench --out "$OUT/serve.jsonl" --models "${OURS_MODELS:-Qwen3-0.6B,Qwen3-8B}" \
        --recipes "${OURS_RECIPES:-bf16,fp8,mxfp4-w4a16,gptq}" --reps "${OURS_REPS:-3}"
    echo "$(ts) ours exit $?"
    ;;
check)
    # While the GPU waits for the llama.cpp build: each file that is written before process $CHECK_UNTIL_PID
    # ends (the build) is compared with serve_w_random's device planes; the others are logged as not checked.
    for s in $SETS; do
        model=${s%%:*} type=${s##*:}
        f="$GG/$model-$type.gguf"
        while [ ! -f "$f" ] && kill -0 "${CHECK_UNTIL_PID:-999999999}" 2>/dev/null; do sleep 1; done
        if [ ! -f "$f" ]; then echo "$(ts) check $model $type: NOT CHECKED (written after the build ended)"; continue; fi
        "$C/bin/check_gguf_random" --gguf "$f" --type "$type" | grep -v '^ok '
        echo "$(ts) check $model $type: check_gguf_random exit ${PIPESTATUS[0]}"
    done
    ;;
llama)
    LLAMA_BENCH=${LLAMA_BENCH:?LLAMA_BENCH: a llama-bench binary}
    [ -x "$LLAMA_BENCH" ] || { echo "$(ts) $LLAMA_BENCH: not built (see the build log)"; exit 1; }
    for s in $SETS; do
        model=${s%%:*} type=${s##*:}
        f="$GG/$model-$type.gguf"
        while [ ! -f "$f" ]; do
            if [ -n "${DEADLINE:-}" ] && [ "$(date +%s)" -gt "$DEADLINE" ]; then break; fi
            sleep 1
        done
        if [ -n "${DEADLINE:-}" ] && [ "$(date +%s)" -gt "$DEADLINE" ]; then
            echo "$(ts) $model $type: SKIPPED (deadline)"
            continue
        fi
        echo "$(ts) $model $type: $(stat -c %s "$f") bytes"
        echo "=== $model $type $(ts)" >> "$OUT/llamabench.log"
        "$LLAMA_BENCH" -m "$f" -ngl 99 -r "$REPS" -p 512 -n 128 -d 0,512 -o jsonl \
            >> "$OUT/llamabench.jsonl" 2>> "$OUT/llamabench.log"
        echo "$(ts) llama-bench $model $type exit $?"
        rm -f "$f"
    done
    ;;
*) echo "gpu_peer.sh: unknown phase '$phase' (env, gen, ours, check, llama)" >&2; exit 2 ;;
esac
