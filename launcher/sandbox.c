#include "sandbox.h"
#include "child.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The namespace maker: configures the shared namespaces, says so, then
 * either waits to be killed (its namespaces are held by fd) or, with a
 * shared pid namespace, stays as its pid 1 reaping orphans. */
static __attribute__ ((noreturn)) void
maker_main (const char *hostname, bool own_net, bool holds_pid, int ready_fd)
{
  struct sk_child_fail f = { 0 };
  sigset_t all;
  char ok = 'k';

  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl (PR_SET_NAME, holds_pid ? "skiff-pause" : "skiff-netns", 0, 0, 0);
  if (sethostname (hostname, strlen (hostname)) < 0)
    ok = 'h';
  else if (own_net && sk_net_loopback_up_in_child (&f) < 0)
    ok = 'l';
  if (write (ready_fd, &ok, 1) != 1 || ok != 'k')
    _exit (1);
  close (ready_fd);
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  for (;;)
    {
      int sig = sigwaitinfo (&all, NULL);
      if (sig == SIGCHLD)
        while (waitpid (-1, NULL, WNOHANG) > 0)
          ;
      else if (sig == SIGTERM || sig == SIGINT)
        _exit (0);
    }
}

static int
open_ns (pid_t pid, const char *name, sk_err_t *err)
{
  char path[64];
  int fd;

  snprintf (path, sizeof path, "/proc/%d/ns/%s", pid, name);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  return fd;
}

/* Whether the containers have anything to share (sandbox.h). */
static bool
sandbox_wanted (const struct sk_task *task, const struct sk_userns_map *map)
{
  return map != NULL || task->n_containers != 1 || task->ipc_mode == SK_NS_TASK
         || task->pid_mode == SK_NS_TASK;
}

static int
sandbox_create (const struct sk_task *task, const char *hostname, const struct sk_userns_map *map,
                struct sk_sandbox *sb, sk_err_t *err)
{
  bool own_net = task->network_mode != SK_NET_HOST;
  bool share_ipc = task->ipc_mode == SK_NS_TASK;
  bool share_pid = task->pid_mode == SK_NS_TASK;
  struct clone_args args;
  int pidfd = -1, ready[2];
  char answer = 0;
  long pid;

  sb->netns = sb->utsns = sb->ipcns = sb->pidns = -1;
  sb->holder = 0;
  sb->holder_pidfd = -1;
  sb->has_userns = false;
  sb->userns = -1;
  if (!sandbox_wanted (task, map))
    return 0;
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "pipe");
  memset (&args, 0, sizeof args);
  args.flags = CLONE_NEWUTS | CLONE_PIDFD | (own_net ? CLONE_NEWNET : 0)
               | (share_ipc ? CLONE_NEWIPC : 0) | (share_pid ? CLONE_NEWPID : 0)
               | (map != NULL ? CLONE_NEWUSER : 0);
  args.pidfd = (uint64_t)(uintptr_t)&pidfd;
  args.exit_signal = SIGCHLD;
  pid = syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0)
    {
      int saved = errno;
      close (ready[0]);
      close (ready[1]);
      return sk_err_set (err, saved, "clone3 the task's namespaces");
    }
  if (pid == 0)
    {
      close (ready[0]);
      maker_main (hostname, own_net, share_pid, ready[1]);
    }
  close (ready[1]);
  /* The kernel made the user namespace first and gave it the others. Map it
   * now: the containers become its root. */
  if (map != NULL && sk_userns_write_maps_from_parent ((pid_t)pid, map, err) < 0)
    {
      close (ready[0]);
      syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      waitid (P_PIDFD, (id_t)pidfd, &(siginfo_t){ 0 }, WEXITED);
      close (pidfd);
      return sk_err_wrap (err, "map the task's user namespace");
    }
  if (read (ready[0], &answer, 1) != 1 || answer != 'k')
    {
      close (ready[0]);
      syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      waitid (P_PIDFD, (id_t)pidfd, &(siginfo_t){ 0 }, WEXITED);
      close (pidfd);
      return sk_err_set (err, answer == 'h' ? EPERM : 0, "set up the task's namespaces (%s)",
                         answer == 'h'   ? "sethostname"
                         : answer == 'l' ? "loopback up"
                                         : "the helper died");
    }
  close (ready[0]);

  sb->holder = (pid_t)pid;
  sb->holder_pidfd = pidfd;
  sb->has_userns = map != NULL;
  if (map != NULL)
    sb->userns_map = *map;
  if ((own_net && (sb->netns = open_ns (sb->holder, "net", err)) < 0)
      || (sb->utsns = open_ns (sb->holder, "uts", err)) < 0
      || (share_ipc && (sb->ipcns = open_ns (sb->holder, "ipc", err)) < 0)
      || (share_pid && (sb->pidns = open_ns (sb->holder, "pid", err)) < 0)
      || (map != NULL && (sb->userns = open_ns (sb->holder, "user", err)) < 0))
    {
      sk_sandbox_destroy (sb);
      return -1;
    }
  if (!share_pid)
    {
      /* Namespaces other than pid live on through our fds alone. */
      syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      waitid (P_PIDFD, (id_t)pidfd, &(siginfo_t){ 0 }, WEXITED);
      close (pidfd);
      sb->holder = 0;
      sb->holder_pidfd = -1;
    }
  return 0;
}

int
sk_sandbox_create (const struct sk_task *task, const char *hostname, struct sk_sandbox *sb,
                   sk_err_t *err)
{
  return sandbox_create (task, hostname, NULL, sb, err);
}

int
sk_sandbox_create_userns (const struct sk_task *task, const char *hostname,
                          const struct sk_userns_map *map, struct sk_sandbox *sb, sk_err_t *err)
{
  return sandbox_create (task, hostname, map, sb, err);
}

void
sk_sandbox_destroy (struct sk_sandbox *sb)
{
  int *fds[] = { &sb->netns, &sb->utsns, &sb->ipcns, &sb->pidns };

  for (size_t i = 0; i < SK_ARRAY_SIZE (fds); i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
  if (sb->has_userns && sb->userns >= 0)
    close (sb->userns);
  sb->has_userns = false;
  sb->userns = -1;
  if (sb->holder_pidfd >= 0)
    {
      /* pid 1 going ends the pid namespace: anything left in it dies. */
      syscall (SYS_pidfd_send_signal, sb->holder_pidfd, SIGKILL, NULL, 0);
      waitid (P_PIDFD, (id_t)sb->holder_pidfd, &(siginfo_t){ 0 }, WEXITED);
      close (sb->holder_pidfd);
      sb->holder_pidfd = -1;
      sb->holder = 0;
    }
}
