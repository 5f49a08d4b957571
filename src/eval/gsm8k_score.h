/* gsm8k_score -- answer extraction and exact match of lm-evaluation-harness's default `gsm8k` task
 * (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163, lm_eval/tasks/gsm8k/gsm8k.yaml
 * filter_list, lm_eval/filters/extraction.py RegexFilter, lm_eval/api/metrics.py exact_match_hf_evaluate),
 * the two regular expressions written out as the scanners Python's re would run:
 *   strict-match:     first match of "#### (\-?[0-9\.\,]+)", group 1, .strip();
 *   flexible-extract: findall "(-?[$0-9.,]{2,})|(-?[0-9]+)", the last match (group_select -1), its first
 *                     non-empty group, .strip();
 *   no match: "[invalid]" (the filter's fallback).
 * Exact match applies regexes_to_ignore to prediction and reference in order: "," -> "", "\$" -> "",
 * "(?s).*#### " (greedy: everything up to the last "#### ") -> "", "\.$" (a final ".", or one before a final
 * "\n") -> "", then lower-cases both (ignore_case; ASCII here, the only letters a number can hold) and compares.
 * The reference is the full answer field ("... #### 72").
 * API: gsm8k_score_strict / gsm8k_score_flexible / gsm8k_score_normalize / gsm8k_score_match. */
#ifndef SRC_EVAL_GSM8K_SCORE_H
#define SRC_EVAL_GSM8K_SCORE_H

#ifdef __cplusplus
extern "C" {
#endif

#define GSM8K_SCORE_INVALID "[invalid]"

/* The strict-match and flexible-extract answers of a model output (fresh strings; "[invalid]" when none). */
char *gsm8k_score_strict(const char *output);
char *gsm8k_score_flexible(const char *output);

/* The regexes_to_ignore + ignore_case normalisation (fresh string). */
char *gsm8k_score_normalize(const char *s);

/* 1 when normalize(extracted) == normalize(reference). */
int gsm8k_score_match(const char *extracted, const char *reference);

#ifdef __cplusplus
}
#endif
#endif
