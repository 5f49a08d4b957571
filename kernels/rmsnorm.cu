/* rmsnorm -- see rmsnorm.h. */
#include "rmsnorm.h"

#include "common.cuh"
#include "core/check.h"

enum { RMSNORM_WARPS = 4 };

/* One warp per row (RMSNORM_WARPS rows per CTA). */
static __global__ void rmsnorm_kernel(float *y, const float *x, const float *w, int64_t n_rows, int64_t n,
                                      float eps) {
    // x, y: n_rows x n; w: n
    const int lane = threadIdx.x % 32;
    const int64_t r = (int64_t)blockIdx.x * RMSNORM_WARPS + threadIdx.x / 32;
    if (r >= n_rows) return;   /* whole warps leave together: r is uniform across the warp */
    const float *xr = x + r * n;
    float *yr = y + r * n;
    // Lane j < 4 sums x[i]^2 over i = j, j + 4, ... < 4 floor(n / 4) in the twin's order; lane 0 adds the tail.
    double s = 0.0;
    if (lane < 4) {
        const int64_t n4 = n / 4 * 4;
        for (int64_t i = lane; i < n4; i += 4) s += (double)xr[i] * (double)xr[i];
        if (lane == 0)
            for (int64_t i = n4; i < n; i++) s += (double)xr[i] * (double)xr[i];
    }
    const double s1 = __shfl_sync(0xFFFFFFFFu, s, 1), s2 = __shfl_sync(0xFFFFFFFFu, s, 2),
                 s3 = __shfl_sync(0xFFFFFFFFu, s, 3), s0 = __shfl_sync(0xFFFFFFFFu, s, 0);
    const double ss = __dadd_rn(__dadd_rn(s0, s1), __dadd_rn(s2, s3));
    const float mean = (float)__ddiv_rn(ss, (double)n);
    const float inv = (float)__ddiv_rn(1.0, __dsqrt_rn(__dadd_rn((double)mean, (double)eps)));
    for (int64_t i = lane; i < n; i += 32) yr[i] = __fmul_rn(w[i], __fmul_rn(xr[i], inv));
}

extern "C" void rmsnorm_cuda(float *y, const float *x, const float *w, int64_t n_rows, int64_t n, float eps,
                             void *stream) {
    CHECK(n > 0 && n_rows >= 0, "rmsnorm %lld x %lld", (long long)n_rows, (long long)n);
    if (n_rows == 0) return;
    rmsnorm_kernel<<<(unsigned)ceil_div(n_rows, RMSNORM_WARPS), 32 * RMSNORM_WARPS, 0, (cudaStream_t)stream>>>(
        y, x, w, n_rows, n, eps);
    CUDA_CHECK_LAUNCH();
}
