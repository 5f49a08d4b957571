/* rmsnorm -- RMSNorm rows; see rmsnorm.h. */
#include "ops/rmsnorm.h"

#include <math.h>

/* Row-wise RMSNorm: sum of squares in double (four interleaved partial sums), inverse RMS rounded to FP32,
 * then y = w * (x * inv). y may alias x (the QK-norm runs in place). */
void rmsnorm_ref(float *y, const float *x, const float *w, int64_t n_rows, int64_t n, float eps) {
    // x, y: n_rows x n; w: n
    for (int64_t r = 0; r < n_rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        // Four partial sums in a fixed order (never dependent on threads): a single running double sum is
        // bound by the 4-cycle add latency, which made the per-head QK-norm rows cost as much as a Linear.
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        int64_t i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += (double)xr[i] * xr[i];
            s1 += (double)xr[i + 1] * xr[i + 1];
            s2 += (double)xr[i + 2] * xr[i + 2];
            s3 += (double)xr[i + 3] * xr[i + 3];
        }
        for (; i < n; i++) s0 += (double)xr[i] * xr[i];
        const double ss = (s0 + s1) + (s2 + s3);
        // HF computes variance and rsqrt in FP32; rounding the double mean to float first reproduces that
        // to the last ulp in practice and keeps the FP32 contract of the forward pass.
        float inv = (float)(1.0 / sqrt((double)(float)(ss / (double)n) + (double)eps));
        for (i = 0; i < n; i++) yr[i] = w[i] * (xr[i] * inv);
    }
}
