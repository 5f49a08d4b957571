/* linear -- y = x W^T (+ b) through one interface; see linear.h. */
#include "ops/linear.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "ops/act_quant.h"
#include "ops/cpu_exec.h"
#include "ops/hadamard.h"
#include "ops/qgemv.h"

/* Takes ownership of w (and b): the model frees them through linear_free. No copy is made, so a loader can
 * hand over the FP32 buffer it just dequantized into. */
void linear_init(struct linear *l, int64_t N, int64_t K, float *w, float *b, const char *format) {
    CHECK(N > 0 && K > 0 && w, "linear %lld x %lld", (long long)N, (long long)K);
    memset(l, 0, sizeof *l);
    l->N = N;
    l->K = K;
    l->w = w;
    l->b = b;
    l->format = format;
}

/* Releases the weights, the bias and the quantization state. */
void linear_free(struct linear *l) {
    free(l->w);
    free(l->b);
    if (l->packed) {
        qtensor_free(l->packed);
        free(l->packed);
    }
    free(l->in_scale);
    memset(l, 0, sizeof *l);
}

/* Swaps in new FP32 weights (a quantize-dequantize result); the shape is unchanged by contract. Passing the
 * current pointer is allowed and only renames the format. */
void linear_set_weights(struct linear *l, float *w, const char *format) {
    CHECK(w, "null weights");
    if (w != l->w) free(l->w);
    l->w = w;
    l->format = format;
}

void linear_set_packed(struct linear *l, struct qtensor *q, const char *format) {
    CHECK(q && q->N == l->N && q->K == l->K, "packed %lld x %lld for a %lld x %lld linear", q ? (long long)q->N : -1LL,
          q ? (long long)q->K : -1LL, (long long)l->N, (long long)l->K);
    float *w = xmalloc((size_t)(l->N * l->K) * sizeof *w);
    qtensor_dequantize(q, w);
    linear_set_weights(l, w, format);
    if (l->packed && l->packed != q) {
        qtensor_free(l->packed);
        free(l->packed);
    }
    l->packed = q;
}

int linear_is_quantized(const struct linear *l) {
    return l->packed || l->act.mode != LINEAR_ACT_NONE || l->in_scale || l->transform != LINEAR_TRANSFORM_NONE;
}

/* The one GEMM entry point of the decoder: observe -> in_scale, Hadamard, act (on a copy) -> sgemm -> bias.
 * FP32 everywhere: OpenBLAS accumulates in FP32 with its own blocking, so results depend on the BLAS build
 * only in the last bits (the fidelity tests bound that at 1e-3 on logits, observed ~5e-6). */
void linear_forward(const struct linear *l, const float *x, float *y, int64_t T) {
    // x: T x K, W: N x K, y: T x N
    const int64_t N = l->N, K = l->K;
    CHECK(T >= 0, "T=%lld", (long long)T);
    if (T == 0) return;
    if (l->observe) l->observe(l->observe_ctx, l, x, T);

    // The input-side steps work on a copy: the caller's activations (often the residual stream) stay intact.
    float *xq = NULL;
    if (l->in_scale || l->transform != LINEAR_TRANSFORM_NONE || l->act.mode != LINEAR_ACT_NONE) {
        xq = xmalloc((size_t)(T * K) * sizeof(float));
        memcpy(xq, x, (size_t)(T * K) * sizeof(float));
        if (l->in_scale)
            for (int64_t t = 0; t < T; t++)
                for (int64_t k = 0; k < K; k++) xq[t * K + k] *= l->in_scale[k];
        if (l->transform == LINEAR_TRANSFORM_HADAMARD) hadamard_rows_ref(xq, T, K, l->transform_block);
        if (l->act.mode != LINEAR_ACT_NONE) act_quant_rows(l->act.format, &l->act.params, xq, T, K);
        x = xq;
    }
    if (T == 1 && l->packed && cpu_exec_get()->packed_decode && qgemv_supported(l->packed)) {
        // Packed decode (a serving flag, ops/cpu_exec.h): read the packed weights, not their FP32 view.
        qgemv(l->packed, x, y);
    } else {
        // Row-major y = x W^T: W stays in its N x K checkpoint layout, so no transpose copy is ever made; a
        // GEMV for T = 1 (decode), one sgemm otherwise, or the engine's own split (ops/cpu_exec.h).
        cpu_exec_gemm_nt(x, K, l->w, K, y, N, T, N, K, 1.0f);
    }
    // The bias is added after the GEMM (a packed kernel of another backend need not know about it).
    if (l->b) {
        for (int64_t t = 0; t < T; t++)
            for (int64_t n = 0; n < N; n++) y[t * N + n] += l->b[n];
    }
    free(xq);
}

/* 2 T N K: one multiply and one add per weight and row. */
double linear_flops(const struct linear *l, int64_t T) { return 2.0 * (double)T * (double)l->N * (double)l->K; }

const char *linear_backend_desc(void) {
    static char desc[128];
    snprintf(desc, sizeof desc, "cpu %s", cpu_exec_desc());
    return desc;
}
