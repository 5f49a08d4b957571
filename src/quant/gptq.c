/* gptq -- GPTQ of one matrix; see gptq.h (the steps are numbered as there). */
#include "quant/gptq.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

/* LAPACK of OpenBLAS (no lapacke.h in the build): Cholesky factor and inverse from the factor, column-major.
 * A row-major symmetric matrix is the same array column-major, so uplo "L" there is the upper triangle here.
 * The trailing length is the hidden Fortran length of the uplo string (ignored by OpenBLAS's C potrf). */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
extern void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);

struct gptq_opts gptq_defaults(void) {
    struct gptq_opts o = {.damp = 0.01, .block = 128, .act_order = 1, .dynamic_groups = 0};
    return o;
}

/* ---- step 4: U = chol(H^-1) upper ---- */

/* A (K x K row-major, full symmetric, overwritten) -> U (upper, row-major; strictly lower part zeroed) with
 * U^T U = A^-1. Returns 0, or the LAPACK info (> 0: not positive definite). */
static int chol_inverse_upper(double *A, int64_t K) {
    const int n = (int)K;
    int info = 0;
    /* Column-major "L" of the array is row-major upper: A = U0^T U0 with U0 upper (row-major). */
    dpotrf_("L", &n, A, &n, &info, 1);
    if (info != 0) return info;
    dpotri_("L", &n, A, &n, &info, 1);   /* A^-1 in the same triangle */
    if (info != 0) return info;
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = i + 1; j < K; j++) A[j * K + i] = A[i * K + j];   /* symmetrize (row-major lower) */
    dpotrf_("L", &n, A, &n, &info, 1);   /* A^-1 = L L^T, column-major L = row-major U = L^T */
    if (info != 0) return info;
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = 0; j < i; j++) A[i * K + j] = 0;
    return 0;
}

/* ---- the algorithm ---- */

static const double *SORT_DIAG;   /* qsort has no context argument; set only inside argsort_desc */

static int cmp_desc(const void *a, const void *b) {
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    double di = SORT_DIAG[i], dj = SORT_DIAG[j];
    if (di != dj) return di > dj ? -1 : 1;
    return i < j ? -1 : (i > j);   /* ties by index: deterministic (torch.argsort is not stable) */
}

static void argsort_desc(const double *diag, int64_t K, int64_t *perm) {
    for (int64_t j = 0; j < K; j++) perm[j] = j;
    SORT_DIAG = diag;
    qsort(perm, (size_t)K, sizeof *perm, cmp_desc);
    SORT_DIAG = NULL;
}

void gptq_quantize(struct qtensor *q, enum qformat f, const struct qparams *p, const float *W, int64_t N,
                   int64_t K, double *H, const struct gptq_opts *o, struct gptq_info *info) {
    // W: N x K, H: K x K. Wp: W with its columns in processing order (perm), Hinv: U in that order (FP32).
    char err[256];
    CHECK(qformat_check_shape(f, p, N, K, err, sizeof err) == 0, "gptq: %s", err);
    CHECK(o->block > 0, "gptq: block %d", o->block);
    CHECK(!(o->dynamic_groups && o->act_order), "gptq: dynamic groups need act_order off (no g_idx)");
    struct gptq_info inf;
    memset(&inf, 0, sizeof inf);

    // 1. scales from the original weights (every group, and the per-tensor scale of the grid)
    qtensor_alloc(q, f, p, N, K);
    qtensor_choose_scales(q, W, 0, K);

    // 2. dead columns (their diagonal becomes 1, their weights 0)
    float *Wp = xmalloc((size_t)(N * K) * sizeof *Wp);
    int64_t *perm = xmalloc((size_t)K * sizeof *perm);
    double *diag = xmalloc((size_t)K * sizeof *diag);
    unsigned char *dead = xcalloc((size_t)K, 1);
    for (int64_t j = 0; j < K; j++) {
        if (H[j * K + j] == 0) {
            H[j * K + j] = 1;
            dead[j] = 1;
            inf.n_dead++;
        }
        diag[j] = H[j * K + j];
    }

    // 3. processing order: Wp[:, j] = W[:, perm[j]], A = H[perm][:, perm]
    if (o->act_order) argsort_desc(diag, K, perm);
    else
        for (int64_t j = 0; j < K; j++) perm[j] = j;
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < K; j++) Wp[n * K + j] = dead[perm[j]] ? 0.0f : W[n * K + perm[j]];
    double mean_diag = 0;
    for (int64_t j = 0; j < K; j++) mean_diag += diag[j];
    mean_diag /= (double)K;

    // 4. damping and U = chol(H^-1), raising the damping fraction tenfold on failure
    double frac = o->damp;
    float *Hinv = xmalloc((size_t)(K * K) * sizeof *Hinv);
    double *B = xmalloc((size_t)(K * K) * sizeof *B);
    for (;;) {
        /* B = H[perm][:, perm] + lambda I, rebuilt from H on every try (memory: H, B and the FP32 U only). */
        for (int64_t i = 0; i < K; i++)
            for (int64_t j = 0; j < K; j++) B[i * K + j] = H[perm[i] * K + perm[j]];
        for (int64_t j = 0; j < K; j++) B[j * K + j] += frac * mean_diag;
        if (chol_inverse_upper(B, K) == 0) break;
        inf.damp_raised = 1;
        frac *= 10;
        if (frac > 1.0 + 1e-9) {   /* 1e-9: 0.01 * 10 * 10 is 1 only up to rounding */
            inf.rtn_fallback = 1;
            memset(B, 0, (size_t)(K * K) * sizeof *B);
            for (int64_t j = 0; j < K; j++) B[j * K + j] = 1;
            break;
        }
    }
    inf.damp_used = frac;
    for (int64_t i = 0; i < K * K; i++) Hinv[i] = (float)B[i];
    free(B);
    free(dead);

    // 5. the column loop in blocks (lazy batch update)
    const int64_t Bk = o->block;
    const int64_t gk = qformat_info(f)->block_k ? qformat_info(f)->block_k : q->params.group_size;
    float *W1 = xmalloc((size_t)(N * Bk) * sizeof *W1);    /* N x count: the block's columns, row-major */
    float *E1 = xmalloc((size_t)(N * Bk) * sizeof *E1);    /* N x count: the scaled errors */
    float *col = xmalloc((size_t)N * sizeof *col), *deq = xmalloc((size_t)N * sizeof *deq);
    double loss = 0;
    for (int64_t i1 = 0; i1 < K; i1 += Bk) {
        const int64_t i2 = i1 + Bk < K ? i1 + Bk : K, cnt = i2 - i1;
        for (int64_t n = 0; n < N; n++) memcpy(W1 + n * cnt, Wp + n * K + i1, (size_t)cnt * sizeof *W1);
        for (int64_t i = 0; i < cnt; i++) {
            const int64_t j = i1 + i;
            /* IST's dynamic groups: the group starting here is chosen from W as it stands, which inside a
             * block is the value before this block's updates (IST reads W, not its block copy W1). */
            if (o->dynamic_groups && j % gk == 0) qtensor_choose_scales(q, Wp, j, j + gk);
            const float d = Hinv[j * K + j];
            for (int64_t n = 0; n < N; n++) col[n] = W1[n * cnt + i];
            qtensor_quantize_col(q, perm[j], col, 1, deq, 1);
            const float *hrow = Hinv + j * K + i1;   /* U[j, i1 .. i2) */
            for (int64_t n = 0; n < N; n++) {
                const float e = (col[n] - deq[n]) / d;
                loss += (double)(col[n] - deq[n]) * (double)(col[n] - deq[n]) / ((double)d * d) / 2;
                float *wr = W1 + n * cnt;
                for (int64_t t = i; t < cnt; t++) wr[t] -= e * hrow[t];
                E1[n * cnt + i] = e;
            }
        }
        /* W[:, i2:] -= E1 U[i1:i2, i2:] */
        if (i2 < K)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)(K - i2), (int)cnt, -1.0f, E1,
                        (int)cnt, Hinv + i1 * K + i2, (int)K, 1.0f, Wp + i2, (int)K);
    }
    inf.loss = loss;
    free(W1), free(E1), free(col), free(deq), free(Hinv), free(Wp), free(perm), free(diag);
    if (info) *info = inf;
}
