/* dataset -- the evaluation corpora, found on disk, pinned by sha256, and turned into the exact text scored.
 * Files are found by name ("wikitext-2/wiki.test.raw") in: a --data-dir, $QL_DATA_DIR, ./data, ../shared/data
 * (first hit wins); their sha256 must match the one table in dataset.c, else an error names both hashes.
 * WikiText-2 test = the rows of wiki.test.raw as HF `datasets` yields them (one per line, with its "\n";
 * whitespace-only lines as "") joined with "\n\n", the string GPTQ's datautils scores. C4 = the "text" of
 * documents [0, 1100) of the 2000-document slice joined with " " (GPTQ's 1100); calibration = documents
 * [1100, 2000) joined the same way, never scored. No data: the callers sample a token stream from the BF16 model
 * (engine/generate.h) and wrap it with dataset_tokens_from_ids. */
#ifndef SRC_DATA_DATASET_H
#define SRC_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"
#include "engine/engine.h"
#include "model/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The C4 slice split: evaluation documents [0, DATASET_C4_EVAL_DOCS), calibration documents after them. */
#define DATASET_C4_EVAL_DOCS 1100
#define DATASET_C4_DOCS 2000

/* A pinned file: its name under DATA_DIR, sha256 and size, and where `make data` downloads it from (through
 * `ql data-verify`, which reads this table: it is the only one). */
struct dataset_file {
    const char *name;
    const char *sha256;
    int64_t bytes;
    const char *status;      /* CANONICAL or DERIVED, as in ../shared/data/SOURCES.md */
    const char *url;         /* public download, or NULL (a derived file: no URL) */
    const char *url_sha256;  /* sha256 of what url serves (checked before anything is extracted) */
    const char *member;      /* the file inside the zip that url serves, or NULL when url is the file itself */
};

/* The corpora the accuracy experiments read. */
enum dataset_corpus {
    DATASET_WIKITEXT2 = 0,   /* "wikitext2": WikiText-2 raw test */
    DATASET_C4,              /* "c4": the C4 validation slice, evaluation documents */
    DATASET_C4_CALIB,        /* "c4-calib": the C4 validation slice, calibration documents (never scored) */
    DATASET_CORPUS_COUNT
};

/* A loaded corpus: the joined text (NUL-terminated, owned), the file it came from and its hash. */
struct dataset_text {
    enum dataset_corpus corpus;
    char *text;
    size_t len;
    char *path;                        /* local path of the file (owned) */
    const char *file;                  /* the pinned name, e.g. "c4/c4_validation_2k.jsonl" */
    char sha256[SHA256_HEX_LEN];
};

/* The table of pinned files. */
int dataset_file_count(void);
const struct dataset_file *dataset_file_at(int i);
const struct dataset_file *dataset_file_by_name(const char *name);

/* Name of a corpus ("wikitext2", "c4", "c4-calib") and the reverse lookup (-1 if unknown). */
const char *dataset_corpus_name(enum dataset_corpus c);
int dataset_corpus_by_name(const char *name);

/* The pinned file a corpus is read from. */
const struct dataset_file *dataset_corpus_file(enum dataset_corpus c);

/* Returns a fresh path "<dir>/<name>" for the first directory of the search order (data_dir may be NULL)
 * where the file exists, or NULL when none has it. */
char *dataset_find(const char *name, const char *data_dir);

/* Hashes path and compares with expected. Returns 0 on a match; else -1 with "path: sha256 mismatch for
 * 'name': expected E, found F" in err (n bytes). found (optional) receives the hash. */
int dataset_verify(const char *path, const char *name, const char *expected, char *err, size_t n,
                   char found[SHA256_HEX_LEN]);

/* Loads corpus c: finds its file, verifies the hash (die() on a mismatch, with a hint), and builds the
 * joined text as the header comment says. Returns 0, or -1 (d zeroed) when no directory holds the file. */
int dataset_load(struct dataset_text *d, enum dataset_corpus c, const char *data_dir);
void dataset_text_free(struct dataset_text *d);

/* The WikiText-2 joining rule on a raw file's n bytes; returns a fresh NUL-terminated string, *out_len its
 * length. A last line without "\n" is kept as it is. */
char *dataset_wikitext2_join(const char *raw, size_t n, size_t *out_len);

/* The C4 joining rule: the "text" fields of the JSON lines [doc_begin, doc_end) of a JSONL buffer, joined
 * with " ". Dies naming `what` and the line on a malformed line or a missing "text", and when the file holds
 * fewer than doc_end documents. */
char *dataset_c4_join(const char *jsonl, size_t n, int64_t doc_begin, int64_t doc_end, const char *what,
                      size_t *out_len);

/* A token stream to evaluate or calibrate on. */
struct dataset_tokens {
    int32_t *ids;
    int64_t n;
    char name[32];                     /* corpus name, or "sampled" / "sampled-calib" */
    int sampled;                       /* 1 when sampled from the model (no data file) */
    const char *file;                  /* the pinned file name; NULL when sampled */
    char sha256[SHA256_HEX_LEN];       /* the file's hash, or the hash of the sampled ids (int32 LE bytes) */
};

/* Loads corpus c (dataset_load) and tokenizes its text in one piece with no special tokens. Returns 0, or -1
 * (t zeroed) when the file is absent. */
int dataset_tokens_load(struct dataset_tokens *t, enum dataset_corpus c, const char *data_dir,
                        const struct tokenizer *tok);

/* Wraps n ids that were not read from a file (text sampled from a model: engine/generate.h) as a token
 * stream named name: t owns ids from now on, sampled = 1, sha256 = the hash of the ids' bytes. */
void dataset_tokens_from_ids(struct dataset_tokens *t, int32_t *ids, int64_t n, const char *name);

/* The no-data fallback: n_seqs sequences of seq_len tokens sampled from the model behind e with the engine's
 * one decode loop and sampler (generate_sample_sequences: temperature 1, from first_id, RNG stream seed +
 * sequence index), wrapped as a stream named name. */
void dataset_tokens_sample(struct dataset_tokens *t, struct engine *e, int32_t first_id, int64_t n_seqs,
                           int64_t seq_len, uint64_t seed, const char *name);

void dataset_tokens_free(struct dataset_tokens *t);

#ifdef __cplusplus
}
#endif
#endif
