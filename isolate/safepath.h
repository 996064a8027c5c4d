/* Resolving paths inside a container's root filesystem without ever leaving
 * it: the defence against image symlinks that point a mount destination at
 * the host (CVE-2021-30465 and its successors).
 *
 * Child-side: no allocation, fixed buffers, errno on failure. */
#ifndef SKIFF_SAFEPATH_H
#define SKIFF_SAFEPATH_H

#include <stdbool.h>
#include <stddef.h>

#define SK_SAFE_FD_PATH_MAX 32 /* "/proc/self/fd/<int>" */

enum sk_safe_flags
{
  SK_SAFE_DIR = 1 << 0,         /* the target must be a directory */
  SK_SAFE_NO_SYMLINKS = 1 << 1, /* refuse every symlink on the way (for /proc, /sys, /dev) */
  SK_SAFE_MKDIR = 1 << 2,       /* create missing components as directories (0755) */
  SK_SAFE_MKFILE = 1 << 3, /* create missing parents, and the last component as an empty file */
};

/* Lexically clean an absolute or relative path into a path relative to the
 * root: "", "." and empty components dropped, ".." pops one component and
 * stops at the root. "/a/../../b/" -> "b"; "/" -> "". Returns -1 with
 * ENAMETOOLONG when out is too small. */
int sk_safe_path_clean (const char *path, char *out, size_t out_size);

/* Open `path` inside the directory rootfd as an O_PATH|O_CLOEXEC fd.
 * Absolute symlinks and ".." are resolved as if rootfd were "/" (openat2 with
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS); on kernels without openat2 a
 * userspace walk that refuses every symlink (ELOOP) is used instead. With
 * SK_SAFE_MKDIR / SK_SAFE_MKFILE missing components are created one by one,
 * each resolved the same way; a dangling symlink on the way is created
 * through (its target, inside the root). Returns the fd or -1 with errno.
 * Not thread-safe (static buffers: the child is single-threaded). */
int sk_safe_open (int rootfd, const char *path, unsigned flags);

/* "/proc/self/fd/<fd>": mounting onto it lands on the object fd refers to. */
void sk_safe_fd_path (char buf[SK_SAFE_FD_PATH_MAX], int fd);

/* Tests: force the userspace walk, as if openat2 returned ENOSYS. */
void sk_safe_force_fallback (bool on);

#endif
