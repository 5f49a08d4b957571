/* test_model -- the Qwen3 CPU engine against HF transformers (fidelity), and the loader's error table.
 * Fixtures: tests/fixtures/qwen3/{dense-f32,dense-bf16,dense-fp8,moe-bf16}, made by
 * tools/qwen3-reference/make_fixtures.py (random weights, FP32 logits of two sequences from transformers).
 * Checks, per fixture and sequence: max |delta logit| <= 1e-3 and the same argmax at every position; decode
 * through the KV cache (token by token, and in chunks) equals one prefill to 1e-4; a sharded copy of the
 * checkpoint gives bit-identical logits; qwen3_for_each_linear visits every projection and a replaced Linear
 * changes the output. The bad-input table runs the loader in forked children and expects exit status 1 with
 * one error line naming the file and tensor (a warning and success for NaN weights). Ends with a benchmark
 * (printed, not asserted): prefill GFLOP/s against OpenBLAS sgemm on the same Linear shapes. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/check.h"
#include "model/kv_cache.h"
#include "engine/engine.h"
#include "engine/generate.h"
#include "model/logits_file.h"
#include "model/qwen3.h"
#include "model/qwen3_cpu.h"
#include "model/safetensors.h"
#include "fixture.h"
#include "test.h"

#define FIXDIR "tests/fixtures/qwen3"
static char TMP[64];

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static int64_t argmax(const float *x, int64_t n) {
    int64_t b = 0;
    for (int64_t i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

// ---- fidelity against transformers ----

/* Compares our logits with the fixture's, and on a mismatch prints where the hidden states first part. */
static void check_fixture(const char *name) {
    char dir[256], lpath[300];
    snprintf(dir, sizeof dir, "%s/%s", FIXDIR, name);
    snprintf(lpath, sizeof lpath, "%s/logits.bin", dir);
    struct qwen3_model *m = qwen3_load(dir);
    struct logits_file lf;
    logits_file_read(&lf, lpath);
    const int64_t V = m->cfg.V, D = m->cfg.D;
    TEST(lf.V == V && lf.D == D, "%s: logits file matches config (V=%lld D=%lld)", name, (long long)V, (long long)D);
    for (int s = 0; s < lf.n_seqs; s++) {
        const struct logits_seq *q = &lf.seqs[s];
        float *lg = xmalloc((size_t)(q->T * V) * sizeof(float));
        qwen3_cpu_forward(m, q->ids, q->T, 0, NULL, lg, NULL);
        double d = max_diff(lg, q->logits, q->T * V);
        int agree = 0;
        for (int64_t t = 0; t < q->T; t++) agree += argmax(lg + t * V, V) == argmax(q->logits + t * V, V);
        // 1e-3: FP32 against FP32 over a few layers gives ~1e-6; 1e-3 leaves room for a different summation
        // order (BLAS blocking, softmax) at real depth, and still catches any wrong op, which moves logits O(0.1).
        TEST(d <= 1e-3, "%s seq %d (T=%lld): max |delta logit| %.3e <= 1e-3", name, s, (long long)q->T, d);
        TEST(agree == q->T, "%s seq %d: argmax agrees at %d/%lld positions", name, s, agree, (long long)q->T);
        if (d > 1e-3 && q->hidden) {
            // Diagnosis: compare the residual stream after each layer with HF's hidden_states.
            struct kv_cache kv;
            kv_cache_init(&kv, m->cfg.n_layers, m->cfg.H_kv, m->cfg.D_h, q->T, KV_CACHE_F32);
            float *x = xmalloc((size_t)(q->T * D) * sizeof(float));
            qwen3_cpu_embed(m, q->ids, q->T, x);
            printf("  hidden[0] (embeddings): max diff %.3e\n", max_diff(x, q->hidden, q->T * D));
            for (int64_t l = 0; l < m->cfg.n_layers; l++) {
                qwen3_cpu_layer(m, l, x, q->T, 0, &kv);
                printf("  hidden[%lld]: max diff %.3e\n", (long long)l + 1,
                       max_diff(x, q->hidden + (l + 1) * q->T * D, q->T * D));
            }
            free(x);
            kv_cache_free(&kv);
        }
        free(lg);
    }

    // Decode through the KV cache, token by token and in chunks of 5, against one prefill.
    const struct logits_seq *q = &lf.seqs[0];
    float *full = xmalloc((size_t)(q->T * V) * sizeof(float)), *inc = xmalloc((size_t)(q->T * V) * sizeof(float));
    qwen3_cpu_forward(m, q->ids, q->T, 0, NULL, full, NULL);
    struct kv_cache kv;
    kv_cache_init(&kv, m->cfg.n_layers, m->cfg.H_kv, m->cfg.D_h, q->T, KV_CACHE_F32);
    for (int step = 1; step <= 5; step += 4) {
        kv_cache_reset(&kv);
        for (int64_t p = 0; p < q->T; p += step) {
            int64_t n = q->T - p < step ? q->T - p : step;
            qwen3_cpu_forward(m, q->ids + p, n, p, &kv, inc + p * V, NULL);
        }
        double d = max_diff(inc, full, q->T * V);
        // Same math, different GEMM shapes (M = 1 or 5 instead of T): only summation order differs, ~1e-6.
        TEST(d <= 1e-4 && kv.len == q->T, "%s: decode in chunks of %d equals prefill (max %.2e)", name, step, d);
    }
    // A BF16 KV cache is a perturbation of relative size 2^-9: the logits move, but only a little.
    kv_cache_free(&kv);
    kv_cache_init(&kv, m->cfg.n_layers, m->cfg.H_kv, m->cfg.D_h, q->T, KV_CACHE_BF16);
    qwen3_cpu_forward(m, q->ids, q->T, 0, &kv, inc, NULL);
    double d = max_diff(inc, full, q->T * V);
    TEST(d > 0 && d < 0.05, "%s: BF16 KV cache changes logits slightly (max %.2e)", name, d);
    kv_cache_free(&kv);
    free(full);
    free(inc);
    logits_file_free(&lf);
    qwen3_free(m);
}

// ---- sharded checkpoints ----

static void copy_file(const char *from, const char *to) {
    size_t n;
    char *b = file_read_all(from, &n);
    FILE *f = xfopen(to, "wb");
    xfwrite(b, 1, n, f, to);
    xfclose(f, to);
    free(b);
}

/* Writes the tensors of src (all but `drop`, with `edit` applied) into dir as one file or two shards. */
struct edit {
    const char *drop;          /* omit this tensor */
    const char *nan_in;        /* put a NaN into this tensor */
    const char *reshape;       /* give this tensor a wrong first dimension */
};

static void rewrite(const char *src, const char *dir, int shards, const struct edit *ed) {
    struct safetensors st;
    safetensors_open(&st, src);
    mkdir(dir, 0755);
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/config.json", src);
    snprintf(q, sizeof q, "%s/config.json", dir);
    copy_file(p, q);
    struct safetensors_desc *d = xcalloc((size_t)st.n_tensors, sizeof *d);
    void **bufs = xcalloc((size_t)st.n_tensors, sizeof *bufs);
    int n = 0;
    for (int i = 0; i < st.n_tensors; i++) {
        const struct safetensors_tensor *t = st.sorted[i];
        if (ed && ed->drop && !strcmp(t->name, ed->drop)) continue;
        d[n].name = t->name;
        d[n].dtype = t->dtype;
        d[n].n_dims = t->n_dims;
        memcpy(d[n].shape, t->shape, sizeof t->shape);
        size_t nb = (size_t)(t->end - t->begin);
        bufs[n] = xmalloc(nb ? nb : 1);
        memcpy(bufs[n], t->data, nb);
        if (ed && ed->nan_in && !strcmp(t->name, ed->nan_in)) {
            CHECK(t->dtype == SAFETENSORS_DTYPE_F32, "NaN edit needs F32");
            float nan = NAN;
            memcpy(bufs[n], &nan, 4);
        }
        if (ed && ed->reshape && !strcmp(t->name, ed->reshape)) {
            d[n].shape[0] /= 2;
            d[n].shape[1] *= 2;
        }
        d[n].data = bufs[n];
        n++;
    }
    if (shards == 1) {
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        safetensors_write(p, n, d);
    } else {
        int half = n / 2;
        snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
        safetensors_write(p, half, d);
        snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
        safetensors_write(p, n - half, d + half);
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
        FILE *f = xfopen(p, "w");
        fprintf(f, "{\"metadata\": {}, \"weight_map\": {");
        for (int i = 0; i < n; i++)
            fprintf(f, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "", d[i].name, i < half ? 1 : 2);
        fprintf(f, "}}\n");
        xfclose(f, p);
    }
    for (int i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    free(d);
    safetensors_close(&st);
}

/* The JSON file p parsed (config.json edits: the caller changes it and hands it to json_write). */
static cJSON *json_read(const char *p) {
    char *orig = file_read_all(p, NULL);
    cJSON *c = cJSON_Parse(orig);
    free(orig);
    return c;
}

/* Writes c to p (cJSON_Print) and frees c. */
static void json_write(const char *p, cJSON *c) {
    char *txt = cJSON_Print(c);
    FILE *f = xfopen(p, "w");
    fputs(txt, f);
    xfclose(f, p);
    free(txt);
    cJSON_Delete(c);
}

/* rewrite(src, TMP/<sub>, one shard, with the one edit e); the folder's name into d. */
static void rewrite_into(char *d, size_t cap, const char *src, const char *sub, struct edit e) {
    snprintf(d, cap, "%s/%s", TMP, sub);
    rewrite(src, d, 1, &e);
}

static void check_sharded(void) {
    char dir[128];
    snprintf(dir, sizeof dir, "%s/sharded", TMP);
    rewrite(FIXDIR "/dense-f32", dir, 2, NULL);
    struct qwen3_model *a = qwen3_load(FIXDIR "/dense-f32"), *b = qwen3_load(dir);
    int32_t ids[6] = {1, 7, 42, 300, 5, 9};
    float *la = xmalloc((size_t)(6 * a->cfg.V) * sizeof(float)), *lb = xmalloc((size_t)(6 * a->cfg.V) * sizeof(float));
    qwen3_cpu_forward(a, ids, 6, 0, NULL, la, NULL);
    qwen3_cpu_forward(b, ids, 6, 0, NULL, lb, NULL);
    TEST(!memcmp(la, lb, (size_t)(6 * a->cfg.V) * sizeof(float)), "sharded checkpoint (index + 2 shards) gives identical logits");
    free(la);
    free(lb);
    qwen3_free(a);
    qwen3_free(b);
}

// ---- the Linear interface ----

struct visit {
    int n, n_expert, names_ok;
};

static void count_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    struct visit *v = ctx;
    v->n++;
    v->n_expert += expert >= 0;
    char want[160];
    if (expert >= 0) snprintf(want, sizeof want, "model.layers.%d.mlp.experts.%d.%s", layer, expert, qwen3_linear_kind_name(kind));
    else snprintf(want, sizeof want, "model.layers.%d.%s.%s", layer, kind <= QWEN3_LINEAR_O ? "self_attn" : "mlp",
                  qwen3_linear_kind_name(kind));
    v->names_ok &= !strcmp(want, name) && l->w != NULL;
}

static void plug_bf16_acts(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                           struct linear *l) {
    (void)ctx, (void)name, (void)layer, (void)expert, (void)kind;
    l->act = (struct linear_act){LINEAR_ACT_DYNAMIC, QFORMAT_BF16, qformat_resolve(QFORMAT_BF16, NULL)};
}

static void check_linears(void) {
    struct qwen3_model *m = qwen3_load(FIXDIR "/moe-bf16");
    struct visit v = {0, 0, 1};
    int64_t n = qwen3_for_each_linear(m, count_linear, &v);
    // Layer 0 is dense (mlp_only_layers): 4 + 3; layer 1 is MoE: 4 + 8 experts x 3.
    TEST(n == 35 && v.n == 35 && v.n_expert == 24 && v.names_ok, "for_each_linear visits 35 linears (24 experts) with HF names");
    int32_t ids[5] = {3, 1, 4, 1, 5};
    const int64_t V = m->cfg.V;
    float *a = xmalloc((size_t)(5 * V) * sizeof(float)), *b = xmalloc((size_t)(5 * V) * sizeof(float));
    qwen3_cpu_forward(m, ids, 5, 0, NULL, a, NULL);
    qwen3_for_each_linear(m, plug_bf16_acts, NULL);
    qwen3_cpu_forward(m, ids, 5, 0, NULL, b, NULL);
    double d = max_diff(a, b, 5 * V);
    TEST(d > 0 && d < 0.05, "BF16 activations on every Linear (act spec) shift logits by %.2e", d);
    qwen3_free(m);
    free(a);
    free(b);
}

// ---- generation and the engine's sequences ----

/* The engine's sequences: a fork continues bit for bit as the original would (the cache holds exactly what the
 * prefix pass computed), which is what multiple-choice scoring relies on; against one pass from position 0 the
 * chunked and forked logits agree within FP32 GEMM rounding (a GEMM of T rows blocks differently from one of
 * T' rows: logits of O(10) from sums of D = 64 products, bound 1e-4). The sampled fallback is reproducible. */
static void check_engine_seq(struct engine *e, const struct qwen3_model *m) {
    const int64_t V = m->cfg.V;
    const int32_t a[7] = {5, 9, 2, 7, 1, 3, 8}, b[3] = {4, 4, 6};
    float *full = xmalloc((size_t)(7 * V) * sizeof(float)), *got = xmalloc((size_t)(7 * V) * sizeof(float));
    engine_forward(e, a, 7, full, NULL);
    struct engine_seq *s = engine_seq_new(e, 16, KV_CACHE_F32);
    engine_seq_append(s, a, 4, got, NULL, 0);
    engine_seq_append(s, a + 4, 3, got + 4 * V, NULL, 0);
    double dc = max_diff(full, got, 7 * V);
    TEST(dc < 1e-4, "engine: chunked appends == one-shot forward (max |d| %.2e)", dc);
    // Fork at 4 positions, continue with b; the original truncated to 4 and continued with b must agree.
    engine_seq_truncate(s, 4);
    struct engine_seq *f = engine_seq_fork(s);
    float *x = xmalloc((size_t)V * sizeof(float)), *y = xmalloc((size_t)V * sizeof(float));
    engine_seq_append(f, b, 3, x, NULL, 1);
    engine_seq_append(s, b, 3, y, NULL, 1);
    int32_t ab[7] = {5, 9, 2, 7, 4, 4, 6};
    engine_forward(e, ab, 7, full, NULL);
    double df = max_diff(x, full + 6 * V, V);
    TEST(engine_seq_len(f) == 7 && !memcmp(x, y, (size_t)V * sizeof(float)) && df < 1e-4,
         "engine: a fork continues bit for bit as truncate + append; vs one-shot max |d| %.2e", df);
    engine_seq_free(f);
    engine_seq_free(s);
    int32_t s1[2 * 6], s2[2 * 6];
    generate_sample_sequences(e, 1, 2, 6, 42, s1);
    generate_sample_sequences(e, 1, 2, 6, 42, s2);
    int in_range = 1;
    for (int i = 0; i < 12; i++) in_range &= s1[i] >= 0 && s1[i] < V;
    TEST(!memcmp(s1, s2, sizeof s1) && s1[0] == 1 && s1[6] == 1 && in_range,
         "sampled fallback: reproducible for a seed, each sequence starts at first_id");
    free(full), free(got), free(x), free(y);
}


static void check_generate(void) {
    struct qwen3_model *m = qwen3_load(FIXDIR "/dense-f32");
    const int64_t V = m->cfg.V;
    int32_t seq[16] = {11, 22, 33, 44};
    int32_t out[12], out2[12];
    struct generate_params gp = generate_defaults();
    gp.max_new = 12;
    struct generate_stats st;
    struct engine *e = engine_create(m, "cpu");
    int64_t n = generate_run(e, seq, 4, &gp, out, NULL, NULL, &st);
    // Greedy decode through the cache must pick the arg-max of a full prefill of the text so far.
    int ok = n > 0;
    float *lg = xmalloc((size_t)(16 * V) * sizeof(float));
    for (int64_t i = 0; i < n && ok && 4 + i < 16; i++) {
        qwen3_cpu_forward(m, seq, 4 + i, 0, NULL, lg, NULL);
        ok = argmax(lg + (3 + i) * V, V) == out[i];
        seq[4 + i] = out[i];
    }
    TEST(ok && st.n_prompt == 4 && st.n_generated == n, "greedy generation = arg-max of full prefills (%lld tokens%s)",
         (long long)n, st.stopped ? ", stopped at eos" : "");
    gp.sampling.temperature = 0.8f;
    gp.sampling.top_p = 0.9f;
    gp.sampling.seed = 5;
    int64_t a = generate_run(e, seq, 4, &gp, out, NULL, NULL, NULL);
    int64_t b = generate_run(e, seq, 4, &gp, out2, NULL, NULL, NULL);
    TEST(a == b && !memcmp(out, out2, (size_t)a * sizeof(int32_t)), "seeded sampling is reproducible");
    // Stop ids: make the first greedy token a stop id and nothing is generated.
    gp = generate_defaults();
    gp.max_new = 4;
    qwen3_cpu_forward(m, seq, 4, 0, NULL, lg, NULL);
    gp.stop_ids[gp.n_stop++] = (int32_t)argmax(lg + 3 * V, V);
    n = generate_run(e, seq, 4, &gp, out, NULL, NULL, &st);
    TEST(n == 0 && st.stopped && st.stop_id == gp.stop_ids[0], "an extra stop id ends generation before output");
    check_engine_seq(e, m);
    free(lg);
    engine_free(e);
    qwen3_free(m);
}

// ---- the embedded trained model (models/qwen3-tiny), when present ----

/* Its reference_logits.bin ("QLLOGIT1": u32 version, T, V, 0, i32 ids[T], f32 logits[T][V]) and the greedy
 * generations in train_results.json were made by transformers from the same BF16 weights in FP32. */
static void check_tiny(void) {
    const char *dir = "models/qwen3-tiny";
    struct stat sb;
    if (stat("models/qwen3-tiny/reference_logits.bin", &sb) != 0) {
        printf("skip qwen3-tiny: models/qwen3-tiny/reference_logits.bin not found\n");
        return;
    }
    size_t len;
    char *buf = file_read_all("models/qwen3-tiny/reference_logits.bin", &len);
    uint32_t hdr[4];
    memcpy(hdr, buf + 8, sizeof hdr);
    const int64_t T = hdr[1], V = hdr[2];
    CHECK(!memcmp(buf, "QLLOGIT1", 8) && len == 24 + 4 * (size_t)T + 4 * (size_t)(T * V), "reference_logits.bin layout");
    int32_t *ids = xmalloc((size_t)T * sizeof(int32_t));
    float *ref = xmalloc((size_t)(T * V) * sizeof(float));
    memcpy(ids, buf + 24, (size_t)T * 4);
    memcpy(ref, buf + 24 + 4 * T, (size_t)(T * V) * 4);
    struct qwen3_model *m = qwen3_load(dir);
    float *lg = xmalloc((size_t)(T * V) * sizeof(float));
    qwen3_cpu_forward(m, ids, T, 0, NULL, lg, NULL);
    double d = max_diff(lg, ref, T * V);
    int agree = 0;
    for (int64_t t = 0; t < T; t++) agree += argmax(lg + t * V, V) == argmax(ref + t * V, V);
    TEST(d <= 1e-3 && agree == T, "qwen3-tiny: %lld tokens, max |delta logit| %.2e, argmax %d/%lld", (long long)T, d,
         agree, (long long)T);

    // The first two greedy generations of train_results.json, token for token.
    char *js = file_read_all("models/qwen3-tiny/train_results.json", NULL);
    cJSON *root = cJSON_Parse(js);
    const cJSON *gens = cJSON_GetObjectItemCaseSensitive(root, "generations");
    for (int gi = 0; gi < 2 && gi < cJSON_GetArraySize(gens); gi++) {
        const cJSON *g = cJSON_GetArrayItem(gens, gi);
        const cJSON *pi = cJSON_GetObjectItemCaseSensitive(g, "prompt_ids");
        const cJSON *gr = cJSON_GetObjectItemCaseSensitive(g, "greedy_ids");
        int np = cJSON_GetArraySize(pi), ng = cJSON_GetArraySize(gr);
        int32_t *p = xmalloc((size_t)np * 4), *out = xmalloc((size_t)(ng + 1) * 4);
        for (int i = 0; i < np; i++) p[i] = (int32_t)cJSON_GetArrayItem(pi, i)->valuedouble;
        struct generate_params gp = generate_defaults();
        gp.max_new = ng;
        struct engine *e = engine_create(m, "cpu");
        int64_t n = generate_run(e, p, np, &gp, out, NULL, NULL, NULL);
        engine_free(e);
        int same = n == ng;
        for (int i = 0; same && i < ng; i++) same = out[i] == (int32_t)cJSON_GetArrayItem(gr, i)->valuedouble;
        TEST(same, "qwen3-tiny: greedy generation %d equals transformers' (%d tokens)", gi, ng);
        free(p);
        free(out);
    }
    cJSON_Delete(root);
    free(js);
    free(lg);
    free(ids);
    free(ref);
    free(buf);
    qwen3_free(m);
}

// ---- the bad-input table ----

static void load_and_free(void *dir) { qwen3_free(qwen3_load(dir)); }

/* Runs qwen3_load(dir) in a child; returns its exit status and puts its stderr in err. */
static int load_in_child(const char *dir, char *err, size_t cap) {
    return fixture_in_child(load_and_free, (void *)dir, err, cap);
}

static void expect_error(const char *what, const char *dir, const char *needle) {
    char err[4096];
    int st = load_in_child(dir, err, sizeof err);
    TEST(st == 1 && strstr(err, needle) && fixture_count_lines(err) == 1 && strstr(err, "error:"),
         "bad input: %s -> exit %d, one line containing '%s'", what, st, needle);
    if (!(st == 1 && strstr(err, needle))) printf("  stderr was: %s", err);
}

/* Writes a raw safetensors file from a hand-made header and `data_len` zero bytes of data. */
static void write_raw(const char *dir, const char *hdr, uint64_t hdr_len_field, size_t data_len) {
    char p[256];
    mkdir(dir, 0755);
    copy_file(FIXDIR "/dense-f32/config.json", (snprintf(p, sizeof p, "%s/config.json", dir), p));
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    FILE *f = xfopen(p, "wb");
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hdr_len_field >> (8 * i));
    xfwrite(len8, 1, 8, f, p);
    xfwrite(hdr, 1, strlen(hdr), f, p);
    for (size_t i = 0; i < data_len; i++) fputc(0, f);
    xfclose(f, p);
}

static void check_bad_inputs(void) {
    char d[256], p[300];
    const char *src = FIXDIR "/dense-f32";

    // Truncated: the file cut in the middle of the data.
    snprintf(d, sizeof d, "%s/truncated", TMP);
    rewrite(src, d, 1, NULL);
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    struct stat sb;
    stat(p, &sb);
    CHECK(truncate(p, sb.st_size / 2) == 0, "truncate");
    expect_error("truncated safetensors", d, "truncated");

    // Truncated in the length: fewer than the 8 bytes of the header length.
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    CHECK(truncate(p, 5) == 0, "truncate");
    expect_error("truncated in the length (5 bytes)", d, "too short for a safetensors header");

    // Truncated in the header: the length field is intact, the JSON is cut.
    snprintf(d, sizeof d, "%s/truncated-header", TMP);
    write_raw(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 60, 0);
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    CHECK(truncate(p, 8 + 30) == 0, "truncate");
    expect_error("truncated in the header", d, "runs past the end of the file");

    // A header length that points past the end of the file.
    snprintf(d, sizeof d, "%s/hdrlen", TMP);
    write_raw(d, "{}", 1u << 30, 0);
    expect_error("header length past the end", d, "runs past the end of the file");

    // Two tensors whose data_offsets overlap.
    snprintf(d, sizeof d, "%s/overlap", TMP);
    write_raw(d, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 110, 24);
    expect_error("overlapping offsets", d, "overlap");

    // A shape that disagrees with config.json.
    rewrite_into(d, sizeof d, src, "shape", (struct edit){.reshape = "model.layers.1.self_attn.k_proj.weight"});
    expect_error("shape disagrees with config", d, "'model.layers.1.self_attn.k_proj.weight': shape [64, 256] disagrees");

    // A dtype that disagrees with config.json: FP8 weights without an fp8 quantization_config.
    snprintf(d, sizeof d, "%s/dtype", TMP);
    mkdir(d, 0755);
    snprintf(p, sizeof p, "%s/model.safetensors", d);
    copy_file(FIXDIR "/dense-fp8/model.safetensors", p);
    snprintf(p, sizeof p, "%s/config.json", d);
    copy_file(FIXDIR "/dense-f32/config.json", p);
    expect_error("dtype disagrees with config", d, "dtype F8_E4M3 disagrees with config.json");

    // A missing tensor.
    rewrite_into(d, sizeof d, src, "missing", (struct edit){.drop = "model.layers.1.mlp.down_proj.weight"});
    expect_error("missing tensor", d, "missing tensor 'model.layers.1.mlp.down_proj.weight'");

    // NaN in the weights: a warning naming the tensor, and the load succeeds.
    rewrite_into(d, sizeof d, src, "nan", (struct edit){.nan_in = "model.layers.0.mlp.up_proj.weight"});
    char err[4096];
    int st = load_in_child(d, err, sizeof err);
    TEST(st == 0 && strstr(err, "warning:") && strstr(err, "'model.layers.0.mlp.up_proj.weight': 1 of"),
         "bad input: NaN in weights -> warning naming the tensor, exit 0 (got %d)", st);

    // config.json of another architecture.
    snprintf(d, sizeof d, "%s/arch", TMP);
    mkdir(d, 0755);
    snprintf(p, sizeof p, "%s/config.json", d);
    FILE *f = xfopen(p, "w");
    fprintf(f, "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 64}\n");
    xfclose(f, p);
    expect_error("config of another architecture", d, "architecture 'LlamaForCausalLM' is not supported");

    // ---- unchecked arithmetic and casts (issue 9 item 4), rejected as huggingface/safetensors does ----
    struct { const char *what, *hdr, *needle; size_t data; } raw[] = {
        {"overflowing shape product ([2^32, 2^32], 0 bytes)",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", "overflows 64 bits", 0},
        {"overflowing byte count ([2^52, 2^10] F64)",
         "{\"a\":{\"dtype\":\"F64\",\"shape\":[4503599627370496,1024],\"data_offsets\":[0,0]}}", "byte count overflows", 0},
        {"data offset 1e30 (no undefined cast)",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1e30,1e30]}}", "data_offsets must be integers", 4},
        {"fractional data offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4.5]}}",
         "data_offsets must be integers", 4},
        {"shape entry 1e300", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}}",
         "shape entry 0 is not an integer", 4},
        {"trailing bytes after the last tensor", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         "trailing bytes", 8},
        {"header not valid UTF-8", "{\"\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "not valid UTF-8", 4},
        {"unknown dtype", "{\"a\":{\"dtype\":\"F4\",\"shape\":[1],\"data_offsets\":[0,1]}}", "unknown dtype 'F4'", 1},
        {"__metadata__ not strings", "{\"__metadata__\":{\"format\":1}}", "__metadata__['format'] must be a string", 0},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        snprintf(d, sizeof d, "%s/raw%zu", TMP, i);
        write_raw(d, raw[i].hdr, strlen(raw[i].hdr), raw[i].data);
        expect_error(raw[i].what, d, raw[i].needle);
    }

    // ---- config.json values out of range (items 4, 5): a one-line error before any cast or allocation ----
    struct { const char *what, *key, *value, *needle; } cfg[] = {
        {"max_position_embeddings 0", "max_position_embeddings", "0", "'max_position_embeddings': expected an integer in [1,"},
        {"max_position_embeddings -5", "max_position_embeddings", "-5", "'max_position_embeddings': expected an integer in [1,"},
        {"eos_token_id 1e20", "eos_token_id", "1e20", "'eos_token_id': expected an integer in [0,"},
        {"bos_token_id 1e76", "bos_token_id", "1e76", "'bos_token_id': expected an integer in"},
        {"eos_token_id past the vocabulary", "eos_token_id", "[1, 99999999]", "'eos_token_id': expected an integer in [0,"},
        {"hidden_size 2^40", "hidden_size", "1099511627776", "'hidden_size': expected an integer in [1,"},
        {"num_hidden_layers fractional", "num_hidden_layers", "1.5", "expected an integer"},
    };
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        snprintf(d, sizeof d, "%s/cfg%zu", TMP, i);
        rewrite(src, d, 1, NULL);
        snprintf(p, sizeof p, "%s/config.json", d);
        cJSON *c = json_read(p);
        cJSON_ReplaceItemInObjectCaseSensitive(c, cfg[i].key, cJSON_Parse(cfg[i].value));
        json_write(p, c);
        expect_error(cfg[i].what, d, cfg[i].needle);
    }

    // A parameter count past int64: qwen3_config_n_params in checked arithmetic, refused at parse time.
    snprintf(d, sizeof d, "%s/nparams", TMP);
    mkdir(d, 0755);
    snprintf(p, sizeof p, "%s/config.json", d);
    f = xfopen(p, "w");
    fprintf(f, "{\"architectures\": [\"Qwen3MoeForCausalLM\"], \"hidden_size\": 16777216, \"num_hidden_layers\": 256,"
               " \"num_attention_heads\": 4096, \"head_dim\": 4096, \"vocab_size\": 16777216, \"rms_norm_eps\": 1e-6,"
               " \"rope_theta\": 1e6, \"intermediate_size\": 16777216, \"num_experts\": 4096,"
               " \"num_experts_per_tok\": 8, \"moe_intermediate_size\": 16777216}\n");
    xfclose(f, p);
    expect_error("parameter count overflows int64", d, "parameter count of this configuration overflows");

    // Fewer num_hidden_layers than the file holds: an error (it would run a truncated model), unless asked.
    snprintf(d, sizeof d, "%s/fewer-layers", TMP);
    rewrite(src, d, 1, NULL);
    snprintf(p, sizeof p, "%s/config.json", d);
    cJSON *c = json_read(p);
    int64_t L = (int64_t)cJSON_GetObjectItemCaseSensitive(c, "num_hidden_layers")->valuedouble;
    cJSON_ReplaceItemInObjectCaseSensitive(c, "num_hidden_layers", cJSON_CreateNumber((double)(L - 1)));
    json_write(p, c);
    expect_error("num_hidden_layers fewer than the file holds", d, "config.json says num_hidden_layers");
    setenv("QL_ALLOW_FEWER_LAYERS", "1", 1);
    st = load_in_child(d, err, sizeof err);
    unsetenv("QL_ALLOW_FEWER_LAYERS");
    TEST(st == 0, "bad input: fewer layers with QL_ALLOW_FEWER_LAYERS=1 loads (exit %d)", st);
}

// ---- benchmark (printed, not asserted) ----

struct bench_w {
    int n;
    struct safetensors_desc d[32];
    char names[32][96];
    float *bufs[32];
    uint64_t state;
};

/* Appends a tensor: d1 == 0 means a norm vector of ones, else a d0 x d1 matrix uniform in [-0.05, 0.05). */
static void bench_add(struct bench_w *b, const char *name, int64_t d0, int64_t d1) {
    const int n = b->n++;
    const int64_t ne = d0 * (d1 ? d1 : 1);
    snprintf(b->names[n], sizeof b->names[n], "%s", name);
    b->d[n].name = b->names[n];
    b->d[n].dtype = SAFETENSORS_DTYPE_F32;
    b->d[n].n_dims = d1 ? 2 : 1;
    b->d[n].shape[0] = d0;
    b->d[n].shape[1] = d1;
    b->bufs[n] = xmalloc((size_t)ne * sizeof(float));
    for (int64_t i = 0; i < ne; i++) {
        b->state ^= b->state << 13, b->state ^= b->state >> 7, b->state ^= b->state << 17; /* xorshift64 */
        b->bufs[n][i] = d1 ? (float)(((double)(b->state >> 11) / 9007199254740992.0 - 0.5) * 0.1) : 1.0f;
    }
    b->d[n].data = b->bufs[n];
}

/* A random F32 checkpoint of a given config (heads of 64, 2 layers, tied embeddings) for the benchmark. */
static void write_bench_model(const char *dir, int64_t D, int64_t F, int64_t H, int64_t HKV, int64_t V) {
    const int64_t DH = 64, L = 2;
    mkdir(dir, 0755);
    char p[256];
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = xfopen(p, "w");
    fprintf(f, "{\"architectures\": [\"Qwen3ForCausalLM\"], \"hidden_size\": %lld, \"intermediate_size\": %lld, "
               "\"num_hidden_layers\": %lld, \"num_attention_heads\": %lld, \"num_key_value_heads\": %lld, "
               "\"head_dim\": %lld, \"vocab_size\": %lld, \"rms_norm_eps\": 1e-6, \"rope_theta\": 1000000, "
               "\"tie_word_embeddings\": true}\n", (long long)D, (long long)F, (long long)L, (long long)H,
            (long long)HKV, (long long)DH, (long long)V);
    xfclose(f, p);
    struct bench_w *b = xcalloc(1, sizeof *b);
    b->state = 88172645463325252ull;
    bench_add(b, "model.embed_tokens.weight", V, D);
    bench_add(b, "model.norm.weight", D, 0);
    const struct { const char *name; int64_t d0, d1; } per_layer[] = {
        {"input_layernorm.weight", D, 0}, {"post_attention_layernorm.weight", D, 0},
        {"self_attn.q_norm.weight", DH, 0}, {"self_attn.k_norm.weight", DH, 0},
        {"self_attn.q_proj.weight", H * DH, D}, {"self_attn.k_proj.weight", HKV * DH, D},
        {"self_attn.v_proj.weight", HKV * DH, D}, {"self_attn.o_proj.weight", D, H * DH},
        {"mlp.gate_proj.weight", F, D}, {"mlp.up_proj.weight", F, D}, {"mlp.down_proj.weight", D, F},
    };
    for (int l = 0; l < L; l++)
        for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++) {
            char nm[96];
            snprintf(nm, sizeof nm, "model.layers.%d.%s", l, per_layer[i].name);
            bench_add(b, nm, per_layer[i].d0, per_layer[i].d1);
        }
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    safetensors_write(p, b->n, b->d);
    for (int i = 0; i < b->n; i++) free(b->bufs[i]);
    free(b);
}

struct shape_acc {
    int64_t T;
    double flops, secs;
};

static void time_sgemm(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind, struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind;
    struct shape_acc *a = ctx;
    float *x = xcalloc((size_t)(a->T * l->K), 4), *y = xmalloc((size_t)(a->T * l->N) * 4);
    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)a->T, (int)l->N, (int)l->K, 1.0f, x, (int)l->K, l->w,
                (int)l->K, 0.0f, y, (int)l->N);
    a->secs += now_s() - t0;
    a->flops += 2.0 * a->T * l->N * l->K;
    free(x);
    free(y);
}

static void bench_one(const char *label, const char *dir, int64_t T) {
    struct qwen3_model *m = qwen3_load(dir);
    int32_t *ids = xmalloc((size_t)T * sizeof(int32_t));
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)((t * 7919) % m->cfg.V);
    float *h = xmalloc((size_t)(T * m->cfg.D) * sizeof(float));
    qwen3_cpu_forward(m, ids, T, 0, NULL, NULL, h); /* warm-up */
    double best = 1e30, sg = 1e30, flops = qwen3_cpu_flops(m, T, 0, 0), sflops = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        qwen3_cpu_forward(m, ids, T, 0, NULL, NULL, h);
        best = fmin(best, now_s() - t0);
        struct shape_acc a = {T, 0, 0};
        qwen3_for_each_linear(m, time_sgemm, &a);
        sg = fmin(sg, a.secs);
        sflops = a.flops;
    }
    double ours = flops / best * 1e-9, blas = sflops / sg * 1e-9;
    // ours counts the Linears (2 T N K each) and the causal attention products (the triangle only, not the
    // blocked over-computation); elementwise ops and lm_head are not counted. Both rates are best of 5.
    printf("bench %s: prefill T=%lld %.2f GFLOP/s (Linear + causal attention FLOPs; %.1f ms, %.0f tok/s); "
           "sgemm on its Linear shapes %.2f GFLOP/s; ratio %.2f\n",
           label, (long long)T, ours, best * 1e3, (double)T / best, blas, ours / blas);
    free(ids);
    free(h);
    qwen3_free(m);
}

int main(void) {
    check_set_progname("test_model");
    struct stat sb;
    if (stat(FIXDIR "/dense-f32/model.safetensors", &sb) != 0) {
        printf("SKIP: %s not found (run from the repository root)\n", FIXDIR);
        return EXIT_SKIP;
    }
    snprintf(TMP, sizeof TMP, "/tmp/test_model.XXXXXX");
    CHECK(mkdtemp(TMP), "mkdtemp");
    const char *fixtures[] = {"dense-f32", "dense-bf16", "dense-fp8", "moe-bf16"};
    for (int i = 0; i < 4; i++) check_fixture(fixtures[i]);
    check_sharded();
    check_linears();
    check_generate();
    check_tiny();
    check_bad_inputs();
    /* The example of a small config (D 256, GQA 2:1, V 512, 2 layers), the committed fixture (smaller
     * still: D 128, F 256), a mid-size config, and the embedded model. */
    char small[128], mid[128];
    snprintf(small, sizeof small, "%s/bench-small", TMP);
    snprintf(mid, sizeof mid, "%s/bench-mid", TMP);
    write_bench_model(small, 256, 768, 4, 2, 512);
    write_bench_model(mid, 512, 1536, 8, 4, 2048);
    bench_one("fixture dense (D 128)", FIXDIR "/dense-f32", 256);
    bench_one("small (D 256, F 768, 2 layers)", small, 256);
    bench_one("D 512, F 1536, 2 layers", mid, 256);
    struct stat st_tiny;
    if (stat("models/qwen3-tiny/model.safetensors", &st_tiny) == 0) bench_one("qwen3-tiny (D 512, 5 layers)", "models/qwen3-tiny", 256);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    if (system(cmd) != 0) warn("could not remove %s", TMP);
    return TEST_REPORT();
}
