/* quantize_mxfp4 -- see quantize_mxfp4.h. */
#include "quantize_mxfp4.h"

#include "common.cuh"
#include "core/check.h"

/* One thread per 32-element block b = x[32b .. 32b+31]. */
static __global__ void quantize_mxfp4_kernel(const float *x, struct mxfp4_block *y, int64_t n_blocks,
                                             int ceil_rule) {
    int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n_blocks) return;
    const float *xb = x + b * MXFP4_BLOCK_SIZE;
    /* E2M1: emax_elem 2, largest value 6 (src/formats/mxfp4.h). */
    uint8_t e = dev_mx_scale(dev_amax(xb, MXFP4_BLOCK_SIZE), 2, 6.0f, ceil_rule);
    /* x / X is exact for a power-of-two X (the quotient stays below 8), so this is the only rounding. */
    float X = dev_e8m0_value(e);
    struct mxfp4_block out;
    out.e = e;
    for (int i = 0; i < MXFP4_BLOCK_SIZE / 2; i++) {
        uint8_t lo = e == 0xFF ? 0 : dev_e2m1(__fdiv_rn(xb[2 * i], X));
        uint8_t hi = e == 0xFF ? 0 : dev_e2m1(__fdiv_rn(xb[2 * i + 1], X));
        out.qs[i] = (uint8_t)(lo | (hi << 4));
    }
    y[b] = out;
}

static __global__ void quantize_mxfp4_decode_kernel(const struct mxfp4_block *x, float *y, int64_t n_blocks) {
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
    int64_t n = T * K / MXFP4_BLOCK_SIZE;
    if (n == 0) return;
    quantize_mxfp4_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(
        x, y, n, rule == E8M0_RULE_CEIL);
    CUDA_CHECK_LAUNCH();
}

extern "C" void quantize_mxfp4_decode_cuda(const struct mxfp4_block *x, float *y, int64_t T, int64_t K,
                                           void *stream) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld is not a multiple of %d", (long long)K, MXFP4_BLOCK_SIZE);
    int64_t n = T * K / MXFP4_BLOCK_SIZE;
    if (n == 0) return;
    quantize_mxfp4_decode_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, y, n);
    CUDA_CHECK_LAUNCH();
}
