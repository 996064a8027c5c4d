/* sha256 digests of blobs, as "sha256:<hex>".
 *
 * Streams (blobs being downloaded or imported, possibly gigabytes) go
 * through libcrypto, loaded at the first sk_sha256_new (imagelibs.h): its
 * assembler is many times faster on large data. Small buffers (manifests
 * and configs, checked again each time a task reads them from the store)
 * are hashed by built-in code, so starting an already stored image loads
 * no library: that costs microseconds where loading libcrypto costs about
 * a millisecond and 400 KiB of private memory. */
#ifndef SKIFF_IMAGE_DIGEST_H
#define SKIFF_IMAGE_DIGEST_H

#include "error.h"

#include <stddef.h>

#define SK_DIGEST_LEN (7 + 64) /* "sha256:" + hex */

struct sk_sha256;

/* Fails only when libcrypto cannot be loaded. */
int sk_sha256_new (struct sk_sha256 **out, sk_err_t *err);
void sk_sha256_update (struct sk_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (SK_DIGEST_LEN + 1 bytes) and frees h. */
void sk_sha256_finish (struct sk_sha256 *h, char out[SK_DIGEST_LEN + 1]);

/* Built in, no library; meant for buffers of a few MiB at most. */
void sk_sha256_buffer (const void *data, size_t len, char out[SK_DIGEST_LEN + 1]);
/* Digest of the whole file read from fd's current offset (libcrypto). */
int sk_sha256_fd (int fd, char out[SK_DIGEST_LEN + 1], sk_err_t *err);

#endif
