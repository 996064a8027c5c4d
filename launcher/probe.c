#include "probe.h"
#include "exec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
sk_probe_init (struct sk_probe *p)
{
  memset (p, 0, sizeof *p);
  p->pidfd = -1;
  p->out_fd = -1;
}

static void
close_fds (struct sk_probe *p)
{
  if (p->pidfd >= 0)
    close (p->pidfd);
  if (p->out_fd >= 0)
    close (p->out_fd);
  p->pidfd = p->out_fd = -1;
}

int
sk_probe_start (struct sk_probe *p, const struct sk_ctr *c, const struct sk_health_check *check,
                uint64_t now_ms, sk_err_t *err)
{
  struct sk_exec_spec spec;
  _cleanup_close_ int devnull = -1;
  _cleanup_strv_ char **argv = NULL;
  int pipefd[2];
  size_t n = check->command.n;

  sk_probe_init (p);
  /* CMD-SHELL runs its string with the container's shell, as Docker does. */
  if (check->shell)
    {
      argv = xzalloc (4 * sizeof *argv);
      argv[0] = xstrdup ("/bin/sh");
      argv[1] = xstrdup ("-c");
      argv[2] = xstrdup (n > 0 ? check->command.v[0] : "");
    }
  else
    {
      argv = xzalloc ((n + 1) * sizeof *argv);
      for (size_t i = 0; i < n; i++)
        argv[i] = xstrdup (check->command.v[i]);
    }
  if (argv[0] == NULL)
    return sk_err_set (err, 0, "health check has no command");

  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0)
    return sk_err_set (err, errno, "open `/dev/null`");
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "pipe for the health check's output");

  memset (&spec, 0, sizeof spec);
  spec.target_pidfd = c->pidfd;
  spec.target_pid = c->pid;
  spec.cgroup = c->cgroup;
  spec.seccomp_fd = c->seccomp_fd;
  spec.creds = c->creds;
  spec.argv = argv;
  spec.envp = c->envp;
  spec.cwd = c->cwd;
  spec.stdio[0] = devnull;
  spec.stdio[1] = pipefd[1];
  spec.stdio[2] = pipefd[1];
  spec.new_session = true;
  spec.n_rlimits = c->n_rlimits;
  spec.rlimits = c->rlimits;
  if (sk_exec_spawn (&spec, &p->pid, &p->pidfd, err) < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      p->pid = 0;
      return sk_err_wrap (err, "health check");
    }
  close (pipefd[1]);
  p->out_fd = pipefd[0];
  fcntl (p->out_fd, F_SETFL, O_NONBLOCK);
  p->start_ms = now_ms;
  p->deadline_ms = now_ms + (uint64_t)check->timeout * 1000;
  return 0;
}

int
sk_probe_read (struct sk_probe *p)
{
  char scratch[4096];

  if (p->out_fd < 0)
    return 1;
  for (;;)
    {
      ssize_t r;
      size_t room = sizeof p->out - 1 - p->len;
      /* Keep the first SK_HEALTH_OUTPUT_MAX bytes; read and drop the rest so
       * a chatty probe never blocks on a full pipe. */
      if (room > 0)
        r = read (p->out_fd, p->out + p->len, room);
      else
        r = read (p->out_fd, scratch, sizeof scratch);
      if (r > 0)
        {
          if (room > 0)
            p->len += (size_t)r;
          continue;
        }
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
      close (p->out_fd);
      p->out_fd = -1;
      return 1;
    }
}

bool
sk_probe_finish (struct sk_probe *p, uint64_t now_ms, struct sk_probe_result *r)
{
  siginfo_t info;

  memset (&info, 0, sizeof info);
  if (p->pid <= 0 || waitid (P_PIDFD, (id_t)p->pidfd, &info, WEXITED | WNOHANG | WNOWAIT) < 0
      || info.si_pid == 0)
    return false;
  /* Anything the probe left in its session goes with it; the unreaped
   * leader keeps the group id from being reused meanwhile. */
  kill (-p->pid, SIGKILL);
  waitid (P_PIDFD, (id_t)p->pidfd, &(siginfo_t){ 0 }, WEXITED);
  if (p->out_fd >= 0)
    sk_probe_read (p);
  close_fds (p);
  p->out[p->len] = '\0';
  memset (r, 0, sizeof *r);
  r->start_ms = p->start_ms;
  r->timed_out = p->timed_out;
  r->exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  r->output = p->out;
  r->output_len = p->len;
  (void)now_ms;
  p->pid = 0;
  return true;
}

void
sk_probe_timeout (struct sk_probe *p)
{
  if (p->pid <= 0 || p->timed_out)
    return;
  p->timed_out = true;
  /* The probe leads its own session (new_session): its group goes too. */
  kill (-p->pid, SIGKILL);
  syscall (SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
}

void
sk_probe_abort (struct sk_probe *p)
{
  if (p->pid > 0)
    {
      kill (-p->pid, SIGKILL);
      syscall (SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
      waitid (P_PIDFD, (id_t)p->pidfd, &(siginfo_t){ 0 }, WEXITED);
    }
  close_fds (p);
  p->pid = 0;
}
