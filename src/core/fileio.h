/* fileio -- atomic writes and directory creation.
 * Results are never written half: file_write_atomic writes "<path>.tmp.<pid>" in the same directory, flushes
 * and fsyncs it, then rename()s it over <path> (POSIX rename is atomic within a file system), as Maneage's
 * $@.tmp/mv. A crash leaves either the old file or the new one, plus at worst a stray .tmp file. */
#ifndef SRC_CORE_FILEIO_H
#define SRC_CORE_FILEIO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Creates dir and its missing parents (like mkdir -p); dies naming the path on failure. */
void mkdir_p(const char *dir);

/* Creates the parent directories of path (everything before the last '/'). */
void mkdir_parent(const char *path);

/* Writes len bytes to path atomically (temp file + fsync + rename), creating parent directories. */
void file_write_atomic(const char *path, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
