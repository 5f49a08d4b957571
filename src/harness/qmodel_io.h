/* src/harness/qmodel_io.h -- a quantized model as bytes: the payload of a quantized-model cache entry
 * (harness/qcache.h), everything quant_apply can change in a struct qwen3_model plus its struct quant_stats.
 * Layout (native byte order, which the entry's header records; tagged sections, so a payload out of step with
 * the reader fails at the next tag): quant_stats, every field; then the model: the config values the shapes
 * follow, n_nonfinite and loaded_quant (checked), the embeddings and an untied lm_head by sha256 only (arrays
 * quant_apply never changes: checked against the fresh model), the packed BF16 lm_head if any, the final norm
 * and the RoPE frequencies, then per layer its four norms, its seven dense Linears (absent ones marked), the
 * router and the experts' Linears. A Linear: shape, format name, bias, packed qtensor (format, resolved params,
 * shape, global scale and flag, its three byte arrays), the FP32 view (its sha256 only when it is exactly the
 * packed tensor's dequantization, which the load recomputes; else its values), the activation spec (mode,
 * format, resolved params with the static amax), in_scale, transform and block. Floats are stored as their
 * bits. The structs are written field by field; a _Static_assert on each one's size makes a new field a build
 * error in qmodel_io.c until it is stored. Observer hooks are never stored (a set one is a CHECK).
 * Loading is two passes over the same bytes: qmodel_io_check reads everything against the freshly loaded
 * model (shapes, layouts, hashes) without changing it, and only then does qmodel_io_apply install it, so a
 * rejected payload leaves the model as it was. API: qmodel_io_write / qmodel_io_check / qmodel_io_apply. */
#ifndef SRC_HARNESS_QMODEL_IO_H
#define SRC_HARNESS_QMODEL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "model/qwen3.h"
#include "quant/quantize.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The payload of m (quantized, no observer hooks: CHECK) and st (NULL: zeros) into *out (malloc'd; the caller
 * frees it), *n bytes. */
void qmodel_io_write(const struct qwen3_model *m, const struct quant_stats *st, uint8_t **out, size_t *n);

/* Reads the n bytes at p against m, a model freshly loaded from the same checkpoint, without changing it
 * (m is not const only because the reader is shared with qmodel_io_apply). Returns 0 when p can be installed
 * on m, else -1 with the first problem in why (nwhy bytes). */
int qmodel_io_check(const uint8_t *p, size_t n, struct qwen3_model *m, char *why, size_t nwhy);

/* Installs a payload that qmodel_io_check accepted on m: m becomes the model that was written, bit for bit,
 * and *st (may be NULL) its stats. A payload not checked first is a programmer error (CHECK on a problem). */
void qmodel_io_apply(const uint8_t *p, size_t n, struct qwen3_model *m, struct quant_stats *st);

#ifdef __cplusplus
}
#endif
#endif
