/* ckpt_tensors -- the shared part of the checkpoint writers; see ckpt_tensors.h. */
#include "quant/ckpt_tensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/json_io.h"
#include "formats/bf16.h"

void *ckpt_tensors_own(struct ckpt_tensors *t, void *p) {
    if (t->n_own == t->cap_own) {
        t->cap_own = t->cap_own ? 2 * t->cap_own : 256;
        t->own = xrealloc(t->own, (size_t)t->cap_own * sizeof *t->own);
    }
    return t->own[t->n_own++] = p;
}

void ckpt_tensors_push(struct ckpt_tensors *t, const char *base, const char *suffix, enum safetensors_dtype dt,
                       int n_dims, int64_t d0, int64_t d1, const void *data) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->d = xrealloc(t->d, (size_t)t->cap * sizeof *t->d);
    }
    size_t ln = strlen(base) + (suffix ? strlen(suffix) : 0) + 2;
    char *name = ckpt_tensors_own(t, xmalloc(ln));
    snprintf(name, ln, suffix ? "%s.%s" : "%s", base, suffix ? suffix : "");
    struct safetensors_desc *d = &t->d[t->n++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->dtype = dt;
    d->n_dims = n_dims;
    d->shape[0] = d0;
    d->shape[1] = d1;
    d->data = data;
}

void ckpt_tensors_push_float(struct ckpt_tensors *t, const char *base, const char *suffix, int n_dims, int64_t d0,
                             int64_t d1, const float *x) {
    int64_t n = n_dims == 1 ? d0 : d0 * d1;
    int exact = 1;
    // NaN != NaN: a NaN is carried by BF16 as well as by F32 (bf16_quantize_row_ref keeps it a NaN).
    for (int64_t i = 0; i < n && exact; i++) exact = bf16_round(x[i]) == x[i] || x[i] != x[i];
    if (!exact) {
        ckpt_tensors_push(t, base, suffix, SAFETENSORS_DTYPE_F32, n_dims, d0, d1, x);
        return;
    }
    uint16_t *h = ckpt_tensors_own(t, xmalloc((size_t)n * sizeof *h));
    bf16_quantize_row_ref(x, h, n);
    ckpt_tensors_push(t, base, suffix, SAFETENSORS_DTYPE_BF16, n_dims, d0, d1, h);
}

float *ckpt_tensors_f32(struct ckpt_tensors *t, float v) {
    float *p = ckpt_tensors_own(t, xmalloc(sizeof *p));
    *p = v;
    return p;
}

void ckpt_tensors_push_plain_linear(struct ckpt_tensors *t, const char *module, const struct linear *l) {
    CHECK(!l->packed, "%s: a quantized Linear goes through its writer", module);
    if (l->b) ckpt_tensors_push_float(t, module, "bias", 1, l->N, 0, l->b);
    ckpt_tensors_push_float(t, module, "weight", 2, l->N, l->K, l->w);
}

void ckpt_tensors_push_others(struct ckpt_tensors *t, const struct qwen3_model *m) {
    const struct qwen3_config *c = &m->cfg;
    char n[256];
    ckpt_tensors_push_float(t, "model.embed_tokens.weight", NULL, 2, c->V, c->D, m->embed);
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        const char *sfx[4] = {"input_layernorm", "post_attention_layernorm", "self_attn.q_norm", "self_attn.k_norm"};
        const float *v[4] = {L->attn_norm, L->mlp_norm, L->q_norm, L->k_norm};
        const int64_t d[4] = {c->D, c->D, c->D_h, c->D_h};
        for (int i = 0; i < 4; i++) {
            snprintf(n, sizeof n, "model.layers.%lld.%s", (long long)l, sfx[i]);
            ckpt_tensors_push_float(t, n, "weight", 1, d[i], 0, v[i]);
        }
        if (L->is_moe) {
            snprintf(n, sizeof n, "model.layers.%lld.mlp.gate", (long long)l);
            ckpt_tensors_push_float(t, n, "weight", 2, c->E, c->D, L->router);
        }
    }
    ckpt_tensors_push_float(t, "model.norm.weight", NULL, 1, c->D, 0, m->final_norm);
    if (!c->tie_word_embeddings) ckpt_tensors_push_float(t, "lm_head.weight", NULL, 2, c->V, c->D, m->lm_head);
}

static int cmp_desc(const void *a, const void *b) {
    return strcmp(((const struct safetensors_desc *)a)->name, ((const struct safetensors_desc *)b)->name);
}

size_t ckpt_tensors_write(struct ckpt_tensors *t, const char *out_dir) {
    /* Names are unique, so the unstable qsort still gives one order. */
    qsort(t->d, (size_t)t->n, sizeof *t->d, cmp_desc);
    mkdir_p(out_dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    safetensors_write(path, t->n, t->d);
    FILE *f = xfopen(path, "rb");
    if (fseek(f, 0, SEEK_END) != 0) die("%s: cannot seek", path);
    size_t bytes = (size_t)ftell(f);
    xfclose(f, path);
    return bytes;
}

cJSON *ckpt_tensors_source_config(const struct qwen3_model *m) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", m->dir);
    cJSON *cfg = json_read_file(path);
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "quantization_config");
    return cfg;
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

void ckpt_tensors_finish(const struct qwen3_model *m, const cJSON *cfg, const char *out_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    json_write_atomic(path, cfg);
    copy_if_present(m->dir, out_dir, "generation_config.json");
    copy_if_present(m->dir, out_dir, "tokenizer.json");
    copy_if_present(m->dir, out_dir, "tokenizer_config.json");
}

void ckpt_tensors_free(struct ckpt_tensors *t) {
    for (int i = 0; i < t->n_own; i++) free(t->own[i]);
    free(t->own);
    free(t->d);
    memset(t, 0, sizeof *t);
}
