/* cmd_export_gguf -- `ql export-gguf`: see cmd_export_gguf.h. */
#include "cli/cmd_export_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/check.h"
#include "core/cli.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "formats/ggml_block.h"
#include "harness/harness.h"
#include "model/qwen3.h"
#include "quant/gguf_export.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

static void usage(FILE *f) {
    char names[1024];
    fprintf(f,
            "usage: ql export-gguf -m DIR (-r RECIPE | --weights SCHEME) -o OUT.gguf [options]\n"
            "Writes the checkpoint DIR, quantized, as a GGUF v3 file (src/quant/gguf_export.h says which ggml\n"
            "type each scheme becomes and what is refused).\n\n"
            "  -m, --model DIR      HF checkpoint directory (config.json, *.safetensors, tokenizer.json)\n"
            "  -r, --recipe NAME    a weight-only recipe: %s\n"
            "      --weights S      instead: RTN of every decoder Linear into scheme S (int4-g128-sym,\n"
            "                       int4-g32-asym, mxfp4, nvfp4, ...)\n"
            "      --as-loaded      instead: the weights as loaded, no quantization (MODEL may be a .gguf:\n"
            "                       its decoded values are written as F32)\n"
            "  -o, --out FILE       output .gguf file\n"
            "      --float T        f32 (default) or bf16: the type of unquantized Linears\n"
            "      --q8_0           unquantized Linears as Q8_0 (a baseline)\n"
            "      --data-dir D, --calib-seqs N, --calib-len N, --seed S   as in ql quantize\n"
            "  -h, --help           this text\n",
            recipe_list_names(names, sizeof names));
}

struct rtn_ctx {
    enum qformat f;
    struct qparams p;
    const char *label;
};

static void rtn_one(void *ctx, const char *name, int layer, int expert, enum qwen3_linear_kind kind, struct linear *l) {
    (void)name, (void)layer, (void)expert, (void)kind;
    const struct rtn_ctx *c = ctx;
    struct qtensor *q = xcalloc(1, sizeof *q);
    qtensor_quantize(q, c->f, l->w, l->N, l->K, &c->p);
    linear_set_packed(l, q, c->label);
}

int cmd_export_gguf(int argc, char **argv) {
    const char *model = NULL, *rname = NULL, *wname = NULL, *out = NULL, *data_dir = NULL, *ftype = "f32";
    int64_t calib_seqs = 16, calib_len = 512;
    uint64_t seed = 1;
    int q8 = 0, as_loaded = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (cli_common_model_recipe(argc, argv, &i, &model, &rname)) continue;
        else if (!strcmp(a, "--weights") && v) wname = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && v) out = argv[++i];
        else if (!strcmp(a, "--float") && v) ftype = argv[++i];
        else if (!strcmp(a, "--q8_0")) q8 = 1;
        else if (!strcmp(a, "--as-loaded")) as_loaded = 1;
        else if (!strcmp(a, "--data-dir") && v) data_dir = argv[++i];
        else if (!strcmp(a, "--calib-seqs") && v) calib_seqs = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-len") && v) calib_len = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--seed") && v) seed = (uint64_t)cli_int(a, argv[++i], 1);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!model || !out || (!!rname + !!wname + as_loaded != 1)) {
        usage(stderr);
        die_usage("-m, -o and exactly one of -r / --weights / --as-loaded are required");
    }
    struct gguf_export_opts eo = {.float_type = GGML_BLOCK_F32, .q8_0 = q8};
    if (!strcmp(ftype, "bf16")) eo.float_type = GGML_BLOCK_BF16;
    else if (strcmp(ftype, "f32")) die_usage("--float: expected f32 or bf16, got '%s'", ftype);
    double t0 = monotonic_seconds();
    struct qwen3_model *m;
    const char *what;
    if (rname) {
        const struct recipe *r = recipe_by_name_or_die(rname, "-r");
        struct harness_opts o;
        cli_common_calib_opts(&o, model, data_dir, calib_seqs, calib_len, seed);
        struct harness h;
        harness_init(&h, "ql-export-gguf", &o);
        struct quant_stats st;
        engine_free(harness_open_recipe(&h, r, &m, &st));
        harness_free(&h, 0);
        what = r->name;
    } else if (as_loaded) {
        m = qwen3_load(model);
        what = "as loaded";
    } else {
        struct rtn_ctx c;
        int f = qformat_parse(wname, &c.p);
        if (f < 0) die_usage("--weights: unknown scheme '%s'", wname);
        c.f = (enum qformat)f;
        c.label = wname;
        m = qwen3_load(model);
        qwen3_for_each_linear(m, rtn_one, &c);
        what = wname;
    }
    uint64_t bytes = gguf_export_write(m, &eo, out);
    fprintf(stderr, "%s: %s: wrote %s (%llu bytes) in %.1f s\n", check_progname(), what, out,
            (unsigned long long)bytes, monotonic_seconds() - t0);
    qwen3_free(m);
    return 0;
}
