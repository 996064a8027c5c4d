/* The one error object threaded through every fallible call.
 *
 * Contract (docs/errors.md): a fallible function takes `sk_err_t *err` last,
 * returns a negative value on failure and leaves exactly one error in *err;
 * callers add context with sk_err_wrap() as the error climbs, and the CLI
 * prints the resulting single line. Best-effort paths use a local error and
 * release it with sk_err_free(). */
#ifndef SKIFF_ERROR_H
#define SKIFF_ERROR_H

#include <stdarg.h>

struct sk_err
{
  int errnum;   /* errno of the failing call, 0 for logic errors */
  int exitcode; /* exit code the CLI should use; 0 means "use the default, 125" */
  char *msg;    /* full message, context prefixes included, without errno text */
};
typedef struct sk_err *sk_err_t;

/* Record a new error; if errnum != 0 its strerror text is appended when the
 * error is printed. Always returns -1 so callers can `return sk_err_set(...)`. */
int sk_err_set (sk_err_t *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prefix context: "ctx: previous message". Returns -1. */
int sk_err_wrap (sk_err_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Choose the exit code the CLI will use for this error (126, 127, ...). */
void sk_err_set_exitcode (sk_err_t *err, int exitcode);

/* The full line "message: strerror" in a newly allocated string. */
char *sk_err_text (const sk_err_t *err);

/* Write "skiff: <text>\n" to stderr. */
void sk_err_print (const sk_err_t *err);

void sk_err_free (sk_err_t *err);

#define _cleanup_err_ __attribute__ ((cleanup (sk_err_free)))

#endif
