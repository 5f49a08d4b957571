/* mmlu -- MMLU test, 5-shot, as lm-evaluation-harness's default `mmlu` group builds it
 * (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/tasks/mmlu/default/
 * _default_template_yaml and mmlu_<subject>.yaml; lm_eval/api/samplers.py FirstNSampler; lm_eval/api/task.py
 * fewshot_context / build_qa_turn): per subject,
 *   description = "The following are multiple choice questions (with answers) about " + subject with "_" -> " "
 *                 + ".\n\n"
 *   doc_to_text = question.strip() + "\nA. " + A + "\nB. " + B + "\nC. " + C + "\nD. " + D + "\nAnswer:"
 *   shot        = doc_to_text(dev row) + " " + letter + "\n\n"  (target_delimiter " ", fewshot_delimiter "\n\n")
 *   context     = description + the first 5 dev rows in file order (first_n sampler) + doc_to_text(test row)
 *   choices     = "A" "B" "C" "D" (scored as " A" ... " D"), gold = the answer letter's index.
 * The files are Hendrycks' data.tar CSVs (no header; question, A, B, C, D, answer letter), read as Python's csv
 * module does (quoted fields may hold commas, quotes as "" and newlines, CRLF kept inside quotes). Only the
 * question is stripped. Scores: per subject, the micro average over all items (lm-eval's group score, weighted
 * by size) and the macro average over subjects.
 * API: mmlu_n_subjects / mmlu_subject / mmlu_pin_dev / mmlu_pin_test / mmlu_csv_read / mmlu_doc_to_text /
 *      mmlu_description / mmlu_load_subject. */
#ifndef SRC_DATA_MMLU_H
#define SRC_DATA_MMLU_H

#include <stddef.h>

#include "data/task_file.h"
#include "eval/mcscore.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MMLU_N_SHOTS 5

int mmlu_n_subjects(void);                  /* 57 */
const char *mmlu_subject(int s);            /* "abstract_algebra", ... in sorted order */
/* The two pinned files of subject s (names "mmlu/dev/<s>_dev.csv", "mmlu/test/<s>_test.csv"). */
struct task_pin mmlu_pin_dev(int s, char *buf, size_t n);
struct task_pin mmlu_pin_test(int s, char *buf, size_t n);

/* A CSV file as rows of 6 fields (question, A, B, C, D, answer letter); dies naming the row otherwise. */
struct mmlu_row {
    char *f[6];
};
size_t mmlu_csv_read(const char *path, struct mmlu_row **rows);
void mmlu_rows_free(struct mmlu_row *rows, size_t n);

/* doc_to_text of one row; the description of a subject (fresh strings). */
char *mmlu_doc_to_text(const struct mmlu_row *r);
char *mmlu_description(const char *subject);

/* The test items of subject s with their 5-shot contexts, from its dev and test rows; returns the count. */
size_t mmlu_load_subject(int s, const struct mmlu_row *dev, size_t n_dev, const struct mmlu_row *test,
                         size_t n_test, struct mc_doc **docs);

#ifdef __cplusplus
}
#endif
#endif
