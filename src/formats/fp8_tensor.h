/* fp8_tensor -- FP8 with one FP32 scale per tensor: "fp8-tensor" (E4M3, NVIDIA ModelOpt / TensorRT-LLM
 * "FP8", the nvfp8 recipe) and "e5m2-tensor" (E5M2). scale = amax / elem_max (448 or 57344), computed in
 * FP32; element code = fp8(x / scale) with round-to-nearest-even and saturation (e4m3.h, e5m2.h), so a
 * static (calibrated) amax smaller than the data saturates outliers. Decoding: fp8_value * scale (one
 * rounding). Layout: N*K codes, row-major, plus the scale (qtensor.global_scale). Scale 0 (all-zero data)
 * gives zero codes and exact zeros; a NaN scale (non-finite data) gives zero codes decoding to NaN. The row
 * codecs here are shared by fp8_channel, fp8_block and fp8_group, which only choose the scale. */
#ifndef SRC_FORMATS_FP8_TENSOR_H
#define SRC_FORMATS_FP8_TENSOR_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The FP8 element type of a scheme with FP32 scales. */
enum fp8_tensor_elem {
    FP8_TENSOR_E4M3 = 0,
    FP8_TENSOR_E5M2 = 1
};

/* The largest finite value of the element type: 448 or 57344. */
float fp8_tensor_elem_max(enum fp8_tensor_elem elem);

/* scale = amax / elem_max in FP32; NaN amax gives NaN, 0 gives 0. */
float fp8_tensor_scale(float amax, enum fp8_tensor_elem elem);

/* Encodes n values with a given scale: q[i] = fp8(x[i] / scale). A scale that is 0 or NaN writes zero
 * codes (no division). */
void fp8_tensor_quantize_row_ref(const float *x, uint8_t *q, int64_t n, float scale,
                                 enum fp8_tensor_elem elem);

/* Decodes n codes: y[i] = fp8_value(q[i]) * scale. */
void fp8_tensor_dequantize_row_ref(const uint8_t *q, float *y, int64_t n, float scale,
                                   enum fp8_tensor_elem elem);

/* One element of the row codecs above: fp8(x / scale), or code 0 when !(scale > 0); and fp8_value(c) * scale.
 * The per-column paths of the FP8 schemes use these, so they round exactly as the row codecs do. */
uint8_t fp8_tensor_encode(float x, float scale, enum fp8_tensor_elem elem);
float fp8_tensor_decode(uint8_t c, float scale, enum fp8_tensor_elem elem);

/* Quantizes n values (a whole tensor, flattened) with one scale and returns that scale: from amax if
 * amax > 0 (static), else from the data's own amax (dynamic). */
float fp8_tensor_quantize_ref(const float *x, uint8_t *q, int64_t n, float amax,
                              enum fp8_tensor_elem elem);

/* The registry rows of "fp8-tensor" and "e5m2-tensor" (qformat.h): codes uint8[N*K], the scale in
 * qtensor.global_scale. */
extern const struct qformat_ops fp8_tensor_ops;
extern const struct qformat_ops e5m2_tensor_ops;

#ifdef __cplusplus
}
#endif
#endif
