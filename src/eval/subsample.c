/* subsample -- seeded --limit subsamples (see subsample.h). */
#include "eval/subsample.h"

#include <stdlib.h>

#include "core/check.h"
#include "core/rng.h"

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t subsample_indices(int64_t n, int64_t k, uint64_t seed, int64_t *out) {
    CHECK(n >= 0 && k >= 0, "subsample %lld of %lld", (long long)k, (long long)n);
    if (k == 0 || k >= n) {
        for (int64_t i = 0; i < n; i++) out[i] = i;
        return n;
    }
    int64_t *perm = xmalloc((size_t)n * sizeof *perm);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    struct rng g;
    rng_init(&g, seed);
    for (int64_t i = 0; i < k; i++) {
        int64_t j = i + (int64_t)rng_below(&g, (uint64_t)(n - i));
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        out[i] = perm[i];
    }
    free(perm);
    qsort(out, (size_t)k, sizeof *out, cmp_i64);
    return k;
}
