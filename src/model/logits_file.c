/* logits_file -- reading and writing QLLOGITS files; see logits_file.h. */
#include "model/logits_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/fileio.h"

static uint32_t rd_u32(FILE *f, const char *path) {
    unsigned char b[4];
    xfread(b, 1, 4, f, path);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Bytes of count float32 or int32 elements, checked: 0 when count * 4 overflows or exceeds `left`. */
static uint64_t bytes_ck(uint64_t a, uint64_t b, uint64_t c, uint64_t left, int *ok) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r) || __builtin_mul_overflow(r, c, &r) || __builtin_mul_overflow(r, 4, &r) ||
        r > left)
        *ok = 0;
    return *ok ? r : 0;
}

/* Every count is checked against what the file still holds before anything is allocated, so a damaged
 * header (T = 2^32 - 1, V = 2^32 - 1) is a one-line "truncated" error, not an overflow or a huge malloc. */
static void close_cb(void *f) { fclose(f); }
static void free_cb(void *lf) { logits_file_free(lf); }

void logits_file_read(struct logits_file *lf, const char *path) {
    memset(lf, 0, sizeof *lf);
    FILE *f = xfopen(path, "rb");
    // A die() below (a damaged file) closes the stream and frees what was read (cleanups run newest first).
    check_on_die(free_cb, lf);
    check_on_die(close_cb, f);
    if (fseek(f, 0, SEEK_END) != 0) die("%s: cannot seek", path);
    long size = ftell(f);
    rewind(f);
    char magic[8];
    xfread(magic, 1, 8, f, path);
    if (memcmp(magic, LOGITS_FILE_MAGIC, 8) != 0) die("%s: not a logits file (magic is not %s)", path, LOGITS_FILE_MAGIC);
    uint32_t version = rd_u32(f, path);
    if (version != LOGITS_FILE_VERSION) die("%s: logits file version %u, expected %d", path, version, LOGITS_FILE_VERSION);
    uint32_t n_seqs = rd_u32(f, path);
    lf->V = rd_u32(f, path);
    lf->D = rd_u32(f, path);
    lf->n_hidden = rd_u32(f, path);
    uint64_t left = size > 28 ? (uint64_t)size - 28 : 0;
    if ((uint64_t)n_seqs * 4 > left)
        die("%s: header says %u sequences but the file holds only %llu more bytes: truncated", path, n_seqs,
            (unsigned long long)left);
    lf->n_seqs = (int)n_seqs;
    lf->seqs = xcalloc((size_t)(n_seqs ? n_seqs : 1), sizeof *lf->seqs);
    for (int s = 0; s < lf->n_seqs; s++) {
        struct logits_seq *q = &lf->seqs[s];
        uint32_t T = rd_u32(f, path);
        left -= 4;
        int ok = 1;
        uint64_t nb_ids = bytes_ck(T, 1, 1, left, &ok);
        uint64_t nb_log = ok ? bytes_ck(T, (uint64_t)lf->V, 1, left - nb_ids, &ok) : 0;
        uint64_t nb_hid = ok ? bytes_ck((uint64_t)lf->n_hidden * T, (uint64_t)lf->D, 1, left - nb_ids - nb_log, &ok) : 0;
        if (!ok)
            die("%s: sequence %d: T=%u, V=%lld, D=%lld, n_hidden=%lld need more bytes than the file holds (%llu "
                "left): truncated or damaged", path, s, T, (long long)lf->V, (long long)lf->D, (long long)lf->n_hidden,
                (unsigned long long)left);
        left -= nb_ids + nb_log + nb_hid;
        q->T = T;
        q->ids = xmalloc((size_t)nb_ids);
        q->logits = xmalloc((size_t)nb_log);
        // The host is little-endian (x86-64, aarch64): the arrays are read as they lie.
        xfread(q->ids, sizeof(int32_t), (size_t)q->T, f, path);
        xfread(q->logits, 1, (size_t)nb_log, f, path);
        if (lf->n_hidden) {
            q->hidden = xmalloc((size_t)nb_hid);
            xfread(q->hidden, 1, (size_t)nb_hid, f, path);
        }
    }
    check_on_die_remove(close_cb, f);
    check_on_die_remove(free_cb, lf);
    xfclose(f, path);
}

void logits_file_write(const char *path, const struct logits_file *lf) {
    size_t n = 8 + 5 * 4;
    for (int s = 0; s < lf->n_seqs; s++)
        n += 4 + (size_t)lf->seqs[s].T * (4 + 4 * (size_t)lf->V + 4 * (size_t)(lf->n_hidden * lf->D));
    unsigned char *buf = xmalloc(n), *p = buf;
    uint32_t hdr[5] = {LOGITS_FILE_VERSION, (uint32_t)lf->n_seqs, (uint32_t)lf->V, (uint32_t)lf->D,
                       (uint32_t)lf->n_hidden};
    memcpy(p, LOGITS_FILE_MAGIC, 8);
    p += 8;
    memcpy(p, hdr, sizeof hdr);
    p += sizeof hdr;
    for (int s = 0; s < lf->n_seqs; s++) {
        const struct logits_seq *q = &lf->seqs[s];
        uint32_t T = (uint32_t)q->T;
        memcpy(p, &T, 4);
        p += 4;
        memcpy(p, q->ids, (size_t)q->T * 4);
        p += q->T * 4;
        memcpy(p, q->logits, (size_t)(q->T * lf->V) * 4);
        p += q->T * lf->V * 4;
        if (lf->n_hidden) {
            memcpy(p, q->hidden, (size_t)(lf->n_hidden * q->T * lf->D) * 4);
            p += lf->n_hidden * q->T * lf->D * 4;
        }
    }
    CHECK((size_t)(p - buf) == n, "logits file size");
    file_write_atomic(path, buf, n);
    free(buf);
}

void logits_file_free(struct logits_file *lf) {
    for (int s = 0; s < lf->n_seqs; s++) {
        free(lf->seqs[s].ids);
        free(lf->seqs[s].logits);
        free(lf->seqs[s].hidden);
    }
    free(lf->seqs);
    memset(lf, 0, sizeof *lf);
}
