/* src/ops/hadamard.h -- the block Hadamard transform of rows: each row of K values is split into K / B blocks of
 * B (a power of two) and every block is multiplied by H_B / sqrt(B), H_B the Sylvester Hadamard matrix
 * (H_1 = [1], H_2n = [[H_n, H_n], [H_n, -H_n]]). H_B / sqrt(B) is orthogonal and symmetric, so the transform is
 * its own inverse and x W^T = (x H)(W H)^T: applied to the weights offline and to the activations online it
 * changes nothing in exact arithmetic (MR-GPTQ / FP-Quant rotate the input of every Linear this way).
 * Computed by the fast Walsh-Hadamard butterfly in FP32 (B log2 B additions per block, then one multiply).
 * API: hadamard_rows_ref. */
#ifndef SRC_OPS_HADAMARD_H
#define SRC_OPS_HADAMARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* x (T x K, row-major) <- x (I_{K/B} (x) H_B / sqrt(B)) in place. B a power of two dividing K (CHECK). */
void hadamard_rows_ref(float *x, int64_t T, int64_t K, int B);

#ifdef __cplusplus
}
#endif
#endif
