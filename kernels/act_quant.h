/* act_quant -- activation quantize-dequantize on the GPU at the input of a quantized Linear, the bit-exact twin
 * of act_quant_rows (src/ops/act_quant.h), i.e. of qformat_fake_quant_rows(format, x, T, K, params), for the
 * activation formats the recipes use:
 *   fp8-group128 (fp8), mxfp8, mxfp4 / mxfp4-ceil (the mx rule of params), nvfp4 (global scale from the
 *   static params.amax or the dynamic amax of the whole T x K), fp8-tensor (nvfp8: scale = amax / 448, static
 *   or dynamic, code e4m3(x / scale), value code * scale).
 * The block formats run the codec kernels of kernels/quantize_*.cu (encode into scratch, decode back into x);
 * the per-tensor amax is an order-free max reduction (fmaxf on non-negative floats as unsigned bits, with the
 * NaN / Inf poison flag of src/formats/amax.h), then nvfp4_global_scale / fp8_tensor_scale on the host, so a
 * dynamic per-tensor format costs one device-to-host copy of 8 bytes. Any other format dies with one line
 * naming it. Checked by tests/check_act_quant.cu. Deterministic. Built with -fmad=false (a codec). */
#ifndef KERNELS_ACT_QUANT_H
#define KERNELS_ACT_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device scratch bytes act_quant_cuda needs for T x K in format f (codes, scales and the amax words). */
size_t act_quant_scratch_bytes(enum qformat f, int64_t T, int64_t K);

/* 1 if act_quant_cuda implements f. */
int act_quant_cuda_supports(enum qformat f);

/* x (T x K device floats) <- fake_quant(x) in place in (f, p). scratch: act_quant_scratch_bytes(f, T, K)
 * device bytes, 16-byte aligned. Dies on an unsupported format or a K the scheme cannot hold. */
void act_quant_cuda(enum qformat f, const struct qparams *p, float *x, int64_t T, int64_t K, void *scratch,
                    void *stream);

/* The per-tensor amax of n device floats with the poison rule (NaN if any is NaN or infinite), returned to the
 * host (synchronises the stream). word: 2 device uint32 of scratch. */
float amax_cuda(const float *x, int64_t n, uint32_t *word, void *stream);

#ifdef __cplusplus
}
#endif
#endif
