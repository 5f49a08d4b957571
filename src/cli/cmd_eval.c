/* cmd_eval -- `ql eval -m DIR -r RECIPE --data wikitext2`: see cmd_eval.h. */
#include "cli/cmd_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "core/check.h"
#include "core/cli.h"
#include "core/sha256.h"
#include "data/dataset.h"
#include "eval/perplexity.h"
#include "model/qwen3.h"
#include "engine/engine.h"
#include "harness/harness.h"
#include "model/tokenizer.h"
#include "quant/calib.h"
#include "quant/calib_set.h"
#include "quant/recipe.h"
#include "quant/quantize.h"

static void usage(FILE *f) {
    char names[1024];
    fprintf(f,
            "usage: ql eval -m DIR [-r RECIPE] [--data wikitext2|c4] [options]\n"
            "Prints the perplexity of the checkpoint DIR quantized with RECIPE (simulated, CPU) on a corpus,\n"
            "with the e02-perplexity protocol. One line on stdout:\n"
            "  <recipe> <corpus> ppl <PPL> stderr <SE> tokens <N> windows <W>\n\n"
            "  -m, --model DIR      HF checkpoint directory\n"
            "  -r, --recipe NAME    default bf16; one of: %s\n"
            "      --data NAME      wikitext2 (default) or c4\n"
            "      --text FILE      score this UTF-8 file instead (tokenized in one piece, no special tokens)\n"
            "      --text-offset N  start at byte N of FILE (e.g. a held-out tail); default 0\n"
            "      --windows N      windows to score (default 0 = all)\n"
            "      --ctx N          window length (default 2048, capped by max_position_embeddings)\n"
            "      --data-dir D     data folder (default search: $QL_DATA_DIR, ./data, ../shared/data)\n"
            "      --backend B      cpu (default) or cuda\n"
            "      --algo-calib-seqs N, --algo-calib-len N   GPTQ / AWQ calibration size, as ql quantize and e02\n"
            "  -h, --help           this text\n",
            recipe_list_names(names, sizeof names));
}

static void logits_fn(void *ctx, const int32_t *ids, int64_t T, float *logits) {
    engine_forward(ctx, ids, T, logits, NULL);
}

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *rname = NULL, *data = "wikitext2", *data_dir = NULL, *text = NULL;
    const char *backend = "cpu";
    int64_t windows = 0, ctx = 2048, text_offset = 0, algo_seqs = -1, algo_len = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (cli_common_model_recipe(argc, argv, &i, &model, &rname)) continue;
        else if (!strcmp(a, "--data") && v) data = argv[++i];
        else if (!strcmp(a, "--data-dir") && v) data_dir = argv[++i];
        else if (!strcmp(a, "--text") && v) text = argv[++i];
        else if (!strcmp(a, "--text-offset") && v) text_offset = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--windows") && v) windows = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--ctx") && v) ctx = cli_int(a, argv[++i], 2);
        else if (!strcmp(a, "--backend") && v) backend = argv[++i];
        else if (!strcmp(a, "--algo-calib-seqs") && v) algo_seqs = cli_int(a, argv[++i], 0);
        else if (!strcmp(a, "--algo-calib-len") && v) algo_len = cli_int(a, argv[++i], 0);
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!model) { usage(stderr); die_usage("-m is required"); }
    const struct recipe *r = recipe_by_name(rname ? rname : "bf16");
    if (!r) {
        char names[1024];
        die_usage("-r: unknown recipe '%s' (known: %s)", rname, recipe_list_names(names, sizeof names));
    }
    int c = dataset_corpus_by_name(data);
    if (!text && c != DATASET_WIKITEXT2 && c != DATASET_C4) die_usage("--data: expected wikitext2 or c4, got '%s'", data);

    struct tokenizer *tok = tokenizer_load(model);
    struct dataset_tokens et;
    if (text) {
        /* A raw file: its bytes from text_offset, tokenized in one piece (the qwen3-tiny validation protocol of
         * tools/train-tiny/train.py). The SHA-256 of the ids (int32 little-endian) identifies the token stream. */
        size_t len;
        char *buf = file_read_all(text, &len);
        if ((size_t)text_offset > len) die("%s: --text-offset %lld is past the end (%zu bytes)", text, (long long)text_offset, len);
        size_t n;
        memset(&et, 0, sizeof et);
        et.ids = tokenizer_encode(tok, buf + text_offset, len - (size_t)text_offset, &n);
        et.n = (int64_t)n;
        free(buf);
        char hex[SHA256_HEX_LEN];
        sha256_buf(et.ids, n * sizeof *et.ids, hex);  /* x86-64 is little-endian: the bytes are int32le */
        fprintf(stderr, "ql eval: %s from byte %lld: %zu tokens, ids sha256 %s\n", text, (long long)text_offset, n, hex);
        data = text;
    } else if (dataset_tokens_load(&et, (enum dataset_corpus)c, data_dir, tok) != 0)
        die("%s not found (searched --data-dir, $QL_DATA_DIR, ./data, ../shared/data)\n"
            "hint: make data, or point --data-dir at a folder holding it",
            dataset_corpus_file((enum dataset_corpus)c)->name);
    /* The e02 harness with its defaults (calibration 16 x 512 tokens, seed 1 for the sampled fallback), so a
     * recipe here means exactly what it means in the experiments. */
    struct harness_opts o;
    harness_defaults(&o);
    o.model = model;
    o.data_dir = data_dir;
    o.backend = backend;
    if (algo_seqs >= 0) o.algo_calib_seqs = algo_seqs;
    if (algo_len >= 0) o.algo_calib_len = algo_len;
    struct harness h;
    harness_init(&h, "ql-eval", &o);
    if (ctx > h.cfg.max_pos) ctx = h.cfg.max_pos;
    /* A checkpoint quantized by another tool is scored as it is (its recipe is named after it). */
    if (h.is_checkpoint && !rname) r = &h.ckpt_recipe;
    struct qwen3_model *m;
    struct engine *e = harness_open_recipe(&h, r, &m, NULL);
    int64_t nw = perplexity_n_windows(et.n, ctx, windows);
    if (nw < 1) die("%s: %lld tokens hold no window of %lld", data, (long long)et.n, (long long)ctx);
    struct perplexity_result res;
    perplexity_run(logits_fn, e, m->cfg.V, et.ids, et.n, ctx, nw, NULL, &res);
    printf("%s %s ppl %.6f stderr %.6f tokens %lld windows %lld\n", r->name, data, res.ppl, res.ppl_stderr,
           (long long)res.n_tokens, (long long)res.n_windows);
    harness_close_recipe(e, m);
    harness_free(&h, 0);
    dataset_tokens_free(&et);
    tokenizer_free(tok);
    return 0;
}
