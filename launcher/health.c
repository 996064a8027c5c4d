/* The health-check state machine (ECS healthCheck over Docker's model). */
#include "health.h"

#include <string.h>

const char *
sk_health_status_name (enum sk_health_status s)
{
  switch (s)
    {
    case SK_HEALTH_UNKNOWN:
      return "UNKNOWN";
    case SK_HEALTH_HEALTHY:
      return "HEALTHY";
    case SK_HEALTH_UNHEALTHY:
      return "UNHEALTHY";
    }
  return "?";
}

void
sk_health_reset (struct sk_health_state *s)
{
  /* The log is evidence across restarts; everything else starts over. */
  s->status = SK_HEALTH_UNKNOWN;
  s->consecutive_failures = 0;
  s->passed_once = false;
  s->last_probe_end_ms = 0;
}

static void
append_log (struct sk_health_state *s, const struct sk_probe_result *r, bool passed,
            uint64_t start_ms, uint64_t now_ms)
{
  size_t slot = (s->log_head + s->n_log) % SK_HEALTH_LOG_ENTRIES;
  struct sk_health_log_entry *e;
  size_t len = r->output != NULL ? r->output_len : 0;

  if (s->n_log == SK_HEALTH_LOG_ENTRIES)
    {
      slot = s->log_head;
      s->log_head = (s->log_head + 1) % SK_HEALTH_LOG_ENTRIES;
    }
  else
    s->n_log++;
  e = &s->log[slot];
  e->start_ms = start_ms;
  e->end_ms = now_ms;
  e->exit_code = r->exit_code;
  e->timed_out = r->timed_out;
  e->passed = passed;
  e->truncated = len > SK_HEALTH_OUTPUT_MAX;
  e->output_len = e->truncated ? SK_HEALTH_OUTPUT_MAX : len;
  if (e->output_len > 0)
    memcpy (e->output, r->output, e->output_len);
  e->output[e->output_len] = '\0';
}

const struct sk_health_log_entry *
sk_health_log_at (const struct sk_health_state *s, size_t i)
{
  if (i >= s->n_log)
    return NULL;
  return &s->log[(s->log_head + i) % SK_HEALTH_LOG_ENTRIES];
}

struct sk_health_change
sk_health_on_result (struct sk_health_state *s, const struct sk_health_check *check,
                     const struct sk_probe_result *r, uint64_t now_ms, uint64_t started_at_ms)
{
  struct sk_health_change c = { .previous = s->status };
  uint64_t start_ms = r->start_ms != 0 ? r->start_ms : now_ms;
  bool passed = !r->timed_out && r->exit_code == 0;
  uint32_t retries = check->retries > 0 ? check->retries : 3;
  /* Docker judges the start period by when the probe started. */
  bool in_start_period
      = !s->passed_once && start_ms < started_at_ms + (uint64_t)check->start_period * 1000;

  append_log (s, r, passed, start_ms, now_ms);
  s->last_probe_end_ms = now_ms;
  s->n_probes++;

  if (passed)
    {
      s->passed_once = true;
      s->consecutive_failures = 0;
      s->status = SK_HEALTH_HEALTHY;
    }
  else if (!in_start_period)
    {
      c.counted = true;
      s->consecutive_failures++;
      if (s->consecutive_failures >= retries)
        s->status = SK_HEALTH_UNHEALTHY;
    }

  c.status = s->status;
  c.changed = c.status != c.previous;
  if (c.changed)
    s->last_change_ms = now_ms;
  return c;
}

uint64_t
sk_health_next_probe_ms (const struct sk_health_state *s, const struct sk_health_check *check,
                         uint64_t started_at_ms)
{
  uint64_t interval = (uint64_t)(check->interval > 0 ? check->interval : 30) * 1000;
  uint64_t base = s->last_probe_end_ms != 0 ? s->last_probe_end_ms : started_at_ms;
  uint64_t start_period_end = started_at_ms + (uint64_t)check->start_period * 1000;

  if (!s->passed_once && base < start_period_end && SK_HEALTH_START_INTERVAL_MS < interval)
    {
      uint64_t next = base + SK_HEALTH_START_INTERVAL_MS;
      /* Back to the normal pace once the start period is over. */
      return next <= start_period_end ? next : base + interval;
    }
  return base + interval;
}

enum sk_health_status
sk_task_health (const struct sk_task *task, const enum sk_health_status *statuses)
{
  bool any_essential = false, any_unknown = false;

  for (size_t i = 0; i < task->n_containers; i++)
    {
      if (!task->containers[i].essential)
        continue;
      any_essential = true;
      if (statuses[i] == SK_HEALTH_UNHEALTHY)
        return SK_HEALTH_UNHEALTHY;
      if (statuses[i] == SK_HEALTH_UNKNOWN)
        any_unknown = true;
    }
  if (!any_essential || any_unknown)
    return SK_HEALTH_UNKNOWN;
  return SK_HEALTH_HEALTHY;
}
