/* subsample -- the seeded item subsample behind every task's --limit: k of n item indices drawn uniformly
 * without replacement (a partial Fisher-Yates shuffle over the project RNG, src/core/rng.h, stream seed), then
 * sorted ascending so items are scored in file order. k >= n (or k == 0) selects every item. A subsample never
 * changes what an item's prompt is (GSM8K's few-shot draws always run over the full item order: data/gsm8k.h).
 * API: subsample_indices. */
#ifndef SRC_EVAL_SUBSAMPLE_H
#define SRC_EVAL_SUBSAMPLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the chosen indices to out (room for min(k, n), or n when k == 0) and returns their count. */
int64_t subsample_indices(int64_t n, int64_t k, uint64_t seed, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
