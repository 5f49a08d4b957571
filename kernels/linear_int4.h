/* linear_int4 -- the packed W4A16 decode GEMV (kernels/linear_w4a16.h: layout, engine, contract) for
 * INT4 group-wise, sym (int4g_sym.h: codes -8..7, stored here as c + 8) and asym (int4g_asym.h: codes 0..15,
 * 4-bit zero point z), groups G = 32, 64, 128, BF16 scales s. A = c - z in FP16 (exact integers in -15..15:
 * the nibble ORed into 0x6400 reads 1024 + u, minus 1024 + z (z = 8 for sym); or, for the nibble 4 bits up,
 * 1024 + 16 u, times 1/16 minus 64 + z in one HFMA2), G / 16 chained MMAs per group,
 * then * s (the BF16 scale widened to FP32, exact) into the accumulator.
 * Twin: linear_forward (src/ops/linear.c) on the same qtensor, i.e. qtensor_dequantize(q) times x in FP32;
 * checked by tests/check_linear_w4a16.cu. */
#ifndef KERNELS_LINEAR_INT4_H
#define KERNELS_LINEAR_INT4_H

#include "linear_w4a16.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As linear_w4a16_cuda_cfg for a weight of this format (w->format checked: CHECK). */
void linear_int4_cuda(const struct linear_w4a16 *w, const uint16_t *x, float *y, int64_t M, void *workspace,
                       const struct linear_w4a16_cfg *cfg, void *stream);

#ifdef __cplusplus
}
#endif
#endif
