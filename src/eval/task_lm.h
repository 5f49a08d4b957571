/* task_lm -- the language model as the task scorers see it: a sequence with a KV cache that grows by appended
 * tokens (returning their logits) and can be rewound. Two implementations: task_lm_engine wraps the one engine
 * interface (src/engine/engine.h: engine_seq_new / append / truncate / free), which every real run uses; a
 * test supplies its own hand-made model (tests/test_tasks_score.c) so the scoring arithmetic is checked where
 * the answer is known in closed form. Nothing here owns a model.
 * API: struct task_lm, task_lm_engine. */
#ifndef SRC_EVAL_TASK_LM_H
#define SRC_EVAL_TASK_LM_H

#include <stdint.h>

#include "engine/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct task_lm {
    void *ctx;
    int64_t n_vocab;              /* V: logits rows have V entries */
    int64_t max_len;              /* the model's context (max_position_embeddings): lm-eval's max_length */
    void *(*seq_new)(void *ctx, int64_t cap);
    void (*seq_free)(void *seq);
    /* Appends T tokens; logits gets T x V rows, or only the last row when last_only. */
    void (*seq_append)(void *seq, const int32_t *ids, int64_t T, float *logits, int last_only);
    void (*seq_truncate)(void *seq, int64_t len);
};

/* A task_lm over engine e: FP32 KV cache, max_len = the model's max_position_embeddings. */
struct task_lm task_lm_engine(struct engine *e);

#ifdef __cplusplus
}
#endif
#endif
