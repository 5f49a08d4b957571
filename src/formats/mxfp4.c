/* mxfp4 -- see mxfp4.h. */
#include "formats/mxfp4.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e2m1.h"

void mxfp4_quantize_row_ref(const float *x, struct mxfp4_block *y, int64_t K, enum e8m0_rule rule) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP4_BLOCK_SIZE; b++) {
        const float *xb = x + b * MXFP4_BLOCK_SIZE;
        /* OCP 6.3: X = 2^(floor(log2 amax) - emax_elem); amax / X lies in [4, 8), so values above 6 saturate
         * under the floor rule (the ceil rule steps X up instead). */
        uint8_t e = e8m0_mx_scale(amax_ref(xb, MXFP4_BLOCK_SIZE), E2M1_EMAX, E2M1_MAX, rule);
        float X = e8m0_to_float(e);
        y[b].e = e;
        for (int i = 0; i < MXFP4_BLOCK_SIZE / 2; i++) {
            /* x / X is exact (X a power of two, the quotient below 8), so the only rounding is E2M1's. */
            uint8_t lo = e == E8M0_NAN ? 0 : e2m1_from_float(xb[2 * i] / X);
            uint8_t hi = e == E8M0_NAN ? 0 : e2m1_from_float(xb[2 * i + 1] / X);
            y[b].qs[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void mxfp4_dequantize_row_ref(const struct mxfp4_block *x, float *y, int64_t K) {
    CHECK(K % MXFP4_BLOCK_SIZE == 0, "mxfp4: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP4_BLOCK_SIZE; b++) {
        /* Code value times a power of two: exact (0xFF gives NaN for the whole block). */
        float X = e8m0_to_float(x[b].e);
        float *yb = y + b * MXFP4_BLOCK_SIZE;
        for (int i = 0; i < MXFP4_BLOCK_SIZE / 2; i++) {
            yb[2 * i] = e2m1_to_float(x[b].qs[i] & 0xF) * X;
            yb[2 * i + 1] = e2m1_to_float(x[b].qs[i] >> 4) * X;
        }
    }
}
