#include "init.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit status of pid 1 mirrors the task: its exit code, or 128+n when a
 * signal n killed it (pid 1 cannot usefully re-raise the signal on itself:
 * the kernel ignores default-action signals sent to a namespace's init). */
static int
status_to_exit (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 255;
}

/* The record survives us and our parent: written whole at its offset (one
 * pwrite) and synced before the exit that others may observe. */
static void
write_status (int fd, int status)
{
  char rec[32];
  int len;

  if (fd < 0)
    return;
  if (WIFSIGNALED (status))
    len = snprintf (rec, sizeof rec, "killed %d\n", WTERMSIG (status));
  else
    len = snprintf (rec, sizeof rec, "exited %d\n", WEXITSTATUS (status));
  if (pwrite (fd, rec, (size_t)len, SK_INIT_STATUS_RECORD_AT) == len)
    fsync (fd);
  close (fd);
}

void
sk_init_loop (pid_t task, int status_fd)
{
  sigset_t all;

  sigfillset (&all);
  prctl (PR_SET_NAME, "skiff-init", 0, 0, 0);
  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (&all, &info);

      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          /* Forward what the supervisor sends us (SIGTERM on stop, ...) to
           * the task, whose own handlers decide. */
          kill (task, sig);
          continue;
        }
      /* Reap every exited child: orphans re-parented to us too. */
      for (;;)
        {
          int status;
          pid_t pid = waitpid (-1, &status, WNOHANG);
          if (pid <= 0)
            break;
          if (pid == task)
            {
              write_status (status_fd, status);
              _exit (status_to_exit (status));
            }
        }
    }
}

static void
close_fd_range (unsigned first, unsigned last)
{
  if (first > last)
    return;
  if (syscall (SYS_close_range, first, last, 0) == 0)
    return;
  for (unsigned fd = first; fd <= last && fd < 4096; fd++)
    close ((int)fd);
}

void
sk_init_close_fds (int keep)
{
  if (keep < 3)
    {
      close_fd_range (3, ~0U);
      return;
    }
  close_fd_range (3, (unsigned)keep - 1);
  close_fd_range ((unsigned)keep + 1, ~0U);
}

pid_t
sk_init_fork (const sigset_t *task_mask)
{
  sigset_t all;
  pid_t pid;

  /* Block everything before the fork so no signal slips between fork and
   * sigwaitinfo; the task restores its own mask. */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  pid = fork ();
  if (pid == 0)
    sigprocmask (SIG_SETMASK, task_mask, NULL);
  return pid;
}
