/* cmd_eval -- "ql eval": perplexity of one recipe on one corpus, printed to stdout.
 * The protocol of e02-perplexity (src/eval/perplexity.h: non-overlapping windows, every token after the first
 * scored), without the results cache: for quick checks and scripts. Output, one line on stdout:
 * "<recipe> <corpus> ppl <PPL> stderr <SE> tokens <N> windows <W>". */
#ifndef SRC_CLI_CMD_EVAL_H
#define SRC_CLI_CMD_EVAL_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql eval -m DIR [-r RECIPE] [--data wikitext2|c4] [--windows N] [--ctx N] [--data-dir D]; argv[0] is
 * "eval". Returns 0; dies (1) when the corpus is missing or inputs are unreadable, exits 2 on a bad command
 * line. */
int cmd_eval(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
