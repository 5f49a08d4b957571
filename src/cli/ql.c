/* ql -- the project's command-line tool for people and scripts (DESIGN.md "The experiments").
 * Usage: ql <command> [options]; `ql <command> --help` describes each command.
 * Each command lives in its own src/cli/cmd_<name>.c; this file only dispatches. Results go to files or
 * stdout as each command documents; logs and errors go to stderr. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_bench.h"
#include "cli/cmd_data_verify.h"
#include "cli/cmd_eval.h"
#include "cli/cmd_export_gguf.h"
#include "cli/cmd_figdata.h"
#include "cli/cmd_generate.h"
#include "cli/cmd_gguf_random.h"
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
    {"bench", cmd_bench, "CPU prefill / decode tokens/s of a recipe (llama-bench's protocol)"},
    {"data-verify", cmd_data_verify, "check the pinned evaluation files where the programs will read them"},
    {"eval", cmd_eval, "perplexity of a checkpoint under a recipe (simulated, CPU)"},
    {"export-gguf", cmd_export_gguf, "write a checkpoint under a recipe as a GGUF file (llama.cpp)"},
    {"figdata", cmd_figdata, "write the TSV behind one figure from results JSON"},
    {"generate", cmd_generate, "continue a prompt with the CPU engine"},
    {"gguf-random", cmd_gguf_random, "the CUDA serving engine's random weights of a Qwen3 shape as GGUF"},
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

/* OpenMP's wait policy is read once, when libgomp is loaded (before main), so ql sets its own by executing
 * itself again with it in the environment, unless the user chose one (OMP_WAIT_POLICY or GOMP_SPINCOUNT set).
 * Why: libgomp's default spins ~300000 iterations in every barrier; on a machine whose cores other processes
 * keep busy, each spinning thread burns the time slice its partner needs (measured, tools/bench/
 * oversubscribe.sh: decode of qwen3-tiny 4 tok/s with the default against 34-46 passive and 27-35 with
 * 1000). 1000 spins (tens of microseconds) then a futex sleep keeps the idle machine's hand-off fast and the
 * busy one fair. Numerics are unaffected (a wait policy decides only how threads wait). If the exec fails
 * ql runs on with the default. */
#define QL_GOMP_SPINCOUNT "1000"
static void set_wait_policy(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", QL_GOMP_SPINCOUNT, 1) != 0) return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    set_wait_policy(argv);
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
