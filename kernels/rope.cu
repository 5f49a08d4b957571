/* rope -- see rope.h. */
#include "rope.h"

#include <math.h>

#include "common.cuh"
#include "core/check.h"

/* The twin's table (src/ops/rope.c, rope_table): the FP32 angle, then cos / sin in double rounded to FP32. */
extern "C" void rope_table_host(const float *inv_freq, int64_t half, int64_t n_pos, float *cos_tab, float *sin_tab) {
    for (int64_t p = 0; p < n_pos; p++)
        for (int64_t i = 0; i < half; i++) {
            float a = (float)p * inv_freq[i];
            cos_tab[p * half + i] = (float)cos((double)a);
            sin_tab[p * half + i] = (float)sin((double)a);
        }
}

static __global__ void rope_apply_kernel(float *x, int64_t T, int64_t H, int64_t half, int64_t pos0,
                                         const float *cs, const float *sn) {
    // x: T x H x (2 half); one thread per (t, h, i)
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= T * H * half) return;
    const int64_t i = idx % half, th = idx / half, t = th / H;
    float *v = x + th * 2 * half;
    const float c = cs[(pos0 + t) * half + i], s = sn[(pos0 + t) * half + i];
    const float x1 = v[i], x2 = v[i + half];
    v[i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
    v[i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
}

extern "C" void rope_apply_cuda(float *x, int64_t T, int64_t H, int64_t D_h, int64_t pos0, const float *cos_tab,
                                const float *sin_tab, void *stream) {
    CHECK(D_h % 2 == 0 && pos0 >= 0, "rope: D_h %lld, pos0 %lld", (long long)D_h, (long long)pos0);
    const int64_t n = T * H * (D_h / 2);
    if (n == 0) return;
    rope_apply_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, T, H, D_h / 2, pos0, cos_tab,
                                                                                     sin_tab);
    CUDA_CHECK_LAUNCH();
}
