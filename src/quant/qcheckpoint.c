/* qcheckpoint -- the quantized model written from memory; see qcheckpoint.h. */
#include "quant/qcheckpoint.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/json_io.h"
#include "formats/bf16.h"
#include "model/safetensors.h"

/* ---- the tensor list ---- */

/* Owned storage for everything the writer points at (names, converted arrays, scalars), freed at the end. */
struct tlist {
    struct safetensors_desc *d;
    int n, cap;
    void **owned;
    int n_owned, cap_owned;
    cJSON *modules;
};

static void *own(struct tlist *t, void *p) {
    if (t->n_owned == t->cap_owned) {
        t->cap_owned = t->cap_owned ? 2 * t->cap_owned : 256;
        t->owned = xrealloc(t->owned, (size_t)t->cap_owned * sizeof *t->owned);
    }
    t->owned[t->n_owned++] = p;
    return p;
}

static char *name2(struct tlist *t, const char *base, const char *suffix) {
    size_t n = strlen(base) + strlen(suffix) + 2;
    char *s = own(t, xmalloc(n));
    snprintf(s, n, "%s.%s", base, suffix);
    return s;
}

static void push(struct tlist *t, const char *name, enum safetensors_dtype dt, int n_dims, int64_t d0, int64_t d1,
                 const void *data) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->d = xrealloc(t->d, (size_t)t->cap * sizeof *t->d);
    }
    struct safetensors_desc *d = &t->d[t->n++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->dtype = dt;
    d->n_dims = n_dims;
    d->shape[0] = d0;
    d->shape[1] = d1;
    d->data = data;
}

/* An FP32 array as BF16 when that is exact for every value, else as F32 (written from m's own buffer). */
static void push_float(struct tlist *t, const char *name, int n_dims, int64_t d0, int64_t d1, const float *x) {
    int64_t n = n_dims == 1 ? d0 : d0 * d1;
    int exact = 1;
    for (int64_t i = 0; i < n && exact; i++) exact = bf16_round(x[i]) == x[i] || (x[i] != x[i]);
    if (!exact) {
        push(t, name, SAFETENSORS_DTYPE_F32, n_dims, d0, d1, x);
        return;
    }
    uint16_t *h = own(t, xmalloc((size_t)n * sizeof *h));
    bf16_quantize_row_ref(x, h, n);
    push(t, name, SAFETENSORS_DTYPE_BF16, n_dims, d0, d1, h);
}

static float *scalar(struct tlist *t, float v) {
    float *p = own(t, xmalloc(sizeof *p));
    *p = v;
    return p;
}

static void push_linear(struct tlist *t, const char *module, const struct linear *l) {
    if (l->b) push_float(t, name2(t, module, "bias"), 1, l->N, 0, l->b);
    if (!l->packed) {
        push_float(t, name2(t, module, "weight"), 2, l->N, l->K, l->w);
        return;
    }
    const struct qtensor *q = l->packed;
    const char *suffix[3] = {"weight_packed", "weight_scales", "weight_zeros"};
    const uint8_t *arr[3] = {q->data, q->scales, q->zeros};
    size_t bytes[3] = {q->data_bytes, q->scales_bytes, q->zeros_bytes};
    for (int k = 0; k < 3; k++)
        if (arr[k] && bytes[k]) push(t, name2(t, module, suffix[k]), SAFETENSORS_DTYPE_U8, 1, (int64_t)bytes[k], 0, arr[k]);
    if (qformat_info(q->format)->has_global)
        push(t, name2(t, module, "weight_global_scale"), SAFETENSORS_DTYPE_F32, 1, 1, 0, scalar(t, q->global_scale));
    if (l->act.mode == LINEAR_ACT_STATIC && l->act.params.amax > 0)
        push(t, name2(t, module, "input_amax"), SAFETENSORS_DTYPE_F32, 1, 1, 0, scalar(t, l->act.params.amax));
    if (l->in_scale) push(t, name2(t, module, "input_channel_scale"), SAFETENSORS_DTYPE_F32, 1, l->K, 0, l->in_scale);
    cJSON *shape = cJSON_CreateArray();
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)q->N));
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)q->K));
    cJSON_AddItemToObject(t->modules, module, shape);
}

/* Every tensor of m under its HF name (qwen3.h), layer by layer. */
static void collect(struct tlist *t, const struct qwen3_model *m) {
    const struct qwen3_config *c = &m->cfg;
    char base[256];
    push_float(t, "model.embed_tokens.weight", 2, c->V, c->D, m->embed);
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        snprintf(base, sizeof base, "model.layers.%lld", (long long)l);
        push_float(t, name2(t, base, "input_layernorm.weight"), 1, c->D, 0, L->attn_norm);
        push_float(t, name2(t, base, "post_attention_layernorm.weight"), 1, c->D, 0, L->mlp_norm);
        push_float(t, name2(t, base, "self_attn.q_norm.weight"), 1, c->D_h, 0, L->q_norm);
        push_float(t, name2(t, base, "self_attn.k_norm.weight"), 1, c->D_h, 0, L->k_norm);
        const struct linear *attn[4] = {&L->q, &L->k, &L->v, &L->o};
        for (int i = 0; i < 4; i++) {
            char mod[300];
            snprintf(mod, sizeof mod, "%s.self_attn.%s", base, qwen3_linear_kind_name((enum qwen3_linear_kind)i));
            push_linear(t, own(t, xstrdup(mod)), attn[i]);
        }
        if (!L->is_moe) {
            const struct linear *mlp[3] = {&L->gate, &L->up, &L->down};
            for (int i = 0; i < 3; i++) {
                char mod[300];
                snprintf(mod, sizeof mod, "%s.mlp.%s", base,
                         qwen3_linear_kind_name((enum qwen3_linear_kind)(QWEN3_LINEAR_GATE + i)));
                push_linear(t, own(t, xstrdup(mod)), mlp[i]);
            }
            continue;
        }
        push_float(t, name2(t, base, "mlp.gate.weight"), 2, c->E, c->D, L->router);
        for (int64_t e = 0; e < c->E; e++) {
            const struct linear *ex[3] = {&L->exp_gate[e], &L->exp_up[e], &L->exp_down[e]};
            for (int i = 0; i < 3; i++) {
                char mod[300];
                snprintf(mod, sizeof mod, "%s.mlp.experts.%lld.%s", base, (long long)e,
                         qwen3_linear_kind_name((enum qwen3_linear_kind)(QWEN3_LINEAR_GATE + i)));
                push_linear(t, own(t, xstrdup(mod)), ex[i]);
            }
        }
    }
    push_float(t, "model.norm.weight", 1, c->D, 0, m->final_norm);
    if (!c->tie_word_embeddings) push_float(t, "lm_head.weight", 2, c->V, c->D, m->lm_head);
}

static int cmp_desc(const void *a, const void *b) {
    return strcmp(((const struct safetensors_desc *)a)->name, ((const struct safetensors_desc *)b)->name);
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

size_t qcheckpoint_write(const struct qwen3_model *m, const struct recipe *r, const char *out_dir) {
    struct tlist t;
    memset(&t, 0, sizeof t);
    t.modules = cJSON_CreateObject();
    collect(&t, m);
    /* Sorted by name, as the source checkpoints' headers are (the writer keeps the given order). */
    qsort(t.d, (size_t)t.n, sizeof *t.d, cmp_desc);
    mkdir_p(out_dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    safetensors_write(path, t.n, t.d);
    size_t out_bytes = 0;
    {
        FILE *f = xfopen(path, "rb");
        fseek(f, 0, SEEK_END);
        out_bytes = (size_t)ftell(f);
        xfclose(f, path);
    }

    /* config.json: the source's, plus the description of what was done. */
    snprintf(path, sizeof path, "%s/config.json", m->dir);
    cJSON *cfg = json_read_file(path);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "quantization_config");
    cJSON *qc = cJSON_AddObjectToObject(cfg, "quantization_config");
    cJSON_AddStringToObject(qc, "quant_method", "ql");
    cJSON_AddStringToObject(qc, "algorithm", recipe_algo_name(r->algo));
    cJSON_AddStringToObject(qc, "recipe", r->name);
    char label[64];
    cJSON_AddStringToObject(qc, "weight_format", qformat_label(r->weight, &r->weight_params, label, sizeof label));
    if (r->act_mode == RECIPE_ACT_NONE) cJSON_AddNullToObject(qc, "activation_format");
    else cJSON_AddStringToObject(qc, "activation_format", qformat_name(r->act));
    cJSON_AddStringToObject(qc, "activation_scheme", r->act_mode == RECIPE_ACT_NONE      ? "none"
                                                     : r->act_mode == RECIPE_ACT_DYNAMIC ? "dynamic"
                                                                                         : "static");
    cJSON_AddNumberToObject(qc, "hadamard_block",
                            r->transform == RECIPE_TRANSFORM_HADAMARD ? (r->transform_block ? r->transform_block : 128) : 0);
    cJSON_AddItemToObject(qc, "modules", t.modules);
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    json_write_atomic(path, cfg);
    cJSON_Delete(cfg);
    copy_if_present(m->dir, out_dir, "generation_config.json");
    copy_if_present(m->dir, out_dir, "tokenizer.json");
    copy_if_present(m->dir, out_dir, "tokenizer_config.json");

    for (int i = 0; i < t.n_owned; i++) free(t.owned[i]);
    free(t.owned);
    free(t.d);
    return out_bytes;
}
