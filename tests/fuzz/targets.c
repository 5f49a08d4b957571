/* targets -- the fuzz targets; see fuzz.h. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "core/check.h"
#include "core/fileio.h"
#include "core/manifest.h"
#include "core/verify.h"
#include "data/dataset.h"
#include "model/logits_file.h"
#include "model/qwen3_config.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "report/placeholders.h"
#include "report/results.h"

jmp_buf fuzz_jmp;
int fuzz_died;
static char g_scratch[256];

static void die_handler(int status) {
    (void)status;
    fuzz_died = 1;
    longjmp(fuzz_jmp, 1);
}

void fuzz_init(void) {
    if (g_scratch[0]) return;
    check_set_die_handler(die_handler);
    const char *v = getenv("FUZZ_VERBOSE");
    if (!(v && !strcmp(v, "1"))) check_set_quiet(1);
    struct stat sb;
    snprintf(g_scratch, sizeof g_scratch, stat("/dev/shm", &sb) == 0 ? "/dev/shm/ql-fuzz-%ld" : "build/tmp/fuzz-%ld",
             (long)getpid());
    mkdir_p(g_scratch);
}

const char *fuzz_scratch(void) { return g_scratch; }

const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_scratch, name);
    mkdir_parent(path);
    FILE *f = fopen(path, "wb");
    CHECK(f, "fuzz scratch %s", path);
    if (size) CHECK(fwrite(data, 1, size, f) == size, "fuzz write");
    fclose(f);
    return path;
}

static char *nul_copy(const uint8_t *d, size_t n) {
    char *s = xmalloc(n + 1);
    memcpy(s, d, n);
    s[n] = 0;
    return s;
}

// ---- model readers ----

/* A safetensors file: header validation, then every float tensor read (bounded, to stay fast). */
static int fuzz_safetensors(const uint8_t *d, size_t n) {
    static struct safetensors st;
    static float *buf;
    if (FUZZ_TRY) {
        safetensors_open_buffer(&st, "fuzz.safetensors", d, n);
        for (int i = 0; i < st.n_tensors; i++) {
            const struct safetensors_tensor *t = st.sorted[i];
            if (t->n_elems > 65536 || !(t->dtype == SAFETENSORS_DTYPE_F32 || t->dtype == SAFETENSORS_DTYPE_BF16 ||
                                        t->dtype == SAFETENSORS_DTYPE_F16 || t->dtype == SAFETENSORS_DTYPE_F8_E4M3 ||
                                        t->dtype == SAFETENSORS_DTYPE_F8_E5M2))
                continue;
            buf = xrealloc(buf, (size_t)(t->n_elems ? t->n_elems : 1) * sizeof *buf);
            safetensors_read_f32(t, buf);
        }
        safetensors_close(&st);
    }
    return 0;
}

/* A shard index over two small valid shards (a.safetensors holds "x", b.safetensors holds "y"). */
static int fuzz_st_index(const uint8_t *d, size_t n) {
    static int ready;
    static char dir[300];
    if (!ready) {
        snprintf(dir, sizeof dir, "%s/index", fuzz_scratch());
        mkdir_p(dir);
        float one = 1.0f;
        struct safetensors_desc x = {.name = "x", .dtype = SAFETENSORS_DTYPE_F32, .n_dims = 1, .shape = {1}, .data = &one};
        struct safetensors_desc y = {.name = "y", .dtype = SAFETENSORS_DTYPE_F32, .n_dims = 1, .shape = {1}, .data = &one};
        char p[400];
        snprintf(p, sizeof p, "%s/a.safetensors", dir);
        safetensors_write(p, 1, &x);
        snprintf(p, sizeof p, "%s/b.safetensors", dir);
        safetensors_write(p, 1, &y);
        ready = 1;
    }
    fuzz_write("index/model.safetensors.index.json", d, n);
    static struct safetensors st;
    if (FUZZ_TRY) {
        safetensors_open(&st, dir);
        safetensors_close(&st);
    }
    return 0;
}

static int fuzz_config(const uint8_t *d, size_t n) {
    static char *s;
    s = nul_copy(d, n);
    if (FUZZ_TRY) {
        struct qwen3_config c;
        qwen3_config_parse(&c, s, "fuzz/config.json");
        CHECK(qwen3_config_n_params(&c) > 0, "an accepted config has a positive parameter count");
    }
    free(s);
    return 0;
}

static int fuzz_logits(const uint8_t *d, size_t n) {
    const char *p = fuzz_write("logits.bin", d, n);
    static struct logits_file lf;
    if (FUZZ_TRY) {
        logits_file_read(&lf, p);
        logits_file_free(&lf);
    }
    return 0;
}

// ---- tokenizer ----

/* tokenizer.json itself: load, then encode and decode one fixed string. */
static int fuzz_tokenizer_load(const uint8_t *d, size_t n) {
    const char *p = fuzz_write("tok/tokenizer.json", d, n);
    static struct tokenizer *t;
    static int32_t *ids;
    static char *out;
    if (FUZZ_TRY) {
        t = tokenizer_load(p);
        size_t m;
        ids = tokenizer_encode(t, "Hello, world! 123 <|endoftext|>", 31, &m);
        tokenizer_decode(t, ids, m, &out);
        free(ids), free(out);
        tokenizer_free(t);
    }
    return 0;
}

/* Text through the embedded model's tokenizer. Property (byte-level BPE is lossless): for valid UTF-8 that is
 * already NFC and writes no special token, decode(encode(text)) == text byte for byte. */
static int fuzz_tokenize(const uint8_t *d, size_t n) {
    static struct tokenizer *t;
    if (!t) t = tokenizer_load("models/qwen3-tiny");
    size_t m;
    int32_t *ids = tokenizer_encode(t, (const char *)d, n, &m);
    for (size_t i = 0; i < m; i++) CHECK(ids[i] >= 0 && (size_t)ids[i] < tokenizer_n_vocab(t), "id %d out of range", ids[i]);
    char *out;
    size_t k = tokenizer_decode(t, ids, m, &out);
    utf8proc_uint8_t *nfc = NULL;
    int valid = n < 1 << 20 && utf8proc_decompose_custom((const utf8proc_uint8_t *)d, (utf8proc_ssize_t)n, NULL, 0, 0, NULL, NULL) >= 0;
    if (valid && !memchr(d, 0, n)) {
        char *s = nul_copy(d, n);
        nfc = utf8proc_NFC((const utf8proc_uint8_t *)s);
        int is_nfc = nfc && !strcmp((const char *)nfc, s) && !strstr(s, "<|");
        if (is_nfc && (k != n || memcmp(out, d, n) != 0)) {
            fprintf(stdout, "round trip broken: %zu bytes in, %zu out\n", n, k);
            abort();
        }
        free(s);
    }
    free(nfc);
    free(out);
    free(ids);
    return 0;
}

// ---- results, manifests, placeholders, datasets ----

/* A results file read through the results store, the manifest reader and verify's comparison. */
static int fuzz_results(const uint8_t *d, size_t n) {
    fuzz_write("res/m/e00-x/r.json", d, n);
    char root[300];
    snprintf(root, sizeof root, "%s/res", fuzz_scratch());
    static struct results *r;
    static struct manifest man;
    static cJSON *j;
    if (FUZZ_TRY) {
        r = results_open(root);
        double v;
        const char *s;
        results_metric(r, "m", "e00-x", "r", "ppl", NULL, &v);
        results_metric(r, "m", "e00-x", "r", "ppl", "wikitext2", &v);
        results_metric_str(r, "m", "e00-x", "r", "data", NULL, &s);
        int k;
        char **rows = results_rows(r, "m", "e00-x", NULL, 0, "ppl", 0, "fuzz", &k);
        results_list_free(rows, k);
        results_free(r);
        r = NULL;
    }
    if (r) results_free(r), r = NULL;
    if (FUZZ_TRY) {
        manifest_init(&man, root, "e00-x", "m", "r");
        manifest_existing_param_is(&man, "data", "files");
        manifest_free(&man);
    }
    j = cJSON_ParseWithLength((const char *)d, n);
    if (j) {
        char note[512];
        enum verify_status st = verify_pair(j, j, NULL, NULL, note, sizeof note);
        CHECK(st != VERIFY_DIFF, "a results file differs from itself: %s", note);
        cJSON_Delete(j);
    }
    return 0;
}

/* The placeholder language over the committed results tree (read-only). */
static int fuzz_placeholders(const uint8_t *d, size_t n) {
    static struct results *r;
    if (!r) r = results_open("results");
    static char **keys;
    static int nk;
    char err[256];
    keys = placeholders_keys((const char *)d, n, &nk, err, sizeof err);
    if (keys) placeholders_keys_free(keys, nk);
    static struct placeholders_ctx ctx;
    static char *out;
    if (FUZZ_TRY) {
        ctx = (struct placeholders_ctx){.res = r, .default_model = "qwen3-tiny", .lang = "en"};
        out = placeholders_resolve((const char *)d, n, "fuzz.md", &ctx);
        free(out);
        placeholders_ctx_free(&ctx);
    }
    return 0;
}

/* The dataset joiners (src/eval/dataset.c: WikiText-2 lines, C4 JSON lines). */
static int fuzz_dataset(const uint8_t *d, size_t n) {
    size_t len;
    char *s = dataset_wikitext2_join((const char *)d, n, &len);
    CHECK(strlen(s) <= len, "join length");
    free(s);
    static char *c;
    if (FUZZ_TRY) {
        c = dataset_c4_join((const char *)d, n, 0, 2, "fuzz.jsonl", &len);
        free(c);
    }
    return 0;
}

const struct fuzz_target FUZZ_TARGETS[] = {
    {"safetensors", fuzz_safetensors},   {"st_index", fuzz_st_index},       {"config", fuzz_config},
    {"tokenizer_load", fuzz_tokenizer_load}, {"tokenize", fuzz_tokenize},   {"results", fuzz_results},
    {"placeholders", fuzz_placeholders}, {"logits", fuzz_logits},           {"dataset", fuzz_dataset},
};
const int FUZZ_N_TARGETS = sizeof FUZZ_TARGETS / sizeof FUZZ_TARGETS[0];
