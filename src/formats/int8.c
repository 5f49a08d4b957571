/* int8 -- see int8.h. */
#include "formats/int8.h"

#include <math.h>

int8_t int8_from_float(float v) {
    if (isnan(v)) return 0;
    float r = rintf(v);
    if (r < -128.0f) r = -128.0f;
    if (r > 127.0f) r = 127.0f;
    return (int8_t)r;
}
