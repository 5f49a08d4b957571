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

/* Writes len bytes to path atomically (temp file + fsync + rename), creating parent directories. The temp
 * file is removed on every error path, die() included. */
void file_write_atomic(const char *path, const void *buf, size_t len);

/* ---- writing a file or a whole folder under a temporary name (issue 9 items 2, 3) ----
 * fileio_tmp_begin picks "<final>.tmp.<pid>" (a folder is created empty; a file is left for the caller to
 * create) and registers it with check_on_die, so a die() anywhere before the commit (a full disk, a bad
 * tensor) removes it: nothing partial is left behind. fileio_tmp_commit fsyncs a file and renames the temp
 * into place; a folder replaces an existing <final> only when replace is set (the old one is moved aside
 * and removed after the rename, so a crash leaves either the old or the new folder, plus at worst a stray
 * .tmp/.old folder). SIGKILL cannot be caught: its leftovers carry the .tmp.<pid> suffix and are never read. */
struct fileio_tmp {
    char *tmp, *final;
    int is_dir;
};
void fileio_tmp_begin(struct fileio_tmp *t, const char *final_path, int is_dir);
void fileio_tmp_commit(struct fileio_tmp *t, int replace);
/* Removes the temporary path now (an error the caller handles itself) and unregisters it. */
void fileio_tmp_abort(struct fileio_tmp *t);

/* Removes a file or a folder tree (like rm -rf); missing is fine. Returns 0, or -1 with errno set. */
int fileio_remove_tree(const char *path);

/* 1 if a and b name the same existing file or folder (same device and inode), else 0. For "output must not
 * be the input" checks; a path that does not exist yet is never the same as anything. */
int fileio_same_file(const char *a, const char *b);

/* 1 if dir exists and holds at least one entry other than . and .., else 0. */
int fileio_dir_nonempty(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
