/* quantize_mxfp8 -- see quantize_mxfp8.h. */
#include "quantize_mxfp8.h"

#include "common.cuh"
#include "core/check.h"

/* One tile of QTILE_ELEMS elements per CTA (common.cuh): 8 lanes per 32-element block, 4 codes per lane and
 * step. n = T * K elements; rows are whole numbers of blocks (K % 32 == 0), so the row structure does not
 * matter. */
static __global__ void quantize_mxfp8_kernel(const float *x, struct mxfp8_block *y, int64_t n, int vec,
                                             int ceil_rule) {
    __shared__ __align__(16) uint8_t tile[QTILE_ELEMS / MXFP8_BLOCK_SIZE * sizeof(struct mxfp8_block)];
    int64_t i0 = (int64_t)blockIdx.x * QTILE_ELEMS;
    float v[QTILE_UNROLL][4];
    for (int u = 0; u < QTILE_UNROLL; u++) dev_load4(x, i0 + u * QTILE_STEP + 4 * threadIdx.x, n, vec, v[u]);
    for (int u = 0; u < QTILE_UNROLL; u++) {
        int local = u * QTILE_STEP + 4 * threadIdx.x, part = local % MXFP8_BLOCK_SIZE / 4;
        /* E4M3: emax_elem 8, largest value 448 (src/formats/mxfp8.h). */
        uint8_t e = dev_mx_scale(dev_group_amax(v[u], 8), 8, 448.0f, ceil_rule);
        float rX = dev_e8m0_recip(e);
        uint8_t *out = tile + local / MXFP8_BLOCK_SIZE * sizeof(struct mxfp8_block);
        if (part == 0) out[0] = e;
        /* x * 2^-k is exact (the quotient x / X, see dev_e8m0_recip); E4M3 rounding (and saturation past 448)
         * is the only rounding. */
        for (int j = 0; j < 4; j++) out[1 + 4 * part + j] = e == 0xFF ? 0 : dev_e4m3(__fmul_rn(v[u][j], rX));
    }
    __syncthreads();
    int64_t n_tile = min((int64_t)QTILE_ELEMS, n - i0);
    dev_store_tile((uint8_t *)(y + i0 / MXFP8_BLOCK_SIZE), tile,
                   (int)(n_tile / MXFP8_BLOCK_SIZE * sizeof(struct mxfp8_block)));
}

static __global__ void quantize_mxfp8_decode_kernel(const struct mxfp8_block *x, float *y, int64_t n_blocks) {
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

extern "C" void quantize_mxfp8_decode_cuda(const struct mxfp8_block *x, float *y, int64_t T, int64_t K,
                                           void *stream) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld is not a multiple of %d", (long long)K, MXFP8_BLOCK_SIZE);
    int64_t n = T * K / MXFP8_BLOCK_SIZE;
    if (n == 0) return;
    quantize_mxfp8_decode_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, y, n);
    CUDA_CHECK_LAUNCH();
}
