/* cli_common -- pieces of the ql commands' parsers that several commands share word for word: the -m / -r pair
 * and the harness options of the commands that calibrate (quantize, export-gguf). Usage errors follow
 * src/core/cli.h (one line, exit 2); each command keeps its own flags and its own usage text. Linked only into
 * build/bin/ql (src/cli), never into a driver. */
#ifndef SRC_CLI_CLI_COMMON_H
#define SRC_CLI_CLI_COMMON_H

#include <stdint.h>

#include "harness/harness.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Consumes argv[*i] when it is -m / --model DIR or -r / --recipe NAME followed by a value: stores the value in
 * *model or *rname, advances *i to it and returns 1. Returns 0 otherwise (another option, or either flag as
 * the last word: the caller's "unknown or incomplete option" error then names it). */
int cli_common_model_recipe(int argc, char **argv, int *i, const char **model, const char **rname);

/* harness_defaults(o), then the calibration options the calibrating commands take: the model folder, the data
 * folder (NULL: the search order of data/dataset.h), the static-range calibration set (seqs x len tokens) and
 * the seed. The caller sets any further field before harness_init. */
void cli_common_calib_opts(struct harness_opts *o, const char *model, const char *data_dir, int64_t calib_seqs,
                           int64_t calib_len, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
