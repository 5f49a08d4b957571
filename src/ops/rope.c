/* rope -- rotary position embedding (rotate half); see rope.h. */
#include "ops/rope.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"

/* inv_freq[i] = theta^(-2i/D_h) in FP32, the table every position reuses. */
void rope_inv_freq(float *inv_freq, int64_t D_h, double theta) {
    CHECK(D_h > 0 && D_h % 2 == 0, "head_dim %lld must be even", (long long)D_h);
    // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in FP32; the exponent 2i/D_h is exact in FP32 for
    // every head_dim in use, and pow in double then rounding matches torch's FP32 pow to within 1 ulp.
    for (int64_t i = 0; i < D_h / 2; i++) {
        float e = (float)(2 * i) / (float)D_h;
        float p = (float)pow(theta, (double)e);
        inv_freq[i] = 1.0f / p;
    }
}

/* Rotates each head of each row; cos and sin are computed once per row and shared by all H heads, the
 * same table HF builds per position. */
void rope_apply_ref(float *x, int64_t T, int64_t H, int64_t D_h, int64_t pos0, const float *inv_freq) {
    // x: T x H x D_h
    const int64_t half = D_h / 2;
    for (int64_t t = 0; t < T; t++) {
        float cs[512], sn[512];
        float *cbuf = half <= 512 ? cs : xmalloc((size_t)half * sizeof(float));
        float *sbuf = half <= 512 ? sn : xmalloc((size_t)half * sizeof(float));
        for (int64_t i = 0; i < half; i++) {
            // The angle is the FP32 product, as HF's inv_freq @ position_ids in FP32.
            float a = (float)(pos0 + t) * inv_freq[i];
            cbuf[i] = (float)cos((double)a);
            sbuf[i] = (float)sin((double)a);
        }
        for (int64_t h = 0; h < H; h++) {
            float *v = x + (t * H + h) * D_h;
            for (int64_t i = 0; i < half; i++) {
                float x1 = v[i], x2 = v[i + half];
                // Two rounded products and a rounded sum, as q * cos + rotate_half(q) * sin in torch.
                float p1 = x1 * cbuf[i], p2 = x2 * sbuf[i];
                float p3 = x2 * cbuf[i], p4 = x1 * sbuf[i];
                v[i] = p1 - p2;
                v[i + half] = p3 + p4;
            }
        }
        if (cbuf != cs) free(cbuf);
        if (sbuf != sn) free(sbuf);
    }
}
