/* mcscore -- multiple-choice scoring by log-likelihood, exactly as lm-evaluation-harness scores an
 * output_type: multiple_choice task (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163,
 * lm_eval/api/task.py construct_requests: arguments (context, target_delimiter + choice) per choice;
 * lm_eval/api/model.py _encode_pair; lm_eval/models/huggingface.py _loglikelihood_tokens; process_results).
 *   - Trailing whitespace of the context moves to the front of the continuation (_encode_pair).
 *   - whole = encode(context + continuation), ctx = encode(context), continuation tokens = whole[len(ctx):];
 *     the model reads ctx + continuation tokens, and the score is the sum of log-softmax of each continuation
 *     token given everything before it (double precision here).
 *   - Longer than max_len + 1 tokens: the left is cut, (ctx + cont)[-(max_len + 1):][:-1] is the input.
 *   - acc: arg-max of the log-likelihood; acc_norm: arg-max of ll / len(choice) in code points (the choice
 *     without the delimiter); ties go to the first choice (numpy argmax).
 * Cost: the context is run once per item; each choice appends its continuation after it and is rewound
 * (task_lm seq_truncate), so the cached prefix is exactly the one pass (engine.h: bit-identical reuse). With an
 * mc_cache, consecutive items also share the tokens their contexts start with (MMLU: the description and the
 * five shots of a subject), so only the new tokens run; the model reads the same token sequence either way.
 * API: struct mc_doc, struct mc_cache, mcscore_doc, mc_cache_free, mc_doc_free. */
#ifndef SRC_EVAL_MCSCORE_H
#define SRC_EVAL_MCSCORE_H

#include <stdint.h>

#include "eval/task_lm.h"
#include "model/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MC_MAX_CHOICES 8

/* One multiple-choice item: the full context string (description + shots + doc_to_text), the choice texts
 * (doc_to_choice, without the target delimiter " "), the gold index and an id for the per-item log. */
struct mc_doc {
    char *id;
    char *context;
    int n_choices;
    char *choices[MC_MAX_CHOICES];
    int gold;
};

struct mc_result {
    double ll[MC_MAX_CHOICES];       /* summed log-likelihood of each continuation (nats) */
    int greedy[MC_MAX_CHOICES];      /* 1 when every continuation token is the arg-max (lm-eval's is_greedy) */
    int64_t n_cont[MC_MAX_CHOICES];  /* continuation tokens */
    int64_t n_ctx;                   /* context tokens */
    int pred, pred_norm;             /* arg-max of ll and of ll / len(choice) */
    int acc, acc_norm;               /* pred == gold, pred_norm == gold */
    int truncated;                   /* 1 when some choice needed the left cut */
    int64_t n_ctx_run;               /* context tokens actually run (fewer than n_ctx with a cache hit) */
};

/* A sequence kept between items: the tokens of the last context scored through it. Zero-initialise. */
struct mc_cache {
    void *seq;
    int32_t *ids;
    int64_t n;
};

/* Scores d with lm (see the header comment); cache may be NULL (a fresh sequence per item). A continuation
 * that tokenizes to nothing dies naming d->id (lm-eval asserts the same). */
void mcscore_doc(const struct task_lm *lm, const struct tokenizer *tok, const struct mc_doc *d,
                 struct mc_cache *cache, struct mc_result *r);
void mc_cache_free(const struct task_lm *lm, struct mc_cache *c);

void mc_doc_free(struct mc_doc *d);

#ifdef __cplusplus
}
#endif
#endif
