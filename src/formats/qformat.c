/* qformat -- see qformat.h. This file is the table of per-scheme operations and the matrix-level functions
 * written once against it: names, labels, shapes, allocation, the generic quantizer and the MSE observer.
 * The numerics live in the scheme files, each of which exports its struct qformat_ops row. */
#include "formats/qformat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "formats/amax.h"
#include "formats/bf16.h"
#include "formats/fp8_block.h"
#include "formats/fp8_channel.h"
#include "formats/fp8_group.h"
#include "formats/fp8_tensor.h"
#include "formats/int4g_asym.h"
#include "formats/int4g_sym.h"
#include "formats/int8_channel.h"
#include "formats/mxfp4.h"
#include "formats/mxfp8.h"
#include "formats/nvfp4.h"
#include "formats/nvfp8_2l.h"

/* ---- the table ---- */

/* Indexed by enum qformat. bits: element bits plus block-scale bits per element, e.g. nvfp4 4 + 8/16,
 * fp8-block128 8 + 32/16384, int4-g128-asym 4 + (16 + 4)/128 (each row states its own). */
static const struct qformat_ops *const g_ops[QFORMAT_COUNT] = {
    [QFORMAT_BF16] = &bf16_ops,
    [QFORMAT_FP8_TENSOR] = &fp8_tensor_ops,
    [QFORMAT_FP8_CHANNEL] = &fp8_channel_ops,
    [QFORMAT_FP8_BLOCK128] = &fp8_block_ops,
    [QFORMAT_FP8_GROUP128] = &fp8_group_ops,
    [QFORMAT_E5M2_TENSOR] = &e5m2_tensor_ops,
    [QFORMAT_MXFP8] = &mxfp8_ops,
    [QFORMAT_MXFP4] = &mxfp4_ops,
    [QFORMAT_MXFP4_CEIL] = &mxfp4_ceil_ops,
    [QFORMAT_NVFP4] = &nvfp4_ops,
    [QFORMAT_NVFP8_2L] = &nvfp8_2l_ops,
    [QFORMAT_INT4_SYM] = &int4g_sym_ops,
    [QFORMAT_INT4_ASYM] = &int4g_asym_ops,
    [QFORMAT_INT8_CHANNEL] = &int8_channel_ops,
};

const struct qformat_ops *qformat_ops(enum qformat f) {
    CHECK((int)f >= 0 && f < QFORMAT_COUNT && g_ops[f], "bad qformat %d", (int)f);
    return g_ops[f];
}

const struct qformat_ops *qformat_info(enum qformat f) { return qformat_ops(f); }

const char *qformat_name(enum qformat f) { return qformat_ops(f)->name; }

/* ---- names and options ---- */

void qformat_clear_options(struct qparams *p) {
    p->group_size = 0;
    p->mx_rule = E8M0_RULE_FLOOR;
    p->int4_rule = INT4_RULE_GPTQ;
    p->nvfp4_rule = NVFP4_RULE_FLUSH;
}

struct qparams qformat_resolve(enum qformat f, const struct qparams *p) {
    const struct qformat_ops *o = qformat_ops(f);
    struct qparams r;
    if (p) r = *p;
    else memset(&r, 0, sizeof r);
    if (o->resolve) o->resolve(&r);
    else qformat_clear_options(&r);
    if (!o->has_mse) r.observer = QOBSERVER_MINMAX;
    return r;
}

#define MSE_SUFFIX "-mse"

/* The name without the observer suffix: exact canonical names first, then each scheme's own labels. */
static int parse_base(const char *name, struct qparams *p) {
    for (int f = 0; f < QFORMAT_COUNT; f++)
        if (strcmp(name, g_ops[f]->name) == 0) {
            *p = qformat_resolve((enum qformat)f, p);
            return f;
        }
    for (int f = 0; f < QFORMAT_COUNT; f++)
        if (g_ops[f]->parse && g_ops[f]->parse(name, p)) {
            *p = qformat_resolve((enum qformat)f, p);
            return f;
        }
    return -1;
}

int qformat_parse(const char *name, struct qparams *p) {
    memset(p, 0, sizeof *p);
    if (!name) return -1;
    int f = parse_base(name, p);
    size_t n = strlen(name), ns = strlen(MSE_SUFFIX);
    if (f < 0 && n > ns && strcmp(name + n - ns, MSE_SUFFIX) == 0 && n - ns < 64) {
        char base[64];
        memcpy(base, name, n - ns);
        base[n - ns] = 0;
        f = parse_base(base, p);
        if (f >= 0 && g_ops[f]->has_mse) p->observer = QOBSERVER_MSE;
        else f = -1;
    }
    if (f < 0) memset(p, 0, sizeof *p);
    return f;
}

int qformat_by_name(const char *name) {
    struct qparams p;
    return qformat_parse(name, &p);
}

char *qformat_label(enum qformat f, const struct qparams *p, char *buf, size_t n) {
    const struct qformat_ops *o = qformat_ops(f);
    struct qparams r = qformat_resolve(f, p);
    if (o->label) o->label(&r, buf, n);
    else snprintf(buf, n, "%s", o->name);
    if (r.observer == QOBSERVER_MSE) {
        size_t used = strlen(buf);
        if (used < n) snprintf(buf + used, n - used, "%s", MSE_SUFFIX);
    }
    return buf;
}

/* ---- shapes and layouts ---- */

/* The block along K: the scheme's, or the int4 group size parameter. */
static int64_t block_along_k(const struct qformat_ops *o, const struct qparams *r) {
    return o->block_k ? o->block_k : r->group_size;
}

int qformat_check_shape(enum qformat f, const struct qparams *p, int64_t N, int64_t K, char *err, size_t n) {
    const struct qformat_ops *o = qformat_ops(f);
    struct qparams r = qformat_resolve(f, p);
    char label[48];
    qformat_label(f, &r, label, sizeof label);
    if (N <= 0 || K <= 0) {
        snprintf(err, n, "%s: bad shape N=%lld K=%lld (both must be positive)", label, (long long)N,
                 (long long)K);
        return -1;
    }
    if (!o->block_k && r.group_size != 32 && r.group_size != 64 && r.group_size != 128) {
        snprintf(err, n, "%s: group size %d is not one of 32, 64, 128", label, r.group_size);
        return -1;
    }
    int64_t block = block_along_k(o, &r);
    if (K % block != 0) {
        snprintf(err, n, "%s: K=%lld is not a multiple of %lld (%s %s)", label, (long long)K, (long long)block,
                 label, o->block_k ? "block" : "group");
        return -1;
    }
    return 0;
}

static void check_or_die(enum qformat f, const struct qparams *r, int64_t N, int64_t K) {
    char err[256];
    if (qformat_check_shape(f, r, N, K, err, sizeof err) != 0) die("%s", err);
}

double qtensor_bits_per_element(enum qformat f, const struct qparams *p, int64_t N, int64_t K) {
    const struct qformat_ops *o = qformat_ops(f);
    struct qparams r = qformat_resolve(f, p);
    check_or_die(f, &r, N, K);
    size_t d, s, z;
    o->layout(&r, N, K, &d, &s, &z);
    size_t bytes = d + s + z + (o->has_global ? sizeof(float) : 0);
    return 8.0 * (double)bytes / ((double)N * (double)K);
}

size_t qtensor_bytes(const struct qtensor *q) {
    return q->data_bytes + q->scales_bytes + q->zeros_bytes + (qformat_ops(q->format)->has_global ? sizeof(float) : 0);
}

void qtensor_free(struct qtensor *q) {
    free(q->data);
    free(q->scales);
    free(q->zeros);
    memset(q, 0, sizeof *q);
}

void qtensor_alloc(struct qtensor *q, enum qformat f, const struct qparams *p, int64_t N, int64_t K) {
    const struct qformat_ops *o = qformat_ops(f);
    struct qparams r = qformat_resolve(f, p);
    check_or_die(f, &r, N, K);
    memset(q, 0, sizeof *q);
    q->format = f;
    q->params = r;
    q->N = N;
    q->K = K;
    o->layout(&r, N, K, &q->data_bytes, &q->scales_bytes, &q->zeros_bytes);
    q->data = xcalloc(1, q->data_bytes);
    if (q->scales_bytes) q->scales = xcalloc(1, q->scales_bytes);
    if (q->zeros_bytes) q->zeros = xcalloc(1, q->zeros_bytes);
}

/* ---- helpers for the scheme files ---- */

void qformat_check_cols(const struct qtensor *q, int64_t k0, int64_t k1, int64_t block) {
    CHECK(0 <= k0 && k0 < k1 && k1 <= q->K && k0 % block == 0 && k1 % block == 0,
          "%s: columns [%lld, %lld) of K=%lld are not whole blocks of %lld", qformat_name(q->format),
          (long long)k0, (long long)k1, (long long)q->K, (long long)block);
}

int qformat_global_due(const struct qtensor *q, int64_t k0, int64_t k1) {
    if (q->params.amax > 0.0f || (k0 == 0 && k1 == q->K)) return 1;
    CHECK(q->global_set, "%s: scales of columns [%lld, %lld) chosen before the per-tensor scale (choose [0, K) "
          "first)", qformat_name(q->format), (long long)k0, (long long)k1);
    return 0;
}

float qformat_tensor_amax(const struct qtensor *q, const float *w) {
    return q->params.amax > 0.0f ? q->params.amax : amax_ref(w, q->N * q->K);
}

/* ---- choose scales: min-max, or the MSE observer ---- */

/* The MSE observer (qformat.h, enum qobserver) over the domains of columns [k0, k1): every candidate is
 * chosen into a scratch tensor, the columns are rounded there, and each domain keeps the scale of its first
 * smallest error. Candidate 0 (p = 1, the min-max choice) is always taken first, so a domain whose error is
 * NaN (non-finite data) keeps the min-max scale, and the per-tensor scale is the min-max one unless the
 * scheme's domain is the tensor itself (fp8-tensor, e5m2-tensor: copy_domain carries it). */
static void choose_mse(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    const struct qformat_ops *o = qformat_ops(q->format);
    int64_t N = q->N, K = q->K, nd = o->n_domains(q);
    struct qtensor t;
    qtensor_alloc(&t, q->format, &q->params, N, K);
    t.global_scale = q->global_scale;
    t.global_set = q->global_set;
    double *best = xmalloc((size_t)nd * sizeof *best), *err = xcalloc((size_t)nd, sizeof *err);
    unsigned char *touched = xcalloc((size_t)nd, 1);
    float *deq = xmalloc((size_t)N * sizeof *deq);
    int n_cand = (int)(QOBSERVER_MSE_MAXSHRINK * QOBSERVER_MSE_GRID);
    /* The error of a domain is measured over all of its elements: per-row and per-tensor domains (block 1
     * along K) span all of K whatever piece [k0, k1) is being chosen. */
    int64_t e0 = o->block_k == 1 ? 0 : k0, e1 = o->block_k == 1 ? K : k1;
    for (int i = 0; i < n_cand; i++) {
        /* p in FP32 as torch multiplies a float32 tensor by a Python float: p * amax rounded once. */
        float p = (float)(1.0 - (double)i / QOBSERVER_MSE_GRID);
        o->choose_scales_shrunk(&t, w, k0, k1, p);
        for (int64_t d = 0; d < nd; d++) err[d] = 0.0;
        for (int64_t k = e0; k < e1; k++) {
            o->quantize_col(&t, k, w + k, K, deq, 1);
            for (int64_t n = 0; n < N; n++) {
                int64_t d = o->domain_at(&t, n, k);
                err[d] += pow(fabs((double)deq[n] - (double)w[n * K + k]), QOBSERVER_MSE_NORM);
                touched[d] = 1;
            }
        }
        if (i == 0) {
            q->global_scale = t.global_scale;
            q->global_set = t.global_set;
        }
        for (int64_t d = 0; d < nd; d++) {
            if (!touched[d]) continue;
            if (i == 0 || err[d] < best[d]) {
                best[d] = err[d];
                o->copy_domain(q, &t, d);
            }
        }
    }
    free(deq);
    free(touched);
    free(err);
    free(best);
    qtensor_free(&t);
}

void qtensor_choose_scales(struct qtensor *q, const float *w, int64_t k0, int64_t k1) {
    const struct qformat_ops *o = qformat_ops(q->format);
    if (q->params.observer == QOBSERVER_MSE && o->has_mse) choose_mse(q, w, k0, k1);
    else o->choose_scales(q, w, k0, k1);
}

/* ---- quantize / dequantize ---- */

void qtensor_quantize_col(struct qtensor *q, int64_t k, const float *col, int64_t col_stride, float *deq,
                          int64_t deq_stride) {
    CHECK(k >= 0 && k < q->K, "%s: column %lld of K=%lld", qformat_name(q->format), (long long)k, (long long)q->K);
    qformat_ops(q->format)->quantize_col(q, k, col, col_stride, deq, deq_stride);
}

void qtensor_quantize_generic(struct qtensor *q, const float *w) {
    qtensor_choose_scales(q, w, 0, q->K);
    for (int64_t k = 0; k < q->K; k++) qtensor_quantize_col(q, k, w + k, q->K, NULL, 0);
}

void qtensor_quantize(struct qtensor *out, enum qformat f, const float *w, int64_t N, int64_t K,
                      const struct qparams *p) {
    qtensor_alloc(out, f, p, N, K);
    qformat_ops(f)->quantize(out, w);
}

void qtensor_dequantize(const struct qtensor *q, float *w) { qformat_ops(q->format)->dequantize(q, w); }

float qtensor_scale_at(const struct qtensor *q, int64_t n, int64_t k) {
    return qformat_ops(q->format)->scale_at(q, n, k);
}

float qtensor_zero_at(const struct qtensor *q, int64_t n, int64_t k) {
    return qformat_ops(q->format)->zero_at(q, n, k);
}

float qtensor_code_at(const struct qtensor *q, int64_t n, int64_t k) {
    return qformat_ops(q->format)->code_at(q, n, k);
}

void qformat_fake_quant_rows(enum qformat f, float *x, int64_t T, int64_t K, const struct qparams *p) {
    struct qtensor q;
    qtensor_quantize(&q, f, x, T, K, p);
    qtensor_dequantize(&q, x);
    qtensor_free(&q);
}
