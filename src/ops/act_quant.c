/* act_quant -- activation quantize-dequantize in parallel row chunks; see act_quant.h. */
#include "ops/act_quant.h"

#include <float.h>

#include "formats/amax.h"

/* Rows per parallel chunk: at least this many, so the per-chunk allocations of the codec stay negligible. */
#define ACT_QUANT_MIN_ROWS 64

void act_quant_rows(enum qformat format, const struct qparams *params, float *x, int64_t T, int64_t K) {
    // x: T x K. The activation schemes are row-local (scales per row, group or block along K) or per-tensor
    // (one global scale). Both are split into row chunks quantized in parallel; for a per-tensor scheme the
    // dynamic amax of the whole T x K input is taken first and handed to every chunk as a static amax, which
    // is exactly what the whole-tensor call computes (amax_ref is exact), so the result is bit-identical to
    // qformat_fake_quant_rows(format, x, T, K) (tests/test_ops.c checks it). 2-D block schemes, zero or
    // non-finite tensors, and small T take the serial whole-tensor call.
    struct qparams p = *params;
    int per_tensor = qformat_info(format)->has_global;
    int splittable = format != QFORMAT_FP8_BLOCK128 && T >= 2 * ACT_QUANT_MIN_ROWS;
    if (splittable && per_tensor && !(p.amax > 0)) {
        float a = amax_ref(x, T * K);
        if (a > 0 && a <= FLT_MAX) p.amax = a;   /* NaN and Inf fail both tests */
        else splittable = 0;
    }
    if (!splittable) {
        qformat_fake_quant_rows(format, x, T, K, params);
        return;
    }
    int64_t n_chunks = T / ACT_QUANT_MIN_ROWS;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t r0 = c * T / n_chunks, r1 = (c + 1) * T / n_chunks;
        qformat_fake_quant_rows(format, x + r0 * K, r1 - r0, K, &p);
    }
}
