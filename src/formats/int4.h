/* int4 -- the 4-bit integer element codec and nibble packing shared by int4g_sym and int4g_asym.
 * Signed codes are two's complement -8..7, unsigned codes 0..15, stored in a nibble. Encoding takes a value
 * already divided by its scale (plus the zero point for unsigned), rounds to nearest with ties to even
 * (rintf in the default rounding mode; CUDA __float2int_rn) and clamps to the code range; NaN encodes to 0
 * (the schemes never pass NaN: they poison the group scale instead). Packing: element 2i in the low
 * nibble of byte i, element 2i+1 in the high nibble (the order of CUDA's __nv_fp4x2 and of PyTorch). */
#ifndef SRC_FORMATS_INT4_H
#define SRC_FORMATS_INT4_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INT4_MIN (-8)
#define INT4_MAX 7
#define INT4_UMAX 15

/* Rounds v to the nearest integer (ties to even), clamped to -8..7; NaN -> 0. */
int int4_from_float(float v);

/* Rounds v to the nearest integer (ties to even), clamped to 0..15; NaN -> 0. */
int int4_from_float_u(float v);

/* Reads nibble i of the packed array p: unsigned 0..15, or sign-extended -8..7. */
int int4_get_u(const uint8_t *p, int64_t i);
int int4_get(const uint8_t *p, int64_t i);

/* Writes the low 4 bits of v into nibble i of p, keeping the other nibble of that byte. */
void int4_set(uint8_t *p, int64_t i, int v);

/* Parses "int4-g<G>-<kind><suffix>" with G in 32, 64, 128 written canonically (no "g064"): returns G, or 0
 * if name does not have that form. The shared name grammar of int4g_sym and int4g_asym. */
int int4_parse_group(const char *name, const char *kind, const char *suffix);

#ifdef __cplusplus
}
#endif
#endif
