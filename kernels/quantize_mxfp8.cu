/* quantize_mxfp8 -- see quantize_mxfp8.h. */
#include "quantize_mxfp8.h"

#include "common.cuh"
#include "core/check.h"

/* One tile per CTA (dev_quantize_tile, common.cuh): 8 lanes per 32-element block, 4 codes per lane and step.
 * n = T * K elements; rows are whole numbers of blocks (K % 32 == 0), so the row structure does not matter. */
static __global__ void quantize_mxfp8_kernel(const float *x, struct mxfp8_block *y, int64_t n, int vec,
                                             int ceil_rule) {
    dev_quantize_tile<MXFP8_BLOCK_SIZE, sizeof(struct mxfp8_block)>(
        x, (uint8_t *)y, n, vec, [=](const float *v, int part, uint8_t *out) {
            /* E4M3: emax_elem 8, largest value 448 (src/formats/mxfp8.h). */
            uint8_t e = dev_mx_scale(dev_group_amax(v, 8), 8, 448.0f, ceil_rule);
            float rX = dev_e8m0_recip(e);
            if (part == 0) out[0] = e;
            /* x * 2^-k is the exact quotient x / X (dev_e8m0_recip); E4M3 rounding (and saturation past 448)
             * is the only rounding. */
            for (int j = 0; j < 4; j++) out[1 + 4 * part + j] = e == 0xFF ? 0 : dev_e4m3(__fmul_rn(v[j], rX));
        });
}

static __global__ void quantize_mxfp8_dequantize_kernel(const struct mxfp8_block *x, float *y, int64_t n_blocks) {
    int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n_blocks) return;
    float X = dev_e8m0_value(x[b].e);
    /* Exact products (power-of-two scale), so the decode needs no rounding-order care. */
    for (int i = 0; i < MXFP8_BLOCK_SIZE; i++)
        y[b * MXFP8_BLOCK_SIZE + i] = __fmul_rn(dev_e4m3_value(x[b].qs[i]), X);
}

extern "C" void quantize_mxfp8_cuda(const float *x, struct mxfp8_block *y, int64_t T, int64_t K,
                                    enum e8m0_rule rule, void *stream) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld is not a multiple of %d", (long long)K, MXFP8_BLOCK_SIZE);
    int64_t n = T * K;
    if (n == 0) return;
    int vec = (uintptr_t)x % 16 == 0; /* else the scalar loads of dev_load4 */
    quantize_mxfp8_kernel<<<(unsigned)ceil_div(n, QTILE_ELEMS), QTILE_THREADS, 0, (cudaStream_t)stream>>>(
        x, y, n, vec, rule == E8M0_RULE_CEIL);
    CUDA_CHECK_LAUNCH();
}

extern "C" void quantize_mxfp8_dequantize_cuda(const struct mxfp8_block *x, float *y, int64_t T, int64_t K,
                                           void *stream) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld is not a multiple of %d", (long long)K, MXFP8_BLOCK_SIZE);
    int64_t n = T * K / MXFP8_BLOCK_SIZE;
    if (n == 0) return;
    quantize_mxfp8_dequantize_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, y, n);
    CUDA_CHECK_LAUNCH();
}
