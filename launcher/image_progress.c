#include "image_progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
sk_format_bytes (uint64_t n, char *buf, size_t size)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
  double v = (double)n;
  size_t u = 0;

  while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0])
    v /= 1000.0, u++;
  if (u == 0)
    snprintf (buf, size, "%llu B", (unsigned long long)n);
  else
    snprintf (buf, size, "%.1f %s", v, units[u]);
}

static void
draw (struct sk_progress *p, bool final, const char *verdict)
{
  char done[32], total[32], speed[32];
  double secs = (double)(now_ns () - p->start_ns) / 1e9;

  sk_format_bytes (p->done, done, sizeof done);
  sk_format_bytes (p->total, total, sizeof total);
  sk_format_bytes (secs > 0.05 ? (uint64_t)((double)p->done / secs) : 0, speed, sizeof speed);
  if (p->tty)
    fprintf (stderr, "\r\033[K%s %-12s %10s / %-10s %10s/s%s", final ? verdict : "pulling ",
             p->label, done, total, speed, final ? "\n" : "");
  else if (final)
    fprintf (stderr, "skiff: %s %s %s in %.1fs (%s/s)\n", verdict, p->label, done, secs, speed);
}

void
sk_progress_begin (struct sk_progress *p, bool quiet, const char *what, const char *digest,
                   uint64_t total)
{
  memset (p, 0, sizeof *p);
  p->quiet = quiet;
  p->tty = isatty (STDERR_FILENO) == 1;
  snprintf (p->label, sizeof p->label, "%s", what);
  (void)digest;
  p->total = total;
  p->start_ns = now_ns ();
}

void
sk_progress_update (void *ctx, uint64_t done, uint64_t total)
{
  struct sk_progress *p = ctx;
  uint64_t t = now_ns ();

  p->done = done;
  if (total > 0)
    p->total = total;
  if (p->quiet || !p->tty || t - p->last_draw_ns < 100000000u)
    return;
  p->last_draw_ns = t;
  draw (p, false, NULL);
}

void
sk_progress_end (struct sk_progress *p, const char *verdict)
{
  if (p->quiet)
    return;
  if (p->done == 0)
    p->done = p->total;
  draw (p, true, verdict);
}
