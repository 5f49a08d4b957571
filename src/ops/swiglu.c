/* swiglu -- silu(gate) * up; see swiglu.h. */
#include "ops/swiglu.h"

#include <string.h>

#include "ops/fastexp.h"

/* Values per chunk: the loops below run a fixed count over stack copies, which GCC's -O2 vectorizer accepts
 * (no scalar epilogue, no runtime alias check: h may alias g or u). 256 floats x 3 buffers stay in L1 and
 * amortise the fastexp_array call. A multiple of FASTEXP_BLOCK. */
enum { SWIGLU_CHUNK = 256 };

/* One chunk of exactly SWIGLU_CHUNK values, from copies gb, ub into hb. */
static void swiglu_chunk(float *hb, const float *gb, const float *ub) {
    float e[SWIGLU_CHUNK];
    for (int i = 0; i < SWIGLU_CHUNK; i++) e[i] = -gb[i];
    fastexp_array(e, e, SWIGLU_CHUNK);
    // g * (1 / (1 + e^-g)), torch's FP32 order; e = inf (g < -88.7) gives 1 / inf = 0, so h = -0, never NaN.
    for (int i = 0; i < SWIGLU_CHUNK; i++) hb[i] = (gb[i] * (1.0f / (1.0f + e[i]))) * ub[i];
}

/* silu(g) * u elementwise, in chunks; a short last chunk is zero-padded (silu(0) * 0, then dropped). Each
 * output depends on its own g and u only, so the bits do not depend on n or on the position. */
void swiglu_ref(float *h, const float *g, const float *u, int64_t n) {
    float gb[SWIGLU_CHUNK], ub[SWIGLU_CHUNK], hb[SWIGLU_CHUNK];
    for (int64_t i0 = 0; i0 < n; i0 += SWIGLU_CHUNK) {
        const int64_t nb = n - i0 < SWIGLU_CHUNK ? n - i0 : SWIGLU_CHUNK;
        if (nb < SWIGLU_CHUNK) {
            memset(gb, 0, sizeof gb);
            memset(ub, 0, sizeof ub);
        }
        memcpy(gb, g + i0, (size_t)nb * sizeof(float));
        memcpy(ub, u + i0, (size_t)nb * sizeof(float));
        swiglu_chunk(hb, gb, ub);
        memcpy(h + i0, hb, (size_t)nb * sizeof(float));
    }
}
