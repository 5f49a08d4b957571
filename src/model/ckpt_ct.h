/* ckpt_ct -- the compressed-tensors checkpoint layouts (neuralmagic/compressed-tensors, read at commit
 * 52792be02ec09e59f3517104e755a02d0e003fbb, 2025-10-30; files under src/compressed_tensors/):
 *   pack-quantized (compressors/quantized_compressors/pack_quantized.py, pack_to_int32 / unpack_from_int32):
 *     codes q in the signed range [-2^(b-1), 2^(b-1)-1] (quantization/lifecycle/forward.py _quantize clamps to
 *     calculate_range, also for asymmetric args), stored as q + 2^(b-1) in b bits; 32/b consecutive values of
 *     the packed dim in one int32, value i of a word at bits [b*i, b*i+b) (the bit_shifts arange). weight_packed
 *     I32 [N, ceil(K/pf)] packs along K; weight_zero_point I32 [ceil(N/pf), n_groups] packs along N
 *     (packed_dim=0, asymmetric group/channel only), zero points signed like the codes; weight_scale
 *     [N, n_groups] (channel: [N, 1]); weight_shape [2] = (N, K); weight_g_idx I32 [K] with act-order.
 *     Dequantization (forward.py _dequantize): w[n][k] = (q - zp[n][g]) * scale[n][g], g = g_idx[k] or k / G.
 *     Only b = 4 and 8 are read: for 3/5/6/7 bits 32/b values do not fill a word and the packing changed
 *     between releases (the numpy loop before b9c536dc, 2025-01-31), so those are refused with one line.
 *   int-quantized (naive_quantized.py): weight I8 [N, K] codes, weight_scale, weight_zero_point.
 *   float-quantized (naive_quantized.py): weight F8_E4M3 [N, K], weight_scale [1] / [N, 1] (channel) /
 *     [ceil(N/bn), ceil(K/bk)] (block) / [N, K/G] (group): w = fp8 * scale.
 *   nvfp4-pack-quantized (fp4_quantized.py pack_fp4_to_uint8): weight_packed U8 [N, K/2], element 2i in the low
 *     nibble (E2M1: sign bit 3, magnitude index 0..7), weight_scale F8_E4M3 [N, K/16], weight_global_scale F32
 *     [1] = g; the dequantization DIVIDES: w = e2m1 * (scale / g) (forward.py: scale / global_scale), where
 *     ModelOpt's weight_scale_2 = 1/g multiplies (ckpt_modelopt.h). input_global_scale likewise for activations.
 *   mxfp4-pack-quantized (same compressor; utils/mxfp4_utils.py): weight_packed as above, weight_scale U8
 *     [N, K/32] holding E8M0 exponents, scale 2^(s - 127).
 * The FP32 view is the exact product (CT's torch reference computes it in the scale dtype, BF16, rounding once
 * more); NVFP4 is decoded as our nvfp4.h does, (e2m1 * d) / g, which can differ from CT's e2m1 * (d / g) in the
 * last FP32 bit (both are the same stored numbers). API: ckpt_ct_pack / ckpt_ct_unpack / ckpt_ct_read_linear /
 * ckpt_ct_act. */
#ifndef SRC_MODEL_CKPT_CT_H
#define SRC_MODEL_CKPT_CT_H

#include <stdint.h>

#include "model/ckpt_quant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pack_to_int32: v is rows x cols signed codes of b bits (b = 4 or 8: CHECK); packed_dim 1 packs along cols
 * into out[rows][ceil(cols / pf)], packed_dim 0 along rows into out[ceil(rows / pf)][cols] (pf = 32 / b),
 * padding with the code 0 - 2^(b-1) (stored 0). out holds little-endian int32 words (4 bytes each). */
void ckpt_ct_pack(const int8_t *v, int64_t rows, int64_t cols, int b, int packed_dim, uint8_t *out);

/* unpack_from_int32: the inverse, from the packed words p (rows x cols values wanted) into v. */
void ckpt_ct_unpack(const uint8_t *p, int64_t rows, int64_t cols, int b, int packed_dim, int8_t *v);

/* Reads module prefix (N x K) of a compressed-tensors checkpoint; returns 1, or 0 when stored unquantized. */
int ckpt_ct_read_linear(const struct ckpt_quant *q, const struct safetensors *st, const char *prefix, int64_t N,
                        int64_t K, struct linear *l);

/* Maps input_activations args onto an act spec. in_scale is the module's input_scale (static FP8: amax/448)
 * or input_global_scale (NVFP4: g), NAN when the checkpoint has none. Dies naming `what` for anything else. */
void ckpt_ct_act(const struct ckpt_qargs *a, float in_scale, struct linear_act *out, const char *what);

#ifdef __cplusplus
}
#endif
#endif
