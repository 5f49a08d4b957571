/* quantize_nvfp4 -- see quantize_nvfp4.h. */
#include "quantize_nvfp4.h"

#include "common.cuh"
#include "core/check.h"

/* One tile per CTA (dev_quantize_tile, common.cuh): 4 lanes per 16-element block, 2 code bytes per lane and
 * step. n = T * K elements; rows are whole numbers of blocks (K % 16 == 0), so the row structure does not
 * matter here. */
static __global__ void quantize_nvfp4_kernel(const float *x, struct nvfp4_block *y, int64_t n, int vec, float g) {
    dev_quantize_tile<NVFP4_BLOCK_SIZE, sizeof(struct nvfp4_block)>(
        x, (uint8_t *)y, n, vec, [=](const float *v, int part, uint8_t *out) {
            /* The same three FP32 operations as the twin, in the same order, each correctly rounded. */
            uint8_t s = dev_ue4m3(__fmul_rn(__fdiv_rn(dev_group_amax(v, 4), 6.0f), g));
            float d = dev_e4m3_value(s); /* 0x7F decodes to NaN */
            int live = d > 0.0f;         /* zero or NaN scale: zero codes */
            float rs = live ? __fdiv_rn(1.0f, __fdiv_rn(d, g)) : 0.0f;
            if (part == 0) out[0] = s;
            for (int j = 0; j < 2; j++) {
                uint8_t lo = live ? dev_e2m1(__fmul_rn(v[2 * j], rs)) : 0;
                uint8_t hi = live ? dev_e2m1(__fmul_rn(v[2 * j + 1], rs)) : 0;
                out[1 + 2 * part + j] = (uint8_t)(lo | (hi << 4));
            }
        });
}

static __global__ void quantize_nvfp4_dequantize_kernel(const struct nvfp4_block *x, float *y, int64_t n_blocks,
                                                    float g) {
    int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n_blocks) return;
    struct nvfp4_block in = x[b];
    float d = dev_e4m3_value(in.s);
    for (int i = 0; i < NVFP4_BLOCK_SIZE; i++) {
        uint8_t c = (uint8_t)((in.qs[i / 2] >> ((i & 1) * 4)) & 0xF);
        /* e2m1 * d is exact; the division is the single rounding, as in the twin. */
        y[b * NVFP4_BLOCK_SIZE + i] = __fdiv_rn(__fmul_rn(dev_e2m1_value(c), d), g);
    }
}

extern "C" void quantize_nvfp4_cuda(const float *x, struct nvfp4_block *y, int64_t T, int64_t K, float global,
                                    void *stream) {
    CHECK(K % NVFP4_BLOCK_SIZE == 0, "nvfp4: K=%lld is not a multiple of %d", (long long)K, NVFP4_BLOCK_SIZE);
    int64_t n = T * K;
    if (n == 0) return;
    int vec = (uintptr_t)x % 16 == 0; /* else the scalar loads of dev_load4 */
    quantize_nvfp4_kernel<<<(unsigned)ceil_div(n, QTILE_ELEMS), QTILE_THREADS, 0, (cudaStream_t)stream>>>(
        x, y, n, vec, global);
    CUDA_CHECK_LAUNCH();
}

extern "C" void quantize_nvfp4_dequantize_cuda(const struct nvfp4_block *x, float *y, int64_t T, int64_t K,
                                           float global, void *stream) {
    CHECK(K % NVFP4_BLOCK_SIZE == 0, "nvfp4: K=%lld is not a multiple of %d", (long long)K, NVFP4_BLOCK_SIZE);
    int64_t n = T * K / NVFP4_BLOCK_SIZE;
    if (n == 0) return;
    quantize_nvfp4_dequantize_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, y, n, global);
    CUDA_CHECK_LAUNCH();
}
