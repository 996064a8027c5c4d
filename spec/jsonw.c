#include "jsonw.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
sk_jw_init (struct sk_jw *w)
{
  memset (w, 0, sizeof *w);
}

void
sk_jw_free (struct sk_jw *w)
{
  free (w->buf);
  sk_jw_init (w);
}

char *
sk_jw_steal (struct sk_jw *w)
{
  char *out = w->buf != NULL ? w->buf : xstrdup ("");
  w->buf = NULL;
  sk_jw_free (w);
  return out;
}

static void
put (struct sk_jw *w, const char *s, size_t n)
{
  if (w->len + n + 1 > w->cap)
    {
      size_t cap = w->cap ? w->cap : 256;
      while (w->len + n + 1 > cap)
        cap *= 2;
      w->buf = xrealloc (w->buf, cap);
      w->cap = cap;
    }
  memcpy (w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = '\0';
}

static void
puts_ (struct sk_jw *w, const char *s)
{
  put (w, s, strlen (s));
}

/* Before a value: the comma its container needs. A value right after a key
 * needs none (the key wrote it). */
static void
before_value (struct sk_jw *w)
{
  if (w->len > 0 && w->buf[w->len - 1] == ':')
    return;
  if (w->need_comma[w->depth])
    put (w, ",", 1);
  w->need_comma[w->depth] = true;
}

void
sk_jw_begin_object (struct sk_jw *w)
{
  before_value (w);
  put (w, "{", 1);
  if (w->depth + 1 < SK_JW_MAX_DEPTH)
    w->depth++;
  w->need_comma[w->depth] = false;
}

void
sk_jw_end_object (struct sk_jw *w)
{
  put (w, "}", 1);
  if (w->depth > 0)
    w->depth--;
}

void
sk_jw_begin_array (struct sk_jw *w)
{
  before_value (w);
  put (w, "[", 1);
  if (w->depth + 1 < SK_JW_MAX_DEPTH)
    w->depth++;
  w->need_comma[w->depth] = false;
}

void
sk_jw_end_array (struct sk_jw *w)
{
  put (w, "]", 1);
  if (w->depth > 0)
    w->depth--;
}

static void
escaped (struct sk_jw *w, const char *s, size_t n)
{
  put (w, "\"", 1);
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char)s[i];
      char esc[8];
      switch (c)
        {
        case '"':
          puts_ (w, "\\\"");
          break;
        case '\\':
          puts_ (w, "\\\\");
          break;
        case '\n':
          puts_ (w, "\\n");
          break;
        case '\r':
          puts_ (w, "\\r");
          break;
        case '\t':
          puts_ (w, "\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            {
              snprintf (esc, sizeof esc, "\\u%04x", c);
              puts_ (w, esc);
            }
          else
            put (w, (const char *)&s[i], 1);
        }
    }
  put (w, "\"", 1);
}

void
sk_jw_key (struct sk_jw *w, const char *key)
{
  before_value (w);
  escaped (w, key, strlen (key));
  put (w, ":", 1);
}

void
sk_jw_string (struct sk_jw *w, const char *s)
{
  if (s == NULL)
    {
      sk_jw_null (w);
      return;
    }
  sk_jw_string_n (w, s, strlen (s));
}

void
sk_jw_string_n (struct sk_jw *w, const char *s, size_t n)
{
  before_value (w);
  escaped (w, s, n);
}

void
sk_jw_int (struct sk_jw *w, int64_t v)
{
  char num[32];
  before_value (w);
  snprintf (num, sizeof num, "%" PRId64, v);
  puts_ (w, num);
}

void
sk_jw_uint (struct sk_jw *w, uint64_t v)
{
  char num[32];
  before_value (w);
  snprintf (num, sizeof num, "%" PRIu64, v);
  puts_ (w, num);
}

void
sk_jw_bool (struct sk_jw *w, bool v)
{
  before_value (w);
  puts_ (w, v ? "true" : "false");
}

void
sk_jw_null (struct sk_jw *w)
{
  before_value (w);
  puts_ (w, "null");
}

void
sk_jw_kv_string (struct sk_jw *w, const char *key, const char *s)
{
  sk_jw_key (w, key);
  sk_jw_string (w, s);
}

void
sk_jw_kv_int (struct sk_jw *w, const char *key, int64_t v)
{
  sk_jw_key (w, key);
  sk_jw_int (w, v);
}

void
sk_jw_kv_uint (struct sk_jw *w, const char *key, uint64_t v)
{
  sk_jw_key (w, key);
  sk_jw_uint (w, v);
}

void
sk_jw_kv_bool (struct sk_jw *w, const char *key, bool v)
{
  sk_jw_key (w, key);
  sk_jw_bool (w, v);
}

uint64_t
sk_realtime_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
sk_format_time (uint64_t realtime_ns, char *buf, size_t size)
{
  time_t secs = (time_t)(realtime_ns / 1000000000u);
  struct tm tm;
  char date[32];

  gmtime_r (&secs, &tm);
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%s.%06uZ", date, (unsigned)((realtime_ns % 1000000000u) / 1000u));
}
