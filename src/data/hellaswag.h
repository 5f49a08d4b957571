/* hellaswag -- HellaSwag validation as lm-evaluation-harness's `hellaswag` task builds it
 * (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/tasks/hellaswag/
 * hellaswag.yaml and utils.py): 0-shot, doc_to_text = query, choices = endings, gold = int(label), where
 *   query   = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize())
 *   choice  = preprocess(ending)
 *   preprocess(t) = t.strip(); " [title]" -> ". "; re.sub("\\[.*?\\]", "", t) (non-greedy, "." never matching
 *                   a newline); one pass of "  " -> " ".
 * Two input layouts:
 *   - the original rowanz/hellaswag `hellaswag_val.jsonl` (10042 records; ind, activity_label, ctx_a, ctx_b,
 *     endings, label, ...), pinned at the sha256 SOURCES.md gives for it; read exactly as lm-eval reads it.
 *     `hellaswag_val_head10.jsonl` (its first 10 records) is pinned for tests.
 *   - the llama.cpp extraction `hellaswag_val_full.txt` (6 lines per task: activity_label + ": " + ctx, gold,
 *     4 endings; already bracket-cleaned by klosax's extract_hellaswag.cpp). It lost the ctx_a / ctx_b split,
 *     so ctx_b.capitalize() is reconstructed (hellaswag_txt_query): preprocess(line 1), then the first code
 *     point after the context's last ". " (where ctx_a's last sentence ends and ctx_b begins in ActivityNet
 *     records) is title-cased. Equal to lm-eval's query on all 10 records of the original sample (all
 *     ActivityNet); it differs where ctx_b is empty and a lower-case letter follows the last ". " (it then
 *     capitalises a letter lm-eval leaves), and where ctx_b holds capitals after its first letter (lm-eval
 *     lower-cases them). e04 says which layout it read.
 * API: hellaswag_preprocess / hellaswag_query / hellaswag_txt_query / hellaswag_load / hellaswag_pin. */
#ifndef SRC_DATA_HELLASWAG_H
#define SRC_DATA_HELLASWAG_H

#include <stddef.h>

#include "data/task_file.h"
#include "eval/mcscore.h"

#ifdef __cplusplus
extern "C" {
#endif

enum hellaswag_layout {
    HELLASWAG_JSONL = 0,       /* the original layout: exact to lm-eval */
    HELLASWAG_LLAMACPP_TXT,    /* the llama.cpp extraction: query reconstructed (see above) */
};

enum hellaswag_file {
    HELLASWAG_FILE_VAL_JSONL = 0,   /* hellaswag/hellaswag_val.jsonl (original, user-supplied) */
    HELLASWAG_FILE_VAL_TXT,         /* hellaswag/hellaswag_val_full.txt (llama.cpp layout, local) */
    HELLASWAG_FILE_HEAD10,          /* hellaswag/hellaswag_val_head10.jsonl (tests) */
    HELLASWAG_FILE_COUNT
};

const struct task_pin *hellaswag_pin(enum hellaswag_file f);

/* preprocess(text) of utils.py (fresh string). */
char *hellaswag_preprocess(const char *text);

/* The lm-eval query of one original record (fresh string). */
char *hellaswag_query(const char *activity_label, const char *ctx_a, const char *ctx_b);

/* The reconstructed lm-eval query of one llama.cpp-layout line 1 (fresh string; see the header comment). */
char *hellaswag_txt_query(const char *line);

/* Reads path in the given layout into *docs (n returned; ids "hellaswag/<ind>" or "hellaswag/<row>"). */
size_t hellaswag_load(const char *path, enum hellaswag_layout layout, struct mc_doc **docs);

#ifdef __cplusplus
}
#endif
#endif
