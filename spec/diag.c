/* The list of warnings and errors collected while loading a file. */
#include "spec.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>

void
sk_diags_add (struct sk_diags *d, enum sk_diag_level level, const char *fmt, ...)
{
  va_list ap;
  char *text = NULL;

  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    text = NULL;
  va_end (ap);
  if (text == NULL)
    text = xstrdup ("out of memory formatting a diagnostic");
  d->v = xreallocarray (d->v, d->n + 1, sizeof *d->v);
  d->v[d->n].level = level;
  d->v[d->n].text = text;
  d->n++;
  if (level == SK_DIAG_ERROR)
    d->n_errors++;
}

void
sk_diags_clear (struct sk_diags *d)
{
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->n; i++)
    free (d->v[i].text);
  free (d->v);
  d->v = NULL;
  d->n = 0;
  d->n_errors = 0;
}

void
sk_diags_print (const struct sk_diags *d, FILE *out)
{
  for (size_t i = 0; i < d->n; i++)
    fprintf (out, "%s: %s\n", d->v[i].level == SK_DIAG_ERROR ? "error" : "warning", d->v[i].text);
}
