/* gsm8k -- GSM8K test, 5-shot, as lm-evaluation-harness's default `gsm8k` task builds it
 * (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/tasks/gsm8k/gsm8k.yaml;
 * lm_eval/api/samplers.py ContextSampler.sample; lm_eval/api/task.py fewshot_context, set_fewshot_seed):
 *   doc_to_text = "Question: " + question + "\nAnswer:"; doc_to_target = the full answer;
 *   shot        = doc_to_text(train row) + " " + answer + "\n\n";
 *   context     = the 5 shots + doc_to_text(test row).
 * The shots: fewshot_split train, sampler "default" seeded with fewshot_random_seed 1234, i.e.
 * random.Random(1234).sample(train, 5) called once per test item in item order (train != test, so no eval doc
 * is removed). Item i's shots therefore depend on every earlier draw: gsm8k_fewshot draws for items [0, n)
 * in full order, and a --limit subsample takes its rows from that table (src/core/pyrandom.h).
 * Files: openai/grade-school-math test.jsonl and train.jsonl (fields question, answer), pinned below.
 * API: gsm8k_pin / gsm8k_load / gsm8k_doc_to_text / gsm8k_fewshot / gsm8k_context / gsm8k_contexts /
 *      gsm8k_free. */
#ifndef SRC_DATA_GSM8K_H
#define SRC_DATA_GSM8K_H

#include <stddef.h>
#include <stdint.h>

#include "data/task_file.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GSM8K_N_SHOTS 5
#define GSM8K_FEWSHOT_SEED 1234

enum gsm8k_split { GSM8K_TEST = 0, GSM8K_TRAIN, GSM8K_SPLIT_COUNT };

struct gsm8k_doc {
    char *question, *answer;
};

const struct task_pin *gsm8k_pin(enum gsm8k_split s);

size_t gsm8k_load(const char *path, struct gsm8k_doc **docs);
void gsm8k_free(struct gsm8k_doc *docs, size_t n);

/* "Question: " + question + "\nAnswer:" (fresh string). */
char *gsm8k_doc_to_text(const struct gsm8k_doc *d);

/* shots[i * 5 + k] = the k-th train index of test item i, for i < n_test, drawn as the header says. */
void gsm8k_fewshot(size_t n_test, size_t n_train, uint64_t seed, int64_t *shots);

/* The full prompt of test doc d with the given 5 train shots (fresh string). */
char *gsm8k_context(const struct gsm8k_doc *d, const struct gsm8k_doc *train, const int64_t *shot_idx);

/* The prompts of test items idx[0..n_idx) (ascending or not), with the shots of a full-order draw over all
 * n_test items (so a --limit subsample gets the same shots for item i as the full run). Returns n_idx fresh
 * strings in a fresh array; shots_out (may be NULL) receives the 5 train indices of each. */
char **gsm8k_contexts(const struct gsm8k_doc *test, size_t n_test, const struct gsm8k_doc *train, size_t n_train,
                      const int64_t *idx, size_t n_idx, uint64_t seed, int64_t *shots_out);

#ifdef __cplusplus
}
#endif
#endif
