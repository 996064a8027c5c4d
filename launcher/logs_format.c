/* launcher/logs: the bytes of log records (JSON lines, time stamps, sizes),
 * with no I/O, so every rule here is unit-testable. */
#include "logs.h"
#include "logs_internal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* docker compose's order: the basic colours, then their bright variants; red
 * is left out so a prefix never reads as an error. */
static const char *const palette[] = {
  "\033[36m", "\033[33m", "\033[32m", "\033[35m", "\033[34m",
  "\033[96m", "\033[93m", "\033[92m", "\033[95m", "\033[94m",
};

const char *
sk_log_palette (unsigned index)
{
  return palette[index % SK_ARRAY_SIZE (palette)];
}

size_t
sk_log_format_time (char *out, uint64_t ns)
{
  time_t sec = (time_t)(ns / 1000000000ull);
  unsigned long frac = (unsigned long)(ns % 1000000000ull);
  struct tm tm;
  int n;

  if (gmtime_r (&sec, &tm) == NULL)
    memset (&tm, 0, sizeof tm);
  n = snprintf (out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09luZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return n < 0 ? 0 : (size_t)n;
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 if invalid or cut short.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t
utf8_sequence (const unsigned char *p, size_t n)
{
  unsigned char lo = 0x80, hi = 0xbf;
  size_t need;

  if (p[0] < 0x80)
    return 1;
  if (p[0] >= 0xc2 && p[0] <= 0xdf)
    need = 2;
  else if (p[0] == 0xe0)
    need = 3, lo = 0xa0;
  else if (p[0] == 0xed)
    need = 3, hi = 0x9f;
  else if (p[0] >= 0xe1 && p[0] <= 0xef)
    need = 3;
  else if (p[0] == 0xf0)
    need = 4, lo = 0x90;
  else if (p[0] >= 0xf1 && p[0] <= 0xf3)
    need = 4;
  else if (p[0] == 0xf4)
    need = 4, hi = 0x8f;
  else
    return 0;
  if (n < need || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < need; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return need;
}

size_t
sk_log_json_escape (char *out, const char *text, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)text;
  size_t o = 0, i = 0;

  while (i < len)
    {
      unsigned char c = p[i];
      size_t seq;

      switch (c)
        {
        case '"':
        case '\\':
          out[o++] = '\\';
          out[o++] = (char)c;
          i++;
          continue;
        case '\n':
          memcpy (out + o, "\\n", 2), o += 2, i++;
          continue;
        case '\r':
          memcpy (out + o, "\\r", 2), o += 2, i++;
          continue;
        case '\t':
          memcpy (out + o, "\\t", 2), o += 2, i++;
          continue;
        default:
          break;
        }
      if (c < 0x20 || c == 0x7f)
        {
          memcpy (out + o, "\\u00", 4);
          out[o + 4] = hex[c >> 4];
          out[o + 5] = hex[c & 0xf];
          o += 6, i++;
          continue;
        }
      seq = utf8_sequence (p + i, len - i);
      if (seq == 0)
        {
          /* JSON has no byte escape: do what docker (Go) does. */
          memcpy (out + o, "\\ufffd", 6), o += 6, i++;
          continue;
        }
      memcpy (out + o, p + i, seq);
      o += seq, i += seq;
    }
  return o;
}

size_t
sk_log_format_record (char *out, uint64_t ns, const char *stream, const char *text, size_t len,
                      bool partial)
{
  size_t o = 0;

  memcpy (out + o, "{\"time\":\"", 9), o += 9;
  o += sk_log_format_time (out + o, ns);
  memcpy (out + o, "\",\"stream\":\"", 12), o += 12;
  o += sk_log_json_escape (out + o, stream, strlen (stream));
  memcpy (out + o, "\",\"log\":\"", 9), o += 9;
  o += sk_log_json_escape (out + o, text, len);
  out[o++] = '"';
  if (partial)
    memcpy (out + o, ",\"partial\":true", 15), o += 15;
  memcpy (out + o, "}\n", 2), o += 2;
  return o;
}

size_t
sk_log_cut_point (const char *buf, size_t len)
{
  const unsigned char *p = (const unsigned char *)buf;

  if (len < 2)
    return len;
  /* A CR at the very end may be the first half of CR LF. */
  if (p[len - 1] == '\r')
    return len - 1;
  for (size_t back = 1; back <= 3 && back < len; back++)
    {
      unsigned char c = p[len - back];
      size_t need;

      if ((c & 0xc0) == 0x80)
        continue; /* a continuation byte: look further back for the lead */
      if (c >= 0xc2 && c <= 0xdf)
        need = 2;
      else if (c >= 0xe0 && c <= 0xef)
        need = 3;
      else if (c >= 0xf0 && c <= 0xf4)
        need = 4;
      else
        return len;
      return need > back ? len - back : len;
    }
  return len;
}

int
sk_log_parse_size (const char *text, uint64_t *bytes)
{
  uint64_t whole = 0, frac = 0, frac_scale = 1, mult = 1;
  const char *p = text;
  int digits = 0;

  if (text == NULL)
    return errno = EINVAL, -1;
  for (; *p >= '0' && *p <= '9'; p++, digits++)
    {
      if (whole > (UINT64_MAX - 9) / 10)
        return errno = ERANGE, -1;
      whole = whole * 10 + (uint64_t)(*p - '0');
    }
  if (digits == 0)
    return errno = EINVAL, -1;
  if (*p == '.')
    {
      int fdigits = 0;
      for (p++; *p >= '0' && *p <= '9'; p++, fdigits++)
        if (fdigits < 9)
          {
            frac = frac * 10 + (uint64_t)(*p - '0');
            frac_scale *= 10;
          }
      if (fdigits == 0)
        return errno = EINVAL, -1;
    }
  if (*p == ' ')
    p++;
  switch (*p)
    {
    case 'k':
    case 'K':
      mult = 1ull << 10;
      break;
    case 'm':
    case 'M':
      mult = 1ull << 20;
      break;
    case 'g':
    case 'G':
      mult = 1ull << 30;
      break;
    case 't':
    case 'T':
      mult = 1ull << 40;
      break;
    default:
      break;
    }
  if (mult != 1)
    {
      p++;
      if (*p == 'i' || *p == 'I')
        p++;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return errno = EINVAL, -1;
  /* frac * mult can pass 2^64 (0.999999999t) */
  unsigned __int128 total
      = (unsigned __int128)whole * mult + (unsigned __int128)frac * mult / frac_scale;
  if (total > UINT64_MAX)
    return errno = ERANGE, -1;
  *bytes = (uint64_t)total;
  return 0;
}
