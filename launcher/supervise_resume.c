/* Detached tasks: the state a supervisor that may be killed leaves for the
 * next one (sup_observe), and how the next one takes over (sup_resume). The
 * design: docs/architecture.md, "Crash safety". */
#include "cgroup.h"
#include "events.h"
#include "monitor.h"
#include "start_record.h"
#include "supervise_internal.h"
#include "task_userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Report the state: the caller writes it (state.json) whenever it changed,
 * so a resumed supervisor continues from the last decision. */
void
sup_observe (struct sup *s)
{
  struct sk_task_record *r = &s->rec;

  if (s->env->req->observe == NULL)
    return;
  if (r->c == NULL)
    {
      r->c = xzalloc (s->n * sizeof *r->c);
      r->n = s->n;
    }
  r->attempt = s->env->attempt;
  r->stopping = s->stopping;
  r->cause = (int)s->cause;
  r->ended_by = s->ended_by < s->n ? (long)s->ended_by : -1;
  r->signal = s->signal;
  r->deadline_ms = s->env->deadline_ms;
  r->hibernating = s->hibernating;
  r->wake_at_ms = s->wake_at_ms;
  for (size_t i = 0; i < s->n; i++)
    {
      struct sk_ctr_record *c = &r->c[i];
      struct sup_ctr *sc = &s->v[i];
      bool running = s->st[i].state == SK_RUN_RUNNING && !sc->backoff;

      c->name = (char *)sup_name_of (s, i);
      c->state = (int)s->st[i].state;
      c->ever_started = s->st[i].ever_started;
      c->backoff = sc->backoff;
      c->pid = running ? sc->c.pid : 0;
      c->pid_start = running ? sc->pid_start : 0;
      c->exit_known = s->st[i].exit_known;
      c->exit_code = s->st[i].exit_code;
      c->reason = sc->c.reason;
      c->health = (int)s->st[i].health;
      c->history = sc->history;
      c->started_ms = s->st[i].started_ms;
      c->restart_at_ms = sc->restart_at;
      c->stop_sent = sc->stop_sent;
      c->killed = sc->killed;
      c->unhealthy_kill = sc->unhealthy_kill;
      c->kill_at_ms = sc->kill_at;
      c->started_at_ns = sc->started_at_ns;
      c->stopped_at_ns = sc->stopped_at_ns;
      c->next_probe_ms = sc->next_probe_at;
      c->last_probe_end_ms = sc->health.last_probe_end_ms;
      c->health_failures = sc->health.consecutive_failures;
      c->health_passed_once = sc->health.passed_once;
    }
  s->env->req->observe (s->env->req->observe_ctx, r);
}

static const struct sk_ctr_record *
resumed_record (const struct sup *s, size_t i)
{
  const struct sk_task_record *r = s->env->resume;

  for (size_t k = 0; k < r->n; k++)
    if (r->c[k].name != NULL && strcmp (r->c[k].name, sup_name_of (s, i)) == 0)
      return &r->c[k];
  return NULL;
}

/* The task's shared namespaces are those its running containers are in. */
static void
rejoin_namespaces (struct sup *s, pid_t pid, uint64_t start)
{
  /* With --userns the user namespace too: the others belong to it. */
  static const char *const names[] = { "net", "uts", "ipc", "user" };
  int *slots[] = { &s->sb.netns, &s->sb.utsns, &s->sb.ipcns, &s->sb.userns };

  for (size_t k = 0; k < SK_ARRAY_SIZE (names); k++)
    {
      if (*slots[k] < 0)
        continue;
      _cleanup_free_ char *path = xasprintf ("/proc/%d/ns/%s", (int)pid, names[k]);
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (sk_proc_start_time (pid) != start)
        {
          close (fd);
          return;
        }
      close (*slots[k]);
      *slots[k] = fd;
    }
  for (size_t i = 0; i < s->n; i++)
    {
      s->v[i].c.spec.join_netns = s->sb.netns;
      s->v[i].c.spec.join_utsns = s->sb.utsns;
      s->v[i].c.spec.join_ipcns = s->sb.ipcns;
      if (s->sb.has_userns)
        s->v[i].c.spec.userns_fd = s->sb.userns;
    }
}

static void
reattach_logs (struct sup *s, size_t i)
{
  struct sup_ctr *sc = &s->v[i];
  sk_err_t err = NULL;

  if (sup_pty_reattach (s, i))
    return;
  for (int stream = SK_LOG_STDOUT; stream <= SK_LOG_STDERR; stream++)
    {
      int end = -1;
      if (sk_log_sink_pipe (sc->log, stream, &end, &err) < 0)
        {
          sk_err_free (&err);
          continue;
        }
      close (end);
      if (sup_fifo_swap (s, i, stream, NULL, &err) < 0)
        sk_err_free (&err);
      sup_watch_fd (s, sk_log_fd (sc->log, stream),
                    WATCH (stream == SK_LOG_STDOUT ? W_LOG_OUT : W_LOG_ERR, i));
    }
}

/* Continue from the state a killed supervisor left: running containers are
 * adopted by pid + start time + boot id (never by pid alone), pending
 * restarts, stop deadlines and health checks keep their recorded absolute
 * (monotonic) times, and exits that happened meanwhile are decided once. */
void
sup_resume (struct sup *s, uint64_t now)
{
  const struct sk_task_record *r = s->env->resume;
  char boot[40];
  bool same_boot;
  struct sk_jw w;

  /* Starts a killed predecessor made but never recorded (start_record.h). */
  sk_start_records_resume (s);
  if (r == NULL)
    return;
  sk_boot_id (boot);
  same_boot = strcmp (boot, r->boot_id) == 0;
  /* A wake-up, not a crash: nothing to report but what happened since. */
  s->woken = r->hibernating && sk_monitor_waking ();
  if (r->stopping)
    {
      s->stopping = true;
      s->cause = (enum sk_stop_cause)r->cause;
      s->ended_by = r->ended_by >= 0 && (size_t)r->ended_by < s->n ? (size_t)r->ended_by : SIZE_MAX;
      s->signal = r->signal;
    }
  for (size_t i = 0; i < s->n; i++)
    {
      const struct sk_ctr_record *c = resumed_record (s, i);
      const struct sk_container *def = &s->task->containers[i];
      struct sup_ctr *sc = &s->v[i];

      if (c == NULL)
        continue;
      sc->history = c->history;
      s->st[i].ever_started = c->ever_started;
      s->st[i].started_ms = c->started_ms;
      s->st[i].health = (enum sk_health_status)c->health;
      sc->health.status = s->st[i].health;
      sc->health.consecutive_failures = c->health_failures;
      sc->health.passed_once = c->health_passed_once;
      sc->health.last_probe_end_ms = c->last_probe_end_ms;
      sc->started_at_ns = c->started_at_ns;
      sc->stopped_at_ns = c->stopped_at_ns;
      free (sc->c.reason);
      sc->c.reason = c->reason != NULL ? xstrdup (c->reason) : NULL;
      s->st[i].state = (enum sk_run_state)c->state;
      s->st[i].exit_known = c->exit_known;
      s->st[i].exit_code = c->exit_code;
      if (c->state != SK_RUN_RUNNING)
        continue;
      if (c->backoff)
        {
          sc->backoff = true;
          sc->restart_at = c->restart_at_ms;
          continue;
        }
      sc->stop_sent = c->stop_sent;
      sc->killed = c->killed;
      sc->unhealthy_kill = c->unhealthy_kill;
      sc->kill_at = c->kill_at_ms;
      sc->adopted = true;
      sc->c.pid = c->pid;
      sc->pid_start = c->pid_start;
      sc->c.pidfd = same_boot ? sk_pidfd_open_verified (c->pid, c->pid_start) : -1;
      if (sc->c.pidfd < 0)
        {
          /* It ended while nobody read its output: what it wrote last is
           * still in the FIFOs and is logged before its exit. */
          if (same_boot)
            reattach_logs (s, i);
          continue;
        }
      rejoin_namespaces (s, c->pid, c->pid_start);
      sup_watch_fd (s, sc->c.pidfd, WATCH (W_EXIT, i));
      reattach_logs (s, i);
      /* A probe due at T stays due at T; one a killed predecessor had
       * running (none recorded) is due now. */
      if (def->health_check.present && !sc->stop_sent)
        sc->next_probe_at
            = c->next_probe_ms != 0
                  ? c->next_probe_ms
                  : sk_health_next_probe_ms (&sc->health, &def->health_check, s->st[i].started_ms);
      if (s->woken)
        continue;
      sk_event_begin (s->env->events, &w, sup_name_of (s, i), "adopted");
      sk_jw_kv_int (&w, "pid", c->pid);
      sk_event_end (s->env->events, &w, NULL);
    }
  /* Exits nobody watched: decided now, once (the state is written before
   * the next decision can happen). */
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].adopted && s->v[i].c.pidfd < 0)
      {
        sup_on_exit_of (s, i, now);
      }
}
