/* moe -- see moe.h. */
#include "moe.h"

#include "common.cuh"
#include "core/check.h"

static __global__ void moe_route_kernel(float *logits, int64_t T, int64_t E, int64_t top_k, int norm, int32_t *ids,
                                        float *weights) {
    const int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= T) return;
    float *p = logits + t * E;
    float mx = p[0];
    for (int64_t e = 1; e < E; e++) mx = p[e] > mx ? p[e] : mx;
    double sum = 0.0;
    for (int64_t e = 0; e < E; e++) {
        p[e] = (float)exp((double)__fsub_rn(p[e], mx));
        sum += p[e];
    }
    for (int64_t e = 0; e < E; e++) p[e] = (float)((double)p[e] / sum);
    int32_t *id = ids + t * top_k;
    float *w = weights + t * top_k;
    double wsum = 0.0;
    for (int64_t i = 0; i < top_k; i++) {
        int64_t best = -1;
        for (int64_t e = 0; e < E; e++) {
            int taken = 0;
            for (int64_t j = 0; j < i; j++) taken |= id[j] == e;
            if (!taken && (best < 0 || p[e] > p[best])) best = e;
        }
        id[i] = (int32_t)best;
        w[i] = p[best];
        wsum += p[best];
    }
    if (norm)
        for (int64_t i = 0; i < top_k; i++) w[i] = (float)((double)w[i] / wsum);
}

extern "C" void moe_route_cuda(float *logits, int64_t T, int64_t E, int64_t top_k, int norm_topk_prob, int32_t *ids,
                               float *weights, void *stream) {
    CHECK(top_k >= 1 && top_k <= E && E <= MOE_MAX_E, "top_k=%lld E=%lld", (long long)top_k, (long long)E);
    if (T == 0) return;
    moe_route_kernel<<<(unsigned)ceil_div(T, 128), 128, 0, (cudaStream_t)stream>>>(logits, T, E, top_k,
                                                                                     norm_topk_prob, ids, weights);
    CUDA_CHECK_LAUNCH();
}
