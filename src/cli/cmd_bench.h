/* cmd_bench -- "ql bench": CPU prefill / decode tokens per second of one recipe (the protocol of llama-bench's
 * pp and tg tests; cmd_bench.c says it exactly). Lines "bench <model> <recipe> <test> tok_s ..." on stdout;
 * --json FILE writes a benchmark record (e07-serving, CPU), not a cache-keyed result. */
#ifndef SRC_CLI_CMD_BENCH_H
#define SRC_CLI_CMD_BENCH_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql bench -m DIR [-r RECIPE] [--prefill LIST] [--decode N] [--reps R] [--packed] [--blas-threads]
 * [--json FILE]; argv[0] is "bench". Returns 0; exits 2 on a bad command line. */
int cmd_bench(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
