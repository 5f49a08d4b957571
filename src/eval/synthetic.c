/* synthetic -- see synthetic.h. */
#include "eval/synthetic.h"

#include <math.h>

#include "core/check.h"
#include "core/rng.h"

static const char *const NAMES[SYNTHETIC_DIST_COUNT] = {"gaussian", "laplace", "student_t", "outlier_rows"};

const char *synthetic_dist_name(enum synthetic_dist d) {
    CHECK(d >= 0 && d < SYNTHETIC_DIST_COUNT, "bad synthetic_dist %d", (int)d);
    return NAMES[d];
}

void synthetic_matrix(enum synthetic_dist d, uint64_t seed, int64_t N, int64_t K, float *out) {
    CHECK(d >= 0 && d < SYNTHETIC_DIST_COUNT, "bad synthetic_dist %d", (int)d);
    CHECK(N > 0 && K > 0, "synthetic_matrix: empty shape %lld x %lld", (long long)N, (long long)K);
    /* The outlier channels come from a stream of their own (counter space above any row index), distinct
     * columns by rejection. */
    int64_t outlier_cols[SYNTHETIC_N_OUTLIER];
    int n_out = 0;
    if (d == SYNTHETIC_DIST_OUTLIER_ROWS) {
        struct rng r;
        rng_init(&r, rng_hash(seed, UINT64_C(0xFFFFFFFF00000000)));
        while (n_out < SYNTHETIC_N_OUTLIER && n_out < K) {
            int64_t c = (int64_t)rng_below(&r, (uint64_t)K), dup = 0;
            for (int i = 0; i < n_out; i++) dup |= outlier_cols[i] == c;
            if (!dup) outlier_cols[n_out++] = c;
        }
    }
    const double laplace_b = 1.0 / sqrt(2.0);
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < N; row++) {
        struct rng r;
        rng_init(&r, rng_hash(seed, (uint64_t)row));
        float *o = out + row * K;
        for (int64_t k = 0; k < K; k++) {
            double v;
            switch (d) {
            case SYNTHETIC_DIST_LAPLACE: v = rng_laplace(&r, laplace_b); break;
            case SYNTHETIC_DIST_STUDENT_T: v = rng_student_t(&r, SYNTHETIC_STUDENT_NU); break;
            default: v = rng_normal(&r); break;
            }
            o[k] = (float)v;
        }
        for (int i = 0; i < n_out; i++) o[outlier_cols[i]] = (float)(o[outlier_cols[i]] * SYNTHETIC_OUTLIER_GAIN);
    }
}
