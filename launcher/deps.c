/* dependsOn evaluation, stop order and stop codes. Pure; see deps.h. */
#include "deps.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct edge
{
  const char *name; /* as written, for messages */
  size_t target;    /* index in task->containers, or SIZE_MAX when unknown */
  enum sk_dep_condition condition;
};

static size_t
find_index (const struct sk_task *task, const char *name)
{
  for (size_t i = 0; i < task->n_containers; i++)
    if (strcmp (task->containers[i].name, name) == 0)
      return i;
  return SIZE_MAX;
}

/* dependsOn, then links ("name" or "name:alias") and volumesFrom as START. */
static struct edge *
collect_edges (const struct sk_task *task, size_t i, size_t *n_out)
{
  const struct sk_container *c = &task->containers[i];
  size_t cap = c->n_depends_on + c->links.n + c->n_volumes_from, n = 0;
  struct edge *e = xreallocarray (NULL, cap > 0 ? cap : 1, sizeof *e);

  for (size_t d = 0; d < c->n_depends_on; d++)
    e[n++] = (struct edge){ c->depends_on[d].container_name,
                            find_index (task, c->depends_on[d].container_name),
                            c->depends_on[d].condition };
  for (size_t l = 0; l < c->links.n; l++)
    {
      const char *link = c->links.v[l];
      const char *colon = strchr (link, ':');
      _cleanup_free_ char *name = colon ? xstrndup (link, (size_t)(colon - link)) : xstrdup (link);
      size_t target = find_index (task, name);
      /* The edge keeps a pointer into the task: use the container's name. */
      e[n++] = (struct edge){ target != SIZE_MAX ? task->containers[target].name : link, target,
                              SK_DEP_START };
    }
  for (size_t v = 0; v < c->n_volumes_from; v++)
    e[n++] = (struct edge){ c->volumes_from[v].source_container,
                            find_index (task, c->volumes_from[v].source_container), SK_DEP_START };
  *n_out = n;
  return e;
}

enum verdict
{
  V_WAIT,
  V_SATISFIED,
  V_NEVER,
};

static bool
satisfied (const struct sk_container_status *d, enum sk_dep_condition cond)
{
  switch (cond)
    {
    case SK_DEP_START:
      return d->ever_started && (d->state == SK_RUN_RUNNING || d->state == SK_RUN_STOPPED);
    case SK_DEP_COMPLETE:
      return d->state == SK_RUN_STOPPED && d->exit_known;
    case SK_DEP_SUCCESS:
      return d->state == SK_RUN_STOPPED && d->exit_known && d->exit_code == 0;
    case SK_DEP_HEALTHY:
      return d->state == SK_RUN_RUNNING && d->health == SK_HEALTH_HEALTHY;
    }
  return false;
}

/* One edge of a PENDING target. On V_NEVER, *reason gets the agent's text. */
static enum verdict
judge_edge (const struct sk_task *task, const struct sk_container_status *states,
            const char *target, const struct edge *e, uint64_t now_ms, char **reason,
            uint64_t *deadline, bool *has_deadline)
{
  const struct sk_container_status *d;
  const struct sk_container *dc;

  if (e->target == SIZE_MAX)
    {
      *reason = xasprintf ("CannotStartContainerError: dependency graph: container ordering "
                           "dependency [%s] for target [%s] does not exist.",
                           e->name, target);
      return V_NEVER;
    }
  d = &states[e->target];
  dc = &task->containers[e->target];
  if (satisfied (d, e->condition))
    return V_SATISFIED;

  /* The agent's order: timeout, SUCCESS fail-fast, never started. */
  if (d->state == SK_RUN_RUNNING && dc->start_timeout > 0 && e->condition != SK_DEP_START)
    {
      uint64_t due = d->started_ms + (uint64_t)dc->start_timeout * 1000;
      if (now_ms >= due)
        {
          *reason = xasprintf ("CannotStartContainerError: dependency graph: container ordering "
                               "dependency [%s] for target [%s] has timed out.",
                               e->name, target);
          return V_NEVER;
        }
      if (!*has_deadline || due < *deadline)
        *deadline = due, *has_deadline = true;
    }
  if (e->condition == SK_DEP_SUCCESS && d->state == SK_RUN_STOPPED)
    {
      *reason = xasprintf ("CannotStartContainerError: dependency graph: failed to resolve "
                           "container ordering dependency [%s] for target [%s] as dependency "
                           "did not exit successfully.",
                           e->name, target);
      return V_NEVER;
    }
  if (d->state == SK_RUN_STOPPED && !d->ever_started)
    {
      *reason = xasprintf ("CannotStartContainerError: dependency graph: failed to resolve "
                           "container ordering dependency [%s] for target [%s] because "
                           "dependency will never start",
                           e->name, target);
      return V_NEVER;
    }
  if (d->state == SK_RUN_STOPPED)
    {
      /* Ran and stopped without reaching the condition (HEALTHY; COMPLETE
       * with a lost exit status): nothing can satisfy it any more. */
      *reason = xasprintf ("CannotStartContainerError: dependency graph: failed to resolve "
                           "container ordering dependency [%s] for target [%s] because "
                           "dependency stopped without reaching condition %s",
                           e->name, target, sk_dep_condition_name (e->condition));
      return V_NEVER;
    }
  return V_WAIT;
}

void
sk_deps_evaluate (const struct sk_task *task, const struct sk_container_status *states,
                  uint64_t now_ms, struct sk_deps_plan *plan)
{
  size_t n = task->n_containers;
  /* A working copy: containers found blocked are marked stopped (143) so
   * their own dependents are judged in the same call. */
  _cleanup_free_ struct sk_container_status *work
      = xreallocarray (NULL, n > 0 ? n : 1, sizeof *work);
  bool progress = true;

  memset (plan, 0, sizeof *plan);
  plan->n = n;
  plan->may_start = xzalloc ((n > 0 ? n : 1) * sizeof *plan->may_start);
  plan->never_start = xzalloc ((n > 0 ? n : 1) * sizeof *plan->never_start);
  plan->reason = xzalloc ((n > 0 ? n : 1) * sizeof *plan->reason);
  if (n > 0)
    memcpy (work, states, n * sizeof *work);

  while (progress)
    {
      progress = false;
      plan->has_deadline = false;
      for (size_t i = 0; i < n; i++)
        {
          size_t n_edges = 0;
          _cleanup_free_ struct edge *edges = NULL;
          bool all = true;

          if (work[i].state != SK_RUN_PENDING)
            continue;
          edges = collect_edges (task, i, &n_edges);
          plan->may_start[i] = false;
          for (size_t k = 0; k < n_edges; k++)
            {
              char *reason = NULL;
              enum verdict v = judge_edge (task, work, task->containers[i].name, &edges[k], now_ms,
                                           &reason, &plan->deadline_ms, &plan->has_deadline);
              if (v == V_NEVER)
                {
                  plan->never_start[i] = true;
                  plan->reason[i] = reason;
                  work[i].state = SK_RUN_STOPPED;
                  work[i].ever_started = false;
                  work[i].exit_known = true;
                  work[i].exit_code = 143;
                  progress = true;
                  all = false;
                  break;
                }
              if (v == V_WAIT)
                all = false;
            }
          if (all)
            plan->may_start[i] = true;
        }
    }
}

void
sk_deps_plan_clear (struct sk_deps_plan *plan)
{
  if (plan == NULL)
    return;
  for (size_t i = 0; plan->reason != NULL && i < plan->n; i++)
    free (plan->reason[i]);
  free (plan->reason);
  free (plan->may_start);
  free (plan->never_start);
  memset (plan, 0, sizeof *plan);
}

bool
sk_deps_may_stop (const struct sk_task *task, const struct sk_container_status *states,
                  size_t index)
{
  for (size_t i = 0; i < task->n_containers; i++)
    {
      size_t n_edges = 0;
      _cleanup_free_ struct edge *edges = NULL;

      if (i == index || states[i].state != SK_RUN_RUNNING)
        continue;
      edges = collect_edges (task, i, &n_edges);
      for (size_t k = 0; k < n_edges; k++)
        if (edges[k].target == index)
          return false;
    }
  return true;
}

const char *
sk_stop_code (enum sk_stop_cause cause)
{
  switch (cause)
    {
    case SK_STOP_ESSENTIAL_EXITED:
      return "EssentialContainerExited";
    case SK_STOP_FAILED_TO_START:
      return "TaskFailedToStart";
    case SK_STOP_USER_INITIATED:
    case SK_STOP_TIMEOUT:
      return "UserInitiated";
    case SK_STOP_UNHEALTHY:
      return "ServiceSchedulerInitiated";
    }
  return "?";
}

const char *
sk_stopped_reason (enum sk_stop_cause cause)
{
  switch (cause)
    {
    case SK_STOP_ESSENTIAL_EXITED:
      return "Essential container in task exited";
    case SK_STOP_FAILED_TO_START:
      return "Task failed to start";
    case SK_STOP_USER_INITIATED:
      return "Task stopped by user";
    case SK_STOP_UNHEALTHY:
      return "Task failed container health checks";
    case SK_STOP_TIMEOUT:
      return "Job attempt duration exceeded timeout";
    }
  return "?";
}

bool
sk_deps_task_should_stop (const struct sk_task *task, const struct sk_container_status *states,
                          enum sk_stop_cause *cause, size_t *index)
{
  for (size_t i = 0; i < task->n_containers; i++)
    if (task->containers[i].essential && states[i].state == SK_RUN_STOPPED)
      {
        *cause = states[i].ever_started ? SK_STOP_ESSENTIAL_EXITED : SK_STOP_FAILED_TO_START;
        *index = i;
        return true;
      }
  return false;
}
