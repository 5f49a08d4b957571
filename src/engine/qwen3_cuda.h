/* src/engine/qwen3_cuda.h -- the CUDA backend of the engine interface (engine.h), built as the shared library
 * build/lib/libql_cuda_engine.so that engine_create("cuda") dlopens; C programs never link it.
 * Accuracy path (this file's scope today): the whole Qwen3 / Qwen3-MoE forward in FP32 on the GPU, with the
 * CPU reference's numerics wherever a kernel can have them: RMSNorm, QK-norm, RoPE, SwiGLU, the activation
 * quantize-dequantize, the MoE router are bit-exact twins (kernels/*.cu); attention differs from attention_ref
 * by FP32 summation order only; every GEMM is cuBLAS SGEMM (CUBLAS_PEDANTIC_MATH: no TF32, no reduced
 * precision) on the FP32 view of the weights (linear.w, the exact dequantization of the packed qtensor), so a
 * quantized recipe is simulated exactly as on the CPU. KV cache on the device, F32 or BF16-rounded (as
 * kv_cache.h). Weights are uploaded once by init: a model changed after engine_create is not seen.
 * Decode (issue 15 item 2): weight-only Linears with packed NVFP4 / MXFP4 / INT4 qtensors also keep
 * kernels/linear_w4a16's planes (each its own workspace), and calls of T <= 8 rows run that packed GEMV on x
 * rounded to FP16 (the W4A16 definition) instead of SGEMM on the FP32 view, when QL_CUDA_PACKED=1 (opt-in;
 * checked against the CPU engine on the H200: check_qwen3_serve check 5); engine_desc says when it is on.
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

/* ---- the serving path (e07-serving, issue 15) ----
 * A second way to run Qwen3 on the GPU, for speed: weights stay in the recipe's stored bits on the device
 * (kernels/serve_gemv.h: BF16, E4M3 + block / tensor / MX scales, E2M1 / INT4 nibbles + scales), made there from
 * a seeded random stream at any Qwen3 shape (or, BF16 only, uploaded from a loaded model: the check against the
 * CPU engine). Activations FP32 between kernels, rounded to FP16 / BF16 at every Linear input; prefill runs
 * cuBLAS BF16 GEMMs (tensor cores, FP32 accumulation) on weights dequantized to BF16 one Linear at a time, with
 * the accuracy path's norm / RoPE / SwiGLU / router kernels (kernels/*.cu); decode runs the packed GEMV for
 * 1 .. 32 sequences in lock step (same position), optionally replayed as one CUDA graph, in one of two variants:
 * 1 (default) fused kernels, 9 per dense layer (norm with the residual add / MoE combine and the 16-bit
 * rounding; qkv GEMV; q/k-norm + RoPE + cache store; attention; o GEMV; norm; gate|up GEMV with SwiGLU in its
 * epilogue; down GEMV), FP32 warp reductions, router top-k one warp per token, launched with programmatic
 * dependent launch so each kernel's weight loads overlap the previous kernel's end; 0 the prefill's op sequence
 * at T = B rows (the reference of variant 1 in the checks, and the "before" of the timing breakdown).
 * Attention is kernels/serve_attention.h (split-K decode in FP32; prefill by cuBLAS TF32 GEMMs: the accuracy
 * path's attention kernel is latency-bound at these sizes) on an FP32 KV cache; greedy argmax on the device
 * feeds the next step. Every call dies with one line on a bad argument. The bench (tests/check_qwen3_serve.cu)
 * dlsym's qwen3_cuda_serve_api. Diagnostic switches (environment, read once): QL_SERVE_PDL=0,
 * QL_SERVE_VARIANT=0, QL_SERVE_ATTN=2 (the first two-kernel attention), QL_SERVE_GEMV_STAGE=0,
 * QL_SERVE_GEMV_BIGU=0. */
struct qwen3_serve_stats {
    size_t weight_bytes;        /* every weight plane on the device (embeddings, lm_head, norms included) */
    size_t dense_read_bytes;    /* read once per decode step whatever the routing: all but the MoE experts */
    size_t expert_bytes;        /* one expert of one layer (gate + up + down), 0 for dense models */
    size_t kv_bytes_per_token;  /* the cache as stored (FP32 K and V, all layers) */
    size_t scratch_bytes;       /* activations, dequantization buffer, logits */
    int64_t n_layers;
};

struct qwen3_serve_api {
    /* fmt: enum serve_fmt. Room for max_batch sequences of cap positions each; prefill up to max_T tokens. */
    void *(*create_random)(const struct qwen3_config *cf, int fmt, int64_t max_batch, int64_t cap, int64_t max_T,
                           uint64_t seed, char *desc, size_t n);
    void *(*create_from_model)(const struct qwen3_model *m, int64_t max_batch, int64_t cap, int64_t max_T,
                               char *desc, size_t n);
    void (*free)(void *s);
    /* Sequence b from position 0: T host token ids; logits of the last position kept (device). Synchronous. */
    void (*prefill)(void *s, int64_t b, const int32_t *ids, int64_t T);
    /* Cache rows [0, len) of sequences 0 .. B-1 set to seeded random values (decode timing at a context). */
    void (*fill_kv)(void *s, int64_t B, int64_t len, uint64_t seed);
    /* Sets the next input token of sequences 0 .. B-1 (host ids). */
    void (*set_tokens)(void *s, int64_t B, const int32_t *ids);
    /* One decode step of sequences 0 .. B-1 at position pos (their next tokens in, argmax out); asynchronous;
     * graph = 1 replays a captured graph of this (B, pos), capturing it first when needed. */
    void (*decode)(void *s, int64_t B, int64_t pos, int graph);
    void (*sync)(void *s);
    /* The last logits (B x V, B rows of the last decode, or 1 row after prefill) and argmax tokens to host. */
    void (*logits)(void *s, int64_t B, float *logits, int32_t *next);
    void (*stats)(void *s, struct qwen3_serve_stats *st);
    /* After a decode of B sequences: distinct experts routed in layer (0 for dense layers). */
    int64_t (*moe_distinct)(void *s, int64_t B, int64_t layer);
    /* Decode variant: 1 (default) the fused kernels, 0 the first version (one kernel per op, the accuracy
     * path's norm / RoPE / SwiGLU / router kernels): kept as the reference of the fused one and for the
     * timing breakdown of both. */
    void (*set_variant)(void *s, int variant);
    /* The fused decode launches its kernels with programmatic dependent launch (sm_90: a kernel's CTAs start
     * while the preceding kernel finishes, load what does not depend on it, then wait) unless set_pdl(s, 0) or
     * QL_SERVE_PDL=0 at create. Profiled decodes run without it. */
    void (*set_pdl)(void *s, int on);
    /* Per-op timing: after profile_begin, every decode runs without the graph with a CUDA event before each
     * op (the gaps between kernels count to the op that follows); profile_end stops and gives microseconds
     * per step of each op class (names[i]), averaged over the decodes since profile_begin; returns the count. */
    void (*profile_begin)(void *s);
    int (*profile_end)(void *s, double *us_per_step, const char **names, int max);
};

/* The serving table (dlsym name "qwen3_cuda_serve_api"). */
const struct qwen3_serve_api *qwen3_cuda_serve_api(void);

#ifdef __cplusplus
}
#endif
#endif
