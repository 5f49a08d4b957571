/* math500 -- MATH-500 (openai/prm800k math_splits/test.jsonl: problem, solution, answer, subject, level,
 * unique_id) and its two prompts:
 *   (a) lm-evaluation-harness's hendrycks_math500 (EleutherAI/lm-evaluation-harness@
 *       4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/tasks/hendrycks_math/hendrycks_math500.yaml, which
 *       includes hendrycks_math_algebra.yaml; utils.py process_docs): 0-shot, "Problem: " + problem +
 *       "\nAnswer:", until "Problem:", greedy; gold = remove_boxed(last_boxed_only_string(solution)).
 *   (b) the seed's protocol: Qwen3's chat template (src/model/chat_template.h) over one user turn
 *       problem + " Please reason step by step, and put your final answer within \boxed{}.", with the
 *       generation prompt, thinking off (the empty think block) unless asked; gold = the same string.
 * API: math500_pin / math500_load / math500_prompt_lmeval / math500_prompt_chat / math500_free. */
#ifndef SRC_DATA_MATH500_H
#define SRC_DATA_MATH500_H

#include <stddef.h>

#include "data/task_file.h"

#ifdef __cplusplus
extern "C" {
#endif

struct math500_doc {
    char *problem, *solution, *answer, *subject, *unique_id;
    int level;
    char *gold;               /* remove_boxed(last_boxed_only_string(solution)) */
};

const struct task_pin *math500_pin(void);

/* Reads the jsonl; a solution without a \boxed answer dies naming the item (lm-eval's process_docs fails the
 * same way). */
size_t math500_load(const char *path, struct math500_doc **docs);
void math500_free(struct math500_doc *docs, size_t n);

char *math500_prompt_lmeval(const struct math500_doc *d);
char *math500_prompt_chat(const struct math500_doc *d, int thinking);

#ifdef __cplusplus
}
#endif
#endif
