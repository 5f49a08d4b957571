/* fp8_channel -- "fp8-channel": E4M3 with one FP32 scale per row of an N x K matrix (per output channel
 * for weights, per token for activations: the dynamic per-token FP8 of vLLM / llm-compressor).
 * scale_n = amax(row n) / 448, code = e4m3(x / scale_n) (round-to-nearest-even, saturating), decoded
 * e4m3_value * scale_n. Layout: N*K codes row-major + scales float[N] (qtensor.scales). An all-zero row has
 * scale 0 and decodes to zeros; a row with NaN/Inf has scale NaN and decodes to NaN. */
#ifndef SRC_FORMATS_FP8_CHANNEL_H
#define SRC_FORMATS_FP8_CHANNEL_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantizes one row of K values into K codes and returns its scale (amax / 448). */
float fp8_channel_quantize_row_ref(const float *x, uint8_t *q, int64_t K);

/* Decodes one row: y[k] = e4m3_value(q[k]) * scale. */
void fp8_channel_dequantize_row_ref(const uint8_t *q, float scale, float *y, int64_t K);

/* Matrix form: w (N x K) -> q (N x K codes), scales (N floats); and back. */
void fp8_channel_quantize_ref(const float *w, int64_t N, int64_t K, uint8_t *q, float *scales);
void fp8_channel_dequantize_ref(const uint8_t *q, const float *scales, int64_t N, int64_t K, float *w);

/* The registry row of "fp8-channel" (qformat.h): codes uint8[N*K], scales float[N]. */
extern const struct qformat_ops fp8_channel_ops;

#ifdef __cplusplus
}
#endif
#endif
