/* serve_gemv -- the weight storage of the serving path (src/engine/qwen3_cuda.cu, e07-serving) and its two
 * consumers: the packed decode GEMV y (M x N, FP32) = x (M x K) W^T for M = 1 .. 32 tokens reading the weights
 * in their stored bits, and the dequantization to BF16 that feeds cuBLAS in prefill; plus the seeded random
 * fill that creates such weights on the device (speed runs at real Qwen3 shapes use random weights).
 * Storage (row-major, N x K, row n, column k; K % 128 == 0, N % 16 == 0):
 *   bf16        codes: BF16 bits (2 B / weight)
 *   fp8         codes: E4M3 bytes; scales: FP32 per 128 x 128 block, (N/128) x (K/128)   (Qwen's FP8)
 *   nvfp8       codes: E4M3 bytes; one FP32 tensor scale (post)
 *   mxfp8       codes: E4M3 bytes; scales: E8M0 bytes, N x (K/32)                        (OCP MX v1.0)
 *   nvfp4       codes: E2M1 nibbles (low nibble = even k); scales: UE4M3 bytes N x (K/16); w = e2m1 * d / g,
 *               post = 1 / g                                                               (NVIDIA NVFP4)
 *   mxfp4       codes: E2M1 nibbles; scales: E8M0 bytes N x (K/32)
 *   int4        codes: uint4 nibbles q; scales: FP16 N x (K/128); w = (q - 8) * s            (GPTQ sym grid)
 *   int4-asym   codes: uint4 nibbles q; scales FP16, zeros uint8 N x (K/128); w = (q - z) * s (AWQ grid)
 * The values are the formats' definitions (src/formats); the layout is this file's (plain row-major planes, so
 * a 16-row tile is read with 16-byte loads). MX scales hold E8M0 exponents; the GEMV forms e2m1 / e4m3 times
 * 2^(e - e_ref) in FP16, exact when e - e_ref is in [-9, 7] (serve_w.e_ref: the tensor's largest exponent;
 * serve_gemv_cuda dies when a tensor's range is wider: serve_w.e_min records it).
 * GEMV numerics: tensor cores (mma.sync m16n8k16, FP32 accumulation) on FP16 operands (BF16 for bf16
 * weights): x is rounded to FP16 (BF16); A holds the weight codes times their block scale exactly where the
 * product is exact in FP16 (nvfp4, mxfp4, mxfp8, fp8 codes, int4 q - z), else the scale is applied in FP32 to
 * the step's partial sums (fp8 block scale, int4 group scale: a step of 64 / 128 k lies in one block of each
 * row). The FP32 twin is serve_w dequantized with the formulas above (tests/check_qwen3_serve.cu, host).
 * Work: one CTA of 8 warps per 16-row tile, the warps taking the K steps round-robin; each warp loads up to
 * U of its steps (codes and scales; U = 4, 2 for BF16: 4 KB per warp) before it computes any, so that enough
 * bytes are in flight to stream the weights at the copy bandwidth.
 * Deterministic: fixed warp split and reduction order; no atomics. */
#ifndef KERNELS_SERVE_GEMV_H
#define KERNELS_SERVE_GEMV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum serve_fmt {
    SERVE_BF16,
    SERVE_FP8_BLOCK,
    SERVE_FP8_TENSOR,
    SERVE_MXFP8,
    SERVE_NVFP4,
    SERVE_MXFP4,
    SERVE_INT4_SYM,
    SERVE_INT4_ASYM,
    SERVE_N_FMT
};

#define SERVE_GEMV_MAX_M 32

/* One weight tensor on the device (or `n_mat` stacked ones of N x K each: MoE experts, matrix e at row
 * e * N, its scale rows likewise). Pointers are device memory owned by whoever filled the struct. */
struct serve_w {
    int fmt;
    int64_t N, K, n_mat;
    void *codes;
    void *scales;
    uint8_t *zeros;
    float post;         /* applied to every FP32 result: 1 / g (nvfp4), the tensor scale (nvfp8), else 1 */
    int e_ref, e_min;   /* MX: largest / smallest E8M0 exponent of the tensor */
};

/* Bytes of the codes, scales and zeros planes of fmt for n_mat matrices of N x K. */
void serve_w_bytes(int fmt, int64_t N, int64_t K, int64_t n_mat, size_t *codes, size_t *scales, size_t *zeros);

/* Allocates w's planes (cudaMalloc) and fills them from counter-based random stream (seed, id) so that the
 * dequantized weights have root-mean-square about rms and no element pattern is constant (never zeros: every
 * code plane is random bits, every scale random within a factor 2..8 range). Synchronous. */
void serve_w_random(struct serve_w *w, int fmt, int64_t N, int64_t K, int64_t n_mat, float rms, uint64_t seed,
                    uint64_t id);
void serve_w_free(struct serve_w *w);

/* Output segments of the GEMV: row n of W goes to seg s with n0[s] <= n < n0[s+1] (n0[0] = 0, n0[n_seg] = N),
 * written as y[s][m * ld[s] + n - n0[s]] (ld[s] = n0[s+1] - n0[s]): q / k / v or gate / up of one fused
 * tensor land in separate arrays.
 * GLU mode (glu16 != NULL; segments unused): W is a fused gate | up tensor (rows 0 .. F-1 gate, F .. 2F-1 up,
 * F = N / 2, F % 8 == 0), and the GEMV writes h[m * F + n] = silu(g) * u (silu(g) = g / (1 + e^-g), FP32 with
 * the fast exponential) rounded to FP16 (glu_half) or BF16: the SwiGLU and the next Linear's input rounding
 * fused into the epilogue (a CTA takes gate rows 8 i .. 8 i + 7 and the matching up rows, so both sums of an
 * element end in one thread). */
struct serve_seg {
    int n_seg;
    int64_t n0[4];
    float *y[3];
    uint16_t *glu16;
    int glu_half;
};

/* Dense: y = x (M x K, FP16 bits, or BF16 for SERVE_BF16; 16-byte aligned rows) W^T, 1 <= M <= 32.
 * Paired (pair_mat != NULL, MoE): for p < n_pairs, row p of the output is x[p / x_div] times matrix
 * pair_mat[p] of the stack (M = 1 per pair); the segments' ld are as above, row p at p * ld. */
void serve_gemv_cuda(const struct serve_w *w, const uint16_t *x, int64_t M, const struct serve_seg *seg,
                     const int32_t *pair_mat, int64_t n_pairs, int64_t x_div, void *stream);

/* Launch the GEMVs with programmatic dependent launch (cudaLaunchAttributeProgrammaticStreamSerialization; sm_90)
 * while on != 0: a kernel waits (griddepcontrol.wait) for the preceding kernel's completion before it reads x
 * or the pairing, or writes anything, but loads its first weights before that wait. Off by default; the
 * serving engine's fused decode turns it on around its launches. */
void serve_gemv_set_pdl(int on);

/* out (n_rows x K BF16) = the BF16 rounding of rows [row0, row0 + n_rows) of w's stack (all matrices as one
 * tall matrix) dequantized in FP32 by the formulas above. */
void serve_dequant_bf16_cuda(const struct serve_w *w, int64_t row0, int64_t n_rows, uint16_t *out, void *stream);

/* y (n floats) -> FP16 (half = 1) or BF16 (half = 0) bits, round to nearest even. */
void serve_to_16_cuda(uint16_t *y, const float *x, int64_t n, int half, void *stream);

#ifdef __cplusplus
}
#endif
#endif
