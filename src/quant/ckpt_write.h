/* ckpt_write -- a quantized model in memory written as a checkpoint folder that other tools load:
 *   compressed-tensors (vLLM, transformers): int4-gG-sym / -asym as pack-quantized (INT4 group, zero points
 *     packed along N), int8-channel as int-quantized, fp8-tensor / -channel / -block128 / -group128 as
 *     float-quantized, nvfp4 as nvfp4-pack-quantized (weight_global_scale = g, the divisor), mxfp4 (either
 *     scale rule: the stored E8M0 exponents are the same kind) as mxfp4-pack-quantized; activations: dynamic
 *     FP8 per token / group 128 / tensor, static FP8 per tensor (input_scale = amax / 448), dynamic INT8 per
 *     token, NVFP4 with a calibrated global (input_global_scale = 448 * 6 / amax);
 *   awq (AutoAWQ GEMM; vLLM awq / awq_marlin): int4 recipes, FP16 scales (sym as zero point 8);
 *   gptq (GPTQModel / vLLM gptq): int4 recipes, FP16 scales, g_idx = k / G; symmetric weights in the v1 format
 *     (stored zero 7: every tool reads it), asymmetric ones in v2 (checkpoint_format "gptq_v2", zeros as they
 *     are) because v1's zero - 1 cannot store a zero point of 0;
 *   ql: qcheckpoint.h, the project's own layout, kept for what the others cannot carry (dynamic per-tensor
 *     NVFP4 / MXFP4 / MXFP8 activations, mxfp8 and nvfp8-2l weights, e5m2, Hadamard transforms, unfolded AWQ
 *     input scales).
 * The byte layouts are those of model/ckpt_ct.h, ckpt_awq.h, ckpt_gptq.h (their packers). Everything that is not
 * a quantized Linear is written in BF16 when exact, else F32; config.json is the source's with the format's
 * quantization_config; tokenizer and generation files are copied. What a format cannot express (a scheme,
 * an activation mode, an FP16-overflowing scale, a shape) dies with one line naming the tensor.
 * API: ckpt_write_format_parse / ckpt_write_format_name / ckpt_write. */
#ifndef SRC_QUANT_CKPT_WRITE_H
#define SRC_QUANT_CKPT_WRITE_H

#include <stddef.h>

#include "model/qwen3.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ckpt_write_format {
    CKPT_WRITE_CT = 0,     /* "compressed-tensors" (the default of ql quantize) */
    CKPT_WRITE_AWQ,        /* "awq" */
    CKPT_WRITE_GPTQ,       /* "gptq" */
    CKPT_WRITE_QL          /* "ql" */
};

/* "compressed-tensors" | "awq" | "gptq" | "ql" -> the enum value, -1 if unknown. */
int ckpt_write_format_parse(const char *name);
const char *ckpt_write_format_name(enum ckpt_write_format f);

/* Writes m into the folder out_dir (created) in format f. r is the recipe that quantized m (required for
 * CKPT_WRITE_QL, recorded otherwise as "ql_recipe" in quantization_config; may be NULL). Returns the bytes of
 * model.safetensors. */
size_t ckpt_write(const struct qwen3_model *m, const struct recipe *r, enum ckpt_write_format f, const char *out_dir);

#ifdef __cplusplus
}
#endif
#endif
