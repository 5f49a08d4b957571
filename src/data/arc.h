/* arc -- ARC-Easy and ARC-Challenge test as lm-evaluation-harness's arc_easy / arc_challenge tasks build them
 * (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/tasks/arc/arc_easy.yaml,
 * arc_challenge.yaml): 0-shot, doc_to_text "Question: {{question}}\nAnswer:", doc_to_choice choices.text,
 * gold = choices.label.index(answerKey). The files are AI2's jsonl (`question.stem`, `question.choices[]`
 * {text, label}, `answerKey`), which is what the HF allenai/ai2_arc `question` / `choices` fields hold; labels
 * may be A-E or 1-5 and there are 3 to 5 choices. An answerKey not among the labels dies naming the item.
 * API: arc_pin / arc_prompt / arc_load. */
#ifndef SRC_DATA_ARC_H
#define SRC_DATA_ARC_H

#include <stddef.h>

#include "data/task_file.h"
#include "eval/mcscore.h"

#ifdef __cplusplus
extern "C" {
#endif

enum arc_set { ARC_EASY = 0, ARC_CHALLENGE, ARC_SET_COUNT };

/* The pinned test file of a set. */
const struct task_pin *arc_pin(enum arc_set s);

/* doc_to_text of a question stem (fresh string). */
char *arc_prompt(const char *stem);

/* Reads an AI2 ARC jsonl file into *docs; returns the count. */
size_t arc_load(const char *path, struct mc_doc **docs);

#ifdef __cplusplus
}
#endif
#endif
