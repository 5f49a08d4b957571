/* src/ops/fastexp.h -- an FP32 e^x over arrays that GCC vectorizes at plain -O2 (SSE2 baseline, no fast-math,
 * -ffp-contract=off): Cody-Waite range reduction x = n ln2 + r (|r| <= ln2/2 + tiny), a degree-7 Taylor
 * polynomial for e^r, and 2^n applied as two exact power-of-two factors so that one rounding makes subnormal
 * results. Error <= 1.20 ulp of the exact e^x, hence <= 1 ulp from the correctly rounded value, for every
 * finite x (derivation in fastexp.c; tests/test_fastexp.c measures 0.994 ulp, 99.3% correctly rounded);
 * gradual underflow (<= 1.15 ulp of 2^-149) down to 0 for x < -103.97, +inf for x >= 88.72284, exp(-inf) = 0,
 * exp(+inf) = inf, NaN in gives NaN out. Pure arithmetic in round-to-nearest-even: same bits on every call,
 * element position and thread, whether or not the compiler vectorized the loop. */
#ifndef SRC_OPS_FASTEXP_H
#define SRC_OPS_FASTEXP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Elements per block of the vectorized kernel: loops of this fixed length over stack buffers are what GCC
 * 12's -O2 ("very cheap") vectorizer accepts; a tail is padded into one more block. */
enum { FASTEXP_BLOCK = 16 };

/* y[i] = e^x[i] for i < n (n >= 0). y may equal x (in place); other overlaps are not allowed. */
void fastexp_array(float *y, const float *x, int64_t n);

/* e^x for one value, the same bits as fastexp_array gives for it. */
float fastexp(float x);

#ifdef __cplusplus
}
#endif
#endif
