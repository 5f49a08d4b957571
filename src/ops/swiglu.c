/* swiglu -- silu(gate) * up; see swiglu.h. */
#include "ops/swiglu.h"

#include <math.h>

/* silu(g) * u elementwise; g * sigmoid(g) is formed as g * (1 / (1 + e^-g)), torch's FP32 order. */
void swiglu_ref(float *h, const float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-g[i]));
        h[i] = (g[i] * s) * u[i];
    }
}
