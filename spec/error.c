#include "error.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sk_err_set (sk_err_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  struct sk_err *e;

  if (err == NULL)
    return -1;
  sk_err_free (err);
  e = xzalloc (sizeof *e);
  e->errnum = errnum;
  va_start (ap, fmt);
  if (vasprintf (&e->msg, fmt, ap) < 0)
    e->msg = NULL;
  va_end (ap);
  if (e->msg == NULL)
    e->msg = xstrdup ("out of memory formatting an error");
  *err = e;
  return -1;
}

int
sk_err_wrap (sk_err_t *err, const char *fmt, ...)
{
  va_list ap;
  char *prefix = NULL, *joined = NULL;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&prefix, fmt, ap) < 0)
    prefix = NULL;
  va_end (ap);
  if (prefix == NULL)
    return -1;
  if (asprintf (&joined, "%s: %s", prefix, (*err)->msg) >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = joined;
    }
  free (prefix);
  return -1;
}

void
sk_err_set_exitcode (sk_err_t *err, int exitcode)
{
  if (err != NULL && *err != NULL)
    (*err)->exitcode = exitcode;
}

char *
sk_err_text (const sk_err_t *err)
{
  char *out = NULL;

  if (err == NULL || *err == NULL)
    return xstrdup ("unknown error");
  if ((*err)->errnum != 0)
    {
      if (asprintf (&out, "%s: %s", (*err)->msg, strerror ((*err)->errnum)) < 0)
        out = NULL;
    }
  else
    out = strdup ((*err)->msg);
  if (out == NULL)
    abort ();
  return out;
}

void
sk_err_print (const sk_err_t *err)
{
  _cleanup_free_ char *text = sk_err_text (err);
  fprintf (stderr, "skiff: %s\n", text);
}

void
sk_err_free (sk_err_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}
