/* nv2l -- see nv2l.h. */
#include "formats/nv2l.h"

#include <math.h>

#include "formats/amax.h"
#include "formats/ue4m3.h"

float nv2l_global_scale(float amax, float elem_max) {
    if (!isfinite(amax)) return NAN;
    if (amax == 0.0f) return 1.0f;
    /* 448 * 6 = 2688 and 448 * 448 = 200704 are exact in FP32: one rounding, in the division. */
    float g = (448.0f * elem_max) / amax;
    return g > NV2L_GLOBAL_MAX ? NV2L_GLOBAL_MAX : g;
}

uint8_t nv2l_block_scale(float amax_b, float global, float elem_max) {
    /* amax_b / E maps the block maximum onto the element maximum; times g puts it in UE4M3's range. A NaN
     * amax_b or global becomes the NaN scale code. */
    return ue4m3_from_float((amax_b / elem_max) * global);
}

float nv2l_inv_scale(float d, float global) { return d > 0.0f ? 1.0f / (d / global) : 0.0f; }

static uint8_t *scale_byte(const struct nv2l_scheme *s, const struct qtensor *q, int64_t block) {
    return q->data + (size_t)block * s->block_bytes;
}

void nv2l_set_global(const struct nv2l_scheme *s, struct qtensor *q, const float *w) {
    q->global_scale = nv2l_global_scale(qformat_tensor_amax(q, w), s->elem_max);
    q->global_set = 1;
}

void nv2l_choose_shrunk(const struct nv2l_scheme *s, struct qtensor *q, const float *w, int64_t k0, int64_t k1,
                        float p) {
    qformat_check_cols(q, k0, k1, NV2L_BLOCK_SIZE);
    if (qformat_global_due(q, k0, k1)) nv2l_set_global(s, q, w);
    int64_t nb = q->K / NV2L_BLOCK_SIZE;
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t b = k0 / NV2L_BLOCK_SIZE; b < k1 / NV2L_BLOCK_SIZE; b++) {
            float amax_b = amax_ref(w + n * q->K + b * NV2L_BLOCK_SIZE, NV2L_BLOCK_SIZE) * p;
            *scale_byte(s, q, n * nb + b) = s->block_scale ? s->block_scale(amax_b, q->global_scale, &q->params)
                                                           : nv2l_block_scale(amax_b, q->global_scale, s->elem_max);
        }
}

int64_t nv2l_domain_at(const struct qtensor *q, int64_t n, int64_t k) {
    return n * (q->K / NV2L_BLOCK_SIZE) + k / NV2L_BLOCK_SIZE;
}

int64_t nv2l_n_domains(const struct qtensor *q) { return q->N * (q->K / NV2L_BLOCK_SIZE); }

/* d / g: the decode computes (code * d) / g, one rounding fewer than code * (d / g). */
float nv2l_scale_at(const struct nv2l_scheme *s, const struct qtensor *q, int64_t n, int64_t k) {
    return ue4m3_to_float(*scale_byte(s, q, nv2l_domain_at(q, n, k))) / q->global_scale;
}

void nv2l_copy_domain(const struct nv2l_scheme *s, struct qtensor *dst, const struct qtensor *src, int64_t d) {
    *scale_byte(s, dst, d) = *scale_byte(s, src, d);
}
