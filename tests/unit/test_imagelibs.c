/* The on-demand image libraries (imagelibs.h): a missing or wrong library is
 * a clear error and not remembered, a good one loads once; and the built-in
 * sha256 of small buffers agrees with libcrypto's. The tests run in order:
 * the failures come before anything loads a library for good. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "image_digest.h"
#include "imagelibs.h"
#include "layer.h"
#include "registry.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABSENT "libskiff-absent.so.0"

static void
expect_message (sk_err_t *err, const char *want)
{
  assert_non_null (*err);
  if (strcmp ((*err)->msg, want) != 0)
    fail_msg ("message `%s`, expected `%s`", (*err)->msg, want);
  sk_err_free (err);
}

static void
test_nothing_loaded_at_start (void **state)
{
  /* The test binary links libarchive itself (to write archives), so only
   * the other two say anything about the link line. */
  assert_false (sk_imagelib_is_loaded ("libcurl.so.4"));
  assert_false (sk_imagelib_is_loaded ("libcrypto.so.3"));
}

static void
test_missing_library (void **state)
{
  const struct sk_curl_lib *cu = NULL;
  const struct sk_archive_lib *ar = NULL;
  struct sk_registry *reg = NULL;
  sk_err_t err = NULL;

  setenv ("SKIFF_TEST_LIBCURL", ABSENT, 1);
  assert_int_equal (sk_curl_load (&cu, &err), -1);
  assert_null (cu);
  expect_message (&err, "load `" ABSENT "`: cannot open shared object file: No such file or "
                        "directory (install Debian package libcurl4)");
  assert_int_equal (sk_registry_open ("127.0.0.1:1", "x/y", true, &reg, &err), -1);
  assert_null (reg);
  expect_message (&err, "load `" ABSENT "`: cannot open shared object file: No such file or "
                        "directory (install Debian package libcurl4)");
  unsetenv ("SKIFF_TEST_LIBCURL");

  setenv ("SKIFF_TEST_LIBARCHIVE", ABSENT, 1);
  assert_int_equal (sk_archive_load (&ar, &err), -1);
  expect_message (&err, "load `" ABSENT "`: cannot open shared object file: No such file or "
                        "directory (install Debian package libarchive13)");
  /* The loader runs before the fds are used. */
  assert_int_equal (sk_layer_extract (-1, -1, NULL, &err), -1);
  assert_non_null (strstr (err->msg, "(install Debian package libarchive13)"));
  sk_err_free (&err);
  unsetenv ("SKIFF_TEST_LIBARCHIVE");

  setenv ("SKIFF_TEST_LIBCRYPTO", ABSENT, 1);
  {
    struct sk_sha256 *h = NULL;
    assert_int_equal (sk_sha256_new (&h, &err), -1);
    assert_null (h);
    expect_message (&err, "sha256: load `" ABSENT "`: cannot open shared object file: No such "
                          "file or directory (install Debian package libssl3)");
  }
  unsetenv ("SKIFF_TEST_LIBCRYPTO");

  assert_false (sk_imagelib_is_loaded ("libcurl.so.4"));
  assert_false (sk_imagelib_is_loaded ("libcrypto.so.3"));
}

static void
test_wrong_library (void **state)
{
  const struct sk_crypto_lib *cr = NULL;
  sk_err_t err = NULL;

  /* A library that opens but lacks the functions: named, then forgotten. */
  setenv ("SKIFF_TEST_LIBCRYPTO", "libz.so.1", 1);
  assert_int_equal (sk_crypto_load (&cr, &err), -1);
  assert_non_null (err);
  assert_true (strncmp (err->msg, "load `libz.so.1`: ", 18) == 0);
  assert_non_null (strstr (err->msg, "undefined symbol: EVP_sha256"));
  assert_non_null (strstr (err->msg, "(install Debian package libssl3)"));
  sk_err_free (&err);
  unsetenv ("SKIFF_TEST_LIBCRYPTO");
  assert_false (sk_imagelib_is_loaded ("libcrypto.so.3"));

  assert_int_equal (sk_crypto_load (&cr, &err), 0);
  assert_non_null (cr);
  assert_true (sk_imagelib_is_loaded ("libcrypto.so.3"));
}

static void
test_loads_once (void **state)
{
  const struct sk_curl_lib *a = NULL, *b = NULL;
  sk_err_t err = NULL;

  assert_int_equal (sk_curl_load (&a, &err), 0);
  assert_true (sk_imagelib_is_loaded ("libcurl.so.4"));
  /* Loaded now: the override no longer matters. */
  setenv ("SKIFF_TEST_LIBCURL", ABSENT, 1);
  assert_int_equal (sk_curl_load (&b, &err), 0);
  unsetenv ("SKIFF_TEST_LIBCURL");
  assert_ptr_equal (a, b);
  {
    CURL *c = a->curl_easy_init ();
    assert_non_null (c);
    a->curl_easy_cleanup (c);
  }
}

static void
test_sha256_vectors (void **state)
{
  /* FIPS 180-4 examples, and the padding that needs a second block. */
  static const struct
  {
    const char *text;
    const char *digest;
  } v[] = {
    { "", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  };
  char out[SK_DIGEST_LEN + 1];
  _cleanup_free_ char *million = xmalloc (1000000);

  for (size_t i = 0; i < SK_ARRAY_SIZE (v); i++)
    {
      sk_sha256_buffer (v[i].text, strlen (v[i].text), out);
      assert_string_equal (out, v[i].digest);
    }
  memset (million, 'a', 1000000);
  sk_sha256_buffer (million, 1000000, out);
  assert_string_equal (out,
                       "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void
test_sha256_agrees_with_libcrypto (void **state)
{
  unsigned char *data = xmalloc (70000);
  unsigned int seed = 12345;
  sk_err_t err = NULL;

  for (size_t i = 0; i < 70000; i++)
    {
      seed = seed * 1103515245u + 12345u;
      data[i] = (unsigned char)(seed >> 16);
    }
  /* Every length around the block and padding boundaries, then big ones. */
  for (size_t len = 0; len < 70000; len = len < 300 ? len + 1 : len * 2 + 7)
    {
      char built_in[SK_DIGEST_LEN + 1], streamed[SK_DIGEST_LEN + 1];
      struct sk_sha256 *h = NULL;
      size_t done = 0, chunk = 1;

      sk_sha256_buffer (data, len, built_in);
      assert_int_equal (sk_sha256_new (&h, &err), 0);
      while (done < len)
        {
          size_t n = chunk < len - done ? chunk : len - done;
          sk_sha256_update (h, data + done, n);
          done += n;
          chunk = chunk * 3 + 1;
        }
      sk_sha256_finish (h, streamed);
      if (strcmp (built_in, streamed) != 0)
        fail_msg ("length %zu: built-in %s, libcrypto %s", len, built_in, streamed);
    }
  free (data);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_nothing_loaded_at_start),
    cmocka_unit_test (test_missing_library),
    cmocka_unit_test (test_wrong_library),
    cmocka_unit_test (test_loads_once),
    cmocka_unit_test (test_sha256_vectors),
    cmocka_unit_test (test_sha256_agrees_with_libcrypto),
  };
  return cmocka_run_group_tests_name ("imagelibs", tests, NULL, NULL);
}
