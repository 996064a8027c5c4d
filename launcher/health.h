/* Container health: the ECS/Docker health-check state machine, pure.
 *
 * The probe runner (another part of the loop) runs the command and reports
 * each result here; this file decides the status and when to probe next.
 * UNKNOWN -> HEALTHY on a passing probe; -> UNHEALTHY after `retries`
 * consecutive counted failures; failures during startPeriod do not count
 * until the first success; a probe that exceeded its timeout is a failure. */
#ifndef SKIFF_HEALTH_H
#define SKIFF_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "task.h"

enum sk_health_status
{
  SK_HEALTH_UNKNOWN = 0,
  SK_HEALTH_HEALTHY,
  SK_HEALTH_UNHEALTHY,
};

#define SK_HEALTH_LOG_ENTRIES 5
#define SK_HEALTH_OUTPUT_MAX 4096
/* Probes during the start period run this often (ECS has no knob; Docker's
 * start interval is the same idea). */
#define SK_HEALTH_START_INTERVAL_MS 2000

struct sk_health_log_entry
{
  uint64_t start_ms;
  uint64_t end_ms;
  int exit_code; /* -1 when the probe could not run or was killed */
  bool timed_out;
  bool passed;
  bool truncated; /* output was longer than SK_HEALTH_OUTPUT_MAX */
  size_t output_len;
  char output[SK_HEALTH_OUTPUT_MAX + 1]; /* NUL-terminated; may contain other NULs */
};

struct sk_probe_result
{
  uint64_t start_ms;  /* when the probe started; 0 = same as now_ms */
  int exit_code;      /* 0 = pass, unless timed_out */
  bool timed_out;     /* exceeded healthCheck.timeout: a failure whatever the code */
  const char *output; /* may be NULL */
  size_t output_len;
};

/* Per container; zero-initialize, sk_health_reset() on every (re)start. */
struct sk_health_state
{
  enum sk_health_status status;
  uint32_t consecutive_failures; /* counted ones, i.e. outside the start period */
  bool passed_once;              /* a probe passed since the start: the start period is over */
  uint64_t last_probe_end_ms;    /* 0 = no probe yet */
  uint64_t last_change_ms;
  uint32_t n_probes;
  size_t n_log; /* entries in log, oldest at log_head */
  size_t log_head;
  struct sk_health_log_entry log[SK_HEALTH_LOG_ENTRIES];
};

struct sk_health_change
{
  enum sk_health_status status;
  enum sk_health_status previous;
  bool changed;
  bool counted; /* the failure counted toward retries (false in the start period) */
};

void sk_health_reset (struct sk_health_state *s);

/* Feed one probe result that ended at now_ms; started_at_ms is the
 * container's (last) start, for the start period. */
struct sk_health_change sk_health_on_result (struct sk_health_state *s,
                                             const struct sk_health_check *check,
                                             const struct sk_probe_result *r, uint64_t now_ms,
                                             uint64_t started_at_ms);

/* When the next probe is due: interval after the last probe ended, or after
 * the start for the first one; SK_HEALTH_START_INTERVAL_MS instead of the
 * interval while in the start period and no probe passed yet. */
uint64_t sk_health_next_probe_ms (const struct sk_health_state *s,
                                  const struct sk_health_check *check, uint64_t started_at_ms);

/* i-th log entry, 0 = oldest; NULL past the end. */
const struct sk_health_log_entry *sk_health_log_at (const struct sk_health_state *s, size_t i);

/* Task health: only essential containers count; UNHEALTHY > UNKNOWN >
 * HEALTHY. statuses[i] belongs to task->containers[i] (UNKNOWN for a
 * container without a check). A task without essential containers is UNKNOWN. */
enum sk_health_status sk_task_health (const struct sk_task *task,
                                      const enum sk_health_status *statuses);

const char *sk_health_status_name (enum sk_health_status s);

#endif
