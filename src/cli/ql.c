/* ql -- the project's command-line tool for people and scripts (DESIGN.md "The experiments").
 * Usage: ql <command> [options]; `ql <command> --help` describes each command.
 * Each command lives in its own src/cli/cmd_<name>.c; this file only dispatches. Results go to files or
 * stdout as each command documents; logs and errors go to stderr. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_data_verify.h"
#include "cli/cmd_eval.h"
#include "cli/cmd_export_gguf.h"
#include "cli/cmd_figdata.h"
#include "cli/cmd_generate.h"
#include "cli/cmd_logits.h"
#include "cli/cmd_ppl_llamacpp.h"
#include "cli/cmd_quantize.h"
#include "cli/cmd_report.h"
#include "cli/cmd_tokenize.h"
#include "core/check.h"

struct ql_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct ql_command COMMANDS[] = {
    {"data-verify", cmd_data_verify, "check the pinned evaluation files where the programs will read them"},
    {"eval", cmd_eval, "perplexity of a checkpoint under a recipe (simulated, CPU)"},
    {"export-gguf", cmd_export_gguf, "write a checkpoint under a recipe as a GGUF file (llama.cpp)"},
    {"figdata", cmd_figdata, "write the TSV behind one figure from results JSON"},
    {"generate", cmd_generate, "continue a prompt with the CPU engine"},
    {"logits", cmd_logits, "logits of a token sequence (QLLOGITS file or top-k text)"},
    {"ppl-llamacpp", cmd_ppl_llamacpp, "perplexity under llama-perplexity's protocol (side by side with llama.cpp)"},
    {"quantize", cmd_quantize, "write a checkpoint quantized with a recipe (packed safetensors)"},
    {"report", cmd_report, "render a notebook or the paper (or the index) to HTML"},
    {"tokenize", cmd_tokenize, "UTF-8 text on stdin -> token ids on stdout"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f) {
    fprintf(f, "usage: ql <command> [options]\n\ncommands:\n");
    for (const struct ql_command *c = COMMANDS; c->name; c++) fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n`ql <command> --help` for the options of one command.\n");
}

int main(int argc, char **argv) {
    check_set_progname("ql");
    if (argc < 2) { usage(stderr); return EXIT_USAGE; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    for (const struct ql_command *c = COMMANDS; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0) continue;
        char prog[64];
        snprintf(prog, sizeof prog, "ql %s", c->name);
        check_set_progname(prog);
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "ql: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
