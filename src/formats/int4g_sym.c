/* int4g_sym -- see int4g_sym.h. */
#include "formats/int4g_sym.h"

#include <math.h>
#include <stdio.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/bf16.h"
#include "formats/int4.h"

uint16_t int4g_sym_scale(float amax, enum int4_rule rule) {
    if (rule == INT4_RULE_AWQ) {
        /* AutoAWQ: max_val.clamp(min=1e-5) / max_int, max_int = 7; NaN stays NaN (fmaxf would drop it). */
        if (isnan(amax)) return bf16_from_float(NAN);
        return bf16_from_float(fmaxf(amax, 1e-5f) / (float)INT4_MAX);
    }
    /* amax / 7.5 maps +-amax onto +-7.5: the code range -8..7 centred; NaN stays NaN; 0 stays 0. */
    return bf16_from_float(amax / 7.5f);
}

void int4g_sym_quantize_row_ref(const float *x, uint8_t *q, uint16_t *scales, int64_t K, int G,
                                enum int4_rule rule) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-sym: K=%lld G=%d", (long long)K, G);
    /* Groups never straddle rows (K % G == 0), so nibble g*G+i of this row's q is element g*G+i. */
    for (int64_t g = 0; g < K / G; g++) {
        const float *xg = x + g * G;
        /* A NaN amax (non-finite group) stays NaN in BF16, so the group decodes to NaN. */
        scales[g] = int4g_sym_scale(amax_ref(xg, G), rule);
        /* Quantize with the scale as stored (decoded BF16), so that decode(q) uses the same number. */
        float s = bf16_to_float(scales[g]);
        for (int i = 0; i < G; i++) int4_set(q, g * G + i, s > 0.0f ? int4_from_float(xg[i] / s) : 0);
    }
}

void int4g_sym_dequantize_row_ref(const uint8_t *q, const uint16_t *scales, float *y, int64_t K, int G) {
    CHECK(G > 0 && G % 2 == 0 && K % G == 0, "int4-sym: K=%lld G=%d", (long long)K, G);
    /* A small integer times a BF16 value is exact in FP32. */
    for (int64_t k = 0; k < K; k++) y[k] = (float)int4_get(q, k) * bf16_to_float(scales[k / G]);
}

// ---- registry row ----

/* Shared by int4g_asym: nibbles[N*K], BF16 scales [N][K/G], zero-point nibbles [N*K/G] when asymmetric. */
static void int4g_sym_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                             size_t *zeros) {
    size_t nk = (size_t)N * (size_t)K;
    *data = nk / 2;
    *scales = sizeof(uint16_t) * (nk / (size_t)p->group_size);
    *zeros = 0;
}

static void int4g_sym_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    int64_t G = q->params.group_size, ng = q->K / G;
    qformat_check_cols(q, k0, k1, G);
    uint16_t *sc = (uint16_t *)q->scales;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t g = k0 / G; g < k1 / G; g++)
            sc[n * ng + g] = int4g_sym_scale(amax_ref(w + n * q->K + g * G, G) * p, q->params.int4_rule);
}

static void int4g_sym_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    int4g_sym_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t int4g_sym_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / q->params.group_size) + k / q->params.group_size;
}

static void int4g_sym_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    const uint16_t *sc = (const uint16_t *)q->scales;
    for (int64_t n = 0; n < q->N; n++) {
        float s = bf16_to_float(sc[int4g_sym_domain_at(q, n, k)]);
        int c = s > 0.0f ? int4_from_float(col[n * cs] / s) : 0;
        int4_set(q->data, n * q->K + k, c);
        if (deq) deq[n * ds] = (float)c * s;
    }
}

static void int4g_sym_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    int64_t K = q->K, G = q->params.group_size;
    for (int64_t n = 0; n < q->N; n++)
        int4g_sym_quantize_row_ref(w + n * K, q->data + n * K / 2, (uint16_t *)q->scales + n * (K / G), K, (int)G,
                                   q->params.int4_rule);
}

static void int4g_sym_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K, G = q->params.group_size;
    for (int64_t n = 0; n < q->N; n++)
        int4g_sym_dequantize_row_ref(q->data + n * K / 2, (const uint16_t *)q->scales + n * (K / G), w + n * K, K,
                                     (int)G);
}

static float int4g_sym_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return bf16_to_float(((const uint16_t *)q->scales)[int4g_sym_domain_at(q, n, k)]);
}
static float int4g_sym_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float int4g_sym_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return (float)int4_get(q->data, n * q->K + k);
}
static int64_t int4g_sym_n_domains(const struct qtensor *q) { return q->N * (q->K / q->params.group_size); }
static void int4g_sym_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((uint16_t *)dst->scales)[d] = ((const uint16_t *)src->scales)[d];
}

static void int4g_sym_resolve(struct qparams *p) {
    int G = p->group_size;
    enum int4_rule rule = p->int4_rule;
    qformat_clear_options(p);
    p->group_size = G ? G : 128;
    p->int4_rule = rule;
}

static int int4g_sym_parse(const char *name, struct qparams *p) {
    int G = int4_parse_group(name, "sym", ""), Ga = int4_parse_group(name, "sym", "-awq");
    if (!G && !Ga) return 0;
    p->group_size = G ? G : Ga;
    p->int4_rule = Ga ? INT4_RULE_AWQ : INT4_RULE_GPTQ;
    return 1;
}

static void int4g_sym_label(const struct qparams *p, char *buf, size_t n) {
    snprintf(buf, n, "int4-g%d-sym%s", p->group_size, p->int4_rule == INT4_RULE_AWQ ? "-awq" : "");
}

static const char *const int4g_sym_variants[] = {"int4-g128-sym-awq", NULL};

const struct qformat_ops int4g_sym_ops = {
    .name = "int4-g128-sym", .block_k = 0, .bits = 4.0 + 16.0 / 128.0, .has_global = 0,
    .desc = "INT4 -8..7, BF16 scale per group", .layout = int4g_sym_layout, .choose_scales = int4g_sym_choose,
    .quantize_col = int4g_sym_col, .quantize = int4g_sym_quantize, .dequantize = int4g_sym_dequantize,
    .scale_at = int4g_sym_scale_at, .zero_at = int4g_sym_zero_at, .code_at = int4g_sym_code_at, .has_mse = 1,
    .choose_scales_shrunk = int4g_sym_shrunk, .n_domains = int4g_sym_n_domains,
    .domain_at = int4g_sym_domain_at, .copy_domain = int4g_sym_copy_domain, .resolve = int4g_sym_resolve,
    .parse = int4g_sym_parse, .label = int4g_sym_label, .variants = int4g_sym_variants,
};
