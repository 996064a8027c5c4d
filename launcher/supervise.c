/* The supervisor of one task attempt. States of a container:
 *
 *   PENDING --deps satisfied--> RUNNING --exit--> (restart policy)
 *      |                          ^   |             | restart: BACKOFF
 *      | never satisfiable        |   |             v          |
 *      v                          |   |          STOPPED  <----+ (task stopping)
 *   STOPPED (143, reason)         +---+-- restart_at reached --+
 *
 * For dependsOn a container in BACKOFF counts as RUNNING: ECS swallows a
 * restarted exit before the container is marked STOPPED. The task stops
 * when an essential container is STOPPED, on a signal, on --timeout, or on
 * an unhealthy essential container with onUnhealthy=stop-task. Stopping
 * walks the dependency graph backwards: a container is signalled only when
 * none of its dependents still runs. */
#include "supervise.h"
#include "cgroup.h"
#include "container.h"
#include "health.h"
#include "monitor.h"
#include "probe.h"
#include "pty.h"
#include "restart.h"
#include "sandbox.h"
#include "state.h"
#include "task_userns.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervise_internal.h"

uint64_t
sk_monotonic_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
sup_random_u64 (void)
{
  uint64_t r = 0;
  if (getrandom (&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
    r = sk_monotonic_ms () * 0x9e3779b97f4a7c15ULL;
  return r;
}

const char *
sup_name_of (const struct sup *s, size_t i)
{
  return s->task->containers[i].name;
}

void
sup_watch_fd (struct sup *s, int fd, uint64_t tag)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
  if (fd >= 0)
    epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void
sup_unwatch_fd (struct sup *s, int fd)
{
  if (fd >= 0)
    epoll_ctl (s->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- events -------------------------------------------------------------- */

void
sup_note (struct sup *s, size_t i, const char *text)
{
  if (s->v[i].log != NULL)
    sk_log_sink_note (s->v[i].log, text, sk_log_now ());
}

/* ---- starting -------------------------------------------------------------- */

static void
start_container (struct sup *s, size_t i, uint64_t now)
{
  struct sup_ctr *sc = &s->v[i];
  sk_err_t err = NULL;
  struct sk_jw w;

  if (sup_open_log_pipes (s, i, &err) < 0 || sk_ctr_start (&sc->c, &err) < 0)
    {
      sup_close_container_ends (sc);
      _cleanup_free_ char *text = sk_err_text (&err);
      int code = err != NULL && err->exitcode != 0 ? err->exitcode : 125;
      sk_err_free (&err);
      s->st[i].state = SK_RUN_STOPPED;
      s->st[i].exit_known = code != 125;
      s->st[i].exit_code = code;
      free (sc->c.reason);
      sc->c.reason = xasprintf ("CannotStartContainerError: %s", text);
      sk_event_begin (s->env->events, &w, sup_name_of (s, i), "start-failed");
      sk_jw_kv_string (&w, "reason", sc->c.reason);
      sk_jw_kv_int (&w, "exitCode", code);
      sk_event_end (s->env->events, &w, "container %s: %s", sup_name_of (s, i), text);
      if (s->task->containers[i].essential)
        sup_stop_task (s, SK_STOP_FAILED_TO_START, i);
      return;
    }
  sup_close_container_ends (sc);
  /* Timers (startTimeout of dependents, resetAfter, health intervals) count
   * from the moment the command runs, not from when its set-up began. */
  now = sk_monotonic_ms ();
  sup_watch_fd (s, sc->c.pidfd, WATCH (W_EXIT, i));
  s->last_activity_ms = now;
  s->st[i].state = SK_RUN_RUNNING;
  s->st[i].ever_started = true;
  s->st[i].started_ms = now;
  s->st[i].exit_known = false;
  s->st[i].health = SK_HEALTH_UNKNOWN;
  sk_health_reset (&sc->health);
  sc->backoff = false;
  sc->stop_sent = sc->killed = sc->unhealthy_kill = false;
  sc->kill_at = 0;
  sk_restart_history_record_start (&sc->history, now);
  sc->adopted = false;
  sc->pid_start = sk_proc_start_time (sc->c.pid);
  sc->started_at_ns = sk_realtime_ns ();
  sc->stopped_at_ns = 0;
  sup_observe (s); /* the pid is on disk before anything else can happen */
  sc->next_probe_at
      = s->task->containers[i].health_check.present
            ? sk_health_next_probe_ms (&sc->health, &s->task->containers[i].health_check, now)
            : 0;
  sk_event_begin (s->env->events, &w, sup_name_of (s, i), "started");
  sk_jw_kv_int (&w, "pid", sc->c.pid);
  sk_jw_kv_uint (&w, "startCount", sc->history.n_starts);
  sk_event_end (s->env->events, &w,
                sc->history.n_starts > 1 ? "container %s: restarted (start %u)" : NULL,
                sup_name_of (s, i), sc->history.n_starts);
}

/* One pass of schedule(); true when it started a container. */
static bool
schedule_once (struct sup *s, uint64_t now, uint64_t *deps_deadline)
{
  struct sk_deps_plan plan;
  bool started = false;

  *deps_deadline = 0;
  if (s->stopping)
    return false;
  sk_deps_evaluate (s->task, s->st, now, &plan);
  for (size_t i = 0; i < s->n && !s->stopping; i++)
    {
      if (plan.never_start[i] && s->st[i].state == SK_RUN_PENDING)
        {
          struct sk_jw w;
          s->st[i].state = SK_RUN_STOPPED;
          s->st[i].exit_known = true;
          s->st[i].exit_code = 143; /* what the ECS agent reports for a blocked container */
          free (s->v[i].c.reason);
          s->v[i].c.reason = xstrdup (plan.reason[i] ? plan.reason[i] : "dependency failed");
          sk_event_begin (s->env->events, &w, sup_name_of (s, i), "dependency-failed");
          sk_jw_kv_string (&w, "reason", s->v[i].c.reason);
          sk_event_end (s->env->events, &w, "container %s: not started: %s", sup_name_of (s, i),
                        s->v[i].c.reason);
          if (s->task->containers[i].essential)
            sup_stop_task (s, SK_STOP_FAILED_TO_START, i);
        }
    }
  for (size_t i = 0; i < s->n && !s->stopping; i++)
    if (plan.may_start[i] && s->st[i].state == SK_RUN_PENDING)
      {
        start_container (s, i, now);
        started = true;
      }
  if (plan.has_deadline)
    *deps_deadline = plan.deadline_ms;
  sk_deps_plan_clear (&plan);
  return started;
}

/* Start what dependsOn allows; mark what it never will. A start can satisfy
 * a START dependency at once, and nothing else may wake the loop (a silent
 * dependency): evaluate again until nothing more starts. */
static void
schedule (struct sup *s, uint64_t now, uint64_t *deps_deadline)
{
  for (size_t round = 0; round <= s->n; round++)
    if (!schedule_once (s, now, deps_deadline))
      break;
}

/* ---- stopping -------------------------------------------------------------- */

static void
signal_container (struct sup *s, size_t i, int sig)
{
  if (s->v[i].c.pidfd >= 0)
    syscall (SYS_pidfd_send_signal, s->v[i].c.pidfd, sig, NULL, 0);
}

static void
kill_container (struct sup *s, size_t i, const char *why)
{
  struct sup_ctr *sc = &s->v[i];
  sk_err_t err = NULL;
  struct sk_jw w;

  sc->killed = true;
  sk_event_begin (s->env->events, &w, sup_name_of (s, i), "kill");
  sk_jw_kv_string (&w, "reason", why);
  sk_event_end (s->env->events, &w, "container %s %s: SIGKILL to its cgroup", sup_name_of (s, i),
                why);
  /* The whole cgroup: nothing of the container may linger. */
  if (sk_cgroup_kill_all (sc->c.cgroup, &err) < 0)
    {
      sk_err_free (&err);
      signal_container (s, i, SIGKILL);
    }
}

static void
send_stop (struct sup *s, size_t i, uint64_t now)
{
  struct sup_ctr *sc = &s->v[i];
  struct sk_jw w;

  sc->stop_sent = true;
  sc->kill_at = now + (uint64_t)s->task->containers[i].stop_timeout * 1000;
  signal_container (s, i, sc->c.stop_signal);
  sk_event_begin (s->env->events, &w, sup_name_of (s, i), "stop");
  sk_jw_kv_string (&w, "signal", sigabbrev_np (sc->c.stop_signal));
  sk_jw_kv_uint (&w, "stopTimeout", s->task->containers[i].stop_timeout);
  sk_event_end (s->env->events, &w, NULL);
}

/* Signal every running container none of whose dependents still runs. */
void
sup_advance_stop (struct sup *s, uint64_t now)
{
  for (size_t i = 0; i < s->n; i++)
    {
      struct sup_ctr *sc = &s->v[i];
      if (s->st[i].state == SK_RUN_PENDING)
        {
          s->st[i].state = SK_RUN_STOPPED;
          continue;
        }
      if (sc->backoff)
        {
          /* A pending restart is cancelled by the task's stop. */
          sc->backoff = false;
          s->st[i].state = SK_RUN_STOPPED;
          continue;
        }
      if (s->st[i].state != SK_RUN_RUNNING || sc->stop_sent)
        continue;
      if (s->force_kill || sk_deps_may_stop (s->task, s->st, i))
        send_stop (s, i, now);
    }
}

void
sup_stop_task (struct sup *s, enum sk_stop_cause cause, size_t by)
{
  struct sk_jw w;

  if (s->stopping)
    return;
  s->stopping = true;
  s->cause = cause;
  s->ended_by = by;
  sk_event_begin (s->env->events, &w, by < s->n ? sup_name_of (s, by) : NULL, "task-stopping");
  sk_jw_kv_string (&w, "stopCode", sk_stop_code (cause));
  sk_jw_kv_string (&w, "stoppedReason", sk_stopped_reason (cause));
  /* Only what the user cannot tell otherwise: a failed start already said
   * why in its own line, a signal in its own; one container's exit is
   * skiff's exit code. */
  bool say = cause == SK_STOP_TIMEOUT || cause == SK_STOP_UNHEALTHY
             || (cause == SK_STOP_ESSENTIAL_EXITED && s->n > 1);
  if (cause == SK_STOP_TIMEOUT)
    sk_event_end (s->env->events, &w, "--timeout reached: stopping the task");
  else if (say && by < s->n)
    sk_event_end (s->env->events, &w, "stopping the task (%s: %s)", sk_stop_code (cause),
                  sup_name_of (s, by));
  else
    sk_event_end (s->env->events, &w, NULL);
  sup_advance_stop (s, sk_monotonic_ms ());
}

/* ---- health ---------------------------------------------------------------- */

static void
apply_probe_result (struct sup *s, size_t i, const struct sk_probe_result *pr, uint64_t now)
{
  struct sup_ctr *sc = &s->v[i];
  const struct sk_container *def = &s->task->containers[i];
  struct sk_probe_result r = *pr;
  struct sk_health_change ch;
  struct sk_jw w;

  ch = sk_health_on_result (&sc->health, &def->health_check, &r, now, s->st[i].started_ms);
  s->st[i].health = ch.status;
  sc->next_probe_at
      = sk_health_next_probe_ms (&sc->health, &def->health_check, s->st[i].started_ms);
  if (!ch.changed)
    return;
  sk_event_begin (s->env->events, &w, sup_name_of (s, i), "health");
  sk_jw_kv_string (&w, "status", sk_health_status_name (ch.status));
  sk_jw_kv_string (&w, "previous", sk_health_status_name (ch.previous));
  sk_jw_kv_int (&w, "exitCode", r.exit_code);
  sk_jw_kv_bool (&w, "timedOut", r.timed_out);
  sk_jw_key (&w, "output");
  sk_jw_string_n (&w, r.output ? r.output : "", r.output ? r.output_len : 0);
  sk_event_end (s->env->events, &w, "container %s is %s", def->name,
                sk_health_status_name (ch.status));
  if (ch.status != SK_HEALTH_UNHEALTHY || s->stopping)
    return;
  switch (sc->policy.on_unhealthy)
    {
    case SK_UNHEALTHY_RESTART:
      sc->unhealthy_kill = true;
      send_stop (s, i, now);
      break;
    case SK_UNHEALTHY_STOP_TASK:
      if (def->essential)
        sup_stop_task (s, SK_STOP_UNHEALTHY, i);
      else
        {
          sc->unhealthy_kill = true;
          send_stop (s, i, now);
        }
      break;
    case SK_UNHEALTHY_NONE:
    default:
      break;
    }
}

static void
on_probe_done (struct sup *s, size_t i, uint64_t now)
{
  struct sk_probe_result r;

  if (sk_probe_finish (&s->v[i].probe, now, &r))
    apply_probe_result (s, i, &r, now);
}

static void
start_probe (struct sup *s, size_t i, uint64_t now)
{
  struct sup_ctr *sc = &s->v[i];
  const struct sk_container *def = &s->task->containers[i];
  sk_err_t err = NULL;

  sc->next_probe_at = 0;
  if (sk_probe_start (&sc->probe, &sc->c, &def->health_check, now, &err) < 0)
    {
      /* A probe that cannot even start is a failed probe, with the same
       * events and the same onUnhealthy handling as any other. */
      _cleanup_free_ char *text = sk_err_text (&err);
      struct sk_probe_result r
          = { .start_ms = now, .exit_code = -1, .output = text, .output_len = strlen (text) };
      sk_err_free (&err);
      apply_probe_result (s, i, &r, now);
      return;
    }
  sup_watch_fd (s, sc->probe.pidfd, WATCH (W_PROBE_EXIT, i));
  sup_watch_fd (s, sc->probe.out_fd, WATCH (W_PROBE_OUT, i));
  s->last_activity_ms = now;
}

/* ---- timers ---------------------------------------------------------------- */

static uint64_t
earliest (uint64_t a, uint64_t b)
{
  if (a == 0)
    return b;
  if (b == 0)
    return a;
  return a < b ? a : b;
}

static void
on_timers (struct sup *s, uint64_t now)
{
  if (!s->stopping && s->env->deadline_ms != 0 && now >= s->env->deadline_ms)
    sup_stop_task (s, SK_STOP_TIMEOUT, SIZE_MAX);
  for (size_t i = 0; i < s->n; i++)
    {
      struct sup_ctr *sc = &s->v[i];
      if (sc->backoff && !s->stopping && now >= sc->restart_at)
        start_container (s, i, now);
      if (sc->stop_sent && !sc->killed && s->st[i].state == SK_RUN_RUNNING && !sc->backoff
          && now >= sc->kill_at)
        kill_container (s, i, "did not stop within its stopTimeout");
      if (sc->probe.pid > 0 && now >= sc->probe.deadline_ms)
        sk_probe_timeout (&sc->probe);
      if (sc->next_probe_at != 0 && now >= sc->next_probe_at && sc->probe.pid <= 0
          && s->st[i].state == SK_RUN_RUNNING && !sc->backoff && !s->stopping)
        start_probe (s, i, now);
    }
}

/* The earliest moment the loop has something to do without an event. */
static uint64_t
next_deadline (const struct sup *s, uint64_t deps_deadline)
{
  uint64_t at = deps_deadline;

  if (!s->stopping)
    at = earliest (at, s->env->deadline_ms);
  for (size_t i = 0; i < s->n; i++)
    {
      const struct sup_ctr *sc = &s->v[i];
      if (sc->backoff && !s->stopping)
        at = earliest (at, sc->restart_at ? sc->restart_at : 1);
      if (sc->stop_sent && !sc->killed && !sc->backoff && s->st[i].state == SK_RUN_RUNNING)
        at = earliest (at, sc->kill_at ? sc->kill_at : 1);
      if (sc->probe.pid > 0 && !sc->probe.timed_out)
        at = earliest (at, sc->probe.deadline_ms);
      if (sc->next_probe_at != 0 && !s->stopping)
        at = earliest (at, sc->next_probe_at);
    }
  return at;
}

static void
arm_timer (struct sup *s, uint64_t at)
{
  struct itimerspec its;

  memset (&its, 0, sizeof its);
  if (at != 0)
    {
      its.it_value.tv_sec = (time_t)(at / 1000);
      its.it_value.tv_nsec = (long)(at % 1000) * 1000000L;
    }
  timerfd_settime (s->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- hibernation ------------------------------------------------------------ */

/* Nothing in flight that only this process can carry on: no container
 * starting or waiting on dependsOn, no probe, no stop, no unread output.
 * What is left are deadlines (restarts, probes, --timeout), which the
 * monitor keeps, and events it watches (exits, output, requests). */
static bool
quiet (const struct sup *s)
{
  /* The holder of a shared pid namespace would die with us. */
  if (s->stopping || s->sb.holder > 0)
    return false;
  for (size_t i = 0; i < s->n; i++)
    {
      const struct sup_ctr *sc = &s->v[i];
      bool running = s->st[i].state == SK_RUN_RUNNING && !sc->backoff;

      if (s->st[i].state == SK_RUN_PENDING || sc->probe.pid > 0)
        return false;
      if (running && (sc->stop_sent || sc->c.pidfd < 0))
        return false;
      /* A pty master waits in the monitor's store unwatched: its output
       * would stall, so a terminal keeps its supervisor awake. */
      if (running && s->task->containers[i].pseudo_terminal)
        return false;
      for (int stream = SK_LOG_STDOUT; sc->log != NULL && stream <= SK_LOG_STDERR; stream++)
        {
          int fd = sk_log_fd (sc->log, stream), unread = 0;
          if (fd >= 0 && ioctl (fd, FIONREAD, &unread) == 0 && unread > 0)
            return false;
        }
    }
  return true;
}

/* Leave the task to the monitor: state.json holds every schedule, the
 * monitor the earliest deadline. False when the monitor cannot be told (we
 * then stay awake for good). */
static bool
hibernate (struct sup *s, uint64_t wake_at)
{
  sk_err_t err = NULL;

  s->hibernating = true;
  s->wake_at_ms = wake_at;
  sup_observe (s);
  if (sk_monitor_hibernate (wake_at, &err) < 0)
    {
      sk_err_free (&err);
      s->hibernate_ms = 0;
      s->hibernating = false;
      s->wake_at_ms = 0;
      sup_observe (s);
      return false;
    }
  s->hibernated = true;
  return true;
}

/* ---- signals ---------------------------------------------------------------- */

static void
on_signal (struct sup *s, uint64_t now)
{
  struct signalfd_siginfo si;

  while (read (s->env->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
    {
      struct sk_jw w;
      int sig = (int)si.ssi_signo;

      sk_event_begin (s->env->events, &w, NULL, "signal");
      sk_jw_kv_string (&w, "signal", sigabbrev_np (sig));
      sk_event_end (s->env->events, &w, "received SIG%s%s", sigabbrev_np (sig),
                    s->stopping ? ", killing everything now" : "");
      if (!s->stopping)
        {
          s->signal = sig;
          sup_stop_task (s, SK_STOP_USER_INITIATED, SIZE_MAX);
        }
      else
        {
          /* A second Ctrl-C means now, as docker compose does. A task
           * already stopping for another cause was still interrupted: its
           * exit code must say so (never 0). */
          if (s->signal == 0)
            s->signal = sig;
          s->force_kill = true;
          sup_advance_stop (s, now);
          for (size_t i = 0; i < s->n; i++)
            if (s->st[i].state == SK_RUN_RUNNING && !s->v[i].backoff && !s->v[i].killed)
              kill_container (s, i, "stop requested again");
        }
    }
}

/* ---- the loop ---------------------------------------------------------------- */

static bool
all_stopped (const struct sup *s)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->st[i].state != SK_RUN_STOPPED)
      return false;
  return true;
}

static void
loop (struct sup *s)
{
  uint64_t deps_deadline = 0;

  sup_resume (s, sk_monotonic_ms ());
  schedule (s, sk_monotonic_ms (), &deps_deadline);
  sup_observe (s);
  s->last_activity_ms = sk_monotonic_ms ();
  while (!all_stopped (s))
    {
      struct epoll_event evs[16];
      uint64_t at = next_deadline (s, deps_deadline);
      int n;

      if (s->hibernate_ms != 0 && quiet (s))
        {
          uint64_t idle_until = s->last_activity_ms + s->hibernate_ms;
          uint64_t t = sk_monotonic_ms ();
          /* Not for a deadline about to come: waking costs more. */
          if (t >= idle_until && (at == 0 || at > t + s->hibernate_ms / 2) && hibernate (s, at))
            return;
          at = earliest (at, idle_until);
        }
      arm_timer (s, at);
      n = epoll_wait (s->epfd, evs, 16, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          /* Cannot watch any more: nothing may run unsupervised. */
          for (size_t i = 0; i < s->n; i++)
            if (s->v[i].c.pidfd >= 0)
              {
                kill_container (s, i, "lost its supervisor's event loop");
                waitid (P_PIDFD, (id_t)s->v[i].c.pidfd, &(siginfo_t){ 0 }, WEXITED);
              }
          for (size_t i = 0; i < s->n; i++)
            s->st[i].state = SK_RUN_STOPPED;
          return;
        }
      uint64_t now = sk_monotonic_ms ();
      for (int k = 0; k < n; k++)
        {
          uint64_t tag = evs[k].data.u64;
          size_t i = WATCH_IDX (tag);
          if (WATCH_KIND (tag) != W_TIMER)
            s->last_activity_ms = now;
          switch (WATCH_KIND (tag))
            {
            case W_SIGNAL:
              on_signal (s, now);
              break;
            case W_TIMER:
              {
                uint64_t expirations;
                if (read (s->timerfd, &expirations, sizeof expirations) < 0)
                  (void)0;
                on_timers (s, now);
                break;
              }
            case W_EXIT:
              sup_on_exit_of (s, i, now);
              break;
            case W_LOG_OUT:
            case W_LOG_ERR:
              {
                int stream = WATCH_KIND (tag) == W_LOG_OUT ? SK_LOG_STDOUT : SK_LOG_STDERR;
                int fd = sk_log_fd (s->v[i].log, stream);
                if (fd < 0)
                  break;
                if (sk_log_sink_drain (s->v[i].log, stream, sk_log_now ()) != 0)
                  sup_unwatch_fd (s, fd); /* closed by the drain: already gone from epoll */
                break;
              }
            case W_PROBE_OUT:
              if (sk_probe_read (&s->v[i].probe) != 0)
                sup_unwatch_fd (s, s->v[i].probe.out_fd);
              break;
            case W_PROBE_EXIT:
              sup_unwatch_fd (s, s->v[i].probe.pidfd);
              sup_unwatch_fd (s, s->v[i].probe.out_fd);
              on_probe_done (s, i, now);
              break;
            case W_TTY:
              sk_task_tty_dispatch (s->tty);
              break;
            }
        }
      schedule (s, now, &deps_deadline);
      sup_observe (s);
    }
  sup_observe (s);
}

int
sk_supervise_attempt (const struct sk_attempt_env *env, struct sk_attempt_outcome *out,
                      sk_err_t *err)
{
  struct sup s;
  struct sk_jw w;
  int ret = -1;

  memset (&s, 0, sizeof s);
  s.env = env;
  s.task = env->req->task;
  s.n = s.task->n_containers;
  s.ended_by = SIZE_MAX;
  s.sb.netns = s.sb.utsns = s.sb.ipcns = s.sb.pidns = s.sb.holder_pidfd = -1;
  s.v = xzalloc (s.n * sizeof *s.v);
  s.st = xzalloc (s.n * sizeof *s.st);
  for (size_t i = 0; i < s.n; i++)
    {
      s.v[i].c.seccomp_fd = -1;
      s.v[i].c.pidfd = -1;
      sk_probe_init (&s.v[i].probe);
    }
  sk_log_opts_init (&s.log_opts);
  /* Like `docker run` for one container (output passes through as is) and
   * `docker compose` for several (each line says whose it is). */
  s.log_opts.prefix = env->req->prefix > 0 || (env->req->prefix == 0 && s.n > 1);
  s.log_opts.name_width = sk_log_name_width (s.task);

  s.epfd = epoll_create1 (EPOLL_CLOEXEC);
  s.timerfd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (s.epfd < 0 || s.timerfd < 0)
    {
      sk_err_set (err, errno, "epoll/timerfd");
      goto out;
    }
  sup_watch_fd (&s, env->sigfd, WATCH (W_SIGNAL, 0));
  sup_watch_fd (&s, s.timerfd, WATCH (W_TIMER, 0));

  for (size_t i = 0; i < s.n && s.tty == NULL; i++)
    if (s.task->containers[i].pseudo_terminal)
      {
        if (sk_task_tty_new (s.n, !env->req->detached, &s.tty, err) < 0)
          goto out;
        sup_watch_fd (&s, sk_task_tty_fd (s.tty), WATCH (W_TTY, 0));
      }
  if (env->req->detached)
    s.hibernate_ms = sk_monitor_hibernate_ms ();
  if (sup_prepare (&s, err) < 0)
    goto out;
  loop (&s);
  if (s.hibernated)
    {
      memset (out, 0, sizeof *out);
      out->hibernated = true;
      ret = 0;
      goto out;
    }
  sup_fill_outcome (&s, out);
  sk_event_begin (env->events, &w, s.ended_by < s.n ? sup_name_of (&s, s.ended_by) : NULL,
                  "task-stopped");
  sk_jw_kv_string (&w, "stopCode", sk_stop_code (s.cause));
  sk_jw_kv_string (&w, "stoppedReason", out->stopped_reason);
  sk_jw_kv_int (&w, "exitCode", out->exit_code);
  sk_jw_key (&w, "containers");
  sk_jw_begin_array (&w);
  for (size_t i = 0; i < s.n; i++)
    {
      sk_jw_begin_object (&w);
      sk_jw_kv_string (&w, "name", sup_name_of (&s, i));
      if (s.st[i].exit_known)
        sk_jw_kv_int (&w, "exitCode", s.st[i].exit_code);
      else
        sk_jw_kv_string (&w, "exitCode", NULL);
      sk_jw_kv_string (&w, "reason", s.v[i].c.reason);
      sk_jw_kv_uint (&w, "restartCount", s.v[i].history.restart_count);
      sk_jw_kv_string (&w, "healthStatus", sk_health_status_name (s.st[i].health));
      sk_jw_end_object (&w);
    }
  sk_jw_end_array (&w);
  sk_event_end (env->events, &w, NULL);
  ret = 0;
out:
  sup_teardown (&s);
  sk_task_tty_free (s.tty);
  return ret;
}
