/* nv2l -- the two-level "NV-style" block scaling shared by nvfp4 (E2M1 elements) and nvfp8-2l (E4M3 elements):
 * blocks of NV2L_BLOCK_SIZE = 16 along K, a UE4M3 scale per block, an FP32 global g per tensor (NVIDIA NVFP4,
 * as ModelOpt and TensorRT-LLM define it; nvfp4.h states the rules in full). With E = the element format's
 * largest magnitude (6 for E2M1, 448 for E4M3):
 *   g = (448 * E) / amax_tensor (FP32; 1 when amax is 0; NaN when it is not finite; capped at 2^64)
 *   s = ue4m3((amax_b / E) * g), d = ue4m3_value(s);   elements are coded as x * (1 / (d / g)), decoded as
 *   (code * d) / g; a zero or NaN d gives zero codes (no division by zero, no NaN reaching the element codec).
 * The block struct of each format starts with its UE4M3 scale byte; the registry helpers below take the
 * struct's size from struct nv2l_scheme. Every expression is the one the formats had inline, in the same
 * FP32 order (bit-identical codes). */
#ifndef SRC_FORMATS_NV2L_H
#define SRC_FORMATS_NV2L_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qformat.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NV2L_BLOCK_SIZE 16
#define NV2L_GLOBAL_MAX 18446744073709551616.0f /* 2^64: keeps d / g and its inverse normal floats */

/* One two-level format: its element maximum E, the bytes of its block struct (scale byte first), and the rule
 * that turns a block amax into the scale code (NULL: nv2l_block_scale, no options). */
struct nv2l_scheme {
    float elem_max;
    size_t block_bytes;
    uint8_t (*block_scale)(float amax_b, float global, const struct qparams *p);
};

/* g = (448 * elem_max) / amax, with the edge cases of the header comment. */
float nv2l_global_scale(float amax, float elem_max);

/* The UE4M3 code of (amax_b / elem_max) * global: <= 448 whenever amax_b <= the tensor amax. */
uint8_t nv2l_block_scale(float amax_b, float global, float elem_max);

/* The factor elements are multiplied by before their codec: 1 / (d / global), or 0 when !(d > 0). */
float nv2l_inv_scale(float d, float global);

/* The registry's choose_scales_shrunk: g from the tensor amax (static or the data's, never shrunk) when due,
 * then the scale byte of every block of columns [k0, k1) from the block amax times p. */
void nv2l_choose_shrunk(const struct nv2l_scheme *s, struct qtensor *q, const float *w, int64_t k0, int64_t k1,
                        float p);

/* The registry's per-block accessors: block index of (n, k), number of blocks, the applied scale d / g of the
 * block holding (n, k), and copying block d's scale byte from src to dst. */
int64_t nv2l_domain_at(const struct qtensor *q, int64_t n, int64_t k);
int64_t nv2l_n_domains(const struct qtensor *q);
float nv2l_scale_at(const struct nv2l_scheme *s, const struct qtensor *q, int64_t n, int64_t k);
void nv2l_copy_domain(const struct nv2l_scheme *s, struct qtensor *dst, const struct qtensor *src, int64_t d);

/* Sets q's global scale from the tensor amax of w (the minmax quantize path). */
void nv2l_set_global(const struct nv2l_scheme *s, struct qtensor *q, const float *w);

#ifdef __cplusplus
}
#endif
#endif
