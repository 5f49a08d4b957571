/* cmd_quantize -- `ql quantize -m DIR -r RECIPE -o OUT`: see cmd_quantize.h. */
#define _DEFAULT_SOURCE
#include "cli/cmd_quantize.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/check.h"
#include "core/fileio.h"
#include "core/cli.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "harness/harness.h"
#include "model/qwen3.h"
#include "quant/ckpt_write.h"
#include "quant/recipe.h"
#include "quant/qcheckpoint.h"
#include "quant/quantize.h"

static void usage(FILE *f) {
    char names[1024];
    fprintf(f,
            "usage: ql quantize -m DIR -r RECIPE -o OUT [options]\n"
            "Quantizes every Linear inside the decoder blocks of the checkpoint DIR with a recipe and\n"
            "writes the packed checkpoint to the folder OUT (see src/quant/qcheckpoint.h for the layout).\n\n"
            "  -m, --model DIR      HF checkpoint directory (config.json, *.safetensors, tokenizer.json)\n"
            "  -r, --recipe NAME    one of: %s\n"
            "  -o, --out DIR        output folder: new or empty (written under a temporary name, renamed at the end)\n"
            "      --force          replace an existing output folder\n"
            "      --data-dir D     where the calibration data lives (default search: $QL_DATA_DIR, ./data,\n"
            "                       ../shared/data)\n"
            "      --calib-seqs N   calibration sequences for static recipes (default 16)\n"
            "      --calib-len N    tokens per calibration sequence (default 512)\n"
            "      --algo-calib-seqs N  GPTQ / AWQ calibration sequences (default 8; 0 = the recipe's 128)\n"
            "      --algo-calib-len N   GPTQ / AWQ tokens per sequence (default 0 = the recipe's: 2048 / 512)\n"
            "      --seed S         seed of the calibration sample (and of the sampled text when no data exists;\n"
            "                       default 1)\n"
            "      --calib-source c4|train  calibration text: the C4 calibration documents (default) or the tiny\n"
            "                       models' training text (../shared/corpus/train.txt.xz)\n"
            "      --format F       checkpoint layout: compressed-tensors (default; vLLM, transformers), awq,\n"
            "                       gptq (int4 recipes), ql (the own layout, for what the others cannot carry)\n"
            "  -h, --help           this text\n",
            recipe_list_names(names, sizeof names));
}

int cmd_quantize(int argc, char **argv) {
    const char *model = NULL, *rname = NULL, *out = NULL, *data_dir = NULL, *calib_source = "c4";
    int64_t calib_seqs = 16, calib_len = 512, algo_seqs = 8, algo_len = 0;
    uint64_t seed = 1;
    int force = 0;
    enum ckpt_write_format out_format = CKPT_WRITE_CT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (cli_common_model_recipe(argc, argv, &i, &model, &rname)) continue;
        else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && v) out = argv[++i];
        else if (!strcmp(a, "--data-dir") && v) data_dir = argv[++i];
        else if (!strcmp(a, "--force")) force = 1;
        else if (!strcmp(a, "--calib-seqs") && v) calib_seqs = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-len") && v) calib_len = cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--algo-calib-seqs") && v) algo_seqs = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--algo-calib-len") && v) algo_len = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--seed") && v) seed = (uint64_t)cli_int(a, argv[++i], 1);
        else if (!strcmp(a, "--calib-source") && v) {
            calib_source = argv[++i];
            if (calib_source_by_name(calib_source) < 0)
                die_usage("--calib-source: expected c4 or train, got '%s'", calib_source);
        }
        else if (!strcmp(a, "--format") && v) {
            int f = ckpt_write_format_parse(argv[++i]);
            if (f < 0) die_usage("--format: unknown '%s' (compressed-tensors, awq, gptq, ql)", argv[i]);
            out_format = (enum ckpt_write_format)f;
        }
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!model || !rname || !out) { usage(stderr); die_usage("-m, -r and -o are required"); }
    const struct recipe *r = recipe_by_name(rname);
    if (!r) {
        char names[1024];
        die_usage("-r: unknown recipe '%s' (known: %s)", rname, recipe_list_names(names, sizeof names));
    }
    /* Never the input, never inside it, never over an existing checkpoint unless --force: checked before any
     * work, so a refusal costs nothing. The folder is written under a temporary name and renamed into place at
     * the end (fileio_tmp: a die() anywhere on the way removes it), so no half checkpoint is ever left. */
    struct stat so;
    if (stat(out, &so) == 0 && !S_ISDIR(so.st_mode)) die("-o %s: exists and is not a folder", out);
    char *rin = realpath(model, NULL), *rparent = NULL;
    {
        char *dup = xstrdup(out), *slash = strrchr(dup, '/');
        if (slash && slash != dup) *slash = 0;
        else snprintf(dup, strlen(out) + 1, "%s", slash == dup ? "/" : ".");
        rparent = realpath(dup, NULL);
        free(dup);
    }
    if (fileio_same_file(out, model) ||
        (rin && rparent && !strncmp(rparent, rin, strlen(rin)) && (rparent[strlen(rin)] == 0 || rparent[strlen(rin)] == '/')))
        die("-o %s: is the input checkpoint %s or inside it (expected a separate output folder)", out, model);
    free(rin);
    free(rparent);
    if (fileio_dir_nonempty(out) && !force)
        die("-o %s: exists and is not empty (expected a new or empty folder; --force replaces it)", out);
    double t0 = monotonic_seconds();
    /* The experiments' harness: calibration (static ranges, GPTQ / AWQ tokens) from the same calibration set,
     * never an evaluation set, so a checkpoint written here holds what the experiments measured. */
    struct harness_opts o;
    cli_common_calib_opts(&o, model, data_dir, calib_seqs, calib_len, seed);
    o.algo_calib_seqs = algo_seqs;
    o.algo_calib_len = algo_len;
    o.calib_source = calib_source;
    struct harness h;
    harness_init(&h, "ql-quantize", &o);
    struct qwen3_model *m;
    struct quant_stats st;
    struct engine *e = harness_open_recipe(&h, r, &m, &st);
    engine_free(e);
    struct fileio_tmp tmp;
    fileio_tmp_begin(&tmp, out, 1);
    size_t bytes = ckpt_write(m, r, out_format, tmp.tmp);
    fileio_tmp_commit(&tmp, 1);
    fprintf(stderr, "%s: %s: %lld Linears, %.4f bits per weight (%zu bytes); wrote %s/model.safetensors "
                    "(%s, %zu bytes) in %.1f s\n",
            check_progname(), r->name, (long long)st.n_linears, st.bits_per_weight, st.weight_bytes, out, ckpt_write_format_name(out_format), bytes,
            monotonic_seconds() - t0);
    qwen3_free(m);
    harness_free(&h, 0);
    return 0;
}
