/* qerror -- see qerror.h. */
#include "eval/qerror.h"

#include <math.h>

#include "core/check.h"

struct qerror qerror_compute(const float *x, const float *q, int64_t n) {
    /* Sequential sums in double: the relative rounding error of n = 1.7e7 additions is ~n * 2^-53 ~ 2e-9,
     * far below the 4 significant digits reported, and the order is fixed so reruns give identical bytes. */
    double sig = 0.0, err = 0.0, max_err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double xi = x[i], d = xi - (double)q[i];
        CHECK(d == d, "qerror_compute: NaN at element %lld", (long long)i);
        sig += xi * xi;
        err += d * d;
        if (fabs(d) > max_err) max_err = fabs(d);
    }
    struct qerror e;
    e.rel_mse = sig > 0 ? err / sig : (err > 0 ? INFINITY : 0.0);
    e.sqnr_db = e.rel_mse > 0 ? -10.0 * log10(e.rel_mse) : QERROR_SQNR_EXACT_DB;
    e.max_abs_err = max_err;
    return e;
}
