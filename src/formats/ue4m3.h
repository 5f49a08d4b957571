/* ue4m3 -- unsigned E4M3, the block-scale type of NVFP4 (NVIDIA's "UE4M3": an E4M3 code with sign 0).
 * The byte is the E4M3 code of a non-negative value: 4 exponent bits (bias 7), 3 mantissa bits, largest
 * 448 (0x7E), smallest subnormal 2^-9, 0x7F is NaN. Encoding: round-to-nearest-even, saturating to 448
 * (+Inf too); zero, -0.0 and negative inputs give 0x00 (a scale is never negative); NaN gives 0x7F.
 * Decoding ignores bit 7, which the encoder never sets. Same bits as e4m3 for every non-negative input. */
#ifndef SRC_FORMATS_UE4M3_H
#define SRC_FORMATS_UE4M3_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UE4M3_MAX 448.0f
#define UE4M3_NAN 0x7Fu

/* Encodes a non-negative scale as UE4M3 (see the header comment for negative, zero and NaN). */
uint8_t ue4m3_from_float(float x);

/* Decodes a UE4M3 code exactly (bit 7 ignored); 0x7F gives NaN. */
float ue4m3_to_float(uint8_t c);

#ifdef __cplusplus
}
#endif
#endif
