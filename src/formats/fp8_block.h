/* fp8_block -- "fp8-block128": E4M3 weights with one FP32 scale per 128 x 128 block, the layout of Qwen's
 * official Qwen3-*-FP8 checkpoints (quant_method fp8, weight_block_size [128, 128]; DeepSeek-V3 style).
 * For block (i, j) = rows 128i.., columns 128j..: scale = amax(block) / 448 (the checkpoint's
 * weight_scale_inv), code = e4m3(x / scale), decoded e4m3_value * scale. K must be a multiple of 128; the
 * last row block may be partial (N % 128 != 0), as in the checkpoints. Layout: N*K codes row-major + scales
 * float[ceil(N/128)][K/128] row-major. Zero block: scale 0, exact zeros; NaN/Inf in a block: scale NaN. */
#ifndef SRC_FORMATS_FP8_BLOCK_H
#define SRC_FORMATS_FP8_BLOCK_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP8_BLOCK_SIZE 128

/* Quantizes w (N x K, K % 128 == 0: CHECK) into q (N x K codes) and scales (ceil(N/128) x K/128). */
void fp8_block_quantize_ref(const float *w, int64_t N, int64_t K, uint8_t *q, float *scales);

/* Decodes q and scales back into w (N x K). */
void fp8_block_dequantize_ref(const uint8_t *q, const float *scales, int64_t N, int64_t K, float *w);

/* The registry row of "fp8-block128" (qformat.h). */
extern const struct qformat_ops fp8_block_ops;

#ifdef __cplusplus
}
#endif
#endif
