/* test_quant -- src/quant: the recipe table, RTN applied to a model, calibration and the packed checkpoint.
 * The model is a small random Qwen3 written by this test (2 layers, D = 256, F = 384, 2 heads of 128, 1 KV
 * head, V = 320, BF16 weights) into a temporary folder, so nothing depends on downloaded files. Checks:
 * every quantized Linear's FP32 view equals dequantize(quantize(W)) bit for bit, its forward equals an
 * independent dequantize-then-matmul in double (within the FP32 rounding bound), the act_quant hook equals
 * qformat_fake_quant_rows bit for bit (serial and row-parallel paths, per-row and per-tensor schemes), bf16 on
 * a BF16 checkpoint changes nothing (identical logits), calibration finds every Linear's input amax, and the
 * checkpoint written by qcheckpoint_write decodes back to the same weights. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/json_io.h"
#include "core/rng.h"
#include "formats/qformat.h"
#include "model/qwen3.h"
#include "model/qwen3_cpu.h"
#include "model/safetensors.h"
#include "quant/calib.h"
#include "quant/recipe.h"
#include "ops/act_quant.h"
#include "quant/qcheckpoint.h"
#include "quant/quantize.h"
#include "test.h"

/* ---- a random BF16 checkpoint ---- */

#define FX_L 2
#define FX_D 256
#define FX_F 384
#define FX_H 2
#define FX_HKV 1
#define FX_DH 128
#define FX_V 320

static char FXDIR[64];

static uint16_t f32_to_bf16(float f) {
    /* Round to nearest even on the top 16 bits (inputs are finite normal values here). */
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

struct fx_writer {
    int n;
    struct safetensors_desc d[64];
    char names[64][96];
    struct rng r;
};

/* Adds a BF16 tensor of shape [a] (b == 0) or [a, b]: N(0, sd^2) values, or all ones when sd == 0. */
static void fx_add(struct fx_writer *w, const char *name, int64_t a, int64_t b, double sd) {
    int64_t n = a * (b ? b : 1);
    uint16_t *p = xmalloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = f32_to_bf16(sd == 0 ? 1.0f : (float)(sd * rng_normal(&w->r)));
    snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
    w->d[w->n] = (struct safetensors_desc){w->names[w->n], SAFETENSORS_DTYPE_BF16, b ? 2 : 1, {a, b}, p};
    w->n++;
}

static void fx_write(void) {
    struct fx_writer w;
    memset(&w, 0, sizeof w);
    rng_init(&w.r, 20240601);
    char n[96];
    /* Embedding scale 0.1 keeps logits O(1) (D = 256 normed features), so distributions are not one-hot. */
    fx_add(&w, "model.embed_tokens.weight", FX_V, FX_D, 0.1);
    fx_add(&w, "model.norm.weight", FX_D, 0, 0);
    for (int l = 0; l < FX_L; l++) {
        const char *norms[4] = {"input_layernorm", "post_attention_layernorm", "self_attn.q_norm", "self_attn.k_norm"};
        const int64_t nd[4] = {FX_D, FX_D, FX_DH, FX_DH};
        for (int i = 0; i < 4; i++) {
            snprintf(n, sizeof n, "model.layers.%d.%s.weight", l, norms[i]);
            fx_add(&w, n, nd[i], 0, 0);
        }
        const char *proj[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        const int64_t pn[7] = {FX_H * FX_DH, FX_HKV * FX_DH, FX_HKV * FX_DH, FX_D, FX_F, FX_F, FX_D};
        const int64_t pk[7] = {FX_D, FX_D, FX_D, FX_H * FX_DH, FX_D, FX_D, FX_F};
        for (int i = 0; i < 7; i++) {
            snprintf(n, sizeof n, "model.layers.%d.%s.weight", l, proj[i]);
            fx_add(&w, n, pn[i], pk[i], 1.0 / sqrt((double)pk[i]));
        }
    }
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", FXDIR);
    safetensors_write(path, w.n, w.d);
    for (int i = 0; i < w.n; i++) free((void *)w.d[i].data);
    snprintf(path, sizeof path, "%s/config.json", FXDIR);
    FILE *f = xfopen(path, "w");
    fprintf(f,
            "{\"architectures\": [\"Qwen3ForCausalLM\"], \"attention_bias\": false, \"head_dim\": %d,\n"
            " \"hidden_act\": \"silu\", \"hidden_size\": %d, \"intermediate_size\": %d,\n"
            " \"max_position_embeddings\": 512, \"model_type\": \"qwen3\", \"num_attention_heads\": %d,\n"
            " \"num_hidden_layers\": %d, \"num_key_value_heads\": %d, \"rms_norm_eps\": 1e-06,\n"
            " \"rope_scaling\": null, \"rope_theta\": 1000000, \"sliding_window\": null,\n"
            " \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\", \"use_sliding_window\": false,\n"
            " \"vocab_size\": %d, \"bos_token_id\": 0, \"eos_token_id\": 1}\n",
            FX_DH, FX_D, FX_F, FX_H, FX_L, FX_HKV, FX_V);
    xfclose(f, path);
}

static int32_t *fx_ids(int64_t n, uint64_t seed) {
    struct rng r;
    rng_init(&r, seed);
    int32_t *ids = xmalloc((size_t)n * sizeof *ids);
    for (int64_t i = 0; i < n; i++) ids[i] = (int32_t)rng_below(&r, FX_V);
    return ids;
}

/* ---- the recipe table ---- */

static void test_recipes(void) {
    const char *names[] = {"bf16", "fp8", "nvfp8", "mxfp8", "nvfp4", "mxfp4", "nvfp4-w4a16", "mxfp4-w4a16"};
    const char *algo_names[] = {"rtn-int4", "rtn-int4-asym", "gptq", "gptq-asym", "awq", "gptq-nvfp4-w4a16",
                                "gptq-mxfp4-w4a16", "awq-nvfp4-w4a16", "gptq-mxfp4-had", "gptq-nvfp4-had",
                                "int8-w8a8", "gptq-w4a8", "rtn-int4-g64", "gptq-g64",
                                "gptq-g64-nofloor", "rtn-int4-asym-g64", "awq-g64", "awq-g64-routerfold"};
    TEST(recipe_count() == 26, "recipe table has 26 recipes (8 RTN rows first, then 12 of issue 10, then 6 of issue 16)");
    int ok = 1;
    for (int i = 0; i < 8; i++) ok &= recipe_at(i) == recipe_by_name(names[i]) && !strcmp(recipe_at(i)->name, names[i]);
    TEST(ok, "recipe order and lookup (bf16 first, FP8 then FP4)");
    ok = 1;
    for (int i = 0; i < 18; i++) ok &= recipe_at(8 + i) == recipe_by_name(algo_names[i]);
    TEST(ok, "the algorithm rows follow, in their order");
    const struct recipe *g = recipe_by_name("gptq"), *a = recipe_by_name("awq");
    TEST(g->algo == RECIPE_ALGO_GPTQ && g->weight == QFORMAT_INT4_SYM && g->gptq.act_order == 1 && g->gptq.block == 128 &&
         g->gptq.damp == 0.01 && a->algo == RECIPE_ALGO_AWQ && a->weight == QFORMAT_INT4_ASYM && a->awq.n_grid == 20 &&
         a->awq.duo_scaling && a->awq.clip && a->awq.min_rows_k == 1.0 && !a->awq.router_fold,
         "gptq / awq rows hold the reference defaults");
    {
        const struct recipe *w = recipe_by_name("awq-g64"), *f = recipe_by_name("awq-g64-routerfold");
        TEST(w->weight == QFORMAT_INT4_ASYM && w->weight_params.group_size == 64 && !w->awq.router_fold &&
             f->awq.router_fold == 1 && f->weight_params.group_size == 64, "awq-g64: INT4 asym g64, AutoAWQ's "
             "uncompensated router; awq-g64-routerfold folds it");
    }
    {
        const struct recipe *h = recipe_by_name("gptq-mxfp4-had");
        TEST(h->transform == RECIPE_TRANSFORM_HADAMARD && h->transform_block == 128 && h->act_mode == RECIPE_ACT_DYNAMIC,
             "gptq-mxfp4-had: Hadamard 128 + dynamic MXFP4 activations");
    }
    const struct recipe *r = recipe_by_name("fp8");
    TEST(r->weight == QFORMAT_FP8_BLOCK128 && r->act == QFORMAT_FP8_GROUP128 && r->act_mode == RECIPE_ACT_DYNAMIC,
         "fp8 = E4M3 128x128 weights + 1x128 dynamic activations");
    r = recipe_by_name("nvfp8");
    TEST(r->weight == QFORMAT_FP8_TENSOR && r->act == QFORMAT_FP8_TENSOR && r->act_mode == RECIPE_ACT_STATIC,
         "nvfp8 = per-tensor weights + static per-tensor activations");
    r = recipe_by_name("nvfp4-w4a16");
    TEST(r->weight == QFORMAT_NVFP4 && r->act_mode == RECIPE_ACT_NONE && r->family == RECIPE_FAMILY_FP4,
         "nvfp4-w4a16 is weight-only FP4");
    TEST(recipe_by_name("int8") == NULL && recipe_is_baseline(recipe_by_name("bf16")), "unknown name, baseline");
    const struct recipe *list[32];
    TEST(recipe_parse_list("all", list, "t") == recipe_count(), "parse 'all'");
    int n = recipe_parse_list("mxfp4,bf16,mxfp4", list, "t");
    TEST(n == 2 && list[0] == recipe_by_name("mxfp4") && list[1] == recipe_by_name("bf16"),
         "parse list keeps order, drops duplicates");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        recipe_parse_list("bf16,nvfp6", list, "--recipes");
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    TEST(WIFEXITED(st) && WEXITSTATUS(st) == 1, "unknown recipe in a list is an error (exit 1)");
}

/* ---- the activation hook against src/formats ---- */

static void test_act_quant(void) {
    /* Heavy-tailed rows with a few outliers, so per-tensor and per-block scales differ. */
    const int64_t K = 256, Ts[] = {1, 7, 128, 300};
    const enum qformat fs[] = {QFORMAT_FP8_GROUP128, QFORMAT_MXFP8, QFORMAT_MXFP4, QFORMAT_NVFP4, QFORMAT_FP8_TENSOR};
    struct rng r;
    rng_init(&r, 5);
    for (size_t fi = 0; fi < sizeof fs / sizeof fs[0]; fi++) {
        for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
            const int64_t T = Ts[ti], n = T * K;
            float *x = xmalloc((size_t)n * sizeof *x), *a = xmalloc((size_t)n * sizeof *a),
                  *b = xmalloc((size_t)n * sizeof *b);
            for (int64_t i = 0; i < n; i++) x[i] = (float)(rng_normal(&r) * (i % 97 == 0 ? 30.0 : 1.0));
            for (int stat = 0; stat < 2; stat++) {
                if (stat && fs[fi] != QFORMAT_FP8_TENSOR) continue;
                struct qparams ap = qformat_resolve(fs[fi], NULL);
                if (stat) ap.amax = 5.0f;   /* static range below the outliers: they saturate */
                memcpy(a, x, (size_t)n * sizeof *a);
                memcpy(b, x, (size_t)n * sizeof *b);
                act_quant_rows(fs[fi], &ap, a, T, K);
                qformat_fake_quant_rows(fs[fi], b, T, K, &ap);
                TEST(memcmp(a, b, (size_t)n * sizeof *a) == 0, "act_quant %s%s T=%lld equals qformat_fake_quant_rows bit for bit",
                     qformat_name(fs[fi]), stat ? " (static amax)" : "", (long long)T);
            }
            free(x), free(a), free(b);
        }
    }
}

/* ---- RTN on the fixture model ---- */

struct lin_list {
    int n;
    char names[32][96];
    struct linear *l[32];
};

static void collect(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                    struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct lin_list *ll = ctx;
    CHECK(ll->n < 32, "too many linears");
    snprintf(ll->names[ll->n], sizeof ll->names[0], "%s", name);
    ll->l[ll->n++] = l;
}

/* y = x' W'^T in double, from the hook's quantized input and the dequantized packed weights: the
 * independent "dequantize then matmul" the forward must equal. */
static int check_forward(const struct linear *l, const struct recipe *r, double *worst) {
    const int64_t T = 5, N = l->N, K = l->K;
    struct rng g;
    rng_init(&g, 99);
    float *x = xmalloc((size_t)(T * K) * sizeof *x), *xq = xmalloc((size_t)(T * K) * sizeof *xq);
    float *y = xmalloc((size_t)(T * N) * sizeof *y), *wd = xmalloc((size_t)(N * K) * sizeof *wd);
    for (int64_t i = 0; i < T * K; i++) x[i] = (float)rng_normal(&g);
    memcpy(xq, x, (size_t)(T * K) * sizeof *xq);
    if (r->act_mode != RECIPE_ACT_NONE) {
        qformat_fake_quant_rows(r->act, xq, T, K, &l->act.params);
    }
    qtensor_dequantize(l->packed, wd);
    linear_forward(l, x, y, T);
    int ok = 1;
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                s += (double)xq[t * K + k] * wd[n * K + k];
                mag += fabs((double)xq[t * K + k] * wd[n * K + k]);
            }
            /* An FP32 dot product of length K in any order errs by at most K u sum|x w| (u = 2^-24); the
             * double reference adds nothing visible at that scale. */
            double err = fabs((double)y[t * N + n] - s), bound = (double)K * 0x1p-24 * mag + 1e-30;
            if (err / bound > *worst) *worst = err / bound;
            ok &= err <= bound;
        }
    free(x), free(xq), free(y), free(wd);
    return ok;
}

static void test_rtn(void) {
    struct qwen3_model *ref = qwen3_load(FXDIR);
    struct lin_list rl = {0};
    qwen3_for_each_linear(ref, collect, &rl);
    TEST(rl.n == 7 * FX_L, "fixture has %d decoder Linears", rl.n);
    const int64_t T = 24;
    int32_t *ids = fx_ids(T, 3);
    float *lg_ref = xmalloc((size_t)(T * FX_V) * sizeof *lg_ref), *lg = xmalloc((size_t)(T * FX_V) * sizeof *lg);
    qwen3_cpu_forward(ref, ids, T, 0, NULL, lg_ref, NULL);

    /* Calibration for the static recipe: on the BF16 model, 3 sequences of 16 tokens. */
    struct qwen3_model *cm = qwen3_load(FXDIR);
    int32_t *cids = fx_ids(48, 11);
    struct calib cal;
    calib_run(&cal, cm, cids, 3, 16);
    int all_pos = cal.n == rl.n, hooks_clear = 1;
    for (int64_t i = 0; i < cal.n; i++) all_pos &= cal.e[i].amax > 0 && cal.e[i].rows == 48;
    struct lin_list cl = {0};
    qwen3_for_each_linear(cm, collect, &cl);
    for (int i = 0; i < cl.n; i++) hooks_clear &= !cl.l[i]->observe && !linear_is_quantized(cl.l[i]);
    TEST(all_pos, "calibration: every Linear saw 48 rows and a positive amax");
    TEST(hooks_clear, "calibration leaves no hook behind");
    /* q, k and v read the same normed input, so they must agree on its amax. */
    TEST(cal.e[0].amax == cal.e[1].amax && cal.e[1].amax == cal.e[2].amax, "calibration: q/k/v share one input amax");
    qwen3_free(cm);

    for (int ri = 0; ri < recipe_count(); ri++) {
        const struct recipe *r = recipe_at(ri);
        /* RTN rows only: GPTQ / AWQ / transformed recipes are checked by test_gptq and test_awq. */
        if (r->algo != RECIPE_ALGO_RTN || r->transform != RECIPE_TRANSFORM_NONE) continue;
        struct qwen3_model *m = qwen3_load(FXDIR);
        struct quant_stats st;
        struct quant_calib qc = {&cal, NULL, 0, 0};
        quant_apply(m, r, &qc, &st);
        struct lin_list ml = {0};
        qwen3_for_each_linear(m, collect, &ml);
        int exact = 1, fwd = 1, hooks = 1, nothing_else = 1;
        size_t bytes = 0;
        double worst = 0;
        for (int i = 0; i < ml.n; i++) {
            const struct linear *l = ml.l[i];
            const struct qtensor *q = l->packed;
            if (!q) { exact = 0; continue; }
            /* The FP32 view is the exact decoding of quantize(original W). */
            struct qtensor q2;
            qtensor_quantize(&q2, r->weight, rl.l[i]->w, l->N, l->K, &r->weight_params);   /* as rtn.c */
            float *wd = xmalloc((size_t)(l->N * l->K) * sizeof *wd);
            qtensor_dequantize(&q2, wd);
            exact &= memcmp(wd, l->w, (size_t)(l->N * l->K) * sizeof *wd) == 0;
            free(wd);
            qtensor_free(&q2);
            bytes += qtensor_bytes(q);
            hooks &= l->act.mode == r->act_mode && (r->act_mode == RECIPE_ACT_NONE || l->act.format == r->act);
            if (r->act_mode == RECIPE_ACT_STATIC) hooks &= l->act.params.amax == calib_amax(&cal, ml.names[i]);
            fwd &= check_forward(l, r, &worst);
        }
        /* Embeddings, lm_head and norms are untouched. */
        nothing_else &= memcmp(m->embed, ref->embed, (size_t)(FX_V * FX_D) * sizeof(float)) == 0;
        nothing_else &= memcmp(m->final_norm, ref->final_norm, FX_D * sizeof(float)) == 0;
        TEST(exact, "%s: every Linear holds dequantize(quantize(W)) bit for bit", r->name);
        TEST(fwd, "%s: quantized Linear forward equals dequantize-then-matmul (worst err/bound %.3f)", r->name, worst);
        TEST(hooks, "%s: act spec set exactly for W8A8/W4A4 (static amax from calibration)", r->name);
        TEST(nothing_else, "%s: embeddings and norms unchanged", r->name);
        TEST(st.n_linears == rl.n && st.weight_bytes == bytes &&
                 fabs(st.bits_per_weight - 8.0 * (double)bytes / (double)st.n_weights) < 1e-12,
             "%s: byte count %zu, %.4f bits per weight", r->name, st.weight_bytes, st.bits_per_weight);
        qwen3_cpu_forward(m, ids, T, 0, NULL, lg, NULL);
        int finite = 1;
        double maxd = 0;
        for (int64_t i = 0; i < T * FX_V; i++) {
            finite &= isfinite(lg[i]);
            maxd = fmax(maxd, fabs((double)lg[i] - lg_ref[i]));
        }
        if (recipe_is_baseline(r))
            TEST(maxd == 0, "bf16 on a BF16 checkpoint: logits identical to the unquantized model");
        else
            TEST(finite && maxd > 0, "%s: logits finite and changed (max |delta| %.3g)", r->name, maxd);
        qwen3_free(m);
    }
    /* Expected storage, from the format's layout: MXFP4 = 4 bits per element + one 8-bit E8M0 scale per 32,
     * exactly 4.25 bits, with no per-tensor scale. */
    {
        struct qwen3_model *m = qwen3_load(FXDIR);
        struct quant_stats st;
        quant_apply(m, recipe_by_name("mxfp4-w4a16"), NULL, &st);
        TEST(fabs(st.bits_per_weight - 4.25) < 1e-12, "mxfp4 weights cost 4.25 bits (%.6f)", st.bits_per_weight);
        qwen3_free(m);
    }
    free(ids), free(cids), free(lg), free(lg_ref);
    calib_free(&cal);
    qwen3_free(ref);
}

/* ---- the packed checkpoint ---- */

static void test_save(void) {
    const struct recipe *r = recipe_by_name("nvfp4");
    struct qwen3_model *m = qwen3_load(FXDIR);
    quant_apply(m, r, NULL, NULL);
    char out[96];
    snprintf(out, sizeof out, "%s/out-nvfp4", FXDIR);
    size_t bytes = qcheckpoint_write(m, r, out);
    struct safetensors st;
    char path[160];
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    safetensors_open(&st, path);
    struct lin_list ml = {0};
    qwen3_for_each_linear(m, collect, &ml);
    int ok = 1, n_dec = 0;
    for (int i = 0; i < ml.n; i++) {
        const struct qtensor *q = ml.l[i]->packed;
        char name[160];
        snprintf(name, sizeof name, "%s.weight", ml.names[i]);
        ok &= safetensors_find(&st, name) == NULL;   /* replaced, not duplicated */
        snprintf(name, sizeof name, "%s.weight_packed", ml.names[i]);
        const struct safetensors_tensor *tp = safetensors_find(&st, name);
        snprintf(name, sizeof name, "%s.weight_global_scale", ml.names[i]);
        const struct safetensors_tensor *tg = safetensors_find(&st, name);
        if (!tp || !tg || tp->dtype != SAFETENSORS_DTYPE_U8 || (size_t)tp->n_elems != q->data_bytes) { ok = 0; continue; }
        /* Rebuild a qtensor from the file alone and decode it. */
        struct qtensor f = {0};
        f.format = QFORMAT_NVFP4;
        f.params = qformat_resolve(QFORMAT_NVFP4, NULL);
        f.N = ml.l[i]->N;
        f.K = ml.l[i]->K;
        memcpy(&f.global_scale, tg->data, 4);
        f.data = (uint8_t *)tp->data;
        f.data_bytes = q->data_bytes;
        float *w = xmalloc((size_t)(f.N * f.K) * sizeof *w);
        qtensor_dequantize(&f, w);
        ok &= memcmp(w, ml.l[i]->w, (size_t)(f.N * f.K) * sizeof *w) == 0;
        n_dec++;
        free(w);
    }
    TEST(ok && n_dec == ml.n, "qcheckpoint_write: %d packed NVFP4 weights decode to the in-memory weights", n_dec);
    TEST(safetensors_find(&st, "model.embed_tokens.weight") && safetensors_find(&st, "model.norm.weight"),
         "qcheckpoint_write: unquantized tensors written");
    safetensors_close(&st);
    snprintf(path, sizeof path, "%s/config.json", out);
    cJSON *cfg = json_read_file(path);
    const cJSON *qc = cJSON_GetObjectItemCaseSensitive(cfg, "quantization_config");
    const cJSON *rec = qc ? cJSON_GetObjectItemCaseSensitive(qc, "recipe") : NULL;
    TEST(cJSON_IsString(rec) && !strcmp(rec->valuestring, "nvfp4"), "qcheckpoint_write: config.json names the recipe");
    cJSON_Delete(cfg);
    /* NVFP4 at 4.5 bits is well under the BF16 source's 16 bits per Linear weight. */
    snprintf(path, sizeof path, "%s/model.safetensors", FXDIR);
    FILE *f = xfopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long src = ftell(f);
    xfclose(f, path);
    TEST(bytes > 0 && (long)bytes < src, "qcheckpoint_write: %zu bytes < %ld source bytes", bytes, src);
    qwen3_free(m);
}

int main(void) {
    check_set_progname("test_quant");
    snprintf(FXDIR, sizeof FXDIR, "/tmp/test_quant.XXXXXX");
    CHECK(mkdtemp(FXDIR), "mkdtemp");
    fx_write();
    test_recipes();
    test_act_quant();
    test_rtn();
    test_save();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", FXDIR);
    if (system(cmd) != 0) warn("could not remove %s", FXDIR);
    return TEST_REPORT();
}
