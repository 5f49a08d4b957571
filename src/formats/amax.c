/* amax -- see amax.h. */
#include "formats/amax.h"

#include <math.h>

float amax_ref(const float *x, int64_t n) {
    float m = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        /* !(a <= FLT_MAX) is true for NaN and Inf alike: poison and stop. */
        if (!isfinite(a)) return NAN;
        if (a > m) m = a;
    }
    return m;
}

float amax_block_ref(const float *x, int64_t rows, int64_t cols, int64_t ld) {
    /* max is exact and order-free: the row order cannot change the result. */
    float m = 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        float a = amax_ref(x + r * ld, cols);
        if (isnan(a)) return NAN;
        if (a > m) m = a;
    }
    return m;
}
