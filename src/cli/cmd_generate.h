/* src/cli/cmd_generate.h -- `ql generate`: continue a prompt with the CPU engine, greedy or seeded sampling.
 * The generated text goes to stdout as it is produced (token ids with --ids-out); timing to stderr. */
#ifndef SRC_CLI_CMD_GENERATE_H
#define SRC_CLI_CMD_GENERATE_H

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is "generate"; returns the exit status (0, 1 runtime error, 2 usage). */
int cmd_generate(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
