/* hadamard -- block fast Walsh-Hadamard transform; see hadamard.h. */
#include "ops/hadamard.h"

#include <math.h>

#include "core/check.h"

void hadamard_rows_ref(float *x, int64_t T, int64_t K, int B) {
    // x: T x K, blocks of B along K
    CHECK(B >= 1 && (B & (B - 1)) == 0 && K % B == 0, "Hadamard block %d for K=%lld", B, (long long)K);
    const float scale = (float)(1.0 / sqrt((double)B));
    for (int64_t t = 0; t < T; t++) {
        for (int64_t b0 = 0; b0 < K; b0 += B) {
            float *v = x + t * K + b0;
            // Butterflies of span h: (a, b) -> (a + b, a - b), the Sylvester recursion unrolled.
            for (int h = 1; h < B; h *= 2)
                for (int i = 0; i < B; i += 2 * h)
                    for (int j = i; j < i + h; j++) {
                        float a = v[j], c = v[j + h];
                        v[j] = a + c;
                        v[j + h] = a - c;
                    }
            for (int i = 0; i < B; i++) v[i] *= scale;
        }
    }
}
