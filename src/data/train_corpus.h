/* train_corpus -- the tiny models' training text as a calibration source (issue 10: "the training corpus as
 * an option"). The file is ../shared/corpus/train.txt.xz (found in $QL_CORPUS_DIR, ./corpus, ../shared/corpus;
 * pinned by the sha256 of the .xz file, SOURCES.md there). tools/train-tiny/train.py splits the uncompressed
 * text (128,557,796 bytes) at the first paragraph start at or after 99 %: training = bytes [0, S), validation =
 * [S, end). Calibration reads a prefix of the training bytes only (never past 0.99 x the length, so never a
 * validation byte), decoded with liblzma and cut after its last '\n' (never inside a UTF-8 character). No
 * evaluation set of the experiments is drawn from this text. API: train_corpus_find, train_corpus_prefix. */
#ifndef SRC_DATA_TRAIN_CORPUS_H
#define SRC_DATA_TRAIN_CORPUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRAIN_CORPUS_NAME "train.txt.xz"
#define TRAIN_CORPUS_XZ_SHA256 "4a8c274360258da5a784efa6973e4d41917666501ea2851b15464a6791a51e8a"
#define TRAIN_CORPUS_TEXT_BYTES 128557796
/* The largest prefix read: below floor(0.99 x the text), so inside the training bytes of train.py's split. */
#define TRAIN_CORPUS_MAX_PREFIX ((size_t)(TRAIN_CORPUS_TEXT_BYTES / 100 * 99))

/* A fresh path to the .xz file of the search order, or NULL when none holds it. */
char *train_corpus_find(void);

/* The first at most max_bytes bytes of the decompressed text (max_bytes <= TRAIN_CORPUS_MAX_PREFIX, CHECK),
 * cut after the last '\n', NUL-terminated; *len its length. Dies naming the file on a decoding error. */
char *train_corpus_prefix(const char *path, size_t max_bytes, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
