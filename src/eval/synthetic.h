/* synthetic -- seeded random matrices with the value distributions of LLM weights and activations (e01).
 * Row r of a matrix is drawn from its own RNG stream rng_hash(seed, r), so the result does not depend on the
 * number of threads. Distributions (all centred, see experiments/e01-formats/spec.en.md):
 *   gaussian      N(0, 1)
 *   laplace       Laplace(0, 1/sqrt(2)), unit variance
 *   student_t     Student-t, nu = 3 (heavy tails)
 *   outlier_rows  N(0, 1) with SYNTHETIC_N_OUTLIER fixed channels (columns, chosen from the seed) scaled by
 *                 SYNTHETIC_OUTLIER_GAIN in every row: the channel outliers of LLM activations (LLM.int8()). */
#ifndef SRC_EVAL_SYNTHETIC_H
#define SRC_EVAL_SYNTHETIC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum synthetic_dist {
    SYNTHETIC_DIST_GAUSSIAN,
    SYNTHETIC_DIST_LAPLACE,
    SYNTHETIC_DIST_STUDENT_T,
    SYNTHETIC_DIST_OUTLIER_ROWS,
    SYNTHETIC_DIST_COUNT
};

#define SYNTHETIC_N_OUTLIER 8
#define SYNTHETIC_OUTLIER_GAIN 50.0
#define SYNTHETIC_STUDENT_NU 3

/* Canonical name ("gaussian", ...), used in result keys and figure labels. */
const char *synthetic_dist_name(enum synthetic_dist d);

/* Fills out[N * K] (row-major) with distribution d from stream `seed`. */
void synthetic_matrix(enum synthetic_dist d, uint64_t seed, int64_t N, int64_t K, float *out);

#ifdef __cplusplus
}
#endif
#endif
