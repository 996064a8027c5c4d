#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *
oom_if_null (void *p)
{
  /* Running out of memory while preparing a task is not recoverable in any
   * useful way; failing loudly beats a NULL dereference later. */
  if (p == NULL)
    {
      static const char msg[] = "skiff: out of memory\n";
      (void)!write (STDERR_FILENO, msg, sizeof msg - 1);
      abort ();
    }
  return p;
}

void *
xmalloc (size_t size)
{
  return oom_if_null (malloc (size ? size : 1));
}

void *
xzalloc (size_t size)
{
  return oom_if_null (calloc (1, size ? size : 1));
}

void *
xrealloc (void *ptr, size_t size)
{
  return oom_if_null (realloc (ptr, size ? size : 1));
}

void *
xreallocarray (void *ptr, size_t nmemb, size_t size)
{
  return oom_if_null (reallocarray (ptr, nmemb ? nmemb : 1, size ? size : 1));
}

char *
xstrdup (const char *s)
{
  return oom_if_null (strdup (s ? s : ""));
}

char *
xstrndup (const char *s, size_t n)
{
  return oom_if_null (strndup (s ? s : "", n));
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&out, fmt, ap);
  va_end (ap);
  if (r < 0)
    out = NULL;
  return oom_if_null (out);
}

void
sk_freep (void *pp)
{
  void **p = pp;
  free (*p);
  *p = NULL;
}

void
sk_closep (int *fdp)
{
  if (*fdp >= 0)
    {
      int saved = errno;
      close (*fdp);
      errno = saved;
    }
  *fdp = -1;
}

void
sk_fclosep (FILE **fp)
{
  if (*fp != NULL)
    fclose (*fp);
  *fp = NULL;
}

void
sk_strv_free (char **strv)
{
  if (strv == NULL)
    return;
  for (char **s = strv; *s != NULL; s++)
    free (*s);
  free (strv);
}

void
sk_strv_freep (char ***strvp)
{
  sk_strv_free (*strvp);
  *strvp = NULL;
}
