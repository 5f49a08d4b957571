/* e01-formats -- error of every number format on synthetic matrices and on real weights; spec: spec.en.md
 * Usage: build/bin/e01-formats [--force] [--seed S] [--rows N] [--cols K] [--results DIR]
 *        [--model DIR] [--backend cpu|cuda]   (--backend is accepted for `make run`; e01 runs on the CPU)
 * Writes: results/synthetic/e01-formats/<label>.json (atomically), one per scheme of src/formats and one per
 * named option a scheme lists in its qformat_ops.variants (int4-g128-sym-awq, nvfp4-clamp, ...). The
 * "weights" case quantizes every decoder Linear of the checkpoint DIR (default models/qwen3-tiny), each as
 * its own tensor, and reports the error of all of them together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"     // defines: die, die_usage, xmalloc
#include "core/cli.h"       // defines: cli_int
#include "core/manifest.h"  // defines: manifest_init, manifest_seal, manifest_cache_hit, manifest_write_result
#include "eval/qerror.h"    // defines: qerror_compute
#include "eval/synthetic.h" // defines: synthetic_matrix, synthetic_dist_name
#include "formats/qformat.h" // defines: qtensor_quantize, qtensor_dequantize, qtensor_bits_per_element
#include "model/hf_cache.h"  // defines: hf_cache_resolve
#include "model/qwen3.h"     // defines: qwen3_load, qwen3_for_each_linear
#include "ops/linear.h"      // defines: struct linear

#define E01_NAME "e01-formats"

struct e01_params {
    uint64_t seed;
    int64_t rows, cols;
    const char *results;
    const char *model;   /* checkpoint whose decoder Linears form the "weights" case */
    int force;
};

static struct e01_params e01_defaults(void) {
    /* Defaults live here and in the spec only. */
    struct e01_params p = {.seed = 1, .rows = 4096, .cols = 4096, .results = "results",
                          .model = "models/qwen3-tiny", .force = 0};
    return p;
}

static void usage(FILE *f) {
    fprintf(f, "usage: e01-formats [--force] [--seed S] [--rows N] [--cols K] [--results DIR]\n"
               "                  [--model DIR] [--backend cpu|cuda]\n"
               "Quantizes seeded synthetic N x K matrices, and every decoder Linear of the checkpoint DIR\n"
               "(default models/qwen3-tiny), with every scheme of src/formats and writes\n"
               "results/synthetic/e01-formats/<scheme>.json. --backend is accepted and ignored (CPU only).\n");
}

static void e01_parse_args(struct e01_params *p, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--force")) p->force = 1;
        else if (!strcmp(a, "--seed") && has_val) p->seed = (uint64_t)cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--rows") && has_val) p->rows = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--cols") && has_val) p->cols = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--results") && has_val) p->results = argv[++i];
        else if (!strcmp(a, "--model") && has_val) p->model = argv[++i];   /* folder or cached HF id (hf_cache.h) */
        else if (!strcmp(a, "--backend") && has_val) i++;
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
}

/* One measured scheme: a format with its resolved options, named by its label. */
struct e01_scheme {
    enum qformat f;
    struct qparams qp;
    char label[64];
};

/* Every scheme with default options, in enum order, each followed by the named variants of its ops row. */
static int e01_schemes(struct e01_scheme *out, int cap) {
    int n = 0;
    for (int f = 0; f < QFORMAT_COUNT; f++) {
        const struct qformat_ops *o = qformat_ops((enum qformat)f);
        CHECK(n < cap, "too many schemes");
        out[n].f = (enum qformat)f;
        out[n].qp = qformat_resolve((enum qformat)f, NULL);
        qformat_label(out[n].f, &out[n].qp, out[n].label, sizeof out[n].label);
        n++;
        for (const char *const *v = o->variants; v && *v; v++) {
            CHECK(n < cap, "too many schemes");
            int g = qformat_parse(*v, &out[n].qp);
            CHECK(g == f, "variant '%s' of %s does not parse back to it", *v, o->name);
            out[n].f = (enum qformat)f;
            qformat_label(out[n].f, &out[n].qp, out[n].label, sizeof out[n].label);
            n++;
        }
    }
    return n;
}

/* The manifest of one scheme: everything that determines its numbers. */
static void e01_manifest(struct manifest *m, const struct e01_params *p, const struct e01_scheme *sc) {
    struct qparams qp = sc->qp;
    enum qformat f = sc->f;
    manifest_init(m, p->results, E01_NAME, "synthetic", sc->label);
    manifest_param_int(m, "seed", (int64_t)p->seed);
    manifest_param_int(m, "rows", p->rows);
    manifest_param_int(m, "cols", p->cols);
    char label[64];
    /* The resolved scheme label carries the options that matter (group size, MX / INT4 / NVFP4 rules). */
    manifest_param_str(m, "scheme", qformat_label(f, &qp, label, sizeof label));
    manifest_param_int(m, "n_outlier_channels", SYNTHETIC_N_OUTLIER);
    manifest_param_num(m, "outlier_gain", SYNTHETIC_OUTLIER_GAIN);
    manifest_param_int(m, "student_t_nu", SYNTHETIC_STUDENT_NU);
    char name[256];
    manifest_param_str(m, "weights_model", manifest_model_name(p->model, name, sizeof name));
    char *dir = hf_cache_resolve(p->model);   /* hash the files of the cached snapshot an HF id names */
    manifest_input_checkpoint(m, dir);
    free(dir);
    manifest_seal(m);
}

/* The "weights" case: every decoder Linear quantized as its own tensor, errors summed in visit order. */
struct weights_case {
    enum qformat f;
    struct qparams qp;
    float *scratch;        /* dequantized weights, sized for the largest Linear */
    int64_t scratch_n;
    struct qerror_acc acc;
};

static void weights_visit(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind,
                          struct linear *l) {
    struct weights_case *wc = ctx;
    (void)layer, (void)expert, (void)kind;
    char err[256];
    if (qformat_check_shape(wc->f, &wc->qp, l->N, l->K, err, sizeof err) != 0) die("%s: %s", name, err);
    if (l->N * l->K > wc->scratch_n) {
        wc->scratch_n = l->N * l->K;
        wc->scratch = xrealloc(wc->scratch, (size_t)wc->scratch_n * sizeof *wc->scratch);
    }
    struct qtensor qt;
    qtensor_quantize(&qt, wc->f, l->w, l->N, l->K, &wc->qp);
    qtensor_dequantize(&qt, wc->scratch);
    qtensor_free(&qt);
    qerror_acc_add(&wc->acc, l->w, wc->scratch, l->N * l->K);
}

static void add_case(cJSON *metrics, cJSON *cases, const char *dn, struct qerror e) {
    char key[64];
    snprintf(key, sizeof key, "sqnr_db_%s", dn);
    cJSON_AddNumberToObject(metrics, key, e.sqnr_db);
    snprintf(key, sizeof key, "rel_mse_%s", dn);
    cJSON_AddNumberToObject(metrics, key, e.rel_mse);
    snprintf(key, sizeof key, "max_abs_err_%s", dn);
    cJSON_AddNumberToObject(metrics, key, e.max_abs_err);
    cJSON *c = cJSON_CreateObject(), *cm = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", dn);
    cJSON_AddNumberToObject(cm, "sqnr_db", e.sqnr_db);
    cJSON_AddNumberToObject(cm, "rel_mse", e.rel_mse);
    cJSON_AddNumberToObject(cm, "max_abs_err", e.max_abs_err);
    cJSON_AddItemToObject(c, "metrics", cm);
    cJSON_AddItemToArray(cases, c);
}

int main(int argc, char **argv) {
    check_set_progname(argv[0]);
    struct e01_params p = e01_defaults();
    e01_parse_args(&p, argc, argv);
    const int64_t n = p.rows * p.cols;
    float *mats[SYNTHETIC_DIST_COUNT] = {NULL};
    float *q = NULL;
    struct qwen3_model *model = NULL;
    int n_run = 0, n_hit = 0;

    struct e01_scheme schemes[64];
    int n_schemes = e01_schemes(schemes, 64);
    for (int si = 0; si < n_schemes; si++) {
        const struct e01_scheme *sc = &schemes[si];
        enum qformat f = sc->f;
        const char *label = sc->label;
        struct manifest m;
        e01_manifest(&m, &p, sc);
        if (!p.force && manifest_cache_hit(&m)) {
            fprintf(stderr, "%s: %-18s cache hit (%s)\n", check_progname(), label, m.result_path);
            manifest_free(&m);
            n_hit++;
            continue;
        }
        manifest_print(&m, stderr);
        double t0 = monotonic_seconds();
        /* The matrices are drawn and the model loaded lazily, once, and only if some scheme has to run. */
        if (!q) {
            model = qwen3_load(p.model);
            q = xmalloc((size_t)n * sizeof *q);
            for (int d = 0; d < SYNTHETIC_DIST_COUNT; d++) {
                mats[d] = xmalloc((size_t)n * sizeof *mats[d]);
                synthetic_matrix((enum synthetic_dist)d, p.seed * 1000 + (uint64_t)d, p.rows, p.cols, mats[d]);
            }
        }
        cJSON *metrics = cJSON_CreateObject(), *cases = cJSON_CreateArray();
        cJSON_AddNumberToObject(metrics, "bits_per_element", qtensor_bits_per_element(f, &sc->qp, p.rows, p.cols));
        for (int d = 0; d < SYNTHETIC_DIST_COUNT; d++) {
            struct qtensor qt;
            qtensor_quantize(&qt, f, mats[d], p.rows, p.cols, &sc->qp);
            qtensor_dequantize(&qt, q);
            qtensor_free(&qt);
            struct qerror e = qerror_compute(mats[d], q, n);
            const char *dn = synthetic_dist_name((enum synthetic_dist)d);
            add_case(metrics, cases, dn, e);
            fprintf(stderr, "%s: %-18s %-13s sqnr %7.2f dB\n", check_progname(), label, dn, e.sqnr_db);
        }
        struct weights_case wc = {.f = f, .qp = sc->qp, .scratch = NULL, .scratch_n = 0, .acc = {0, 0, 0}};
        qwen3_for_each_linear(model, weights_visit, &wc);
        free(wc.scratch);
        struct qerror e = qerror_acc_result(&wc.acc);
        add_case(metrics, cases, "weights", e);
        fprintf(stderr, "%s: %-18s %-13s sqnr %7.2f dB\n", check_progname(), label, "weights", e.sqnr_db);
        manifest_write_result(&m, metrics, cases);
        fprintf(stderr, "%s: %-18s wrote %s (%.1f s)\n", check_progname(), label, m.result_path,
                monotonic_seconds() - t0);
        manifest_free(&m);
        n_run++;
    }
    fprintf(stderr, "%s: %d scheme(s) computed, %d cache hit(s)\n", check_progname(), n_run, n_hit);
    for (int d = 0; d < SYNTHETIC_DIST_COUNT; d++) free(mats[d]);
    free(q);
    qwen3_free(model);
    return 0;
}
