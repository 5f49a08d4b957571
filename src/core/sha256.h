/* sha256 -- SHA-256 (FIPS 180-4) of buffers and files, as lowercase hex.
 * Used for the cache key (hash of the canonical manifest JSON), for pinning inputs (datasets, weights) and for
 * the driver binary hash. sha256_file_cached keeps a small on-disk cache keyed by (path, size, mtime) under
 * build/cache/sha256.tsv so multi-gigabyte checkpoints are not rehashed on every run. */
#ifndef SRC_CORE_SHA256_H
#define SRC_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

struct sha256_ctx {
    uint32_t h[8];
    uint64_t n_bytes;
    uint8_t buf[64];
    size_t n_buf;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes the 32-byte digest. */
void sha256_final(struct sha256_ctx *c, uint8_t out[32]);

/* Hex digest of a buffer into hex[SHA256_HEX_LEN]. */
void sha256_buf(const void *data, size_t len, char hex[SHA256_HEX_LEN]);

/* Hex digest of a file's contents; dies naming the path if it cannot be read. */
void sha256_file(const char *path, char hex[SHA256_HEX_LEN]);

/* Like sha256_file, but reuses a digest recorded for the same (absolute path, size, mtime) in
 * build/cache/sha256.tsv (relative to the current directory), and records new ones there. */
void sha256_file_cached(const char *path, char hex[SHA256_HEX_LEN]);

#ifdef __cplusplus
}
#endif
#endif
