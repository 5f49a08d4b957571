/* cmd_quantize -- "ql quantize": apply any recipe to a checkpoint and write the packed result.
 * Loads -m DIR and applies the recipe through the experiments' harness (harness_open_recipe: static activation
 * ranges and GPTQ / AWQ calibration tokens from the C4-slice calibration documents, or text sampled from the
 * BF16 model when no data exists; then quant_apply), and writes -o OUT from the in-memory model
 * (qcheckpoint_write, src/quant/qcheckpoint.h): packed U8 tensors per Linear with the scales the algorithm
 * chose, FP32 scalars for per-tensor scales and static ranges, a "quantization_config" in config.json, and the
 * tokenizer files copied. */
#ifndef SRC_CLI_CMD_QUANTIZE_H
#define SRC_CLI_CMD_QUANTIZE_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql quantize -m DIR -r RECIPE -o OUT [--data-dir D] [--calib-seqs N] [--calib-len N] [--seed S];
 * argv[0] is "quantize". Returns 0; dies (1) on unreadable input or an unwritable OUT, exits 2 on a bad
 * command line. */
int cmd_quantize(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
