#include "events.h"
#include "logs.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>

void
sk_event_begin (struct sk_events *ev, struct sk_jw *w, const char *container, const char *type)
{
  char when[40];

  sk_format_time (sk_realtime_ns (), when, sizeof when);
  sk_jw_init (w);
  sk_jw_begin_object (w);
  sk_jw_kv_string (w, "time", when);
  sk_jw_kv_string (w, "task", ev->task_id);
  sk_jw_kv_string (w, "family", ev->family);
  sk_jw_kv_uint (w, "taskAttempt", ev->attempt);
  if (container != NULL)
    sk_jw_kv_string (w, "container", container);
  sk_jw_kv_string (w, "event", type);
}

void
sk_event_end (struct sk_events *ev, struct sk_jw *w, const char *human_fmt, ...)
{
  sk_jw_end_object (w);
  if (ev->file != NULL)
    {
      /* One write per line so concurrent readers never see half an event. */
      fprintf (ev->file, "%s\n", w->buf);
      fflush (ev->file);
    }
  if (ev->human && human_fmt != NULL)
    {
      va_list ap;
      _cleanup_free_ char *text = NULL;

      va_start (ap, human_fmt);
      if (vasprintf (&text, human_fmt, ap) < 0)
        text = NULL;
      va_end (ap);
      if (text != NULL)
        fprintf (stderr, "skiff: %s: %s%s", ev->family, text, sk_log_line_end (fileno (stderr)));
    }
  sk_jw_free (w);
}
