/* qwen3_cpu -- the FP32 Qwen3 forward pass; see qwen3_cpu.h. */
#include "model/qwen3_cpu.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/attention.h"
#include "formats/bf16.h"
#include "ops/cpu_exec.h"
#include "ops/qgemv.h"
#include "ops/moe.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/swiglu.h"

/* Copies the embedding rows of ids (no scaling: Qwen3 multiplies by nothing). An id outside the vocabulary
 * is an input error (it comes from a tokenizer or a command line), so it dies rather than CHECKs. */
void qwen3_cpu_embed(const struct qwen3_model *m, const int32_t *ids, int64_t T, float *x) {
    const int64_t D = m->cfg.D;
    for (int64_t t = 0; t < T; t++) {
        if (ids[t] < 0 || ids[t] >= m->cfg.V)
            die("token id %d at position %lld is outside the vocabulary [0, %lld)", ids[t], (long long)t,
                (long long)m->cfg.V);
        memcpy(x + t * D, m->embed + (int64_t)ids[t] * D, (size_t)D * sizeof(float));
    }
}

// ---- per-thread scratch ----

/* Scratch memory is kept per thread and reused across calls. Allocating it per layer (the first version)
 * cost more than the elementwise ops themselves at small sizes: glibc returns blocks of this size to the
 * kernel on free (mmap, or a trimmed heap top), so every layer paid a page fault per 4 KiB touched, about
 * 40% of a T = 256 prefill of the D 128 fixture. Thread-local storage keeps the functions reentrant across
 * threads (no model-owned buffer two threads could share by mistake); the price is that each thread keeps
 * the largest scratch it ever needed (T x (3 D + 2 H D_h + 2 H_kv D_h + 2 F) floats, 126 MB for Qwen3-0.6B
 * at T = 2048) until it exits. Nothing here recurses into a layer, so one buffer per slot suffices. */
enum { SCRATCH_FORWARD, SCRATCH_OUT, SCRATCH_LAYER, SCRATCH_N };

static _Thread_local struct {
    float *buf;
    size_t n;
} scratch[SCRATCH_N];

/* A buffer of at least n floats for slot; its contents are undefined (it is grown, never copied). */
static float *scratch_get(int slot, size_t n) {
    if (scratch[slot].n < n) {
        free(scratch[slot].buf);
        scratch[slot].buf = xmalloc(n * sizeof(float));
        scratch[slot].n = n;
    }
    return scratch[slot].buf;
}

/* The attention half of a Qwen3DecoderLayer: out (T x D) = o_proj(attention(q, k, v of input_layernorm(x))),
 * no residual. kv NULL means a one-shot pass whose keys and values are read straight from this layer's
 * projections (exactly what an FP32 cache would hand back, without the copy). */
static void attn_half(const struct qwen3_model *m, int64_t layer, const float *x, int64_t T, int64_t pos0,
                      struct kv_cache *kv, float *out) {
    // x, out: T x D; n: T x D; q, att: T x H x D_h; k, v: T x H_kv x D_h
    const struct qwen3_config *c = &m->cfg;
    const struct qwen3_layer *L = &m->layers[layer];
    const int64_t D = c->D, H = c->H, Hkv = c->H_kv, Dh = c->D_h;
    const float eps = (float)c->rms_norm_eps;
    // One block, carved in the order below; every piece is fully written before it is read.
    float *n = scratch_get(SCRATCH_LAYER, (size_t)(T * (D + 2 * H * Dh + 2 * Hkv * Dh)));
    float *q = n + T * D, *att = q + T * H * Dh, *k = att + T * H * Dh, *v = k + T * Hkv * Dh;

    // n = input_layernorm(x); q, k, v projections of the normed stream.
    rmsnorm_ref(n, x, L->attn_norm, T, D, eps);
    linear_forward(&L->q, n, q, T);
    linear_forward(&L->k, n, k, T);
    linear_forward(&L->v, n, v, T);
    // QK-norm is per head (rows of D_h) and comes before RoPE, as in Qwen3Attention.
    rmsnorm_ref(q, q, L->q_norm, T * H, Dh, eps);
    rmsnorm_ref(k, k, L->k_norm, T * Hkv, Dh, eps);
    rope_apply_ref(q, T, H, Dh, pos0, m->inv_freq);
    rope_apply_ref(k, T, Hkv, Dh, pos0, m->inv_freq);
    if (kv) {
        // Keys and values go into the cache first and attention reads them back from there, so a BF16 cache
        // affects the current tokens exactly as it affects later ones (as in a real BF16 KV cache).
        kv_cache_store(kv, layer, pos0, T, k, v);
        attention_ref(att, q, kv_cache_k(kv, layer), kv_cache_v(kv, layer), T, pos0, H, Hkv, Dh, Hkv * Dh);
    } else {
        attention_ref(att, q, k, v, T, 0, H, Hkv, Dh, Hkv * Dh);
    }
    linear_forward(&L->o, att, out, T);
}

/* The MLP half: out (T x D) = mlp(post_attention_layernorm(x)), the dense SwiGLU MLP or the MoE block. */
static void mlp_half(const struct qwen3_model *m, int64_t layer, const float *x, int64_t T, float *out) {
    // x, out, h: T x D; g, u: T x F
    const struct qwen3_config *c = &m->cfg;
    const struct qwen3_layer *L = &m->layers[layer];
    const int64_t D = c->D, F = L->is_moe ? 0 : c->F;
    float *h = scratch_get(SCRATCH_LAYER, (size_t)(T * (D + 2 * F)));
    float *g = h + T * D, *u = g + T * F;
    rmsnorm_ref(h, x, L->mlp_norm, T, D, (float)c->rms_norm_eps);
    if (L->is_moe) {
        moe_forward_ref(out, h, T, D, L->router, c->E, c->top_k, c->norm_topk_prob, L->exp_gate, L->exp_up,
                        L->exp_down, NULL);
    } else {
        linear_forward(&L->gate, h, g, T);
        linear_forward(&L->up, h, u, T);
        swiglu_ref(g, g, u, T * F);
        linear_forward(&L->down, g, out, T);
    }
}

/* One Qwen3DecoderLayer on the residual stream: x += attn(x); x += mlp(x). */
static void layer_forward(const struct qwen3_model *m, int64_t layer, float *x, int64_t T, int64_t pos0,
                          struct kv_cache *kv) {
    const int64_t D = m->cfg.D;
    float *o = scratch_get(SCRATCH_OUT, (size_t)(T * D));
    attn_half(m, layer, x, T, pos0, kv, o);
    for (int64_t i = 0; i < T * D; i++) x[i] += o[i];
    mlp_half(m, layer, x, T, o);
    for (int64_t i = 0; i < T * D; i++) x[i] += o[i];
}

void qwen3_cpu_attn_block(const struct qwen3_model *m, int64_t layer, const float *x, int64_t T, int64_t pos0,
                          struct kv_cache *kv, float *out) {
    CHECK(!kv || pos0 + T <= kv->cap, "kv cache too small");
    CHECK(kv || pos0 == 0, "a one-shot attention block starts at position 0");
    attn_half(m, layer, x, T, pos0, kv, out);
}

void qwen3_cpu_mlp_block(const struct qwen3_model *m, int64_t layer, const float *x, int64_t T, float *out) {
    mlp_half(m, layer, x, T, out);
}

/* One Qwen3DecoderLayer on the residual stream, through the cache (the exported, layer-by-layer entry). */
void qwen3_cpu_layer(const struct qwen3_model *m, int64_t layer, float *x, int64_t T, int64_t pos0,
                     struct kv_cache *kv) {
    CHECK(kv && pos0 + T <= kv->cap, "kv cache missing or too small");
    layer_forward(m, layer, x, T, pos0, kv);
}

/* lm_head as one sgemm: with a tied model this reads the embedding matrix (V x D) in place. */
void qwen3_cpu_logits(const struct qwen3_model *m, const float *h, int64_t T, float *logits) {
    // h: T x D; lm_head: V x D; logits: T x V
    const int64_t D = m->cfg.D, V = m->cfg.V;
    // Packed decode (a serving flag): the BF16 copy of lm_head, half the bytes, the same values (ops/qgemv.h).
    if (T == 1 && m->lm_head_bf16 && cpu_exec_get()->packed_decode) {
        qgemv(m->lm_head_bf16, h, logits);
        return;
    }
    // One row (decode, or the last prompt position) is a GEMV, no packing of the V x D matrix (ops/cpu_exec.h).
    cpu_exec_gemm_nt(h, D, m->lm_head, D, logits, V, T, V, D, 1.0f);
}

int qwen3_cpu_pack_lm_head(struct qwen3_model *m) {
    if (m->lm_head_bf16) return 1;
    const int64_t V = m->cfg.V, D = m->cfg.D;
    for (int64_t i = 0; i < V * D; i++)
        if (bf16_to_float(bf16_from_float(m->lm_head[i])) != m->lm_head[i]) return 0;
    struct qtensor *q = xcalloc(1, sizeof *q);
    qtensor_quantize(q, QFORMAT_BF16, m->lm_head, V, D, NULL);
    m->lm_head_bf16 = q;
    return 1;
}

/* model.norm then (optionally) lm_head; x holds the normed states afterwards, which callers may keep. */
void qwen3_cpu_final(const struct qwen3_model *m, float *x, int64_t T, float *logits) {
    rmsnorm_ref(x, x, m->final_norm, T, m->cfg.D, (float)m->cfg.rms_norm_eps);
    if (logits) qwen3_cpu_logits(m, x, T, logits);
}

/* The whole model on one chunk; see the header for the cache contract. kv->len is updated only after the
 * last layer, so a failure mid-way (there is none but die) never leaves a half-filled position counted. */
void qwen3_cpu_forward(const struct qwen3_model *m, const int32_t *ids, int64_t T, int64_t pos0,
                       struct kv_cache *kv, float *logits, float *hidden) {
    const struct qwen3_config *c = &m->cfg;
    CHECK(T > 0, "T=%lld", (long long)T);
    if (kv) {
        CHECK(kv->n_layers == c->n_layers && kv->H_kv == c->H_kv && kv->D_h == c->D_h, "kv cache shape");
        CHECK(pos0 >= 0 && pos0 <= kv->len, "pos0 %lld beyond the %lld cached positions", (long long)pos0,
              (long long)kv->len);
        if (pos0 + T > kv->cap)
            die("context of %lld tokens exceeds the KV cache capacity of %lld", (long long)(pos0 + T),
                (long long)kv->cap);
    } else {
        // One-shot: no cache at all; each layer's attention reads its own FP32 keys and values.
        CHECK(pos0 == 0, "a one-shot forward (no cache) starts at position 0, got %lld", (long long)pos0);
    }
    float *x = scratch_get(SCRATCH_FORWARD, (size_t)(T * c->D));
    qwen3_cpu_embed(m, ids, T, x);
    for (int64_t l = 0; l < c->n_layers; l++) layer_forward(m, l, x, T, pos0, kv);
    if (kv) kv->len = pos0 + T;
    qwen3_cpu_final(m, x, T, logits);
    if (hidden) memcpy(hidden, x, (size_t)(T * c->D) * sizeof(float));
}

/* FLOP model for throughput reports: 2 N K T per Linear, 2 E D T for the router, top_k experts per token,
 * and the causal attention products; elementwise work is O(T D) and left out. */
double qwen3_cpu_flops(const struct qwen3_model *m, int64_t T, int64_t pos0, int with_logits) {
    const struct qwen3_config *c = &m->cfg;
    double f = 0.0;
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct qwen3_layer *L = &m->layers[l];
        f += linear_flops(&L->q, T) + linear_flops(&L->k, T) + linear_flops(&L->v, T) + linear_flops(&L->o, T);
        f += attention_flops(T, pos0, c->H, c->D_h);
        if (L->is_moe) f += 2.0 * T * c->E * c->D + (double)c->top_k * 3.0 * 2.0 * T * c->D * c->F_moe;
        else f += linear_flops(&L->gate, T) + linear_flops(&L->up, T) + linear_flops(&L->down, T);
    }
    if (with_logits) f += 2.0 * T * c->V * c->D;
    return f;
}
