/* rng -- the project's one pseudo-random number generator (STYLE.md section 6).
 * Counter-based: value i of stream `seed` is rng_hash(seed, i), the splitmix64 finaliser applied to
 * seed + (i + 1) * golden_gamma. Being a pure function of (seed, counter), the same stream can be drawn on the
 * CPU or by any GPU thread (rng_hash is __host__ __device__ under nvcc), in any order, with identical results.
 * struct rng is a (seed, counter) cursor over that stream for sequential use. Never use rand() or time(). */
#ifndef SRC_CORE_RNG_H
#define SRC_CORE_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__CUDACC__)
#define RNG_HD __host__ __device__
#else
#define RNG_HD
#endif

/* splitmix64 (Steele, Lea, Flood 2014): the 64-bit finaliser of SplittableRandom; passes BigCrush. */
static inline RNG_HD uint64_t rng_hash(uint64_t seed, uint64_t counter) {
    uint64_t z = seed + (counter + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1) from the top 53 bits of a hash value (exact: every result is k * 2^-53). */
static inline RNG_HD double rng_to_unit(uint64_t h) { return (double)(h >> 11) * (1.0 / 9007199254740992.0); }

struct rng {
    uint64_t seed;
    uint64_t counter;
};

/* Starts stream `seed` at counter 0. */
void rng_init(struct rng *r, uint64_t seed);

/* Next 64 random bits of the stream. */
uint64_t rng_u64(struct rng *r);

/* Uniform double in [0, 1). */
double rng_uniform(struct rng *r);

/* Uniform integer in [0, n) (n > 0), by rejection so there is no modulo bias. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* Standard normal N(0, 1) by the Box-Muller transform; consumes exactly two draws per call (the second
 * variate is discarded so that the stream position depends only on the number of calls). */
double rng_normal(struct rng *r);

/* Laplace(0, b) by inverse CDF; consumes one draw. Variance 2 b^2. */
double rng_laplace(struct rng *r, double b);

/* Student-t with nu degrees of freedom: Z / sqrt(chi2_nu / nu), chi2 as a sum of nu squared normals
 * (nu a small positive integer); consumes 2 * (nu + 1) draws. */
double rng_student_t(struct rng *r, int nu);

#ifdef __cplusplus
}
#endif
#endif
