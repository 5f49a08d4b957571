/* src/ops/linear.h -- the one Linear of the engine, declarative: y = act(x * s_in) W^T (+ b), FP32 compute.
 * Every projection inside a decoder block (q, k, v, o, gate, up, down, MoE experts) is a struct linear and
 * goes through linear_forward. Its quantization state is data that any backend can read, never a callback:
 *   - packed: the weights in a scheme of src/formats (struct qtensor), with the scales the algorithm chose
 *     (RTN, GPTQ, AWQ); `w` then holds its exact dequantization, the FP32 view the CPU GEMM reads (simulated
 *     quantization: the format's exact numbers, computed in FP32);
 *   - act: how the input rows are quantize-dequantized before the GEMM (format, dynamic or static with a
 *     calibrated amax): ops/act_quant.h;
 *   - in_scale: an optional per-input-channel multiplier of x (AWQ's 1/s before it is folded into the
 *     producer), and transform: an optional online block Hadamard of x (x W^T = (x H)(W H)^T, so `w` and
 *     `packed` then hold W H).
 * Order on the CPU: observe(x) -> x * in_scale -> Hadamard -> act quantize-dequantize -> sgemm -> + b.
 * Weights are N x K row-major (the HF / safetensors layout). BF16 checkpoint values are exact in FP32, so a
 * BF16 baseline computed here is "BF16 weights, FP32 activations and accumulation".
 * The one callback kept is `observe` (calibration: activation ranges, GPTQ Hessians, AWQ statistics).
 * API: linear_init / linear_free / linear_forward / linear_set_weights / linear_set_packed / linear_flops. */
#ifndef SRC_OPS_LINEAR_H
#define SRC_OPS_LINEAR_H

#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

struct linear;

/* An observer of the inputs (calibration: GPTQ Hessians, AWQ activation statistics); x is T x K, read only,
 * exactly what the caller passed (before in_scale, transform and act). */
typedef void (*linear_observe_fn)(void *ctx, const struct linear *l, const float *x, int64_t T);

/* How the activations entering a quantized Linear are treated. */
enum linear_act_mode {
    LINEAR_ACT_NONE = 0,   /* weight-only (W*A16): activations stay FP32 in the engine */
    LINEAR_ACT_DYNAMIC,    /* scales computed from each call's T x K rows (per token / group / block / tensor) */
    LINEAR_ACT_STATIC      /* one calibrated per-tensor amax (params.amax > 0) */
};

struct linear_act {
    enum linear_act_mode mode;
    enum qformat format;       /* meaningful when mode != NONE */
    struct qparams params;     /* resolved; params.amax > 0 for a static per-tensor range */
};

/* Online transforms of the input (and, offline, of the weights). */
enum linear_transform {
    LINEAR_TRANSFORM_NONE = 0,
    LINEAR_TRANSFORM_HADAMARD      /* block Hadamard of size transform_block along K, scaled by 1/sqrt(block) */
};

struct linear {
    int64_t N, K;               /* output features, reduction dimension */
    float *w;                   /* N x K FP32 view used by the CPU path (owned, writable) */
    float *b;                   /* N bias or NULL (Qwen3 has none unless attention_bias) (owned) */
    const char *format;         /* name of the weight format now in w ("bf16", "f32", "fp8", a recipe) */
    struct qtensor *packed;     /* packed weights (owned) or NULL when w is the checkpoint's own values */
    struct linear_act act;      /* activation quantization */
    float *in_scale;            /* K multipliers of x, or NULL (owned) */
    enum linear_transform transform;
    int transform_block;        /* Hadamard block size (a power of two dividing K) */
    linear_observe_fn observe;  /* optional, see above */
    void *observe_ctx;
};

/* Sets up l as an N x K linear that owns w (malloc'd, N*K floats) and optionally b (N floats, or NULL).
 * format is a static string. Nothing quantized, no observer. */
void linear_init(struct linear *l, int64_t N, int64_t K, float *w, float *b, const char *format);

/* Frees w, b, packed and in_scale; leaves l zeroed. Safe on a zeroed struct. */
void linear_free(struct linear *l);

/* Replaces the weights by w (N x K, owned from now on) and records the format name; the old w is freed. */
void linear_set_weights(struct linear *l, float *w, const char *format);

/* Makes q (owned from now on; heap-allocated struct) the packed weights of l and its exact dequantization the
 * FP32 view: the one way an algorithm installs its result. q must be N x K. The old packed tensor is freed. */
void linear_set_packed(struct linear *l, struct qtensor *q, const char *format);

/* 1 when l carries any quantization state (packed weights, act, in_scale or transform). */
int linear_is_quantized(const struct linear *l);

/* y (T x N) = x (T x K) W^T + b, in the order of the header comment; x is never modified (the input-side
 * steps work on a private copy). T may be 1 (decode). x and y must not alias. The GEMM goes through
 * cpu_exec_gemm_nt (ops/cpu_exec.h: OpenBLAS's split or the engine's own); with packed_decode set, a decode
 * (T = 1) on packed weights that ops/qgemv.h supports reads them packed instead (within qgemv.h's bound). */
void linear_forward(const struct linear *l, const float *x, float *y, int64_t T);

/* Describes the CPU compute backend for manifests: "cpu openblas <core> <n> threads". OpenBLAS picks its
 * kernels by CPU type and splits work by thread count, and both may change the last bits of a GEMM, so this
 * is recorded as where a result was computed (the manifest's device field; not part of the cache key: see
 * core/manifest.h, and make verify for the tolerances between backends). Returns a static string. */
const char *linear_backend_desc(void);

/* Multiply-add count times two for T rows: 2 T N K (the FLOP convention of GEMM benchmarks). */
double linear_flops(const struct linear *l, int64_t T);

#ifdef __cplusplus
}
#endif
#endif
