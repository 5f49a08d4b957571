/* src/cli/cmd_logits.h -- `ql logits`: the logits of a token sequence under a checkpoint, for tests and scripts.
 * Writes a QLLOGITS file (model/logits_file.h) with -o, else a top-k summary per position on stdout. */
#ifndef SRC_CLI_CMD_LOGITS_H
#define SRC_CLI_CMD_LOGITS_H

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is "logits"; returns the exit status (0, 1 runtime error, 2 usage). */
int cmd_logits(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
