/* nvfp4 -- see nvfp4.h. */
#include "formats/nvfp4.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e2m1.h"
#include "formats/nv2l.h"
#include "formats/ue4m3.h"

float nvfp4_global_scale(float amax) { return nv2l_global_scale(amax, 6.0f); }

uint8_t nvfp4_block_scale(float amax_b, float global, enum nvfp4_rule rule) {
    /* The FLUSH rule is the plain two-level scale (nv2l.h); CLAMP changes only tiny and all-zero blocks. */
    float v = (amax_b / 6.0f) * global;
    if (rule == NVFP4_RULE_CLAMP && !isnan(v)) {
        if (amax_b == 0.0f) return ue4m3_from_float(1.0f);
        /* 2^-9: the clamp's lower bound, exactly the smallest UE4M3 subnormal (code 0x01). */
        return ue4m3_from_float(v < 0x1p-9f ? 0x1p-9f : v);
    }
    return nv2l_block_scale(amax_b, global, 6.0f);
}

static uint8_t block_scale_p(float amax_b, float global, const struct qparams *p) {
    return nvfp4_block_scale(amax_b, global, p->nvfp4_rule);
}

/* The two-level scheme (nv2l.h) with E2M1 elements. */
static const struct nv2l_scheme NVFP4_2L = {6.0f, sizeof(struct nvfp4_block), block_scale_p};

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
        float rs = nv2l_inv_scale(d, global);
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

static void nvfp4_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    nv2l_choose_shrunk(&NVFP4_2L, q, w, k0, k1, p);
}

static void nvfp4_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    nvfp4_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t nvfp4_domain_at(const struct qtensor *q, int64_t n, int64_t k) { return nv2l_domain_at(q, n, k); }

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
        float rs = nv2l_inv_scale(d, g);
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
    nv2l_set_global(&NVFP4_2L, q, w);
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

static float nvfp4_scale_at(const struct qtensor *q, int64_t n, int64_t k) { return nv2l_scale_at(&NVFP4_2L, q, n, k); }
static float nvfp4_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float nvfp4_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    const struct nvfp4_block *blk = &((const struct nvfp4_block *)q->data)[nvfp4_domain_at(q, n, k)];
    int64_t i = k % NVFP4_BLOCK_SIZE;
    return e2m1_to_float((uint8_t)((blk->qs[i / 2] >> ((i & 1) * 4)) & 0xF));
}
static int64_t nvfp4_n_domains(const struct qtensor *q) { return nv2l_n_domains(q); }
static void nvfp4_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    nv2l_copy_domain(&NVFP4_2L, dst, src, d);
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
