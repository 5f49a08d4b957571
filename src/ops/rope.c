/* rope -- rotary position embedding (rotate half); see rope.h. */
#include "ops/rope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

// ---- cos/sin table, cached per thread ----

/* cos and sin of pos * inv_freq[i] for positions 0 .. n_pos-1, grown on demand and kept per thread. The
 * double-precision cos and sin were 10% of a T = 256 prefill of the D 128 fixture when recomputed for q and k
 * of every layer; a position's row depends only on pos and inv_freq, so all layers and all later decode
 * steps share one table. The key is the inv_freq values themselves (not the pointer: a freed model's table
 * may be reused by a new one at the same address), and the values are bit-identical to recomputing them. */
static _Thread_local struct {
    float *inv_freq;    /* half: the frequencies the table was built for */
    float *cos, *sin;   /* n_pos x half */
    int64_t half, n_pos;
} rope_tab;

/* Makes sure the table holds inv_freq[half] and positions 0 .. n_pos-1. */
static void rope_table(const float *inv_freq, int64_t half, int64_t n_pos) {
    if (rope_tab.half != half || memcmp(rope_tab.inv_freq, inv_freq, (size_t)half * sizeof(float)) != 0) {
        free(rope_tab.inv_freq);
        free(rope_tab.cos);
        free(rope_tab.sin);
        memset(&rope_tab, 0, sizeof rope_tab);
        rope_tab.inv_freq = xmalloc((size_t)half * sizeof(float));
        memcpy(rope_tab.inv_freq, inv_freq, (size_t)half * sizeof(float));
        rope_tab.half = half;
    }
    if (n_pos <= rope_tab.n_pos) return;
    // Grow geometrically so token-by-token decode does not rebuild the table at every step.
    int64_t cap = rope_tab.n_pos * 2 > n_pos ? rope_tab.n_pos * 2 : n_pos;
    rope_tab.cos = xrealloc(rope_tab.cos, (size_t)(cap * half) * sizeof(float));
    rope_tab.sin = xrealloc(rope_tab.sin, (size_t)(cap * half) * sizeof(float));
    for (int64_t p = rope_tab.n_pos; p < cap; p++)
        for (int64_t i = 0; i < half; i++) {
            // The angle is the FP32 product, as HF's inv_freq @ position_ids in FP32.
            float a = (float)p * inv_freq[i];
            rope_tab.cos[p * half + i] = (float)cos((double)a);
            rope_tab.sin[p * half + i] = (float)sin((double)a);
        }
    rope_tab.n_pos = cap;
}

/* Rotates each head of each row with the cached cos/sin rows of its position, the same table HF builds per
 * position. */
void rope_apply_ref(float *x, int64_t T, int64_t H, int64_t D_h, int64_t pos0, const float *inv_freq) {
    // x: T x H x D_h; cos, sin rows: half = D_h / 2
    CHECK(pos0 >= 0 && D_h % 2 == 0, "pos0 %lld, D_h %lld", (long long)pos0, (long long)D_h);
    const int64_t half = D_h / 2;
    rope_table(inv_freq, half, pos0 + T);
    for (int64_t t = 0; t < T; t++) {
        const float *cs = rope_tab.cos + (pos0 + t) * half, *sn = rope_tab.sin + (pos0 + t) * half;
        for (int64_t h = 0; h < H; h++) {
            float *v = x + (t * H + h) * D_h;
            for (int64_t i = 0; i < half; i++) {
                float x1 = v[i], x2 = v[i + half];
                // Two rounded products and a rounded sum, as q * cos + rotate_half(q) * sin in torch.
                float p1 = x1 * cs[i], p2 = x2 * sn[i];
                float p3 = x2 * cs[i], p4 = x1 * sn[i];
                v[i] = p1 - p2;
                v[i + half] = p3 + p4;
            }
        }
    }
}
