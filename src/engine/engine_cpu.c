/* engine_cpu -- the CPU reference backend of the engine interface: qwen3_cpu_forward on an FP32 (or simulated
 * BF16) kv_cache. It adds nothing to the numerics: a result through the engine is bit-identical to calling
 * qwen3_cpu_forward directly (the e02 / e03 results did not change when the drivers moved onto the engine). */
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/qwen3_cpu.h"
#include "ops/cpu_exec.h"
#include "ops/linear.h"

static void *cpu_init(struct qwen3_model *m, char *desc, size_t n) {
    if (cpu_exec_get()->packed_decode) qwen3_cpu_pack_lm_head(m);  /* serving flag only (ops/cpu_exec.h) */
    snprintf(desc, n, "%s", linear_backend_desc());
    return m;
}

static void cpu_free(void *impl) { (void)impl; }

static void *cpu_kv_new(void *impl, int64_t cap, enum kv_cache_dtype dtype) {
    const struct qwen3_model *m = impl;
    struct kv_cache *kv = xcalloc(1, sizeof *kv);
    kv_cache_init(kv, m->cfg.n_layers, m->cfg.H_kv, m->cfg.D_h, cap, dtype);
    return kv;
}

static void cpu_kv_free(void *impl, void *p) {
    (void)impl;
    if (!p) return;
    kv_cache_free(p);
    free(p);
}

/* Layer by layer, the first len rows of k and v (rows are positions: kv_cache.h). */
static void cpu_kv_copy(void *impl, void *pdst, const void *psrc, int64_t len) {
    (void)impl;
    struct kv_cache *dst = pdst;
    const struct kv_cache *src = psrc;
    CHECK(dst->cap >= len && src->len >= len && dst->n_layers == src->n_layers, "kv copy shapes");
    const size_t row = (size_t)(src->H_kv * src->D_h) * sizeof(float);
    for (int64_t l = 0; l < src->n_layers; l++) {
        memcpy(kv_cache_k(dst, l), kv_cache_k(src, l), (size_t)len * row);
        memcpy(kv_cache_v(dst, l), kv_cache_v(src, l), (size_t)len * row);
    }
    dst->len = len;
}

static void cpu_forward(void *impl, void *pkv, const int32_t *ids, int64_t T, int64_t pos0, float *logits,
                        float *hidden, int last_only) {
    const struct qwen3_model *m = impl;
    struct kv_cache *kv = pkv;
    if (kv) kv->len = pos0;   /* the engine's sequence length is the truth; rows after it are stale */
    if (!last_only || !logits || T == 1) {
        qwen3_cpu_forward(m, ids, T, pos0, kv, logits, hidden);
        return;
    }
    // Only the last position's logits: keep the T x D hidden states, then one lm_head row (no T x V buffer).
    const int64_t D = m->cfg.D;
    float *h = hidden ? hidden : xmalloc((size_t)(T * D) * sizeof(float));
    qwen3_cpu_forward(m, ids, T, pos0, kv, NULL, h);
    qwen3_cpu_logits(m, h + (T - 1) * D, 1, logits);
    if (!hidden) free(h);
}

static const struct engine_backend g_cpu = {
    .name = "cpu",
    .init = cpu_init,
    .free = cpu_free,
    .kv_new = cpu_kv_new,
    .kv_free = cpu_kv_free,
    .kv_copy = cpu_kv_copy,
    .forward = cpu_forward,
};

const struct engine_backend *engine_cpu_backend(void) { return &g_cpu; }
