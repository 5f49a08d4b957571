/* cmd_ppl_llamacpp -- "ql ppl-llamacpp": perplexity of a model as loaded (an HF folder or a .gguf, no recipe
 * applied) under llama-perplexity's protocol (src/eval/perplexity_llamacpp.h), for side-by-side runs with
 * llama.cpp on the same text file (tools/llamacpp/agree.sh). */
#ifndef SRC_CLI_CMD_PPL_LLAMACPP_H
#define SRC_CLI_CMD_PPL_LLAMACPP_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql ppl-llamacpp -m MODEL -f FILE [-c N_CTX] [--chunks N]; argv[0] is "ppl-llamacpp". Prints one line to
 * stdout: "ppl P stderr E mean_nll M tokens N chunks C ids_sha256 H" (P, M with 10 decimals). Returns 0;
 * dies (1) on bad input, exits 2 on a bad command line. */
int cmd_ppl_llamacpp(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
