/* qerror -- the error a quantizer adds: SQNR, relative MSE, max absolute error (e01; DESIGN.md metrics).
 * With x the input and q its quantize-dequantize image over n elements, all sums in double:
 *   rel_mse = sum (x - q)^2 / sum x^2,   sqnr_db = -10 log10(rel_mse),   max_abs_err = max |x - q|.
 * An exact reconstruction (rel_mse = 0) reports sqnr_db = QERROR_SQNR_EXACT_DB instead of infinity, so results
 * stay valid JSON. A NaN in either input is a programmer error (CHECK). */
#ifndef SRC_EVAL_QERROR_H
#define SRC_EVAL_QERROR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QERROR_SQNR_EXACT_DB 999.0

struct qerror {
    double sqnr_db;
    double rel_mse;
    double max_abs_err;
};

/* Computes the three metrics of q against x (n elements each). Deterministic: fixed-order reduction. */
struct qerror qerror_compute(const float *x, const float *q, int64_t n);

/* Running sums for a set of tensors quantized separately (e.g. every Linear of a model): add each tensor's
 * (x, q) pair in a fixed order, then qerror_acc_result gives the metrics of the concatenation. */
struct qerror_acc {
    double sum_x2, sum_err2, max_abs_err;
};
void qerror_acc_add(struct qerror_acc *acc, const float *x, const float *q, int64_t n);
struct qerror qerror_acc_result(const struct qerror_acc *acc);

#ifdef __cplusplus
}
#endif
#endif
