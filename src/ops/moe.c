/* moe -- top-k routed SwiGLU experts; see moe.h. */
#include "ops/moe.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/swiglu.h"

/* Router of Qwen3MoeSparseMoeBlock: softmax over all E experts in FP32 (the row maximum subtracted, sum in
 * double), then the top_k probabilities, renormalised to sum 1 when norm_topk_prob (Qwen3-30B-A3B sets it).
 * Without renormalisation the weights are the raw softmax probabilities, as in HF. */
void moe_route_ref(float *logits, int64_t T, int64_t E, int64_t top_k, int norm_topk_prob, int32_t *ids,
                   float *weights) {
    // logits: T x E (softmax in place); ids, weights: T x top_k
    CHECK(top_k >= 1 && top_k <= E, "top_k=%lld E=%lld", (long long)top_k, (long long)E);
    for (int64_t t = 0; t < T; t++) {
        float *p = logits + t * E;
        float mx = p[0];
        for (int64_t e = 1; e < E; e++) mx = p[e] > mx ? p[e] : mx;
        double sum = 0.0;
        for (int64_t e = 0; e < E; e++) {
            p[e] = (float)exp((double)(p[e] - mx));
            sum += p[e];
        }
        // Probabilities are rounded to FP32 before selection, as torch's softmax(dtype=float32) returns them.
        for (int64_t e = 0; e < E; e++) p[e] = (float)(p[e] / sum);
        // Selection by repeated arg-max: k is small (8 of 128 for Qwen3-30B-A3B), so O(k E) is cheap and the
        // tie rule (lower id first) is explicit.
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
        // Renormalising over the chosen k keeps the output scale independent of how peaked the router is.
        if (norm_topk_prob)
            for (int64_t i = 0; i < top_k; i++) w[i] = (float)(w[i] / wsum);
    }
}

/* The MoE MLP on T rows. Tokens are grouped by expert so each expert runs one batched linear_forward per
 * call (prefill gathers many rows, decode one): the per-expert GEMM is what a quantized expert format
 * replaces. Memory: O(T D + T F_moe) scratch, no E x T x F buffers. */
void moe_forward_ref(float *y, const float *x, int64_t T, int64_t D, const float *router, int64_t E,
                     int64_t top_k, int norm_topk_prob, const struct linear *gate, const struct linear *up,
                     const struct linear *down, int64_t *expert_counts) {
    // x, y: T x D; logits: T x E; ids, w: T x top_k; xe: n_e x D; g, u: n_e x F; o: n_e x D
    float *logits = xmalloc((size_t)(T * E) * sizeof(float));
    int32_t *ids = xmalloc((size_t)(T * top_k) * sizeof(int32_t));
    float *w = xmalloc((size_t)(T * top_k) * sizeof(float));
    // Router logits T x E = x R^T; the router is a plain FP32 matrix, deliberately outside the Linear
    // interface so that no recipe quantizes it (DESIGN.md: the router stays full precision).
    if (T == 1) cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)E, (int)D, 1.0f, router, (int)D, x, 1, 0.0f, logits, 1);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)E, (int)D, 1.0f, x, (int)D, router, (int)D,
                     0.0f, logits, (int)E);
    moe_route_ref(logits, T, E, top_k, norm_topk_prob, ids, w);

    int64_t *rows = xmalloc((size_t)T * sizeof(int64_t));
    float *rw = xmalloc((size_t)T * sizeof(float));
    float *xe = xmalloc((size_t)(T * D) * sizeof(float));
    float *o = xmalloc((size_t)(T * D) * sizeof(float));
    memset(y, 0, (size_t)(T * D) * sizeof(float));
    // Experts in increasing id, each adding its weighted output: the accumulation order of HF's index_add_.
    for (int64_t e = 0; e < E; e++) {
        // Gather the rows routed to expert e with their routing weights (a token appears at most once per
        // expert: top-k picks distinct experts).
        int64_t n_e = 0;
        for (int64_t t = 0; t < T; t++)
            for (int64_t i = 0; i < top_k; i++)
                if (ids[t * top_k + i] == e) {
                    rows[n_e] = t;
                    rw[n_e] = w[t * top_k + i];
                    n_e++;
                }
        if (expert_counts) expert_counts[e] += n_e;
        if (n_e == 0) continue;
        // F is read from the expert itself: a quantizer may not change it, but it documents the shape contract.
        const int64_t F = gate[e].N;
        CHECK(gate[e].K == D && up[e].N == F && down[e].K == F && down[e].N == D, "expert %lld shapes", (long long)e);
        // xe: n_e x D gathered inputs; g, u: n_e x F; o: n_e x D.
        for (int64_t r = 0; r < n_e; r++) memcpy(xe + r * D, x + rows[r] * D, (size_t)D * sizeof(float));
        float *g = xmalloc((size_t)(n_e * F) * sizeof(float));
        float *u = xmalloc((size_t)(n_e * F) * sizeof(float));
        linear_forward(&gate[e], xe, g, n_e);
        linear_forward(&up[e], xe, u, n_e);
        // SwiGLU in place in g, then the down projection back to D.
        swiglu_ref(g, g, u, n_e * F);
        linear_forward(&down[e], g, o, n_e);
        // Scatter-add the weighted expert output: y[t] += w * o (FP32, one rounding per add, as index_add_).
        for (int64_t r = 0; r < n_e; r++) {
            float *yr = y + rows[r] * D;
            const float *orow = o + r * D;
            for (int64_t d = 0; d < D; d++) yr[d] += orow[d] * rw[r];
        }
        free(g);
        free(u);
    }
    free(logits);
    free(ids);
    free(w);
    free(rows);
    free(rw);
    free(xe);
    free(o);
}
