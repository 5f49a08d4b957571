/* src/ops/rope.h -- rotary position embedding, the "rotate half" convention of HF transformers (Llama,
 * Qwen2, Qwen3): for a head vector x of D_h entries and i < D_h/2, with angle a = pos * inv_freq[i],
 *   y[i]        = x[i] cos a - x[i + D_h/2] sin a,   y[i + D_h/2] = x[i + D_h/2] cos a + x[i] sin a,
 * inv_freq[i] = 1 / theta^(2i / D_h), theta = rope_theta from config.json (1e6 for Qwen3). As in HF, inv_freq
 * and the angle are FP32 values (the angle is the FP32 product pos * inv_freq); cos and sin are then taken
 * exactly (in double) and rounded to FP32. Only the default rope type exists here (no YaRN / NTK scaling). */
#ifndef SRC_OPS_ROPE_H
#define SRC_OPS_ROPE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills inv_freq[D_h/2] for rope base theta. D_h must be even. */
void rope_inv_freq(float *inv_freq, int64_t D_h, double theta);

/* Rotates x (T x H x D_h, row-major, in place): row t is at absolute position pos0 + t. inv_freq comes from
 * rope_inv_freq. */
void rope_apply_ref(float *x, int64_t T, int64_t H, int64_t D_h, int64_t pos0, const float *inv_freq);

#ifdef __cplusplus
}
#endif
#endif
