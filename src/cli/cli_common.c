/* cli_common -- see cli_common.h. */
#include "cli/cli_common.h"

#include <string.h>

int cli_common_model_recipe(int argc, char **argv, int *i, const char **model, const char **rname) {
    const char *a = argv[*i];
    if (*i + 1 >= argc) return 0;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) *model = argv[++*i];
    else if (!strcmp(a, "-r") || !strcmp(a, "--recipe")) *rname = argv[++*i];
    else return 0;
    return 1;
}

void cli_common_calib_opts(struct harness_opts *o, const char *model, const char *data_dir, int64_t calib_seqs,
                           int64_t calib_len, uint64_t seed) {
    harness_defaults(o);
    o->model = model;
    o->data_dir = data_dir;
    o->calib_seqs = calib_seqs;
    o->calib_len = calib_len;
    o->seed = seed;
}
