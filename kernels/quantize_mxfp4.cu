/* quantize_mxfp4 -- see quantize_mxfp4.h. */
#include "quantize_mxfp4.h"

#include "common.cuh"
#include "core/check.h"

/* One tile per CTA (dev_quantize_tile, common.cuh): 8 lanes per 32-element block, 2 code bytes per lane and
 * step. n = T * K elements; rows are whole numbers of blocks (K % 32 == 0). */
static __global__ void quantize_mxfp4_kernel(const float *x, struct mxfp4_block *y, int64_t n, int vec,
                                             int ceil_rule) {
    dev_quantize_tile<MXFP4_BLOCK_SIZE, sizeof(struct mxfp4_block)>(
        x, (uint8_t *)y, n, vec, [=](const float *v, int part, uint8_t *out) {
            /* E2M1: emax_elem 2, largest value 6 (src/formats/mxfp4.h). */
            uint8_t e = dev_mx_scale(dev_group_amax(v, 8), 2, 6.0f, ceil_rule);
            /* x * 2^-k is the exact quotient x / X (dev_e8m0_recip), so E2M1 rounding is the only rounding. */
            float rX = dev_e8m0_recip(e);
            if (part == 0) out[0] = e;
            for (int j = 0; j < 2; j++) {
                uint8_t lo = e == 0xFF ? 0 : dev_e2m1(__fmul_rn(v[2 * j], rX));
                uint8_t hi = e == 0xFF ? 0 : dev_e2m1(__fmul_rn(v[2 * j + 1], rX));
                out[1 + 2 * part + j] = (uint8_t)(lo | (hi << 4));
            }
        });
}

static __global__ void quantize_mxfp4_dequantize_kernel(const struct mxfp4_block *x, float *y, int64_t n_blocks) {
    int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n_blocks) return;
    struct mxfp4_block in = x[b];
    float X = dev_e8m0_value(in.e);
    /* A code value times a power of two is exact; 0xFF scales give NaN, as in the twin. */
    for (int i = 0; i < MXFP4_BLOCK_SIZE; i++) {
        uint8_t c = (uint8_t)((in.qs[i / 2] >> ((i & 1) * 4)) & 0xF);
        y[b * MXFP4_BLOCK_SIZE + i] = __fmul_rn(dev_e2m1_value(c), X);
    }
}

extern "C" void quantize_mxfp4_cuda(const float *x, struct mxfp4_block *y, int64_t T, int64_t K,
                                    enum e8m0_rule rule, void *stream) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld is not a multiple of %d", (long long)K, MXFP4_BLOCK_SIZE);
    int64_t n = T * K;
    if (n == 0) return;
    int vec = (uintptr_t)x % 16 == 0; /* else the scalar loads of dev_load4 */
    quantize_mxfp4_kernel<<<(unsigned)ceil_div(n, QTILE_ELEMS), QTILE_THREADS, 0, (cudaStream_t)stream>>>(
        x, y, n, vec, rule == E8M0_RULE_CEIL);
    CUDA_CHECK_LAUNCH();
}

extern "C" void quantize_mxfp4_dequantize_cuda(const struct mxfp4_block *x, float *y, int64_t T, int64_t K,
                                           void *stream) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld is not a multiple of %d", (long long)K, MXFP4_BLOCK_SIZE);
    int64_t n = T * K / MXFP4_BLOCK_SIZE;
    if (n == 0) return;
    quantize_mxfp4_dequantize_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, y, n);
    CUDA_CHECK_LAUNCH();
}
