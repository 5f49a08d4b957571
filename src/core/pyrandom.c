/* pyrandom -- CPython's random.Random (MT19937 + random.sample); see pyrandom.h. The constants and the
 * seeding loops are those of Matsumoto and Nishimura's mt19937ar.c (2002), which CPython's _randommodule.c
 * carries unchanged. */
#include "core/pyrandom.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER 0x80000000U
#define MT_LOWER 0x7fffffffU

static void init_genrand(struct pyrandom *r, uint32_t s) {
    r->mt[0] = s;
    for (int i = 1; i < PYRANDOM_N; i++)
        r->mt[i] = 1812433253U * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = PYRANDOM_N;
}

static void init_by_array(struct pyrandom *r, const uint32_t *key, int n_key) {
    init_genrand(r, 19650218U);
    int i = 1, j = 0;
    for (int k = PYRANDOM_N > n_key ? PYRANDOM_N : n_key; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++, j++;
        if (i >= PYRANDOM_N) { r->mt[0] = r->mt[PYRANDOM_N - 1]; i = 1; }
        if (j >= n_key) j = 0;
    }
    for (int k = PYRANDOM_N - 1; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= PYRANDOM_N) { r->mt[0] = r->mt[PYRANDOM_N - 1]; i = 1; }
    }
    r->mt[0] = 0x80000000U; /* MSB is 1, assuring a non-zero initial array */
}

void pyrandom_seed(struct pyrandom *r, uint64_t seed) {
    /* random_seed(): key = the 32-bit words of |seed|, least significant first; at least one word. */
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    init_by_array(r, key, key[1] ? 2 : 1);
}

uint32_t pyrandom_u32(struct pyrandom *r) {
    static const uint32_t mag01[2] = {0U, MT_MATRIX_A};
    if (r->mti >= PYRANDOM_N) {
        int kk;
        uint32_t y;
        for (kk = 0; kk < PYRANDOM_N - MT_M; kk++) {
            y = (r->mt[kk] & MT_UPPER) | (r->mt[kk + 1] & MT_LOWER);
            r->mt[kk] = r->mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 1U];
        }
        for (; kk < PYRANDOM_N - 1; kk++) {
            y = (r->mt[kk] & MT_UPPER) | (r->mt[kk + 1] & MT_LOWER);
            r->mt[kk] = r->mt[kk + (MT_M - PYRANDOM_N)] ^ (y >> 1) ^ mag01[y & 1U];
        }
        y = (r->mt[PYRANDOM_N - 1] & MT_UPPER) | (r->mt[0] & MT_LOWER);
        r->mt[PYRANDOM_N - 1] = r->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1U];
        r->mti = 0;
    }
    uint32_t y = r->mt[r->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

uint32_t pyrandom_getrandbits(struct pyrandom *r, int k) {
    CHECK(k >= 1 && k <= 32, "getrandbits(%d): only 1..32 bits are implemented", k);
    return pyrandom_u32(r) >> (32 - k);
}

uint32_t pyrandom_below(struct pyrandom *r, uint32_t n) {
    CHECK(n >= 1, "randbelow(0)");
    int k = 0;
    for (uint32_t v = n; v; v >>= 1) k++; /* n.bit_length() */
    uint32_t x = pyrandom_getrandbits(r, k);
    while (x >= n) x = pyrandom_getrandbits(r, k);
    return x;
}

void pyrandom_sample(struct pyrandom *r, int64_t n, int64_t k, int64_t *out) {
    CHECK(k >= 0 && k <= n && n < ((int64_t)1 << 31), "sample(range(%lld), %lld)", (long long)n, (long long)k);
    /* setsize = 21, + 4 ** ceil(log(3k, 4)) for k > 5: Python computes log(x, 4) as log(x) / log(4). */
    int64_t setsize = 21;
    if (k > 5) setsize += (int64_t)pow(4.0, ceil(log((double)(k * 3)) / log(4.0)));
    if (n <= setsize) {
        /* Pool branch: a partial Fisher-Yates shuffle of a copy of the population. */
        int64_t *pool = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *pool);
        for (int64_t i = 0; i < n; i++) pool[i] = i;
        for (int64_t i = 0; i < k; i++) {
            int64_t j = pyrandom_below(r, (uint32_t)(n - i));
            out[i] = pool[j];
            pool[j] = pool[n - i - 1];
        }
        free(pool);
    } else {
        /* Set branch: redraw an index already selected (k is small next to n here, so a linear scan is the set). */
        for (int64_t i = 0; i < k; i++) {
            int64_t j;
            int dup;
            do {
                j = pyrandom_below(r, (uint32_t)n);
                dup = 0;
                for (int64_t t = 0; t < i; t++) dup |= out[t] == j;
            } while (dup);
            out[i] = j;
        }
    }
}
