/* nvfp4 -- see nvfp4.h. */
#include "formats/nvfp4.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e2m1.h"
#include "formats/ue4m3.h"

float nvfp4_global_scale(float amax) {
    if (!isfinite(amax)) return NAN;
    if (amax == 0.0f) return 1.0f;
    float g = (448.0f * 6.0f) / amax;
    return g > NVFP4_GLOBAL_MAX ? NVFP4_GLOBAL_MAX : g;
}

uint8_t nvfp4_block_scale(float amax_b, float global, enum nvfp4_rule rule) {
    /* amax_b / 6 maps the block maximum onto E2M1's 6; times g puts it in UE4M3's range (<= 448 because
     * amax_b <= amax). A NaN amax_b or global becomes the NaN scale code. */
    float v = (amax_b / 6.0f) * global;
    if (rule == NVFP4_RULE_CLAMP && !isnan(v)) {
        if (amax_b == 0.0f) return ue4m3_from_float(1.0f);
        /* 2^-9: the clamp's lower bound, exactly the smallest UE4M3 subnormal (code 0x01). */
        if (v < 0x1p-9f) v = 0x1p-9f;
    }
    return ue4m3_from_float(v);
}

void nvfp4_quantize_row_ref(const float *x, struct nvfp4_block *y, int64_t K, float global) {
    nvfp4_quantize_row_rule_ref(x, y, K, global, NVFP4_RULE_FLUSH);
}

void nvfp4_quantize_row_rule_ref(const float *x, struct nvfp4_block *y, int64_t K, float global,
                                 enum nvfp4_rule rule) {
    CHECK(K % NVFP4_BLOCK_SIZE == 0, "nvfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP4_BLOCK_SIZE; b++) {
        const float *xb = x + b * NVFP4_BLOCK_SIZE;
        uint8_t s = nvfp4_block_scale(amax_ref(xb, NVFP4_BLOCK_SIZE), global, rule);
        float d = ue4m3_to_float(s);
        y[b].s = s;
        /* d / g is the scale actually applied; !(d > 0) is the zero or NaN scale: store zero codes. */
        float rs = d > 0.0f ? 1.0f / (d / global) : 0.0f;
        for (int i = 0; i < NVFP4_BLOCK_SIZE / 2; i++) {
            uint8_t lo = d > 0.0f ? e2m1_from_float(xb[2 * i] * rs) : 0;
            uint8_t hi = d > 0.0f ? e2m1_from_float(xb[2 * i + 1] * rs) : 0;
            y[b].qs[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void nvfp4_dequantize_row_ref(const struct nvfp4_block *x, float *y, int64_t K, float global) {
    CHECK(K % NVFP4_BLOCK_SIZE == 0, "nvfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP4_BLOCK_SIZE; b++) {
        float d = ue4m3_to_float(x[b].s);
        float *yb = y + b * NVFP4_BLOCK_SIZE;
        /* e2m1 (2 significant bits) times ue4m3 (4 bits) is exact in FP32; the division rounds once. */
        for (int i = 0; i < NVFP4_BLOCK_SIZE / 2; i++) {
            yb[2 * i] = (e2m1_to_float(x[b].qs[i] & 0xF) * d) / global;
            yb[2 * i + 1] = (e2m1_to_float(x[b].qs[i] >> 4) * d) / global;
        }
    }
}

// ---- registry row ----

static void nvfp4_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                         size_t *zeros) {
    (void)p;
    *data = sizeof(struct nvfp4_block) * ((size_t)N * (size_t)K / NVFP4_BLOCK_SIZE);
    *scales = *zeros = 0;
}

/* g from the tensor amax (static or the data's, never shrunk), then the block scales of [k0, k1) from the
 * block amax times p, as nvfp4_quantize_row_ref computes them. */
static void nvfp4_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    qformat_check_cols(q, k0, k1, NVFP4_BLOCK_SIZE);
    if (qformat_global_due(q, k0, k1)) {
        q->global_scale = nvfp4_global_scale(qformat_tensor_amax(q, w));
        q->global_set = 1;
    }
    int64_t nb = q->K / NVFP4_BLOCK_SIZE;
    struct nvfp4_block *y = (struct nvfp4_block *)q->data;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t b = k0 / NVFP4_BLOCK_SIZE; b < k1 / NVFP4_BLOCK_SIZE; b++) {
            float amax_b = amax_ref(w + n * q->K + b * NVFP4_BLOCK_SIZE, NVFP4_BLOCK_SIZE) * p;
            y[n * nb + b].s = nvfp4_block_scale(amax_b, q->global_scale, q->params.nvfp4_rule);
        }
}

static void nvfp4_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    nvfp4_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t nvfp4_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / NVFP4_BLOCK_SIZE) + k / NVFP4_BLOCK_SIZE;
}

static void nvfp4_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    CHECK(q->global_set, "nvfp4: quantize_col before the per-tensor scale was chosen");
    struct nvfp4_block *y = (struct nvfp4_block *)q->data;
    float g = q->global_scale;
    int64_t i = k % NVFP4_BLOCK_SIZE;
    int sh = (int)(i & 1) * 4;
    for (int64_t n = 0; n < q->N; n++) {
        struct nvfp4_block *blk = &y[nvfp4_domain_at(q, n, k)];
        /* The expressions of nvfp4_quantize_row_ref / nvfp4_dequantize_row_ref, for one element. */
        float d = ue4m3_to_float(blk->s);
        float rs = d > 0.0f ? 1.0f / (d / g) : 0.0f;
        uint8_t c = d > 0.0f ? e2m1_from_float(col[n * cs] * rs) : 0;
        blk->qs[i / 2] = (uint8_t)((blk->qs[i / 2] & ~(0xF << sh)) | (c << sh));
        if (deq) deq[n * ds] = (e2m1_to_float(c) * d) / g;
    }
}

static void nvfp4_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    int64_t K = q->K;
    q->global_scale = nvfp4_global_scale(qformat_tensor_amax(q, w));
    q->global_set = 1;
    for (int64_t n = 0; n < q->N; n++)
        nvfp4_quantize_row_rule_ref(w + n * K, (struct nvfp4_block *)q->data + n * (K / NVFP4_BLOCK_SIZE), K,
                                    q->global_scale, q->params.nvfp4_rule);
}

static void nvfp4_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        nvfp4_dequantize_row_ref((const struct nvfp4_block *)q->data + n * (K / NVFP4_BLOCK_SIZE), w + n * K, K,
                                 q->global_scale);
}

/* d / g: the decode computes (code * d) / g, one rounding fewer than code * (d / g). */
static float nvfp4_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return ue4m3_to_float(((const struct nvfp4_block *)q->data)[nvfp4_domain_at(q, n, k)].s) / q->global_scale;
}
static float nvfp4_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float nvfp4_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    const struct nvfp4_block *blk = &((const struct nvfp4_block *)q->data)[nvfp4_domain_at(q, n, k)];
    int64_t i = k % NVFP4_BLOCK_SIZE;
    return e2m1_to_float((uint8_t)((blk->qs[i / 2] >> ((i & 1) * 4)) & 0xF));
}
static int64_t nvfp4_n_domains(const struct qtensor *q) { return q->N * (q->K / NVFP4_BLOCK_SIZE); }
static void nvfp4_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    ((struct nvfp4_block *)dst->data)[d].s = ((const struct nvfp4_block *)src->data)[d].s;
}

static void nvfp4_resolve(struct qparams *p) {
    enum nvfp4_rule rule = p->nvfp4_rule;
    qformat_clear_options(p);
    p->nvfp4_rule = rule;
}

static int nvfp4_parse(const char *name, struct qparams *p) {
    if (strcmp(name, "nvfp4-clamp") != 0) return 0;
    p->nvfp4_rule = NVFP4_RULE_CLAMP;
    return 1;
}

static void nvfp4_label(const struct qparams *p, char *buf, size_t n) {
    snprintf(buf, n, "%s", p->nvfp4_rule == NVFP4_RULE_CLAMP ? "nvfp4-clamp" : "nvfp4");
}

static const char *const nvfp4_variants[] = {"nvfp4-clamp", NULL};

const struct qformat_ops nvfp4_ops = {
    .name = "nvfp4", .block_k = NVFP4_BLOCK_SIZE, .bits = 4.0 + 8.0 / 16.0, .has_global = 1,
    .desc = "E2M1, UE4M3 scale per 16, FP32 tensor scale", .layout = nvfp4_layout, .choose_scales = nvfp4_choose,
    .quantize_col = nvfp4_col, .quantize = nvfp4_quantize, .dequantize = nvfp4_dequantize,
    .scale_at = nvfp4_scale_at, .zero_at = nvfp4_zero_at, .code_at = nvfp4_code_at, .has_mse = 1,
    .choose_scales_shrunk = nvfp4_shrunk, .n_domains = nvfp4_n_domains, .domain_at = nvfp4_domain_at,
    .copy_domain = nvfp4_copy_domain, .resolve = nvfp4_resolve, .parse = nvfp4_parse, .label = nvfp4_label,
    .variants = nvfp4_variants,
};
