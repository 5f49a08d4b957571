/* mxfp4 -- "mxfp4" / "mxfp4-ceil": OCP Microscaling v1.0 MXFP4 (section 6.3 with E2M1 elements):
 * blocks of 32 consecutive elements along K sharing one E8M0 scale X.
 * X = 2^(floor(log2 amax) - 2) (OCP rule, E2M1_EMAX = 2) or, with E8M0_RULE_CEIL ("mxfp4-ceil", NVIDIA
 * ModelOpt), the smallest power of two with amax / X <= 6. Element code = e2m1(x / X), round-to-nearest-even
 * (ties to the even code, unlike ggml's best_index_mxfp4 which sends 0.75/1.75/3.5 down) and saturation to
 * +-6 (the floor rule maps up to 7.99 into the top code); decoded e2m1_value * X, exact. Layout: struct
 * mxfp4_block {E8M0 scale, 16 bytes}, element 2i in the low nibble of qs[i], 2i+1 in the high nibble.
 * Zero block: scale code 0, zero codes, exact zeros. NaN/Inf in a block: scale 0xFF, decodes to NaN. */
#ifndef SRC_FORMATS_MXFP4_H
#define SRC_FORMATS_MXFP4_H

#include <stdint.h>

#include "formats/qformat.h"

#include "formats/e8m0.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MXFP4_BLOCK_SIZE 32

struct mxfp4_block {
    uint8_t e;                          /* E8M0 scale */
    uint8_t qs[MXFP4_BLOCK_SIZE / 2];   /* E2M1 codes, two per byte, even element in the low nibble */
};
#ifdef __cplusplus
static_assert(sizeof(struct mxfp4_block) == 17, "mxfp4 block padding");
#else
_Static_assert(sizeof(struct mxfp4_block) == 17, "mxfp4 block padding");
#endif

/* Quantizes one row of K values (K % 32 == 0: CHECK) into K/32 blocks with the given scale rule. */
void mxfp4_quantize_row_ref(const float *x, struct mxfp4_block *y, int64_t K, enum e8m0_rule rule);

/* Decodes K/32 blocks into K floats. */
void mxfp4_dequantize_row_ref(const struct mxfp4_block *x, float *y, int64_t K);

/* The registry rows of "mxfp4" and "mxfp4-ceil" (qformat.h): data struct mxfp4_block[N][K/32]. */
extern const struct qformat_ops mxfp4_ops;
extern const struct qformat_ops mxfp4_ceil_ops;

#ifdef __cplusplus
}
#endif
#endif
