/* qwen3 -- loading a Qwen3 checkpoint into FP32 weights; see qwen3.h. */
#include "model/qwen3.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/ckpt_quant.h"
#include "model/hf_cache.h"
#include "model/qwen3_gguf.h"
#include "model/safetensors.h"
#include "ops/rope.h"

struct loader {
    struct safetensors st;
    const struct qwen3_config *cfg;
    const char *dir;
    int64_t n_nonfinite;
    struct ckpt_quant cq;     /* the checkpoint's quantized layout (CKPT_KIND_NONE: plain or Qwen FP8) */
};

/* Fetches name with the expected shape (n_dims = 1 or 2) as a fresh FP32 array; dies on any mismatch. */
/* Every tensor the model uses passes here: presence, shape against the config, dtype, dequantization and the
 * non-finite count. The error names the shard file (t->path) and the tensor, the message shape of STYLE.md. */
static float *load(struct loader *ld, const char *name, int n_dims, int64_t d0, int64_t d1) {
    struct safetensors_tensor *t = safetensors_find(&ld->st, name);
    if (!t) die("%s: missing tensor '%s' (required by config.json: %s, %lld layers)", ld->dir, name,
                ld->cfg->architecture, (long long)ld->cfg->n_layers);
    int64_t want[2] = {d0, d1};
    int ok = t->n_dims == n_dims;
    for (int i = 0; ok && i < n_dims; i++) ok = t->shape[i] == want[i];
    if (!ok) {
        char got[128] = "", exp[64];
        for (int i = 0; i < t->n_dims && strlen(got) < 100; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        if (n_dims == 1) snprintf(exp, sizeof exp, "%lld", (long long)d0);
        else snprintf(exp, sizeof exp, "%lld, %lld", (long long)d0, (long long)d1);
        die("%s: '%s': shape [%s] disagrees with config.json, which implies [%s]", t->path, name, got, exp);
    }
    t->used = 1;
    float *w = xmalloc((size_t)t->n_elems * sizeof(float));
    switch (t->dtype) {
    case SAFETENSORS_DTYPE_F32:
    case SAFETENSORS_DTYPE_F16:
    case SAFETENSORS_DTYPE_BF16:
        safetensors_read_f32(t, w);
        break;
    case SAFETENSORS_DTYPE_F8_E4M3: {
        // Qwen / DeepSeek block FP8: one FP32 (or BF16) multiplier per bn x bk block, named <name>_scale_inv.
        const int bn = ld->cfg->fp8_block_n, bk = ld->cfg->fp8_block_k;
        if (!bn || n_dims != 2)
            die("%s: '%s': dtype F8_E4M3 disagrees with config.json, which has no fp8 quantization_config", t->path,
                name);
        char sname[512];
        snprintf(sname, sizeof sname, "%s_scale_inv", name);
        struct safetensors_tensor *s = safetensors_find(&ld->st, sname);
        if (!s) die("%s: missing tensor '%s' (the block scales of F8_E4M3 '%s')", ld->dir, sname, name);
        const int64_t sn = (d0 + bn - 1) / bn, sk = (d1 + bk - 1) / bk;
        if (s->n_dims != 2 || s->shape[0] != sn || s->shape[1] != sk)
            die("%s: '%s': expected shape [%lld, %lld] (blocks of %d x %d over [%lld, %lld])", s->path, sname,
                (long long)sn, (long long)sk, bn, bk, (long long)d0, (long long)d1);
        if (s->dtype != SAFETENSORS_DTYPE_F32 && s->dtype != SAFETENSORS_DTYPE_BF16)
            die("%s: '%s': dtype %s, expected F32 or BF16", s->path, sname, safetensors_dtype_name(s->dtype));
        s->used = 1;
        float *sc = xmalloc((size_t)(sn * sk) * sizeof(float));
        safetensors_read_f32(s, sc);
        safetensors_read_f32(t, w);
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < d0; n++)
            for (int64_t k = 0; k < d1; k++) w[n * d1 + k] *= sc[(n / bn) * sk + k / bk];
        free(sc);
        break;
    }
    default:
        die("%s: '%s': dtype %s is not a supported weight type (F32, F16, BF16, F8_E4M3)", t->path, name,
            safetensors_dtype_name(t->dtype));
    }
    // NaN or Inf weights are legal in a file but poison every logit downstream: warn, count, continue.
    int64_t bad = 0;
    for (int64_t i = 0; i < t->n_elems; i++) bad += !isfinite(w[i]);
    if (bad) {
        warn("%s: '%s': %lld of %lld weights are NaN or infinite", t->path, name, (long long)bad,
             (long long)t->n_elems);
        ld->n_nonfinite += bad;
    }
    return w;
}

/* A Linear = its weight (N x K) and optional bias; the format label records what the checkpoint held, so a
 * quantizer can tell BF16 from already-FP8 weights. */
static void load_linear(struct loader *ld, struct linear *l, const char *prefix, int64_t N, int64_t K,
                        int bias) {
    char name[512];
    // ---- quantized layouts of other tools (ckpt_quant.h) ----
    if (ckpt_quant_load_linear(&ld->cq, &ld->st, prefix, N, K, l)) {
        if (bias) {
            snprintf(name, sizeof name, "%s.bias", prefix);
            l->b = load(ld, name, 1, N, 0);
        }
        return;
    }
    snprintf(name, sizeof name, "%s.weight", prefix);
    struct safetensors_tensor *t = safetensors_find(&ld->st, name);
    const char *fmt = !t ? "f32"
                      : t->dtype == SAFETENSORS_DTYPE_BF16   ? "bf16"
                      : t->dtype == SAFETENSORS_DTYPE_F16    ? "f16"
                      : t->dtype == SAFETENSORS_DTYPE_F8_E4M3 ? "fp8-block"
                                                              : "f32";
    float *w = load(ld, name, 2, N, K);
    float *b = NULL;
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        b = load(ld, name, 1, N, 0);
    }
    linear_init(l, N, K, w, b, fmt);
}

/* Loads in checkpoint order of need: embeddings, final norm, lm_head, then each layer's attention and MLP or
 * experts. All weights are copied out of the mapping into FP32 arrays, so the files are unmapped at the end
 * and a quantizer may overwrite any weight in place. */
struct qwen3_model *qwen3_load(const char *dir_or_id) {
    char *gguf = qwen3_gguf_path(dir_or_id);
    if (gguf) {
        struct qwen3_model *g = qwen3_gguf_load(gguf);
        free(gguf);
        return g;
    }
    struct qwen3_model *m = xcalloc(1, sizeof *m);
    m->dir = hf_cache_resolve(dir_or_id);   /* a folder as given, or a cached Hugging Face model id */
    const char *dir = m->dir;
    qwen3_config_load(&m->cfg, dir);
    const struct qwen3_config *c = &m->cfg;
    struct loader ld = {.cfg = c, .dir = dir};
    ckpt_quant_detect(&ld.cq, dir);
    if (ld.cq.kind != CKPT_KIND_NONE) m->loaded_quant = xstrdup(ld.cq.desc);
    else if (c->fp8_block_n) {
        char d[64];
        snprintf(d, sizeof d, "qwen fp8 block %dx%d", c->fp8_block_n, c->fp8_block_k);
        m->loaded_quant = xstrdup(d);
    }
    safetensors_open(&ld.st, dir);

    const int64_t D = c->D, Dh = c->D_h, qd = c->H * c->D_h, kvd = c->H_kv * c->D_h;
    m->embed = load(&ld, "model.embed_tokens.weight", 2, c->V, D);
    m->final_norm = load(&ld, "model.norm.weight", 1, D, 0);
    // Tied: HF ignores any lm_head.weight in the file and uses the embedding matrix.
    if (c->tie_word_embeddings) {
        m->lm_head = m->embed;
        struct safetensors_tensor *t = safetensors_find(&ld.st, "lm_head.weight");
        if (t) t->used = 1;
    } else {
        m->lm_head = load(&ld, "lm_head.weight", 2, c->V, D);
    }
    m->layers = xcalloc((size_t)c->n_layers, sizeof *m->layers);
    char p[512], name[512];
    for (int64_t l = 0; l < c->n_layers; l++) {
        struct qwen3_layer *L = &m->layers[l];
        snprintf(name, sizeof name, "model.layers.%lld.input_layernorm.weight", (long long)l);
        L->attn_norm = load(&ld, name, 1, D, 0);
        snprintf(name, sizeof name, "model.layers.%lld.post_attention_layernorm.weight", (long long)l);
        L->mlp_norm = load(&ld, name, 1, D, 0);
        snprintf(name, sizeof name, "model.layers.%lld.self_attn.q_norm.weight", (long long)l);
        L->q_norm = load(&ld, name, 1, Dh, 0);
        snprintf(name, sizeof name, "model.layers.%lld.self_attn.k_norm.weight", (long long)l);
        L->k_norm = load(&ld, name, 1, Dh, 0);
        snprintf(p, sizeof p, "model.layers.%lld.self_attn.q_proj", (long long)l);
        load_linear(&ld, &L->q, p, qd, D, c->attention_bias);
        snprintf(p, sizeof p, "model.layers.%lld.self_attn.k_proj", (long long)l);
        load_linear(&ld, &L->k, p, kvd, D, c->attention_bias);
        snprintf(p, sizeof p, "model.layers.%lld.self_attn.v_proj", (long long)l);
        load_linear(&ld, &L->v, p, kvd, D, c->attention_bias);
        snprintf(p, sizeof p, "model.layers.%lld.self_attn.o_proj", (long long)l);
        load_linear(&ld, &L->o, p, D, qd, c->attention_bias);
        L->is_moe = c->is_moe && c->layer_is_moe[l];
        if (!L->is_moe) {
            snprintf(p, sizeof p, "model.layers.%lld.mlp.gate_proj", (long long)l);
            load_linear(&ld, &L->gate, p, c->F, D, 0);
            snprintf(p, sizeof p, "model.layers.%lld.mlp.up_proj", (long long)l);
            load_linear(&ld, &L->up, p, c->F, D, 0);
            snprintf(p, sizeof p, "model.layers.%lld.mlp.down_proj", (long long)l);
            load_linear(&ld, &L->down, p, D, c->F, 0);
            continue;
        }
        snprintf(name, sizeof name, "model.layers.%lld.mlp.gate.weight", (long long)l);
        L->router = load(&ld, name, 2, c->E, D);
        L->exp_gate = xcalloc((size_t)c->E, sizeof(struct linear));
        L->exp_up = xcalloc((size_t)c->E, sizeof(struct linear));
        L->exp_down = xcalloc((size_t)c->E, sizeof(struct linear));
        for (int64_t e = 0; e < c->E; e++) {
            snprintf(p, sizeof p, "model.layers.%lld.mlp.experts.%lld.gate_proj", (long long)l, (long long)e);
            load_linear(&ld, &L->exp_gate[e], p, c->F_moe, D, 0);
            snprintf(p, sizeof p, "model.layers.%lld.mlp.experts.%lld.up_proj", (long long)l, (long long)e);
            load_linear(&ld, &L->exp_up[e], p, c->F_moe, D, 0);
            snprintf(p, sizeof p, "model.layers.%lld.mlp.experts.%lld.down_proj", (long long)l, (long long)e);
            load_linear(&ld, &L->exp_down[e], p, D, c->F_moe, 0);
        }
    }
    m->inv_freq = xmalloc((size_t)(Dh / 2) * sizeof(float));
    rope_inv_freq(m->inv_freq, Dh, c->rope_theta);
    m->n_nonfinite = ld.n_nonfinite;

    // Layers past num_hidden_layers: a config.json that says fewer layers than the file holds would run a
    // truncated model with warnings only (issue 9); an error unless the truncation is asked for.
    const char *allow = getenv("QL_ALLOW_FEWER_LAYERS");
    for (int i = 0; i < ld.st.n_tensors && !(allow && !strcmp(allow, "1")); i++) {
        long long li;
        if (ld.st.sorted[i]->used || sscanf(ld.st.sorted[i]->name, "model.layers.%lld.", &li) != 1) continue;
        if (li >= c->n_layers)
            die("%s: '%s': the file holds layer %lld but config.json says num_hidden_layers %lld (a truncated "
                "model); hint: fix config.json, or set QL_ALLOW_FEWER_LAYERS=1 to run the first layers on purpose",
                ld.st.sorted[i]->path, ld.st.sorted[i]->name, li, (long long)c->n_layers);
    }
    // Tensors the model never read usually mean a layout this loader does not know (say fused experts).
    int unused = 0;
    for (int i = 0; i < ld.st.n_tensors; i++) {
        if (ld.st.sorted[i]->used) continue;
        if (unused < 3) warn("%s: '%s': tensor not used by the model", ld.st.sorted[i]->path, ld.st.sorted[i]->name);
        unused++;
    }
    if (unused > 3) warn("%s: %d more tensors not used by the model", dir, unused - 3);
    safetensors_close(&ld.st);
    return m;
}

/* Frees in reverse; a tied lm_head aliases the embeddings and is freed once. */
void qwen3_free(struct qwen3_model *m) {
    if (!m) return;
    if (m->lm_head_bf16) {
        qtensor_free(m->lm_head_bf16);
        free(m->lm_head_bf16);
    }
    for (int64_t l = 0; l < m->cfg.n_layers && m->layers; l++) {
        struct qwen3_layer *L = &m->layers[l];
        free(L->attn_norm);
        free(L->mlp_norm);
        free(L->q_norm);
        free(L->k_norm);
        linear_free(&L->q);
        linear_free(&L->k);
        linear_free(&L->v);
        linear_free(&L->o);
        linear_free(&L->gate);
        linear_free(&L->up);
        linear_free(&L->down);
        free(L->router);
        for (int64_t e = 0; L->exp_gate && e < m->cfg.E; e++) {
            linear_free(&L->exp_gate[e]);
            linear_free(&L->exp_up[e]);
            linear_free(&L->exp_down[e]);
        }
        free(L->exp_gate);
        free(L->exp_up);
        free(L->exp_down);
    }
    free(m->layers);
    if (m->lm_head != m->embed) free(m->lm_head);
    free(m->embed);
    free(m->final_norm);
    free(m->inv_freq);
    free(m->dir);
    free(m->loaded_quant);
    free(m);
}

const char *qwen3_linear_kind_name(enum qwen3_linear_kind kind) {
    static const char *names[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    CHECK(kind >= 0 && kind <= QWEN3_LINEAR_DOWN, "kind %d", (int)kind);
    return names[kind];
}

/* The visiting order is fixed (layer, then q k v o, then gate up down per expert) so that a quantizer's
 * output, e.g. a per-linear error table, is deterministic. */
int64_t qwen3_for_each_linear(struct qwen3_model *m, qwen3_linear_fn fn, void *ctx) {
    char name[256];
    int64_t n = 0;
    for (int64_t l = 0; l < m->cfg.n_layers; l++) {
        struct qwen3_layer *L = &m->layers[l];
        struct linear *attn[4] = {&L->q, &L->k, &L->v, &L->o};
        for (int i = 0; i < 4; i++, n++) {
            snprintf(name, sizeof name, "model.layers.%lld.self_attn.%s", (long long)l,
                     qwen3_linear_kind_name((enum qwen3_linear_kind)i));
            fn(ctx, name, (int)l, -1, (enum qwen3_linear_kind)i, attn[i]);
        }
        if (!L->is_moe) {
            struct linear *mlp[3] = {&L->gate, &L->up, &L->down};
            for (int i = 0; i < 3; i++, n++) {
                enum qwen3_linear_kind k = (enum qwen3_linear_kind)(QWEN3_LINEAR_GATE + i);
                snprintf(name, sizeof name, "model.layers.%lld.mlp.%s", (long long)l, qwen3_linear_kind_name(k));
                fn(ctx, name, (int)l, -1, k, mlp[i]);
            }
            continue;
        }
        for (int64_t e = 0; e < m->cfg.E; e++) {
            struct linear *ex[3] = {&L->exp_gate[e], &L->exp_up[e], &L->exp_down[e]};
            for (int i = 0; i < 3; i++, n++) {
                enum qwen3_linear_kind k = (enum qwen3_linear_kind)(QWEN3_LINEAR_GATE + i);
                snprintf(name, sizeof name, "model.layers.%lld.mlp.experts.%lld.%s", (long long)l, (long long)e,
                         qwen3_linear_kind_name(k));
                fn(ctx, name, (int)l, (int)e, k, ex[i]);
            }
        }
    }
    return n;
}

/* ---- input groups ---- */

/* The groups of one layer in the order of qwen3.h. MoE: the experts' gate and up projections all read the
 * post_attention_layernorm output, so they form one group with the router as a further reader; each expert's
 * down projection is its own group after that expert's up. */
int64_t qwen3_for_each_input_group(struct qwen3_model *m, qwen3_group_fn fn, void *ctx) {
    int64_t n = 0;
    const struct qwen3_config *c = &m->cfg;
    for (int64_t l = 0; l < c->n_layers; l++) {
        struct qwen3_layer *L = &m->layers[l];
        struct qwen3_input_group g;

        memset(&g, 0, sizeof g);
        g.layer = (int)l;
        g.expert = -1;
        g.kind = QWEN3_GROUP_ATTN_IN;
        g.norm = L->attn_norm;
        g.members[0] = &L->q, g.members[1] = &L->k, g.members[2] = &L->v;
        g.n_members = 3;
        fn(ctx, &g), n++;

        memset(&g, 0, sizeof g);
        g.layer = (int)l;
        g.expert = -1;
        g.kind = QWEN3_GROUP_ATTN_OUT;
        g.prev = &L->v;
        g.prev_foldable = c->H == c->H_kv;   /* v's output rows map one to one onto o's input columns */
        g.members[0] = &L->o;
        g.n_members = 1;
        fn(ctx, &g), n++;

        memset(&g, 0, sizeof g);
        g.layer = (int)l;
        g.expert = -1;
        g.kind = QWEN3_GROUP_MLP_IN;
        g.norm = L->mlp_norm;
        if (!L->is_moe) {
            g.members[0] = &L->gate, g.members[1] = &L->up;
            g.n_members = 2;
        } else {
            g.experts_gate = L->exp_gate;
            g.experts_up = L->exp_up;
            g.n_experts = c->E;
            g.router = L->router;
        }
        fn(ctx, &g), n++;

        const int64_t n_down = L->is_moe ? c->E : 1;
        for (int64_t e = 0; e < n_down; e++) {
            memset(&g, 0, sizeof g);
            g.layer = (int)l;
            g.expert = L->is_moe ? (int)e : -1;
            g.kind = QWEN3_GROUP_MLP_OUT;
            g.prev = L->is_moe ? &L->exp_up[e] : &L->up;
            g.prev_foldable = 1;
            g.members[0] = L->is_moe ? &L->exp_down[e] : &L->down;
            g.n_members = 1;
            fn(ctx, &g), n++;
        }
    }
    return n;
}
