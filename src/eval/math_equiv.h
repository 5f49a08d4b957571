/* math_equiv -- answer extraction and equivalence for MATH / Math-500, as lm-evaluation-harness's
 * hendrycks_math500 task defines them (EleutherAI/lm-evaluation-harness@4e7e0d47f33bc71070c1d38394bafbb52b117163,
 * lm_eval/tasks/hendrycks_math/utils.py: process_results, is_equiv, strip_string, fix_fracs, fix_a_slash_b,
 * remove_right_units, fix_sqrt, last_boxed_only_string, remove_boxed; the same strip_string as
 * lm_eval/tasks/minerva_math/utils.py's fallback and the original Hendrycks et al. 2021 math_equivalence.py).
 * Ported step for step, including where Python raises: strip_string raises on "\text{ " occurring twice
 * (assert in remove_right_units), on "\sqrt" or "\frac" with nothing after it (IndexError), and on an "a/b"
 * whose parts are not integers (int() raises ValueError, which fix_a_slash_b does not catch); is_equiv then
 * falls back to comparing the raw strings. int() is Python's for ASCII digits (whitespace, sign, "_" between
 * digits); non-ASCII decimal digits are not recognised here (a documented difference, never seen in answers).
 * A separate numeric layer (math_equiv_numeric, the seed protocol's extra column, never mixed into
 * exact_match): both normalised answers parse as numbers (integers, decimals, thousands commas, a trailing
 * "%", \frac{x}{y}, a/b, k\sqrt{n}) and agree to 1e-9 relative.
 * API: math_equiv_strip / math_equiv_is_equiv / math_equiv_last_boxed / math_equiv_remove_boxed /
 *      math_equiv_dollar_answer / math_equiv_numeric. */
#ifndef SRC_EVAL_MATH_EQUIV_H
#define SRC_EVAL_MATH_EQUIV_H

#ifdef __cplusplus
extern "C" {
#endif

/* strip_string(s): a fresh string, or NULL where Python raises (see the header comment). */
char *math_equiv_strip(const char *s);

/* is_equiv(a, b): strip_string equality, or raw equality when strip_string raises on either. */
int math_equiv_is_equiv(const char *a, const char *b);

/* last_boxed_only_string(s): the last "\boxed{...}" (balanced braces) or "\fbox{...}", or the "\boxed ..."
 * form; NULL when there is none (fresh string). */
char *math_equiv_last_boxed(const char *s);

/* remove_boxed(s): the inside of "\boxed{...}" / "\boxed ..."; NULL where Python's asserts fail. */
char *math_equiv_remove_boxed(const char *s);

/* hendrycks_math process_results' answer: the text between the first and the last "$" when there are at
 * least two, else the whole output (fresh string). */
char *math_equiv_dollar_answer(const char *output);

/* The numeric layer: 1 when both normalised strings are numbers that agree (see the header comment). */
int math_equiv_numeric(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
