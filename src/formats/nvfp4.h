/* nvfp4 -- "nvfp4": NVIDIA NVFP4 (ModelOpt, llm-compressor, TensorRT-LLM): E2M1 in blocks of 16 along K,
 * a UE4M3 scale per block, an FP32 global g per tensor (qtensor.global_scale; checkpoints store 1/g).
 *   g = 448*6 / amax (1 if amax is 0, capped at 2^64)     s = ue4m3((amax_b / 6) * g), d = value(s)
 *   q = e2m1(x * (1 / (d / g)))  (FP32 ops in this order, then RNE to E2M1)     y = (e2m1(q) * d) / g
 * Layout: struct nvfp4_block {UE4M3 scale, 8 bytes}, element 2i in the low nibble of qs[i]. NaN/Inf in a
 * block gives scale 0x7F and the block decodes to NaN; a non-finite tensor amax makes g NaN.
 * Block-scale rule (qparams.nvfp4_rule), the one choice where the references differ:
 *   NVFP4_RULE_FLUSH (default, "nvfp4"; TensorRT-LLM's quantize kernel and our CUDA twin): a block whose
 *     (amax_b / 6) * g rounds to 0 in UE4M3 (all-zero, or below 2^-10, i.e. amax_b < 2^-10 / 448 of the
 *     tensor amax) stores scale 0 and zero codes, and decodes to zeros;
 *   NVFP4_RULE_CLAMP ("nvfp4-clamp"; current ModelOpt, _cast_per_block_scale_to_fp8 in
 *     modelopt/torch/quantization/qtensor/nvfp4_tensor.py: clamp to [2^-9, 448], then cast): the scale is
 *     clamped up to 2^-9 (the smallest UE4M3 subnormal), so a tiny block keeps its values on a coarser grid
 *     instead of vanishing, and an all-zero block stores scale 1.0 (code 0x38, ModelOpt's
 *     per_block_scale[per_block_scale == 0] = 1.0) with zero codes. A NaN block scale stays NaN.
 * We keep FLUSH as the default (the deployed kernels, and the CUDA twin's bit-exact check); e01 measures both. */
#ifndef SRC_FORMATS_NVFP4_H
#define SRC_FORMATS_NVFP4_H

#include <stdint.h>

#include "formats/nv2l.h"
#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NVFP4_BLOCK_SIZE NV2L_BLOCK_SIZE   /* 16 */
#define NVFP4_GLOBAL_MAX NV2L_GLOBAL_MAX     /* 2^64 */

struct nvfp4_block {
    uint8_t s;                          /* UE4M3 block scale (encoded with the global scale folded in) */
    uint8_t qs[NVFP4_BLOCK_SIZE / 2];   /* E2M1 codes, even element in the low nibble */
};
#ifdef __cplusplus
static_assert(sizeof(struct nvfp4_block) == 9, "nvfp4 block padding");
#else
_Static_assert(sizeof(struct nvfp4_block) == 9, "nvfp4 block padding");
#endif

/* The global scale g for a tensor with largest magnitude amax (see the header comment). */
float nvfp4_global_scale(float amax);

/* The UE4M3 block scale code for a block with largest magnitude amax_b, given g and the rule. */
uint8_t nvfp4_block_scale(float amax_b, float global, enum nvfp4_rule rule);

/* Quantizes one row of K values (K % 16 == 0: CHECK) into K/16 blocks, given the tensor's global scale, with
 * the FLUSH rule (the twin of kernels/quantize_nvfp4.cu); and with either rule. */
void nvfp4_quantize_row_ref(const float *x, struct nvfp4_block *y, int64_t K, float global);
void nvfp4_quantize_row_rule_ref(const float *x, struct nvfp4_block *y, int64_t K, float global,
                                 enum nvfp4_rule rule);

/* Decodes K/16 blocks into K floats with the tensor's global scale. */
void nvfp4_dequantize_row_ref(const struct nvfp4_block *x, float *y, int64_t K, float global);

/* The registry row of "nvfp4" (qformat.h): data struct nvfp4_block[N][K/16], g in qtensor.global_scale. */
extern const struct qformat_ops nvfp4_ops;

#ifdef __cplusplus
}
#endif
#endif
