/* test_gptq -- src/quant/gptq.c and hessian.c on real qwen3-tiny layers (models/qwen3-tiny; skipped, exit 77,
 * when it is absent) with fixed inputs: the residual stream of 4 seeded random token sequences of 128 tokens,
 * observed at the inputs of layer 1's q_proj (K = 512) and down_proj (K = 1536). Checks:
 *   - GPTQ's output error ||X W^T - X Q^T||^2 is below RTN's on every grid (int4 sym / asym g128 and g32,
 *     nvfp4, mxfp4, and the MSE observer on int4-sym);
 *   - with H = I, GPTQ gives exactly RTN's packed bytes (act-order on and off);
 *   - one block of 256 columns gives the same codes as blocks of 128 (up to FP32 reassociation: the bound is
 *     derived below), and dynamic groups run;
 *   - static act-order beats no act-order on a layer whose inputs have outlier channels;
 *   - an indefinite H raises the damping (0.01 -> 0.1 -> 1) and says so;
 *   - FP32 vs FP64 Hessian accumulation: the fraction of identical codes is printed and must be >= 99 %;
 *   - the Hadamard transform: the Hessian of a transformed Linear is the Hessian of x H, and quant_apply with the
 *     transform on BF16 weights leaves the logits unchanged up to BF16 rounding.
 * `test_gptq --ref-case IN OUT` (used by tools/gptq-ref/gptq_ref.py, not by make test) reads W and X from IN,
 * runs gptq_quantize on int4-g128-sym and writes the codes and the output error to OUT; `test_gptq --bench N K
 * ROWS` times one random N x K matrix (the Qwen3-8B-shaped benchmark of the closing note). */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "core/timer.h"
#include "formats/qformat.h"
#include "model/qwen3.h"
#include "model/qwen3_cpu.h"
#include "ops/hadamard.h"
#include "quant/quantize.h"
#include "quant/recipe.h"
#include "quant/gptq.h"
#include "quant/hessian.h"
#include "quant/layer_inputs.h"
#include "fixture.h"
#include "test.h"

#define TINY "models/qwen3-tiny"
#define SEQS 4
#define LEN 128
#define LAYER 1

/* ---- fixed inputs ---- */

/* Runs layers 0 .. LAYER on the fixed tokens and captures the inputs of LAYER's q_proj and down_proj. */
static void fixed_inputs(struct qwen3_model *m, struct fixture_capture *cq, struct fixture_capture *cd) {
    int32_t *ids = xmalloc(SEQS * LEN * sizeof *ids);
    fixture_seeded_ids(ids, SEQS * LEN, m->cfg.V, 10);
    struct layer_inputs li;
    layer_inputs_init(&li, m, ids, SEQS, LEN);
    float *d = xmalloc((size_t)(SEQS * LEN * m->cfg.D) * sizeof *d);
    struct qwen3_layer *L = &m->layers[LAYER];
    fixture_capture_init(cq, L->q.K, SEQS * LEN);
    fixture_capture_init(cd, L->down.K, SEQS * LEN);
    for (int l = 0; l <= LAYER; l++) {
        if (l == LAYER) L->q.observe = fixture_capture_observe, L->q.observe_ctx = cq;
        layer_inputs_attn(m, l, &li, d);
        layer_inputs_add(&li, d);
        if (l == LAYER) L->down.observe = fixture_capture_observe, L->down.observe_ctx = cd;
        layer_inputs_mlp(m, l, &li, d);
        layer_inputs_add(&li, d);
    }
    L->q.observe = L->down.observe = NULL;
    free(d);
    free(ids);
    layer_inputs_free(&li);
}

/* ---- helpers ---- */

static double *hessian_of(const float *x, int64_t rows, int64_t K, int fp64) {
    struct hessian h;
    hessian_init(&h, K, fp64, 0);
    for (int64_t s = 0; s < rows / LEN; s++) hessian_add(&h, x + s * LEN * K, LEN);
    double *H = xmalloc((size_t)(K * K) * sizeof *H);
    hessian_finish(&h, H);
    hessian_free(&h);
    return H;
}

/* ||X W^T - X Q^T||^2 = ||X (W - Q)^T||^2: the difference W - Q is exact in FP32 for these magnitudes only up
 * to one rounding, the product is one sgemm (FP32 accumulation, relative error ~ K 2^-24 ~ 1e-4 at K = 1536,
 * far below the gaps the checks compare), the squares are summed in double. */
static double out_err(const float *x, int64_t rows, const float *W, const struct qtensor *q) {
    const int64_t N = q->N, K = q->K;
    float *Q = xmalloc((size_t)(N * K) * sizeof *Q), *y = xmalloc((size_t)(rows * N) * sizeof *y);
    qtensor_dequantize(q, Q);
    for (int64_t i = 0; i < N * K; i++) Q[i] = W[i] - Q[i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)N, (int)K, 1.0f, x, (int)K, Q, (int)K,
                0.0f, y, (int)N);
    double e = 0;
    for (int64_t i = 0; i < rows * N; i++) e += (double)y[i] * y[i];
    free(Q), free(y);
    return e;
}

static int same_bytes(const struct qtensor *a, const struct qtensor *b) {
    return a->data_bytes == b->data_bytes && !memcmp(a->data, b->data, a->data_bytes) &&
           a->scales_bytes == b->scales_bytes && (!a->scales_bytes || !memcmp(a->scales, b->scales, a->scales_bytes)) &&
           a->zeros_bytes == b->zeros_bytes && (!a->zeros_bytes || !memcmp(a->zeros, b->zeros, a->zeros_bytes)) &&
           a->global_scale == b->global_scale;
}

static double frac_same_codes(const struct qtensor *a, const struct qtensor *b) {
    int64_t same = 0;
    for (int64_t n = 0; n < a->N; n++)
        for (int64_t k = 0; k < a->K; k++) same += qtensor_code_at(a, n, k) == qtensor_code_at(b, n, k);
    return (double)same / (double)(a->N * a->K);
}

static double *copy_h(const double *H, int64_t K) {
    double *c = xmalloc((size_t)(K * K) * sizeof *c);
    memcpy(c, H, (size_t)(K * K) * sizeof *c);
    return c;
}

static const char *GRIDS[] = {"int4-g128-sym", "int4-g128-asym", "int4-g32-sym", "int4-g32-asym", "nvfp4", "mxfp4",
                              "int4-g128-sym-mse"};

/* ---- the checks ---- */

static void check_grids(const struct linear *l, const char *lname, const struct fixture_capture *c, const double *H) {
    for (size_t i = 0; i < sizeof GRIDS / sizeof *GRIDS; i++) {
        struct qparams p;
        int f = qformat_parse(GRIDS[i], &p);
        CHECK(f >= 0, "grid %s", GRIDS[i]);
        struct qtensor rtn, gq;
        qtensor_quantize(&rtn, (enum qformat)f, l->w, l->N, l->K, &p);
        double *Hc = copy_h(H, l->K);
        struct gptq_opts o = gptq_defaults();
        struct gptq_info info;
        gptq_quantize(&gq, (enum qformat)f, &p, l->w, l->N, l->K, Hc, &o, &info);
        double er = out_err(c->x, c->rows, l->w, &rtn), eg = out_err(c->x, c->rows, l->w, &gq);
        TEST(eg < er, "%s %s: GPTQ output error %.4g < RTN %.4g (ratio %.3f, damp %g)", lname, GRIDS[i], eg, er,
             eg / er, info.damp_used);
        free(Hc);
        qtensor_free(&rtn);
        qtensor_free(&gq);
    }
}

static void check_identity(const struct linear *l) {
    const int64_t K = l->K;
    for (size_t i = 0; i < sizeof GRIDS / sizeof *GRIDS; i++)
        for (int ao = 0; ao <= 1; ao++) {
            struct qparams p;
            enum qformat f = (enum qformat)qformat_parse(GRIDS[i], &p);
            double *H = xcalloc((size_t)(K * K), sizeof *H);
            for (int64_t j = 0; j < K; j++) H[j * K + j] = 3.0;   /* any c I: diag ties keep the order */
            struct qtensor rtn, gq;
            qtensor_quantize(&rtn, f, l->w, l->N, K, &p);
            struct gptq_opts o = gptq_defaults();
            o.act_order = ao;
            gptq_quantize(&gq, f, &p, l->w, l->N, K, H, &o, NULL);
            TEST(same_bytes(&rtn, &gq), "H = 3 I, %s, act_order %d: GPTQ bytes == RTN bytes", GRIDS[i], ao);
            free(H);
            qtensor_free(&rtn);
            qtensor_free(&gq);
        }
}

static void check_blocks(const struct linear *l, const double *H) {
    struct qparams p;
    enum qformat f = (enum qformat)qformat_parse("int4-g128-sym", &p);
    struct qtensor a, b;
    struct gptq_opts o = gptq_defaults();
    double *H1 = copy_h(H, l->K), *H2 = copy_h(H, l->K);
    o.block = 128;
    gptq_quantize(&a, f, &p, l->w, l->N, l->K, H1, &o, NULL);
    o.block = 256;
    gptq_quantize(&b, f, &p, l->w, l->N, l->K, H2, &o, NULL);
    /* Same arithmetic in a different order (the trailing update of the first 128 columns reaches the second
     * 128 as one sgemm instead of column by column): FP32 sums differ in their last bits, and a code flips
     * only when a value lies within that much of a rounding boundary. With ~2^-24 relative error per step
     * and a uniform position inside the step, the expected flip fraction is far below 1e-3; one flip then
     * propagates through the later columns of its row, so the bound is set at 99 % identical codes. */
    double fr = frac_same_codes(&a, &b);
    TEST(fr >= 0.99, "one block of 256 vs blocks of 128: %.5f of the codes identical (>= 0.99)", fr);
    qtensor_free(&a);
    qtensor_free(&b);
    free(H1), free(H2);
}

static void check_act_order(const struct linear *l, const struct fixture_capture *c) {
    // Outlier channels: every 37th input channel amplified 30x, as LLM activations have a few huge channels.
    const int64_t K = l->K, rows = c->rows;
    float *x = xmalloc((size_t)(rows * K) * sizeof *x);
    for (int64_t t = 0; t < rows; t++)
        for (int64_t k = 0; k < K; k++) x[t * K + k] = c->x[t * K + k] * (k % 37 == 5 ? 30.0f : 1.0f);
    double *H = hessian_of(x, rows, K, 0);
    struct qparams p;
    enum qformat f = (enum qformat)qformat_parse("int4-g128-sym", &p);
    struct qtensor a, b;
    struct gptq_opts o = gptq_defaults();
    double *H1 = copy_h(H, K);
    o.act_order = 0;
    gptq_quantize(&a, f, &p, l->w, l->N, K, H1, &o, NULL);
    o.act_order = 1;
    gptq_quantize(&b, f, &p, l->w, l->N, K, H, &o, NULL);
    double e0 = out_err(x, rows, l->w, &a), e1 = out_err(x, rows, l->w, &b);
    TEST(e1 < e0, "outlier channels: act-order error %.4g < no act-order %.4g (ratio %.3f)", e1, e0, e1 / e0);
    /* Dynamic groups run and beat RTN on the same inputs. */
    struct qtensor dq, rq;
    double *H2 = hessian_of(x, rows, K, 0);
    o.act_order = 0;
    o.dynamic_groups = 1;
    gptq_quantize(&dq, f, &p, l->w, l->N, K, H2, &o, NULL);
    qtensor_quantize(&rq, f, l->w, l->N, K, &p);
    double ed = out_err(x, rows, l->w, &dq), er = out_err(x, rows, l->w, &rq);
    TEST(ed < er, "dynamic groups: error %.4g < RTN %.4g", ed, er);
    qtensor_free(&a), qtensor_free(&b), qtensor_free(&dq), qtensor_free(&rq);
    free(H1), free(H2), free(H), free(x);
}

static void check_damping(const struct linear *l) {
    // H = I - 1.5 u u^T (u a unit vector): one eigenvalue -0.5, mean diag ~ 1 - 1.5/K. Damping 0.01 and
    // 0.1 leave it indefinite; 1.0 * mean(diag) lifts it to ~0.5 > 0.
    const int64_t K = l->K;
    double *H = xmalloc((size_t)(K * K) * sizeof *H);
    const double u = 1.0 / sqrt((double)K);
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = 0; j < K; j++) H[i * K + j] = (i == j) - 1.5 * u * u;
    struct qparams p;
    enum qformat f = (enum qformat)qformat_parse("int4-g128-sym", &p);
    struct qtensor q;
    struct gptq_opts o = gptq_defaults();
    struct gptq_info info;
    gptq_quantize(&q, f, &p, l->w, l->N, K, H, &o, &info);
    TEST(info.damp_raised && !info.rtn_fallback && fabs(info.damp_used - 1.0) < 1e-9,
         "indefinite H: damping raised to %g (raised %d, fallback %d)", info.damp_used, info.damp_raised,
         info.rtn_fallback);
    qtensor_free(&q);
    free(H);
}

static void check_transform(struct qwen3_model *m, const struct fixture_capture *c) {
    // The Hessian of a Hadamard recipe is that of x H: hessian.c's transform against an explicit rotation.
    const int64_t K = c->K, rows = c->rows;
    float *xh = xmalloc((size_t)(rows * K) * sizeof *xh);
    memcpy(xh, c->x, (size_t)(rows * K) * sizeof *xh);
    hadamard_rows_ref(xh, rows, K, 128);
    double *Ha = hessian_of(xh, rows, K, 0), *Hb = xmalloc((size_t)(K * K) * sizeof *Hb);
    struct hessian h;
    hessian_init(&h, K, 0, 128);
    for (int64_t s = 0; s < rows / LEN; s++) hessian_add(&h, c->x + s * LEN * K, LEN);
    hessian_finish(&h, Hb);
    hessian_free(&h);
    TEST(!memcmp(Ha, Hb, (size_t)(K * K) * sizeof *Ha), "Hessian with transform 128 == Hessian of x H (bitwise)");
    free(Ha), free(Hb), free(xh);
    // A Hadamard recipe on BF16 weights changes the model only by BF16 rounding of W H: logits stay close.
    const int64_t T = 64;
    int32_t ids[64];
    for (int i = 0; i < T; i++) ids[i] = (i * 37 + 11) % (int)m->cfg.V;
    float *l0 = xmalloc((size_t)(T * m->cfg.V) * sizeof *l0), *l1 = xmalloc((size_t)(T * m->cfg.V) * sizeof *l1);
    qwen3_cpu_forward(m, ids, T, 0, NULL, l0, NULL);
    struct qwen3_model *m2 = qwen3_load(TINY);
    struct recipe r = *recipe_by_name_or_die("bf16", "test");
    r.name = "bf16-had";
    r.transform = RECIPE_TRANSFORM_HADAMARD;
    r.transform_block = 128;
    quant_apply(m2, &r, NULL, NULL);
    qwen3_cpu_forward(m2, ids, T, 0, NULL, l1, NULL);
    double d = 0, n = 0;
    for (int64_t i = 0; i < T * m->cfg.V; i++) d += ((double)l1[i] - l0[i]) * (l1[i] - l0[i]), n += (double)l0[i] * l0[i];
    /* BF16 keeps 8 significant bits: a relative weight error <= 2^-9 per element, averaging out in the GEMMs;
     * 1e-4 relative squared logit error is ~30x what that predicts and far below any wrong rotation (~1). */
    TEST(d / n < 1e-4, "bf16 weights with the Hadamard transform: logits relative squared error %.2e (< 1e-4)", d / n);
    TEST(m2->layers[0].q.transform == LINEAR_TRANSFORM_HADAMARD && m2->layers[0].q.transform_block == 128,
         "the transform is recorded on the Linear");
    qwen3_free(m2);
    free(l0), free(l1);
}

static void check_fp64(const struct linear *l, const struct fixture_capture *c) {
    double *H32 = hessian_of(c->x, c->rows, l->K, 0), *H64 = hessian_of(c->x, c->rows, l->K, 1);
    double dmax = 0, hmax = 0;
    for (int64_t i = 0; i < l->K * l->K; i++) {
        dmax = fmax(dmax, fabs(H32[i] - H64[i]));
        hmax = fmax(hmax, fabs(H64[i]));
    }
    struct qparams p;
    enum qformat f = (enum qformat)qformat_parse("int4-g128-sym", &p);
    struct qtensor a, b;
    struct gptq_opts o = gptq_defaults();
    gptq_quantize(&a, f, &p, l->w, l->N, l->K, H32, &o, NULL);
    gptq_quantize(&b, f, &p, l->w, l->N, l->K, H64, &o, NULL);
    double fr = frac_same_codes(&a, &b), ea = out_err(c->x, c->rows, l->w, &a), eb = out_err(c->x, c->rows, l->w, &b);
    TEST(fr >= 0.99, "Hessian FP32 vs FP64 (K=%lld): max |dH| / max |H| = %.2e, %.5f codes identical, errors "
         "%.6g vs %.6g", (long long)l->K, dmax / hmax, fr, ea, eb);
    qtensor_free(&a), qtensor_free(&b);
    free(H32), free(H64);
}

/* ---- the reference case (tools/gptq-ref) ---- */

static int ref_case(const char *in, const char *out) {
    // IN: text "N K rows" then N*K weights then rows*K inputs. OUT: codes (N*K ints), then the error line.
    FILE *f = xfopen(in, "r");
    long long N, K, R;
    if (fscanf(f, "%lld %lld %lld", &N, &K, &R) != 3) die("%s: expected 'N K rows'", in);
    float *W = xmalloc((size_t)(N * K) * sizeof *W), *X = xmalloc((size_t)(R * K) * sizeof *X);
    for (long long i = 0; i < N * K; i++)
        if (fscanf(f, "%f", &W[i]) != 1) die("%s: short weights", in);
    for (long long i = 0; i < R * K; i++)
        if (fscanf(f, "%f", &X[i]) != 1) die("%s: short inputs", in);
    fclose(f);
    struct hessian h;
    hessian_init(&h, K, 1, 0);
    hessian_add(&h, X, R);
    double *H = xmalloc((size_t)(K * K) * sizeof *H);
    hessian_finish(&h, H);
    struct qparams p;
    enum qformat fm = (enum qformat)qformat_parse("int4-g128-sym", &p);
    struct qtensor q;
    struct gptq_opts o = gptq_defaults();
    gptq_quantize(&q, fm, &p, W, N, K, H, &o, NULL);
    FILE *g = xfopen(out, "w");
    for (long long n = 0; n < N; n++)
        for (long long k = 0; k < K; k++) fprintf(g, "%d%c", (int)qtensor_code_at(&q, n, k), k + 1 < K ? ' ' : '\n');
    fprintf(g, "err %.9g\n", out_err(X, R, W, &q));
    xfclose(g, out);
    return 0;
}

/* ---- a benchmark (not part of make test) ---- */

/* `test_gptq --bench N K ROWS`: one N x K matrix of random weights (N(0, 0.02^2)) and ROWS random inputs
 * (N(0, 1), every 16th channel x8): the time of the Hessian (ROWS rows, FP32 syrk), of gptq_quantize on
 * int4-g128-sym, and the peak resident memory of the process. A Qwen3-8B layer is q/k/v/o/gate/up with K =
 * 4096 and down with K = 12288 (N 4096 or 12288, 1024 for k and v). */
static int bench(int64_t N, int64_t K, int64_t rows) {
    struct rng r;
    rng_init(&r, 3);
    float *W = xmalloc((size_t)(N * K) * sizeof *W), *X = xmalloc((size_t)(rows * K) * sizeof *X);
    for (int64_t i = 0; i < N * K; i++) W[i] = (float)(0.02 * rng_normal(&r));
    for (int64_t i = 0; i < rows * K; i++) X[i] = (float)(rng_normal(&r) * ((i % K) % 16 == 3 ? 8.0 : 1.0));
    double t0 = monotonic_seconds();
    struct hessian h;
    hessian_init(&h, K, 0, 0);
    hessian_add(&h, X, rows);
    double *H = xmalloc((size_t)(K * K) * sizeof *H);
    hessian_finish(&h, H);
    hessian_free(&h);
    free(X);
    double t1 = monotonic_seconds();
    struct qparams p;
    enum qformat f = (enum qformat)qformat_parse("int4-g128-sym", &p);
    struct qtensor q;
    struct gptq_opts o = gptq_defaults();
    struct gptq_info info;
    gptq_quantize(&q, f, &p, W, N, K, H, &o, &info);
    double t2 = monotonic_seconds();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench %lld x %lld, %lld rows: hessian %.1f s, gptq %.1f s (damp %g), peak RSS %.2f GiB\n", (long long)N,
           (long long)K, (long long)rows, t1 - t0, t2 - t1, info.damp_used, ru.ru_maxrss / 1048576.0);
    qtensor_free(&q);
    free(W), free(H);
    return 0;
}

int main(int argc, char **argv) {
    check_set_progname("test_gptq");
    if (argc == 4 && !strcmp(argv[1], "--ref-case")) return ref_case(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "--bench")) return bench(atoll(argv[2]), atoll(argv[3]), atoll(argv[4]));
    if (!file_exists(TINY "/model.safetensors")) {
        printf("SKIP: %s not found\n", TINY);
        return 77;
    }
    struct qwen3_model *m = qwen3_load(TINY);
    struct fixture_capture cq, cd;
    fixed_inputs(m, &cq, &cd);
    const struct qwen3_layer *L = &m->layers[LAYER];
    double *Hq = hessian_of(cq.x, cq.rows, L->q.K, 0), *Hd = hessian_of(cd.x, cd.rows, L->down.K, 0);
    check_grids(&L->q, "q_proj", &cq, Hq);
    check_grids(&L->down, "down_proj", &cd, Hd);
    check_identity(&L->q);
    check_blocks(&L->down, Hd);
    check_act_order(&L->q, &cq);
    check_damping(&L->q);
    check_fp64(&L->q, &cq);
    check_transform(m, &cq);
    check_fp64(&L->down, &cd);
    free(Hq), free(Hd), free(cq.x), free(cd.x);
    qwen3_free(m);
    return TEST_REPORT();
}
