/* A container's exit: its status (also of adopted containers, through the
 * monitor's records), the restart decision and what follows from it. */
#include "cgroup.h"
#include "container.h"
#include "init_status.h"
#include "monitor.h"
#include "probe.h"
#include "restart.h"
#include "supervise.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise_internal.h"

/* The monitor writes the record right after reaping (microseconds after
 * the pidfd woke us): wait for it on inotify and the monitor's pidfd, at
 * most EXIT_RECORD_WAIT_MS, never by polling. */
#define EXIT_RECORD_WAIT_MS 1000
static bool
wait_exit_record (const char *task_path, pid_t pid, uint64_t start, int *how, int *status)
{
  _cleanup_free_ char *exits = xasprintf ("%s/exits", task_path);
  _cleanup_close_ int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  _cleanup_close_ int mon = sk_monitor_pidfd (task_path);
  uint64_t deadline = sk_monotonic_ms () + EXIT_RECORD_WAIT_MS;

  if (in >= 0)
    inotify_add_watch (in, exits, IN_MOVED_TO | IN_CLOSE_WRITE);
  for (;;)
    {
      struct pollfd pfd[2] = { { .fd = in, .events = POLLIN }, { .fd = mon, .events = POLLIN } };
      uint64_t now;
      char buf[1024];

      if (sk_exit_record_read (task_path, pid, start, how, status) == 0)
        return true;
      now = sk_monotonic_ms ();
      /* No monitor: nobody will write it (the exit went to init). */
      if (mon < 0 || now >= deadline)
        return false;
      if (poll (pfd, 2, in >= 0 ? (int)(deadline - now) : 20) < 0 && errno != EINTR)
        return false;
      if (pfd[0].revents & POLLIN)
        while (read (in, buf, sizeof buf) > 0)
          ;
      if (pfd[1].revents & POLLIN)
        /* The monitor ended: one last look, then give up. */
        return sk_exit_record_read (task_path, pid, start, how, status) == 0;
    }
}

/* A container a previous supervisor started is not our child: the monitor
 * (its subreaper) reaps it and records the status. False when no record
 * comes, i.e. the monitor was gone too and the exit was not observable. */
static bool
adopted_exit (struct sup *s, size_t i, siginfo_t *info)
{
  struct sup_ctr *sc = &s->v[i];
  int how, status;

  /* With init, its own record of the exit, should nobody have reaped it. */
  sk_init_status_export (s->env->task_path, sc->c.state_dir, sc->c.pid, sc->pid_start);
  if (wait_exit_record (s->env->task_path, sc->c.pid, sc->pid_start, &how, &status))
    {
      info->si_pid = sc->c.pid;
      info->si_code = how;
      info->si_status = status;
      return true;
    }
  info->si_pid = sc->c.pid;
  return false;
}

void
sup_on_exit_of (struct sup *s, size_t i, uint64_t now)
{
  struct sup_ctr *sc = &s->v[i];
  struct sk_restart_decision d;
  struct sk_exit_event ev;
  siginfo_t info;
  uint64_t oom_after = 0;
  sk_err_t err = NULL;
  struct sk_jw w;

  bool unknown = false;

  memset (&info, 0, sizeof info);
  if (sc->adopted)
    unknown = !adopted_exit (s, i, &info);
  else if (waitid (P_PIDFD, (id_t)sc->c.pidfd, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
    return;
  if (sc->c.pidfd >= 0)
    {
      sup_unwatch_fd (s, sc->c.pidfd);
      close (sc->c.pidfd);
    }
  sc->c.pidfd = -1;
  sc->adopted = false;
  sc->stopped_at_ns = sk_realtime_ns ();
  sk_probe_abort (&sc->probe);

  /* In a shared pid namespace the container's other processes outlive its
   * main one: they go with it. */
  if (s->sb.pidns >= 0 && sk_cgroup_kill_all (sc->c.cgroup, &err) < 0)
    sk_err_free (&err);
  sup_drain_logs (s, i);

  memset (&ev, 0, sizeof ev);
  ev.exit_known = !unknown;
  if (unknown)
    ev.exit_code = 255;
  else if (info.si_code == CLD_EXITED)
    ev.exit_code = info.si_status;
  else
    ev.signal = info.si_status;
  sc->c.exit_code = unknown ? 255 : sk_wait_status_to_code (info.si_code, info.si_status);
  sc->c.oom_killed = false;
  if (sk_cgroup_oom_kills (sc->c.cgroup, &oom_after, &err) < 0)
    sk_err_free (&err);
  else if (oom_after > sc->c.oom_kills_before)
    sc->c.oom_killed = true;
  free (sc->c.reason);
  sc->c.reason = sc->c.oom_killed
                     ? xstrdup ("OutOfMemoryError: Container killed due to memory usage")
                 : sc->unhealthy_kill ? xstrdup ("Container failed its health check")
                 : unknown            ? xstrdup (SK_EXIT_UNOBSERVED_REASON)
                                      : NULL;
  ev.oom = sc->c.oom_killed;
  ev.unhealthy = sc->unhealthy_kill;
  ev.task_stopping = s->stopping;

  d = sk_restart_decide (&sc->policy, &sc->history, &ev, now, sup_random_u64 ());
  sk_restart_history_record_decision (&sc->history, &d, now);

  sk_event_begin (s->env->events, &w, sup_name_of (s, i), "exit");
  {
    /* When the exit was seen (the event's own time comes after the log
     * drain and the decision): restart delays count from here. */
    char exited_at[40];
    sk_format_time (sc->stopped_at_ns, exited_at, sizeof exited_at);
    sk_jw_kv_string (&w, "exitedAt", exited_at);
  }
  if (unknown)
    sk_jw_kv_string (&w, "exitCode", NULL);
  else
    sk_jw_kv_int (&w, "exitCode", sc->c.exit_code);
  if (ev.signal)
    sk_jw_kv_string (&w, "signal", sigabbrev_np (ev.signal));
  sk_jw_kv_bool (&w, "oomKilled", sc->c.oom_killed);
  if (sc->c.reason)
    sk_jw_kv_string (&w, "reason", sc->c.reason);
  sk_jw_kv_string (&w, "decision", d.restart ? "restart" : "stop");
  sk_jw_kv_string (&w, "rule", d.rule);
  if (d.restart)
    {
      sk_jw_kv_uint (&w, "restartAttempt", d.attempt);
      sk_jw_kv_uint (&w, "maxAttempts", d.max_attempts);
      sk_jw_kv_uint (&w, "delayMs", d.delay_ms);
    }
  sk_jw_kv_string (&w, "why", d.reason);
  bool restarts = d.restart || sk_restart_policy_restarts_anything (&sc->policy);
  if (s->n > 1 || restarts || sc->c.oom_killed || sc->unhealthy_kill)
    sk_event_end (s->env->events, &w, "container %s exited with %d%s%s%s", sup_name_of (s, i),
                  sc->c.exit_code, sc->c.oom_killed ? " (OutOfMemoryError)" : "",
                  restarts ? ": " : "", restarts ? d.reason : "");
  else
    sk_event_end (s->env->events, &w, NULL);
  if (sc->c.oom_killed && !d.restart)
    sup_note (s, i, "OutOfMemoryError: Container killed due to memory usage");

  if (d.restart && !s->stopping)
    {
      sc->backoff = true;
      sc->restart_at = now + d.delay_ms;
      sc->next_probe_at = 0;
      return; /* stays RUNNING for the dependency graph */
    }
  s->st[i].state = SK_RUN_STOPPED;
  s->st[i].exit_known = !unknown;
  s->st[i].exit_code = sc->c.exit_code;
  if (s->stopping)
    sup_advance_stop (s, now);
  else if (s->task->containers[i].essential)
    sup_stop_task (s, sc->unhealthy_kill ? SK_STOP_UNHEALTHY : SK_STOP_ESSENTIAL_EXITED, i);
}
