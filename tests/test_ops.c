/* test_ops -- the CPU ops of the Qwen3 engine against naive double-precision loops: rmsnorm, rope, swiglu,
 * attention (GQA, causal, decode, chunked), linear (and its hooks), moe (routing and the expert mix), the KV
 * cache's BF16 rounding, the safetensors element codecs and sampling. Everything is small: runs in well under
 * a second on two cores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/kv_cache.h"
#include "model/safetensors.h"
#include "engine/sampling.h"
#include "ops/attention.h"
#include "formats/bf16.h"
#include "formats/f16.h"
#include "ops/act_quant.h"
#include "ops/hadamard.h"
#include "ops/linear.h"
#include "ops/moe.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/swiglu.h"
#include "test.h"

static struct rng R;

static void fill(float *x, int64_t n, double s) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)(s * rng_normal(&R));
}

static double max_abs_diff(const float *a, const double *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

// ---- rmsnorm ----
static void test_rmsnorm(void) {
    enum { ROWS = 5, N = 96 };
    float x[ROWS * N], w[N], y[ROWS * N];
    double ref[ROWS * N];
    fill(x, ROWS * N, 3.0);
    fill(w, N, 1.0);
    memset(x + 2 * N, 0, N * sizeof(float)); /* an all-zero row */
    rmsnorm_ref(y, x, w, ROWS, N, 1e-6f);
    for (int r = 0; r < ROWS; r++) {
        double ss = 0;
        for (int i = 0; i < N; i++) ss += (double)x[r * N + i] * x[r * N + i];
        double inv = 1.0 / sqrt(ss / N + 1e-6);
        for (int i = 0; i < N; i++) ref[r * N + i] = w[i] * x[r * N + i] * inv;
    }
    // FP32 output of an O(1) result: a few ulp of 1 (2^-23 ~ 1.2e-7) per element, here bounded by 1e-5.
    TEST(max_abs_diff(y, ref, ROWS * N) < 1e-5, "rmsnorm vs double (max %.2e)", max_abs_diff(y, ref, ROWS * N));
    int zero = 1;
    for (int i = 0; i < N; i++) zero &= y[2 * N + i] == 0.0f;
    TEST(zero, "rmsnorm all-zero row gives zeros");
    rmsnorm_ref(x, x, w, ROWS, N, 1e-6f);
    TEST(!memcmp(x, y, sizeof y), "rmsnorm in place equals out of place");
}

// ---- rope ----
static void test_rope(void) {
    enum { T = 6, H = 3, DH = 16 };
    float inv[DH / 2], x[T * H * DH], y[T * H * DH];
    rope_inv_freq(inv, DH, 10000.0);
    TEST(inv[0] == 1.0f && fabs(inv[1] - pow(10000.0, -2.0 / DH)) < 1e-7, "rope inv_freq");
    fill(x, T * H * DH, 1.0);
    memcpy(y, x, sizeof x);
    rope_apply_ref(y, T, H, DH, 7, inv);
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < DH / 2; i++) {
                const float *a = x + (t * H + h) * DH;
                const float *b = y + (t * H + h) * DH;
                double ang = (double)(float)((float)(7 + t) * inv[i]);
                double r0 = a[i] * cos(ang) - a[i + DH / 2] * sin(ang);
                double r1 = a[i + DH / 2] * cos(ang) + a[i] * sin(ang);
                worst = fmax(worst, fmax(fabs(b[i] - r0), fabs(b[i + DH / 2] - r1)));
            }
    TEST(worst < 1e-6, "rope rotate-half vs double (max %.2e)", worst);
    memcpy(y, x, sizeof x);
    rope_apply_ref(y, 1, H, DH, 0, inv);
    TEST(!memcmp(x, y, H * DH * sizeof(float)), "rope at position 0 is the identity");
    // Chunked application (positions 7.. as 7,8 then 9..) equals one call.
    float z[T * H * DH];
    memcpy(z, x, sizeof x);
    memcpy(y, x, sizeof x);
    rope_apply_ref(y, T, H, DH, 7, inv);
    rope_apply_ref(z, 2, H, DH, 7, inv);
    rope_apply_ref(z + 2 * H * DH, T - 2, H, DH, 9, inv);
    TEST(!memcmp(y, z, sizeof y), "rope in chunks equals one call");
}

// ---- swiglu ----
static void test_swiglu(void) {
    float g[5] = {0.0f, 1.0f, -1.0f, -200.0f, 200.0f}, u[5] = {2.0f, 2.0f, 2.0f, 3.0f, 0.5f}, h[5];
    swiglu_ref(h, g, u, 5);
    TEST(h[0] == 0.0f, "swiglu silu(0) = 0");
    TEST(fabs(h[1] - 2.0 / (1.0 + exp(-1.0))) < 1e-6 && fabs(h[2] + 2.0 / (1.0 + exp(1.0))) < 1e-6, "swiglu +-1");
    TEST(h[3] == 0.0f && h[4] == 100.0f, "swiglu saturates without NaN (%g, %g)", h[3], h[4]);
}

// ---- attention ----
static void naive_attention(double *out, const float *q, const float *k, const float *v, int64_t T, int64_t pos0,
                            int64_t H, int64_t Hkv, int64_t Dh) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t h = 0; h < H; h++) {
            int64_t g = h / (H / Hkv), n = pos0 + t + 1;
            double *s = malloc((size_t)n * sizeof(double)), mx = -1e300, sum = 0;
            for (int64_t j = 0; j < n; j++) {
                double d = 0;
                for (int64_t i = 0; i < Dh; i++) d += (double)q[(t * H + h) * Dh + i] * k[(j * Hkv + g) * Dh + i];
                s[j] = d / sqrt((double)Dh);
                mx = fmax(mx, s[j]);
            }
            for (int64_t j = 0; j < n; j++) sum += (s[j] = exp(s[j] - mx));
            for (int64_t i = 0; i < Dh; i++) {
                double o = 0;
                for (int64_t j = 0; j < n; j++) o += s[j] / sum * v[(j * Hkv + g) * Dh + i];
                out[(t * H + h) * Dh + i] = o;
            }
            free(s);
        }
}

static void test_attention(void) {
    enum { TMAX = 9, H = 4, HKV = 2, DH = 8 };
    const int64_t cases[][2] = {{1, 0}, {TMAX, 0}, {1, TMAX - 1}, {4, 5}};
    float q[TMAX * H * DH], k[TMAX * HKV * DH], v[TMAX * HKV * DH], out[TMAX * H * DH];
    double ref[TMAX * H * DH];
    fill(k, TMAX * HKV * DH, 1.0);
    fill(v, TMAX * HKV * DH, 1.0);
    for (int c = 0; c < 4; c++) {
        int64_t T = cases[c][0], pos0 = cases[c][1];
        fill(q, T * H * DH, 1.0);
        attention_ref(out, q, k, v, T, pos0, H, HKV, DH, HKV * DH);
        naive_attention(ref, q, k, v, T, pos0, H, HKV, DH);
        double e = max_abs_diff(out, ref, T * H * DH);
        // FP32 dot products of 8 and sums over <= 9 keys of O(1) values: errors ~1e-7, bound 1e-5.
        TEST(e < 1e-5, "attention GQA T=%lld pos0=%lld vs double (max %.2e)", (long long)T, (long long)pos0, e);
    }
    float a = attention_flops(2, 3, 1, 4);
    TEST(a == 4.0f * 4 * (4 + 5), "attention_flops counts the causal triangle");
}

// ---- linear ----
static int n_observed;
static void obs(void *ctx, const struct linear *l, const float *x, int64_t T) {
    (void)ctx, (void)l, (void)x;
    n_observed += (int)T;
}

static void test_linear(void) {
    enum { T = 3, K = 20, N = 7 };
    struct linear l;
    float *w = malloc(N * K * sizeof(float)), *b = malloc(N * sizeof(float));
    float x[T * K], y[T * N], x0[T * K];
    double ref[T * N];
    fill(w, N * K, 1.0);
    fill(b, N, 1.0);
    fill(x, T * K, 1.0);
    memcpy(x0, x, sizeof x);
    linear_init(&l, N, K, w, b, "f32");
    linear_forward(&l, x, y, T);
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            double s = b[n];
            for (int k = 0; k < K; k++) s += (double)x[t * K + k] * w[n * K + k];
            ref[t * N + n] = s;
        }
    TEST(max_abs_diff(y, ref, T * N) < 1e-5, "linear sgemm + bias vs double");
    TEST(linear_flops(&l, T) == 2.0 * T * N * K, "linear_flops");
    // A zero input-channel scale zeroes the input: only the bias is left; the caller's x is untouched.
    l.observe = obs;
    l.in_scale = calloc(K, sizeof(float));
    linear_forward(&l, x, y, T);
    int bias_only = 1;
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) bias_only &= y[t * N + n] == b[n];
    TEST(n_observed == T && bias_only, "linear: observe sees T rows, in_scale multiplies the input");
    TEST(!memcmp(x, x0, sizeof x), "linear in_scale works on a copy (input untouched)");
    // in_scale 2 doubles the product (bias still added once).
    for (int k = 0; k < K; k++) l.in_scale[k] = 2.0f;
    linear_forward(&l, x, y, T);
    double e = 0;
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) e = fmax(e, fabs(y[t * N + n] - (2 * (ref[t * N + n] - b[n]) + b[n])));
    TEST(e < 1e-5, "linear in_scale 2 doubles x W^T (bias added once; max %.2e)", e);
    free(l.in_scale);
    l.in_scale = NULL;
    // BF16 activations: the act spec rounds the input rows to BF16 before the GEMM.
    l.act = (struct linear_act){LINEAR_ACT_DYNAMIC, QFORMAT_BF16, qformat_resolve(QFORMAT_BF16, NULL)};
    float xb[T * K];
    for (int i = 0; i < T * K; i++) xb[i] = bf16_round(x[i]);
    float yb[T * N];
    linear_forward(&l, x, y, T);
    l.act.mode = LINEAR_ACT_NONE;
    linear_forward(&l, xb, yb, T);
    TEST(!memcmp(y, yb, sizeof y), "linear act spec (bf16, dynamic) equals rounding the input first");
    float *w2 = calloc(N * K, sizeof(float));
    linear_set_weights(&l, w2, "zero");
    linear_forward(&l, x, y, T);
    int zeros = 1;
    for (int i = 0; i < T * N; i++) zeros &= y[i] == b[i % N];
    TEST(zeros && !strcmp(l.format, "zero"), "linear_set_weights swaps the weights (zero weights: bias only)");
    linear_free(&l);
}

// ---- moe ----
static void test_moe(void) {
    float logits[2 * 4] = {0.0f, 1.0f, 2.0f, 2.0f, 5.0f, -1.0f, 0.0f, 0.0f};
    int32_t ids[4];
    float w[4];
    moe_route_ref(logits, 2, 4, 2, 1, ids, w);
    TEST(ids[0] == 2 && ids[1] == 3 && fabs(w[0] - 0.5) < 1e-7 && fabs(w[1] - 0.5) < 1e-7,
         "moe route: tie goes to the lower id, renormalised weights 0.5/0.5");
    double p0 = exp(5.0) / (exp(5.0) + exp(-1.0) + 2.0);
    TEST(ids[2] == 0 && ids[3] == 2 && fabs(w[2] - p0 / (p0 + 1.0 / (exp(5.0) + exp(-1.0) + 2.0))) < 1e-6,
         "moe route: top-2 of a skewed row");

    enum { T = 5, D = 12, E = 4, F = 6, TOPK = 2 };
    struct linear g[E], u[E], dn[E];
    float router[E * D], x[T * D], y[T * D];
    double ref[T * D];
    fill(router, E * D, 1.0);
    fill(x, T * D, 1.0);
    for (int e = 0; e < E; e++) {
        float *a = malloc(F * D * 4), *b = malloc(F * D * 4), *c = malloc(D * F * 4);
        fill(a, F * D, 0.3);
        fill(b, F * D, 0.3);
        fill(c, D * F, 0.3);
        linear_init(&g[e], F, D, a, NULL, "f32");
        linear_init(&u[e], F, D, b, NULL, "f32");
        linear_init(&dn[e], D, F, c, NULL, "f32");
    }
    int64_t counts[E] = {0};
    moe_forward_ref(y, x, T, D, router, E, TOPK, 1, g, u, dn, counts);
    // Naive: every expert on every token, weighted by the renormalised top-2 softmax.
    int64_t total = 0;
    for (int t = 0; t < T; t++) {
        double r[E], mx = -1e300, s = 0;
        for (int e = 0; e < E; e++) {
            r[e] = 0;
            for (int d = 0; d < D; d++) r[e] += (double)x[t * D + d] * router[e * D + d];
            mx = fmax(mx, r[e]);
        }
        for (int e = 0; e < E; e++) s += (r[e] = exp(r[e] - mx));
        int b1 = 0;
        for (int e = 1; e < E; e++) if (r[e] > r[b1]) b1 = e;
        int b2 = b1 == 0 ? 1 : 0;
        for (int e = 0; e < E; e++) if (e != b1 && r[e] > r[b2]) b2 = e;
        double wsum = r[b1] + r[b2];
        for (int d = 0; d < D; d++) ref[t * D + d] = 0;
        int sel[2] = {b1, b2};
        for (int i = 0; i < 2; i++) {
            int e = sel[i];
            double hh[F];
            for (int f = 0; f < F; f++) {
                double a = 0, b = 0;
                for (int d = 0; d < D; d++) {
                    a += (double)x[t * D + d] * g[e].w[f * D + d];
                    b += (double)x[t * D + d] * u[e].w[f * D + d];
                }
                hh[f] = a / (1 + exp(-a)) * b;
            }
            for (int d = 0; d < D; d++) {
                double o = 0;
                for (int f = 0; f < F; f++) o += hh[f] * dn[e].w[d * F + f];
                ref[t * D + d] += r[e] / wsum * o;
            }
        }
    }
    for (int e = 0; e < E; e++) total += counts[e];
    TEST(max_abs_diff(y, ref, T * D) < 1e-5, "moe forward vs naive double (max %.2e)", max_abs_diff(y, ref, T * D));
    TEST(total == T * TOPK, "moe expert counts sum to T * top_k");
    for (int e = 0; e < E; e++) {
        linear_free(&g[e]);
        linear_free(&u[e]);
        linear_free(&dn[e]);
    }
}

// ---- codecs ----
static void test_codecs(void) {
    TEST(kv_cache_round_bf16(1.0f) == 1.0f && kv_cache_round_bf16(1.00390625f) == 1.0f &&
             kv_cache_round_bf16(1.01171875f) == 1.015625f,
         "bf16 rounding: exact, tie to even down, tie to even up");
    TEST(isnan(kv_cache_round_bf16(NAN)) && isinf(kv_cache_round_bf16(3.4e38f)), "bf16 rounding: NaN kept, overflow to inf");
    TEST(f16_to_float(0x3c00) == 1.0f && f16_to_float(0x0001) == ldexpf(1, -24) &&
             f16_to_float(0x7bff) == 65504.0f && isinf(f16_to_float(0xfc00)) &&
             isnan(f16_to_float(0x7e00)) && signbit(f16_to_float(0x8000)),
         "f16 decode: one, subnormal, max, -inf, NaN, -0");
}

// ---- sampling ----
static void test_sampling(void) {
    struct sampling_params p = sampling_defaults();
    struct rng r;
    rng_init(&r, 1);
    float l[4] = {1.0f, 3.0f, 3.0f, 2.0f};
    TEST(sampling_sample(&p, l, 4, NULL, &r) == 1 && r.counter == 0, "greedy: arg-max, tie to lower id, no draw");
    uint8_t seen[4] = {0, 1, 0, 0};
    float l2[4] = {1.0f, 3.0f, 2.5f, 2.0f};
    p.presence_penalty = 1.0f;
    TEST(sampling_sample(&p, l2, 4, seen, &r) == 2, "presence penalty moves the arg-max");
    p = sampling_defaults();
    p.temperature = 1.0f;
    p.top_k = 1;
    float l3[4] = {1.0f, 3.0f, 2.0f, 2.9f};
    TEST(sampling_sample(&p, l3, 4, NULL, &r) == 1, "top-k 1 is greedy");
    p.top_k = 0;
    p.top_p = 1e-6f;
    float l4[4] = {1.0f, 3.0f, 2.0f, 2.9f};
    TEST(sampling_sample(&p, l4, 4, NULL, &r) == 1, "tiny top-p is greedy");
    // Frequencies of 3 tokens with probabilities 0.5, 0.3, 0.2 over 20000 draws: binomial sd <= 0.0036, so
    // 0.015 (4 sd) bounds a correct sampler's deviation with overwhelming probability; the seed makes it fixed.
    p = sampling_defaults();
    p.temperature = 1.0f;
    rng_init(&r, 42);
    int cnt[3] = {0};
    for (int i = 0; i < 20000; i++) {
        float lp[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
        cnt[sampling_sample(&p, lp, 3, NULL, &r)]++;
    }
    TEST(fabs(cnt[0] / 20000.0 - 0.5) < 0.015 && fabs(cnt[1] / 20000.0 - 0.3) < 0.015 &&
             fabs(cnt[2] / 20000.0 - 0.2) < 0.015, "sampling frequencies %d %d %d", cnt[0], cnt[1], cnt[2]);
    // top-p 0.75 keeps {0.5, 0.3}: token 2 never appears.
    p.top_p = 0.75f;
    int c2 = 0;
    for (int i = 0; i < 2000; i++) {
        float lp[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
        c2 += sampling_sample(&p, lp, 3, NULL, &r) == 2;
    }
    TEST(c2 == 0, "top-p 0.75 drops the 0.2 tail");
    struct rng a, b;
    rng_init(&a, 9);
    rng_init(&b, 9);
    int same = 1;
    for (int i = 0; i < 50; i++) {
        float la[8], lb[8];
        for (int j = 0; j < 8; j++) la[j] = lb[j] = (float)j * 0.1f;
        same &= sampling_sample(&p, la, 8, NULL, &a) == sampling_sample(&p, lb, 8, NULL, &b);
    }
    TEST(same, "sampling is deterministic for a seed");
}

// ---- hadamard ----
static void test_hadamard(void) {
    // Exact and invertible: H_B / sqrt(B) is orthogonal and symmetric, so applying it twice gives x back up to
    // FP32 rounding (2 log2 B roundings of sums of B terms of O(1): bound 1e-5), and x W^T == (x H)(W H)^T.
    enum { T = 3, K = 256 };
    static float x[T * K], y[T * K];
    for (int i = 0; i < T * K; i++) x[i] = (float)sin(0.37 * i) * (i % 13 == 0 ? 8.0f : 1.0f);
    memcpy(y, x, sizeof x);
    hadamard_rows_ref(y, T, K, 128);
    double e1 = 0, n0 = 0, n1 = 0;
    for (int i = 0; i < T * K; i++) n0 += (double)x[i] * x[i], n1 += (double)y[i] * y[i];
    hadamard_rows_ref(y, T, K, 128);
    for (int i = 0; i < T * K; i++) e1 = fmax(e1, fabs(y[i] - x[i]));
    TEST(e1 < 1e-5, "hadamard 128 is its own inverse (max %.2e)", e1);
    TEST(fabs(n1 - n0) < 1e-4 * n0, "hadamard preserves the norm (%.6g vs %.6g)", n1, n0);
    // H_2 on [1, 0] is [1, 1] / sqrt(2): the Sylvester sign convention.
    float h2[2] = {1, 0};
    hadamard_rows_ref(h2, 1, 2, 2);
    TEST(fabsf(h2[0] - 0.70710678f) < 1e-7 && fabsf(h2[1] - 0.70710678f) < 1e-7, "hadamard 2 of e0 = [1, 1]/sqrt 2");
}

int main(void) {
    rng_init(&R, 20250501);
    test_rmsnorm();
    test_rope();
    test_swiglu();
    test_attention();
    test_linear();
    test_hadamard();
    test_moe();
    test_codecs();
    test_sampling();
    return TEST_REPORT();
}
