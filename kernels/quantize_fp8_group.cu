/* quantize_fp8_group -- see quantize_fp8_group.h. */
#include "quantize_fp8_group.h"

#include "common.cuh"
#include "core/check.h"
#include "formats/fp8_group.h"

/* One tile of QTILE_ELEMS elements per CTA in the step layout of common.cuh: in each step a warp covers one
 * group (x[128g .. 128g+127], groups never straddle rows since K % 128 == 0) and lane l elements 4l .. 4l+3.
 * The group amax is a butterfly max over the warp with NaN/Inf carried as a flag (dev_group_amax). The four
 * codes of a lane leave in one 4-byte store when q is 4-byte aligned. */
static __global__ void quantize_fp8_group_kernel(const float *x, uint8_t *q, float *scales, int64_t n, int vec) {
    int64_t i0 = (int64_t)blockIdx.x * QTILE_ELEMS;
    float v[QTILE_UNROLL][4];
    for (int u = 0; u < QTILE_UNROLL; u++) dev_load4(x, i0 + u * QTILE_STEP + 4 * threadIdx.x, n, vec, v[u]);
    for (int u = 0; u < QTILE_UNROLL; u++) {
        int64_t i = i0 + u * QTILE_STEP + 4 * threadIdx.x;
        float m = dev_group_amax(v[u], 32);
        if (i >= n) continue; /* whole warps: n is a multiple of the 128-element group */
        /* The twin's arithmetic: scale = amax / 448, code = e4m3(x / scale), both correctly rounded. */
        float scale = __fdiv_rn(m, 448.0f);
        if (threadIdx.x % 32 == 0) scales[i / FP8_GROUP_SIZE] = scale;
        int live = scale > 0.0f; /* zero group: zero codes; NaN scale: zero codes */
        uint8_t c[4];
        for (int j = 0; j < 4; j++) c[j] = live ? dev_e4m3(__fdiv_rn(v[u][j], scale)) : 0;
        if (vec) {
            *reinterpret_cast<uint32_t *>(q + i) = c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24;
        } else {
            for (int j = 0; j < 4; j++) q[i + j] = c[j];
        }
    }
}

static __global__ void quantize_fp8_group_dequantize_kernel(const uint8_t *q, const float *scales, float *y, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = __fmul_rn(dev_e4m3_value(q[i]), scales[i / FP8_GROUP_SIZE]);
}

extern "C" void quantize_fp8_group_cuda(const float *x, uint8_t *q, float *scales, int64_t T, int64_t K, void *stream) {
    CHECK(K % FP8_GROUP_SIZE == 0, "fp8-group128: K=%lld is not a multiple of %d", (long long)K, FP8_GROUP_SIZE);
    int64_t n_groups = T * K / FP8_GROUP_SIZE;
    if (n_groups == 0) return;
    int64_t n = T * K;
    /* x 16-byte and q 4-byte aligned: vector loads and word stores; else the scalar paths. */
    int vec = (uintptr_t)x % 16 == 0 && (uintptr_t)q % 4 == 0;
    quantize_fp8_group_kernel<<<(unsigned)ceil_div(n, QTILE_ELEMS), QTILE_THREADS, 0, (cudaStream_t)stream>>>(
        x, q, scales, n, vec);
    CUDA_CHECK_LAUNCH();
}

extern "C" void quantize_fp8_group_dequantize_cuda(const uint8_t *q, const float *scales, float *y, int64_t T, int64_t K,
                                         void *stream) {
    CHECK(K % FP8_GROUP_SIZE == 0, "fp8-group128: K=%lld is not a multiple of %d", (long long)K, FP8_GROUP_SIZE);
    int64_t n = T * K;
    if (n == 0) return;
    quantize_fp8_group_dequantize_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(q, scales, y, n);
    CUDA_CHECK_LAUNCH();
}
