/* cmd_bench -- `ql bench -m DIR [-r RECIPE] [--prefill 512,2048] [--decode N] [--reps R] [--packed]`: CPU
 * prefill and decode speed of the engine, measured as llama-bench measures (tools/bench/serving.sh runs both
 * side by side):
 *   prefill T: a fresh sequence, one forward of T tokens, logits of the last position only (llama-bench's
 *     pp T: one batch, the last token's logits); tok/s = T / seconds;
 *   decode N: a fresh sequence, N forwards of one token each, logits every step (llama-bench's tg N);
 *     tok/s = N / seconds.
 * Token ids are fixed (counter-based hash of the position, seed 1, over the vocabulary): speed of a dense model
 * does not depend on them. Each measurement runs --reps times after one warm-up; the median, min and max
 * are printed as one line per test on stdout:
 *   bench <model> <recipe> <test> tok_s <median> min <min> max <max> reps <R> backend <desc>
 * --json FILE also writes them as one benchmark record (metrics prefill<T>_tok_s, decode_tok_s, ... and the
 * CPU model, backend and threads in its manifest-like header), written atomically. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd_bench.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/check.h"
#include "core/cli.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "harness/harness.h"
#include "model/qwen3.h"
#include "ops/cpu_exec.h"
#include "ops/linear.h"
#include "quant/recipe.h"

static void usage(FILE *f) {
    char names[512];
    fprintf(f,
            "usage: ql bench -m DIR [-r RECIPE] [options]\n"
            "CPU prefill and decode tokens/s of the engine (the protocol of llama-bench's pp / tg tests).\n\n"
            "  -m, --model DIR      HF checkpoint directory\n"
            "  -r, --recipe NAME    default bf16 (simulated quantization as in the experiments); one of: %s\n"
            "      --prefill LIST   prompt lengths, comma-separated (default 512,2048; 0 = none)\n"
            "      --decode N       tokens generated one at a time from an empty cache (default 64; 0 = none)\n"
            "      --reps R         repetitions after one warm-up (default 3)\n"
            "      --packed         decode GEMVs read the packed weights (ops/qgemv.h)\n"
            "      --blas-threads   OpenBLAS splits each GEMM (the experiments' split) instead of the engine\n"
            "      --json FILE      also write the numbers as a JSON benchmark record\n"
            "  -h, --help           this text\n",
            recipe_list_names(names, sizeof names));
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct stat3 {
    double med, lo, hi;
};

static struct stat3 stats(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    struct stat3 s = {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
    return s;
}

/* Seconds of one prefill of T tokens (last position's logits). */
static double run_prefill(struct engine *e, const int32_t *ids, int64_t T, float *logits) {
    struct engine_seq *s = engine_seq_new(e, T, KV_CACHE_F32);
    double t0 = monotonic_seconds();
    engine_seq_append(s, ids, T, logits, NULL, 1);
    double t = monotonic_seconds() - t0;
    engine_seq_free(s);
    return t;
}

/* Seconds of N one-token decode steps from an empty cache. */
static double run_decode(struct engine *e, const int32_t *ids, int64_t N, float *logits) {
    struct engine_seq *s = engine_seq_new(e, N, KV_CACHE_F32);
    double t0 = monotonic_seconds();
    for (int64_t i = 0; i < N; i++) engine_seq_append(s, ids + i, 1, logits, NULL, 1);
    double t = monotonic_seconds() - t0;
    engine_seq_free(s);
    return t;
}

/* The CPU model from /proc/cpuinfo ("model name"), or "unknown". */
static void cpu_model(char *buf, size_t n) {
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *c = strchr(line, ':');
        if (!c) break;
        c++;
        while (*c == ' ' || *c == '\t') c++;
        c[strcspn(c, "\n")] = 0;
        snprintf(buf, n, "%s", c);
        break;
    }
    fclose(f);
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *rname = "bf16", *prefill_s = "512,2048", *json = NULL;
    long decode = 64, reps = 3;
    struct cpu_exec ex = {.threads = CPU_THREADS_OWN, .packed_decode = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (cli_common_model_recipe(argc, argv, &i, &model, &rname)) continue;
        else if (!strcmp(a, "--prefill") && v) prefill_s = argv[++i];
        else if (!strcmp(a, "--decode") && v) decode = cli_int("--decode", argv[++i], 0);
        else if (!strcmp(a, "--reps") && v) reps = cli_int("--reps", argv[++i], 1);
        else if (!strcmp(a, "--json") && v) json = argv[++i];
        else if (!strcmp(a, "--packed")) ex.packed_decode = 1;
        else if (!strcmp(a, "--blas-threads")) ex.threads = CPU_THREADS_BLAS;
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!model) { usage(stderr); die_usage("-m DIR is required"); }
    const struct recipe *r = recipe_by_name(rname);
    if (!r) {
        char names[512];
        die_usage("-r: unknown recipe '%s' (known: %s)", rname, recipe_list_names(names, sizeof names));
    }
    long lens[16];
    int n_lens = 0;
    for (const char *p = prefill_s; *p;) {
        char *end;
        long t = strtol(p, &end, 10);
        if (end == p || t < 0 || t > 1 << 20 || n_lens == 16)
            die_usage("--prefill: expected up to 16 comma-separated lengths, got '%s'", prefill_s);
        if (t > 0) lens[n_lens++] = t;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') die_usage("--prefill: expected comma-separated lengths, got '%s'", prefill_s);
    }

    cpu_exec_set(&ex);
    struct harness_opts o;
    harness_defaults(&o);
    o.model = model;
    struct harness h;
    harness_init(&h, "ql-bench", &o);
    struct qwen3_model *m;
    struct engine *e = harness_open_recipe(&h, r, &m, NULL);
    const int64_t V = m->cfg.V;
    long tmax = decode;
    for (int i = 0; i < n_lens; i++) tmax = lens[i] > tmax ? lens[i] : tmax;
    if (tmax > m->cfg.max_pos)
        fprintf(stderr, "ql bench: note: %ld positions exceed max_position_embeddings %lld (speed only)\n", tmax,
                (long long)m->cfg.max_pos);
    int32_t *ids = xmalloc((size_t)(tmax > 0 ? tmax : 1) * sizeof *ids);
    for (long i = 0; i < tmax; i++) ids[i] = (int32_t)(rng_hash(1, (uint64_t)i) % (uint64_t)V);
    float *logits = xmalloc((size_t)V * sizeof *logits);
    double *t = xmalloc((size_t)reps * sizeof *t);
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    const char *desc = linear_backend_desc();
    cJSON *metrics = cJSON_CreateObject();

    for (int i = 0; i <= n_lens; i++) {
        const int is_decode = i == n_lens;
        const long T = is_decode ? decode : lens[i];
        if (T <= 0) continue;
        if (is_decode) run_decode(e, ids, T, logits);
        else run_prefill(e, ids, T, logits);
        for (long k = 0; k < reps; k++)
            t[k] = (double)T / (is_decode ? run_decode(e, ids, T, logits) : run_prefill(e, ids, T, logits));
        struct stat3 s = stats(t, (int)reps);
        char test[32], key[48];
        snprintf(test, sizeof test, is_decode ? "tg%ld" : "pp%ld", T);
        printf("bench %s %s %s tok_s %.2f min %.2f max %.2f reps %ld backend %s%s\n", h.model, r->name, test,
               s.med, s.lo, s.hi, reps, desc, is_decode && ex.packed_decode ? "" : "");
        fflush(stdout);
        snprintf(key, sizeof key, is_decode ? "decode_tok_s" : "prefill%ld_tok_s", T);
        cJSON_AddNumberToObject(metrics, key, s.med);
        snprintf(key, sizeof key, is_decode ? "decode_tok_s_min" : "prefill%ld_tok_s_min", T);
        cJSON_AddNumberToObject(metrics, key, s.lo);
        snprintf(key, sizeof key, is_decode ? "decode_tok_s_max" : "prefill%ld_tok_s_max", T);
        cJSON_AddNumberToObject(metrics, key, s.hi);
        if (is_decode) cJSON_AddNumberToObject(metrics, "decode_tokens", (double)T);
    }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "experiment", "e07-serving");
        cJSON_AddStringToObject(root, "model", h.model);
        cJSON_AddStringToObject(root, "recipe", r->name);
        cJSON *man = cJSON_AddObjectToObject(root, "manifest");
        cJSON_AddStringToObject(man, "kind", "benchmark record (not a cache-keyed result)");
        cJSON_AddStringToObject(man, "engine", "ql");
        cJSON_AddStringToObject(man, "cpu_model", cpu);
        cJSON_AddStringToObject(man, "device", desc);
        cJSON_AddNumberToObject(man, "threads", cpu_exec_threads());
        cJSON_AddNumberToObject(man, "reps", (double)reps);
        cJSON_AddStringToObject(man, "protocol", "pp T: one forward of T tokens, last logits; tg N: N one-token steps from an empty cache");
        cJSON_AddItemToObject(root, "metrics", metrics);
        char *txt = cJSON_Print(root);
        file_write_atomic(json, txt, strlen(txt));
        free(txt);
        cJSON_Delete(root);
    } else {
        cJSON_Delete(metrics);
    }
    free(t);
    free(logits);
    free(ids);
    harness_close_recipe(e, m);
    harness_free(&h, 0);
    return 0;
}
