/* qwen3_cuda -- the CUDA backend of the engine interface; see qwen3_cuda.h. The forward mirrors
 * src/model/qwen3_cpu.c step for step (same order of operations, same shapes), with kernels/ in place of
 * src/ops and cuBLAS SGEMM in place of OpenBLAS. */
#include "engine/qwen3_cuda.h"

#include <cublas_v2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_quant.h"
#include "attention.h"
#include "common.cuh"
#include "core/check.h"
#include "moe.h"
#include "rmsnorm.h"
#include "rope.h"
#include "swiglu.h"

#define CUBLAS_CHECK(x)                                                                                    \
    do {                                                                                                   \
        cublasStatus_t s_ = (x);                                                                           \
        if (s_ != CUBLAS_STATUS_SUCCESS) die("%s:%d: cuBLAS error %d: %s", __FILE__, __LINE__, (int)s_, #x); \
    } while (0)

// ---- device state ----

struct dlinear {
    const struct linear *l;   /* the host Linear: act spec, observe hook, shapes */
    float *w, *b, *in_scale;  /* device copies: N x K, N or NULL, K or NULL */
};

struct dlayer {
    float *attn_norm, *mlp_norm, *q_norm, *k_norm;
    struct dlinear q, k, v, o, gate, up, down;
    float *router;                           /* MoE: E x D */
    struct dlinear *eg, *eu, *ed;            /* MoE: E each */
};

struct dkv {
    int64_t cap;
    enum kv_cache_dtype dtype;
    float *k, *v;                            /* n_layers x cap x H_kv x D_h each */
};

struct cuda_impl {
    const struct qwen3_model *m;
    cudaStream_t stream;
    cublasHandle_t blas;
    struct dlayer *layers;
    float *embed, *lm_head, *final_norm;
    float *cos_tab, *sin_tab;                /* n_pos x D_h/2, grown on demand */
    int64_t n_pos;
    struct {                                  /* device scratch, grown on demand (contents undefined) */
        void *p;
        size_t n;
    } scratch[8];
    struct dkv oneshot;                      /* the cache of a one-shot pass (kv NULL), F32 */
};

enum { S_X, S_N, S_QKV, S_ATT, S_O, S_MLP, S_LIN, S_MOE };

static void *scratch_get(struct cuda_impl *c, int slot, size_t bytes) {
    if (c->scratch[slot].n < bytes) {
        if (c->scratch[slot].p) CUDA_CHECK(cudaFree(c->scratch[slot].p));
        CUDA_CHECK(cudaMalloc(&c->scratch[slot].p, bytes));
        c->scratch[slot].n = bytes;
    }
    return c->scratch[slot].p;
}

static float *upload(const float *h, size_t n) {
    if (!h) return NULL;
    float *d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    return d;
}

static void dlinear_init(struct dlinear *d, const struct linear *l) {
    d->l = l;
    d->w = upload(l->w, (size_t)(l->N * l->K));
    d->b = upload(l->b, (size_t)l->N);
    d->in_scale = upload(l->in_scale, (size_t)l->K);
    if (l->transform != LINEAR_TRANSFORM_NONE)
        die("cuda engine: a Linear of %lld x %lld has a Hadamard transform, which the CUDA engine does not "
            "implement yet (use --backend cpu)", (long long)l->N, (long long)l->K);
    if (l->act.mode != LINEAR_ACT_NONE && !act_quant_cuda_supports(l->act.format))
        die("cuda engine: activation format '%s' is not implemented on the GPU (use --backend cpu)",
            qformat_name(l->act.format));
}

static void dlinear_free(struct dlinear *d) {
    cudaFree(d->w);
    cudaFree(d->b);
    cudaFree(d->in_scale);
}

// ---- glue kernels (exact: copies, one FP32 operation per element in the twin's order) ----

/* x[t] = embed[ids[t]] (qwen3_cpu_embed; ids are checked on the host first). */
static __global__ void embed_kernel(float *x, const float *embed, const int32_t *ids, int64_t T, int64_t D) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < T * D) x[i] = embed[(int64_t)ids[i / D] * D + i % D];
}

/* x += o (the residual adds of layer_forward). */
static __global__ void add_kernel(float *x, const float *o, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = __fadd_rn(x[i], o[i]);
}

/* y[t, n] += b[n] (linear_forward's bias, after the GEMM). */
static __global__ void bias_kernel(float *y, const float *b, int64_t T, int64_t N) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < T * N) y[i] = __fadd_rn(y[i], b[i % N]);
}

/* x[t, k] *= s[k] (linear_forward's in_scale). */
static __global__ void scale_cols_kernel(float *x, const float *s, int64_t T, int64_t K) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < T * K) x[i] = __fmul_rn(x[i], s[i % K]);
}

/* kv_cache_store: T rows of k and v (T x row) into the cache at pos0, rounded to BF16 with kv_cache_round_bf16's
 * bit arithmetic when bf16 (round to nearest even; NaN kept quiet). */
static __device__ __forceinline__ float dev_round_bf16(float x) {
    uint32_t u = __float_as_uint(x);
    if (isnan(x)) u = (u | 0x00400000u) & 0xffff0000u;
    else u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    return __uint_as_float(u);
}

static __global__ void kv_store_kernel(float *kc, float *vc, const float *k, const float *v, int64_t n, int bf16) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    kc[i] = bf16 ? dev_round_bf16(k[i]) : k[i];
    vc[i] = bf16 ? dev_round_bf16(v[i]) : v[i];
}

/* xe[r] = x[rows[r]] (moe_forward_ref's gather). */
static __global__ void gather_rows_kernel(float *xe, const float *x, const int32_t *rows, int64_t n, int64_t D) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n * D) xe[i] = x[(int64_t)rows[i / D] * D + i % D];
}

/* y[rows[r]] += o[r] * w[r] (moe_forward_ref's scatter-add: one product, one add, both rounded). Rows of one
 * expert are distinct tokens, so no two threads write the same element. */
static __global__ void scatter_add_kernel(float *y, const float *o, const int32_t *rows, const float *w, int64_t n,
                                          int64_t D) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * D) return;
    const int64_t r = i / D, d = i % D;
    float *p = y + (int64_t)rows[r] * D + d;
    *p = __fadd_rn(*p, __fmul_rn(o[i], w[r]));
}

static unsigned grid_for(int64_t n) { return (unsigned)ceil_div(n, 256); }

// ---- the Linear ----

/* y (T x N) = x (T x K) W^T, linear_forward's order: observe -> in_scale -> (Hadamard: rejected at init) ->
 * act quantize-dequantize (on a copy) -> SGEMM -> + b. Column-major cuBLAS sees the row-major W (N x K) as
 * K x N, so y^T (N x T) = op(W)^T x^T is Sgemm(T, N): m = N, n = T, k = K, A = W (lda K, transposed), B = x
 * (ldb K). */
static void lin(struct cuda_impl *c, const struct dlinear *d, const float *x, float *y, int64_t T) {
    const struct linear *l = d->l;
    const int64_t N = l->N, K = l->K;
    if (T == 0) return;
    if (l->observe) {
        float *h = (float *)xmalloc((size_t)(T * K) * sizeof(float));
        CUDA_CHECK(cudaMemcpyAsync(h, x, (size_t)(T * K) * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
        CUDA_CHECK(cudaStreamSynchronize(c->stream));
        l->observe(l->observe_ctx, l, h, T);
        free(h);
    }
    if (d->in_scale || l->act.mode != LINEAR_ACT_NONE) {
        const size_t xb = ((size_t)(T * K) * sizeof(float) + 255) / 256 * 256;
        const size_t qb = l->act.mode != LINEAR_ACT_NONE ? act_quant_scratch_bytes(l->act.format, T, K) : 0;
        uint8_t *s = (uint8_t *)scratch_get(c, S_LIN, xb + qb);
        float *xq = (float *)s;
        CUDA_CHECK(cudaMemcpyAsync(xq, x, (size_t)(T * K) * sizeof(float), cudaMemcpyDeviceToDevice, c->stream));
        if (d->in_scale) {
            scale_cols_kernel<<<grid_for(T * K), 256, 0, c->stream>>>(xq, d->in_scale, T, K);
            CUDA_CHECK_LAUNCH();
        }
        if (l->act.mode != LINEAR_ACT_NONE) act_quant_cuda(l->act.format, &l->act.params, xq, T, K, s + xb, c->stream);
        x = xq;
    }
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)T, (int)K, &one, d->w, (int)K, x, (int)K,
                             &zero, y, (int)N));
    if (d->b) {
        bias_kernel<<<grid_for(T * N), 256, 0, c->stream>>>(y, d->b, T, N);
        CUDA_CHECK_LAUNCH();
    }
}

// ---- rope table ----

static void rope_ensure(struct cuda_impl *c, int64_t n_pos) {
    if (n_pos <= c->n_pos) return;
    const int64_t half = c->m->cfg.D_h / 2;
    int64_t cap = c->n_pos * 2 > n_pos ? c->n_pos * 2 : n_pos;   /* geometric, as the CPU's table */
    float *hc = (float *)xmalloc((size_t)(cap * half) * sizeof(float));
    float *hs = (float *)xmalloc((size_t)(cap * half) * sizeof(float));
    rope_table_host(c->m->inv_freq, half, cap, hc, hs);
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    cudaFree(c->cos_tab);
    cudaFree(c->sin_tab);
    c->cos_tab = upload(hc, (size_t)(cap * half));
    c->sin_tab = upload(hs, (size_t)(cap * half));
    c->n_pos = cap;
    free(hc);
    free(hs);
}

// ---- kv cache ----

static void dkv_alloc(struct dkv *kv, const struct qwen3_config *cfg, int64_t cap, enum kv_cache_dtype dtype) {
    const size_t n = (size_t)(cfg->n_layers * cap * cfg->H_kv * cfg->D_h);
    kv->cap = cap;
    kv->dtype = dtype;
    CUDA_CHECK(cudaMalloc(&kv->k, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&kv->v, n * sizeof(float)));
}

static void dkv_release(struct dkv *kv) {
    cudaFree(kv->k);
    cudaFree(kv->v);
    memset(kv, 0, sizeof *kv);
}

// ---- the two halves of a layer ----

/* attn_half of qwen3_cpu.c: out = o_proj(attention(rope(qk_norm(q, k)), v)) of input_layernorm(x). */
static void attn_half(struct cuda_impl *c, int64_t layer, const float *x, int64_t T, int64_t pos0, struct dkv *kv,
                      float *out) {
    // x, out: T x D; n: T x D; q, att: T x H x D_h; k, v: T x H_kv x D_h; cache rows: H_kv x D_h
    const struct qwen3_config *cf = &c->m->cfg;
    const struct dlayer *L = &c->layers[layer];
    const int64_t D = cf->D, H = cf->H, Hkv = cf->H_kv, Dh = cf->D_h, row = Hkv * Dh;
    const float eps = (float)cf->rms_norm_eps;
    float *n = (float *)scratch_get(c, S_N, (size_t)(T * D) * sizeof(float));
    float *q = (float *)scratch_get(c, S_QKV, (size_t)(T * (H * Dh + 2 * row)) * sizeof(float));
    float *k = q + T * H * Dh, *v = k + T * row;
    float *att = (float *)scratch_get(c, S_ATT, (size_t)(T * H * Dh) * sizeof(float));
    rmsnorm_cuda(n, x, L->attn_norm, T, D, eps, c->stream);
    lin(c, &L->q, n, q, T);
    lin(c, &L->k, n, k, T);
    lin(c, &L->v, n, v, T);
    rmsnorm_cuda(q, q, L->q_norm, T * H, Dh, eps, c->stream);
    rmsnorm_cuda(k, k, L->k_norm, T * Hkv, Dh, eps, c->stream);
    rope_apply_cuda(q, T, H, Dh, pos0, c->cos_tab, c->sin_tab, c->stream);
    rope_apply_cuda(k, T, Hkv, Dh, pos0, c->cos_tab, c->sin_tab, c->stream);
    // Into the cache first, then attention reads it back (a BF16 cache affects the current tokens too).
    float *kc = kv->k + layer * kv->cap * row, *vc = kv->v + layer * kv->cap * row;
    kv_store_kernel<<<grid_for(T * row), 256, 0, c->stream>>>(kc + pos0 * row, vc + pos0 * row, k, v, T * row,
                                                              kv->dtype == KV_CACHE_BF16);
    CUDA_CHECK_LAUNCH();
    attention_cuda(att, q, kc, vc, T, pos0, H, Hkv, Dh, row, c->stream);
    lin(c, &L->o, att, out, T);
}

/* The MoE block of moe_forward_ref: router SGEMM, routing on the device, then per expert in increasing id the
 * gathered rows through gate / up / SwiGLU / down and the weighted scatter-add (the same accumulation order). */
static void moe_half(struct cuda_impl *c, const struct dlayer *L, const float *h, int64_t T, float *out) {
    // h, out: T x D; logits: T x E; ids, w: T x top_k; per expert xe: n_e x D, g, u: n_e x F, o: n_e x D
    const struct qwen3_config *cf = &c->m->cfg;
    const int64_t D = cf->D, E = cf->E, k = cf->top_k, F = cf->F_moe;
    float *logits = (float *)scratch_get(c, S_MOE, (size_t)(T * E + T * k + T * k) * sizeof(float) +
                                                       (size_t)(T * k) * sizeof(int32_t) * 2 + 4096);
    float *wts = logits + T * E;
    int32_t *ids = (int32_t *)(wts + T * k);
    int32_t *rows_d = ids + T * k;
    float *rw_d = (float *)(rows_d + T * k);
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)E, (int)T, (int)D, &one, L->router, (int)D, h,
                             (int)D, &zero, logits, (int)E));
    moe_route_cuda(logits, T, E, k, cf->norm_topk_prob, ids, wts, c->stream);
    int32_t *hid = (int32_t *)xmalloc((size_t)(T * k) * sizeof(int32_t));
    float *hw = (float *)xmalloc((size_t)(T * k) * sizeof(float));
    CUDA_CHECK(cudaMemcpyAsync(hid, ids, (size_t)(T * k) * sizeof(int32_t), cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK(cudaMemcpyAsync(hw, wts, (size_t)(T * k) * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    // Host: the rows of each expert in token order (moe_forward_ref's gather loop), all experts packed.
    int32_t *rows = (int32_t *)xmalloc((size_t)(T * k) * sizeof(int32_t));
    float *rw = (float *)xmalloc((size_t)(T * k) * sizeof(float));
    int64_t *start = (int64_t *)xcalloc((size_t)E + 1, sizeof(int64_t));
    int64_t n_all = 0;
    for (int64_t e = 0; e < E; e++) {
        start[e] = n_all;
        for (int64_t t = 0; t < T; t++)
            for (int64_t i = 0; i < k; i++)
                if (hid[t * k + i] == e) {
                    rows[n_all] = (int32_t)t;
                    rw[n_all] = hw[t * k + i];
                    n_all++;
                }
    }
    start[E] = n_all;
    CUDA_CHECK(cudaMemcpyAsync(rows_d, rows, (size_t)n_all * sizeof(int32_t), cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK(cudaMemcpyAsync(rw_d, rw, (size_t)n_all * sizeof(float), cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK(cudaMemsetAsync(out, 0, (size_t)(T * D) * sizeof(float), c->stream));
    float *xe = (float *)scratch_get(c, S_MLP, (size_t)(T * (2 * D + 2 * F)) * sizeof(float));
    float *o = xe + T * D, *g = o + T * D, *u = g + T * F;
    for (int64_t e = 0; e < E; e++) {
        const int64_t n_e = start[e + 1] - start[e];
        if (n_e == 0) continue;
        CHECK(L->eg[e].l->N == F && L->ed[e].l->K == F, "expert %lld shapes", (long long)e);
        gather_rows_kernel<<<grid_for(n_e * D), 256, 0, c->stream>>>(xe, h, rows_d + start[e], n_e, D);
        CUDA_CHECK_LAUNCH();
        lin(c, &L->eg[e], xe, g, n_e);
        lin(c, &L->eu[e], xe, u, n_e);
        swiglu_cuda(g, g, u, n_e * F, c->stream);
        lin(c, &L->ed[e], g, o, n_e);
        scatter_add_kernel<<<grid_for(n_e * D), 256, 0, c->stream>>>(out, o, rows_d + start[e], rw_d + start[e], n_e,
                                                                     D);
        CUDA_CHECK_LAUNCH();
    }
    // The host arrays are read by the copies above: wait before freeing them.
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    free(hid);
    free(hw);
    free(rows);
    free(rw);
    free(start);
}

/* mlp_half of qwen3_cpu.c: out = mlp(post_attention_layernorm(x)). */
static void mlp_half(struct cuda_impl *c, int64_t layer, const float *x, int64_t T, float *out) {
    // x, out, h: T x D; g, u: T x F
    const struct qwen3_config *cf = &c->m->cfg;
    const struct dlayer *L = &c->layers[layer];
    const int64_t D = cf->D;
    float *h = (float *)scratch_get(c, S_N, (size_t)(T * D) * sizeof(float));
    rmsnorm_cuda(h, x, L->mlp_norm, T, D, (float)cf->rms_norm_eps, c->stream);
    if (c->m->layers[layer].is_moe) {
        moe_half(c, L, h, T, out);
        return;
    }
    const int64_t F = cf->F;
    float *g = (float *)scratch_get(c, S_MLP, (size_t)(2 * T * F) * sizeof(float)), *u = g + T * F;
    lin(c, &L->gate, h, g, T);
    lin(c, &L->up, h, u, T);
    swiglu_cuda(g, g, u, T * F, c->stream);
    lin(c, &L->down, g, out, T);
}

// ---- the backend ----

static void *cuda_init(struct qwen3_model *m, char *desc, size_t n) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) die("cuda engine: no CUDA device");
    struct cuda_impl *c = (struct cuda_impl *)xcalloc(1, sizeof *c);
    const struct qwen3_config *cf = &m->cfg;
    c->m = m;
    CUDA_CHECK(cudaStreamCreate(&c->stream));
    CUBLAS_CHECK(cublasCreate(&c->blas));
    CUBLAS_CHECK(cublasSetStream(c->blas, c->stream));
    // FP32 semantics: no TF32 and no reduced-precision reductions (CUBLAS_PEDANTIC_MATH).
    CUBLAS_CHECK(cublasSetMathMode(c->blas, CUBLAS_PEDANTIC_MATH));
    const int64_t D = cf->D, Dh = cf->D_h, V = cf->V;
    c->embed = upload(m->embed, (size_t)(V * D));
    c->lm_head = m->lm_head == m->embed ? c->embed : upload(m->lm_head, (size_t)(V * D));
    c->final_norm = upload(m->final_norm, (size_t)D);
    c->layers = (struct dlayer *)xcalloc((size_t)cf->n_layers, sizeof *c->layers);
    for (int64_t l = 0; l < cf->n_layers; l++) {
        const struct qwen3_layer *H = &m->layers[l];
        struct dlayer *L = &c->layers[l];
        L->attn_norm = upload(H->attn_norm, (size_t)D);
        L->mlp_norm = upload(H->mlp_norm, (size_t)D);
        L->q_norm = upload(H->q_norm, (size_t)Dh);
        L->k_norm = upload(H->k_norm, (size_t)Dh);
        dlinear_init(&L->q, &H->q);
        dlinear_init(&L->k, &H->k);
        dlinear_init(&L->v, &H->v);
        dlinear_init(&L->o, &H->o);
        if (H->is_moe) {
            L->router = upload(H->router, (size_t)(cf->E * D));
            L->eg = (struct dlinear *)xcalloc((size_t)cf->E, sizeof(struct dlinear));
            L->eu = (struct dlinear *)xcalloc((size_t)cf->E, sizeof(struct dlinear));
            L->ed = (struct dlinear *)xcalloc((size_t)cf->E, sizeof(struct dlinear));
            for (int64_t e = 0; e < cf->E; e++) {
                dlinear_init(&L->eg[e], &H->exp_gate[e]);
                dlinear_init(&L->eu[e], &H->exp_up[e]);
                dlinear_init(&L->ed[e], &H->exp_down[e]);
            }
        } else {
            dlinear_init(&L->gate, &H->gate);
            dlinear_init(&L->up, &H->up);
            dlinear_init(&L->down, &H->down);
        }
    }
    rope_ensure(c, 256);
    cudaDeviceProp prop;
    int dev = 0, rt = 0, blas_ver = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    CUBLAS_CHECK(cublasGetVersion(c->blas, &blas_ver));
    snprintf(desc, n, "cuda %s sm_%d%d runtime %d cublas %d fp32 pedantic", prop.name, prop.major, prop.minor, rt,
             blas_ver);
    return c;
}

static void cuda_free(void *impl) {
    struct cuda_impl *c = (struct cuda_impl *)impl;
    if (!c) return;
    const struct qwen3_config *cf = &c->m->cfg;
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    for (int64_t l = 0; l < cf->n_layers; l++) {
        struct dlayer *L = &c->layers[l];
        cudaFree(L->attn_norm);
        cudaFree(L->mlp_norm);
        cudaFree(L->q_norm);
        cudaFree(L->k_norm);
        dlinear_free(&L->q);
        dlinear_free(&L->k);
        dlinear_free(&L->v);
        dlinear_free(&L->o);
        if (L->eg) {
            cudaFree(L->router);
            for (int64_t e = 0; e < cf->E; e++) {
                dlinear_free(&L->eg[e]);
                dlinear_free(&L->eu[e]);
                dlinear_free(&L->ed[e]);
            }
            free(L->eg);
            free(L->eu);
            free(L->ed);
        } else {
            dlinear_free(&L->gate);
            dlinear_free(&L->up);
            dlinear_free(&L->down);
        }
    }
    free(c->layers);
    if (c->lm_head != c->embed) cudaFree(c->lm_head);
    cudaFree(c->embed);
    cudaFree(c->final_norm);
    cudaFree(c->cos_tab);
    cudaFree(c->sin_tab);
    for (int i = 0; i < 8; i++) cudaFree(c->scratch[i].p);
    dkv_release(&c->oneshot);
    cublasDestroy(c->blas);
    cudaStreamDestroy(c->stream);
    free(c);
}

static void *cuda_kv_new(void *impl, int64_t cap, enum kv_cache_dtype dtype) {
    struct cuda_impl *c = (struct cuda_impl *)impl;
    struct dkv *kv = (struct dkv *)xcalloc(1, sizeof *kv);
    dkv_alloc(kv, &c->m->cfg, cap, dtype);
    return kv;
}

static void cuda_kv_free(void *impl, void *p) {
    (void)impl;
    if (!p) return;
    dkv_release((struct dkv *)p);
    free(p);
}

/* Layer by layer, the first len rows of k and v (one strided 2-D copy each). */
static void cuda_kv_copy(void *impl, void *pdst, const void *psrc, int64_t len) {
    struct cuda_impl *c = (struct cuda_impl *)impl;
    struct dkv *dst = (struct dkv *)pdst;
    const struct dkv *src = (const struct dkv *)psrc;
    const struct qwen3_config *cf = &c->m->cfg;
    CHECK(dst->cap >= len && src->cap >= len, "kv copy shapes");
    const size_t row = (size_t)(cf->H_kv * cf->D_h) * sizeof(float);
    if (len == 0) return;
    CUDA_CHECK(cudaMemcpy2DAsync(dst->k, (size_t)dst->cap * row, src->k, (size_t)src->cap * row, (size_t)len * row,
                                 (size_t)cf->n_layers, cudaMemcpyDeviceToDevice, c->stream));
    CUDA_CHECK(cudaMemcpy2DAsync(dst->v, (size_t)dst->cap * row, src->v, (size_t)src->cap * row, (size_t)len * row,
                                 (size_t)cf->n_layers, cudaMemcpyDeviceToDevice, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
}

static void cuda_forward(void *impl, void *pkv, const int32_t *ids, int64_t T, int64_t pos0, float *logits,
                         float *hidden, int last_only) {
    struct cuda_impl *c = (struct cuda_impl *)impl;
    const struct qwen3_config *cf = &c->m->cfg;
    const int64_t D = cf->D, V = cf->V;
    struct dkv *kv = (struct dkv *)pkv;
    CHECK(T > 0, "T=%lld", (long long)T);
    for (int64_t t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= V)
            die("token id %d at position %lld is outside the vocabulary [0, %lld)", ids[t], (long long)t, (long long)V);
    if (!kv) {
        // One-shot: an F32 cache of T rows, the same values the CPU reads straight from the projections.
        CHECK(pos0 == 0, "a one-shot forward starts at position 0");
        if (c->oneshot.cap < T) {
            dkv_release(&c->oneshot);
            dkv_alloc(&c->oneshot, cf, T, KV_CACHE_F32);
        }
        kv = &c->oneshot;
    } else if (pos0 + T > kv->cap) {
        die("context of %lld tokens exceeds the KV cache capacity of %lld", (long long)(pos0 + T), (long long)kv->cap);
    }
    rope_ensure(c, pos0 + T);
    float *x = (float *)scratch_get(c, S_X, (size_t)(T * D) * sizeof(float) + (size_t)T * sizeof(int32_t) + 256);
    int32_t *ids_d = (int32_t *)(x + T * D);
    CUDA_CHECK(cudaMemcpyAsync(ids_d, ids, (size_t)T * sizeof(int32_t), cudaMemcpyHostToDevice, c->stream));
    embed_kernel<<<grid_for(T * D), 256, 0, c->stream>>>(x, c->embed, ids_d, T, D);
    CUDA_CHECK_LAUNCH();
    float *o = (float *)scratch_get(c, S_O, (size_t)(T * D) * sizeof(float));
    for (int64_t l = 0; l < cf->n_layers; l++) {
        attn_half(c, l, x, T, pos0, kv, o);
        add_kernel<<<grid_for(T * D), 256, 0, c->stream>>>(x, o, T * D);
        CUDA_CHECK_LAUNCH();
        mlp_half(c, l, x, T, o);
        add_kernel<<<grid_for(T * D), 256, 0, c->stream>>>(x, o, T * D);
        CUDA_CHECK_LAUNCH();
    }
    rmsnorm_cuda(x, x, c->final_norm, T, D, (float)cf->rms_norm_eps, c->stream);
    if (logits) {
        // lm_head: last_only keeps one row (T = 1 GEMM), else T x V.
        const int64_t rows = last_only ? 1 : T;
        const float *h = last_only ? x + (T - 1) * D : x;
        float *lg = (float *)scratch_get(c, S_ATT, (size_t)(rows * V) * sizeof(float));
        const float one = 1.0f, zero = 0.0f;
        CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)V, (int)rows, (int)D, &one, c->lm_head, (int)D,
                                 h, (int)D, &zero, lg, (int)V));
        CUDA_CHECK(cudaMemcpyAsync(logits, lg, (size_t)(rows * V) * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
    }
    if (hidden)
        CUDA_CHECK(cudaMemcpyAsync(hidden, x, (size_t)(T * D) * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
}

static const struct engine_backend g_cuda = {
    .name = "cuda",
    .init = cuda_init,
    .free = cuda_free,
    .kv_new = cuda_kv_new,
    .kv_free = cuda_kv_free,
    .kv_copy = cuda_kv_copy,
    .forward = cuda_forward,
};

extern "C" const struct engine_backend *qwen3_cuda_backend(void) { return &g_cuda; }
