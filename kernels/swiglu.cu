/* swiglu -- see swiglu.h. */
#include "swiglu.h"

#include "common.cuh"
#include "core/check.h"
#include "fastexp.cuh"

static __global__ void swiglu_kernel(float *h, const float *g, const float *u, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float gi = g[i], ui = u[i];
    const float e = dev_fastexp(-gi);
    h[i] = __fmul_rn(__fmul_rn(gi, __fdiv_rn(1.0f, __fadd_rn(1.0f, e))), ui);
}

static __global__ void fastexp_kernel(float *y, const float *x, int64_t n) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = dev_fastexp(x[i]);
}

extern "C" void swiglu_cuda(float *h, const float *g, const float *u, int64_t n, void *stream) {
    CHECK(n >= 0, "n=%lld", (long long)n);
    if (n == 0) return;
    swiglu_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(h, g, u, n);
    CUDA_CHECK_LAUNCH();
}

extern "C" void fastexp_cuda(float *y, const float *x, int64_t n, void *stream) {
    CHECK(n >= 0, "n=%lld", (long long)n);
    if (n == 0) return;
    fastexp_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(y, x, n);
    CUDA_CHECK_LAUNCH();
}
