/* serve_attention -- see serve_attention.h. */
#include "serve_attention.h"

#include <cublas_v2.h>
#include <math.h>

#include "common.cuh"
#include "core/check.h"

// ---- decode: split-K ----

extern "C" size_t serve_attn_decode_work(int64_t B, int64_t H, int64_t n_ctx) {
    const int64_t ns = (n_ctx + SERVE_ATTN_SPLIT - 1) / SERVE_ATTN_SPLIT;
    return (size_t)(B * H * ns * (128 + 2));
}

/* CTA (split s, head h, sequence b), 128 threads: warp w scores keys s*64 + w, +4, ... (lane l holds
 * q[4l .. 4l+3], a float4 of the key row, butterfly sum); then max / exp / sum over the split's keys, and
 * thread d sums p_j v[j][d] over them. Writes (max, sum, 128 sums) of the split. */
static __global__ void __launch_bounds__(128) attn_decode_kernel(float *work, const float *q, const float *kc,
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
#pragma unroll 4
    for (int64_t j = j0 + warp; j < j1; j += 4) {
        const float4 kv = __ldg((const float4 *)(kb + j * kv_stride) + lane);
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
#pragma unroll 8
    for (int64_t j = j0; j < j1; j++) acc = fmaf(s_p[j - j0], __ldg(vb + j * kv_stride + d), acc);
    float *w = work + ((b * H + h) * ns + s) * 130;
    w[2 + d] = acc;
    if (d == 0) {
        w[0] = s_red[0];
        w[1] = s_red[1];
    }
}

/* CTA (head h, sequence b), 128 threads: out[d] = sum_s e^(m_s - M) acc_s[d] / sum_s e^(m_s - M) l_s. */
static __global__ void attn_merge_kernel(float *out, const float *work, int64_t H, int64_t ns) {
    const int64_t h = blockIdx.x, b = blockIdx.y;
    const float *w = work + (b * H + h) * ns * 130;
    float M = -INFINITY;
    for (int64_t s = 0; s < ns; s++) M = fmaxf(M, w[s * 130]);
    float l = 0.0f, acc = 0.0f;
    for (int64_t s = 0; s < ns; s++) {
        const float f = expf(w[s * 130] - M);
        l += f * w[s * 130 + 1];
        acc += f * w[s * 130 + 2 + threadIdx.x];
    }
    out[(b * H + h) * 128 + threadIdx.x] = acc / l;
}

extern "C" void serve_attn_decode_cuda(float *out, const float *q, const float *kc, const float *vc, int64_t B,
                                       int64_t pos, int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride,
                                       int64_t seq_stride, float *work, void *stream) {
    if (D_h != 128) die("serve_attn_decode_cuda: head_dim %lld, expected 128", (long long)D_h);
    CHECK(H % H_kv == 0 && kv_stride % 4 == 0, "attention shapes");
    cudaStream_t st = (cudaStream_t)stream;
    const int64_t ns = (pos + 1 + SERVE_ATTN_SPLIT - 1) / SERVE_ATTN_SPLIT;
    attn_decode_kernel<<<dim3((unsigned)ns, (unsigned)H, (unsigned)B), 128, 0, st>>>(
        work, q, kc, vc, pos, H, H / H_kv, kv_stride, seq_stride, (float)(1.0 / sqrt((double)D_h)));
    CUDA_CHECK_LAUNCH();
    attn_merge_kernel<<<dim3((unsigned)H, (unsigned)B), 128, 0, st>>>(out, work, H, ns);
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
