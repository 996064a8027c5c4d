/* Opt-in user namespaces (docs/isolation.md, "User namespaces").
 *
 * One contiguous range: container ids 0..size-1 are host ids base..base+size-1,
 * the same for uids and gids. The task's sandbox (launcher/sandbox.c)
 * creates the user namespace together with the namespaces it shares, the
 * parent writes the maps (sk_userns_write_maps_from_parent), and every
 * container joins it before creating its own namespaces, so that they are
 * owned by it (sk_launch). The root filesystem is built by the parent from
 * ID-mapped mounts of the image layers (sk_userns_root_from_parent): files
 * owned by host root appear owned by the container's root. */
#ifndef SKIFF_USERNS_H
#define SKIFF_USERNS_H

#include "child.h"
#include "error.h"
#include "mount.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The documented defaults: ids 0..65535 of the container are host ids
 * 100000..165535 when /etc/subuid has no range for root. */
#define SK_USERNS_DEFAULT_BASE 100000u
#define SK_USERNS_SIZE 65536u

struct sk_userns_map
{
  uint32_t uid_base; /* host uid of the container's uid 0 */
  uint32_t gid_base; /* host gid of the container's gid 0 */
  uint32_t size;     /* ids mapped, from 0 */
};

/* Find the first range of `user` (or of the numeric uid `id`) in the text of
 * an /etc/subuid-style file ("name:start:count" lines, '#' comments).
 * Returns 1 with *start and *count when found, 0 when not, -1 on a malformed
 * line that names the user (err says which line). */
int sk_userns_subid_find (const char *text, const char *user, uint32_t id, uint32_t *start,
                          uint32_t *count, sk_err_t *err);

/* The map skiff uses: base_override when >= 0 (uid and gid alike, size
 * SK_USERNS_SIZE); otherwise root's ranges in subuid_path / subgid_path when
 * both exist and list root (size: the smaller count, at most
 * SK_USERNS_SIZE); otherwise SK_USERNS_DEFAULT_BASE. A range must not
 * include host id 0 and must fit below 2^32 - 1. */
int sk_userns_map_resolve (int64_t base_override, const char *subuid_path, const char *subgid_path,
                           struct sk_userns_map *out, sk_err_t *err);

/* "0 <base> <size>\n" for /proc/<pid>/uid_map (gid: the gid base). */
int sk_userns_format_line (const struct sk_userns_map *m, bool gid, char *buf, size_t size);

/* Parent: write uid_map then gid_map of pid (a child still waiting in its
 * new user namespace). setgroups stays allowed: the maps are written by
 * real root, and the containers need supplementary groups. */
int sk_userns_write_maps_from_parent (pid_t pid, const struct sk_userns_map *m, sk_err_t *err);

/* Parent: a detached, recursive clone of the tree at path whose ids are
 * shown through userns_fd (MOUNT_ATTR_IDMAP). *out receives the mount fd
 * (O_CLOEXEC); the child attaches it with sk_userns_attach_in_child. */
int sk_userns_idmap_tree_from_parent (const char *path, int userns_fd, int *out, sk_err_t *err);

/* Parent: the container's root filesystem as a detached mount (*out,
 * O_CLOEXEC): the plan's layers ID-mapped through userns_fd, under an
 * overlay with the plan's upper/work (or read-only without them; a single
 * read-only layer is the mapped tree itself). Mounted by real root, so
 * overlay reads the layers' trusted.overlay.* (opaque directories) as
 * without a user namespace. */
int sk_userns_root_from_parent (const struct sk_mount_plan *plan, int userns_fd, int *out,
                                sk_err_t *err);

/* Child, in its new mount namespace: attach the detached mount fd over path
 * (the propagation of "/" must be private already). */
int sk_userns_attach_in_child (int mount_fd, const char *path, struct sk_child_fail *f);

/* Child, once inside the user namespace: become its root (uid and gid 0).
 * Until then the process runs as host root, an id the namespace does not
 * map, and every file it created would fail with EOVERFLOW. */
int sk_userns_become_root_in_child (struct sk_child_fail *f);

/* Parent: give the namespace's root a way in to `path`: every directory from
 * `top` (inclusive) down to path's parent gets search permission for
 * others (o+x, nothing else), since host root's 0700 directories are
 * closed to an unmapped owner. Directories outside `top` are not touched.
 * Then, when own is true, path itself is chowned to the mapped root. */
int sk_userns_open_path (const char *top, const char *path, bool own, const struct sk_userns_map *m,
                         sk_err_t *err);

#endif
