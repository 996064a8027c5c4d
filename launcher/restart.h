/* Container restart policy: ECS restartPolicy plus the skiff.restart.* labels.
 *
 * Everything here is pure: no I/O, no clock reads, no containers. Time is
 * the caller's monotonic clock in milliseconds (`now_ms`), randomness is a
 * caller-supplied 64-bit value, so a decision is a function of (policy,
 * history, event) and a crash-recovered supervisor reaches the same one.
 * docs/supervision.md describes the algorithm and every default. */
#ifndef SKIFF_RESTART_H
#define SKIFF_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "task.h"

enum sk_restart_mode
{
  SK_RESTART_NEVER = 0,      /* default: neither restartPolicy.enabled nor skiff.restart */
  SK_RESTART_ON_FAILURE,     /* non-zero exit, signal death, OOM */
  SK_RESTART_ALWAYS,         /* any exit */
  SK_RESTART_UNLESS_STOPPED, /* as always; a user stop also survives supervisor recovery */
  SK_RESTART_ECS,            /* restartPolicy.enabled without skiff.restart: any exit */
};

/* Where the mode came from, for messages. */
enum sk_restart_source
{
  SK_RESTART_FROM_NONE = 0,
  SK_RESTART_FROM_ECS,   /* restartPolicy */
  SK_RESTART_FROM_LABEL, /* skiff.restart */
};

enum sk_restart_action
{
  SK_ACTION_NEVER = 0,
  SK_ACTION_RESTART,
};

enum sk_unhealthy_action
{
  SK_UNHEALTHY_NONE = 0,  /* report only */
  SK_UNHEALTHY_RESTART,   /* kill, then decide like a crash (same backoff and budget) */
  SK_UNHEALTHY_STOP_TASK, /* stop the whole task */
};

enum sk_rule_match
{
  SK_MATCH_ANY = 0,   /* "*" */
  SK_MATCH_CODES,     /* "3" or "1-3": the reported exit code (128+n for signal deaths) */
  SK_MATCH_SIGNAL,    /* "SIGSEGV": died from that signal */
  SK_MATCH_OOM,       /* "oom": killed by the OOM killer */
  SK_MATCH_UNHEALTHY, /* "unhealthy": killed because its health check failed */
};

struct sk_restart_rule
{
  enum sk_rule_match match;
  int lo, hi; /* SK_MATCH_CODES, inclusive */
  int signo;  /* SK_MATCH_SIGNAL */
  enum sk_restart_action action;
  bool from_ecs; /* made from restartPolicy.ignoredExitCodes */
  char text[48]; /* canonical "1-3=restart", quoted in reasons */
};

/* The effective policy of one container (the "x" is for "extended"). */
struct sk_restart_policy_x
{
  enum sk_restart_mode mode;
  enum sk_restart_source source;
  uint64_t initial_delay_ms; /* skiff.restart.delay, 1s (ECS mode: 0) */
  double multiplier;         /* skiff.restart.multiplier, 2 */
  uint64_t max_delay_ms;     /* skiff.restart.maxDelay, 60s */
  double jitter;             /* skiff.restart.jitter, 0.2 = +-20 % */
  uint64_t reset_after_ms;   /* skiff.restart.resetAfter, 60s; 0 = never reset */
  uint32_t max_attempts;     /* skiff.restart.maxAttempts, 0 = unlimited */
  uint64_t window_ms;        /* skiff.restart.window, 0 = forever */
  uint64_t min_uptime_ms;    /* ECS restartAttemptPeriod (ECS mode only), 0 = none */
  enum sk_unhealthy_action on_unhealthy;
  size_t n_rules; /* ignoredExitCodes first, then skiff.restart.exitCodes */
  struct sk_restart_rule *rules;
};

/* Limits enforced by the label parser. */
#define SK_RESTART_MAX_ATTEMPTS_LIMIT 100
#define SK_RESTART_MAX_RULES 64

/* Everything the supervisor must remember between decisions, as plain
 * numbers so it serializes as-is (issue 5 persists it). Zero-initialize. */
#define SK_RESTART_RECENT_SLOTS SK_RESTART_MAX_ATTEMPTS_LIMIT
struct sk_restart_history
{
  uint32_t n_starts;       /* starts, first one included */
  uint64_t first_start_ms; /* first start */
  uint64_t last_start_ms;  /* most recent (re)start: uptime is measured from it */
  uint32_t restart_count;  /* restarts decided so far (ECS RestartCount) */
  uint32_t backoff_step;   /* restarts since the last backoff reset; 0 = next delay is initial */
  uint64_t last_delay_ms;  /* delay of the last restart */
  uint32_t n_recent;       /* times of the most recent restarts, oldest first */
  uint64_t recent_ms[SK_RESTART_RECENT_SLOTS];
  bool gave_up;      /* maxAttempts within window was hit */
  bool user_stopped; /* the last stop was a user's (unless-stopped remembers it) */
};

/* One container exit, as the loop saw it. */
struct sk_exit_event
{
  bool exit_known;    /* false: the supervisor lost the status (never restarted, as ECS) */
  int exit_code;      /* when signal == 0 */
  int signal;         /* > 0: killed by this signal; reported code is 128 + signal */
  bool oom;           /* the OOM killer killed it */
  bool unhealthy;     /* skiff killed it because its health check failed */
  bool task_stopping; /* the task is stopping (essential exit, StopTask, Ctrl-C, deadline) */
  bool user_stopped;  /* a user stopped this container explicitly */
};

struct sk_restart_decision
{
  bool restart;
  uint64_t delay_ms;     /* when restart: start again at now_ms + delay_ms */
  uint32_t attempt;      /* when restart: this restart's number within the budget, from 1 */
  uint32_t max_attempts; /* 0 = unlimited */
  uint32_t backoff_step; /* the history's backoff_step after this restart */
  bool backoff_reset;    /* the run lasted resetAfter or longer: back to the initial delay */
  bool gave_up;          /* the attempt budget is spent */
  bool user_stopped;     /* not restarted because a user stopped it */
  const char *trigger;   /* "exit", "signal", "OutOfMemoryError", "health-check-failed", ... */
  char rule[64];         /* rule that chose the action: "1-3=restart", "skiff.restart=always" */
  char reason[512];      /* one line for the event log and `inspect` */
};

/* Reads restartPolicy and the skiff.restart.* labels of c. Unknown skiff.*
 * keys and bad values are errors naming the label, all of them added to
 * diags (a typo must not silently drop a protection). 0, or -1 when diags got
 * an error; *out is then cleared. Free with sk_restart_policy_x_clear(). */
int sk_restart_policy_from_container (const struct sk_container *c, struct sk_restart_policy_x *out,
                                      struct sk_diags *diags);
void sk_restart_policy_x_clear (struct sk_restart_policy_x *p);

/* True when the policy can restart the container at all (an exit or an
 * unhealthy kill). */
bool sk_restart_policy_restarts_anything (const struct sk_restart_policy_x *p);

/* The decision for one exit. random: any 64-bit value, only the jitter uses it. */
struct sk_restart_decision sk_restart_decide (const struct sk_restart_policy_x *p,
                                              const struct sk_restart_history *h,
                                              const struct sk_exit_event *ev, uint64_t now_ms,
                                              uint64_t random);

/* Call when the container (re)starts. */
void sk_restart_history_record_start (struct sk_restart_history *h, uint64_t now_ms);
/* Call with the decision taken for an exit at now_ms. */
void sk_restart_history_record_decision (struct sk_restart_history *h,
                                         const struct sk_restart_decision *d, uint64_t now_ms);

/* After a supervisor restart: may a container that was running (or waiting
 * for its restart) be brought back? False for a user-stopped unless-stopped
 * container and for one that gave up. */
bool sk_restart_resume_allowed (const struct sk_restart_policy_x *p,
                                const struct sk_restart_history *h);

/* The jitter-free delays of the first n restarts of a crash loop (no resets),
 * for `inspect` and the docs. Returns n. */
size_t sk_restart_schedule (const struct sk_restart_policy_x *p, uint64_t *delays_ms, size_t n);

const char *sk_restart_mode_name (enum sk_restart_mode m);
const char *sk_unhealthy_action_name (enum sk_unhealthy_action a);

#endif
