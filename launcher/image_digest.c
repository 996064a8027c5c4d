#include "image_digest.h"
#include "imagelibs.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
to_text (const unsigned char md[32], char out[SK_DIGEST_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";

  memcpy (out, "sha256:", 7);
  for (unsigned int i = 0; i < 32; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[7 + 2 * i + 1] = hex[md[i] & 15];
    }
  out[SK_DIGEST_LEN] = '\0';
}

/* ---- streams: libcrypto --------------------------------------------------- */

struct sk_sha256
{
  const struct sk_crypto_lib *cr;
  EVP_MD_CTX *ctx;
};

int
sk_sha256_new (struct sk_sha256 **out, sk_err_t *err)
{
  const struct sk_crypto_lib *cr;
  struct sk_sha256 *h;

  if (sk_crypto_load (&cr, err) < 0)
    return sk_err_wrap (err, "sha256");
  h = xzalloc (sizeof *h);
  h->cr = cr;
  h->ctx = cr->EVP_MD_CTX_new ();
  if (h->ctx == NULL || cr->EVP_DigestInit_ex (h->ctx, cr->EVP_sha256 (), NULL) != 1)
    {
      /* Only out of memory gets here: the same policy as xmalloc. */
      fprintf (stderr, "skiff: out of memory (sha256)\n");
      abort ();
    }
  *out = h;
  return 0;
}

void
sk_sha256_update (struct sk_sha256 *h, const void *data, size_t len)
{
  h->cr->EVP_DigestUpdate (h->ctx, data, len);
}

void
sk_sha256_finish (struct sk_sha256 *h, char out[SK_DIGEST_LEN + 1])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  h->cr->EVP_DigestFinal_ex (h->ctx, md, &n);
  h->cr->EVP_MD_CTX_free (h->ctx);
  free (h);
  to_text (md, out);
}

int
sk_sha256_fd (int fd, char out[SK_DIGEST_LEN + 1], sk_err_t *err)
{
  struct sk_sha256 *h;
  char buf[1 << 16];

  if (sk_sha256_new (&h, err) < 0)
    return -1;
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

/* ---- small buffers: built in (FIPS 180-4, section 6.2) --------------------- */

static const uint32_t round_constants[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t
rotr (uint32_t x, unsigned n)
{
  return (x >> n) | (x << (32 - n));
}

static void
compress_block (uint32_t state[8], const unsigned char block[64])
{
  uint32_t w[64];
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];

  for (int t = 0; t < 16; t++)
    w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16
           | (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
  for (int t = 16; t < 64; t++)
    {
      uint32_t s0 = rotr (w[t - 15], 7) ^ rotr (w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = rotr (w[t - 2], 17) ^ rotr (w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
  for (int t = 0; t < 64; t++)
    {
      uint32_t big_s1 = rotr (e, 6) ^ rotr (e, 11) ^ rotr (e, 25);
      uint32_t choose = (e & f) ^ (~e & g);
      uint32_t t1 = h + big_s1 + choose + round_constants[t] + w[t];
      uint32_t big_s0 = rotr (a, 2) ^ rotr (a, 13) ^ rotr (a, 22);
      uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
      uint32_t t2 = big_s0 + majority;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

void
sk_sha256_buffer (const void *data, size_t len, char out[SK_DIGEST_LEN + 1])
{
  uint32_t state[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  const unsigned char *p = data;
  size_t left = len;
  unsigned char tail[128] = { 0 };
  size_t tail_len;
  uint64_t bits = (uint64_t)len * 8;
  unsigned char md[32];

  for (; left >= 64; p += 64, left -= 64)
    compress_block (state, p);
  /* Padding: a 1 bit, zeros, then the length in bits (big-endian), in one
   * block or two when the 8 length bytes do not fit after the rest. */
  memcpy (tail, p, left);
  tail[left] = 0x80;
  tail_len = left + 1 + 8 <= 64 ? 64 : 128;
  for (int i = 0; i < 8; i++)
    tail[tail_len - 1 - i] = (unsigned char)(bits >> (8 * i));
  for (size_t off = 0; off < tail_len; off += 64)
    compress_block (state, tail + off);
  for (int i = 0; i < 8; i++)
    {
      md[4 * i] = (unsigned char)(state[i] >> 24);
      md[4 * i + 1] = (unsigned char)(state[i] >> 16);
      md[4 * i + 2] = (unsigned char)(state[i] >> 8);
      md[4 * i + 3] = (unsigned char)state[i];
    }
  to_text (md, out);
}
