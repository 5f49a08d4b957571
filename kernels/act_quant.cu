/* act_quant -- see act_quant.h. */
#include "act_quant.h"

#include <math.h>
#include <string.h>

#include "common.cuh"
#include "core/check.h"
#include "formats/fp8_group.h"
#include "formats/fp8_tensor.h"
#include "formats/mxfp4.h"
#include "formats/mxfp8.h"
#include "formats/nvfp4.h"
#include "quantize_fp8_group.h"
#include "quantize_mxfp4.h"
#include "quantize_mxfp8.h"
#include "quantize_nvfp4.h"

// ---- per-tensor amax ----

/* word[0]: max |x| as the bits of a non-negative float (unsigned order = float order there, so atomicMax on
 * the bits is the exact, order-free float max); word[1]: 1 if any value was NaN or infinite. */
static __global__ void amax_kernel(const float *x, int64_t n, uint32_t *word) {
    float m = 0.0f;
    int bad = 0;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float a = fabsf(x[i]);
        bad |= !isfinite(a);
        m = isfinite(a) ? fmaxf(m, a) : m;
    }
    for (int off = 16; off > 0; off /= 2) {
        m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, off));
        bad |= __shfl_xor_sync(0xFFFFFFFFu, bad, off);
    }
    if (threadIdx.x % 32 == 0) {
        atomicMax(&word[0], __float_as_uint(m));
        if (bad) atomicOr(&word[1], 1u);
    }
}

extern "C" float amax_cuda(const float *x, int64_t n, uint32_t *word, void *stream) {
    cudaStream_t s = (cudaStream_t)stream;
    uint32_t h[2];
    CUDA_CHECK(cudaMemsetAsync(word, 0, 2 * sizeof(uint32_t), s));
    if (n > 0) {
        const int64_t blocks = ceil_div(n, 256) < 1024 ? ceil_div(n, 256) : 1024;
        amax_kernel<<<(unsigned)blocks, 256, 0, s>>>(x, n, word);
        CUDA_CHECK_LAUNCH();
    }
    CUDA_CHECK(cudaMemcpyAsync(h, word, sizeof h, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    float m;
    memcpy(&m, &h[0], sizeof m);
    return h[1] ? NAN : m;
}

// ---- fp8-tensor ----

/* The twin's arithmetic (fp8_tensor_quantize_row_ref, then _dequantize_row_ref): code = e4m3(x / scale) with
 * one correctly rounded division, value = e4m3_value(code) * scale; a scale that is 0 or NaN writes zero codes,
 * which decode to 0 * scale (0, or NaN for a poisoned tensor). */
static __global__ void fake_fp8_tensor_kernel(float *x, int64_t n, float scale) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const uint8_t c = scale > 0.0f ? dev_e4m3(__fdiv_rn(x[i], scale)) : 0;
    x[i] = __fmul_rn(dev_e4m3_value(c), scale);
}

// ---- dispatch ----

int act_quant_cuda_supports(enum qformat f) {
    return f == QFORMAT_FP8_GROUP128 || f == QFORMAT_MXFP8 || f == QFORMAT_MXFP4 || f == QFORMAT_MXFP4_CEIL ||
           f == QFORMAT_NVFP4 || f == QFORMAT_FP8_TENSOR;
}

/* Codes and scales first (16-byte aligned), the two amax words last. */
static size_t codes_bytes(enum qformat f, int64_t T, int64_t K) {
    const size_t n = (size_t)(T * K);
    switch (f) {
    case QFORMAT_FP8_GROUP128: return n + n / FP8_GROUP_SIZE * sizeof(float);
    case QFORMAT_MXFP8: return n / MXFP8_BLOCK_SIZE * sizeof(struct mxfp8_block);
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL: return n / MXFP4_BLOCK_SIZE * sizeof(struct mxfp4_block);
    case QFORMAT_NVFP4: return n / NVFP4_BLOCK_SIZE * sizeof(struct nvfp4_block);
    default: return 0;
    }
}

extern "C" size_t act_quant_scratch_bytes(enum qformat f, int64_t T, int64_t K) {
    return (codes_bytes(f, T, K) + 15) / 16 * 16 + 16;
}

extern "C" void act_quant_cuda(enum qformat f, const struct qparams *p, float *x, int64_t T, int64_t K,
                               void *scratch, void *stream) {
    if (!act_quant_cuda_supports(f))
        die("cuda engine: activation format '%s' is not implemented on the GPU (supported: fp8-group128, mxfp8, "
            "mxfp4, mxfp4-ceil, nvfp4, fp8-tensor)", qformat_name(f));
    char err[160];
    if (qformat_check_shape(f, p, T > 0 ? T : 1, K, err, sizeof err) != 0) die("cuda engine: %s", err);
    if (T == 0) return;
    const struct qparams r = qformat_resolve(f, p);
    uint8_t *codes = (uint8_t *)scratch;
    uint32_t *word = (uint32_t *)(codes + (codes_bytes(f, T, K) + 15) / 16 * 16);
    const int64_t n = T * K;
    switch (f) {
    case QFORMAT_FP8_GROUP128: {
        float *scales = (float *)(codes + (size_t)n);   /* n is a multiple of 128: 4-byte aligned */
        quantize_fp8_group_cuda(x, codes, scales, T, K, stream);
        quantize_fp8_group_dequantize_cuda(codes, scales, x, T, K, stream);
        break;
    }
    case QFORMAT_MXFP8:
        quantize_mxfp8_cuda(x, (struct mxfp8_block *)codes, T, K, r.mx_rule, stream);
        quantize_mxfp8_dequantize_cuda((struct mxfp8_block *)codes, x, T, K, stream);
        break;
    case QFORMAT_MXFP4:
    case QFORMAT_MXFP4_CEIL:
        quantize_mxfp4_cuda(x, (struct mxfp4_block *)codes, T, K, f == QFORMAT_MXFP4_CEIL ? E8M0_RULE_CEIL : r.mx_rule,
                            stream);
        quantize_mxfp4_dequantize_cuda((struct mxfp4_block *)codes, x, T, K, stream);
        break;
    case QFORMAT_NVFP4: {
        const float g = nvfp4_global_scale(r.amax > 0.0f ? r.amax : amax_cuda(x, n, word, stream));
        quantize_nvfp4_cuda(x, (struct nvfp4_block *)codes, T, K, g, stream);
        quantize_nvfp4_dequantize_cuda((struct nvfp4_block *)codes, x, T, K, g, stream);
        break;
    }
    case QFORMAT_FP8_TENSOR: {
        const float scale = fp8_tensor_scale(r.amax > 0.0f ? r.amax : amax_cuda(x, n, word, stream), FP8_TENSOR_E4M3);
        fake_fp8_tensor_kernel<<<(unsigned)ceil_div(n, 256), 256, 0, (cudaStream_t)stream>>>(x, n, scale);
        CUDA_CHECK_LAUNCH();
        break;
    }
    default: CHECK(0, "unreachable format %d", (int)f);
    }
}
