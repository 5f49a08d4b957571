/* nll_cache -- a file of per-token NLLs (doubles) of one model on one or more token streams, so a paired
 * comparison (eval/ppl_paired.h) can read the baseline's per-token NLLs instead of recomputing them.
 * Identity: the file holds the 64-hex-digit key it was written for (e02: the cache key of the BF16 recipe's
 * manifest, which covers the model files, the data files, the parameters and the driver binary), and a reader
 * accepts it only when that key, the part count and every part's length match, and the payload's SHA-256 is
 * intact. Anything else (absent, truncated, stale, corrupt) is reported, and the caller recomputes.
 * Layout (host byte order: the magic reads back wrong on a foreign-endian host, which is "bad", never
 * misread): "QLNLLv01" magic (8 bytes), uint32 version (1), uint32 n_parts, char key[64], char
 * payload_sha256[64], int64 n[n_parts], then the doubles of part 0, part 1, ... Written under a temporary
 * name and renamed (core/fileio.h fileio_tmp), so a reader never sees half a file.
 * API: nll_cache_write, nll_cache_read. */
#ifndef SRC_EVAL_NLL_CACHE_H
#define SRC_EVAL_NLL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NLL_CACHE_VERSION 1u

/* Writes n_parts parts (part i: n[i] doubles at parts[i]) for key (64 hex digits + NUL) to path, creating
 * its folder. Dies naming the path on an I/O error (nothing partial is left). */
void nll_cache_write(const char *path, const char *key, int n_parts, const int64_t *n, const double *const *parts);

/* Reads path into parts[i] (caller-allocated, n[i] doubles each) when it was written for key with exactly
 * these part lengths. Returns 0 then; otherwise 1 with a one-line reason in why[0..why_len) ("absent",
 * "key differs", "truncated", "payload sha256 differs", ...), parts' contents unspecified. Never dies on a
 * bad file. */
int nll_cache_read(const char *path, const char *key, int n_parts, const int64_t *n, double *const *parts,
                   char *why, size_t why_len);

#ifdef __cplusplus
}
#endif
#endif
