/* fp8_group -- "fp8-group128": E4M3 with one FP32 scale per 1 x 128 group along K, the dynamic activation
 * scheme of Qwen's FP8 checkpoints (activation_scheme dynamic, per-token-group 128; DeepSeek-V3 style).
 * For each row and group g: scale = amax(x[128g .. 128g+127]) / 448, code = e4m3(x / scale), decoded
 * e4m3_value * scale. K must be a multiple of 128. Layout: N*K codes row-major + scales float[N][K/128].
 * Zero group: scale 0, exact zeros; NaN/Inf in a group: scale NaN, the group decodes to NaN. */
#ifndef SRC_FORMATS_FP8_GROUP_H
#define SRC_FORMATS_FP8_GROUP_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FP8_GROUP_SIZE 128

/* Quantizes one row of K values (K % 128 == 0: CHECK) into K codes and K/128 scales. */
void fp8_group_quantize_row_ref(const float *x, uint8_t *q, float *scales, int64_t K);

/* Decodes one row of K codes with its K/128 scales. */
void fp8_group_dequantize_row_ref(const uint8_t *q, const float *scales, float *y, int64_t K);

/* The registry row of "fp8-group128" (qformat.h): codes uint8[N*K], scales float[N][K/128]. */
extern const struct qformat_ops fp8_group_ops;

#ifdef __cplusplus
}
#endif
#endif
