/* swiglu -- h = silu(g) * u on the GPU, the bit-exact twin of swiglu_ref (src/ops/swiglu.h): e = fastexp(-g)
 * (kernels/fastexp.cuh, the same bits as src/ops/fastexp.c), h = (g * (1 / (1 + e))) * u, each operation
 * explicitly rounded in the twin's order. g < -88.7 gives e = inf and h = -0 as on the CPU. Elementwise, one
 * thread per value, h may alias g or u. Checked by tests/check_swiglu.cu (which also sweeps fastexp). */
#ifndef KERNELS_SWIGLU_H
#define KERNELS_SWIGLU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* h, g, u: n device floats. */
void swiglu_cuda(float *h, const float *g, const float *u, int64_t n, void *stream);

/* y[i] = fastexp(x[i]) (the device twin of fastexp_array; used by the checks). */
void fastexp_cuda(float *y, const float *x, int64_t n, void *stream);

#ifdef __cplusplus
}
#endif
#endif
