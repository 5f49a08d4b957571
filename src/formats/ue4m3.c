/* ue4m3 -- see ue4m3.h. */
#include "formats/ue4m3.h"

#include <math.h>

#include "formats/minifloat.h"

uint8_t ue4m3_from_float(float x) {
    if (isnan(x)) return UE4M3_NAN;
    if (!(x > 0.0f)) return 0;
    return (uint8_t)minifloat_round_mag(minifloat_f2u(x), 3, 7, 0x7Eu);
}

float ue4m3_to_float(uint8_t c) {
    c &= 0x7Fu;
    if (c == UE4M3_NAN) return NAN;
    return minifloat_decode_mag(c, 3, 7);
}
