/* The supervisor's decision log: one JSON object per line for machines
 * (--events-file, and <task dir>/events.jsonl), one short line on stderr
 * for people. Every decision is an event: what happened, which rule
 * matched, attempt n of m, the delay chosen, or why nothing was done. */
#ifndef SKIFF_EVENTS_H
#define SKIFF_EVENTS_H

#include "jsonw.h"

#include <stdbool.h>
#include <stdio.h>

struct sk_events
{
  FILE *file; /* JSON lines; NULL = none */
  bool human; /* short lines on stderr */
  const char *task_id;
  const char *family;
  unsigned attempt; /* task attempt, from 1 */
};

/* Start an event: writes time, task, attempt, container (may be NULL),
 * event type; the caller adds fields with sk_jw_kv_* and calls
 * sk_event_end with the human text (NULL = nothing on stderr). */
void sk_event_begin (struct sk_events *ev, struct sk_jw *w, const char *container,
                     const char *type);
void sk_event_end (struct sk_events *ev, struct sk_jw *w, const char *human_fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
