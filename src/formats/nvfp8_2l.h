/* nvfp8_2l -- "nvfp8-2l": the two-level "NV-style" FP8 ablation of DESIGN.md: NVFP4's scaling scheme with
 * E4M3 elements instead of E2M1. Blocks of 16 along K, one UE4M3 block scale each, one FP32 global per tensor:
 *   global g = 448*448 / amax_tensor (FP32; 1 when amax is 0; capped at 2^64)
 *   block  s = ue4m3((amax_b / 448) * g)          decoded d = ue4m3_value(s)
 *   element q = e4m3(x * (1 / (d / g)))           (round-to-nearest-even, saturating to +-448)
 *   decode  y = (e4m3_value(q) * d) / g           (the product of two 4-bit significands is exact)
 * Layout: struct nvfp8_2l_block {UE4M3 scale, 16 E4M3 codes}; qtensor.global_scale stores g. Zero or
 * underflowing block scale: zero codes, zeros; NaN/Inf in a block: scale 0x7F, the block decodes to NaN. */
#ifndef SRC_FORMATS_NVFP8_2L_H
#define SRC_FORMATS_NVFP8_2L_H

#include <stdint.h>

#include "formats/nv2l.h"
#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NVFP8_2L_BLOCK_SIZE NV2L_BLOCK_SIZE   /* 16 */
#define NVFP8_2L_GLOBAL_MAX NV2L_GLOBAL_MAX     /* 2^64 */

struct nvfp8_2l_block {
    uint8_t s;                          /* UE4M3 block scale */
    uint8_t qs[NVFP8_2L_BLOCK_SIZE];    /* E4M3 codes */
};
#ifdef __cplusplus
static_assert(sizeof(struct nvfp8_2l_block) == 17, "nvfp8-2l block padding");
#else
_Static_assert(sizeof(struct nvfp8_2l_block) == 17, "nvfp8-2l block padding");
#endif

/* The global scale g = 448*448 / amax (see the header comment). */
float nvfp8_2l_global_scale(float amax);

/* Quantizes one row of K values (K % 16 == 0: CHECK) into K/16 blocks, given the global scale. */
void nvfp8_2l_quantize_row_ref(const float *x, struct nvfp8_2l_block *y, int64_t K, float global);

/* Decodes K/16 blocks into K floats. */
void nvfp8_2l_dequantize_row_ref(const struct nvfp8_2l_block *x, float *y, int64_t K, float global);

/* The registry row of "nvfp8-2l" (qformat.h): data struct nvfp8_2l_block[N][K/16], g in global_scale. */
extern const struct qformat_ops nvfp8_2l_ops;

#ifdef __cplusplus
}
#endif
#endif
