/* qwen3_cuda -- the CUDA backend of the engine interface; see qwen3_cuda.h. The forward mirrors
 * src/model/qwen3_cpu.c step for step (same order of operations, same shapes), with kernels/ in place of
 * src/ops and cuBLAS SGEMM in place of OpenBLAS. */
#include "engine/qwen3_cuda.h"

#include <cublas_v2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_quant.h"
#include "attention.h"
#include "linear_w4a16.h"
#include "serve_gemv.h"
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
    /* Packed decode (issue 15 item 2): a weight-only Linear whose packed qtensor is NVFP4, MXFP4 or INT4 also
     * keeps linear_w4a16's planes; T <= 8 rows then run that GEMV (x rounded to FP16: the A16 of W4A16) instead
     * of SGEMM on the FP32 view. Opt-in: QL_CUDA_PACKED=1 (see dlinear_pack). */
    int has_pw;
    struct linear_w4a16 pw;
    void *pw_work;            /* its own cross-CTA workspace (zeroed once; see dlinear_pack) */
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
    } scratch[10];
    int n_packed;                            /* Linears with packed decode planes */
    struct dkv oneshot;                      /* the cache of a one-shot pass (kv NULL), F32 */
};

enum { S_X, S_N, S_QKV, S_ATT, S_O, S_MLP, S_LIN, S_MOE, S_X16 };

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

/* The packed decode planes of d when its Linear qualifies (see struct dlinear). */
static void dlinear_pack(struct cuda_impl *c, struct dlinear *d) {
    const struct linear *l = d->l;
    const struct qtensor *q = l->packed;
    // Opt-in (QL_CUDA_PACKED=1). History: check_qwen3_serve check 5 failed on the H200 (2026-12-02) before and
    // after the scale-domain fix below; the per-call diagnostic (QL_CUDA_PACKED_VERIFY) then showed only the
    // 1536-row Linears wrong: one workspace was shared by Linears of different N, but linear_w4a16 puts its
    // tile counters at the workspace's start and the partial sums after ceil(RT * 4 / 256) * 256 bytes, so a
    // call with fewer tiles wrote partial sums over a larger weight's counters. Each Linear now has its own,
    // and check 5 passes on the H200 (2026-12-02T03:58Z, all four recipes). Still opt-in: making it the
    // default changes what BACKEND=cuda measures, the lead's call.
    const char *env = getenv("QL_CUDA_PACKED");
    if (!env || strcmp(env, "1") || !q || l->act.mode != LINEAR_ACT_NONE || l->transform != LINEAR_TRANSFORM_NONE)
        return;
    if (q->format != QFORMAT_NVFP4 && q->format != QFORMAT_MXFP4 && q->format != QFORMAT_INT4_SYM &&
        q->format != QFORMAT_INT4_ASYM)
        return;
    // linear_w4a16's group is the scale domain along K (16 NVFP4, 32 MXFP4, the INT4 group), as in
    // tests/check_linear_w4a16.cu; the layout takes the qtensor's own group_size.
    const int domain = linear_w4a16_domain(q->format, q->params.group_size);
    if (l->K % domain != 0) return;
    size_t cb, sb, zb;
    linear_w4a16_layout(q->format, q->params.group_size, l->N, l->K, &cb, &sb, &zb);
    uint8_t *hc = (uint8_t *)xcalloc(cb, 1), *hs = (uint8_t *)xcalloc(sb, 1), *hz = (uint8_t *)xcalloc(zb ? zb : 1, 1);
    linear_w4a16_pack_host(q, hc, hs, zb ? hz : NULL);
    uint8_t *dc, *ds, *dz = NULL;
    CUDA_CHECK(cudaMalloc(&dc, cb));
    CUDA_CHECK(cudaMalloc(&ds, sb));
    CUDA_CHECK(cudaMemcpy(dc, hc, cb, cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(ds, hs, sb, cudaMemcpyHostToDevice));
    if (zb) {
        CUDA_CHECK(cudaMalloc(&dz, zb));
        CUDA_CHECK(cudaMemcpy(dz, hz, zb, cudaMemcpyHostToDevice));
    }
    free(hc);
    free(hs);
    free(hz);
    d->pw.format = q->format;
    d->pw.group = domain;
    d->pw.N = l->N;
    d->pw.K = l->K;
    d->pw.global_scale = q->format == QFORMAT_NVFP4 ? q->global_scale : 1.0f;
    d->pw.codes = dc;
    d->pw.scales = ds;
    d->pw.zeros = dz;
    d->has_pw = 1;
    c->n_packed++;
    const size_t wb = linear_w4a16_workspace_bytes(l->N, l->K);
    CUDA_CHECK(cudaMalloc(&d->pw_work, wb));
    CUDA_CHECK(cudaMemset(d->pw_work, 0, wb));
}

static void dlinear_init(struct cuda_impl *c, struct dlinear *d, const struct linear *l) {
    memset(d, 0, sizeof *d);
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
    dlinear_pack(c, d);
}

static void dlinear_free(struct dlinear *d) {
    if (d->has_pw) {
        cudaFree((void *)d->pw.codes);
        cudaFree((void *)d->pw.scales);
        cudaFree((void *)d->pw.zeros);
        cudaFree(d->pw_work);
    }
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
    if (d->has_pw && T <= LINEAR_W4A16_MAX_M) {
        uint16_t *x16 = (uint16_t *)scratch_get(c, S_X16, (size_t)(T * K) * 2);
        serve_to_16_cuda(x16, x, T * K, 1, c->stream);
        linear_w4a16_cuda(&d->pw, x16, y, T, d->pw_work, c->stream);
        static int n_verify = -1;
        if (n_verify < 0) n_verify = getenv("QL_CUDA_PACKED_VERIFY") ? atoi(getenv("QL_CUDA_PACKED_VERIFY")) : 0;
        if (n_verify > 0) {
            // Diagnostic (QL_CUDA_PACKED_VERIFY=n): the first n packed calls also run the SGEMM on the FP32 view
            // and print the largest difference and a few values of both.
            n_verify--;
            float *yr;
            CUDA_CHECK(cudaMalloc(&yr, (size_t)(T * N) * sizeof(float)));
            CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)T, (int)K, &one, d->w, (int)K, x,
                                     (int)K, &zero, yr, (int)N));
            float *hp = (float *)xmalloc((size_t)(T * N) * sizeof(float)), *hr = (float *)xmalloc((size_t)(T * N) * sizeof(float));
            CUDA_CHECK(cudaMemcpyAsync(hp, y, (size_t)(T * N) * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
            CUDA_CHECK(cudaMemcpyAsync(hr, yr, (size_t)(T * N) * sizeof(float), cudaMemcpyDeviceToHost, c->stream));
            CUDA_CHECK(cudaStreamSynchronize(c->stream));
            double md = 0, mr = 0;
            for (int64_t i = 0; i < T * N; i++) {
                const double dd = fabs((double)hp[i] - hr[i]);
                md = dd > md || dd != dd ? dd : md;
                mr = fabs(hr[i]) > mr ? fabs(hr[i]) : mr;
            }
            printf("  packed-verify %s N=%lld K=%lld T=%lld group=%d gs=%g: max |packed - sgemm| %.4g (max |sgemm| %.4g); "
                   "y[0..3] packed %.5g %.5g %.5g %.5g sgemm %.5g %.5g %.5g %.5g\n",
                   qformat_name(d->pw.format), (long long)N, (long long)K, (long long)T, d->pw.group, d->pw.global_scale, md, mr,
                   hp[0], hp[1], hp[2], hp[3], hr[0], hr[1], hr[2], hr[3]);
            free(hp);
            free(hr);
            cudaFree(yr);
        }
    } else {
        CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)T, (int)K, &one, d->w, (int)K, x,
                                 (int)K, &zero, y, (int)N));
    }
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
        dlinear_init(c, &L->q, &H->q);
        dlinear_init(c, &L->k, &H->k);
        dlinear_init(c, &L->v, &H->v);
        dlinear_init(c, &L->o, &H->o);
        if (H->is_moe) {
            L->router = upload(H->router, (size_t)(cf->E * D));
            L->eg = (struct dlinear *)xcalloc((size_t)cf->E, sizeof(struct dlinear));
            L->eu = (struct dlinear *)xcalloc((size_t)cf->E, sizeof(struct dlinear));
            L->ed = (struct dlinear *)xcalloc((size_t)cf->E, sizeof(struct dlinear));
            for (int64_t e = 0; e < cf->E; e++) {
                dlinear_init(c, &L->eg[e], &H->exp_gate[e]);
                dlinear_init(c, &L->eu[e], &H->exp_up[e]);
                dlinear_init(c, &L->ed[e], &H->exp_down[e]);
            }
        } else {
            dlinear_init(c, &L->gate, &H->gate);
            dlinear_init(c, &L->up, &H->up);
            dlinear_init(c, &L->down, &H->down);
        }
    }
    rope_ensure(c, 256);
    cudaDeviceProp prop;
    int dev = 0, rt = 0, blas_ver = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    CUBLAS_CHECK(cublasGetVersion(c->blas, &blas_ver));
    snprintf(desc, n, "cuda %s sm_%d%d runtime %d cublas %d fp32 pedantic%s", prop.name, prop.major, prop.minor, rt,
             blas_ver, c->n_packed ? ", packed w4a16 decode (T <= 8)" : "");
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
    for (int i = 0; i < 10; i++) cudaFree(c->scratch[i].p);
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

// ==== the serving path (qwen3_cuda.h "the serving path"; e07-serving) ====

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <math.h>

#include "core/rng.h"
#include "serve_attention.h"
#include "serve_gemv.h"

struct srv_layer {
    float *attn_norm, *mlp_norm, *q_norm, *k_norm;   /* FP32 */
    struct serve_w qkv, o, gu, down;                 /* fused q|k|v (rows), gate|up (rows) */
    struct serve_w router, egu, edown;               /* MoE: router BF16 E x D; experts stacked E x (2F x D), E x (D x F) */
    int is_moe;
};

struct srv {
    struct qwen3_config cf;
    int fmt;
    int64_t max_b, cap, max_T, max_rows;   /* max_rows: max(max_T, max_b * top_k) activation rows */
    cudaStream_t st;
    cublasHandle_t blas;
    struct srv_layer *L;
    struct serve_w embed, lm;               /* BF16 V x D; lm.codes == embed.codes when tied */
    int lm_tied;
    float *final_norm, *cos_tab, *sin_tab;
    float *kc, *vc;                         /* n_layers x max_b x cap x row FP32 */
    // scratch (max_rows rows each)
    float *x, *n, *q, *k, *v, *att, *o, *g, *u, *logits, *rl, *mw;
    float *awork, *S;                       /* decode attention partials; prefill scores (H x max_T x max_T) */
    uint16_t *x16, *x16b, *wbuf;            /* Linear input in FP16 / BF16; dequantized weights (BF16) */
    int32_t *ids, *next, *mids, *pos_of;    /* mids: n_layers x max_rows*top_k? (see srv_alloc) */
    size_t scratch_bytes, wbuf_elems;
    uint16_t *h16;                          /* decode: SwiGLU output (pair rows x F), FP16 / BF16 */
    cudaGraphExec_t gexec;
    int64_t g_B, g_pos;
    int variant;                            /* decode: 1 fused kernels (default), 0 the first version */
    int pdl;                                /* fused decode: launches with programmatic dependent launch */
    int pdl_allowed;                        /* 1 unless QL_SERVE_PDL=0 (set_pdl) */
    int g_variant, g_pdl;
    // per-op timing (profile_begin / profile_end): events around each op of a plain (un-graphed) decode
    int prof_on, prof_n;
    cudaEvent_t *prof_ev;
    int *prof_cls;
    double prof_us[32];
    int64_t prof_steps;
};

/* Op classes of the decode timing breakdown. */
enum { P_EMBED, P_NORM, P_QKV, P_QKROPE, P_ATTN, P_O, P_GU, P_ACT, P_DOWN, P_ROUTER, P_ROUTE, P_EGU, P_EDOWN,
       P_COMBINE, P_LM, P_ARGMAX, P_N };
static const char *const PROF_NAME[P_N] = {"embed", "norm+add+to16", "gemv_qkv", "qknorm+rope+kv", "attention",
                                           "gemv_o", "gemv_gate_up", "swiglu+to16", "gemv_down", "router_gemv",
                                           "router_topk", "experts_gate_up", "experts_down", "moe_combine",
                                           "gemv_lm_head", "argmax"};
enum { PROF_MAX_EV = 4096 };

/* Marks the start of an op of class cls (profile mode only). */
static void prof_mark(struct srv *s, int cls) {
    if (!s->prof_on) return;
    CHECK(s->prof_n < PROF_MAX_EV, "profile events");
    CUDA_CHECK(cudaEventRecord(s->prof_ev[s->prof_n], s->st));
    s->prof_cls[s->prof_n++] = cls;
}

static void *srv_malloc(struct srv *s, size_t bytes) {
    void *p;
    CUDA_CHECK(cudaMalloc(&p, bytes));
    s->scratch_bytes += bytes;
    return p;
}

static size_t w_bytes(const struct serve_w *w) {
    if (!w->codes) return 0;
    size_t c, sc, z;
    serve_w_bytes(w->fmt, w->N, w->K, w->n_mat, &c, &sc, &z);
    return c + sc + z;
}

static int srv_half(const struct srv *s) { return s->fmt != SERVE_BF16; }   /* GEMV x in FP16, else BF16 */

// ---- glue kernels of the serving path (copies and one-operation-per-element sums) ----

static __global__ void srv_embed_kernel(float *x, const uint16_t *emb, const int32_t *ids, int64_t T, int64_t D) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    asm volatile("griddepcontrol.wait;" ::: "memory");   /* no-op unless launched with PDL (fused decode) */
#endif
    if (i < T * D) x[i] = __bfloat162float(__ushort_as_bfloat16(emb[(int64_t)__ldcg(ids + i / D) * D + i % D]));
}

/* Rows of k, v (n_tok x row) into the caches: token i to sequence (per_seq ? i : 0) at position
 * pos0 (+ i when !per_seq). seq_stride: floats between sequences of one layer. */
static __global__ void srv_kv_store_kernel(float *kc, float *vc, const float *k, const float *v, int64_t n_tok,
                                           int64_t row, int64_t seq_stride, int64_t pos0, int per_seq) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_tok * row) return;
    const int64_t t = i / row, j = i % row;
    const int64_t dst = (per_seq ? t * seq_stride + pos0 * row : (pos0 + t) * row) + j;
    kc[dst] = k[i];
    vc[dst] = v[i];
}

/* out[t] = sum_i w[t k + i] eo[pos_of[t k + i]] in i order (pos_of NULL: identity). */
static __global__ void srv_moe_combine_kernel(float *out, const float *eo, const float *w, const int32_t *pos_of,
                                              int64_t T, int64_t k, int64_t D) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= T * D) return;
    const int64_t t = i / D, d = i % D;
    float acc = 0.0f;
    for (int64_t j = 0; j < k; j++) {
        const int64_t p = pos_of ? pos_of[t * k + j] : t * k + j;
        acc = __fadd_rn(acc, __fmul_rn(w[t * k + j], eo[p * D + d]));
    }
    out[i] = acc;
}

static __global__ void srv_gather16_kernel(uint16_t *xs, const uint16_t *x, const int32_t *rows, int64_t n, int64_t D) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n * D) xs[i] = x[(int64_t)rows[i / D] * D + i % D];
}

/* next[b] = argmax_j logits[b, j] (first maximum), one CTA of 256 threads per row. */
static __global__ void srv_argmax_kernel(int32_t *next, const float *logits, int64_t V) {
    __shared__ float sv[256];
    __shared__ int32_t si[256];
    const float *r = logits + (int64_t)blockIdx.x * V;
    float best = -INFINITY;
    int32_t bi = 0;
    for (int64_t j = threadIdx.x; j < V; j += 256)
        if (r[j] > best) {
            best = r[j];
            bi = (int32_t)j;
        }
    sv[threadIdx.x] = best;
    si[threadIdx.x] = bi;
    __syncthreads();
    for (int h = 128; h > 0; h /= 2) {
        if (threadIdx.x < h) {
            const float ov = sv[threadIdx.x + h];
            const int32_t oi = si[threadIdx.x + h];
            if (ov > sv[threadIdx.x] || (ov == sv[threadIdx.x] && oi < si[threadIdx.x])) {
                sv[threadIdx.x] = ov;
                si[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) next[blockIdx.x] = si[0];
}

static __global__ void srv_fill_kernel(float *p, int64_t n, uint64_t seed) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = (float)(rng_hash(seed, (uint64_t)i) >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

// ---- Linears: GEMV (decode) and dequantize + cuBLAS (prefill) ----

static struct serve_seg seg1(float *y, int64_t N) {
    struct serve_seg g;
    memset(&g, 0, sizeof g);
    g.n_seg = 1;
    g.n0[1] = N;
    g.y[0] = y;
    return g;
}

static struct serve_seg seg_n(int n, const int64_t *widths, float *const *ys) {
    struct serve_seg g;
    memset(&g, 0, sizeof g);
    g.n_seg = n;
    for (int i = 0; i < n; i++) {
        g.n0[i + 1] = g.n0[i] + widths[i];
        g.y[i] = ys[i];
    }
    return g;
}

/* y segments (T x width each, FP32) = x16b (T x K BF16) W^T for matrix `mat` of w's stack: the matrix is
 * dequantized into wbuf (BF16) unless already BF16, then one cuBLAS GEMM per segment (tensor cores, FP32
 * accumulation; column-major view: y^T = W x^T). */
static void srv_gemm(struct srv *s, const struct serve_w *w, int64_t mat, const uint16_t *x16b, int64_t T,
                     const struct serve_seg *sg) {
    const int64_t N = w->N, K = w->K;
    const uint16_t *W;
    if (w->fmt == SERVE_BF16) {
        W = (const uint16_t *)w->codes + mat * N * K;
    } else {
        CHECK((size_t)(N * K) <= s->wbuf_elems, "wbuf %lld x %lld", (long long)N, (long long)K);
        serve_dequant_bf16_cuda(w, mat * N, N, s->wbuf, s->st);
        W = s->wbuf;
    }
    const float one = 1.0f, zero = 0.0f;
    for (int i = 0; i < sg->n_seg; i++) {
        const int64_t n0 = sg->n0[i], nw = sg->n0[i + 1] - n0;
        CUBLAS_CHECK(cublasGemmEx(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)nw, (int)T, (int)K, &one, W + n0 * K,
                                  CUDA_R_16BF, (int)K, x16b, CUDA_R_16BF, (int)K, &zero, sg->y[i], CUDA_R_32F,
                                  (int)nw, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
}

/* The Linear on T rows of x (FP32): decode (T <= 32 and !prefill) through the GEMV, else srv_gemm. */
static void srv_lin(struct srv *s, const struct serve_w *w, const float *x, int64_t T, const struct serve_seg *sg,
                    int prefill, int cls) {
    const int64_t K = w->K;
    if (prefill) {
        serve_to_16_cuda(s->x16b, x, T * K, 0, s->st);
        srv_gemm(s, w, 0, s->x16b, T, sg);
    } else {
        const int half = w->fmt != SERVE_BF16;
        uint16_t *xx = half ? s->x16 : s->x16b;
        prof_mark(s, P_NORM);
        serve_to_16_cuda(xx, x, T * K, half, s->st);
        prof_mark(s, cls);
        serve_gemv_cuda(w, xx, T, sg, NULL, 0, 1, s->st);
    }
}

// ---- one layer ----

static void srv_attn(struct srv *s, int64_t l, int64_t T, int64_t b, int64_t pos, int prefill) {
    // decode: T = B sequences at position pos; prefill: T tokens of sequence b from position 0
    const struct qwen3_config *cf = &s->cf;
    const struct srv_layer *L = &s->L[l];
    const int64_t D = cf->D, H = cf->H, Hkv = cf->H_kv, Dh = cf->D_h, row = Hkv * Dh;
    const float eps = (float)cf->rms_norm_eps;
    prof_mark(s, P_NORM);
    rmsnorm_cuda(s->n, s->x, L->attn_norm, T, D, eps, s->st);
    const int64_t wid[3] = {H * Dh, row, row};
    float *ys[3] = {s->q, s->k, s->v};
    const struct serve_seg sg = seg_n(3, wid, ys);
    srv_lin(s, &L->qkv, s->n, T, &sg, prefill, P_QKV);
    prof_mark(s, P_QKROPE);
    rmsnorm_cuda(s->q, s->q, L->q_norm, T * H, Dh, eps, s->st);
    rmsnorm_cuda(s->k, s->k, L->k_norm, T * Hkv, Dh, eps, s->st);
    const int64_t seq = s->cap * row;
    float *kc = s->kc + l * s->max_b * seq, *vc = s->vc + l * s->max_b * seq;
    if (prefill) {
        rope_apply_cuda(s->q, T, H, Dh, 0, s->cos_tab, s->sin_tab, s->st);
        rope_apply_cuda(s->k, T, Hkv, Dh, 0, s->cos_tab, s->sin_tab, s->st);
        srv_kv_store_kernel<<<grid_for(T * row), 256, 0, s->st>>>(kc + b * seq, vc + b * seq, s->k, s->v, T, row,
                                                                  seq, 0, 0);
        CUDA_CHECK_LAUNCH();
        serve_attn_prefill_cuda(s->blas, s->att, s->q, kc + b * seq, vc + b * seq, T, H, Hkv, Dh, row, s->S, s->st);
    } else {
        // All B sequences at one position: RoPE of B tokens = one token of B * H heads.
        rope_apply_cuda(s->q, 1, T * H, Dh, pos, s->cos_tab, s->sin_tab, s->st);
        rope_apply_cuda(s->k, 1, T * Hkv, Dh, pos, s->cos_tab, s->sin_tab, s->st);
        srv_kv_store_kernel<<<grid_for(T * row), 256, 0, s->st>>>(kc, vc, s->k, s->v, T, row, seq, pos, 1);
        CUDA_CHECK_LAUNCH();
        prof_mark(s, P_ATTN);
        serve_attn_decode_cuda(s->att, NULL, 0, s->q, kc, vc, T, pos, H, Hkv, Dh, row, seq, s->awork, s->st);
    }
    const struct serve_seg so = seg1(s->o, D);
    srv_lin(s, &L->o, s->att, T, &so, prefill, P_O);
    prof_mark(s, P_NORM);
    add_kernel<<<grid_for(T * D), 256, 0, s->st>>>(s->x, s->o, T * D);
    CUDA_CHECK_LAUNCH();
}

/* MoE block on T rows of s->n (normed): router (BF16), top-k on the device; decode: paired GEMVs over the
 * T * top_k (token, expert) pairs; prefill: pairs grouped by expert on the host, one GEMM per expert. */
static void srv_moe(struct srv *s, int64_t l, int64_t T, int prefill) {
    const struct qwen3_config *cf = &s->cf;
    const struct srv_layer *L = &s->L[l];
    const int64_t D = cf->D, E = cf->E, k = cf->top_k, F = cf->F_moe, P = T * k;
    int32_t *mids = s->mids + l * s->max_rows * k;
    prof_mark(s, P_NORM);
    serve_to_16_cuda(s->x16b, s->n, T * D, 0, s->st);
    if (prefill) {
        const struct serve_seg sr = seg1(s->rl, E);
        srv_gemm(s, &L->router, 0, s->x16b, T, &sr);
    } else {
        const struct serve_seg sr = seg1(s->rl, E);
        prof_mark(s, P_ROUTER);
        serve_gemv_cuda(&L->router, s->x16b, T, &sr, NULL, 0, 1, s->st);
    }
    prof_mark(s, P_ROUTE);
    moe_route_cuda(s->rl, T, E, k, cf->norm_topk_prob, mids, s->mw, s->st);
    const int64_t wid[2] = {F, F};
    float *ys[2] = {s->g, s->u};
    if (!prefill) {
        const int half = srv_half(s);
        uint16_t *xx = half ? s->x16 : s->x16b;
        prof_mark(s, P_NORM);
        if (half) serve_to_16_cuda(s->x16, s->n, T * D, 1, s->st);
        const struct serve_seg sg = seg_n(2, wid, ys);
        prof_mark(s, P_EGU);
        serve_gemv_cuda(&L->egu, xx, 1, &sg, mids, P, k, s->st);
        prof_mark(s, P_ACT);
        swiglu_cuda(s->g, s->g, s->u, P * F, s->st);
        serve_to_16_cuda(xx, s->g, P * F, half, s->st);
        const struct serve_seg sd = seg1(s->att, D);   /* att: P x D scratch for the experts' outputs */
        prof_mark(s, P_EDOWN);
        serve_gemv_cuda(&L->edown, xx, 1, &sd, mids, P, 1, s->st);
        prof_mark(s, P_COMBINE);
        srv_moe_combine_kernel<<<grid_for(T * D), 256, 0, s->st>>>(s->o, s->att, s->mw, NULL, T, k, D);
        CUDA_CHECK_LAUNCH();
        return;
    }
    // Prefill: group the pairs by expert on the host (token order within an expert).
    int32_t *hid = (int32_t *)xmalloc((size_t)P * sizeof(int32_t));
    CUDA_CHECK(cudaMemcpyAsync(hid, mids, (size_t)P * sizeof(int32_t), cudaMemcpyDeviceToHost, s->st));
    CUDA_CHECK(cudaStreamSynchronize(s->st));
    int32_t *rows = (int32_t *)xmalloc((size_t)P * sizeof(int32_t)), *pos_of = (int32_t *)xmalloc((size_t)P * sizeof(int32_t));
    int64_t *start = (int64_t *)xcalloc((size_t)E + 1, sizeof(int64_t));
    for (int64_t p = 0; p < P; p++) start[hid[p] + 1]++;
    for (int64_t e = 0; e < E; e++) start[e + 1] += start[e];
    int64_t *fillp = (int64_t *)xmalloc((size_t)E * sizeof(int64_t));
    memcpy(fillp, start, (size_t)E * sizeof(int64_t));
    for (int64_t p = 0; p < P; p++) {
        const int64_t at = fillp[hid[p]]++;
        rows[at] = (int32_t)(p / k);
        pos_of[p] = (int32_t)at;
    }
    int32_t *rows_d = s->pos_of + P;   /* pos_of scratch holds 2 P ints */
    CUDA_CHECK(cudaMemcpyAsync(s->pos_of, pos_of, (size_t)P * sizeof(int32_t), cudaMemcpyHostToDevice, s->st));
    CUDA_CHECK(cudaMemcpyAsync(rows_d, rows, (size_t)P * sizeof(int32_t), cudaMemcpyHostToDevice, s->st));
    uint16_t *xs = s->x16;   /* P x D BF16 gathered inputs (x16 holds max_rows * top_k rows) */
    srv_gather16_kernel<<<grid_for(P * D), 256, 0, s->st>>>(xs, s->x16b, rows_d, P, D);
    CUDA_CHECK_LAUNCH();
    for (int64_t e = 0; e < E; e++) {
        const int64_t n_e = start[e + 1] - start[e];
        if (n_e == 0) continue;
        float *ye[2] = {s->g + start[e] * F, s->u + start[e] * F};
        const struct serve_seg sg = seg_n(2, wid, ye);
        srv_gemm(s, &L->egu, e, xs + start[e] * D, n_e, &sg);
    }
    swiglu_cuda(s->g, s->g, s->u, P * F, s->st);
    serve_to_16_cuda(xs, s->g, P * F, 0, s->st);
    for (int64_t e = 0; e < E; e++) {
        const int64_t n_e = start[e + 1] - start[e];
        if (n_e == 0) continue;
        const struct serve_seg sd = seg1(s->att + start[e] * D, D);
        srv_gemm(s, &L->edown, e, xs + start[e] * F, n_e, &sd);
    }
    srv_moe_combine_kernel<<<grid_for(T * D), 256, 0, s->st>>>(s->o, s->att, s->mw, s->pos_of, T, k, D);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaStreamSynchronize(s->st));   /* the host arrays were read by the copies */
    free(hid);
    free(rows);
    free(pos_of);
    free(start);
    free(fillp);
}

static void srv_mlp(struct srv *s, int64_t l, int64_t T, int prefill) {
    const struct qwen3_config *cf = &s->cf;
    const struct srv_layer *L = &s->L[l];
    const int64_t D = cf->D;
    prof_mark(s, P_NORM);
    rmsnorm_cuda(s->n, s->x, L->mlp_norm, T, D, (float)cf->rms_norm_eps, s->st);
    if (L->is_moe) {
        srv_moe(s, l, T, prefill);
    } else {
        const int64_t F = cf->F, wid[2] = {F, F};
        float *ys[2] = {s->g, s->u};
        const struct serve_seg sg = seg_n(2, wid, ys);
        srv_lin(s, &L->gu, s->n, T, &sg, prefill, P_GU);
        prof_mark(s, P_ACT);
        swiglu_cuda(s->g, s->g, s->u, T * F, s->st);
        const struct serve_seg sd = seg1(s->o, D);
        srv_lin(s, &L->down, s->g, T, &sd, prefill, P_DOWN);
    }
    prof_mark(s, P_NORM);
    add_kernel<<<grid_for(T * D), 256, 0, s->st>>>(s->x, s->o, T * D);
    CUDA_CHECK_LAUNCH();
}

/* Final norm of `rows` rows starting at row r0 of x, lm_head GEMV (BF16), argmax into next[0 .. rows). */
static void srv_head(struct srv *s, int64_t r0, int64_t rows) {
    const struct qwen3_config *cf = &s->cf;
    const int64_t D = cf->D, V = cf->V;
    prof_mark(s, P_NORM);
    rmsnorm_cuda(s->n, s->x + r0 * D, s->final_norm, rows, D, (float)cf->rms_norm_eps, s->st);
    serve_to_16_cuda(s->x16b, s->n, rows * D, 0, s->st);
    const struct serve_seg sl = seg1(s->logits, V);
    prof_mark(s, P_LM);
    serve_gemv_cuda(&s->lm, s->x16b, rows, &sl, NULL, 0, 1, s->st);
    prof_mark(s, P_ARGMAX);
    srv_argmax_kernel<<<(unsigned)rows, 256, 0, s->st>>>(s->next, s->logits, V);
    CUDA_CHECK_LAUNCH();
}

/* Decode, the first version (variant 0): the prefill's op sequence at T = B rows, every op its own kernel. */
static void srv_decode_v0(struct srv *s, int64_t B, int64_t pos) {
    const int64_t D = s->cf.D;
    prof_mark(s, P_EMBED);
    srv_embed_kernel<<<grid_for(B * D), 256, 0, s->st>>>(s->x, (const uint16_t *)s->embed.codes, s->next, B, D);
    CUDA_CHECK_LAUNCH();
    for (int64_t l = 0; l < s->cf.n_layers; l++) {
        srv_attn(s, l, B, 0, pos, 0);
        srv_mlp(s, l, B, 0);
    }
    srv_head(s, 0, B);
}

// ---- decode, variant 1: fused kernels (e07 fixed-cost fix) ----
// Per dense layer 9 kernels: norm (+ the pending residual add, + the 16-bit rounding of the next Linear's input),
// qkv GEMV, q/k-norm + RoPE + cache store, attention (split + merge into 16-bit), o GEMV, norm, gate|up GEMV
// with SwiGLU in its epilogue, down GEMV. MoE layers: router GEMV, top-k on the device (one warp per token),
// expert gate|up (paired, SwiGLU epilogue), expert down (paired); the weighted combine is the next norm's add.
// FP32 throughout, reductions by warp butterflies in a fixed order (deterministic); the numerics differ from
// variant 0 (the accuracy path's bit-exact twins) by summation order and rsqrtf / __expf only.

/* Programmatic dependent launch (sm_90; kernels/serve_gemv.h serve_gemv_set_pdl): every fused-decode kernel lets
 * the next one be scheduled at once and waits for the preceding one before it reads an activation or writes
 * anything; activations are then read through L2 (__ldcg), never the non-coherent path. */
static __device__ __forceinline__ void srv_pdl() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

/* Launch of a fused-decode kernel, with the PDL attribute when s->pdl. */
template <typename... KA, typename... AA>
static void srv_launch(const struct srv *s, void (*k)(KA...), unsigned grid, unsigned block, AA... args) {
    cudaLaunchConfig_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.gridDim = dim3(grid);
    cfg.blockDim = dim3(block);
    cfg.stream = s->st;
    cudaLaunchAttribute at;
    pdl_attach(&cfg, &at, s->pdl);
    CUDA_CHECK(cudaLaunchKernelEx(&cfg, k, args...));
    CUDA_CHECK_LAUNCH();
}

static __device__ __forceinline__ uint16_t srv_to16(float v, int half) {
    return half ? __half_as_ushort(__float2half_rn(v)) : __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

/* Row t (one CTA): x += o (o != NULL) or x += sum_j mw[t k + j] eo[t k + j] (eo != NULL), then
 * y = w * (x / sqrt(mean(x^2) + eps)) rounded to 16 bits into out (half: FP16, else BF16) and, when outb is
 * not NULL, to BF16 into outb as well. Thread i takes the float4 columns i, i + blockDim, ... (NPT of them),
 * all loaded before any is used; the square sum by warp butterflies, then the warps' sums in warp order. */
template <int NPT>
static __global__ void __launch_bounds__(1024) srv_norm16_kernel(float *__restrict__ x, const float *__restrict__ o,
                                                                 const float *__restrict__ eo,
                                                                 const float *__restrict__ mw, int64_t k,
                                                                 const float *__restrict__ w, int64_t D, float eps,
                                                                 uint16_t *__restrict__ out, int half,
                                                                 uint16_t *__restrict__ outb) {
    __shared__ float s_red[32];
    const int64_t t = blockIdx.x, D4 = D / 4;
    float4 *xr = (float4 *)(x + t * D);
    float4 v[NPT];
    srv_pdl();
#pragma unroll
    for (int j = 0; j < NPT; j++) {
        const int64_t i = threadIdx.x + (int64_t)j * blockDim.x;
        v[j] = i < D4 ? __ldcg(xr + i) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
    if (o) {
        const float4 *orow = (const float4 *)(o + t * D);
#pragma unroll
        for (int j = 0; j < NPT; j++) {
            const int64_t i = threadIdx.x + (int64_t)j * blockDim.x;
            if (i < D4) {
                const float4 a = __ldcg(orow + i);
                v[j].x += a.x; v[j].y += a.y; v[j].z += a.z; v[j].w += a.w;
            }
        }
    } else if (eo) {
#pragma unroll
        for (int j = 0; j < NPT; j++) {
            const int64_t i = threadIdx.x + (int64_t)j * blockDim.x;
            if (i >= D4) continue;
            float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            for (int64_t e = 0; e < k; e++) {
                const float we = __ldcg(mw + t * k + e);
                const float4 a = __ldcg((const float4 *)(eo + (t * k + e) * D) + i);
                acc.x = fmaf(we, a.x, acc.x); acc.y = fmaf(we, a.y, acc.y);
                acc.z = fmaf(we, a.z, acc.z); acc.w = fmaf(we, a.w, acc.w);
            }
            v[j].x += acc.x; v[j].y += acc.y; v[j].z += acc.z; v[j].w += acc.w;
        }
    }
    float ss = 0.0f;
#pragma unroll
    for (int j = 0; j < NPT; j++) {
        const int64_t i = threadIdx.x + (int64_t)j * blockDim.x;
        if (i < D4 && (o || eo)) xr[i] = v[j];
        ss += v[j].x * v[j].x + v[j].y * v[j].y + v[j].z * v[j].z + v[j].w * v[j].w;
    }
    for (int m = 16; m > 0; m /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, m);
    if (threadIdx.x % 32 == 0) s_red[threadIdx.x / 32] = ss;
    __syncthreads();
    float tot = 0.0f;
    for (int i = 0; i < (int)(blockDim.x / 32); i++) tot += s_red[i];
    const float inv = rsqrtf(tot / (float)D + eps);
#pragma unroll
    for (int j = 0; j < NPT; j++) {
        const int64_t i = threadIdx.x + (int64_t)j * blockDim.x;
        if (i >= D4) continue;
        const float4 g = ((const float4 *)w)[i];
        const float y[4] = {g.x * (v[j].x * inv), g.y * (v[j].y * inv), g.z * (v[j].z * inv), g.w * (v[j].w * inv)};
        uint2 p;
        p.x = (uint32_t)srv_to16(y[0], half) | (uint32_t)srv_to16(y[1], half) << 16;
        p.y = (uint32_t)srv_to16(y[2], half) | (uint32_t)srv_to16(y[3], half) << 16;
        *(uint2 *)(out + t * D + 4 * i) = p;
        if (outb) {
            p.x = (uint32_t)srv_to16(y[0], 0) | (uint32_t)srv_to16(y[1], 0) << 16;
            p.y = (uint32_t)srv_to16(y[2], 0) | (uint32_t)srv_to16(y[3], 0) << 16;
            *(uint2 *)(outb + t * D + 4 * i) = p;
        }
    }
}

/* One warp per (sequence b, head): q heads normed by qn and rotated in place; k heads normed by kn, rotated and
 * stored with the matching v row into the caches at position pos. D_h = 128: lane l holds elements l, l + 32,
 * l + 64, l + 96, so both RoPE pairs (i, i + 64) are the lane's own. */
static __global__ void __launch_bounds__(128) srv_qkrope_kernel(float *q, const float *k, const float *v,
                                                                const float *qn, const float *kn, const float *cs,
                                                                const float *sn, int64_t pos, int64_t B, int64_t H,
                                                                int64_t Hkv, float eps, float *kc, float *vc,
                                                                int64_t seq_stride) {
    const int lane = threadIdx.x % 32;
    const int64_t wi = (int64_t)blockIdx.x * 4 + threadIdx.x / 32;
    srv_pdl();
    if (wi >= B * (H + Hkv)) return;
    const int64_t b = wi / (H + Hkv), hh = wi % (H + Hkv);
    const int isq = hh < H;
    const float *src = isq ? q + (b * H + hh) * 128 : k + (b * Hkv + hh - H) * 128;
    const float *nw = isq ? qn : kn;
    float e[4];
#pragma unroll
    for (int j = 0; j < 4; j++) e[j] = __ldcg(src + lane + 32 * j);
    float ss = e[0] * e[0] + e[1] * e[1] + e[2] * e[2] + e[3] * e[3];
    for (int m = 16; m > 0; m /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, m);
    const float inv = rsqrtf(ss / 128.0f + eps);
#pragma unroll
    for (int j = 0; j < 4; j++) e[j] = nw[lane + 32 * j] * (e[j] * inv);
    float r[4];
#pragma unroll
    for (int j = 0; j < 2; j++) {
        const float c = cs[pos * 64 + lane + 32 * j], s = sn[pos * 64 + lane + 32 * j];
        r[j] = e[j] * c - e[j + 2] * s;
        r[j + 2] = e[j + 2] * c + e[j] * s;
    }
    if (isq) {
        float *dst = q + (b * H + hh) * 128;
#pragma unroll
        for (int j = 0; j < 4; j++) dst[lane + 32 * j] = r[j];
    } else {
        const int64_t g = hh - H, off = b * seq_stride + pos * Hkv * 128 + g * 128;
        const float *vs = v + (b * Hkv + g) * 128;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            kc[off + lane + 32 * j] = r[j];
            vc[off + lane + 32 * j] = __ldcg(vs + lane + 32 * j);
        }
    }
}

/* Butterfly argmax over a warp: every lane ends with the warp's largest best and, among equal values, the
 * smallest index bi (the first maximum). The loop runs on local copies: on the references themselves NVVM
 * emitted branches where the loop written out in each kernel had selects; with the copies the PTX equals that
 * of the written-out loops (nvcc -ptx, sm_90a and sm_80) but for one pair of independent selp swapped. */
static __device__ __forceinline__ void srv_warp_argmax(float &best_io, int32_t &bi_io) {
    float best = best_io;
    int32_t bi = bi_io;
    for (int m = 16; m > 0; m /= 2) {
        const float ob = __shfl_xor_sync(0xffffffffu, best, m);
        const int32_t oi = __shfl_xor_sync(0xffffffffu, bi, m);
        if (ob > best || (ob == best && oi < bi)) {
            best = ob;
            bi = oi;
        }
    }
    best_io = best;
    bi_io = bi;
}

/* One warp per token: p = softmax(logits) (FP32, __expf), the top_k experts by repeated arg-max (ties to the
 * lower id), weights p (renormalised over the chosen when norm). E <= MOE_MAX_E. */
static __global__ void __launch_bounds__(32) srv_route_kernel(const float *logits, int64_t E, int64_t top_k, int norm,
                                                              int32_t *ids, float *weights) {
    __shared__ float s_p[MOE_MAX_E];
    const int lane = threadIdx.x;
    const int64_t t = blockIdx.x;
    const float *l = logits + t * E;
    float mx = -INFINITY;
    srv_pdl();
    for (int64_t e = lane; e < E; e += 32) mx = fmaxf(mx, __ldcg(l + e));
    for (int m = 16; m > 0; m /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, m));
    float sum = 0.0f;
    for (int64_t e = lane; e < E; e += 32) {
        const float p = __expf(__ldcg(l + e) - mx);
        s_p[e] = p;
        sum += p;
    }
    for (int m = 16; m > 0; m /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, m);
    __syncwarp();
    float wsum = 0.0f;
    for (int64_t i = 0; i < top_k; i++) {
        float best = -1.0f;
        int bi = 0x7fffffff;
        for (int64_t e = lane; e < E; e += 32)
            if (s_p[e] > best) {
                best = s_p[e];
                bi = (int)e;
            }
        srv_warp_argmax(best, bi);
        const float p = best / sum;
        if (lane == 0) {
            ids[t * top_k + i] = bi;
            weights[t * top_k + i] = p;
        }
        if (lane == (int)(bi % 32)) s_p[bi] = -2.0f;   /* taken */
        __syncwarp();
        wsum += p;
    }
    if (norm && lane == 0)
        for (int64_t i = 0; i < top_k; i++) weights[t * top_k + i] = weights[t * top_k + i] / wsum;
}

/* next[b] = argmax_j logits[b, j] (first maximum), one CTA of 1024 threads per row, float4 loads (V % 4 == 0). */
static __global__ void __launch_bounds__(1024) srv_argmax4_kernel(int32_t *next, const float *logits, int64_t V) {
    __shared__ float sv[32];
    __shared__ int32_t si[32];
    const float4 *r = (const float4 *)(logits + (int64_t)blockIdx.x * V);
    float best = -INFINITY;
    int32_t bi = 0x7fffffff;
    srv_pdl();
    for (int64_t j = threadIdx.x; j < V / 4; j += 1024) {
        const float4 v = __ldcg(r + j);
        const float a[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int c = 0; c < 4; c++)
            if (a[c] > best) {
                best = a[c];
                bi = (int32_t)(4 * j + c);
            }
    }
    srv_warp_argmax(best, bi);
    if (threadIdx.x % 32 == 0) {
        sv[threadIdx.x / 32] = best;
        si[threadIdx.x / 32] = bi;
    }
    __syncthreads();
    if (threadIdx.x >= 32) return;
    best = sv[threadIdx.x];
    bi = si[threadIdx.x];
    srv_warp_argmax(best, bi);
    if (threadIdx.x == 0) next[blockIdx.x] = bi == 0x7fffffff ? 0 : bi;
}

/* The residual add pending before a norm: none, x += o, or the MoE combine of the layer's experts. */
struct srv_pend {
    const float *o, *eo, *mw;
    int64_t k;
};

static void srv_norm16(struct srv *s, const struct srv_pend *pd, const float *w, int64_t B, uint16_t *out, int half,
                       uint16_t *outb) {
    prof_mark(s, pd->eo ? P_COMBINE : P_NORM);
    const int64_t D4 = s->cf.D / 4;   /* D % 128 == 0: D4 is a multiple of 32 */
    const float eps = (float)s->cf.rms_norm_eps;
    if (pd->eo && D4 <= 1024) {   /* the combine reads k rows per element: one float4 per thread */
        srv_launch(s, srv_norm16_kernel<1>, (unsigned)B, (unsigned)D4, s->x, pd->o, pd->eo, pd->mw, pd->k, w, s->cf.D,
                   eps, out, half, outb);
    } else {
        int64_t th = (D4 + 4 * 32 - 1) / (4 * 32) * 32;
        if (th > 1024) die("serve: hidden size %lld above the norm kernel's 16384", (long long)s->cf.D);
        srv_launch(s, srv_norm16_kernel<4>, (unsigned)B, (unsigned)th, s->x, pd->o, pd->eo, pd->mw, pd->k, w, s->cf.D,
                   eps, out, half, outb);
    }
    CUDA_CHECK_LAUNCH();
}

static void srv_decode_v1(struct srv *s, int64_t B, int64_t pos) {
    const struct qwen3_config *cf = &s->cf;
    const int64_t D = cf->D, H = cf->H, Hkv = cf->H_kv, Dh = cf->D_h, row = Hkv * Dh, seq = s->cap * row;
    const int half = srv_half(s);
    uint16_t *xx = half ? s->x16 : s->x16b;
    prof_mark(s, P_EMBED);
    srv_launch(s, srv_embed_kernel, grid_for(B * D), 256, s->x, (const uint16_t *)s->embed.codes, (const int32_t *)s->next, B, D);
    struct srv_pend pd = {NULL, NULL, NULL, 0};
    for (int64_t l = 0; l < cf->n_layers; l++) {
        const struct srv_layer *L = &s->L[l];
        srv_norm16(s, &pd, L->attn_norm, B, xx, half, NULL);
        const int64_t wid[3] = {H * Dh, row, row};
        float *ys[3] = {s->q, s->k, s->v};
        const struct serve_seg sg = seg_n(3, wid, ys);
        prof_mark(s, P_QKV);
        serve_gemv_cuda(&L->qkv, xx, B, &sg, NULL, 0, 1, s->st);
        float *kc = s->kc + l * s->max_b * seq, *vc = s->vc + l * s->max_b * seq;
        prof_mark(s, P_QKROPE);
        srv_launch(s, srv_qkrope_kernel, (unsigned)ceil_div(B * (H + Hkv), 4), 128, s->q, (const float *)s->k,
                   (const float *)s->v, (const float *)L->q_norm, (const float *)L->k_norm, (const float *)s->cos_tab,
                   (const float *)s->sin_tab, pos, B, H, Hkv, (float)cf->rms_norm_eps, kc, vc, seq);
        prof_mark(s, P_ATTN);
        serve_attn_decode_cuda(NULL, xx, half, s->q, kc, vc, B, pos, H, Hkv, Dh, row, seq, s->awork, s->st);
        const struct serve_seg so = seg1(s->o, D);
        prof_mark(s, P_O);
        serve_gemv_cuda(&L->o, xx, B, &so, NULL, 0, 1, s->st);
        pd.o = s->o;
        pd.eo = NULL;
        if (L->is_moe) {
            const int64_t E = cf->E, k = cf->top_k, P = B * k;
            int32_t *mids = s->mids + l * s->max_rows * k;
            srv_norm16(s, &pd, L->mlp_norm, B, xx, half, half ? s->x16b : NULL);
            const struct serve_seg sr = seg1(s->rl, E);
            prof_mark(s, P_ROUTER);
            serve_gemv_cuda(&L->router, s->x16b, B, &sr, NULL, 0, 1, s->st);
            prof_mark(s, P_ROUTE);
            srv_launch(s, srv_route_kernel, (unsigned)B, 32, (const float *)s->rl, E, k, (int)cf->norm_topk_prob, mids, s->mw);
            struct serve_seg sg2;
            memset(&sg2, 0, sizeof sg2);
            sg2.glu16 = s->h16;
            sg2.glu_half = half;
            prof_mark(s, P_EGU);
            serve_gemv_cuda(&L->egu, xx, 1, &sg2, mids, P, k, s->st);
            const struct serve_seg sd = seg1(s->att, D);   /* att: P x D, the experts' outputs */
            prof_mark(s, P_EDOWN);
            serve_gemv_cuda(&L->edown, s->h16, 1, &sd, mids, P, 1, s->st);
            pd.o = NULL;
            pd.eo = s->att;
            pd.mw = s->mw;
            pd.k = k;
        } else {
            srv_norm16(s, &pd, L->mlp_norm, B, xx, half, NULL);
            struct serve_seg sg2;
            memset(&sg2, 0, sizeof sg2);
            sg2.glu16 = s->h16;
            sg2.glu_half = half;
            prof_mark(s, P_GU);
            serve_gemv_cuda(&L->gu, xx, B, &sg2, NULL, 0, 1, s->st);
            const struct serve_seg sd = seg1(s->o, D);
            prof_mark(s, P_DOWN);
            serve_gemv_cuda(&L->down, s->h16, B, &sd, NULL, 0, 1, s->st);
            pd.o = s->o;
        }
    }
    srv_norm16(s, &pd, s->final_norm, B, s->x16b, 0, NULL);
    const struct serve_seg sl = seg1(s->logits, cf->V);
    prof_mark(s, P_LM);
    serve_gemv_cuda(&s->lm, s->x16b, B, &sl, NULL, 0, 1, s->st);
    prof_mark(s, P_ARGMAX);
    srv_launch(s, srv_argmax4_kernel, (unsigned)B, 1024, s->next, (const float *)s->logits, cf->V);
}

/* Profile mode: a kernel that keeps the GPU busy while the host queues the step, so that the events time the
 * kernels back to back rather than the host's launch rate. */
static __global__ void srv_spin_kernel(long long cycles) {
    const long long t0 = clock64();
    while (clock64() - t0 < cycles) {
    }
}

static void srv_decode_body(struct srv *s, int64_t B, int64_t pos) {
    if (s->prof_on) {
        srv_spin_kernel<<<1, 1, 0, s->st>>>(60000000LL);   /* ~30 ms at 2 GHz */
        CUDA_CHECK_LAUNCH();
    }
    if (s->variant == 0) {
        srv_decode_v0(s, B, pos);
        return;
    }
    // PDL in the fused decode, except when profiling (an event between two kernels serializes them anyway).
    s->pdl = !s->prof_on && s->pdl_allowed;
    serve_gemv_set_pdl(s->pdl);
    serve_attn_set_pdl(s->pdl);
    srv_decode_v1(s, B, pos);
    s->pdl = 0;
    serve_gemv_set_pdl(0);
    serve_attn_set_pdl(0);
}

// ---- the table ----

static void srv_alloc_common(struct srv *s, const struct qwen3_config *cf, int fmt, int64_t max_b, int64_t cap,
                             int64_t max_T) {
    if (max_b < 1 || max_b > SERVE_GEMV_MAX_M) die("serve: max_batch %lld, expected 1 .. %d", (long long)max_b, SERVE_GEMV_MAX_M);
    if (cf->D_h % 2 || cf->V % 16 || cf->D % 128) die("serve: D %lld / V %lld: expected D %% 128 == 0, V %% 16 == 0", (long long)cf->D, (long long)cf->V);
    if (cap > ATTENTION_MAX_CTX || max_T > cap) die("serve: cap %lld / max_T %lld: expected max_T <= cap <= %d", (long long)cap, (long long)max_T, ATTENTION_MAX_CTX);
    s->cf = *cf;
    s->fmt = fmt;
    s->variant = getenv("QL_SERVE_VARIANT") && !strcmp(getenv("QL_SERVE_VARIANT"), "0") ? 0 : 1;
    s->pdl_allowed = !(getenv("QL_SERVE_PDL") && !strcmp(getenv("QL_SERVE_PDL"), "0"));
    s->prof_ev = (cudaEvent_t *)xmalloc(PROF_MAX_EV * sizeof(cudaEvent_t));
    s->prof_cls = (int *)xmalloc(PROF_MAX_EV * sizeof(int));
    for (int i = 0; i < PROF_MAX_EV; i++) CUDA_CHECK(cudaEventCreate(&s->prof_ev[i]));
    if (cf->D_h != 128) die("serve: head_dim %lld, expected 128", (long long)cf->D_h);
    if (cf->is_moe && cf->E > MOE_MAX_E) die("serve: %lld experts, expected <= %d", (long long)cf->E, MOE_MAX_E);
    s->max_b = max_b;
    s->cap = cap;
    s->max_T = max_T;
    const int64_t k = cf->is_moe ? cf->top_k : 1;
    s->max_rows = max_T > max_b ? max_T : max_b;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s->st, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&s->blas));
    CUBLAS_CHECK(cublasSetStream(s->blas, s->st));
    const int64_t D = cf->D, H = cf->H, Dh = cf->D_h, row = cf->H_kv * Dh, V = cf->V;
    const int64_t F = cf->is_moe ? (cf->F_moe > cf->F ? cf->F_moe : cf->F) : cf->F;
    const int64_t R = s->max_rows, RP = R * k;   /* rows; pair rows (MoE) */
    const int64_t widest = (H * Dh > D ? H * Dh : D);
    s->x = (float *)srv_malloc(s, (size_t)(R * D) * 4);
    s->n = (float *)srv_malloc(s, (size_t)(R * D) * 4);
    s->q = (float *)srv_malloc(s, (size_t)(R * H * Dh) * 4);
    s->k = (float *)srv_malloc(s, (size_t)(R * row) * 4);
    s->v = (float *)srv_malloc(s, (size_t)(R * row) * 4);
    s->att = (float *)srv_malloc(s, (size_t)(RP * widest) * 4);
    s->o = (float *)srv_malloc(s, (size_t)(R * D) * 4);
    s->g = (float *)srv_malloc(s, (size_t)(RP * F) * 4);
    s->u = (float *)srv_malloc(s, (size_t)(RP * F) * 4);
    s->logits = (float *)srv_malloc(s, (size_t)(max_b * V) * 4);
    const int64_t in_w = widest > F ? widest : F;
    s->x16 = (uint16_t *)srv_malloc(s, (size_t)(RP * in_w) * 2);
    s->x16b = (uint16_t *)srv_malloc(s, (size_t)(RP * in_w) * 2);
    s->awork = (float *)srv_malloc(s, serve_attn_decode_work(max_b, H, cap) * 4);
    CUDA_CHECK(cudaMemset(s->awork, 0, serve_attn_decode_work(max_b, H, cap) * 4));   /* the merge counters */
    s->S = (float *)srv_malloc(s, serve_attn_prefill_work(H, max_T) * 4);
    s->h16 = (uint16_t *)srv_malloc(s, (size_t)(RP * F) * 2);
    s->ids = (int32_t *)srv_malloc(s, (size_t)R * 4);
    s->next = (int32_t *)srv_malloc(s, (size_t)R * 4);
    if (cf->is_moe) {
        s->rl = (float *)srv_malloc(s, (size_t)(R * cf->E) * 4);
        s->mw = (float *)srv_malloc(s, (size_t)RP * 4);
        s->mids = (int32_t *)srv_malloc(s, (size_t)(cf->n_layers * RP) * 4);
        s->pos_of = (int32_t *)srv_malloc(s, (size_t)(2 * RP) * 4);
    }
    // Dequantization buffer: the largest Linear (the fused gate|up or q|k|v; one expert for MoE).
    if (fmt != SERVE_BF16) {
        int64_t big = (H * Dh + 2 * row) * D;
        if (!cf->is_moe || cf->F > 0) big = big > 2 * cf->F * D ? big : 2 * cf->F * D;
        if (cf->is_moe) big = big > 2 * cf->F_moe * D ? big : 2 * cf->F_moe * D;
        s->wbuf_elems = (size_t)big;
        s->wbuf = (uint16_t *)srv_malloc(s, s->wbuf_elems * 2);
    }
    const size_t kvn = (size_t)(cf->n_layers * max_b * cap * row);
    CUDA_CHECK(cudaMalloc(&s->kc, kvn * 4));
    CUDA_CHECK(cudaMalloc(&s->vc, kvn * 4));
    // RoPE tables for cap positions (the accuracy path's host tables).
    const int64_t half = Dh / 2;
    float *inv = (float *)xmalloc((size_t)half * sizeof(float));
    // rope_inv_freq's formula (src/ops/rope.c; libql_pic carries only core and formats).
    for (int64_t i = 0; i < half; i++) inv[i] = 1.0f / (float)pow(cf->rope_theta, (double)((float)(2 * i) / (float)Dh));
    float *hc = (float *)xmalloc((size_t)(cap * half) * sizeof(float)), *hs = (float *)xmalloc((size_t)(cap * half) * sizeof(float));
    rope_table_host(inv, half, cap, hc, hs);
    s->cos_tab = upload(hc, (size_t)(cap * half));
    s->sin_tab = upload(hs, (size_t)(cap * half));
    free(inv);
    free(hc);
    free(hs);
}

static float *upload_random_norm(int64_t n, uint64_t seed) {
    /* Norm weights 1 + U(-0.1, 0.1): RMSNorm gains near one, never constant. */
    float *h = (float *)xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) h[i] = 1.0f + 0.2f * (float)(rng_to_unit(rng_hash(seed, (uint64_t)i)) - 0.5);
    float *d = upload(h, (size_t)n);
    free(h);
    return d;
}

static void srv_desc(struct srv *s, char *desc, size_t n) {
    cudaDeviceProp prop;
    int dev = 0, rt = 0, blas_ver = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    CUBLAS_CHECK(cublasGetVersion(s->blas, &blas_ver));
    snprintf(desc, n, "cuda serve %s sm_%d%d runtime %d cublas %d", prop.name, prop.major, prop.minor, rt, blas_ver);
}

static void *srv_create_random(const struct qwen3_config *cf, int fmt, int64_t max_b, int64_t cap, int64_t max_T,
                               uint64_t seed, char *desc, size_t n) {
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) die("cuda serve: no CUDA device");
    if (fmt < 0 || fmt >= SERVE_N_FMT) die("cuda serve: format %d unknown", fmt);
    struct srv *s = (struct srv *)xcalloc(1, sizeof *s);
    srv_alloc_common(s, cf, fmt, max_b, cap, max_T);
    const int64_t D = cf->D, H = cf->H, Dh = cf->D_h, row = cf->H_kv * Dh, V = cf->V;
    // Linear weights: rms 1 / sqrt(K) (outputs of the same scale as inputs); embeddings rms 1.
    serve_w_random(&s->embed, SERVE_BF16, V, D, 1, 1.0f, seed, 1);
    s->lm_tied = cf->tie_word_embeddings;
    if (s->lm_tied) s->lm = s->embed;
    else serve_w_random(&s->lm, SERVE_BF16, V, D, 1, 1.0f / sqrtf((float)D), seed, 2);
    s->final_norm = upload_random_norm(D, rng_hash(seed, 3));
    s->L = (struct srv_layer *)xcalloc((size_t)cf->n_layers, sizeof *s->L);
    for (int64_t l = 0; l < cf->n_layers; l++) {
        struct srv_layer *L = &s->L[l];
        const uint64_t id = 1000 + 16 * (uint64_t)l;
        L->attn_norm = upload_random_norm(D, rng_hash(seed, id + 0));
        L->mlp_norm = upload_random_norm(D, rng_hash(seed, id + 1));
        L->q_norm = upload_random_norm(Dh, rng_hash(seed, id + 2));
        L->k_norm = upload_random_norm(Dh, rng_hash(seed, id + 3));
        serve_w_random(&L->qkv, fmt, H * Dh + 2 * row, D, 1, 1.0f / sqrtf((float)D), seed, id + 4);
        serve_w_random(&L->o, fmt, D, H * Dh, 1, 1.0f / sqrtf((float)(H * Dh)), seed, id + 5);
        L->is_moe = cf->layer_is_moe[l];
        if (L->is_moe) {
            serve_w_random(&L->router, SERVE_BF16, cf->E, D, 1, 1.0f / sqrtf((float)D), seed, id + 6);
            serve_w_random(&L->egu, fmt, 2 * cf->F_moe, D, cf->E, 1.0f / sqrtf((float)D), seed, id + 7);
            serve_w_random(&L->edown, fmt, D, cf->F_moe, cf->E, 1.0f / sqrtf((float)cf->F_moe), seed, id + 8);
        } else {
            serve_w_random(&L->gu, fmt, 2 * cf->F, D, 1, 1.0f / sqrtf((float)D), seed, id + 9);
            serve_w_random(&L->down, fmt, D, cf->F, 1, 1.0f / sqrtf((float)cf->F), seed, id + 10);
        }
    }
    srv_desc(s, desc, n);
    return s;
}

/* f (N x K FP32 host) -> a BF16 serve_w (round to nearest even). */
static void upload_bf16_w(struct serve_w *w, const float *const *parts, const int64_t *rows, int n_parts, int64_t K) {
    int64_t N = 0;
    for (int i = 0; i < n_parts; i++) N += rows[i];
    memset(w, 0, sizeof *w);
    w->fmt = SERVE_BF16;
    w->N = N;
    w->K = K;
    w->n_mat = 1;
    w->post = 1.0f;
    uint16_t *h = (uint16_t *)xmalloc((size_t)(N * K) * 2);
    int64_t at = 0;
    for (int i = 0; i < n_parts; i++)
        for (int64_t j = 0; j < rows[i] * K; j++) {
            uint32_t u;
            memcpy(&u, &parts[i][j], 4);
            u = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;   /* finite weights: no NaN handling needed */
            h[at++] = (uint16_t)u;
        }
    CUDA_CHECK(cudaMalloc(&w->codes, (size_t)(N * K) * 2));
    CUDA_CHECK(cudaMemcpy(w->codes, h, (size_t)(N * K) * 2, cudaMemcpyHostToDevice));
    free(h);
}

static void *srv_create_from_model(const struct qwen3_model *m, int64_t max_b, int64_t cap, int64_t max_T,
                                   char *desc, size_t n) {
    const struct qwen3_config *cf = &m->cfg;
    if (cf->is_moe || cf->attention_bias) die("cuda serve: from a model: dense models without biases only");
    struct srv *s = (struct srv *)xcalloc(1, sizeof *s);
    srv_alloc_common(s, cf, SERVE_BF16, max_b, cap, max_T);
    const int64_t D = cf->D;
    const float *pe[1] = {m->embed};
    const int64_t rv[1] = {cf->V};
    upload_bf16_w(&s->embed, pe, rv, 1, D);
    s->lm_tied = m->lm_head == m->embed;
    if (s->lm_tied) s->lm = s->embed;
    else {
        const float *pl[1] = {m->lm_head};
        upload_bf16_w(&s->lm, pl, rv, 1, D);
    }
    s->final_norm = upload(m->final_norm, (size_t)D);
    s->L = (struct srv_layer *)xcalloc((size_t)cf->n_layers, sizeof *s->L);
    for (int64_t l = 0; l < cf->n_layers; l++) {
        const struct qwen3_layer *H = &m->layers[l];
        struct srv_layer *L = &s->L[l];
        L->attn_norm = upload(H->attn_norm, (size_t)D);
        L->mlp_norm = upload(H->mlp_norm, (size_t)D);
        L->q_norm = upload(H->q_norm, (size_t)cf->D_h);
        L->k_norm = upload(H->k_norm, (size_t)cf->D_h);
        const float *pq[3] = {H->q.w, H->k.w, H->v.w};
        const int64_t rq[3] = {H->q.N, H->k.N, H->v.N};
        upload_bf16_w(&L->qkv, pq, rq, 3, D);
        const float *po[1] = {H->o.w};
        const int64_t ro[1] = {H->o.N};
        upload_bf16_w(&L->o, po, ro, 1, H->o.K);
        const float *pg[2] = {H->gate.w, H->up.w};
        const int64_t rg[2] = {H->gate.N, H->up.N};
        upload_bf16_w(&L->gu, pg, rg, 2, D);
        const float *pd[1] = {H->down.w};
        const int64_t rd[1] = {H->down.N};
        upload_bf16_w(&L->down, pd, rd, 1, H->down.K);
    }
    srv_desc(s, desc, n);
    return s;
}

static void srv_free(void *p) {
    struct srv *s = (struct srv *)p;
    if (!s) return;
    CUDA_CHECK(cudaStreamSynchronize(s->st));
    if (s->gexec) cudaGraphExecDestroy(s->gexec);
    for (int64_t l = 0; l < s->cf.n_layers; l++) {
        struct srv_layer *L = &s->L[l];
        cudaFree(L->attn_norm);
        cudaFree(L->mlp_norm);
        cudaFree(L->q_norm);
        cudaFree(L->k_norm);
        serve_w_free(&L->qkv);
        serve_w_free(&L->o);
        serve_w_free(&L->gu);
        serve_w_free(&L->down);
        serve_w_free(&L->router);
        serve_w_free(&L->egu);
        serve_w_free(&L->edown);
    }
    free(s->L);
    if (!s->lm_tied) serve_w_free(&s->lm);
    serve_w_free(&s->embed);
    void *ptrs[] = {s->final_norm, s->cos_tab, s->sin_tab, s->kc, s->vc, s->x, s->n, s->q, s->k, s->v, s->att, s->o,
                    s->g, s->u, s->logits, s->rl, s->mw, s->awork, s->S, s->x16, s->x16b, s->wbuf, s->ids, s->next, s->mids, s->pos_of, s->h16};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) cudaFree(ptrs[i]);
    cublasDestroy(s->blas);
    cudaStreamDestroy(s->st);
    for (int i = 0; i < PROF_MAX_EV; i++) cudaEventDestroy(s->prof_ev[i]);
    free(s->prof_ev);
    free(s->prof_cls);
    free(s);
}

static void srv_prefill(void *p, int64_t b, const int32_t *ids, int64_t T) {
    struct srv *s = (struct srv *)p;
    if (b < 0 || b >= s->max_b || T < 1 || T > s->max_T)
        die("serve prefill: sequence %lld of %lld, %lld tokens (max %lld)", (long long)b, (long long)s->max_b,
            (long long)T, (long long)s->max_T);
    for (int64_t t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= s->cf.V) die("serve prefill: token id %d outside [0, %lld)", ids[t], (long long)s->cf.V);
    const int64_t D = s->cf.D;
    CUDA_CHECK(cudaMemcpyAsync(s->ids, ids, (size_t)T * 4, cudaMemcpyHostToDevice, s->st));
    srv_embed_kernel<<<grid_for(T * D), 256, 0, s->st>>>(s->x, (const uint16_t *)s->embed.codes, s->ids, T, D);
    CUDA_CHECK_LAUNCH();
    for (int64_t l = 0; l < s->cf.n_layers; l++) {
        srv_attn(s, l, T, b, 0, 1);
        srv_mlp(s, l, T, 1);
    }
    srv_head(s, T - 1, 1);
    // The argmax of sequence b's last position (in next[0]) becomes its next input too.
    if (b != 0) CUDA_CHECK(cudaMemcpyAsync(s->next + b, s->next, 4, cudaMemcpyDeviceToDevice, s->st));
    CUDA_CHECK(cudaStreamSynchronize(s->st));
}

static void srv_fill_kv(void *p, int64_t B, int64_t len, uint64_t seed) {
    struct srv *s = (struct srv *)p;
    CHECK(B <= s->max_b && len <= s->cap, "fill_kv");
    const int64_t row = s->cf.H_kv * s->cf.D_h, n = len * row, seq = s->cap * row;
    for (int64_t l = 0; l < s->cf.n_layers; l++)
        for (int64_t b = 0; b < B; b++) {
            const int64_t off = (l * s->max_b + b) * seq;
            srv_fill_kernel<<<grid_for(n), 256, 0, s->st>>>(s->kc + off, n, rng_hash(seed, (uint64_t)(2 * off)));
            srv_fill_kernel<<<grid_for(n), 256, 0, s->st>>>(s->vc + off, n, rng_hash(seed, (uint64_t)(2 * off + 1)));
            CUDA_CHECK_LAUNCH();
        }
    CUDA_CHECK(cudaStreamSynchronize(s->st));
}

static void srv_set_tokens(void *p, int64_t B, const int32_t *ids) {
    struct srv *s = (struct srv *)p;
    CHECK(B <= s->max_b, "set_tokens");
    for (int64_t i = 0; i < B; i++)
        if (ids[i] < 0 || ids[i] >= s->cf.V) die("serve: token id %d outside [0, %lld)", ids[i], (long long)s->cf.V);
    CUDA_CHECK(cudaMemcpyAsync(s->next, ids, (size_t)B * 4, cudaMemcpyHostToDevice, s->st));
    CUDA_CHECK(cudaStreamSynchronize(s->st));
}

static void srv_decode(void *p, int64_t B, int64_t pos, int graph) {
    struct srv *s = (struct srv *)p;
    if (B < 1 || B > s->max_b || pos < 0 || pos >= s->cap)
        die("serve decode: batch %lld (max %lld) at position %lld (cap %lld)", (long long)B, (long long)s->max_b,
            (long long)pos, (long long)s->cap);
    if (!graph || s->prof_on) {
        srv_decode_body(s, B, pos);
        if (s->prof_on) {
            prof_mark(s, P_N);
            CUDA_CHECK(cudaStreamSynchronize(s->st));
            for (int i = 0; i + 1 < s->prof_n; i++) {
                float ms;
                CUDA_CHECK(cudaEventElapsedTime(&ms, s->prof_ev[i], s->prof_ev[i + 1]));
                s->prof_us[s->prof_cls[i]] += 1e3 * (double)ms;
            }
            s->prof_n = 0;
            s->prof_steps++;
        }
        return;
    }
    if (!s->gexec || s->g_B != B || s->g_pos != pos || s->g_variant != s->variant || s->g_pdl != s->pdl_allowed) {
        if (s->gexec) CUDA_CHECK(cudaGraphExecDestroy(s->gexec));
        cudaGraph_t gr;
        CUDA_CHECK(cudaStreamBeginCapture(s->st, cudaStreamCaptureModeThreadLocal));
        srv_decode_body(s, B, pos);
        CUDA_CHECK(cudaStreamEndCapture(s->st, &gr));
        CUDA_CHECK(cudaGraphInstantiate(&s->gexec, gr, 0));
        CUDA_CHECK(cudaGraphDestroy(gr));
        s->g_B = B;
        s->g_pos = pos;
        s->g_variant = s->variant;
        s->g_pdl = s->pdl_allowed;
    }
    CUDA_CHECK(cudaGraphLaunch(s->gexec, s->st));
}

static void srv_sync(void *p) { CUDA_CHECK(cudaStreamSynchronize(((struct srv *)p)->st)); }

static void srv_logits(void *p, int64_t B, float *logits, int32_t *next) {
    struct srv *s = (struct srv *)p;
    CHECK(B <= s->max_b, "logits");
    if (logits) CUDA_CHECK(cudaMemcpyAsync(logits, s->logits, (size_t)(B * s->cf.V) * 4, cudaMemcpyDeviceToHost, s->st));
    if (next) CUDA_CHECK(cudaMemcpyAsync(next, s->next, (size_t)B * 4, cudaMemcpyDeviceToHost, s->st));
    CUDA_CHECK(cudaStreamSynchronize(s->st));
}

static void srv_stats(void *p, struct qwen3_serve_stats *st) {
    struct srv *s = (struct srv *)p;
    const struct qwen3_config *cf = &s->cf;
    memset(st, 0, sizeof *st);
    // A decode step reads the whole lm_head and only B rows of the embedding (counted by the bench).
    size_t all = w_bytes(&s->embed) + (s->lm_tied ? 0 : w_bytes(&s->lm)) + (size_t)cf->D * 4;
    size_t dense = w_bytes(&s->lm) + (size_t)cf->D * 4;
    for (int64_t l = 0; l < cf->n_layers; l++) {
        const struct srv_layer *L = &s->L[l];
        const size_t norms = (size_t)(2 * cf->D + 2 * cf->D_h) * 4;
        const size_t d = w_bytes(&L->qkv) + w_bytes(&L->o) + w_bytes(&L->gu) + w_bytes(&L->down) + w_bytes(&L->router) + norms;
        dense += d;
        all += d + w_bytes(&L->egu) + w_bytes(&L->edown);
        if (L->is_moe) st->expert_bytes = (w_bytes(&L->egu) + w_bytes(&L->edown)) / (size_t)cf->E;
    }
    st->weight_bytes = all;
    st->dense_read_bytes = dense;
    st->kv_bytes_per_token = (size_t)(cf->n_layers * 2 * cf->H_kv * cf->D_h) * 4;
    st->scratch_bytes = s->scratch_bytes;
    st->n_layers = cf->n_layers;
}

static int64_t srv_moe_distinct(void *p, int64_t B, int64_t layer) {
    struct srv *s = (struct srv *)p;
    if (!s->cf.is_moe || !s->L[layer].is_moe) return 0;
    const int64_t k = s->cf.top_k, P = B * k;
    int32_t *h = (int32_t *)xmalloc((size_t)P * 4);
    CUDA_CHECK(cudaMemcpyAsync(h, s->mids + layer * s->max_rows * k, (size_t)P * 4, cudaMemcpyDeviceToHost, s->st));
    CUDA_CHECK(cudaStreamSynchronize(s->st));
    uint8_t *seen = (uint8_t *)xcalloc((size_t)s->cf.E, 1);
    int64_t n = 0;
    for (int64_t i = 0; i < P; i++)
        if (h[i] >= 0 && h[i] < s->cf.E && !seen[h[i]]) {
            seen[h[i]] = 1;
            n++;
        }
    free(h);
    free(seen);
    return n;
}

static void srv_set_variant(void *p, int v) {
    struct srv *s = (struct srv *)p;
    if (v != 0 && v != 1) die("serve: decode variant %d, expected 0 or 1", v);
    s->variant = v;
}

static void srv_set_pdl(void *p, int on) { ((struct srv *)p)->pdl_allowed = on != 0; }

static void srv_profile_begin(void *p) {
    struct srv *s = (struct srv *)p;
    CUDA_CHECK(cudaStreamSynchronize(s->st));
    memset(s->prof_us, 0, sizeof s->prof_us);
    s->prof_steps = 0;
    s->prof_n = 0;
    s->prof_on = 1;
}

static int srv_profile_end(void *p, double *us, const char **names, int max) {
    struct srv *s = (struct srv *)p;
    s->prof_on = 0;
    const int n = max < P_N ? max : P_N;
    for (int i = 0; i < n; i++) {
        us[i] = s->prof_steps ? s->prof_us[i] / (double)s->prof_steps : 0.0;
        names[i] = PROF_NAME[i];
    }
    return n;
}

static const struct qwen3_serve_api g_serve = {
    .create_random = srv_create_random,
    .create_from_model = srv_create_from_model,
    .free = srv_free,
    .prefill = srv_prefill,
    .fill_kv = srv_fill_kv,
    .set_tokens = srv_set_tokens,
    .decode = srv_decode,
    .sync = srv_sync,
    .logits = srv_logits,
    .stats = srv_stats,
    .moe_distinct = srv_moe_distinct,
    .set_variant = srv_set_variant,
    .set_pdl = srv_set_pdl,
    .profile_begin = srv_profile_begin,
    .profile_end = srv_profile_end,
};

extern "C" const struct qwen3_serve_api *qwen3_cuda_serve_api(void) { return &g_serve; }
