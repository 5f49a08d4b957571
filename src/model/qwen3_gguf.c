/* qwen3_gguf -- a Qwen3 model from a GGUF file; see qwen3_gguf.h. */
#define _POSIX_C_SOURCE 200809L
#include "model/qwen3_gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "formats/ggml_block.h"
#include "model/gguf.h"
#include "ops/rope.h"

char *qwen3_gguf_path(const char *path) {
    if (gguf_is_path(path)) return xstrdup(path);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/config.json", path);
    if (file_exists(cfg)) return NULL;
    return gguf_resolve(path);
}

// ---- hyper-parameters ----

static int64_t need_int(const struct gguf_file *g, const char *arch, const char *suffix) {
    char k[256];
    snprintf(k, sizeof k, "%s.%s", arch, suffix);
    int64_t v;
    if (!gguf_get_int(g, k, &v)) die("%s: missing key '%s'", g->path, k);
    if (v <= 0) die("%s: key '%s': expected a positive integer, got %lld", g->path, k, (long long)v);
    return v;
}

static void config_from(struct qwen3_config *c, const struct gguf_file *g) {
    memset(c, 0, sizeof *c);
    char *arch = gguf_get_string(g, "general.architecture");
    if (!arch) die("%s: missing key 'general.architecture'", g->path);
    if (!strcmp(arch, "qwen3")) snprintf(c->architecture, sizeof c->architecture, "Qwen3ForCausalLM");
    else if (!strcmp(arch, "qwen3moe")) {
        snprintf(c->architecture, sizeof c->architecture, "Qwen3MoeForCausalLM");
        c->is_moe = 1;
    } else die("%s: general.architecture is '%s', expected qwen3 or qwen3moe", g->path, arch);
    c->D = need_int(g, arch, "embedding_length");
    c->n_layers = need_int(g, arch, "block_count");
    if (c->n_layers > QWEN3_MAX_LAYERS) die("%s: %lld layers, at most %d supported", g->path, (long long)c->n_layers, QWEN3_MAX_LAYERS);
    c->H = need_int(g, arch, "attention.head_count");
    c->H_kv = need_int(g, arch, "attention.head_count_kv");
    char k[256];
    int64_t v;
    snprintf(k, sizeof k, "%s.attention.key_length", arch);
    c->D_h = gguf_get_int(g, k, &v) ? v : c->D / c->H;
    snprintf(k, sizeof k, "%s.attention.value_length", arch);
    if (gguf_get_int(g, k, &v) && v != c->D_h) die("%s: %s = %lld differs from key_length %lld", g->path, k, (long long)v, (long long)c->D_h);
    c->max_pos = need_int(g, arch, "context_length");
    snprintf(k, sizeof k, "%s.feed_forward_length", arch);
    c->F = gguf_get_int(g, k, &v) ? v : 0;
    double d;
    snprintf(k, sizeof k, "%s.attention.layer_norm_rms_epsilon", arch);
    if (!gguf_get_float(g, k, &d) || !(d > 0)) die("%s: missing or invalid key '%s'", g->path, k);
    c->rms_norm_eps = d;
    snprintf(k, sizeof k, "%s.rope.freq_base", arch);
    c->rope_theta = gguf_get_float(g, k, &d) ? d : 10000.0;   /* llama.cpp's default freq_base */
    snprintf(k, sizeof k, "%s.rope.dimension_count", arch);
    if (gguf_get_int(g, k, &v) && v != c->D_h)
        die("%s: %s = %lld: partial rotary embeddings are not supported (expected head dim %lld)", g->path, k,
            (long long)v, (long long)c->D_h);
    snprintf(k, sizeof k, "%s.rope.scaling.type", arch);
    char *rs = gguf_get_string(g, k);
    if (rs && strcmp(rs, "none")) die("%s: %s = '%s': rope scaling is not supported", g->path, k, rs);
    free(rs);
    const struct gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    if (!emb || emb->n_dims != 2 || emb->ne[0] != c->D)
        die("%s: 'token_embd.weight': missing or not of shape {%lld, V}", g->path, (long long)c->D);
    c->V = emb->ne[1];
    c->tie_word_embeddings = gguf_find_tensor(g, "output.weight") == NULL;
    if (gguf_find_tensor(g, "blk.0.attn_q.bias")) die("%s: attention biases are not supported", g->path);
    if (c->is_moe) {
        c->E = need_int(g, arch, "expert_count");
        c->top_k = need_int(g, arch, "expert_used_count");
        c->F_moe = need_int(g, arch, "expert_feed_forward_length");
        int b = 1;   /* released Qwen3-MoE checkpoints all set norm_topk_prob */
        snprintf(k, sizeof k, "%s.expert_weights_norm", arch);
        gguf_get_bool(g, k, &b);
        c->norm_topk_prob = b;
        c->decoder_sparse_step = 1;
        for (int64_t l = 0; l < c->n_layers; l++) {
            snprintf(k, sizeof k, "blk.%lld.ffn_gate_inp.weight", (long long)l);
            c->layer_is_moe[l] = gguf_find_tensor(g, k) != NULL;
        }
    }
    if (!c->is_moe || !c->E) {
        for (int64_t l = 0; l < c->n_layers; l++) c->layer_is_moe[l] = 0;
    }
    int need_f = !c->is_moe;
    for (int64_t l = 0; l < c->n_layers; l++) need_f |= !c->layer_is_moe[l];
    if (need_f && c->F <= 0) die("%s: missing key '%s.feed_forward_length' (a dense layer needs it)", g->path, arch);
    c->bos_id = gguf_get_int(g, "tokenizer.ggml.bos_token_id", &v) ? (int32_t)v : -1;
    if (gguf_get_int(g, "tokenizer.ggml.eos_token_id", &v)) c->eos_ids[c->n_eos++] = (int32_t)v;
    if (gguf_get_int(g, "tokenizer.ggml.eot_token_id", &v) && !qwen3_config_is_eos(c, (int32_t)v))
        c->eos_ids[c->n_eos++] = (int32_t)v;
    free(arch);
}

void qwen3_gguf_config(struct qwen3_config *c, const char *path) {
    struct gguf_file g;
    gguf_open(&g, path);
    config_from(c, &g);
    gguf_close(&g);
}

// ---- tensors ----

/* The NVFP4 scale of expert e (or of the whole tensor, e = 0) from "<base>.scale" ({1} or {E}); 1 if absent. */
static float nvfp4_scale(const struct gguf_file *g, const struct gguf_tensor *t, int64_t e) {
    char s[512];
    size_t n = strlen(t->name);
    if (n < 7 || strcmp(t->name + n - 7, ".weight")) return 1.0f;
    snprintf(s, sizeof s, "%.*s.scale", (int)(n - 7), t->name);
    struct gguf_tensor *st = gguf_find_tensor(g, s);
    if (!st) return 1.0f;
    if (st->type != GGML_BLOCK_F32 || st->n_dims != 1 || (st->ne[0] != 1 && st->ne[0] != t->ne[2]))
        die("%s: '%s': expected F32 of shape {1} or {%lld}", g->path, s, (long long)t->ne[2]);
    st->used = 1;
    float v;
    memcpy(&v, (const float *)st->data + (st->ne[0] == 1 ? 0 : e), 4);
    return v;
}

/* Decodes n_rows rows of t starting at row r0 (rows of ne[0] values; rows of all experts are consecutive)
 * into a fresh FP32 array, with the NVFP4 scale of expert e applied. */
static float *decode_rows(const struct gguf_file *g, const struct gguf_tensor *t, int64_t r0, int64_t n_rows,
                          int64_t e) {
    const int64_t K = t->ne[0];
    const size_t rb = ggml_block_row_bytes(t->type, K);
    float *w = xmalloc((size_t)(n_rows * K) * sizeof *w);
    const float s = t->type == GGML_BLOCK_NVFP4 ? nvfp4_scale(g, t, e) : 1.0f;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < n_rows; r++) {
        ggml_block_dequantize_row(t->type, (const uint8_t *)t->data + (size_t)(r0 + r) * rb, w + r * K, K);
        if (s != 1.0f)
            for (int64_t k = 0; k < K; k++) w[r * K + k] *= s;
    }
    return w;
}

static struct gguf_tensor *need(const struct gguf_file *g, const char *name, int n_dims, int64_t ne0, int64_t ne1,
                                int64_t ne2) {
    struct gguf_tensor *t = gguf_find_tensor(g, name);
    if (!t) die("%s: missing tensor '%s'", g->path, name);
    int64_t want[3] = {ne0, ne1, ne2};
    int ok = t->n_dims == n_dims;
    for (int i = 0; ok && i < n_dims; i++) ok = t->ne[i] == want[i];
    if (!ok)
        die("%s: '%s': shape {%lld, %lld, %lld} (n_dims %d), the hyper-parameters imply {%lld, %lld, %lld} (n_dims %d)",
            g->path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], t->n_dims, (long long)ne0,
            (long long)ne1, (long long)ne2, n_dims);
    t->used = 1;
    return t;
}

static float *load_vec(const struct gguf_file *g, const char *name, int64_t n) {
    return decode_rows(g, need(g, name, 1, n, 1, 1), 0, 1, 0);
}

static const char *type_label(uint32_t type) {
    const char *n = "?";
    ggml_block_info(type, NULL, NULL, &n);
    return n;
}

static void load_linear(const struct gguf_file *g, struct linear *l, const char *name, int64_t N, int64_t K) {
    struct gguf_tensor *t = need(g, name, 2, K, N, 1);
    linear_init(l, N, K, decode_rows(g, t, 0, N, 0), NULL, type_label(t->type));
}

/* Experts 0..E-1 of a stacked {K, N, E} tensor. */
static void load_experts(const struct gguf_file *g, struct linear *ls, const char *name, int64_t N, int64_t K,
                         int64_t E) {
    struct gguf_tensor *t = need(g, name, 3, K, N, E);
    for (int64_t e = 0; e < E; e++) linear_init(&ls[e], N, K, decode_rows(g, t, e * N, N, e), NULL, type_label(t->type));
}

struct qwen3_model *qwen3_gguf_load(const char *path) {
    struct gguf_file g;
    gguf_open(&g, path);
    struct qwen3_model *m = xcalloc(1, sizeof *m);
    config_from(&m->cfg, &g);
    const char *slash = strrchr(path, '/');
    m->dir = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
    const struct qwen3_config *c = &m->cfg;
    const int64_t D = c->D, Dh = c->D_h, qd = c->H * Dh, kvd = c->H_kv * Dh;
    m->embed = decode_rows(&g, need(&g, "token_embd.weight", 2, D, c->V, 1), 0, c->V, 0);
    m->final_norm = load_vec(&g, "output_norm.weight", D);
    m->lm_head = c->tie_word_embeddings ? m->embed
                                        : decode_rows(&g, need(&g, "output.weight", 2, D, c->V, 1), 0, c->V, 0);
    m->layers = xcalloc((size_t)c->n_layers, sizeof *m->layers);
    char n[512];
#define NAME(fmt) (snprintf(n, sizeof n, "blk.%lld." fmt, (long long)l), n)
    for (int64_t l = 0; l < c->n_layers; l++) {
        struct qwen3_layer *L = &m->layers[l];
        L->attn_norm = load_vec(&g, NAME("attn_norm.weight"), D);
        L->mlp_norm = load_vec(&g, NAME("ffn_norm.weight"), D);
        L->q_norm = load_vec(&g, NAME("attn_q_norm.weight"), Dh);
        L->k_norm = load_vec(&g, NAME("attn_k_norm.weight"), Dh);
        load_linear(&g, &L->q, NAME("attn_q.weight"), qd, D);
        load_linear(&g, &L->k, NAME("attn_k.weight"), kvd, D);
        load_linear(&g, &L->v, NAME("attn_v.weight"), kvd, D);
        load_linear(&g, &L->o, NAME("attn_output.weight"), D, qd);
        L->is_moe = c->is_moe && c->layer_is_moe[l];
        if (!L->is_moe) {
            load_linear(&g, &L->gate, NAME("ffn_gate.weight"), c->F, D);
            load_linear(&g, &L->up, NAME("ffn_up.weight"), c->F, D);
            load_linear(&g, &L->down, NAME("ffn_down.weight"), D, c->F);
            continue;
        }
        L->router = decode_rows(&g, need(&g, NAME("ffn_gate_inp.weight"), 2, D, c->E, 1), 0, c->E, 0);
        L->exp_gate = xcalloc((size_t)c->E, sizeof(struct linear));
        L->exp_up = xcalloc((size_t)c->E, sizeof(struct linear));
        L->exp_down = xcalloc((size_t)c->E, sizeof(struct linear));
        load_experts(&g, L->exp_gate, NAME("ffn_gate_exps.weight"), c->F_moe, D, c->E);
        load_experts(&g, L->exp_up, NAME("ffn_up_exps.weight"), c->F_moe, D, c->E);
        load_experts(&g, L->exp_down, NAME("ffn_down_exps.weight"), D, c->F_moe, c->E);
    }
#undef NAME
    m->inv_freq = xmalloc((size_t)(Dh / 2) * sizeof(float));
    rope_inv_freq(m->inv_freq, Dh, c->rope_theta);
    for (int64_t i = 0; i < g.n_tensors; i++) {
        const struct gguf_tensor *t = &g.tensors[i];
        if (t->used) continue;
        /* llama.cpp's converter writes rope_freqs only for scaled rope, which config_from refuses */
        warn("%s: '%s': tensor not used by the model", path, t->name);
    }
    // NaN or Inf weights: counted as qwen3_load does (warned once for the whole file here).
    int64_t bad = 0;
    for (int64_t i = 0; i < c->V * D; i++) bad += !isfinite(m->embed[i]);
    m->n_nonfinite = bad;
    if (bad) warn("%s: %lld embedding values are NaN or infinite", path, (long long)bad);
    gguf_close(&g);
    return m;
}
