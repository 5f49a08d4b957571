/* mxfp8 -- "mxfp8": OCP Microscaling v1.0 MXFP8 (section 6.3 with E4M3 elements, section 5.3.2):
 * blocks of 32 consecutive elements along K sharing one E8M0 scale X.
 * X = 2^(floor(log2 amax) - 8) (OCP rule, E4M3_EMAX = 8; E8M0_RULE_CEIL selects ModelOpt's rule), element
 * code = e4m3(x / X) with round-to-nearest-even and saturation to +-448 (the floor rule can push up to
 * 511.9 / X into the top binade), decoded e4m3_value * X (exact: X is a power of two). Layout: struct
 * mxfp8_block {E8M0 scale, 32 codes}, K/32 per row. Zero block: scale code 0 (2^-127), zero codes, exact
 * zeros. A block with NaN/Inf: scale 0xFF (NaN), zero codes, decodes to NaN (OCP: X = NaN). */
#ifndef SRC_FORMATS_MXFP8_H
#define SRC_FORMATS_MXFP8_H

#include <stdint.h>

#include "formats/qformat.h"

#include "formats/e8m0.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MXFP8_BLOCK_SIZE 32

struct mxfp8_block {
    uint8_t e;                      /* E8M0 scale */
    uint8_t qs[MXFP8_BLOCK_SIZE];   /* E4M3 codes, element i in qs[i] */
};
#ifdef __cplusplus
static_assert(sizeof(struct mxfp8_block) == 33, "mxfp8 block padding");
#else
_Static_assert(sizeof(struct mxfp8_block) == 33, "mxfp8 block padding");
#endif

/* Quantizes one row of K values (K % 32 == 0: CHECK) into K/32 blocks with the given scale rule. */
void mxfp8_quantize_row_ref(const float *x, struct mxfp8_block *y, int64_t K, enum e8m0_rule rule);

/* Decodes K/32 blocks into K floats. */
void mxfp8_dequantize_row_ref(const struct mxfp8_block *x, float *y, int64_t K);

/* The registry row of "mxfp8" (qformat.h): data struct mxfp8_block[N][K/32]; "mxfp8-ceil" is its label
 * with the ceil rule. */
extern const struct qformat_ops mxfp8_ops;

#ifdef __cplusplus
}
#endif
#endif
