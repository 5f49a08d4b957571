/* src/engine/qwen3_cuda.h -- the CUDA backend of the engine interface (engine.h), built as the shared library
 * build/lib/libql_cuda_engine.so that engine_create("cuda") dlopens; C programs never link it.
 * Accuracy path (this file's scope today): the whole Qwen3 / Qwen3-MoE forward in FP32 on the GPU, with the
 * CPU reference's numerics wherever a kernel can have them: RMSNorm, QK-norm, RoPE, SwiGLU, the activation
 * quantize-dequantize, the MoE router are bit-exact twins (kernels/*.cu); attention differs from attention_ref
 * by FP32 summation order only; every GEMM is cuBLAS SGEMM (CUBLAS_PEDANTIC_MATH: no TF32, no reduced
 * precision) on the FP32 view of the weights (linear.w, the exact dequantization of the packed qtensor), so a
 * quantized recipe is simulated exactly as on the CPU. KV cache on the device, F32 or BF16-rounded (as
 * kv_cache.h). Weights are uploaded once by init: a model changed after engine_create is not seen.
 * Not implemented (dies with one line): the Hadamard input transform, activation formats other than
 * act_quant_cuda's. A Linear's observe hook (calibration) is honoured by copying its input to the host. */
#ifndef SRC_ENGINE_QWEN3_CUDA_H
#define SRC_ENGINE_QWEN3_CUDA_H

#include "engine/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend table (name "cuda"); the one symbol engine.c looks up with dlsym. */
const struct engine_backend *qwen3_cuda_backend(void);

#ifdef __cplusplus
}
#endif
#endif
