/* qcheckpoint -- writes a quantized model as a checkpoint folder, from the model in memory (never by copying
 * the source checkpoint's tensors: AWQ folds scales into norms, and those must be written as they now are).
 * Layout of model.safetensors (the project's own "ql" layout; the formats of other tools: ckpt_write.h):
 *   every tensor of the Qwen3 checkpoint naming (qwen3.h) that is not a quantized Linear's weight, in BF16 when
 *   every value is exactly a BF16 number (a BF16 source round-trips bit for bit), else F32;
 *   for each quantized Linear <module>:
 *     <module>.weight_packed        U8 [data_bytes]    element codes / packed blocks (the scheme's layout)
 *     <module>.weight_scales        U8 [scales_bytes]  separate scales, when the scheme has them
 *     <module>.weight_zeros         U8 [zeros_bytes]   zero points, when the scheme has them
 *     <module>.weight_global_scale  F32 [1]            per-tensor scale, when the scheme has one
 *     <module>.input_amax           F32 [1]            static activation amax (static recipes only)
 *     <module>.input_channel_scale  F32 [K]            per-input-channel multiplier (unfolded AWQ), if any
 * config.json is the source's (read from the model's folder) with a "quantization_config" object: {"quant_method":
 * "ql", "algorithm", "recipe", "weight_format", "activation_format" (or null), "activation_scheme" ("dynamic",
 * "static" or "none"), "hadamard_block" (0 = none), "modules": {module: [N, K]}}; the tokenizer and generation
 * files are copied. API: qcheckpoint_write. */
#ifndef SRC_QUANT_QCHECKPOINT_H
#define SRC_QUANT_QCHECKPOINT_H

#include <stddef.h>

#include "model/qwen3.h"
#include "quant/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes m (quantized by r) into the folder out_dir (created) as the header says. Returns the bytes of
 * model.safetensors. */
size_t qcheckpoint_write(const struct qwen3_model *m, const struct recipe *r, const char *out_dir);

#ifdef __cplusplus
}
#endif
#endif
