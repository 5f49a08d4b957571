/* kv_cache -- key/value history; see kv_cache.h. */
#include "model/kv_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

/* One allocation per tensor kind (k, v) for all layers: L x cap x H_kv x D_h floats each. At Qwen3-0.6B
 * (28 layers, 8 kv heads of 128) a 2048-position cache is 2 x 235 MB. */
void kv_cache_init(struct kv_cache *kv, int64_t n_layers, int64_t H_kv, int64_t D_h, int64_t cap,
                   enum kv_cache_dtype dtype) {
    CHECK(n_layers > 0 && H_kv > 0 && D_h > 0 && cap > 0, "kv cache %lld x %lld x %lld x %lld", (long long)n_layers,
          (long long)cap, (long long)H_kv, (long long)D_h);
    memset(kv, 0, sizeof *kv);
    kv->n_layers = n_layers;
    kv->H_kv = H_kv;
    kv->D_h = D_h;
    kv->cap = cap;
    kv->dtype = dtype;
    size_t n = (size_t)(n_layers * cap * H_kv * D_h);
    kv->k = xcalloc(n, sizeof(float));
    kv->v = xcalloc(n, sizeof(float));
}

void kv_cache_free(struct kv_cache *kv) {
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

void kv_cache_reset(struct kv_cache *kv) { kv->len = 0; }

float *kv_cache_k(const struct kv_cache *kv, int64_t layer) {
    CHECK(layer >= 0 && layer < kv->n_layers, "layer %lld", (long long)layer);
    return kv->k + layer * kv->cap * kv->H_kv * kv->D_h;
}

float *kv_cache_v(const struct kv_cache *kv, int64_t layer) {
    CHECK(layer >= 0 && layer < kv->n_layers, "layer %lld", (long long)layer);
    return kv->v + layer * kv->cap * kv->H_kv * kv->D_h;
}

/* Round to nearest even on the top 16 bits: add 0x7fff plus the lowest kept bit, then truncate. Values
 * beyond the largest BF16 round to infinity, as a hardware conversion does; NaN stays NaN (quieted). */
float kv_cache_round_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if (isnan(x)) u = (u | 0x00400000u) & 0xffff0000u;           /* keep NaN (quiet), drop the low bits */
    else u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;      /* RNE; overflow rounds to inf as it should */
    memcpy(&x, &u, 4);
    return x;
}

/* Writes T positions of one layer; the FP32 path is a memcpy, the BF16 path rounds every element. */
void kv_cache_store(struct kv_cache *kv, int64_t layer, int64_t pos0, int64_t T, const float *k, const float *v) {
    CHECK(pos0 >= 0 && pos0 + T <= kv->cap, "kv cache store at %lld + %lld past capacity %lld", (long long)pos0,
          (long long)T, (long long)kv->cap);
    const int64_t row = kv->H_kv * kv->D_h, n = T * row;
    float *kd = kv_cache_k(kv, layer) + pos0 * row, *vd = kv_cache_v(kv, layer) + pos0 * row;
    if (kv->dtype == KV_CACHE_F32) {
        memcpy(kd, k, (size_t)n * sizeof(float));
        memcpy(vd, v, (size_t)n * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        kd[i] = kv_cache_round_bf16(k[i]);
        vd[i] = kv_cache_round_bf16(v[i]);
    }
}
