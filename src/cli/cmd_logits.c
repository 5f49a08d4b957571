/* cmd_logits -- `ql logits -m DIR (--ids "1 2 3" | -p TEXT) [-o FILE] [--top K] [--chunk N] [--kv-bf16]`.
 * Runs the CPU engine on one sequence and writes its FP32 logits (T x V) as a QLLOGITS file, or prints the top
 * K (id, logit) pairs of each position. --chunk N feeds the sequence N tokens at a time through the KV cache
 * (N = 1 is token-by-token decode), which must give the same logits as one prefill. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd_logits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/check.h"
#include "ops/cpu_exec.h"
#include "core/timer.h"
#include "core/cli.h"
#include "model/kv_cache.h"
#include "model/logits_file.h"
#include "model/qwen3.h"
#include "engine/engine.h"
#include "model/qwen3_cpu.h"
#include "model/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: ql logits -m DIR (--ids \"ID ID ...\" | -p TEXT) [options]\n"
            "Runs the Qwen3 CPU engine (FP32) on one token sequence and reports its logits.\n\n"
            "  -m, --model DIR     HF checkpoint directory (config.json, *.safetensors)\n"
            "      --ids LIST      token ids separated by spaces or commas\n"
            "  -p, --prompt TEXT   text, tokenized with DIR/tokenizer.json (or --tokenizer)\n"
            "      --tokenizer P   tokenizer.json or its directory\n"
            "  -o, --output FILE   write a QLLOGITS binary file (T x V float32 logits)\n"
            "      --top K         print the top K logits of each position to stdout (default 5; without -o)\n"
            "      --chunk N       feed N tokens per forward call through the KV cache (default: all at once)\n"
            "      --kv-bf16       round the KV cache to BF16\n"
            "      --blas-threads      OpenBLAS splits each GEMM over its threads (the experiments' reference\n"
            "                          split); default: the engine's own split, fair on a busy machine\n"
            "      --packed            decode GEMVs read packed weights (int8 / int4 / mxfp4; ops/qgemv.h)\n"
            "  -h, --help          this text\n");
}

static int32_t *parse_ids(const char *s, int64_t *n) {
    size_t cap = 16;
    int32_t *ids = xmalloc(cap * sizeof *ids);
    *n = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX) die_usage("--ids: '%s' is not a list of token ids", s);
        if ((size_t)*n == cap) ids = xrealloc(ids, (cap *= 2) * sizeof *ids);
        ids[(*n)++] = (int32_t)v;
        p = end;
    }
    if (*n == 0) die_usage("--ids: no token ids given");
    return ids;
}

int cmd_logits(int argc, char **argv) {
    struct cpu_exec ex = {.threads = CPU_THREADS_OWN, .packed_decode = 0};  /* ops/cpu_exec.h */
    const char *dir = NULL, *ids_s = NULL, *prompt = NULL, *tok_path = NULL, *out = NULL;
    long top = 5, chunk = 0;
    int kv_bf16 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has) dir = argv[++i];
        else if (!strcmp(a, "--ids") && has) ids_s = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--prompt")) && has) prompt = argv[++i];
        else if (!strcmp(a, "--tokenizer") && has) tok_path = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has) out = argv[++i];
        else if (!strcmp(a, "--top") && has) top = cli_int("--top", argv[++i], 1);
        else if (!strcmp(a, "--chunk") && has) chunk = cli_int("--chunk", argv[++i], 1);
        else if (!strcmp(a, "--blas-threads")) ex.threads = CPU_THREADS_BLAS;
        else if (!strcmp(a, "--packed")) ex.packed_decode = 1;
        else if (!strcmp(a, "--kv-bf16")) kv_bf16 = 1;
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!dir) { usage(stderr); die_usage("-m DIR is required"); }
    if (!!ids_s == !!prompt) { usage(stderr); die_usage("give exactly one of --ids and -p"); }

    int64_t T;
    int32_t *ids;
    if (ids_s) {
        ids = parse_ids(ids_s, &T);
    } else {
        struct tokenizer *tk = tokenizer_load(tok_path ? tok_path : dir);
        size_t n;
        ids = tokenizer_encode(tk, prompt, strlen(prompt), &n);
        tokenizer_free(tk);
        T = (int64_t)n;
        if (T == 0) die("-p: the prompt encodes to no tokens");
    }

    double t0 = monotonic_seconds();
    struct qwen3_model *m = qwen3_load(dir);
    double t1 = monotonic_seconds();
    const int64_t V = m->cfg.V;
    float *logits = xmalloc((size_t)(T * V) * sizeof(float));
    cpu_exec_set(&ex);
    struct engine *e = engine_create(m, "cpu");
    struct engine_seq *s = engine_seq_new(e, T, kv_bf16 ? KV_CACHE_BF16 : KV_CACHE_F32);
    const int64_t step = chunk > 0 ? chunk : T;
    for (int64_t p = 0; p < T; p += step) {
        int64_t n = T - p < step ? T - p : step;
        engine_seq_append(s, ids + p, n, logits + p * V, NULL, 0);
    }
    engine_seq_free(s);
    engine_free(e);
    double t2 = monotonic_seconds();
    fprintf(stderr, "ql logits: loaded %s in %.2f s; %lld tokens in %.3f s (%.1f tok/s, %.2f GFLOP/s)\n", dir,
            t1 - t0, (long long)T, t2 - t1, (double)T / (t2 - t1),
            qwen3_cpu_flops(m, T, 0, 1) / (t2 - t1) * 1e-9);

    if (out) {
        struct logits_seq s = {.T = T, .ids = ids, .logits = logits, .hidden = NULL};
        struct logits_file lf = {.V = V, .D = m->cfg.D, .n_hidden = 0, .n_seqs = 1, .seqs = &s};
        logits_file_write(out, &lf);
    } else {
        if (top > V) top = V;
        int64_t *best = xmalloc((size_t)top * sizeof *best);
        for (int64_t t = 0; t < T; t++) {
            const float *l = logits + t * V;
            // Partial selection of the top K by repeated scans: K is small and this is a debugging view.
            for (long k = 0; k < top; k++) {
                int64_t b = -1;
                for (int64_t v = 0; v < V; v++) {
                    int taken = 0;
                    for (long j = 0; j < k && !taken; j++) taken = best[j] == v;
                    if (!taken && (b < 0 || l[v] > l[b])) b = v;
                }
                best[k] = b;
            }
            printf("%lld\t%d", (long long)t, ids[t]);
            for (long k = 0; k < top; k++) printf("\t%lld:%.6f", (long long)best[k], l[best[k]]);
            printf("\n");
        }
        free(best);
    }
    free(logits);
    free(ids);
    qwen3_free(m);
    return 0;
}
