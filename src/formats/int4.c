/* int4 -- see int4.h. */
#include "formats/int4.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Clamping happens on the float before rintf's result is converted, so huge values cannot overflow int. */
static int round_clamp(float v, float lo, float hi) {
    if (isnan(v)) return 0;
    float r = rintf(v);
    if (r < lo) r = lo;
    if (r > hi) r = hi;
    return (int)r;
}

int int4_from_float(float v) { return round_clamp(v, (float)INT4_MIN, (float)INT4_MAX); }

int int4_from_float_u(float v) { return round_clamp(v, 0.0f, (float)INT4_UMAX); }

int int4_get_u(const uint8_t *p, int64_t i) { return (p[i >> 1] >> ((i & 1) * 4)) & 0xF; }

int int4_get(const uint8_t *p, int64_t i) {
    int u = int4_get_u(p, i);
    return u >= 8 ? u - 16 : u;
}

void int4_set(uint8_t *p, int64_t i, int v) {
    int sh = (int)(i & 1) * 4;
    p[i >> 1] = (uint8_t)((p[i >> 1] & ~(0xF << sh)) | ((v & 0xF) << sh));
}

int int4_parse_group(const char *name, const char *kind, const char *suffix) {
    static const int groups[3] = {32, 64, 128};
    char canon[48];
    for (int i = 0; i < 3; i++) {
        snprintf(canon, sizeof canon, "int4-g%d-%s%s", groups[i], kind, suffix);
        if (strcmp(canon, name) == 0) return groups[i];
    }
    return 0;
}
