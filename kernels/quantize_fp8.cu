/* quantize_fp8 -- see quantize_fp8.h. */
#include "quantize_fp8.h"

#include "common.cuh"
#include "core/check.h"
#include "formats/fp8_group.h"

/* One warp per group g (x[128g .. 128g+127], groups never straddle rows since K % 128 == 0); lane l owns
 * elements 4l .. 4l+3. The group amax is a butterfly max over the warp; a NaN/Inf anywhere is carried as a
 * separate flag so that fmaxf (which drops NaN) cannot hide it. */
static __global__ void quantize_fp8_kernel(const float *x, uint8_t *q, float *scales, int64_t n_groups) {
    int64_t g = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (g >= n_groups) return; /* whole warps exit together: blockDim is a multiple of 32 */
    float v[4];
    for (int i = 0; i < 4; i++) v[i] = x[g * FP8_GROUP_SIZE + lane * 4 + i];
    float m = 0.0f;
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        bad |= !isfinite(v[i]);
        m = fmaxf(m, fabsf(v[i]));
    }
    for (int off = 16; off > 0; off /= 2) {
        m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, off));
        bad |= __shfl_xor_sync(0xFFFFFFFFu, bad, off);
    }
    float scale = bad ? __int_as_float(0x7FC00000) : __fdiv_rn(m, 448.0f);
    if (lane == 0) scales[g] = scale;
    int live = scale > 0.0f;
    for (int i = 0; i < 4; i++)
        q[g * FP8_GROUP_SIZE + lane * 4 + i] = live ? dev_e4m3(__fdiv_rn(v[i], scale)) : 0;
}

static __global__ void quantize_fp8_decode_kernel(const uint8_t *q, const float *scales, float *y, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = __fmul_rn(dev_e4m3_value(q[i]), scales[i / FP8_GROUP_SIZE]);
}

extern "C" void quantize_fp8_cuda(const float *x, uint8_t *q, float *scales, int64_t T, int64_t K, void *stream) {
    CHECK(K % FP8_GROUP_SIZE == 0, "fp8-group128: K=%lld is not a multiple of %d", (long long)K, FP8_GROUP_SIZE);
    int64_t n_groups = T * K / FP8_GROUP_SIZE;
    if (n_groups == 0) return;
    /* 8 warps (8 groups) per 256-thread block. */
    quantize_fp8_kernel<<<(unsigned)ceil_div(n_groups, 8), 256, 0, (cudaStream_t)stream>>>(x, q, scales, n_groups);
    CUDA_CHECK_LAUNCH();
}

extern "C" void quantize_fp8_decode_cuda(const uint8_t *q, const float *scales, float *y, int64_t T, int64_t K,
                                         void *stream) {
    CHECK(K % FP8_GROUP_SIZE == 0, "fp8-group128: K=%lld is not a multiple of %d", (long long)K, FP8_GROUP_SIZE);
    int64_t n = T * K;
    if (n == 0) return;
    quantize_fp8_decode_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(q, scales, y, n);
    CUDA_CHECK_LAUNCH();
}
