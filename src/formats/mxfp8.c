/* mxfp8 -- see mxfp8.h. */
#include "formats/mxfp8.h"

#include "core/check.h"
#include "formats/amax.h"
#include "formats/e4m3.h"

void mxfp8_quantize_row_ref(const float *x, struct mxfp8_block *y, int64_t K, enum e8m0_rule rule) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP8_BLOCK_SIZE; b++) {
        const float *xb = x + b * MXFP8_BLOCK_SIZE;
        uint8_t e = e8m0_mx_scale(amax_ref(xb, MXFP8_BLOCK_SIZE), E4M3_EMAX, E4M3_MAX, rule);
        float X = e8m0_to_float(e);
        y[b].e = e;
        /* Zero blocks (code 0 with amax 0) and NaN blocks (0xFF) both store zero codes; dividing a zero
         * block by 2^-127 would be harmless, but NaN must not reach the element codec. */
        int skip = (e == E8M0_NAN);
        for (int i = 0; i < MXFP8_BLOCK_SIZE; i++)
            y[b].qs[i] = skip ? 0 : e4m3_from_float(xb[i] / X); /* exact: X is a power of two */
    }
}

void mxfp8_dequantize_row_ref(const struct mxfp8_block *x, float *y, int64_t K) {
    CHECK(K % MXFP8_BLOCK_SIZE == 0, "mxfp8: K=%lld", (long long)K);
    for (int64_t b = 0; b < K / MXFP8_BLOCK_SIZE; b++) {
        float X = e8m0_to_float(x[b].e);
        for (int i = 0; i < MXFP8_BLOCK_SIZE; i++)
            y[b * MXFP8_BLOCK_SIZE + i] = e4m3_to_float(x[b].qs[i]) * X;
    }
}
