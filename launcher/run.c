#include "run.h"
#include "cgroup.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (UINT64_C (1024) * 1024)

enum stop_cause
{
  STOP_NONE = 0,
  STOP_ESSENTIAL_EXIT,
  STOP_SIGNAL,
  STOP_TIMEOUT,
};

struct runner
{
  const struct sk_run_request *req;
  struct sk_task_dir td;
  struct sk_task_ctx ctx;
  char *cache_dir;
  struct sk_cgroup *task_cgroup;
  size_t n_ctrs;
  struct sk_ctr *ctrs;
  size_t n_running;

  int epfd;
  int sigfd;
  int timerfd;

  enum stop_cause cause;
  int stop_signal_received; /* SIGINT, SIGTERM, SIGHUP */
  uint64_t timeout_at;      /* monotonic ms, 0 = none */
  uint64_t kill_at;         /* monotonic ms, 0 = none */
  bool killed;
  const struct sk_ctr *ended_by; /* the essential container whose exit stopped the task */
};

static uint64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static const char *
task_label (const struct runner *r)
{
  return r->req->task->family != NULL ? r->req->task->family : "task";
}

/* The one deadline the timerfd carries: the earliest of --timeout and the
 * stop timeout's SIGKILL. */
static void
arm_timer (struct runner *r)
{
  struct itimerspec its;
  uint64_t at = 0;

  if (r->timeout_at != 0 && r->cause == STOP_NONE)
    at = r->timeout_at;
  if (r->kill_at != 0 && !r->killed && (at == 0 || r->kill_at < at))
    at = r->kill_at;
  memset (&its, 0, sizeof its);
  if (at != 0)
    {
      /* TFD_TIMER_ABSTIME with 0 would disarm: a past deadline fires at 1 ns. */
      its.it_value.tv_sec = (time_t) (at / 1000);
      its.it_value.tv_nsec = (long) (at % 1000) * 1000000L;
      if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    }
  timerfd_settime (r->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void
begin_stop (struct runner *r, enum stop_cause cause)
{
  uint32_t longest = 0;

  if (r->cause != STOP_NONE)
    return;
  r->cause = cause;
  for (size_t i = 0; i < r->n_ctrs; i++)
    {
      struct sk_ctr *c = &r->ctrs[i];
      if (c->state != SK_CTR_RUNNING)
        continue;
      c->state = SK_CTR_STOPPING;
      syscall (SYS_pidfd_send_signal, c->pidfd, c->stop_signal, NULL, 0);
      if (c->def->stop_timeout > longest)
        longest = c->def->stop_timeout;
    }
  if (r->n_running > 0)
    {
      r->kill_at = now_ms () + (uint64_t) longest * 1000;
      arm_timer (r);
    }
}

static void
kill_everything (struct runner *r, const char *why)
{
  r->killed = true;
  for (size_t i = 0; i < r->n_ctrs; i++)
    {
      struct sk_ctr *c = &r->ctrs[i];
      sk_err_t err = NULL;

      if (c->state != SK_CTR_RUNNING && c->state != SK_CTR_STOPPING)
        continue;
      if (why != NULL)
        fprintf (stderr, "skiff: %s: container %s %s: sending SIGKILL to its cgroup\n",
                 task_label (r), c->def->name, why);
      /* SIGKILL to the whole cgroup: nothing of the container may linger. */
      if (sk_cgroup_kill_all (c->cgroup, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
          syscall (SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        }
    }
  arm_timer (r);
}

static void
on_signal (struct runner *r)
{
  struct signalfd_siginfo si;

  while (read (r->sigfd, &si, sizeof si) == (ssize_t) sizeof si)
    {
      int sig = (int) si.ssi_signo;

      if (r->cause == STOP_NONE)
        {
          r->stop_signal_received = sig;
          fprintf (stderr, "skiff: %s: received %s, stopping\n", task_label (r), sigabbrev_np (sig));
          begin_stop (r, STOP_SIGNAL);
        }
      else if (!r->killed)
        /* A second Ctrl-C means "now", as docker compose does. */
        kill_everything (r, "stop requested again");
    }
}

static void
on_timer (struct runner *r)
{
  uint64_t expirations, now = now_ms ();

  if (read (r->timerfd, &expirations, sizeof expirations) < 0)
    return;
  if (r->timeout_at != 0 && now >= r->timeout_at && r->cause == STOP_NONE)
    {
      fprintf (stderr, "skiff: %s: --timeout reached, stopping\n", task_label (r));
      begin_stop (r, STOP_TIMEOUT);
    }
  if (r->kill_at != 0 && now >= r->kill_at && !r->killed)
    kill_everything (r, "did not stop within its stopTimeout");
  arm_timer (r);
}

static void
on_exit_of (struct runner *r, struct sk_ctr *c)
{
  siginfo_t info;
  uint64_t oom_after = 0;
  sk_err_t err = NULL;

  memset (&info, 0, sizeof info);
  if (waitid (P_PIDFD, (id_t) c->pidfd, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
    return;
  epoll_ctl (r->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
  c->exited = true;
  c->state = SK_CTR_STOPPED;
  c->exit_code = sk_wait_status_to_code (info.si_code, info.si_status);
  r->n_running--;

  /* An OOM kill looks like any SIGKILL: the cgroup's counter tells. */
  if (sk_cgroup_oom_kills (c->cgroup, &oom_after, &err) < 0)
    sk_err_free (&err);
  else if (oom_after > c->oom_kills_before)
    {
      c->oom_killed = true;
      c->reason = xstrdup ("OutOfMemoryError: Container killed due to memory usage");
    }

  if (c->def->essential && r->ended_by == NULL && r->cause == STOP_NONE)
    {
      r->ended_by = c;
      begin_stop (r, STOP_ESSENTIAL_EXIT);
    }
  if (c->oom_killed)
    fprintf (stderr, "skiff: %s: container %s: %s (exit code %d)\n", task_label (r), c->def->name,
             c->reason, c->exit_code);
}

static int
setup_loop (struct runner *r, const sigset_t *mask, sk_err_t *err)
{
  struct epoll_event ev;

  r->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (r->epfd < 0)
    return sk_err_set (err, errno, "epoll_create1");
  r->sigfd = signalfd (-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r->sigfd < 0)
    return sk_err_set (err, errno, "signalfd");
  r->timerfd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (r->timerfd < 0)
    return sk_err_set (err, errno, "timerfd_create");
  memset (&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.ptr = &r->sigfd;
  if (epoll_ctl (r->epfd, EPOLL_CTL_ADD, r->sigfd, &ev) < 0)
    return sk_err_set (err, errno, "epoll_ctl signalfd");
  ev.data.ptr = &r->timerfd;
  if (epoll_ctl (r->epfd, EPOLL_CTL_ADD, r->timerfd, &ev) < 0)
    return sk_err_set (err, errno, "epoll_ctl timerfd");
  return 0;
}

static int
watch (struct runner *r, struct sk_ctr *c, sk_err_t *err)
{
  struct epoll_event ev;

  memset (&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl (r->epfd, EPOLL_CTL_ADD, c->pidfd, &ev) < 0)
    return sk_err_set (err, errno, "epoll_ctl pidfd");
  r->n_running++;
  return 0;
}

static void
event_loop (struct runner *r)
{
  while (r->n_running > 0)
    {
      struct epoll_event evs[8];
      int n = epoll_wait (r->epfd, evs, 8, -1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          /* Cannot watch any more: do not leave the task unsupervised. */
          kill_everything (r, "lost its supervisor's event loop");
          for (size_t i = 0; i < r->n_ctrs; i++)
            if (r->ctrs[i].state == SK_CTR_RUNNING || r->ctrs[i].state == SK_CTR_STOPPING)
              {
                siginfo_t info;
                waitid (P_PIDFD, (id_t) r->ctrs[i].pidfd, &info, WEXITED);
                r->ctrs[i].state = SK_CTR_STOPPED;
                r->ctrs[i].exit_code = sk_wait_status_to_code (info.si_code, info.si_status);
              }
          r->n_running = 0;
          return;
        }
      for (int i = 0; i < n; i++)
        {
          void *p = evs[i].data.ptr;
          if (p == &r->sigfd)
            on_signal (r);
          else if (p == &r->timerfd)
            on_timer (r);
          else
            on_exit_of (r, p);
        }
    }
}

static int
create_task_cgroup (struct runner *r, sk_err_t *err)
{
  const struct sk_task *task = r->req->task;
  struct sk_cgroup_limits lim;
  _cleanup_free_ char *path = sk_task_cgroup_path (r->td.id, NULL);

  memset (&lim, 0, sizeof lim);
  lim.swappiness = -1;
  lim.memory_max = (uint64_t) task->memory * MIB;
  if (task->cpu != 0)
    {
      /* Task cpu is a hard quota: 1024 units = one CPU's worth per period. */
      lim.cpu_period_us = 100000;
      lim.cpu_quota_us = (uint64_t) task->cpu * lim.cpu_period_us / 1024;
      if (lim.cpu_quota_us < 1000)
        lim.cpu_quota_us = 1000;
    }
  return sk_cgroup_create (path, &lim, &r->task_cgroup, err);
}

static int
exit_code_of (const struct runner *r)
{
  switch (r->cause)
    {
    case STOP_TIMEOUT:
      return 124;
    case STOP_SIGNAL:
      return 128 + r->stop_signal_received;
    case STOP_ESSENTIAL_EXIT:
      return r->ended_by->exit_code;
    case STOP_NONE:
    default:
      /* Every container ended without an essential one stopping the task
       * (cannot happen: validation demands one essential container). */
      for (size_t i = 0; i < r->n_ctrs; i++)
        if (r->ctrs[i].exit_code != 0)
          return r->ctrs[i].exit_code;
      return 0;
    }
}

static void
cleanup (struct runner *r)
{
  sk_err_t err = NULL;

  for (size_t i = 0; i < r->n_ctrs; i++)
    {
      if (sk_ctr_destroy (&r->ctrs[i], &err) < 0)
        {
          sk_err_wrap (&err, "%s: container %s: cleanup", task_label (r), r->ctrs[i].def->name);
          sk_err_print (&err);
          sk_err_free (&err);
        }
      sk_ctr_clear (&r->ctrs[i]);
    }
  free (r->ctrs);
  if (r->task_cgroup != NULL)
    {
      if (sk_cgroup_destroy (r->task_cgroup, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
        }
      sk_cgroup_free (r->task_cgroup);
    }
  if (r->td.path != NULL && sk_task_dir_remove (&r->td, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
    }
  sk_task_dir_clear (&r->td);
  if (r->epfd >= 0)
    close (r->epfd);
  if (r->sigfd >= 0)
    close (r->sigfd);
  if (r->timerfd >= 0)
    close (r->timerfd);
  free (r->cache_dir);
}

static bool
stop_requested_before_start (struct runner *r)
{
  struct signalfd_siginfo si;

  if (read (r->sigfd, &si, sizeof si) == (ssize_t) sizeof si)
    {
      r->stop_signal_received = (int) si.ssi_signo;
      r->cause = STOP_SIGNAL;
      return true;
    }
  return false;
}

int
sk_run_task (const struct sk_run_request *req, int *exit_code, sk_err_t *err)
{
  struct runner r;
  sigset_t mask;
  int ret = -1;

  memset (&r, 0, sizeof r);
  r.req = req;
  r.epfd = r.sigfd = r.timerfd = -1;
  r.td.lock_fd = -1;

  if (req->task->n_containers != 1)
    return sk_err_set (err, ENOTSUP,
                       "task %s has %zu containers; this version of skiff runs one-container "
                       "tasks (multi-container supervision is being built)",
                       task_label (&r), req->task->n_containers);

  /* Signals become events before any child exists, so none is lost and
   * every child starts from a known mask (it resets its own). */
  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGHUP);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal (SIGPIPE, SIG_IGN);

  if (setup_loop (&r, &mask, err) < 0)
    goto out;
  if (sk_state_init_root (req->root, err) < 0)
    goto out;
  sk_state_gc (req->root);
  r.cache_dir = xasprintf ("%s/cache/seccomp", req->root);
  if (mkdir (r.cache_dir, 0700) < 0 && errno != EEXIST)
    {
      sk_err_set (err, errno, "mkdir `%s`", r.cache_dir);
      goto out;
    }
  if (sk_task_dir_create (req->root, &r.td, err) < 0)
    goto out;
  if (create_task_cgroup (&r, err) < 0)
    goto out;

  r.ctx.task = req->task;
  r.ctx.root = req->root;
  r.ctx.task_id = r.td.id;
  r.ctx.task_path = r.td.path;
  r.ctx.cache_dir = r.cache_dir;
  r.ctx.task_cgroup = r.task_cgroup;
  r.ctx.die_with_parent = true;

  r.n_ctrs = req->task->n_containers;
  r.ctrs = xzalloc (r.n_ctrs * sizeof *r.ctrs);
  for (size_t i = 0; i < r.n_ctrs; i++)
    {
      r.ctrs[i].seccomp_fd = -1;
      r.ctrs[i].pidfd = -1;
    }
  for (size_t i = 0; i < r.n_ctrs; i++)
    if (sk_ctr_prepare (&r.ctrs[i], &r.ctx, &req->task->containers[i], &req->overrides, err) < 0)
      {
        sk_err_wrap (err, "container %s", req->task->containers[i].name);
        goto out;
      }

  if (stop_requested_before_start (&r))
    {
      *exit_code = 128 + r.stop_signal_received;
      ret = 0;
      goto out;
    }
  if (req->timeout_ms != 0)
    {
      r.timeout_at = now_ms () + req->timeout_ms;
      arm_timer (&r);
    }
  for (size_t i = 0; i < r.n_ctrs; i++)
    {
      if (sk_ctr_start (&r.ctrs[i], err) < 0 || watch (&r, &r.ctrs[i], err) < 0)
        {
          sk_err_wrap (err, "container %s", r.ctrs[i].def->name);
          kill_everything (&r, NULL);
          event_loop (&r);
          goto out;
        }
    }

  event_loop (&r);
  *exit_code = exit_code_of (&r);
  ret = 0;

out:
  if (ret < 0)
    sk_err_wrap (err, "task %s", task_label (&r));
  cleanup (&r);
  return ret;
}
