/* sha256 digests of blobs (OpenSSL's libcrypto). */
#ifndef SKIFF_IMAGE_DIGEST_H
#define SKIFF_IMAGE_DIGEST_H

#include "error.h"

#include <stddef.h>

#define SK_DIGEST_LEN (7 + 64) /* "sha256:" + hex */

struct sk_sha256;

struct sk_sha256 *sk_sha256_new (void);
void sk_sha256_update (struct sk_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (SK_DIGEST_LEN + 1 bytes) and frees h. */
void sk_sha256_finish (struct sk_sha256 *h, char out[SK_DIGEST_LEN + 1]);

void sk_sha256_buffer (const void *data, size_t len, char out[SK_DIGEST_LEN + 1]);
/* Digest of the whole file read from fd's current offset. */
int sk_sha256_fd (int fd, char out[SK_DIGEST_LEN + 1], sk_err_t *err);

#endif
