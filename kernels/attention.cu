/* attention -- see attention.h. */
#include "attention.h"

#include <math.h>

#include "common.cuh"
#include "core/check.h"
#include "fastexp.cuh"

enum { ATT_THREADS = 128, ATT_WARPS = ATT_THREADS / 32 };

static __global__ void attention_kernel(float *out, const float *q, const float *k, const float *v, int64_t T,
                                        int64_t pos0, int64_t H, int64_t n_rep, int64_t D_h, int64_t kv_stride,
                                        float scale) {
    // q, out: T x H x D_h; k, v: n_ctx x kv_stride; S: n_keys scores of this (t, h) in shared memory
    extern __shared__ float S[];
    __shared__ double red_d[ATT_THREADS];
    __shared__ float red_f[ATT_WARPS];
    const int64_t h = blockIdx.x, t = blockIdx.y, g = h / n_rep, n_keys = pos0 + t + 1;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const float *qr = q + (t * H + h) * D_h;
    const float *kg = k + g * D_h, *vg = v + g * D_h;

    // Scores: warp w takes keys w, w + 4, ...; lane l the dims l, l + 32, ...; butterfly sum (fixed tree).
    for (int64_t j = warp; j < n_keys; j += ATT_WARPS) {
        const float *kr = kg + j * kv_stride;
        float d = 0.0f;
        for (int64_t i = lane; i < D_h; i += 32) d += qr[i] * kr[i];
        for (int off = 16; off > 0; off /= 2) d += __shfl_xor_sync(0xFFFFFFFFu, d, off);
        if (lane == 0) S[j] = scale * d;
    }
    __syncthreads();

    // Row maximum (exact in any order), then e = fastexp(s - max) and the double sum over a fixed tree.
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < n_keys; j += ATT_THREADS) m = fmaxf(m, S[j]);
    for (int off = 16; off > 0; off /= 2) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, off));
    if (lane == 0) red_f[warp] = m;
    __syncthreads();
    m = red_f[0];
    for (int w = 1; w < ATT_WARPS; w++) m = fmaxf(m, red_f[w]);
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < n_keys; j += ATT_THREADS) {
        const float e = dev_fastexp(__fsub_rn(S[j], m));
        S[j] = e;
        s += (double)e;
    }
    red_d[threadIdx.x] = s;
    __syncthreads();
    for (int w = ATT_THREADS / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) red_d[threadIdx.x] += red_d[threadIdx.x + w];
        __syncthreads();
    }
    const float inv = (float)(1.0 / red_d[0]);
    for (int64_t j = threadIdx.x; j < n_keys; j += ATT_THREADS) S[j] = __fmul_rn(S[j], inv);
    __syncthreads();

    // out[d] = sum_j p_j v[j, d], keys in increasing order.
    float *orow = out + (t * H + h) * D_h;
    for (int64_t d = threadIdx.x; d < D_h; d += ATT_THREADS) {
        float acc = 0.0f;
        for (int64_t j = 0; j < n_keys; j++) acc += S[j] * vg[j * kv_stride + d];
        orow[d] = acc;
    }
}

extern "C" void attention_cuda(float *out, const float *q, const float *k, const float *v, int64_t T, int64_t pos0,
                               int64_t H, int64_t H_kv, int64_t D_h, int64_t kv_stride, void *stream) {
    CHECK(H % H_kv == 0 && kv_stride >= H_kv * D_h, "attention: H %lld, H_kv %lld, kv_stride %lld", (long long)H,
          (long long)H_kv, (long long)kv_stride);
    if (T == 0) return;
    const int64_t n_ctx = pos0 + T;
    if (n_ctx > ATTENTION_MAX_CTX)
        die("attention_cuda: context of %lld positions exceeds ATTENTION_MAX_CTX = %d", (long long)n_ctx,
            ATTENTION_MAX_CTX);
    const size_t smem = (size_t)n_ctx * sizeof(float);
    static int attr_set = 0;   /* per process: the limit is a property of the function, the same on every call */
    if (!attr_set) {
        CUDA_CHECK(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        (int)(ATTENTION_MAX_CTX * sizeof(float))));
        attr_set = 1;
    }
    const float scale = (float)(1.0 / sqrt((double)D_h));
    CHECK(T <= 65535, "attention: T=%lld exceeds the grid's y dimension", (long long)T);
    attention_kernel<<<dim3((unsigned)H, (unsigned)T), ATT_THREADS, smem, (cudaStream_t)stream>>>(
        out, q, k, v, T, pos0, H, H / H_kv, D_h, kv_stride, scale);
    CUDA_CHECK_LAUNCH();
}
