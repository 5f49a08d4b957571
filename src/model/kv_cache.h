/* src/model/kv_cache.h -- the per-layer key/value history of the forward pass.
 * Layout: for each layer, k and v are cap x H_kv x D_h FP32 rows (row j = position j, after RoPE for k), so
 * attention_ref reads them with kv_stride = H_kv * D_h. `len` positions are valid; a forward call at pos0
 * writes rows pos0 .. pos0+T-1 of every layer and sets len = pos0 + T (pos0 <= len: rewinding reuses a prefix).
 * Storage is FP32; with KV_CACHE_BF16 every stored value is rounded to BF16 (round to nearest even, NaN kept)
 * as DESIGN.md's default KV cache, simulated: the values are BF16, the arrays stay FP32.
 * API: kv_cache_init / kv_cache_free / kv_cache_reset / kv_cache_k / kv_cache_v / kv_cache_store. */
#ifndef SRC_MODEL_KV_CACHE_H
#define SRC_MODEL_KV_CACHE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kv_cache_dtype {
    KV_CACHE_F32,
    KV_CACHE_BF16,
};

struct kv_cache {
    int64_t n_layers, H_kv, D_h;
    int64_t cap;                 /* positions allocated */
    int64_t len;                 /* positions filled */
    enum kv_cache_dtype dtype;
    float *k, *v;                /* n_layers x cap x H_kv x D_h each */
};

/* Allocates a cache of cap positions (zeroed, len 0). Dies if the allocation fails. */
void kv_cache_init(struct kv_cache *kv, int64_t n_layers, int64_t H_kv, int64_t D_h, int64_t cap,
                   enum kv_cache_dtype dtype);

/* Frees the arrays; kv is zeroed. */
void kv_cache_free(struct kv_cache *kv);

/* Forgets every position (len = 0); the memory is kept. */
void kv_cache_reset(struct kv_cache *kv);

/* Base of layer l's key (value) rows. */
float *kv_cache_k(const struct kv_cache *kv, int64_t layer);
float *kv_cache_v(const struct kv_cache *kv, int64_t layer);

/* Copies T rows of keys and values (T x H_kv x D_h each) into layer l at positions pos0 .. pos0+T-1,
 * rounding to BF16 when the cache is BF16. Requires pos0 + T <= cap (a CHECK: callers size the cache). */
void kv_cache_store(struct kv_cache *kv, int64_t layer, int64_t pos0, int64_t T, const float *k, const float *v);

/* Rounds an FP32 value to the nearest BF16 (ties to even), returned as FP32. */
float kv_cache_round_bf16(float x);

#ifdef __cplusplus
}
#endif
#endif
