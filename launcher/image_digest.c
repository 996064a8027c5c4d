#include "image_digest.h"
#include "util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sk_sha256
{
  EVP_MD_CTX *ctx;
};

struct sk_sha256 *
sk_sha256_new (void)
{
  struct sk_sha256 *h = xzalloc (sizeof *h);

  h->ctx = EVP_MD_CTX_new ();
  if (h->ctx == NULL || EVP_DigestInit_ex (h->ctx, EVP_sha256 (), NULL) != 1)
    {
      /* Only out of memory gets here: the same policy as xmalloc. */
      fprintf (stderr, "skiff: out of memory (sha256)\n");
      abort ();
    }
  return h;
}

void
sk_sha256_update (struct sk_sha256 *h, const void *data, size_t len)
{
  EVP_DigestUpdate (h->ctx, data, len);
}

void
sk_sha256_finish (struct sk_sha256 *h, char out[SK_DIGEST_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hex[] = "0123456789abcdef";

  EVP_DigestFinal_ex (h->ctx, md, &n);
  EVP_MD_CTX_free (h->ctx);
  free (h);
  memcpy (out, "sha256:", 7);
  for (unsigned int i = 0; i < n && i < 32; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
  out[SK_DIGEST_LEN] = '\0';
}

void
sk_sha256_buffer (const void *data, size_t len, char out[SK_DIGEST_LEN + 1])
{
  struct sk_sha256 *h = sk_sha256_new ();

  sk_sha256_update (h, data, len);
  sk_sha256_finish (h, out);
}

int
sk_sha256_fd (int fd, char out[SK_DIGEST_LEN + 1], sk_err_t *err)
{
  struct sk_sha256 *h = sk_sha256_new ();
  char buf[1 << 16];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          sk_sha256_finish (h, out);
          return sk_err_set (err, e, "read blob");
        }
      if (n == 0)
        break;
      sk_sha256_update (h, buf, (size_t)n);
    }
  sk_sha256_finish (h, out);
  return 0;
}
