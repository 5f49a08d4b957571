/* fp8_block -- see fp8_block.h. */
#include "formats/fp8_block.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/fp8_tensor.h"

void fp8_block_quantize_ref(const float *w, int64_t N, int64_t K, uint8_t *q, float *scales) {
    CHECK(K % FP8_BLOCK_SIZE == 0, "fp8-block128: K=%lld", (long long)K);
    // N = output rows, K = reduction; nb_k = K/128 blocks per row block
    int64_t nb_k = K / FP8_BLOCK_SIZE;
    /* Row block i0 covers rows i0 .. i0+127; the last one stops at N, matching the ceil(N/128) scale rows of
     * Qwen's checkpoints. The scale is shared by the whole 2-D block, so amax must see all its rows first. */
    for (int64_t i0 = 0; i0 < N; i0 += FP8_BLOCK_SIZE) {
        int64_t rows = N - i0 < FP8_BLOCK_SIZE ? N - i0 : FP8_BLOCK_SIZE;
        for (int64_t j = 0; j < nb_k; j++) {
            const float *blk = w + i0 * K + j * FP8_BLOCK_SIZE;
            float s = fp8_tensor_scale(amax_block_ref(blk, rows, FP8_BLOCK_SIZE, K), FP8_TENSOR_E4M3);
            scales[(i0 / FP8_BLOCK_SIZE) * nb_k + j] = s;
            for (int64_t r = 0; r < rows; r++)
                fp8_tensor_quantize_row_ref(blk + r * K, q + (i0 + r) * K + j * FP8_BLOCK_SIZE,
                                            FP8_BLOCK_SIZE, s, FP8_TENSOR_E4M3);
        }
    }
}

void fp8_block_dequantize_ref(const uint8_t *q, const float *scales, int64_t N, int64_t K, float *w) {
    CHECK(K % FP8_BLOCK_SIZE == 0, "fp8-block128: K=%lld", (long long)K);
    int64_t nb_k = K / FP8_BLOCK_SIZE;
    /* Row by row: the 128-element slice of row n in column block j uses scale (n / 128, j). */
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < nb_k; j++)
            fp8_tensor_dequantize_row_ref(q + n * K + j * FP8_BLOCK_SIZE, w + n * K + j * FP8_BLOCK_SIZE,
                                          FP8_BLOCK_SIZE, scales[(n / FP8_BLOCK_SIZE) * nb_k + j],
                                          FP8_TENSOR_E4M3);
}
