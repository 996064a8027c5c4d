#include "spawn.h"
#include "cgroup.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int
sk_spawn_child_wait_for (int sock, int expected, struct sk_child_fail *f)
{
  struct sk_sync_msg m;
  int r = sk_sync_recv (sock, &m);

  if (r < 0)
    return sk_child_fail (f, SK_PHASE_SYNC, errno, "read the sync socket");
  if (r == 0 || m.type != (uint32_t)expected)
    /* The parent died or gave up on us: nothing left to do. */
    _exit (SK_SPAWN_ABANDONED);
  return 0;
}

void
sk_spawn_child_reset_signals (void)
{
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

int
sk_spawn_join_open (struct sk_cgroup *cg, struct sk_spawn_join *j, sk_err_t *err)
{
  int n;

  j->n = 0;
  j->cgroup_path = NULL;
  if (cg == NULL)
    return 0;
  n = sk_cgroup_join_fds (cg, j->fds, err);
  if (n < 0)
    return -1;
  j->n = (size_t)n;
  j->cgroup_path = sk_cgroup_path (cg);
  return 0;
}

void
sk_spawn_join_close (struct sk_spawn_join *j)
{
  for (size_t i = 0; i < j->n; i++)
    close (j->fds[i]);
  j->n = 0;
}

int
sk_spawn_child_join (struct sk_spawn_join *j, struct sk_child_fail *f)
{
  size_t n = j->n;

  j->n = 0;
  if (n > 0 && sk_cgroup_join_self (j->fds, n) < 0)
    return sk_child_fail (f, SK_PHASE_CGROUP, errno, "join cgroup `%s`", j->cgroup_path);
  return 0;
}

int
sk_spawn_prepare_from_parent (pid_t pid, struct sk_cgroup *cgroup, bool in_cgroup,
                              const struct sk_rlimit *rlimits, size_t n_rlimits, int oom_score_adj,
                              sk_err_t *err)
{
  if (cgroup != NULL && !in_cgroup && sk_cgroup_attach (cgroup, pid, err) < 0)
    return -1;

  /* rlimits are applied from outside: a long-lived launcher must not
   * change its own limits, and raising a hard limit needs
   * CAP_SYS_RESOURCE, which we can name clearly here. */
  for (size_t i = 0; i < n_rlimits; i++)
    {
      const struct sk_rlimit *rl = &rlimits[i];
      if (prlimit (pid, rl->resource, &rl->limit, NULL) < 0)
        {
          int saved = errno;
          struct rlimit own;
          if (saved == EPERM && getrlimit (rl->resource, &own) == 0
              && rl->limit.rlim_max > own.rlim_max)
            return sk_err_set (err, saved,
                               "ulimit `%s`: hard limit %llu is above skiff's own %llu; raising "
                               "it needs CAP_SYS_RESOURCE, which this host does not grant",
                               rl->name, (unsigned long long)rl->limit.rlim_max,
                               (unsigned long long)own.rlim_max);
          return sk_err_set (err, saved, "ulimit `%s`: prlimit soft %llu hard %llu", rl->name,
                             (unsigned long long)rl->limit.rlim_cur,
                             (unsigned long long)rl->limit.rlim_max);
        }
    }

  if (oom_score_adj != 0)
    {
      char path[64], value[16];
      _cleanup_close_ int fd = -1;
      int len;

      snprintf (path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
      len = snprintf (value, sizeof value, "%d", oom_score_adj);
      fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, value, (size_t)len) != len)
        return sk_err_set (err, errno, "write `%s` = %s", path, value);
    }
  return 0;
}

int
sk_spawn_follow (int sock, int timeout_ms, const char *what, sk_err_t *err)
{
  bool execing = false;

  for (;;)
    {
      struct pollfd pfd = { .fd = sock, .events = POLLIN };
      struct sk_sync_msg m;
      int r = poll (&pfd, 1, timeout_ms);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return sk_err_set (err, errno, "poll the sync socket");
      if (r == 0)
        return sk_err_set (err, ETIMEDOUT, "%s did not finish within %d s", what,
                           timeout_ms / 1000);
      r = sk_sync_recv (sock, &m);
      if (r < 0)
        return sk_err_set (err, errno, "read the sync socket");
      if (r == 0)
        {
          /* The close-on-exec socket vanished: after EXECING that is the
           * proof the command runs; before it, the child died. */
          if (execing)
            return 0;
          return sk_err_set (err, 0, "setup failed: the process died before exec");
        }
      switch (m.type)
        {
        case SK_SYNC_READY:
          /* Hook point: state is recorded here before the task runs. */
          if (sk_sync_send (sock, SK_SYNC_START, NULL) < 0)
            return sk_err_set (err, errno, "send start");
          break;
        case SK_SYNC_EXECING:
          execing = true;
          break;
        case SK_SYNC_ERROR:
          if (m.phase == SK_PHASE_EXEC)
            {
              sk_err_set (err, m.err, "cannot start: %s", m.text);
              sk_err_set_exitcode (err, m.err == ENOENT ? 127 : 126);
            }
          else
            sk_err_set (err, m.err, "setup failed at %s: %s",
                        m.phase == SK_PHASE_NONE ? "join" : sk_phase_name (m.phase), m.text);
          return -1;
        default:
          return sk_err_set (err, EPROTO, "unexpected record %u on the sync socket", m.type);
        }
    }
}

void
sk_spawn_kill_and_reap (int pidfd)
{
  siginfo_t info;

  syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  while (waitid (P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
    ;
}
