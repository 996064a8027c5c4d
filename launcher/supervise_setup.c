/* Setting up one task attempt (task cgroup, shared namespaces, every
 * container prepared), tearing it down, and turning how it ended into
 * skiff's exit code. */
#include "cgroup.h"
#include "events.h"
#include "state.h"
#include "supervise_internal.h"
#include "task_userns.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
create_task_cgroup (struct sup *s, sk_err_t *err)
{
  struct sk_cgroup_limits lim;
  _cleanup_free_ char *path = sk_task_cgroup_path (s->env->task_id, NULL);
  sk_err_t ignored = NULL;

  memset (&lim, 0, sizeof lim);
  lim.swappiness = -1;
  lim.memory_max = (uint64_t)s->task->memory * 1024 * 1024;
  if (s->task->cpu != 0)
    {
      /* Task cpu is a hard quota: 1024 units = one CPU per period. */
      lim.cpu_period_us = 100000;
      lim.cpu_quota_us = (uint64_t)s->task->cpu * lim.cpu_period_us / 1024;
      if (lim.cpu_quota_us < 1000)
        lim.cpu_quota_us = 1000;
    }
  /* A resumed supervisor takes over the group its predecessor made. */
  if (s->env->resume != NULL && sk_cgroup_open (path, &s->task_cgroup, &ignored) == 0)
    return 0;
  sk_err_free (&ignored);
  /* No limit of its own: made with the first container's group (cgroup.h). */
  if (lim.memory_max == 0 && lim.cpu_quota_us == 0)
    return sk_cgroup_plan (path, &s->task_cgroup, err);
  return sk_cgroup_create (path, &lim, &s->task_cgroup, err);
}

static const char *
task_hostname (const struct sup *s)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->task->containers[i].hostname != NULL)
      return s->task->containers[i].hostname;
  return s->env->task_id;
}

int
sup_prepare (struct sup *s, sk_err_t *err)
{
  /* The sinks make this directory on their first record (logs.h). */
  _cleanup_free_ char *log_dir = xasprintf ("%s/logs", s->env->task_path);

  if (create_task_cgroup (s, err) < 0)
    return -1;
  if (sk_task_sandbox_create (s->task, task_hostname (s), &s->env->req->overrides, &s->sb, err) < 0)
    return -1;
  s->ctx.task = s->task;
  s->ctx.root = s->env->req->root;
  s->ctx.task_id = s->env->task_id;
  s->ctx.task_path = s->env->task_path;
  s->ctx.cache_dir = s->env->cache_dir;
  s->ctx.task_cgroup = s->task_cgroup;
  /* Detached: containers outlive a killed supervisor (its monitor is
   * their subreaper). */
  s->ctx.die_with_parent = !s->env->req->detached;
  s->ctx.adopt = s->env->resume != NULL;

  for (size_t i = 0; i < s->n; i++)
    {
      struct sup_ctr *sc = &s->v[i];
      const struct sk_container *def = &s->task->containers[i];
      struct sk_diags diags = { 0 };
      struct sk_log_opts lo = s->log_opts;

      if (sk_restart_policy_from_container (def, &sc->policy, &diags) < 0)
        {
          sk_err_set (err, 0, "%s", diags.n > 0 ? diags.v[0].text : "invalid restart policy");
          sk_diags_clear (&diags);
          return sk_err_wrap (err, "container %s", def->name);
        }
      sk_diags_clear (&diags);
      if (sk_log_opts_apply_config (&lo, &def->log_configuration, err) < 0
          || sk_log_sink_open (log_dir, def->name, (unsigned)i, &lo, &sc->log, err) < 0)
        return sk_err_wrap (err, "container %s: logs", def->name);
      if (sk_ctr_prepare (&sc->c, &s->ctx, def, &s->env->req->overrides, err) < 0)
        return sk_err_wrap (err, "container %s", def->name);
      sc->prepared = true;
      if (sk_ctr_userns_prepare (&sc->c, &s->ctx, &s->sb, err) < 0)
        return sk_err_wrap (err, "container %s", def->name);
      sc->c.spec.join_netns = s->sb.netns;
      sc->c.spec.join_utsns = s->sb.utsns;
      sc->c.spec.join_ipcns = s->sb.ipcns;
      sc->c.spec.join_pidns = s->sb.pidns;
      /* What the task shares is joined, not created; a task that shares
       * nothing (sandbox.h) has its container create them. */
      if (s->sb.utsns >= 0)
        {
          sc->c.spec.namespaces &= ~(CLONE_NEWNET | CLONE_NEWUTS);
          sc->c.spec.hostname = NULL;
        }
      if (s->sb.ipcns >= 0)
        sc->c.spec.namespaces &= ~CLONE_NEWIPC;
      if (s->sb.pidns >= 0)
        sc->c.spec.namespaces &= ~CLONE_NEWPID;
      sk_probe_init (&sc->probe);
    }
  return 0;
}

void
sup_teardown (struct sup *s)
{
  sk_err_t err = NULL;
  /* Hibernating, the task runs on without us: its containers, cgroups and
   * namespaces stay as they are; only our memory and fds are let go (and
   * what was read is written out). */
  bool keep = s->hibernated;

  for (size_t i = 0; i < s->n; i++)
    {
      struct sup_ctr *sc = &s->v[i];
      /* Nothing is in flight when hibernating: this only closes fds. */
      sk_probe_abort (&sc->probe);
      if (!keep && sc->c.pidfd >= 0)
        {
          /* Only on a set-up failure: nothing else leaves one running. */
          if (sk_cgroup_kill_all (sc->c.cgroup, &err) < 0)
            sk_err_free (&err);
          syscall (SYS_pidfd_send_signal, sc->c.pidfd, SIGKILL, NULL, 0);
          waitid (P_PIDFD, (id_t)sc->c.pidfd, &(siginfo_t){ 0 }, WEXITED);
        }
      if (sc->log != NULL)
        {
          sup_drain_logs (s, i);
          sk_log_sink_close (sc->log);
          sc->log = NULL;
        }
      if (keep)
        {
          sk_cgroup_free (sc->c.cgroup); /* the group itself stays */
          sc->c.cgroup = NULL;
        }
      else if (sc->prepared && sk_ctr_destroy (&sc->c, &err) < 0)
        {
          sk_err_wrap (&err, "container %s: cleanup", sup_name_of (s, i));
          sk_err_print (&err);
          sk_err_free (&err);
        }
      sk_ctr_clear (&sc->c);
      sk_restart_policy_x_clear (&sc->policy);
    }
  if (keep && s->sb.holder_pidfd >= 0)
    {
      /* Never killed on the way out: a shared pid namespace's holder. */
      close (s->sb.holder_pidfd);
      s->sb.holder_pidfd = -1;
      s->sb.holder = 0;
    }
  sk_sandbox_destroy (&s->sb);
  if (s->task_cgroup != NULL)
    {
      if (!keep && sk_cgroup_destroy (s->task_cgroup, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
        }
      sk_cgroup_free (s->task_cgroup);
      s->task_cgroup = NULL;
    }
  if (s->timerfd >= 0)
    close (s->timerfd);
  if (s->epfd >= 0)
    close (s->epfd);
  free (s->v);
  free (s->st);
  free (s->rec.c);
}

void
sup_fill_outcome (const struct sup *s, struct sk_attempt_outcome *out)
{
  memset (out, 0, sizeof *out);
  out->cause = s->cause;
  snprintf (out->stopped_reason, sizeof out->stopped_reason, "%s", sk_stopped_reason (s->cause));
  if (s->ended_by < s->n && s->v[s->ended_by].c.reason != NULL)
    snprintf (out->container_reason, sizeof out->container_reason, "%s",
              s->v[s->ended_by].c.reason);
  switch (s->cause)
    {
    case SK_STOP_TIMEOUT:
      out->exit_code = 124;
      out->timed_out = true;
      break;
    case SK_STOP_USER_INITIATED:
      out->exit_code = 128 + s->signal;
      out->interrupted = true;
      out->signal = s->signal;
      break;
    case SK_STOP_FAILED_TO_START:
      out->exit_code = 125;
      if (s->ended_by < s->n && s->st[s->ended_by].exit_known
          && (s->st[s->ended_by].exit_code == 126 || s->st[s->ended_by].exit_code == 127))
        out->exit_code = s->st[s->ended_by].exit_code;
      break;
    case SK_STOP_UNHEALTHY:
      out->has_container_exit = true;
      out->exit_code = s->st[s->ended_by].exit_code != 0 ? s->st[s->ended_by].exit_code : 1;
      break;
    case SK_STOP_ESSENTIAL_EXITED:
    default:
      out->has_container_exit = true;
      out->exit_code = s->ended_by < s->n ? s->st[s->ended_by].exit_code : 0;
      break;
    }
  out->exit_known = true;
  if (out->has_container_exit && s->ended_by < s->n && !s->st[s->ended_by].exit_known)
    {
      /* Never an invented code: say that nobody could see it. */
      out->exit_known = false;
      snprintf (out->stopped_reason, sizeof out->stopped_reason,
                "%s (its exit code could not be observed)", sk_stopped_reason (s->cause));
    }
  if (s->signal != 0 && s->cause != SK_STOP_USER_INITIATED)
    {
      /* Interrupted while stopping for another reason. */
      out->exit_code = 128 + s->signal;
      out->interrupted = true;
      out->signal = s->signal;
    }
}
