/* int8_channel -- see int8_channel.h. */
#include "formats/int8_channel.h"

#include "formats/amax.h"
#include "formats/int8.h"

float int8_channel_quantize_row_ref(const float *x, int8_t *q, int64_t K) {
    /* Symmetric: amax maps to +-127, so RTN never produces -128 (kept as a valid code for decoding). */
    float scale = amax_ref(x, K) / (float)INT8_QMAX;
    for (int64_t k = 0; k < K; k++) q[k] = scale > 0.0f ? int8_from_float(x[k] / scale) : 0;
    return scale;
}

void int8_channel_dequantize_row_ref(const int8_t *q, float scale, float *y, int64_t K) {
    for (int64_t k = 0; k < K; k++) y[k] = (float)q[k] * scale;
}
