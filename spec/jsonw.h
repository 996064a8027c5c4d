/* A small JSON writer for skiff's machine-readable output (events, run
 * results): appends to a growing buffer, escapes every string, and tracks
 * commas so callers only say what comes next. */
#ifndef SKIFF_JSONW_H
#define SKIFF_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_JW_MAX_DEPTH 32

struct sk_jw
{
  char *buf;
  size_t len;
  size_t cap;
  int depth;
  bool need_comma[SK_JW_MAX_DEPTH];
};

void sk_jw_init (struct sk_jw *w);
void sk_jw_free (struct sk_jw *w);
/* Take the text (NUL-terminated); the writer is reset. */
char *sk_jw_steal (struct sk_jw *w);

void sk_jw_begin_object (struct sk_jw *w);
void sk_jw_end_object (struct sk_jw *w);
void sk_jw_begin_array (struct sk_jw *w);
void sk_jw_end_array (struct sk_jw *w);
void sk_jw_key (struct sk_jw *w, const char *key);
void sk_jw_string (struct sk_jw *w, const char *s); /* NULL writes null */
void sk_jw_string_n (struct sk_jw *w, const char *s, size_t n);
void sk_jw_int (struct sk_jw *w, int64_t v);
void sk_jw_uint (struct sk_jw *w, uint64_t v);
void sk_jw_bool (struct sk_jw *w, bool v);
void sk_jw_null (struct sk_jw *w);

/* key + value shorthands */
void sk_jw_kv_string (struct sk_jw *w, const char *key, const char *s);
void sk_jw_kv_int (struct sk_jw *w, const char *key, int64_t v);
void sk_jw_kv_uint (struct sk_jw *w, const char *key, uint64_t v);
void sk_jw_kv_bool (struct sk_jw *w, const char *key, bool v);

/* RFC 3339 UTC time with microseconds of a CLOCK_REALTIME nanosecond value. */
void sk_format_time (uint64_t realtime_ns, char *buf, size_t size);
uint64_t sk_realtime_ns (void);

#endif
