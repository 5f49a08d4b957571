/* ckpt_modelopt -- NVIDIA ModelOpt's Hugging Face export (quant_method "modelopt", or hf_quant_config.json
 * {"quantization": {"quant_algo": "NVFP4" | "FP8", ...}}), as defined by NVIDIA/TensorRT-Model-Optimizer at
 * commit 5a4242faf4147fb0688bb73e10ca30b8ad3aabb3: modelopt/torch/quantization/qtensor/nvfp4_tensor.py.
 *   NVFP4: weight U8 [N, K/2] (packed = (q[..., 1::2] << 4) | q[..., 0::2]: element 2i in the low nibble),
 *     weight_scale F8_E4M3 [N, K/16], weight_scale_2 F32 [] = amax / (6 * 448) (it MULTIPLIES, where
 *     compressed-tensors' weight_global_scale divides), input_scale F32 [] = activation amax / (6 * 448)
 *     (W4A4: the static global of the NVFP4 activations). dequantize: W = e2m1 * (fp32(scale) * weight_scale_2).
 *   FP8: weight F8_E4M3 [N, K], weight_scale F32 [] (W = fp8 * scale), input_scale F32 [] = amax / 448 (static).
 * The packed nvfp4 tensor (g = 1 / weight_scale_2) is attached only when our decode (e2m1 * d) / g equals
 * ModelOpt's product bit for bit (weight_scale_2 a power of two, in practice); else the FP32 view only.
 * API: ckpt_modelopt_read_linear. */
#ifndef SRC_MODEL_CKPT_MODELOPT_H
#define SRC_MODEL_CKPT_MODELOPT_H

#include <stdint.h>

#include "model/ckpt_quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads module prefix (N x K) when the checkpoint stores it quantized (weight U8 or F8_E4M3), else 0. */
int ckpt_modelopt_read_linear(const struct ckpt_quant *q, const struct safetensors *st, const char *prefix,
                              int64_t N, int64_t K, struct linear *l);

#ifdef __cplusplus
}
#endif
#endif
