/* rope -- rotary position embedding (rotate half) on the GPU, the bit-exact twin of rope_apply_ref
 * (src/ops/rope.h): for each head of row t at position pos0 + t and i < D_h/2, with c, s the FP32 cos / sin of
 * the FP32 angle (pos0 + t) * inv_freq[i],
 *   y[i] = x[i] c - x[i + D_h/2] s,   y[i + D_h/2] = x[i + D_h/2] c + x[i] s,
 * two rounded products and one rounded sum each (explicit __fmul_rn / __fsub_rn / __fadd_rn: no FMA).
 * The cos / sin table is the twin's (rope_table_host computes it with the same FP32 angle and double cos /
 * sin rounded to FP32, so table entries are the same bits), uploaded once by the caller; the kernel only
 * rotates. One thread per (row, head, i). Checked by tests/check_rope.cu. Deterministic. */
#ifndef KERNELS_ROPE_H
#define KERNELS_ROPE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Host: cos_tab, sin_tab (n_pos x half floats, half = D_h / 2) for positions 0 .. n_pos-1, exactly the
 * values rope_apply_ref uses. */
void rope_table_host(const float *inv_freq, int64_t half, int64_t n_pos, float *cos_tab, float *sin_tab);

/* x: T x H x D_h device floats, rotated in place; cos_tab / sin_tab: device tables of at least pos0 + T rows. */
void rope_apply_cuda(float *x, int64_t T, int64_t H, int64_t D_h, int64_t pos0, const float *cos_tab,
                     const float *sin_tab, void *stream);

#ifdef __cplusplus
}
#endif
#endif
