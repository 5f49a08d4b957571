/* cmd_export_gguf -- "ql export-gguf": write a checkpoint, quantized with a recipe (or with one weight scheme
 * by round-to-nearest), as a GGUF v3 file llama.cpp and our own loader read (src/quant/gguf_export.h).
 * -r RECIPE goes through the experiments' harness exactly as `ql quantize` does (same calibration), so the
 * GGUF holds what the experiments measured; --weights SCHEME instead quantizes every decoder Linear with
 * qtensor_quantize (min-max scales, RTN: int4-g128-sym, int4-g128-asym, mxfp4, nvfp4, ...), for schemes the
 * recipe table has no weight-only row for; --as-loaded writes the weights as loaded (a .gguf model: its
 * decoded FP32 values, which tools/llamacpp/gguf_py_check.py compares with gguf-py's decoding). */
#ifndef SRC_CLI_CMD_EXPORT_GGUF_H
#define SRC_CLI_CMD_EXPORT_GGUF_H

#ifdef __cplusplus
extern "C" {
#endif

/* ql export-gguf -m DIR (-r RECIPE | --weights SCHEME | --as-loaded) -o OUT.gguf [--float f32|bf16] [--q8_0]
 * [--data-dir D] [--calib-seqs N] [--calib-len N] [--seed S]; argv[0] is "export-gguf". Returns 0; dies (1)
 * on unreadable input or an unrepresentable tensor, exits 2 on a bad command line. */
int cmd_export_gguf(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
