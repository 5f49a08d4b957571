/* src/ops/linear.h -- the one Linear interface of the engine: y = x W^T (+ b), FP32 compute.
 * Every projection inside a decoder block (q, k, v, o, gate, up, down, MoE experts) is a struct linear and
 * goes through linear_forward, so a quantized format plugs in by changing the struct, never the layer code:
 * overwrite `w` with the dequantized weights (simulated quantization), set `act_quant` to quantize-dequantize
 * the input rows (W8A8 / W4A4 recipes), or set `forward` to a packed kernel. Weights are N x K row-major
 * (the HF / safetensors layout). BF16 checkpoint values are exact in FP32, so a BF16 baseline computed here is
 * "BF16 weights, FP32 activations and accumulation": no rounding to BF16 happens unless a hook asks for it.
 * API: linear_init / linear_free / linear_forward / linear_set_weights / linear_flops. */
#ifndef SRC_OPS_LINEAR_H
#define SRC_OPS_LINEAR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct linear;

/* Quantize-dequantize x (T x K, row-major) in place; qstate is the linear's opaque format state. */
typedef void (*linear_act_quant_fn)(void *qstate, float *x, int64_t T, int64_t K);
/* A replacement kernel: y (T x N) = x (T x K) W^T, reading whatever the format keeps in l->qstate. */
typedef void (*linear_forward_fn)(const struct linear *l, const float *x, float *y, int64_t T);
/* An observer of the inputs (calibration: GPTQ Hessians, AWQ activation statistics); x is T x K, read only. */
typedef void (*linear_observe_fn)(void *ctx, const struct linear *l, const float *x, int64_t T);

struct linear {
    int64_t N, K;               /* output features, reduction dimension */
    float *w;                   /* N x K FP32 view used by the default path (owned, writable) */
    float *b;                   /* N bias or NULL (Qwen3 has none unless attention_bias) (owned) */
    const char *format;         /* name of the weight format now in w ("bf16", "f32", "fp8", a recipe) */
    void *qstate;               /* format state; freed by qstate_free when set */
    void (*qstate_free)(void *qstate);
    linear_act_quant_fn act_quant;   /* optional, see above */
    linear_forward_fn forward;       /* optional, replaces the sgemm path */
    linear_observe_fn observe;       /* optional, called with the raw input before act_quant */
    void *observe_ctx;
};

/* Sets up l as an N x K linear that owns w (malloc'd, N*K floats) and optionally b (N floats, or NULL).
 * format is a static string. All hooks start unset. */
void linear_init(struct linear *l, int64_t N, int64_t K, float *w, float *b, const char *format);

/* Frees w, b and the qstate (through qstate_free); leaves l zeroed. Safe on a zeroed struct. */
void linear_free(struct linear *l);

/* Replaces the weights by w (N x K, owned from now on) and records the format name; the old w is freed.
 * This is how simulated quantization plugs in: quantize, dequantize into a fresh buffer, set it here. */
void linear_set_weights(struct linear *l, float *w, const char *format);

/* y (T x N) = x (T x K) W^T + b. Calls observe(x), then act_quant on a private copy of x, then either the
 * format's forward or cblas_sgemm (FP32, OpenBLAS threads). T may be 1 (decode). x and y must not alias. */
void linear_forward(const struct linear *l, const float *x, float *y, int64_t T);

/* Describes the CPU compute backend for manifests: "cpu openblas <core> <n> threads". OpenBLAS picks its
 * kernels by CPU type and splits work by thread count, and both change the last bits of a GEMM (checked: 1 and
 * 2 threads give different logits). So accuracy results are bit-reproducible for one backend description,
 * and drivers put it in the manifest's device field: another CPU type or thread count is a cache miss, not a
 * silently different file. Returns a static string. */
const char *linear_backend_desc(void);

/* Multiply-add count times two for T rows: 2 T N K (the FLOP convention of GEMM benchmarks). */
double linear_flops(const struct linear *l, int64_t T);

#ifdef __cplusplus
}
#endif
#endif
