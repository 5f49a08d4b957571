/* cmd_quantize -- "ql quantize": apply an RTN recipe to a checkpoint and write the packed result.
 * Loads -m DIR, calibrates when the recipe needs static activation ranges (nvfp8: C4-slice calibration
 * documents, or text sampled from the BF16 model when no data exists), quantizes every decoder-block Linear
 * (src/quant/rtn.h) and writes -o OUT as a checkpoint directory in the layout rtn_save documents: packed U8
 * tensors per Linear, FP32 scalars for per-tensor scales and static ranges, a "quantization_config" in
 * config.json, and the tokenizer files copied. */
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
