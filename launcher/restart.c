/* The restart decision: which rule applies to an exit, whether the rate
 * limits allow a restart, and the backoff delay. Pure; see restart.h. */
#include "restart.h"
#include "policy_labels.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
sk_restart_mode_name (enum sk_restart_mode m)
{
  switch (m)
    {
    case SK_RESTART_NEVER:
      return "never";
    case SK_RESTART_ON_FAILURE:
      return "on-failure";
    case SK_RESTART_ALWAYS:
      return "always";
    case SK_RESTART_UNLESS_STOPPED:
      return "unless-stopped";
    case SK_RESTART_ECS:
      return "ecs";
    }
  return "?";
}

const char *
sk_unhealthy_action_name (enum sk_unhealthy_action a)
{
  switch (a)
    {
    case SK_UNHEALTHY_NONE:
      return "none";
    case SK_UNHEALTHY_RESTART:
      return "restart";
    case SK_UNHEALTHY_STOP_TASK:
      return "stop-task";
    }
  return "?";
}

bool
sk_restart_policy_restarts_anything (const struct sk_restart_policy_x *p)
{
  return p->mode != SK_RESTART_NEVER || p->on_unhealthy == SK_UNHEALTHY_RESTART;
}

/* "skiff.restart=on-failure", "restartPolicy.enabled" or "no restart policy". */
static void
mode_text (const struct sk_restart_policy_x *p, char *buf, size_t size)
{
  if (p->source == SK_RESTART_FROM_LABEL)
    snprintf (buf, size, "skiff.restart=%s", sk_restart_mode_name (p->mode));
  else if (p->mode == SK_RESTART_ECS)
    snprintf (buf, size, "restartPolicy.enabled");
  else
    snprintf (buf, size, "no restart policy");
}

static bool
is_failure (const struct sk_exit_event *ev)
{
  return ev->oom || ev->unhealthy || ev->signal > 0 || ev->exit_code != 0;
}

/* The trigger name and its description: "signal SIGSEGV (exit code 139)". */
static const char *
describe_trigger (const struct sk_exit_event *ev, char *buf, size_t size)
{
  int code = ev->signal > 0 ? 128 + ev->signal : ev->exit_code;
  char sig[24];

  if (!ev->exit_known)
    {
      snprintf (buf, size, "exit code unknown");
      return "unknown";
    }
  if (ev->oom)
    {
      snprintf (buf, size, "OutOfMemoryError (exit code %d)", code);
      return "OutOfMemoryError";
    }
  if (ev->unhealthy)
    {
      snprintf (buf, size, "health-check-failed (exit code %d)", code);
      return "health-check-failed";
    }
  if (ev->signal > 0)
    {
      sk_signal_format (ev->signal, sig, sizeof sig);
      snprintf (buf, size, "signal %s (exit code %d)", sig, code);
      return "signal";
    }
  snprintf (buf, size, "exit code %d", code);
  return "exit";
}

/* Picks the action; rule names the rule or the default that chose it. */
static enum sk_restart_action
choose_action (const struct sk_restart_policy_x *p, const struct sk_exit_event *ev, char *rule,
               size_t size, bool *explicit_rule)
{
  *explicit_rule = false;
  for (size_t i = 0; i < p->n_rules; i++)
    if (sk_restart_rule_matches (&p->rules[i], ev))
      {
        snprintf (rule, size, "%s", p->rules[i].text);
        *explicit_rule = true;
        return p->rules[i].action;
      }
  if (ev->unhealthy)
    {
      snprintf (rule, size, "onUnhealthy=%s", sk_unhealthy_action_name (p->on_unhealthy));
      return p->on_unhealthy == SK_UNHEALTHY_RESTART ? SK_ACTION_RESTART : SK_ACTION_NEVER;
    }
  mode_text (p, rule, size);
  switch (p->mode)
    {
    case SK_RESTART_NEVER:
      return SK_ACTION_NEVER;
    case SK_RESTART_ON_FAILURE:
      return is_failure (ev) ? SK_ACTION_RESTART : SK_ACTION_NEVER;
    case SK_RESTART_ALWAYS:
    case SK_RESTART_UNLESS_STOPPED:
    case SK_RESTART_ECS:
      return SK_ACTION_RESTART;
    }
  return SK_ACTION_NEVER;
}

static uint32_t
restarts_in_window (const struct sk_restart_policy_x *p, const struct sk_restart_history *h,
                    uint64_t now_ms)
{
  uint32_t n = 0;

  if (p->window_ms == 0)
    return h->restart_count;
  for (uint32_t i = 0; i < h->n_recent && i < SK_RESTART_RECENT_SLOTS; i++)
    if (h->recent_ms[i] >= now_ms || now_ms - h->recent_ms[i] < p->window_ms)
      n++;
  return n;
}

/* initial * multiplier^step, capped at max_delay. */
static double
base_delay (const struct sk_restart_policy_x *p, uint32_t step)
{
  double d = (double)p->initial_delay_ms;
  double cap = (double)p->max_delay_ms;

  for (uint32_t i = 0; i < step && d < cap && p->multiplier > 1.0; i++)
    d *= p->multiplier;
  return d < cap ? d : cap;
}

static uint64_t
jittered (const struct sk_restart_policy_x *p, double base, uint64_t random)
{
  /* 53 random bits -> u in [0, 1); factor in [1 - jitter, 1 + jitter). */
  double u = (double)(random >> 11) * (1.0 / 9007199254740992.0);
  double d = base * (1.0 + p->jitter * (2.0 * u - 1.0));

  if (d < 0)
    d = 0;
  if (d > (double)p->max_delay_ms)
    d = (double)p->max_delay_ms;
  return (uint64_t)(d + 0.5);
}

static void no_restart (struct sk_restart_decision *d, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
no_restart (struct sk_restart_decision *d, const char *fmt, ...)
{
  va_list ap;

  d->restart = false;
  va_start (ap, fmt);
  vsnprintf (d->reason, sizeof d->reason, fmt, ap);
  va_end (ap);
}

struct sk_restart_decision
sk_restart_decide (const struct sk_restart_policy_x *p, const struct sk_restart_history *h,
                   const struct sk_exit_event *ev, uint64_t now_ms, uint64_t random)
{
  struct sk_restart_decision d = { 0 };
  char what[96], next[48], budget[112], a[32], b[32];
  bool explicit_rule;
  uint64_t uptime = now_ms > h->last_start_ms ? now_ms - h->last_start_ms : 0;
  uint32_t step;

  d.max_attempts = p->max_attempts;
  d.trigger = describe_trigger (ev, what, sizeof what);

  /* The order of the ECS RestartTracker: stopping, unknown code, rules, period. */
  if (ev->task_stopping)
    {
      no_restart (&d, "%s: the task is stopping", what);
      return d;
    }
  if (ev->user_stopped)
    {
      d.user_stopped = true;
      no_restart (&d, "%s: stopped by the user", what);
      return d;
    }
  if (!ev->exit_known)
    {
      no_restart (&d, "%s: not restarting a container whose exit status is lost", what);
      return d;
    }
  if (choose_action (p, ev, d.rule, sizeof d.rule, &explicit_rule) == SK_ACTION_NEVER)
    {
      if (explicit_rule)
        no_restart (&d, "%s matched rule %s; not restarting", what, d.rule);
      else if (p->mode == SK_RESTART_ON_FAILURE && !ev->unhealthy)
        no_restart (&d, "%s is a success; %s restarts failures only", what, d.rule);
      else
        no_restart (&d, "%s; %s; not restarting", what, d.rule);
      return d;
    }
  if (p->min_uptime_ms > 0 && uptime < p->min_uptime_ms)
    {
      /* ECS: a restart needs restartAttemptPeriod since the last (re)start. */
      snprintf (a, sizeof a, "%llus", (unsigned long long)(p->min_uptime_ms / 1000));
      sk_duration_format (uptime / 1000 * 1000, b, sizeof b);
      no_restart (&d, "attempt reset period of %s has not elapsed (ran %s)", a, b);
      return d;
    }

  d.attempt = restarts_in_window (p, h, now_ms) + 1;
  if (p->max_attempts > 0 && d.attempt > p->max_attempts)
    {
      d.gave_up = true;
      d.attempt = 0;
      snprintf (a, sizeof a, "%u", p->max_attempts);
      if (p->window_ms > 0)
        {
          sk_duration_format (p->window_ms, b, sizeof b);
          snprintf (budget, sizeof budget, "%s attempts within %s", a, b);
        }
      else
        snprintf (budget, sizeof budget, "%s attempts", a);
      no_restart (&d, "gave up: %s (%s)", budget, what);
      return d;
    }

  step = h->backoff_step;
  if (p->reset_after_ms > 0 && uptime >= p->reset_after_ms && step > 0)
    {
      step = 0;
      d.backoff_reset = true;
    }
  d.restart = true;
  d.delay_ms = jittered (p, base_delay (p, step), random);
  d.backoff_step = step + 1;

  if (p->max_attempts > 0)
    snprintf (budget, sizeof budget, "attempt %u of %u", d.attempt, p->max_attempts);
  else
    snprintf (budget, sizeof budget, "attempt %u", d.attempt);
  if (d.delay_ms == 0)
    snprintf (next, sizeof next, "restarting now");
  else
    snprintf (next, sizeof next, "next in %.1fs", (double)d.delay_ms / 1000.0);
  snprintf (d.reason, sizeof d.reason, "%s %s %s; %s%s; %s", what,
            explicit_rule ? "matched rule" : "under", d.rule, budget,
            d.backoff_reset ? " (backoff reset after a stable run)" : "", next);
  return d;
}

void
sk_restart_history_record_start (struct sk_restart_history *h, uint64_t now_ms)
{
  if (h->n_starts == 0)
    h->first_start_ms = now_ms;
  h->n_starts++;
  h->last_start_ms = now_ms;
  h->user_stopped = false;
}

void
sk_restart_history_record_decision (struct sk_restart_history *h,
                                    const struct sk_restart_decision *d, uint64_t now_ms)
{
  if (!d->restart)
    {
      if (d->user_stopped)
        h->user_stopped = true;
      if (d->gave_up)
        h->gave_up = true;
      return;
    }
  h->restart_count++;
  h->backoff_step = d->backoff_step;
  h->last_delay_ms = d->delay_ms;
  h->gave_up = false;
  if (h->n_recent >= SK_RESTART_RECENT_SLOTS)
    {
      memmove (h->recent_ms, h->recent_ms + 1, (SK_RESTART_RECENT_SLOTS - 1) * sizeof (uint64_t));
      h->n_recent = SK_RESTART_RECENT_SLOTS - 1;
    }
  h->recent_ms[h->n_recent++] = now_ms;
}

bool
sk_restart_resume_allowed (const struct sk_restart_policy_x *p, const struct sk_restart_history *h)
{
  if (h->gave_up)
    return false;
  if (h->user_stopped && p->mode != SK_RESTART_ALWAYS)
    return false;
  return true;
}

size_t
sk_restart_schedule (const struct sk_restart_policy_x *p, uint64_t *delays_ms, size_t n)
{
  for (size_t i = 0; i < n; i++)
    delays_ms[i] = (uint64_t)(base_delay (p, (uint32_t)i) + 0.5);
  return n;
}
