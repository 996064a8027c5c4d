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
#include "init_status.h"
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
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
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

static uint64_t
random_u64 (void)
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

static void
unwatch_fd (struct sup *s, int fd)
{
  if (fd >= 0)
    epoll_ctl (s->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- events -------------------------------------------------------------- */

static void
note (struct sup *s, size_t i, const char *text)
{
  if (s->v[i].log != NULL)
    sk_log_sink_note (s->v[i].log, text, sk_log_now ());
}

/* ---- starting -------------------------------------------------------------- */

/* Detached tasks: the container writes into a FIFO in its state directory
 * that it also holds open for reading, so a killed supervisor never breaks
 * its stdout (no EPIPE); the next supervisor reopens the FIFO and carries
 * on reading. The sink keeps its fd number: the FIFO is dup'ed onto it. */
int
sup_fifo_swap (struct sup *s, size_t i, int stream, int *container_end, sk_err_t *err)
{
  struct sup_ctr *sc = &s->v[i];
  _cleanup_free_ char *path
      = xasprintf ("%s/%s.fifo", sc->c.state_dir, stream == SK_LOG_STDOUT ? "stdout" : "stderr");
  _cleanup_close_ int rd = -1;
  int sink_fd = sk_log_fd (sc->log, stream);

  if (mkfifo (path, 0600) < 0 && errno != EEXIST)
    return sk_err_set (err, errno, "mkfifo `%s`", path);
  rd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  if (container_end != NULL)
    {
      int wr = open (path, O_RDWR | O_CLOEXEC);
      if (wr < 0)
        return sk_err_set (err, errno, "open `%s`", path);
      close (*container_end);
      *container_end = wr;
    }
  if (dup3 (rd, sink_fd, O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "dup3 `%s`", path);
  return 0;
}

/* Detached: the pty master of container i, in the monitor's fd store
 * while no supervisor holds it (a crash, hibernation). */
static void
pty_store_name (size_t i, char *name, size_t size)
{
  snprintf (name, size, "pty.%zu", i);
}

/* pseudoTerminal: stdin, stdout and stderr are one pty, whose master is
 * the sink's stdout stream (launcher/pty.h). */
static int
open_pty (struct sup *s, size_t i, sk_err_t *err)
{
  struct sup_ctr *sc = &s->v[i];
  const struct sk_container *def = &s->task->containers[i];
  const char *path = NULL;
  int slave = -1;

  if (sk_task_tty_open (s->tty, i, sc->log, def->interactive, &slave, &path, err) < 0)
    return -1;
  if (s->env->req->detached)
    {
      char name[32];
      pty_store_name (i, name, sizeof name);
      if (sk_monitor_deposit_fd (name, sk_log_fd (sc->log, SK_LOG_STDOUT), err) < 0)
        {
          close (slave);
          return -1;
        }
    }
  sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDOUT), WATCH (W_LOG_OUT, i));
  sc->c.spec.stdio[0] = sc->c.spec.stdio[1] = sc->c.spec.stdio[2] = slave;
  sc->c.spec.console_path = path;
  return 0;
}

bool
sup_pty_reattach (struct sup *s, size_t i)
{
  struct sup_ctr *sc = &s->v[i];
  sk_err_t err = NULL;
  char name[32];
  int master;

  if (s->tty == NULL || !s->task->containers[i].pseudo_terminal)
    return false;
  pty_store_name (i, name, sizeof name);
  master = sk_monitor_withdraw_fd (name);
  if (master < 0)
    sk_err_set (&err, errno, "take its terminal back from the monitor");
  else if (sk_task_tty_adopt (s->tty, i, sc->log, master, &err) == 0)
    {
      sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDOUT), WATCH (W_LOG_OUT, i));
      return true;
    }
  _cleanup_free_ char *text = sk_err_text (&err);
  _cleanup_free_ char *line = xasprintf ("its output is not logged any more: %s", text);
  sk_err_free (&err);
  sk_log_sink_note (sc->log, line, sk_log_now ());
  return true;
}

static int
open_log_pipes (struct sup *s, size_t i, sk_err_t *err)
{
  struct sup_ctr *sc = &s->v[i];
  int out = -1, errfd = -1;

  if (s->tty != NULL && s->task->containers[i].pseudo_terminal)
    return open_pty (s, i, err);
  if (sk_log_sink_pipe (sc->log, SK_LOG_STDOUT, &out, err) < 0)
    return -1;
  if (sk_log_sink_pipe (sc->log, SK_LOG_STDERR, &errfd, err) < 0)
    {
      close (out);
      return -1;
    }
  if (s->env->req->detached
      && (sup_fifo_swap (s, i, SK_LOG_STDOUT, &out, err) < 0
          || sup_fifo_swap (s, i, SK_LOG_STDERR, &errfd, err) < 0))
    {
      close (out);
      close (errfd);
      return -1;
    }
  sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDOUT), WATCH (W_LOG_OUT, i));
  sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDERR), WATCH (W_LOG_ERR, i));
  sc->c.spec.stdio[1] = out;
  sc->c.spec.stdio[2] = errfd;
  return 0;
}

static void
close_container_ends (struct sup_ctr *sc)
{
  /* The container holds its copies; ours would keep the pipes from ever
   * reaching end-of-file. A pty's slave is all three at once. */
  for (int k = 0; k <= 2; k++)
    {
      int fd = sc->c.spec.stdio[k];
      if (fd <= 2)
        continue;
      close (fd);
      for (int j = k; j <= 2; j++)
        if (sc->c.spec.stdio[j] == fd)
          sc->c.spec.stdio[j] = -1;
    }
}

static void stop_task (struct sup *s, enum sk_stop_cause cause, size_t by);

static void
start_container (struct sup *s, size_t i, uint64_t now)
{
  struct sup_ctr *sc = &s->v[i];
  sk_err_t err = NULL;
  struct sk_jw w;

  if (open_log_pipes (s, i, &err) < 0 || sk_ctr_start (&sc->c, &err) < 0)
    {
      close_container_ends (sc);
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
        stop_task (s, SK_STOP_FAILED_TO_START, i);
      return;
    }
  close_container_ends (sc);
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
            stop_task (s, SK_STOP_FAILED_TO_START, i);
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
static void
advance_stop (struct sup *s, uint64_t now)
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

static void
stop_task (struct sup *s, enum sk_stop_cause cause, size_t by)
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
  advance_stop (s, sk_monotonic_ms ());
}

/* ---- exits ----------------------------------------------------------------- */

void
sup_drain_logs (struct sup *s, size_t i)
{
  struct sup_ctr *sc = &s->v[i];

  /* Every writer is gone with the container's pid namespace: what is left
   * in the pipes belongs to this run and is flushed before anything else
   * (a restart reopens the pipes). */
  for (int stream = SK_LOG_STDOUT; stream <= SK_LOG_STDERR; stream++)
    for (int rounds = 0; rounds < 64 && sk_log_fd (sc->log, stream) >= 0; rounds++)
      {
        int fd = sk_log_fd (sc->log, stream);
        unwatch_fd (s, fd);
        if (sk_log_sink_drain (sc->log, stream, sk_log_now ()) != 0)
          break;
        sup_watch_fd (s, fd, WATCH (stream == SK_LOG_STDOUT ? W_LOG_OUT : W_LOG_ERR, i));
        break;
      }
}

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
      unwatch_fd (s, sc->c.pidfd);
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

  d = sk_restart_decide (&sc->policy, &sc->history, &ev, now, random_u64 ());
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
    note (s, i, "OutOfMemoryError: Container killed due to memory usage");

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
    advance_stop (s, now);
  else if (s->task->containers[i].essential)
    stop_task (s, sc->unhealthy_kill ? SK_STOP_UNHEALTHY : SK_STOP_ESSENTIAL_EXITED, i);
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
        stop_task (s, SK_STOP_UNHEALTHY, i);
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
    stop_task (s, SK_STOP_TIMEOUT, SIZE_MAX);
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
          stop_task (s, SK_STOP_USER_INITIATED, SIZE_MAX);
        }
      else
        {
          /* A second Ctrl-C means now, as docker compose does. A task
           * already stopping for another cause was still interrupted: its
           * exit code must say so (never 0). */
          if (s->signal == 0)
            s->signal = sig;
          s->force_kill = true;
          advance_stop (s, now);
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
                  unwatch_fd (s, fd); /* closed by the drain: already gone from epoll */
                break;
              }
            case W_PROBE_OUT:
              if (sk_probe_read (&s->v[i].probe) != 0)
                unwatch_fd (s, s->v[i].probe.out_fd);
              break;
            case W_PROBE_EXIT:
              unwatch_fd (s, s->v[i].probe.pidfd);
              unwatch_fd (s, s->v[i].probe.out_fd);
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
