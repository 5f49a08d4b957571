/* pyrandom -- CPython's random.Random, bit for bit: the MT19937 Mersenne Twister seeded from an integer as
 * random.seed(int) does (init_by_array over the 32-bit words of |seed|, least significant first; seed 0 is
 * the key [0]), getrandbits(k) for k <= 32 (the top k bits of one 32-bit output), _randbelow_with_getrandbits
 * (k = n.bit_length(), redraw while r >= n) and random.sample(range(n), k) with both of its branches (the pool
 * branch when n <= setsize, the rejection-set branch otherwise; setsize = 21, plus 4^ceil(log4(3k)) for k > 5).
 * Reference: CPython 3.11 Modules/_randommodule.c (init_genrand, init_by_array, genrand_uint32) and
 * Lib/random.py (Random.sample, _randbelow_with_getrandbits). This exists only to reproduce lm-evaluation-
 * harness's few-shot sampler (random.Random(1234).sample(train, 5) per test item); every other random draw in
 * the project uses src/core/rng.h. tests/test_tasks_pyrandom.c checks values computed with python3.
 * API: pyrandom_seed / pyrandom_u32 / pyrandom_getrandbits / pyrandom_below / pyrandom_sample. */
#ifndef SRC_CORE_PYRANDOM_H
#define SRC_CORE_PYRANDOM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PYRANDOM_N 624

struct pyrandom {
    uint32_t mt[PYRANDOM_N];
    int mti;
};

/* random.Random(seed) for a non-negative integer seed below 2^64. */
void pyrandom_seed(struct pyrandom *r, uint64_t seed);

/* The next 32-bit output of MT19937 (genrand_uint32). */
uint32_t pyrandom_u32(struct pyrandom *r);

/* getrandbits(k), 1 <= k <= 32 (CHECK). */
uint32_t pyrandom_getrandbits(struct pyrandom *r, int k);

/* _randbelow(n) for 1 <= n < 2^32 (CHECK): uniform in [0, n) by rejection on bit_length(n) bits. */
uint32_t pyrandom_below(struct pyrandom *r, uint32_t n);

/* random.sample(range(n), k) into out[0..k): the indices of the chosen items in selection order, exactly as
 * Python returns them for any population of length n. 0 <= k <= n (CHECK); n < 2^31. */
void pyrandom_sample(struct pyrandom *r, int64_t n, int64_t k, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
