/* nvfp8_2l -- see nvfp8_2l.h. */
#include "formats/nvfp8_2l.h"

#include <math.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"
#include "formats/nv2l.h"
#include "formats/ue4m3.h"

/* The two-level scheme (nv2l.h) with E4M3 elements. */
static const struct nv2l_scheme NVFP8_2L = {448.0f, sizeof(struct nvfp8_2l_block), NULL};

float nvfp8_2l_global_scale(float amax) { return nv2l_global_scale(amax, 448.0f); }

void nvfp8_2l_quantize_row_ref(const float *x, struct nvfp8_2l_block *y, int64_t K, float global) {
    CHECK(K % NVFP8_2L_BLOCK_SIZE == 0, "nvfp8-2l: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP8_2L_BLOCK_SIZE; b++) {
        const float *xb = x + b * NVFP8_2L_BLOCK_SIZE;
        /* As nvfp4 with E4M3's 448 in place of E2M1's 6: amax_b / 448 * g <= 448 since amax_b <= amax. */
        uint8_t s = nv2l_block_scale(amax_ref(xb, NVFP8_2L_BLOCK_SIZE), global, 448.0f);
        float d = ue4m3_to_float(s);
        y[b].s = s;
        /* The applied scale is d / g; its rounded inverse multiplies (the NVIDIA form). Zero or NaN scale:
         * zero codes, so no division by zero and no NaN reaching the element codec. */
        float rs = nv2l_inv_scale(d, global);
        for (int i = 0; i < NVFP8_2L_BLOCK_SIZE; i++) y[b].qs[i] = d > 0.0f ? e4m3_from_float(xb[i] * rs) : 0;
    }
}

void nvfp8_2l_dequantize_row_ref(const struct nvfp8_2l_block *x, float *y, int64_t K, float global) {
    CHECK(K % NVFP8_2L_BLOCK_SIZE == 0, "nvfp8-2l: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / NVFP8_2L_BLOCK_SIZE; b++) {
        float d = ue4m3_to_float(x[b].s);
        /* e4m3 * ue4m3: two 4-bit significands, an exact 8-bit product; the division rounds once. */
        for (int i = 0; i < NVFP8_2L_BLOCK_SIZE; i++)
            y[b * NVFP8_2L_BLOCK_SIZE + i] = (e4m3_to_float(x[b].qs[i]) * d) / global;
    }
}

// ---- registry row ----

static void nvfp8_2l_layout(const struct qparams *p, int64_t N, int64_t K, size_t *data, size_t *scales,
                            size_t *zeros) {
    (void)p;
    *data = sizeof(struct nvfp8_2l_block) * ((size_t)N * (size_t)K / NVFP8_2L_BLOCK_SIZE);
    *scales = *zeros = 0;
}

static void nvfp8_2l_shrunk(struct qtensor *q, const float *w, int64_t k0, int64_t k1, float p) {
    nv2l_choose_shrunk(&NVFP8_2L, q, w, k0, k1, p);
}

static void nvfp8_2l_choose(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    nvfp8_2l_shrunk(q, w, k0, k1, 1.0f);
}

static int64_t nvfp8_2l_domain_at(const struct qtensor *q, int64_t n, int64_t k) { return nv2l_domain_at(q, n, k); }

static void nvfp8_2l_col(struct qtensor *q, int64_t k, const float *col, int64_t cs, float *deq, int64_t ds) {
    CHECK(q->global_set, "nvfp8-2l: quantize_col before the per-tensor scale was chosen");
    struct nvfp8_2l_block *y = (struct nvfp8_2l_block *)q->data;
    float g = q->global_scale;
    for (int64_t n = 0; n < q->N; n++) {
        struct nvfp8_2l_block *blk = &y[nvfp8_2l_domain_at(q, n, k)];
        float d = ue4m3_to_float(blk->s);
        float rs = nv2l_inv_scale(d, g);
        uint8_t c = d > 0.0f ? e4m3_from_float(col[n * cs] * rs) : 0;
        blk->qs[k % NVFP8_2L_BLOCK_SIZE] = c;
        if (deq) deq[n * ds] = (e4m3_to_float(c) * d) / g;
    }
}

static void nvfp8_2l_quantize(struct qtensor *q, const float *w) {
    if (q->params.observer != QOBSERVER_MINMAX) {
        qtensor_quantize_generic(q, w);
        return;
    }
    int64_t K = q->K;
    nv2l_set_global(&NVFP8_2L, q, w);
    for (int64_t n = 0; n < q->N; n++)
        nvfp8_2l_quantize_row_ref(w + n * K, (struct nvfp8_2l_block *)q->data + n * (K / NVFP8_2L_BLOCK_SIZE), K,
                                  q->global_scale);
}

static void nvfp8_2l_dequantize(const struct qtensor *q, float *w) {
    int64_t K = q->K;
    for (int64_t n = 0; n < q->N; n++)
        nvfp8_2l_dequantize_row_ref((const struct nvfp8_2l_block *)q->data + n * (K / NVFP8_2L_BLOCK_SIZE),
                                    w + n * K, K, q->global_scale);
}

static float nvfp8_2l_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return nv2l_scale_at(&NVFP8_2L, q, n, k);
}
static float nvfp8_2l_zero_at(const struct qtensor *q, int64_t n, int64_t k) { (void)q, (void)n, (void)k; return 0.0f; }
static float nvfp8_2l_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return e4m3_to_float(((const struct nvfp8_2l_block *)q->data)[nvfp8_2l_domain_at(q, n, k)].qs[k % NVFP8_2L_BLOCK_SIZE]);
}
static int64_t nvfp8_2l_n_domains(const struct qtensor *q) { return nv2l_n_domains(q); }
static void nvfp8_2l_copy_domain(struct qtensor *dst, const struct qtensor *src, int64_t d) {
    nv2l_copy_domain(&NVFP8_2L, dst, src, d);
}

const struct qformat_ops nvfp8_2l_ops = {
    .name = "nvfp8-2l", .block_k = NVFP8_2L_BLOCK_SIZE, .bits = 8.0 + 8.0 / 16.0, .has_global = 1,
    .desc = "E4M3, UE4M3 scale per 16, FP32 tensor scale", .layout = nvfp8_2l_layout,
    .choose_scales = nvfp8_2l_choose, .quantize_col = nvfp8_2l_col, .quantize = nvfp8_2l_quantize,
    .dequantize = nvfp8_2l_dequantize, .scale_at = nvfp8_2l_scale_at, .zero_at = nvfp8_2l_zero_at,
    .code_at = nvfp8_2l_code_at, .has_mse = 1, .choose_scales_shrunk = nvfp8_2l_shrunk,
    .n_domains = nvfp8_2l_n_domains, .domain_at = nvfp8_2l_domain_at, .copy_domain = nvfp8_2l_copy_domain,
};
