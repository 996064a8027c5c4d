/* dependsOn at run time, pure: which pending containers may start now,
 * which never can (with the ECS agent's reason text), the next startTimeout
 * deadline, the stop order, and the task's stopCode/stoppedReason.
 *
 * Edges: every dependsOn entry, plus START on each `links` target and each
 * volumesFrom source (ecs.md section 5). The graph itself (cycles, unknown
 * names, HEALTHY without a check) is validated by spec/validate.c. */
#ifndef SKIFF_DEPS_H
#define SKIFF_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "task.h"

enum sk_run_state
{
  SK_RUN_PENDING = 0, /* not started yet (waiting for its dependencies) */
  SK_RUN_RUNNING,
  SK_RUN_STOPPED, /* exited, or marked stopped without running (never_started) */
};

/* What the loop knows about one container; states[i] is containers[i]. */
struct sk_container_status
{
  enum sk_run_state state;
  bool ever_started;   /* it ran at some point (false: blocked or failed to start) */
  uint64_t started_ms; /* last start, for the dependency's startTimeout */
  bool exit_known;     /* STOPPED: exit_code is valid */
  int exit_code;       /* 128+n for signal deaths; 143 for a dependency-blocked container */
  enum sk_health_status health;
};

struct sk_deps_plan
{
  size_t n;          /* = task->n_containers */
  bool *may_start;   /* PENDING and every dependency satisfied */
  bool *never_start; /* PENDING and some dependency can never be satisfied */
  char **reason;     /* for never_start: "CannotStartContainerError: dependency graph: ..." */
  bool has_deadline; /* a startTimeout is pending: re-evaluate at deadline_ms */
  uint64_t deadline_ms;
};

/* Evaluate every PENDING container at now_ms. Containers that can never
 * start are propagated within the call: a dependent of one of them is
 * judged as if it had been marked stopped (143) already. Free the plan
 * with sk_deps_plan_clear(). */
void sk_deps_evaluate (const struct sk_task *task, const struct sk_container_status *states,
                       uint64_t now_ms, struct sk_deps_plan *plan);
void sk_deps_plan_clear (struct sk_deps_plan *plan);

/* Stop order: containers[index] may be signalled only when no container
 * that depends on it (explicitly or through links/volumesFrom) is RUNNING. */
bool sk_deps_may_stop (const struct sk_task *task, const struct sk_container_status *states,
                       size_t index);

/* Why a task stops. */
enum sk_stop_cause
{
  SK_STOP_ESSENTIAL_EXITED
  = 0,                     /* EssentialContainerExited / "Essential container in task exited" */
  SK_STOP_FAILED_TO_START, /* TaskFailedToStart */
  SK_STOP_USER_INITIATED,  /* UserInitiated: Ctrl-C, SIGTERM, `skiff stop` */
  SK_STOP_UNHEALTHY,       /* onUnhealthy=stop-task */
  SK_STOP_TIMEOUT,         /* --timeout / attempt duration */
};

const char *sk_stop_code (enum sk_stop_cause cause);
/* The default stoppedReason text of a cause. */
const char *sk_stopped_reason (enum sk_stop_cause cause);

/* Should the task stop now? True when an essential container is STOPPED
 * (and the restart policy did not swallow the exit, which the caller
 * reflects by not marking it STOPPED). *cause is FAILED_TO_START when that
 * container never ran, else ESSENTIAL_EXITED; *index is the container. */
bool sk_deps_task_should_stop (const struct sk_task *task, const struct sk_container_status *states,
                               enum sk_stop_cause *cause, size_t *index);

#endif
