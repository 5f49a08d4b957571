/* dataset -- pinned evaluation files and the exact texts built from them (see dataset.h). */
#include "data/dataset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "engine/generate.h"

/* ---- the one table of pinned files ---- */

/* Hashes and sizes are those of ../shared/data/<dir>/SHA256SUMS and SOURCES.md. This is the only table: the
 * programs check it when they read a file, and `make data` runs `ql data-verify`, which checks the same rows
 * with the same search order (src/cli/cmd_data_verify.c). */
static const struct dataset_file FILES[] = {
    {"wikitext-2/wiki.test.raw", "173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08", 1290590,
     "CANONICAL", "https://wikitext.smerity.com/wikitext-2-raw-v1.zip",
     "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11", "wikitext-2-raw/wiki.test.raw"},
    {"c4/c4_validation_2k.jsonl", "c366f4a1a99f6586c6bb35a7aafa0fd86dd750b98edb2af8d6269c43cfbb14a0", 4514079,
     "DERIVED", NULL, NULL, NULL},
};

#define N_FILES ((int)(sizeof FILES / sizeof FILES[0]))

int dataset_file_count(void) { return N_FILES; }

const struct dataset_file *dataset_file_at(int i) {
    CHECK(i >= 0 && i < N_FILES, "dataset file index %d", i);
    return &FILES[i];
}

const struct dataset_file *dataset_file_by_name(const char *name) {
    for (int i = 0; i < N_FILES; i++)
        if (!strcmp(FILES[i].name, name)) return &FILES[i];
    return NULL;
}

static const char *const CORPUS_NAMES[DATASET_CORPUS_COUNT] = {"wikitext2", "c4", "c4-calib"};
static const int CORPUS_FILE[DATASET_CORPUS_COUNT] = {0, 1, 1};

const char *dataset_corpus_name(enum dataset_corpus c) {
    CHECK(c >= 0 && c < DATASET_CORPUS_COUNT, "corpus %d", (int)c);
    return CORPUS_NAMES[c];
}

int dataset_corpus_by_name(const char *name) {
    for (int i = 0; i < DATASET_CORPUS_COUNT; i++)
        if (!strcmp(CORPUS_NAMES[i], name)) return i;
    return -1;
}

const struct dataset_file *dataset_corpus_file(enum dataset_corpus c) {
    CHECK(c >= 0 && c < DATASET_CORPUS_COUNT, "corpus %d", (int)c);
    return &FILES[CORPUS_FILE[c]];
}

/* ---- finding and verifying ---- */

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *dataset_find(const char *name, const char *data_dir) {
    /* The DESIGN.md search order; an explicit directory (the command line) comes before all of them. */
    const char *env = getenv("QL_DATA_DIR");
    const char *dirs[4] = {data_dir, env && *env ? env : NULL, "data", "../shared/data"};
    for (int i = 0; i < 4; i++) {
        if (!dirs[i]) continue;
        char *p = join_path(dirs[i], name);
        if (file_exists(p)) return p;
        free(p);
    }
    return NULL;
}

int dataset_verify(const char *path, const char *name, const char *expected, char *err, size_t n,
                   char found[SHA256_HEX_LEN]) {
    char hex[SHA256_HEX_LEN];
    sha256_file(path, hex);
    if (found) memcpy(found, hex, SHA256_HEX_LEN);
    if (strcmp(hex, expected) == 0) return 0;
    snprintf(err, n, "%s: sha256 mismatch for '%s': expected %s, found %s", path, name, expected, hex);
    return -1;
}

/* ---- joining rules ---- */

char *dataset_wikitext2_join(const char *raw, size_t n, size_t *out_len) {
    /* Rows are the file's lines (HF's wikitext builder reads the file line by line and yields "" for a line
     * with only whitespace, else the line with its newline); GPTQ then scores "\n\n".join(rows). The result
     * is at most n + 2 * (lines - 1) bytes. */
    size_t n_lines = 0;
    for (size_t i = 0; i < n; i++) n_lines += raw[i] == '\n';
    char *out = xmalloc(n + 2 * (n_lines + 1) + 1);
    size_t o = 0, pos = 0;
    int first = 1;
    while (pos < n) {
        const char *nl = memchr(raw + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - raw) + 1 : n;   /* one past the line, newline included */
        int blank = 1;
        for (size_t i = pos; i < end; i++)
            if (!strchr(" \t\n\r\v\f", raw[i])) { blank = 0; break; }
        if (!first) { out[o++] = '\n'; out[o++] = '\n'; }
        first = 0;
        if (!blank) {
            memcpy(out + o, raw + pos, end - pos);
            o += end - pos;
        }
        pos = end;
    }
    out[o] = 0;
    if (out_len) *out_len = o;
    return out;
}

char *dataset_c4_join(const char *jsonl, size_t n, int64_t doc_begin, int64_t doc_end, const char *what,
                      size_t *out_len) {
    CHECK(doc_begin >= 0 && doc_begin <= doc_end, "documents [%lld, %lld)", (long long)doc_begin,
          (long long)doc_end);
    size_t cap = 1 << 20, o = 0;
    char *out = xmalloc(cap);
    int64_t doc = 0;
    size_t pos = 0;
    while (pos < n && doc < doc_end) {
        const char *nl = memchr(jsonl + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - jsonl) : n;
        if (end == pos) { pos = end + 1; continue; }   /* tolerate an empty line (e.g. a final "\n\n") */
        if (doc >= doc_begin) {
            cJSON *o_json = cJSON_ParseWithLength(jsonl + pos, end - pos);
            const cJSON *t = o_json ? cJSON_GetObjectItemCaseSensitive(o_json, "text") : NULL;
            if (!cJSON_IsString(t))
                die("%s: line %lld: expected a JSON object with a string \"text\"", what, (long long)doc + 1);
            size_t len = strlen(t->valuestring);
            while (o + len + 2 > cap) cap *= 2;
            out = xrealloc(out, cap);
            if (doc > doc_begin) out[o++] = ' ';
            memcpy(out + o, t->valuestring, len);
            o += len;
            cJSON_Delete(o_json);
        }
        doc++;
        pos = end + 1;
    }
    if (doc < doc_end)
        die("%s: expected at least %lld documents, found %lld", what, (long long)doc_end, (long long)doc);
    out[o] = 0;
    if (out_len) *out_len = o;
    return out;
}

/* ---- loading ---- */

int dataset_load(struct dataset_text *d, enum dataset_corpus c, const char *data_dir) {
    memset(d, 0, sizeof *d);
    const struct dataset_file *f = dataset_corpus_file(c);
    char *path = dataset_find(f->name, data_dir);
    if (!path) return -1;
    char err[512];
    if (dataset_verify(path, f->name, f->sha256, err, sizeof err, d->sha256) != 0)
        die("%s\nhint: the file differs from the pinned one; fetch it again (make data) or point --data-dir / "
            "QL_DATA_DIR at a verified copy (../shared/data)", err);
    size_t n;
    char *raw = file_read_all(path, &n);
    if (c == DATASET_WIKITEXT2) d->text = dataset_wikitext2_join(raw, n, &d->len);
    else if (c == DATASET_C4) d->text = dataset_c4_join(raw, n, 0, DATASET_C4_EVAL_DOCS, path, &d->len);
    else d->text = dataset_c4_join(raw, n, DATASET_C4_EVAL_DOCS, DATASET_C4_DOCS, path, &d->len);
    free(raw);
    d->corpus = c;
    d->path = path;
    d->file = f->name;
    return 0;
}

void dataset_text_free(struct dataset_text *d) {
    free(d->text);
    free(d->path);
    memset(d, 0, sizeof *d);
}

/* ---- token streams ---- */

int dataset_tokens_load(struct dataset_tokens *t, enum dataset_corpus c, const char *data_dir,
                        const struct tokenizer *tok) {
    memset(t, 0, sizeof *t);
    struct dataset_text d;
    if (dataset_load(&d, c, data_dir) != 0) return -1;
    size_t n;
    t->ids = tokenizer_encode(tok, d.text, d.len, &n);
    t->n = (int64_t)n;
    snprintf(t->name, sizeof t->name, "%s", dataset_corpus_name(c));
    t->file = d.file;
    memcpy(t->sha256, d.sha256, SHA256_HEX_LEN);
    dataset_text_free(&d);
    return 0;
}

void dataset_tokens_from_ids(struct dataset_tokens *t, int32_t *ids, int64_t n, const char *name) {
    memset(t, 0, sizeof *t);
    t->ids = ids;
    t->n = n;
    t->sampled = 1;
    snprintf(t->name, sizeof t->name, "%s", name);
    /* The ids are the data: hash their bytes (int32, little-endian on every supported host). */
    sha256_buf(t->ids, (size_t)t->n * sizeof *t->ids, t->sha256);
}

void dataset_tokens_sample(struct dataset_tokens *t, struct engine *e, int32_t first_id, int64_t n_seqs,
                           int64_t seq_len, uint64_t seed, const char *name) {
    int32_t *ids = xmalloc((size_t)(n_seqs * seq_len) * sizeof *ids);
    generate_sample_sequences(e, first_id, n_seqs, seq_len, seed, ids);
    dataset_tokens_from_ids(t, ids, n_seqs * seq_len, name);
}

void dataset_tokens_free(struct dataset_tokens *t) {
    free(t->ids);
    memset(t, 0, sizeof *t);
}
