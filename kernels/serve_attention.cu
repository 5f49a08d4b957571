/* serve_attention -- see serve_attention.h. */
#include "serve_attention.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"

// ---- decode: split-K ----

extern "C" size_t serve_attn_decode_work(int64_t B, int64_t H, int64_t n_ctx) {
    const int64_t ns = (n_ctx + SERVE_ATTN_SPLIT - 1) / SERVE_ATTN_SPLIT;
    return (size_t)SERVE_ATTN_COUNTERS + (size_t)(B * H * ns * (128 + 2));
}

enum { AW = 8, AKW = SERVE_ATTN_SPLIT / AW };   /* warps per CTA; keys per warp */

static int g_pdl;

extern "C" void serve_attn_set_pdl(int on) { g_pdl = on; }

/* CTA (split s, head h, sequence b), 256 threads. Warp w loads the K and V rows of its AKW keys s*64 + AKW w + i
 * at once (lane l: columns 4l .. 4l+3, one float4 each), scores them (butterfly sums), and after the CTA's
 * maximum M is known (shared memory, warp order) sums p_i v_i with p_i = e^(score_i - M) for its keys; the
 * warps' sums are added in warp order. Writes (M, sum p, 128 sums) of the split. The CTA that finishes a
 * (b, h) last (a counter in the workspace, reset by it) merges the splits in split order:
 * out[d] = sum_s e^(m_s - M) acc_s[d] / sum_s e^(m_s - M) l_s, FP32 into out or rounded into out16. */
static __global__ void __launch_bounds__(32 * AW) attn_decode_kernel(float *work, const float *q, const float *kc,
                                                                     const float *vc, int64_t pos, int64_t H, int64_t G,
                                                                     int64_t kv_stride, int64_t seq_stride, float scale,
                                                                     float *out, uint16_t *out16, int half) {
    __shared__ float s_m[AW], s_l[AW];
    __shared__ float4 s_acc[AW][32];
    __shared__ int s_last;
    const int64_t s = blockIdx.x, h = blockIdx.y, b = blockIdx.z, ns = gridDim.x;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t n_ctx = pos + 1, jw = s * SERVE_ATTN_SPLIT + AKW * warp;
    const int nk = (int)(n_ctx - jw < 0 ? 0 : n_ctx - jw > AKW ? AKW : n_ctx - jw);
    const float *kb = kc + b * seq_stride + (h / G) * 128, *vb = vc + b * seq_stride + (h / G) * 128;
    // PDL: cache rows before pos were written by earlier steps, so they are loaded before the wait; q and row
    // pos come from the preceding kernel.
    pdl_trigger();
    float4 kv[AKW], vv[AKW];
#pragma unroll
    for (int i = 0; i < AKW; i++)
        if (i < nk && jw + i != pos) {
            kv[i] = __ldg((const float4 *)(kb + (jw + i) * kv_stride) + lane);
            vv[i] = __ldg((const float4 *)(vb + (jw + i) * kv_stride) + lane);
        }
    pdl_wait();
#pragma unroll
    for (int i = 0; i < AKW; i++)
        if (i < nk && jw + i == pos) {
            kv[i] = __ldcg((const float4 *)(kb + (jw + i) * kv_stride) + lane);
            vv[i] = __ldcg((const float4 *)(vb + (jw + i) * kv_stride) + lane);
        }
    const float4 qv = __ldcg((const float4 *)(q + (b * H + h) * 128) + lane);
    float sc[AKW], m = -INFINITY;
#pragma unroll
    for (int i = 0; i < AKW; i++) {
        float d = 0.0f;
        if (i < nk) d = qv.x * kv[i].x + qv.y * kv[i].y + qv.z * kv[i].z + qv.w * kv[i].w;
        for (int o = 16; o > 0; o /= 2) d += __shfl_xor_sync(0xffffffffu, d, o);
        sc[i] = i < nk ? d * scale : -INFINITY;
        m = fmaxf(m, sc[i]);
    }
    if (lane == 0) s_m[warp] = m;
    __syncthreads();
    float M = s_m[0];
#pragma unroll
    for (int i = 1; i < AW; i++) M = fmaxf(M, s_m[i]);
    float l = 0.0f;
    float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
    for (int i = 0; i < AKW; i++)
        if (i < nk) {
            const float p = expf(sc[i] - M);
            l += p;
            acc.x = fmaf(p, vv[i].x, acc.x);
            acc.y = fmaf(p, vv[i].y, acc.y);
            acc.z = fmaf(p, vv[i].z, acc.z);
            acc.w = fmaf(p, vv[i].w, acc.w);
        }
    s_acc[warp][lane] = acc;
    if (lane == 0) s_l[warp] = l;
    __syncthreads();
    float *wp = work + SERVE_ATTN_COUNTERS + ((b * H + h) * ns + s) * 130;
    const int d = threadIdx.x;
    if (d < 128) {
        float a = 0.0f;
#pragma unroll
        for (int i = 0; i < AW; i++) a += ((const float *)s_acc[i])[d];
        wp[2 + d] = a;
        if (d == 0) {
            float lt = 0.0f;
#pragma unroll
            for (int i = 0; i < AW; i++) lt += s_l[i];
            wp[0] = M;
            wp[1] = lt;
        }
    }
    // The last CTA of (b, h) merges.
    __threadfence();
    __syncthreads();
    unsigned *cnt = (unsigned *)work + b * H + h;
    if (threadIdx.x == 0) s_last = atomicAdd(cnt, 1u) == (unsigned)(ns - 1);
    __syncthreads();
    if (!s_last) return;
    __threadfence();
    if (d >= 128) return;
    const float *w0 = work + SERVE_ATTN_COUNTERS + (b * H + h) * ns * 130;
    float MM = -INFINITY;
    for (int64_t i = 0; i < ns; i++) MM = fmaxf(MM, __ldcg(w0 + i * 130));
    float lt = 0.0f, at = 0.0f;
    for (int64_t i = 0; i < ns; i++) {
        const float f = expf(__ldcg(w0 + i * 130) - MM);
        lt += f * __ldcg(w0 + i * 130 + 1);
        at += f * __ldcg(w0 + i * 130 + 2 + d);
    }
    const float o = at / lt;
    const int64_t oi = (b * H + h) * 128 + d;
    if (out16) out16[oi] = half ? __half_as_ushort(__float2half_rn(o)) : __bfloat16_as_ushort(__float2bfloat16_rn(o));
    else out[oi] = o;
    if (d == 0) *cnt = 0u;
}

/* The first decode kernels (QL_SERVE_ATTN=2, a diagnostic fallback): CTA (split s, head h, sequence b) of 128
 * threads, keys scored by warps round-robin, the split's softmax by thread 0, then thread d sums p_j v[j][d];
 * a second kernel merges the splits in split order. No PDL. */
static __global__ void __launch_bounds__(128) attn_split2_kernel(float *work, const float *q, const float *kc,
                                                                 const float *vc, int64_t pos, int64_t H, int64_t G,
                                                                 int64_t kv_stride, int64_t seq_stride, float scale) {
    __shared__ float s_p[SERVE_ATTN_SPLIT];
    __shared__ float s_red[2];
    const int64_t s = blockIdx.x, h = blockIdx.y, b = blockIdx.z, ns = gridDim.x;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int64_t j0 = s * SERVE_ATTN_SPLIT, n_ctx = pos + 1;
    const int64_t j1 = j0 + SERVE_ATTN_SPLIT < n_ctx ? j0 + SERVE_ATTN_SPLIT : n_ctx;
    const float *kb = kc + b * seq_stride + (h / G) * 128, *vb = vc + b * seq_stride + (h / G) * 128;
    const float4 qv = *((const float4 *)(q + (b * H + h) * 128) + lane);
    for (int64_t j = j0 + warp; j < j1; j += 4) {
        const float4 kv = *((const float4 *)(kb + j * kv_stride) + lane);
        float d = qv.x * kv.x + qv.y * kv.y + qv.z * kv.z + qv.w * kv.w;
        for (int o = 16; o > 0; o /= 2) d += __shfl_xor_sync(0xffffffffu, d, o);
        if (lane == 0) s_p[j - j0] = d * scale;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        float m = -INFINITY;
        for (int64_t j = 0; j < j1 - j0; j++) m = fmaxf(m, s_p[j]);
        float l = 0.0f;
        for (int64_t j = 0; j < j1 - j0; j++) {
            const float e = expf(s_p[j] - m);
            s_p[j] = e;
            l += e;
        }
        s_red[0] = m;
        s_red[1] = l;
    }
    __syncthreads();
    const int d = threadIdx.x;
    float acc = 0.0f;
    for (int64_t j = j0; j < j1; j++) acc = fmaf(s_p[j - j0], vb[j * kv_stride + d], acc);
    float *w = work + SERVE_ATTN_COUNTERS + ((b * H + h) * ns + s) * 130;
    w[2 + d] = acc;
    if (d == 0) {
        w[0] = s_red[0];
        w[1] = s_red[1];
    }
}

static __global__ void attn_merge2_kernel(float *out, uint16_t *out16, int half, const float *work, int64_t H,
                                          int64_t ns) {
    const int64_t h = blockIdx.x, b = blockIdx.y;
    const float *w = work + SERVE_ATTN_COUNTERS + (b * H + h) * ns * 130;
    float M = -INFINITY;
    for (int64_t s = 0; s < ns; s++) M = fmaxf(M, w[s * 130]);
    float l = 0.0f, acc = 0.0f;
    for (int64_t s = 0; s < ns; s++) {
        const float f = expf(w[s * 130] - M);
        l += f * w[s * 130 + 1];
        acc += f * w[s * 130 + 2 + threadIdx.x];
    }
    const float o = acc / l;
    const int64_t i = (b * H + h) * 128 + threadIdx.x;
    if (out16) out16[i] = half ? __half_as_ushort(__float2half_rn(o)) : __bfloat16_as_ushort(__float2bfloat16_rn(o));
    else out[i] = o;
}

extern "C" void serve_attn_decode_cuda(float *out, uint16_t *out16, int half, const float *q, const float *kc,
                                       const float *vc, int64_t B, int64_t pos, int64_t H, int64_t H_kv, int64_t D_h,
                                       int64_t kv_stride, int64_t seq_stride, float *work, void *stream) {
    if (D_h != 128) die("serve_attn_decode_cuda: head_dim %lld, expected 128", (long long)D_h);
    CHECK(H % H_kv == 0 && kv_stride % 4 == 0, "attention shapes");
    CHECK(B * H <= SERVE_ATTN_COUNTERS, "serve_attn_decode_cuda: %lld sequences x %lld heads", (long long)B, (long long)H);
    cudaStream_t st = (cudaStream_t)stream;
    const int64_t ns = (pos + 1 + SERVE_ATTN_SPLIT - 1) / SERVE_ATTN_SPLIT;
    static int split2 = -1;
    if (split2 < 0) split2 = getenv("QL_SERVE_ATTN") && !strcmp(getenv("QL_SERVE_ATTN"), "2");
    if (split2) {
        attn_split2_kernel<<<dim3((unsigned)ns, (unsigned)H, (unsigned)B), 128, 0, st>>>(
            work, q, kc, vc, pos, H, H / H_kv, kv_stride, seq_stride, (float)(1.0 / sqrt((double)D_h)));
        CUDA_CHECK_LAUNCH();
        attn_merge2_kernel<<<dim3((unsigned)H, (unsigned)B), 128, 0, st>>>(out, out16, half, work, H, ns);
        CUDA_CHECK_LAUNCH();
        return;
    }
    cudaLaunchConfig_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.gridDim = dim3((unsigned)ns, (unsigned)H, (unsigned)B);
    cfg.blockDim = dim3(32 * AW);
    cfg.stream = st;
    cudaLaunchAttribute at;
    pdl_attach(&cfg, &at, g_pdl);
    CUDA_CHECK(cudaLaunchKernelEx(&cfg, attn_decode_kernel, work, q, kc, vc, pos, H, H / H_kv, kv_stride, seq_stride,
                                  (float)(1.0 / sqrt((double)D_h)), out, out16, half));
    CUDA_CHECK_LAUNCH();
}

// ---- prefill: cuBLAS TF32 GEMMs + causal softmax ----

extern "C" size_t serve_attn_prefill_work(int64_t H, int64_t T) { return (size_t)(H * T * T); }

/* Row r = (h, t) of S (T keys): p_j = e^(s_j - m) / sum over j <= t, 0 beyond. 256 threads per row. */
static __global__ void causal_softmax_kernel(float *S, int64_t T) {
    __shared__ float s_red[256];
    const int64_t r = blockIdx.x, t = r % T;
    float *row = S + r * T;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j <= t; j += 256) m = fmaxf(m, row[j]);
    s_red[threadIdx.x] = m;
    __syncthreads();
    for (int k = 128; k > 0; k /= 2) {
        if (threadIdx.x < k) s_red[threadIdx.x] = fmaxf(s_red[threadIdx.x], s_red[threadIdx.x + k]);
        __syncthreads();
    }
    m = s_red[0];
    __syncthreads();
    float l = 0.0f;
    for (int64_t j = threadIdx.x; j <= t; j += 256) {
        const float e = expf(row[j] - m);
        row[j] = e;
        l += e;
    }
    s_red[threadIdx.x] = l;
    __syncthreads();
    for (int k = 128; k > 0; k /= 2) {
        if (threadIdx.x < k) s_red[threadIdx.x] += s_red[threadIdx.x + k];
        __syncthreads();
    }
    const float inv = 1.0f / s_red[0];
    for (int64_t j = threadIdx.x; j < T; j += 256) row[j] = j <= t ? row[j] * inv : 0.0f;
}

#define BLAS_OK(x)                                                                                  \
    do {                                                                                            \
        cublasStatus_t s_ = (x);                                                                    \
        if (s_ != CUBLAS_STATUS_SUCCESS) die("%s:%d: cuBLAS error %d: %s", __FILE__, __LINE__, (int)s_, #x); \
    } while (0)

extern "C" void serve_attn_prefill_cuda(void *blas, float *out, const float *q, const float *k, const float *v,
                                        int64_t T, int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride, float *S,
                                        void *stream) {
    // Column-major views: S_h^T (T keys x T queries) = K_g Q_h^T; O_h^T (D_h x T) = V_g^T P_h^T.
    cublasHandle_t h = (cublasHandle_t)blas;
    CHECK(H % H_kv == 0, "attention shapes");
    const int64_t G = H / H_kv;
    const float scale = (float)(1.0 / sqrt((double)D_h)), one = 1.0f, zero = 0.0f;
    for (int64_t g = 0; g < H_kv; g++)
        BLAS_OK(cublasGemmStridedBatchedEx(h, CUBLAS_OP_T, CUBLAS_OP_N, (int)T, (int)T, (int)D_h, &scale, k + g * D_h,
                                           CUDA_R_32F, (int)kv_stride, 0, q + g * G * D_h, CUDA_R_32F, (int)(H * D_h),
                                           D_h, &zero, S + g * G * T * T, CUDA_R_32F, (int)T, T * T, (int)G,
                                           CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
    causal_softmax_kernel<<<(unsigned)(H * T), 256, 0, (cudaStream_t)stream>>>(S, T);
    CUDA_CHECK_LAUNCH();
    for (int64_t g = 0; g < H_kv; g++)
        BLAS_OK(cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, (int)D_h, (int)T, (int)T, &one, v + g * D_h,
                                           CUDA_R_32F, (int)kv_stride, 0, S + g * G * T * T, CUDA_R_32F, (int)T, T * T,
                                           &zero, out + g * G * D_h, CUDA_R_32F, (int)(H * D_h), D_h, (int)G,
                                           CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
}
