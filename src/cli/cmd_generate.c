/* cmd_generate -- `ql generate -m DIR (-p TEXT | --ids LIST) [-n MAX_NEW] [sampling options]`.
 * Tokenizes the prompt with DIR/tokenizer.json (or --tokenizer), runs generate_run and streams the decoded
 * text to stdout; stops at the model's eos ids and at <|im_end|>. --chat wraps the prompt in Qwen3's chat
 * template (one user turn, thinking off: an empty <think></think> block, as the template does). */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd_generate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/cpu_exec.h"
#include "engine/engine.h"
#include "engine/generate.h"
#include "model/qwen3.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: ql generate -m DIR (-p TEXT | --ids \"ID ID ...\") [options]\n"
            "Continues a prompt with the Qwen3 CPU engine (FP32) and prints the new text.\n\n"
            "  -m, --model DIR         HF checkpoint directory (config.json, *.safetensors, tokenizer.json)\n"
            "  -p, --prompt TEXT       prompt text\n"
            "      --ids LIST          prompt as token ids (no tokenizer needed; output printed as ids)\n"
            "      --chat              wrap TEXT in the Qwen3 chat template (user turn, thinking off)\n"
            "      --tokenizer P       tokenizer.json or its directory (default: DIR)\n"
            "  -n, --max-new N         tokens to generate at most (default 64)\n"
            "  -t, --temperature T     0 = greedy (default 0)\n"
            "      --top-p P           nucleus mass (default 1 = off)\n"
            "      --top-k K           keep the K most likely tokens (default 0 = off)\n"
            "      --presence-penalty X  subtract X from the logits of tokens already generated (default 0)\n"
            "  -s, --seed S            sampling seed (default 0)\n"
            "      --ids-out           print the generated ids instead of text\n"
            "      --kv-bf16           round the KV cache to BF16\n"
            "      --blas-threads      OpenBLAS splits each GEMM over its threads (the experiments' reference\n"
            "                          split); default: the engine's own split, fair on a busy machine\n"
            "      --packed            decode GEMVs read packed weights (int8 / int4 / mxfp4; ops/qgemv.h)\n"
            "  -h, --help              this text\n");
}

struct stream {
    const struct tokenizer *tk;
    int ids_out;
};

static void on_token(void *ctx, int32_t id) {
    struct stream *s = ctx;
    if (s->ids_out || !s->tk) {
        printf("%d ", id);
    } else {
        size_t len;
        const char *b = tokenizer_token_bytes(s->tk, id, &len);
        if (b) fwrite(b, 1, len, stdout);
    }
    fflush(stdout);
}

/* A finite number in [lo, hi] (strtod accepts "nan" and "inf"; a NaN temperature passed every check below,
 * and casting an out-of-range double to float or an integer type is undefined behaviour): a usage error. */
static double parse_num(const char *flag, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s || errno || !(v >= lo && v <= hi))
        die_usage("%s: expected a finite number in [%g, %g], got '%s'", flag, lo, hi, s);
    return v;
}

/* An integer in [lo, hi], both within 2^53 (exact as a double). */
static double parse_int(const char *flag, const char *s, double lo, double hi) {
    double v = parse_num(flag, s, lo, hi);
    if (v != (double)(int64_t)v) die_usage("%s: expected an integer, got '%s'", flag, s);
    return v;
}

int cmd_generate(int argc, char **argv) {
    struct cpu_exec ex = {.threads = CPU_THREADS_OWN, .packed_decode = 0};  /* ops/cpu_exec.h */
    const char *dir = NULL, *prompt = NULL, *ids_s = NULL, *tok_path = NULL;
    int chat = 0, ids_out = 0;
    struct generate_params gp = generate_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has) dir = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--prompt")) && has) prompt = argv[++i];
        else if (!strcmp(a, "--ids") && has) ids_s = argv[++i];
        else if (!strcmp(a, "--chat")) chat = 1;
        else if (!strcmp(a, "--tokenizer") && has) tok_path = argv[++i];
        else if ((!strcmp(a, "-n") || !strcmp(a, "--max-new")) && has) gp.max_new = (int64_t)parse_int(a, argv[++i], 0, 1e9);
        else if ((!strcmp(a, "-t") || !strcmp(a, "--temperature")) && has) gp.sampling.temperature = (float)parse_num(a, argv[++i], 0, 1e6);
        else if (!strcmp(a, "--top-p") && has) gp.sampling.top_p = (float)parse_num(a, argv[++i], 0, 1);
        else if (!strcmp(a, "--top-k") && has) gp.sampling.top_k = (int64_t)parse_int(a, argv[++i], 0, 1e9);
        else if (!strcmp(a, "--presence-penalty") && has) gp.sampling.presence_penalty = (float)parse_num(a, argv[++i], -1e6, 1e6);
        else if ((!strcmp(a, "-s") || !strcmp(a, "--seed")) && has) gp.sampling.seed = (uint64_t)parse_int(a, argv[++i], 0, 9007199254740992.0);
        else if (!strcmp(a, "--ids-out")) ids_out = 1;
        else if (!strcmp(a, "--blas-threads")) ex.threads = CPU_THREADS_BLAS;
        else if (!strcmp(a, "--packed")) ex.packed_decode = 1;
        else if (!strcmp(a, "--kv-bf16")) gp.kv_dtype = KV_CACHE_BF16;
        else { usage(stderr); die_usage("unknown or incomplete option '%s'", a); }
    }
    if (!dir) { usage(stderr); die_usage("-m DIR is required"); }
    if (!!prompt == !!ids_s) { usage(stderr); die_usage("give exactly one of -p and --ids"); }
    if (gp.max_new < 0 || gp.sampling.temperature < 0 || gp.sampling.top_p <= 0 || gp.sampling.top_p > 1 ||
        gp.sampling.top_k < 0)
        die_usage("need max-new >= 0, temperature >= 0, 0 < top-p <= 1, top-k >= 0");

    struct tokenizer *tk = NULL;
    int32_t *ids;
    int64_t n = 0;
    if (prompt) {
        tk = tokenizer_load(tok_path ? tok_path : dir);
        /* --chat: one user turn through Qwen3's chat template, generation prompt on, thinking off. */
        struct chat_message msg = {"user", prompt, NULL};
        char *text = chat ? chat_template_render(&msg, 1, 1, 0) : xstrdup(prompt);
        size_t nn;
        ids = tokenizer_encode(tk, text, strlen(text), &nn);
        n = (int64_t)nn;
        free(text);
        if (n == 0) die("-p: the prompt encodes to no tokens");
        int32_t im_end = tokenizer_im_end_id(tk);
        if (im_end >= 0) gp.stop_ids[gp.n_stop++] = im_end;
    } else {
        size_t cap = 16;
        ids = xmalloc(cap * sizeof *ids);
        for (const char *p = ids_s; *p;) {
            while (*p == ' ' || *p == ',') p++;
            if (!*p) break;
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > INT32_MAX) die_usage("--ids: '%s' is not a list of token ids", ids_s);
            if ((size_t)n == cap) ids = xrealloc(ids, (cap *= 2) * sizeof *ids);
            ids[n++] = (int32_t)v;
            p = end;
        }
        if (n == 0) die_usage("--ids: no token ids given");
    }

    struct qwen3_model *m = qwen3_load(dir);
    int32_t *out = xmalloc((size_t)(gp.max_new > 0 ? gp.max_new : 1) * sizeof *out);
    struct stream s = {.tk = tk, .ids_out = ids_out || !tk};
    struct generate_stats st;
    cpu_exec_set(&ex);
    struct engine *e = engine_create(m, "cpu");
    generate_run(e, ids, n, &gp, out, on_token, &s, &st);
    engine_free(e);
    printf("\n");
    fprintf(stderr, "ql generate: prompt %lld tokens in %.3f s (%.1f tok/s); %lld new tokens in %.3f s (%.2f tok/s)%s\n",
            (long long)st.n_prompt, st.prefill_s, (double)st.n_prompt / (st.prefill_s > 0 ? st.prefill_s : 1e-9),
            (long long)st.n_generated, st.decode_s,
            st.n_generated ? (double)st.n_generated / (st.decode_s > 0 ? st.decode_s : 1e-9) : 0.0,
            st.stopped ? "; stopped at an end-of-sequence token" : "");
    free(out);
    free(ids);
    qwen3_free(m);
    tokenizer_free(tk);
    return 0;
}
