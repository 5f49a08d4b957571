/* src/model/logits_file.h -- the binary logits file written by `ql logits -o` and by the HF reference script
 * (tools/qwen3-reference/make_fixtures.py), read by the fidelity tests. Little-endian, no padding:
 *   char magic[8] = "QLLOGITS"; u32 version = 1; u32 n_seqs; u32 V; u32 D; u32 n_hidden;
 *   n_seqs times: u32 T; i32 ids[T]; f32 logits[T][V]; f32 hidden[n_hidden][T][D]
 * n_hidden is 0 or L + 1 (HF output_hidden_states: the embeddings, then the output of each layer; kept for
 * diagnosing a mismatch layer by layer). API: logits_file_read / logits_file_write / logits_file_free. */
#ifndef SRC_MODEL_LOGITS_FILE_H
#define SRC_MODEL_LOGITS_FILE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOGITS_FILE_MAGIC "QLLOGITS"
#define LOGITS_FILE_VERSION 1

struct logits_seq {
    int64_t T;
    int32_t *ids;      /* T */
    float *logits;     /* T x V */
    float *hidden;     /* n_hidden x T x D, or NULL when n_hidden = 0 */
};

struct logits_file {
    int64_t V, D, n_hidden;
    int n_seqs;
    struct logits_seq *seqs;
};

/* Reads path; dies naming it on a wrong magic or version, or a short file. */
void logits_file_read(struct logits_file *f, const char *path);

/* Writes f to path atomically (temp file + rename). */
void logits_file_write(const char *path, const struct logits_file *f);

/* Frees the arrays of every sequence; f is zeroed. */
void logits_file_free(struct logits_file *f);

#ifdef __cplusplus
}
#endif
#endif
