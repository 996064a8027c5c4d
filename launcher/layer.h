/* Safe layer extraction: a tar (plain, gzip or zstd) unpacked with libarchive
 * into an empty directory, never outside it. Every path is walked from the
 * directory fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS); '..',
 * absolute names, writes through symlinks and hardlinks out of the layer
 * are refused. OCI whiteouts become overlayfs whiteouts (0/0 character
 * devices) and opaque directories get trusted.overlay.opaque=y. */
#ifndef SKIFF_LAYER_H
#define SKIFF_LAYER_H

#include "error.h"

#include <stdint.h>

struct sk_layer_stats
{
  uint64_t entries;
  uint64_t bytes;
  uint64_t whiteouts;
};

int sk_layer_extract (int archive_fd, int dest_dirfd, struct sk_layer_stats *stats, sk_err_t *err);

/* rm -rf of dirfd/name without following symlinks. */
int sk_rm_tree_at (int dirfd, const char *name, sk_err_t *err);

#endif
