/* The image libraries, loaded on demand.
 *
 * libcurl (registry client), libarchive (layer and docker-archive reading)
 * and libcrypto (sha256 of streamed blobs, base64 of credentials) are not
 * linked into skiff: together they pull in ~40 more shared objects, which every
 * `skiff run` and every long-lived monitor and supervisor would pay for in
 * start-up time and private memory. Only pulls, imports and layer unpacking
 * need them, so the first such operation dlopen()s the library and resolves
 * the functions skiff uses into a table of typed pointers; a run of a `dir:`
 * or an already stored image never loads any of them.
 *
 * Each member is named after the real function and has its type
 * (__typeof__ of the declaration in the library's header), so a prototype
 * change in a library is a compile error: `cu->curl_easy_init ()`,
 * `ar->archive_read_new ()`, `cr->EVP_DigestUpdate (...)`.
 *
 * A missing library is an ordinary error naming the library, dlerror() and
 * the Debian package that provides it. Test-only: $SKIFF_TEST_LIBCURL,
 * $SKIFF_TEST_LIBARCHIVE and $SKIFF_TEST_LIBCRYPTO replace the soname that is
 * opened (docs/testing.md). */
#ifndef SKIFF_IMAGELIBS_H
#define SKIFF_IMAGELIBS_H

#include "error.h"

#ifdef CURLINC_CURL_H
#error "include imagelibs.h, not curl/curl.h"
#endif
/* curl's type-checking wrappers of curl_easy_setopt and curl_easy_getinfo
 * are macros that cannot apply to calls through a table. */
#define CURL_DISABLE_TYPECHECK 1

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdbool.h>

#define SK_IMAGELIB_MEMBER(name) __typeof__ (name) *name;

#define SK_CURL_FUNCTIONS(X)                                                                       \
  X (curl_global_init)                                                                             \
  X (curl_easy_init)                                                                               \
  X (curl_easy_cleanup)                                                                            \
  X (curl_easy_reset)                                                                              \
  X (curl_easy_setopt)                                                                             \
  X (curl_easy_getinfo)                                                                            \
  X (curl_easy_perform)                                                                            \
  X (curl_easy_strerror)                                                                           \
  X (curl_easy_escape)                                                                             \
  X (curl_free)                                                                                    \
  X (curl_slist_append)                                                                            \
  X (curl_slist_free_all)

#define SK_ARCHIVE_FUNCTIONS(X)                                                                    \
  X (archive_read_new)                                                                             \
  X (archive_read_free)                                                                            \
  X (archive_read_support_filter_gzip)                                                             \
  X (archive_read_support_filter_zstd)                                                             \
  X (archive_read_support_filter_xz)                                                               \
  X (archive_read_support_filter_bzip2)                                                            \
  X (archive_read_support_format_tar)                                                              \
  X (archive_read_support_format_gnutar)                                                           \
  X (archive_read_open_fd)                                                                         \
  X (archive_read_open_filename)                                                                   \
  X (archive_read_next_header)                                                                     \
  X (archive_read_data)                                                                            \
  X (archive_read_data_block)                                                                      \
  X (archive_errno)                                                                                \
  X (archive_error_string)                                                                         \
  X (archive_entry_pathname)                                                                       \
  X (archive_entry_hardlink)                                                                       \
  X (archive_entry_symlink)                                                                        \
  X (archive_entry_filetype)                                                                       \
  X (archive_entry_perm)                                                                           \
  X (archive_entry_size)                                                                           \
  X (archive_entry_uid)                                                                            \
  X (archive_entry_gid)                                                                            \
  X (archive_entry_rdev)                                                                           \
  X (archive_entry_mtime)                                                                          \
  X (archive_entry_mtime_nsec)                                                                     \
  X (archive_entry_xattr_reset)                                                                    \
  X (archive_entry_xattr_next)

#define SK_CRYPTO_FUNCTIONS(X)                                                                     \
  X (EVP_sha256)                                                                                   \
  X (EVP_MD_CTX_new)                                                                               \
  X (EVP_MD_CTX_free)                                                                              \
  X (EVP_DigestInit_ex)                                                                            \
  X (EVP_DigestUpdate)                                                                             \
  X (EVP_DigestFinal_ex)                                                                           \
  X (EVP_EncodeBlock)                                                                              \
  X (EVP_DecodeBlock)

struct sk_curl_lib
{
  SK_CURL_FUNCTIONS (SK_IMAGELIB_MEMBER)
};

struct sk_archive_lib
{
  SK_ARCHIVE_FUNCTIONS (SK_IMAGELIB_MEMBER)
};

struct sk_crypto_lib
{
  SK_CRYPTO_FUNCTIONS (SK_IMAGELIB_MEMBER)
};

/* Load the library at first use (libcurl: curl_global_init too) and point
 * *lib at its table; later calls return the same table. Not thread-safe:
 * skiff loads them from its one thread. */
int sk_curl_load (const struct sk_curl_lib **lib, sk_err_t *err);
int sk_archive_load (const struct sk_archive_lib **lib, sk_err_t *err);
int sk_crypto_load (const struct sk_crypto_lib **lib, sk_err_t *err);

/* Is the library loaded in this process (tests, diagnostics)? Checked with
 * RTLD_NOLOAD, so a library linked in some other way counts too. */
bool sk_imagelib_is_loaded (const char *soname);

#endif
