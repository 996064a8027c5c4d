/* The content-addressed image store under the skiff root, shared by every
 * task (docs/images.md):
 *
 *   <root>/images/lock                 flock: shared by pulls and starting tasks,
 *                                      exclusive for rmi / prune
 *   <root>/images/blobs/sha256/<hex>   verified blobs (manifests, configs, layers)
 *   <root>/images/layers/sha256/<hex>/ unpacked layer, keyed by its blob digest
 *   <root>/images/images/<hex>         one file per image (its manifest digest);
 *                                      running tasks hold a shared flock on it
 *   <root>/images/refs/<escaped name>  name -> manifest digest
 *   <root>/images/locks/<hex>          per-digest lock: one download / unpack at a time
 *   <root>/images/tmp/                 work in progress, renamed into place
 *
 * Everything lands by rename(2), so a reader sees a blob, layer or ref whole
 * or not at all. */
#ifndef SKIFF_IMAGE_STORE_H
#define SKIFF_IMAGE_STORE_H

#include "error.h"
#include "image_digest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sk_store
{
  char *dir;
  int dirfd;
  int lock_fd;
};

/* <root>/images ($SKIFF_IMAGE_STORE overrides), created when missing. */
int sk_store_open (const char *root, struct sk_store *s, sk_err_t *err);
void sk_store_close (struct sk_store *s);
int sk_store_lock (struct sk_store *s, bool exclusive, sk_err_t *err);
void sk_store_unlock (struct sk_store *s);

/* Blobs */
struct sk_blob_writer
{
  int fd;
  char *tmp_name; /* under tmp/ */
  struct sk_sha256 *hash;
  uint64_t size;
};
int sk_blob_begin (struct sk_store *s, struct sk_blob_writer *w, sk_err_t *err);
int sk_blob_write (struct sk_blob_writer *w, const void *data, size_t len, sk_err_t *err);
/* Start over (a retried download). */
int sk_blob_rewind (struct sk_blob_writer *w, sk_err_t *err);
/* Verify against expected (NULL: accept, report the digest in actual) and
 * rename into place. A mismatch removes the data and names both digests. */
int sk_blob_commit (struct sk_store *s, struct sk_blob_writer *w, const char *expected,
                    char actual[SK_DIGEST_LEN + 1], sk_err_t *err);
void sk_blob_abort (struct sk_store *s, struct sk_blob_writer *w);
int sk_store_put_buffer (struct sk_store *s, const void *data, size_t len, const char *expected,
                         char actual[SK_DIGEST_LEN + 1], sk_err_t *err);

bool sk_store_has_blob (struct sk_store *s, const char *digest);
/* O_RDONLY fd on a stored blob. */
int sk_store_open_blob (struct sk_store *s, const char *digest, sk_err_t *err);
/* A small blob (manifest, config: at most 4 MiB), checked against its digest. */
int sk_store_read_blob (struct sk_store *s, const char *digest, char **data, size_t *len,
                        sk_err_t *err);
char *sk_store_blob_path (const struct sk_store *s, const char *digest);

/* Exclusive per-digest lock for a download or an unpack; *fd to close. */
int sk_store_digest_lock (struct sk_store *s, const char *digest, int *fd, sk_err_t *err);

/* Layers: unpack the blob once (under the digest lock); path of the result. */
int sk_store_unpack_layer (struct sk_store *s, const char *digest, bool *unpacked, sk_err_t *err);
char *sk_store_layer_path (const struct sk_store *s, const char *digest);

/* Refs */
int sk_store_set_ref (struct sk_store *s, const char *name, const char *digest, sk_err_t *err);
/* *digest = NULL when the name is unknown. */
int sk_store_get_ref (struct sk_store *s, const char *name, char **digest, sk_err_t *err);
int sk_store_remove_ref (struct sk_store *s, const char *name, sk_err_t *err);
/* Parallel NULL-terminated lists, sorted by name. */
int sk_store_list_refs (struct sk_store *s, char ***names, char ***digests, sk_err_t *err);

/* Images: record one, and hold it for a running task (*fd, closed to release). */
int sk_store_add_image (struct sk_store *s, const char *manifest_digest, sk_err_t *err);
int sk_store_hold_image (struct sk_store *s, const char *manifest_digest, int *fd, sk_err_t *err);

/* rmi: drop the ref `name` (and the image when nothing else names it and no
 * task uses it). Caller holds the exclusive lock. */
int sk_store_remove_image (struct sk_store *s, const char *name, bool *removed, sk_err_t *err);

/* prune: remove images no ref names (all = also named ones), unless a task
 * holds them, then every blob and layer no remaining image needs. Caller
 * holds the exclusive lock. */
struct sk_prune_report
{
  size_t images;
  size_t blobs;
  size_t layers;
  uint64_t bytes;
};
int sk_store_prune (struct sk_store *s, bool all, struct sk_prune_report *rep, sk_err_t *err);

/* Size of every blob of an image (manifest + config + layers). */
int sk_store_image_size (struct sk_store *s, const char *manifest_digest, uint64_t *size,
                         sk_err_t *err);

#endif
