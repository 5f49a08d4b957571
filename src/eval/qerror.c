/* qerror -- see qerror.h. */
#include "eval/qerror.h"

#include <math.h>

#include "core/check.h"

void qerror_acc_add(struct qerror_acc *acc, const float *x, const float *q, int64_t n) {
    /* Sequential sums in double: the relative rounding error of n = 1.7e7 additions is ~n * 2^-53 ~ 2e-9,
     * far below the 4 significant digits reported, and the order is fixed so reruns give identical bytes. */
    double sig = acc->sum_x2, err = acc->sum_err2, max_err = acc->max_abs_err;
    for (int64_t i = 0; i < n; i++) {
        double xi = x[i], d = xi - (double)q[i];
        CHECK(d == d, "qerror: NaN at element %lld", (long long)i);
        sig += xi * xi;
        err += d * d;
        if (fabs(d) > max_err) max_err = fabs(d);
    }
    acc->sum_x2 = sig;
    acc->sum_err2 = err;
    acc->max_abs_err = max_err;
}

struct qerror qerror_acc_result(const struct qerror_acc *acc) {
    struct qerror e;
    e.rel_mse = acc->sum_x2 > 0 ? acc->sum_err2 / acc->sum_x2 : (acc->sum_err2 > 0 ? INFINITY : 0.0);
    e.sqnr_db = e.rel_mse > 0 ? -10.0 * log10(e.rel_mse) : QERROR_SQNR_EXACT_DB;
    e.max_abs_err = acc->max_abs_err;
    return e;
}

struct qerror qerror_compute(const float *x, const float *q, int64_t n) {
    struct qerror_acc acc = {0, 0, 0};
    qerror_acc_add(&acc, x, q, n);
    return qerror_acc_result(&acc);
}
