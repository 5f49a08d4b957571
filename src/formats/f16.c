/* f16 -- binary16 -> binary32; see f16.h. */
#include "formats/f16.h"

#include <math.h>
#include <string.h>

float f16_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);                       /* zero and subnormals: m * 2^-24 */
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 0x400), (int)e - 25);            /* (1024 + m) * 2^(e - 15 - 10) */
    uint32_t u;
    memcpy(&u, &v, 4);
    u |= sign;
    memcpy(&v, &u, 4);
    return v;
}
