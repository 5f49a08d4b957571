/* sha256 -- see sha256.h. Straight from FIPS 180-4 section 6.2; checked against its test vectors in
 * tests/test_core.c. */
#define _DEFAULT_SOURCE
#include "core/sha256.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/check.h"
#include "core/fileio.h"

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const uint8_t p[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void sha256_init(struct sha256_ctx *c) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->n_bytes = 0;
    c->n_buf = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len) {
    const uint8_t *p = data;
    c->n_bytes += len;
    if (c->n_buf) {
        size_t take = 64 - c->n_buf < len ? 64 - c->n_buf : len;
        memcpy(c->buf + c->n_buf, p, take);
        c->n_buf += take; p += take; len -= take;
        if (c->n_buf == 64) { compress(c->h, c->buf); c->n_buf = 0; }
    }
    for (; len >= 64; p += 64, len -= 64) compress(c->h, p);
    memcpy(c->buf, p, len);
    c->n_buf += len;
}

void sha256_final(struct sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->n_bytes * 8;
    uint8_t pad[72] = {0x80};
    /* Pad to 56 mod 64, then the 64-bit big-endian bit length. */
    size_t n_pad = (c->n_buf < 56 ? 56 : 120) - c->n_buf;
    for (int i = 0; i < 8; i++) pad[n_pad + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(c, pad, n_pad + 8);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(c->h[i] >> (24 - 8 * j));
}

static void to_hex(const uint8_t d[32], char hex[SHA256_HEX_LEN]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) { hex[2 * i] = digits[d[i] >> 4]; hex[2 * i + 1] = digits[d[i] & 15]; }
    hex[64] = '\0';
}

void sha256_buf(const void *data, size_t len, char hex[SHA256_HEX_LEN]) {
    struct sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, d);
    to_hex(d, hex);
}

void sha256_file(const char *path, char hex[SHA256_HEX_LEN]) {
    FILE *f = xfopen(path, "rb");
    struct sha256_ctx c;
    uint8_t d[32];
    size_t cap = 1 << 20, got;
    uint8_t *buf = xmalloc(cap);
    sha256_init(&c);
    while ((got = fread(buf, 1, cap, f)) > 0) sha256_update(&c, buf, got);
    if (ferror(f)) die("%s: read error while hashing", path);
    fclose(f);
    free(buf);
    sha256_final(&c, d);
    to_hex(d, hex);
}

#define SHA256_CACHE "build/cache/sha256.tsv"

void sha256_file_cached(const char *path, char hex[SHA256_HEX_LEN]) {
    struct stat st;
    char abs[PATH_MAX];
    if (stat(path, &st) != 0 || !realpath(path, abs)) die("%s: cannot stat the file to hash it", path);
    long long size = (long long)st.st_size, mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    /* Cache lines: "<sha256>\t<size>\t<mtime_ns>\t<absolute path>"; the last matching line wins. */
    FILE *f = fopen(SHA256_CACHE, "r");
    int found = 0;
    if (f) {
        char line[PATH_MAX + 128], h[SHA256_HEX_LEN];
        long long s, m;
        int off;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (sscanf(line, "%64s\t%lld\t%lld\t%n", h, &s, &m, &off) == 3 && s == size && m == mtime_ns &&
                strcmp(line + off, abs) == 0) {
                memcpy(hex, h, SHA256_HEX_LEN);
                found = 1;
            }
        }
        fclose(f);
    }
    if (found) return;
    sha256_file(path, hex);
    mkdir_p("build/cache");
    f = fopen(SHA256_CACHE, "a");
    if (!f) return; /* a read-only tree only loses the cache, not correctness */
    fprintf(f, "%s\t%lld\t%lld\t%s\n", hex, size, mtime_ns, abs);
    fclose(f);
}
