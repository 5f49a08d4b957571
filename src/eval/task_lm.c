/* task_lm -- the engine adapter (see task_lm.h). */
#include "eval/task_lm.h"

static void *eng_seq_new(void *ctx, int64_t cap) { return engine_seq_new(ctx, cap, KV_CACHE_F32); }
static void eng_seq_free(void *s) { engine_seq_free(s); }
static void eng_seq_append(void *s, const int32_t *ids, int64_t T, float *logits, int last_only) {
    engine_seq_append(s, ids, T, logits, NULL, last_only);
}
static void eng_seq_truncate(void *s, int64_t len) { engine_seq_truncate(s, len); }

struct task_lm task_lm_engine(struct engine *e) {
    struct task_lm lm = {e, engine_n_vocab(e), engine_model(e)->cfg.max_pos, eng_seq_new, eng_seq_free,
                         eng_seq_append, eng_seq_truncate};
    return lm;
}
