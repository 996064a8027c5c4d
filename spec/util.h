/* Small helpers shared by every layer: scope-bound cleanup, explicit
 * ownership transfer, and allocation that never returns NULL. */
#ifndef SKIFF_UTIL_H
#define SKIFF_UTIL_H

#include <stddef.h>
#include <stdio.h>

void *xmalloc (size_t size);
void *xzalloc (size_t size);
void *xrealloc (void *ptr, size_t size);
void *xreallocarray (void *ptr, size_t nmemb, size_t size);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

void sk_freep (void *pp);
void sk_closep (int *fdp);
void sk_fclosep (FILE **fp);
void sk_strv_freep (char ***strvp);
void sk_strv_free (char **strv);

#define _cleanup_free_ __attribute__ ((cleanup (sk_freep)))
#define _cleanup_close_ __attribute__ ((cleanup (sk_closep)))
#define _cleanup_fclose_ __attribute__ ((cleanup (sk_fclosep)))
#define _cleanup_strv_ __attribute__ ((cleanup (sk_strv_freep)))

/* Ownership transfer: take the value out of a cleanup-bound variable. */
#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__ (*(pp)) _stolen = *(pp);                                                            \
    *(pp) = NULL;                                                                                  \
    _stolen;                                                                                       \
  })
#define steal_fd(fdp)                                                                              \
  ({                                                                                               \
    int _stolen_fd = *(fdp);                                                                       \
    *(fdp) = -1;                                                                                   \
    _stolen_fd;                                                                                    \
  })

#define SK_ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))
#define SK_UNUSED __attribute__ ((unused))

#endif
