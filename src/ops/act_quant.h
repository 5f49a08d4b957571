/* src/ops/act_quant.h -- activation quantize-dequantize at the input of a quantized Linear (W8A8 / W4A4
 * recipes), the op every backend implements the same way. x is T x K row-major (T tokens). The scheme's
 * scales are dynamic per row / group / block, or for per-tensor schemes either dynamic over the whole T x K
 * or static (params.amax > 0, calibrated). Result: exactly qformat_fake_quant_rows(format, x, T, K, params),
 * computed in row chunks in parallel (see act_quant.c for why that is bit-identical).
 * API: act_quant_rows. */
#ifndef SRC_OPS_ACT_QUANT_H
#define SRC_OPS_ACT_QUANT_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantize-dequantize x (T x K) in place in (format, params). Dies on a K the scheme cannot hold. */
void act_quant_rows(enum qformat format, const struct qparams *params, float *x, int64_t T, int64_t K);

#ifdef __cplusplus
}
#endif
#endif
