/* src/ops/cpu_exec.h -- how the CPU engine spreads its work over the cores: the process-wide execution policy.
 * Two threadings, chosen once per process (OpenBLAS's thread count is process-wide state, so this is too):
 *   - CPU_THREADS_BLAS (the default, the specification): every GEMM / GEMV is one OpenBLAS call, split by
 *     OpenBLAS over its own threads. The committed CPU results were computed this way (OpenBLAS "Zen", 2
 *     threads), and their bits depend on that split: with OPENBLAS_CORETYPE=Zen, OpenBLAS 0.3.21 gives other
 *     last bits for the same sgemm at 1 thread, or cut into column blocks (measured on 11 shapes of the
 *     engine; its AVX-512 "Cooperlake" kernels are split-invariant on the aligned ones). So the experiment
 *     drivers keep it.
 *   - CPU_THREADS_OWN (serving: `ql logits`, `ql generate`, the benchmark): OpenBLAS runs single-threaded and
 *     the engine splits the work itself, with OpenMP dynamic scheduling: a Linear into column blocks of W
 *     (row blocks of y^T), attention into (kv head, query block) items. Why: OpenBLAS hands work to its
 *     threads in lock step for every call, and prefill makes ~260 calls per layer (attention's per-block
 *     sgemms); on a machine whose cores are busy with other processes each hand-off waits for a time slice,
 *     which made a 2048-token prefill 20-60x slower (measured: tools/bench/oversubscribe.sh). Here a layer
 *     is a few parallel loops whose items go to whichever thread is running, so a descheduled thread delays
 *     only the item it holds. Results are the same function of the inputs run to run (each output element is
 *     computed by one single-threaded call whose arguments do not depend on the thread count or timing), but
 *     not bit-equal to CPU_THREADS_BLAS on every OpenBLAS kernel family (see above): differences are FP32
 *     reorderings inside dot products, bounded as src/core/verify.c states for a change of backend.
 * Packed decode (packed_decode = 1; the `--packed` flag of the serving commands): a Linear with packed weights
 * in int8-channel, int4-gG-sym, int4-gG-asym or mxfp4 and one input row (decode) reads the packed weights
 * (ops/qgemv.h) instead of their FP32 dequantization: 4x / 8x fewer bytes per token. The FP32 path stays
 * the specification and what every accuracy experiment runs; qgemv.h derives the bound between the two.
 * The policy is read by linear_forward, attention_ref and qwen3_cpu_logits; the experiment drivers never set
 * it. Not thread-safe to change while a forward runs (set it at startup). */
#ifndef SRC_OPS_CPU_EXEC_H
#define SRC_OPS_CPU_EXEC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cpu_threads {
    CPU_THREADS_BLAS = 0,   /* OpenBLAS splits each call (the specification) */
    CPU_THREADS_OWN         /* single-threaded OpenBLAS calls, work split by the engine (OpenMP, dynamic) */
};

struct cpu_exec {
    enum cpu_threads threads;
    int packed_decode;      /* 1: decode GEMVs read packed weights where ops/qgemv.h has a kernel */
};

/* Installs the policy (OpenBLAS is set to 1 thread for CPU_THREADS_OWN, back to its start-up count for
 * CPU_THREADS_BLAS). Call before any forward pass. */
void cpu_exec_set(const struct cpu_exec *e);

/* The policy in force (zeroed = the default: CPU_THREADS_BLAS, no packed decode). */
const struct cpu_exec *cpu_exec_get(void);

/* Threads the engine's own split uses (OpenMP's maximum), also what BLAS mode gives OpenBLAS. */
int cpu_exec_threads(void);

/* y (T x N, row stride ldy) = alpha x (T x K, row stride ldx) W^T, W N x K row-major with row stride ldw:
 * the one GEMM shape of the engine (Linear, lm_head, router). BLAS mode: one cblas_sgemm (cblas_sgemv for
 * T = 1), exactly the call the engine made before this module existed. OWN mode: column blocks of W in
 * parallel, each one single-threaded OpenBLAS call; for T = 1 (and alpha 1) the FP32 GEMV of ops/qgemv.h. */
void cpu_exec_gemm_nt(const float *x, int64_t ldx, const float *w, int64_t ldw, float *y, int64_t ldy, int64_t T,
                      int64_t N, int64_t K, float alpha);

/* Below this many bytes of operands a GEMV (decode) stays on one thread in OWN mode: waking a sleeping thread
 * costs tens of microseconds (futex). Measured on qwen3-tiny decode: 2 threads on every GEMV (its int4 ones
 * are 0.13-0.4 MB) ran at 0.4-0.7x one thread on a loaded machine; with 256 KB, at load ~2, int4 decode ran
 * 640-870 tok/s against 640-655 with 1 MB, bf16 475-490 against 305-455 (a little better, within the noise). */
#define CPU_EXEC_PAR_MIN_BYTES (1 << 18)

/* "openblas <core> <n> threads" (BLAS mode) or "openblas <core> 1 thread x <n> engine threads" (OWN mode),
 * with " packed-decode" appended when on: the backend string of manifests and benchmark records. */
const char *cpu_exec_desc(void);

#ifdef __cplusplus
}
#endif
#endif
