/* src/ops/swiglu.h -- the SwiGLU gate of Qwen3's MLP: h = silu(g) * u, silu(g) = g * sigmoid(g)
 * = g / (1 + exp(-g)) (hidden_act "silu"). FP32, elementwise (fastexp, within 1 ulp like glibc expf; ops/fastexp.h);
 * large negative g gives -0 (exp overflows to inf, 1/inf = 0) and large positive g gives g: never NaN.
 * Single-threaded: it runs between OpenBLAS calls, whose threads would fight OpenMP's for the cores. */
#ifndef SRC_OPS_SWIGLU_H
#define SRC_OPS_SWIGLU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* h[i] = silu(g[i]) * u[i] for i < n. h may alias g or u. */
void swiglu_ref(float *h, const float *g, const float *u, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
