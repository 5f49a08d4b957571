/* rng -- see rng.h. */
#include "core/rng.h"

#include <math.h>

#include "core/check.h"

void rng_init(struct rng *r, uint64_t seed) {
    r->seed = seed;
    r->counter = 0;
}

uint64_t rng_u64(struct rng *r) { return rng_hash(r->seed, r->counter++); }

double rng_uniform(struct rng *r) { return rng_to_unit(rng_u64(r)); }

uint64_t rng_below(struct rng *r, uint64_t n) {
    CHECK(n > 0, "rng_below needs n > 0");
    /* Reject the top partial copy of [0, n) so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t x = rng_u64(r);
        if (x < limit) return x % n;
    }
}

double rng_normal(struct rng *r) {
    /* 1 - u lies in (0, 1], so the log is finite. */
    double u1 = 1.0 - rng_uniform(r);
    double u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2)  /* 2 pi */;
}

double rng_laplace(struct rng *r, double b) {
    /* Inverse CDF on u in (-1/2, 1/2): x = -b sgn(u) ln(1 - 2|u|); u = -1/2 exactly is mapped inward. */
    double u = rng_uniform(r) - 0.5;
    if (u == -0.5) u = -0.5 + 1.0 / 9007199254740992.0;
    double a = fabs(u);
    return (u < 0 ? b : -b) * log(1.0 - 2.0 * a);
}

double rng_student_t(struct rng *r, int nu) {
    CHECK(nu >= 1 && nu <= 64, "rng_student_t: nu=%d out of the supported range 1..64", nu);
    double z = rng_normal(r);
    double chi2 = 0.0;
    for (int i = 0; i < nu; i++) {
        double g = rng_normal(r);
        chi2 += g * g;
    }
    return z / sqrt(chi2 / nu);
}
