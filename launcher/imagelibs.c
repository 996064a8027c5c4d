/* dlopen of the image libraries at first use (why: imagelibs.h). */
#include "imagelibs.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

struct lib_source
{
  const char *soname;
  const char *test_env; /* test-only override of the soname */
  const char *package;  /* the Debian package that installs it */
};

static const struct lib_source curl_source = { "libcurl.so.4", "SKIFF_TEST_LIBCURL", "libcurl4" };
static const struct lib_source archive_source
    = { "libarchive.so.13", "SKIFF_TEST_LIBARCHIVE", "libarchive13" };
static const struct lib_source crypto_source
    = { "libcrypto.so.3", "SKIFF_TEST_LIBCRYPTO", "libssl3" };

static const char *
soname_of (const struct lib_source *src)
{
  const char *override = getenv (src->test_env);

  return override != NULL && override[0] != '\0' ? override : src->soname;
}

/* dlerror() text without the "soname: " it usually starts with, since our
 * message names the library already. */
static const char *
dl_reason (const char *soname)
{
  const char *msg = dlerror ();
  size_t n = strlen (soname);

  if (msg == NULL)
    return "unknown dynamic loader error";
  if (strncmp (msg, soname, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
    return msg + n + 2;
  return msg;
}

static int
load_failure (const struct lib_source *src, const char *soname, const char *reason, sk_err_t *err)
{
  return sk_err_set (err, 0, "load `%s`: %s (install Debian package %s)", soname, reason,
                     src->package);
}

static int
open_library (const struct lib_source *src, void **handle, sk_err_t *err)
{
  const char *soname = soname_of (src);

  *handle = dlopen (soname, RTLD_NOW | RTLD_LOCAL);
  if (*handle == NULL)
    return load_failure (src, soname, dl_reason (soname), err);
  return 0;
}

/* POSIX's way to store dlsym's result in a function pointer: through a
 * void * lvalue. */
static int
resolve (const struct lib_source *src, void *handle, const char *symbol, void **slot, sk_err_t *err)
{
  const char *soname = soname_of (src);

  (void)dlerror ();
  *slot = dlsym (handle, symbol);
  if (*slot == NULL)
    return load_failure (src, soname, dl_reason (soname), err);
  return 0;
}

/* Expanded per library below: one resolve() per function of its list. */
#define RESOLVE_SYMBOL(name)                                                                       \
  if (resolve (src, handle, #name, (void **)&table.name, err) < 0)                                 \
    goto fail;

int
sk_curl_load (const struct sk_curl_lib **lib, sk_err_t *err)
{
  static struct sk_curl_lib table;
  static bool loaded;
  const struct lib_source *src = &curl_source;
  void *handle;

  if (!loaded)
    {
      if (open_library (src, &handle, err) < 0)
        return -1;
      SK_CURL_FUNCTIONS (RESOLVE_SYMBOL)
      /* Once per process, before any other libcurl call. */
      if (table.curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        {
          sk_err_set (err, 0, "curl_global_init failed");
          goto fail;
        }
      loaded = true;
    }
  *lib = &table;
  return 0;
fail:
  memset (&table, 0, sizeof table);
  dlclose (handle);
  return -1;
}

int
sk_archive_load (const struct sk_archive_lib **lib, sk_err_t *err)
{
  static struct sk_archive_lib table;
  static bool loaded;
  const struct lib_source *src = &archive_source;
  void *handle;

  if (!loaded)
    {
      if (open_library (src, &handle, err) < 0)
        return -1;
      SK_ARCHIVE_FUNCTIONS (RESOLVE_SYMBOL)
      loaded = true;
    }
  *lib = &table;
  return 0;
fail:
  memset (&table, 0, sizeof table);
  dlclose (handle);
  return -1;
}

int
sk_crypto_load (const struct sk_crypto_lib **lib, sk_err_t *err)
{
  static struct sk_crypto_lib table;
  static bool loaded;
  const struct lib_source *src = &crypto_source;
  void *handle;

  if (!loaded)
    {
      if (open_library (src, &handle, err) < 0)
        return -1;
      SK_CRYPTO_FUNCTIONS (RESOLVE_SYMBOL)
      loaded = true;
    }
  *lib = &table;
  return 0;
fail:
  memset (&table, 0, sizeof table);
  dlclose (handle);
  return -1;
}

bool
sk_imagelib_is_loaded (const char *soname)
{
  void *handle = dlopen (soname, RTLD_LAZY | RTLD_NOLOAD);

  if (handle == NULL)
    return false;
  dlclose (handle);
  return true;
}
