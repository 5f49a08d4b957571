/* taskgen -- generation for generate_until tasks (GSM8K, Math-500), as lm-evaluation-harness's HF backend does
 * it (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/models/huggingface.py
 * generate_until): the prompt is cut on the left to max_len - max_new tokens, tokens are generated until
 * max_new, an eos / stop id, or until the decoded continuation contains one of the `until` strings; the text is
 * then cut before the first occurrence of each until string in turn (s.split(term)[0]). The eos token's text is
 * one of the until strings, as lm-eval adds it. The decode loop is written here on task_lm (engine_seq_append,
 * one token per step after one prefill) and sampling_sample (src/model/sampling.h): main has no engine-level
 * generate yet. Greedy when temperature is 0; else the draws come from stream seed of src/core/rng.h.
 * API: struct taskgen_params, taskgen_run. */
#ifndef SRC_EVAL_TASKGEN_H
#define SRC_EVAL_TASKGEN_H

#include <stdint.h>

#include "eval/task_lm.h"
#include "engine/sampling.h"
#include "model/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TASKGEN_MAX_STOP 8

struct taskgen_params {
    int64_t max_new;                          /* max_gen_toks */
    struct sampling_params sampling;
    int n_until;
    const char *until[TASKGEN_MAX_STOP];      /* stop strings */
    int n_stop_ids;
    int32_t stop_ids[TASKGEN_MAX_STOP];       /* stop token ids (eos, <|im_end|>); their text is never output */
};

struct taskgen_result {
    char *text;                /* the continuation after the until cuts (fresh, caller frees) */
    int64_t n_prompt;          /* prompt tokens fed (after the left cut) */
    int64_t n_generated;       /* tokens generated (the stop id not counted) */
    int stop;                  /* 0 max_new, 1 stop id, 2 until string */
};

/* Generates from prompt (n_prompt >= 1 ids). */
void taskgen_run(const struct task_lm *lm, const struct tokenizer *tok, const int32_t *prompt, int64_t n_prompt,
                 const struct taskgen_params *p, struct taskgen_result *r);

#ifdef __cplusplus
}
#endif
#endif
