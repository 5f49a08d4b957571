/* rtn -- apply an RTN recipe to a model, and save the packed result (see rtn.h). */
#include "quant/rtn.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/json_io.h"
#include "core/timer.h"
#include "formats/amax.h"
#include "model/safetensors.h"

/* ---- the hooks ---- */

static void qstate_free(void *p) {
    struct rtn_qstate *s = p;
    qtensor_free(&s->w);
    free(s);
}

/* Rows per parallel chunk: at least this many, so the per-chunk allocations of the codec stay negligible. */
#define RTN_ACT_MIN_ROWS 64

void rtn_act_quant(void *qstate, float *x, int64_t T, int64_t K) {
    const struct rtn_qstate *s = qstate;
    // x: T x K. The activation schemes are row-local (scales per row, group or block along K) or per-tensor
    // (one global scale). Both are split into row chunks quantized in parallel; for a per-tensor scheme the
    // dynamic amax of the whole T x K input is taken first and handed to every chunk as a static amax, which
    // is exactly what the whole-tensor call computes (amax_ref is exact), so the result is bit-identical to
    // qformat_fake_quant_rows(act, x, T, K) (tests/test_quant.c checks it). 2-D block schemes, zero or
    // non-finite tensors, and small T take the serial whole-tensor call.
    struct qparams p = s->act_params;
    int per_tensor = qformat_info(s->act)->has_global;
    int splittable = s->act != QFORMAT_FP8_BLOCK128 && T >= 2 * RTN_ACT_MIN_ROWS;
    if (splittable && per_tensor && !(p.amax > 0)) {
        float a = amax_ref(x, T * K);
        if (a > 0 && a <= FLT_MAX) p.amax = a;   /* NaN and Inf fail both tests */
        else splittable = 0;
    }
    if (!splittable) {
        qformat_fake_quant_rows(s->act, x, T, K, &s->act_params);
        return;
    }
    int64_t n_chunks = T / RTN_ACT_MIN_ROWS;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t r0 = c * T / n_chunks, r1 = (c + 1) * T / n_chunks;
        qformat_fake_quant_rows(s->act, x + r0 * K, r1 - r0, K, &p);
    }
}

const struct qtensor *rtn_packed(const struct linear *l) {
    return l->qstate_free == qstate_free ? &((const struct rtn_qstate *)l->qstate)->w : NULL;
}

/* ---- applying a recipe ---- */

struct apply_ctx {
    const struct recipe *r;
    const struct calib *c;
    struct rtn_stats st;
};

static void apply_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                         struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct apply_ctx *a = ctx;
    const struct recipe *r = a->r;
    CHECK(!l->qstate && !l->act_quant && !l->forward, "%s: already quantized (rtn_apply twice?)", name);
    char err[256];
    if (qformat_check_shape(r->weight, NULL, l->N, l->K, err, sizeof err) != 0)
        die("%s: recipe %s: weight %lld x %lld: %s", name, r->name, (long long)l->N, (long long)l->K, err);
    if (r->act_mode != RECIPE_ACT_NONE && qformat_check_shape(r->act, NULL, 1, l->K, err, sizeof err) != 0)
        die("%s: recipe %s: activations with K=%lld: %s", name, r->name, (long long)l->K, err);

    struct rtn_qstate *s = xcalloc(1, sizeof *s);
    // W: N x K. Quantize, keep the packed form, and make its exact decoding the FP32 view the GEMM reads.
    qtensor_quantize(&s->w, r->weight, l->w, l->N, l->K, NULL);
    float *wq = xmalloc((size_t)(l->N * l->K) * sizeof *wq);
    qtensor_dequantize(&s->w, wq);
    linear_set_weights(l, wq, r->name);
    l->qstate = s;
    l->qstate_free = qstate_free;
    if (r->act_mode != RECIPE_ACT_NONE) {
        s->has_act = 1;
        s->act = r->act;
        s->act_params = qformat_resolve(r->act, NULL);
        if (r->act_mode == RECIPE_ACT_STATIC) s->act_params.amax = calib_amax(a->c, name);
        l->act_quant = rtn_act_quant;
    }
    a->st.n_linears++;
    a->st.n_weights += l->N * l->K;
    a->st.weight_bytes += qtensor_bytes(&s->w);
}

void rtn_apply(struct qwen3_model *m, const struct recipe *r, const struct calib *c, struct rtn_stats *st) {
    if (r->act_mode == RECIPE_ACT_STATIC)
        CHECK(c && c->n > 0, "recipe %s needs calibrated activation ranges", r->name);
    double t0 = monotonic_seconds();
    struct apply_ctx a = {r, c, {0}};
    qwen3_for_each_linear(m, apply_linear, &a);
    a.st.bits_per_weight = a.st.n_weights ? 8.0 * (double)a.st.weight_bytes / (double)a.st.n_weights : 0;
    a.st.seconds = monotonic_seconds() - t0;
    if (st) *st = a.st;
}

/* ---- saving the packed checkpoint ---- */

struct module {
    char *name;                      /* "model.layers.0.self_attn.q_proj" */
    const struct rtn_qstate *s;
};

struct collect {
    struct module *mods;
    int64_t n, cap;
};

static void collect_linear(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                           struct linear *l) {
    (void)layer, (void)expert, (void)kind;
    struct collect *c = ctx;
    if (!rtn_packed(l)) return;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->mods = xrealloc(c->mods, (size_t)c->cap * sizeof *c->mods);
    }
    c->mods[c->n].name = xstrdup(name);
    c->mods[c->n].s = l->qstate;
    c->n++;
}

static int cmp_module(const void *a, const void *b) {
    return strcmp(((const struct module *)a)->name, ((const struct module *)b)->name);
}

/* The module of a tensor "<module>.weight", or NULL when the tensor is not a quantized Linear's weight. */
static const struct module *module_of(const struct collect *c, const char *tensor) {
    size_t n = strlen(tensor);
    if (n < 8 || strcmp(tensor + n - 7, ".weight") != 0) return NULL;
    char *mod = xstrdup(tensor);
    mod[n - 7] = 0;
    struct module key = {mod, NULL};
    const struct module *hit = bsearch(&key, c->mods, (size_t)c->n, sizeof *c->mods, cmp_module);
    free(mod);
    return hit;
}

static void copy_if_present(const char *src_dir, const char *out_dir, const char *file) {
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/%s", src_dir, file);
    snprintf(dst, sizeof dst, "%s/%s", out_dir, file);
    if (!file_exists(src)) return;
    size_t len;
    char *buf = file_read_all(src, &len);
    file_write_atomic(dst, buf, len);
    free(buf);
}

size_t rtn_save(const struct qwen3_model *m, const struct recipe *r, const char *src_dir, const char *out_dir) {
    struct collect c = {0};
    /* The visitor takes a mutable model; nothing is modified here. */
    qwen3_for_each_linear((struct qwen3_model *)m, collect_linear, &c);
    qsort(c.mods, (size_t)c.n, sizeof *c.mods, cmp_module);

    struct safetensors st;
    safetensors_open(&st, src_dir);
    /* Up to five entries per quantized weight, one per other tensor. */
    int cap = st.n_tensors + 4 * (int)c.n;
    struct safetensors_desc *d = xcalloc((size_t)cap, sizeof *d);
    char **names = xcalloc((size_t)cap, sizeof *names);
    float *scalars = xcalloc((size_t)(2 * c.n + 1), sizeof *scalars);
    int nd = 0, ns = 0, n_found = 0;
    cJSON *modules = cJSON_CreateObject();
    for (int i = 0; i < st.n_tensors; i++) {
        const struct safetensors_tensor *t = st.sorted[i];
        const struct module *mod = module_of(&c, t->name);
        if (!mod) {
            d[nd] = (struct safetensors_desc){t->name, t->dtype, t->n_dims, {0}, t->data};
            memcpy(d[nd].shape, t->shape, sizeof t->shape);
            nd++;
            continue;
        }
        n_found++;
        const struct qtensor *q = &mod->s->w;
        const char *suffix[3] = {"weight_packed", "weight_scales", "weight_zeros"};
        const uint8_t *arr[3] = {q->data, q->scales, q->zeros};
        size_t bytes[3] = {q->data_bytes, q->scales_bytes, q->zeros_bytes};
        for (int k = 0; k < 3; k++) {
            if (!arr[k] || !bytes[k]) continue;
            size_t len = strlen(mod->name) + 32;
            names[nd] = xmalloc(len);
            snprintf(names[nd], len, "%s.%s", mod->name, suffix[k]);
            d[nd] = (struct safetensors_desc){names[nd], SAFETENSORS_DTYPE_U8, 1, {(int64_t)bytes[k]}, arr[k]};
            nd++;
        }
        /* Per-tensor FP32 scalars: the scheme's global scale and a static activation range. */
        float vals[2] = {q->global_scale, mod->s->act_params.amax};
        int want[2] = {qformat_info(q->format)->has_global, mod->s->has_act && mod->s->act_params.amax > 0};
        const char *sname[2] = {"weight_global_scale", "input_amax"};
        for (int k = 0; k < 2; k++) {
            if (!want[k]) continue;
            size_t len = strlen(mod->name) + 32;
            names[nd] = xmalloc(len);
            snprintf(names[nd], len, "%s.%s", mod->name, sname[k]);
            scalars[ns] = vals[k];
            d[nd] = (struct safetensors_desc){names[nd], SAFETENSORS_DTYPE_F32, 1, {1}, &scalars[ns]};
            ns++;
            nd++;
        }
        cJSON *shape = cJSON_CreateArray();
        cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)q->N));
        cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)q->K));
        cJSON_AddItemToObject(modules, mod->name, shape);
    }
    if (n_found != c.n)
        die("%s: %lld quantized Linears, but %d of their weights found in the checkpoint", src_dir,
            (long long)c.n, n_found);
    mkdir_p(out_dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    safetensors_write(path, nd, d);
    size_t out_bytes = 0;
    {
        FILE *f = xfopen(path, "rb");
        fseek(f, 0, SEEK_END);
        out_bytes = (size_t)ftell(f);
        xfclose(f, path);
    }

    /* config.json: the source's, plus the description of what was done. */
    snprintf(path, sizeof path, "%s/config.json", src_dir);
    cJSON *cfg = json_read_file(path);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "quantization_config");
    cJSON *qc = cJSON_AddObjectToObject(cfg, "quantization_config");
    cJSON_AddStringToObject(qc, "quant_method", "ql-rtn");
    cJSON_AddStringToObject(qc, "recipe", r->name);
    cJSON_AddStringToObject(qc, "weight_format", qformat_name(r->weight));
    if (r->act_mode == RECIPE_ACT_NONE) cJSON_AddNullToObject(qc, "activation_format");
    else cJSON_AddStringToObject(qc, "activation_format", qformat_name(r->act));
    cJSON_AddStringToObject(qc, "activation_scheme", r->act_mode == RECIPE_ACT_NONE      ? "none"
                                                     : r->act_mode == RECIPE_ACT_DYNAMIC ? "dynamic"
                                                                                         : "static");
    cJSON_AddItemToObject(qc, "modules", modules);
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    json_write_atomic(path, cfg);
    cJSON_Delete(cfg);
    copy_if_present(src_dir, out_dir, "generation_config.json");
    copy_if_present(src_dir, out_dir, "tokenizer.json");
    copy_if_present(src_dir, out_dir, "tokenizer_config.json");

    for (int i = 0; i < nd; i++) free(names[i]);
    free(names);
    free(d);
    free(scalars);
    for (int64_t i = 0; i < c.n; i++) free(c.mods[i].name);
    free(c.mods);
    safetensors_close(&st);
    return out_bytes;
}
