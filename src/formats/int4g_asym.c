/* int4g_asym -- see int4g_asym.h. */
#include "formats/int4g_asym.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/check.h"
#include "formats/bf16.h"
#include "formats/int4.h"

void int4g_asym_group_params(const float *x, int G, enum int4_rule rule, float p, uint16_t *scale, int *zero) {
    /* GPTQ rule: lo <= 0 <= hi by construction, the grid always contains 0 exactly (code z). AWQ rule: the
     * raw extremes. */
    float lo = rule == INT4_RULE_AWQ ? INFINITY : 0.0f, hi = rule == INT4_RULE_AWQ ? -INFINITY : 0.0f;
    int finite = 1;
    for (int i = 0; i < G; i++) {
        if (!isfinite(x[i])) finite = 0;
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    lo *= p;
    hi *= p;
    float range = hi - lo;
    if (rule == INT4_RULE_AWQ && finite) range = fmaxf(range, 1e-5f);
    /* 15 steps span [lo, hi]; the zero point is computed from the BF16 scale as stored, so that
     * quantization and decoding use the same number. */
    *scale = bf16_from_float(finite ? range / (float)INT4_UMAX : NAN);
    float s = bf16_to_float(*scale);
    /* !(s > 0): the all-zero group (or a NaN scale) stores zero point 0 and zero codes. */
    *zero = s > 0.0f ? int4_from_float_u(-lo / s) : 0;
}

void int4g_asym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, uint8_t *zeros, int64_t K,
                                 int G, enum int4_rule rule) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-asym: K=%lld G=%d", (long long)K, G);
    for (int64_t g = 0; g < K / G; g++) {
        const float *xg = x + g * G;
        int z;
        int4g_asym_group_params(xg, G, rule, 1.0f, &scales[g], &z);
        float s = bf16_to_float(scales[g]);
        zeros[g] = (uint8_t)z;
        for (int i = 0; i < G; i++)
            int4_set(q, g * G + i, s > 0.0f ? int4_from_float_u(rintf(xg[i] / s) + (float)z) : 0);
    }
}

void int4g_asym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, const uint8_t *zeros, float *y,
                                   int64_t K, int G) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-asym: K=%lld G=%d", (long long)K, G);
    /* (q - z) is an integer in -15..15; times a BF16 scale it is exact in FP32. */
    for (int64_t k = 0; k < K; k++)
        y[k] = (float)(int4_get_u(q, k) - zeros[k / G]) * bf16_to_float(scales[k / G]);
}

// ---- registry row ----

static void int4g_asym_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                              size_t *zeros) {
    size_t nk = (size_t)N * (size_t)K, ng = nk / (size_t)p->group_size;
    *data = nk / 2;
    *scales = sizeof(uint16_t) * ng;
    *zeros = (ng + 1) / 2;
}

/* The group's range [lo, hi] (0 inside it) times p, then s and z exactly as the row codec derives them. */
/* The group's range times p, then s and z exactly as the row codec derives them. */
static void int4g_asym_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    int64_t G = q->params.group_size, ng = q->K / G;
    qformat_check_cols(q, k0, k1, G);
    uint16_t *sc = (uint16_t *)q->scales;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t g = k0 / G; g < k1 / G; g++) {
            int z;
            int4g_asym_group_params(w + n * q->K + g * G, (int)G, q->params.int4_rule, p, &sc[n * ng + g], &z);
            int4_set(q->zeros, n * ng + g, z);
        }
}

static void int4g_asym_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    int4g_asym_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t int4g_asym_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / q->params.group_size) + k / q->params.group_size;
}

static void int4g_asym_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    const uint16_t *sc = (const uint16_t *)q->scales;
    for (int64_t n = 0; n < q->N; n++) {
        int64_t d = int4g_asym_domain_at(q, n, k);
        float s = bf16_to_float(sc[d]);
        int z = int4_get_u(q->zeros, d);
        int c = s > 0.0f ? int4_from_float_u(rintf(col[n * cs] / s) + (float)z) : 0;
        int4_set(q->data, n * q->K + k, c);
        if (deq) deq[n * ds] = (float)(c - z) * s;
    }
}

static void int4g_asym_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    /* The row codec writes one zero point per byte; the tensor stores them as nibbles. */
    int64_t K = q->K, G = q->params.group_size;
    uint8_t *z = xmalloc((size_t)(K / G));
    for (int64_t n = 0; n < q->N; n++) {
        int4g_asym_quantize_row_ref(w + n * K, q->data + n * K / 2, (uint16_t *)q->scales + n * (K / G), z, K,
                                    (int)G, q->params.int4_rule);
        for (int64_t g = 0; g < K / G; g++) int4_set(q->zeros, n * (K / G) + g, z[g]);
    }
    free(z);
}

static void int4g_asym_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K, G = q->params.group_size;
    uint8_t *z = xmalloc((size_t)(K / G));
    for (int64_t n = 0; n < q->N; n++) {
        for (int64_t g = 0; g < K / G; g++) z[g] = (uint8_t)int4_get_u(q->zeros, n * (K / G) + g);
        int4g_asym_dequantize_row_ref(q->data + n * K / 2, (const uint16_t *)q->scales + n * (K / G), z, w + n * K,
                                      K, (int)G);
    }
    free(z);
}

static float int4g_asym_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return bf16_to_float(((const uint16_t *)q->scales)[int4g_asym_domain_at(q, n, k)]);
}
static float int4g_asym_zero_at(const struct qtensor *q, int64_t n, int64_t k) {
    return (float)int4_get_u(q->zeros, int4g_asym_domain_at(q, n, k));
}
static float int4g_asym_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return (float)int4_get_u(q->data, n * q->K + k);
}
static int64_t int4g_asym_n_domains(const struct qtensor *q) { return q->N * (q->K / q->params.group_size); }
static void int4g_asym_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((uint16_t *)dst->scales)[d] = ((const uint16_t *)src->scales)[d];
    int4_set(dst->zeros, d, int4_get_u(src->zeros, d));
}

static void int4g_asym_resolve(struct qparams *p) {
    int G = p->group_size;
    enum int4_rule rule = p->int4_rule;
    qformat_clear_options(p);
    p->group_size = G ? G : 128;
    p->int4_rule = rule;
}

static int int4g_asym_parse(const char *name, struct qparams *p) {
    int G = int4_parse_group(name, "asym", ""), Ga = int4_parse_group(name, "asym", "-awq");
    if (!G && !Ga) return 0;
    p->group_size = G ? G : Ga;
    p->int4_rule = Ga ? INT4_RULE_AWQ : INT4_RULE_GPTQ;
    return 1;
}

static void int4g_asym_label(const struct qparams *p, char *buf, size_t n) {
    snprintf(buf, n, "int4-g%d-asym%s", p->group_size, p->int4_rule == INT4_RULE_AWQ ? "-awq" : "");
}

static const char *const int4g_asym_variants[] = {"int4-g128-asym-awq", NULL};

const struct qformat_ops int4g_asym_ops = {
    .name = "int4-g128-asym", .block_k = 0, .bits = 4.0 + 20.0 / 128.0, .has_global = 0,
    .desc = "UINT4, BF16 scale + 4-bit zero per group", .layout = int4g_asym_layout,
    .choose_scales = int4g_asym_choose, .quantize_col = int4g_asym_col, .quantize = int4g_asym_quantize,
    .dequantize = int4g_asym_dequantize, .scale_at = int4g_asym_scale_at, .zero_at = int4g_asym_zero_at,
    .code_at = int4g_asym_code_at, .has_mse = 1, .choose_scales_shrunk = int4g_asym_shrunk,
    .n_domains = int4g_asym_n_domains, .domain_at = int4g_asym_domain_at, .copy_domain = int4g_asym_copy_domain,
    .resolve = int4g_asym_resolve, .parse = int4g_asym_parse, .label = int4g_asym_label,
    .variants = int4g_asym_variants,
};
