/* int8_channel -- "int8-channel": symmetric INT8 with one FP32 scale per row (per output channel for
 * weights, per token for activations; the SmoothQuant / W8A8-INT8 grid). scale = amax(row) / 127 in FP32,
 * code = clamp(rint(x / scale), -128, 127) with ties to even (RTN gives -127..127), decoded code * scale.
 * Layout: N*K int8 codes row-major + scales float[N]. Zero row: scale 0, zero codes, exact zeros. A row
 * with NaN/Inf: scale NaN, zero codes, decodes to NaN. */
#ifndef SRC_FORMATS_INT8_CHANNEL_H
#define SRC_FORMATS_INT8_CHANNEL_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantizes one row of K values into K codes and returns its scale (amax / 127). */
float int8_channel_quantize_row_ref(const float *x, int8_t *q, int64_t K);

/* Decodes one row: y[k] = q[k] * scale. */
void int8_channel_dequantize_row_ref(const int8_t *q, float scale, float *y, int64_t K);

/* The registry row of "int8-channel" (qformat.h): codes int8[N*K], scales float[N]. */
extern const struct qformat_ops int8_channel_ops;

#ifdef __cplusplus
}
#endif
#endif
