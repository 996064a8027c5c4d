/* Joining a running container: parent and child halves of sk_exec_spawn.
 *
 * The new process must be in the container's pid namespace, and setns only
 * changes the pid namespace of later children. Rather than a helper process
 * that forks once more, the parent points its own "pid namespace for
 * children" at the container's for the duration of one clone3 and puts it
 * back right after: the process is then the caller's direct child (waitid
 * on its pidfd works), is born inside the container's cgroup on v2, and the
 * parent attaches it on v1 while it waits, exactly as sk_launch does. The
 * child joins the other namespaces with one setns on the target's pidfd,
 * drops to the container's credentials, loads its seccomp filter last and
 * execs, reporting any failure as one sync record. */
#include "exec.h"
#include "cgroup.h"
#include "seccomp.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Exit status of a child that failed before exec; the parent reports the
 * record it sent, never this number. */
#define SK_EXEC_SETUP_FAILED 125

/* A probe's set-up is a handful of system calls; a slow one means a frozen
 * or overloaded container. */
#define SK_EXEC_SETUP_TIMEOUT_MS 10000

extern char **environ;

/* The namespaces a joiner may have to enter, user first: with a pidfd the
 * kernel installs them all at once and orders them itself. */
static const struct
{
  int flag;
  const char *name; /* entry under /proc/<pid>/ns */
} join_namespaces[] = {
  { CLONE_NEWUSER, "user" },     { CLONE_NEWNS, "mnt" },  { CLONE_NEWPID, "pid" },
  { CLONE_NEWNET, "net" },       { CLONE_NEWUTS, "uts" }, { CLONE_NEWIPC, "ipc" },
  { CLONE_NEWCGROUP, "cgroup" },
};

/* "mnt,net" for messages, into a caller buffer: the child must not allocate. */
static const char *
format_namespaces (int flags, char *buf, size_t size)
{
  size_t len = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < SK_ARRAY_SIZE (join_namespaces); i++)
    if ((flags & join_namespaces[i].flag) && len < size)
      len += (size_t)snprintf (buf + len, size - len, "%s%s", len > 0 ? "," : "",
                               join_namespaces[i].name);
  return buf;
}

/* ---- child half -------------------------------------------------------- */

/* Everything the child keeps open until exec, moved above 2. */
struct child_fds
{
  int sock;
  int target;
  int seccomp;
};

static int
move_above_stdio (int fd)
{
  return fd < 0 ? -1 : fcntl (fd, F_DUPFD_CLOEXEC, 3);
}

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Close every fd above 2 except the (at most three) in keep: the supervisor's
 * other fds (state files, other containers' pipes, host directories) must
 * not follow us into the container, not even until exec. */
static void
close_all_but (int *keep, size_t n)
{
  int from = 3;

  qsort (keep, n, sizeof *keep, cmp_int);
  for (size_t i = 0; i <= n; i++)
    {
      int to = i < n ? keep[i] - 1 : INT_MAX;
      if (i < n && keep[i] < 3)
        continue;
      if (to >= from && syscall (SYS_close_range, (unsigned)from, (unsigned)to, 0) < 0)
        for (int fd = from; fd <= to && fd < 4096; fd++)
          close (fd);
      if (i < n)
        from = keep[i] + 1;
    }
}

static int
child_fds_setup (const struct sk_exec_spec *s, int sock, struct child_fds *fds,
                 struct sk_child_fail *f)
{
  int stdio[3];
  int keep[3];

  /* Relocate first: a supervisor started with a closed stdin may hold the
   * sync socket on fd 0, which the dup2 below would clobber. */
  fds->sock = move_above_stdio (sock);
  fds->target = move_above_stdio (s->target_pidfd);
  fds->seccomp = move_above_stdio (s->seccomp_fd);
  if (fds->sock < 0 || fds->target < 0 || (s->seccomp_fd >= 0 && fds->seccomp < 0))
    return sk_child_fail (f, SK_PHASE_SYNC, errno, "duplicate the joiner's fds");
  for (int i = 0; i < 3; i++)
    {
      stdio[i] = move_above_stdio (s->stdio[i]);
      if (stdio[i] < 0)
        return sk_child_fail (f, SK_PHASE_EXEC, errno, "duplicate stdio fd %d", s->stdio[i]);
    }
  for (int i = 0; i < 3; i++)
    if (dup2 (stdio[i], i) < 0)
      return sk_child_fail (f, SK_PHASE_EXEC, errno, "dup2 stdio fd %d", i);
  keep[0] = fds->sock;
  keep[1] = fds->target;
  keep[2] = fds->seccomp;
  close_all_but (keep, fds->seccomp >= 0 ? 3 : 2);
  return 0;
}

static int
child_join (const struct sk_exec_spec *s, int flags, int target, struct sk_child_fail *f)
{
  char names[64];

  flags &= ~CLONE_NEWPID; /* entered at birth */
  if (flags != 0 && setns (target, flags) < 0)
    {
      int saved = errno; /* before snprintf in the formatting */
      return sk_child_fail (f, SK_PHASE_NONE, saved, "setns `%s` of pid %d%s",
                            format_namespaces (flags, names, sizeof names), (int)s->target_pid,
                            saved == EINVAL ? " (needs Linux >= 5.8)" : "");
    }
  /* Entering a mount namespace moves root and cwd to its root, which is the
   * container's pivoted root; say "/" explicitly rather than rely on it. */
  if (chdir ("/") < 0)
    return sk_child_fail (f, SK_PHASE_CHDIR, errno, "chdir to the container's `/`");
  return 0;
}

static int
child_chdir_checked (const char *cwd, bool tried_ok, struct sk_child_fail *f)
{
  char buf[PATH_MAX];

  if (chdir (cwd) < 0 && !tried_ok)
    return sk_child_fail (f, SK_PHASE_CHDIR, errno, "chdir to `%s`", cwd);
  errno = 0;
  /* CVE-2024-21626: a cwd outside our root reads back as "(unreachable)"
   * or fails; check before seccomp, which may refuse getcwd. */
  if (getcwd (buf, sizeof buf) == NULL || buf[0] != '/')
    return sk_child_fail (f, SK_PHASE_CHDIR, errno ? errno : EPERM,
                          "working directory `%s` is outside the container", cwd);
  return 0;
}

static int
child_setup (const struct sk_exec_spec *s, int flags, int *sockp, struct sk_spawn_join *join,
             struct sk_seccomp_program *prog, struct sk_child_fail *f)
{
  int sock = *sockp;
  struct child_fds fds = { -1, -1, -1 };
  const char *cwd = s->cwd != NULL ? s->cwd : "/";
  bool cwd_ok;

  /* Non-dumpable until exec: processes of the container must not open our
   * /proc/<pid> entries (exe, fd, mem) while we still hold host state. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  /* v1: into the cgroup by ourselves, before the fd sweep below closes
   * the files we write to. */
  if (sk_spawn_child_join (join, f) < 0)
    return -1;
  if (child_fds_setup (s, sock, &fds, f) < 0)
    return -1;
  sock = *sockp = fds.sock;

  /* GO: we are in the container's cgroup (joined above on v1), with its limits. */
  if (sk_spawn_child_wait_for (sock, SK_SYNC_GO, f) < 0)
    return -1;

  if (child_join (s, flags, fds.target, f) < 0)
    return -1;
  close (fds.target);

  if (s->new_session && setsid () < 0)
    return sk_child_fail (f, SK_PHASE_EXEC, errno, "setsid");
  /* exec -t: the pty skiff made becomes the command's controlling
   * terminal, so that Ctrl-C and job control reach it. Best effort: a
   * terminal that already leads another session stays a plain fd. */
  if (s->new_session && isatty (STDIN_FILENO))
    ioctl (STDIN_FILENO, TIOCSCTTY, 0);
  umask (022);

  if (fds.seccomp >= 0)
    {
      if (sk_seccomp_read_in_child (fds.seccomp, prog, f) < 0)
        return -1;
      close (fds.seccomp);
    }

  /* Try the directory as root and insist after the switch: it may be
   * readable only by the container's user. */
  cwd_ok = chdir (cwd) == 0;
  if (sk_creds_apply_in_child (&s->creds, f) < 0)
    return -1;
  if (child_chdir_checked (cwd, cwd_ok, f) < 0)
    return -1;

  /* Changing the effective ids cleared the death signal: set it again, the
   * probe must not outlive the supervisor. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  sk_spawn_child_reset_signals ();

  /* Seccomp last: after it only send and execve run. */
  if (prog->filter != NULL && sk_seccomp_load_in_child (prog, f) < 0)
    return -1;
  /* A failed send means the parent is gone: do not run orphaned. */
  if (sk_sync_send (sock, SK_SYNC_EXECING, NULL) < 0)
    return sk_child_fail (f, SK_PHASE_SYNC, errno, "send execing");

  environ = (char **)(s->envp != NULL ? s->envp : (char *const[]){ NULL });
  execvp (s->argv[0], s->argv);
  int saved = errno;
  if (saved == ENOENT && strchr (s->argv[0], '/') != NULL && access (s->argv[0], F_OK) == 0)
    return sk_child_fail (f, SK_PHASE_EXEC, saved,
                          "exec `%s` (the file exists: missing interpreter or dynamic loader?)",
                          s->argv[0]);
  return sk_child_fail (f, SK_PHASE_EXEC, saved, "exec `%s`", s->argv[0]);
}

static __attribute__ ((noreturn)) void
child_main (const struct sk_exec_spec *s, int flags, int sock, struct sk_spawn_join *join)
{
  struct sk_child_fail f = { 0 };
  struct sk_seccomp_program prog = { 0 };
  int code = SK_EXEC_SETUP_FAILED;

  if (child_setup (s, flags, &sock, join, &prog, &f) < 0)
    {
      sk_sync_send (sock, SK_SYNC_ERROR, &f);
      if (f.phase == SK_PHASE_EXEC)
        code = f.err == ENOENT ? 127 : 126;
    }
  sk_seccomp_program_clear (&prog);
  _exit (code);
}

/* ---- parent half ------------------------------------------------------- */

/* The namespaces of the target that differ from ours: sharing one with the
 * host (networkMode host) means there is nothing to join. The pidfd check
 * afterwards proves /proc/<pid> was still the target. */
static int
namespaces_to_join (const struct sk_exec_spec *s, int *flags, sk_err_t *err)
{
  *flags = 0;
  for (size_t i = 0; i < SK_ARRAY_SIZE (join_namespaces); i++)
    {
      char theirs[64], ours[64];
      struct stat a, b;

      snprintf (theirs, sizeof theirs, "/proc/%d/ns/%s", (int)s->target_pid,
                join_namespaces[i].name);
      snprintf (ours, sizeof ours, "/proc/self/ns/%s", join_namespaces[i].name);
      if (stat (theirs, &a) < 0)
        {
          if (errno == ENOENT && join_namespaces[i].flag == CLONE_NEWCGROUP)
            continue; /* kernel without cgroup namespaces */
          return sk_err_set (err, errno, "stat `%s`", theirs);
        }
      if (stat (ours, &b) < 0)
        return sk_err_set (err, errno, "stat `%s`", ours);
      if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        *flags |= join_namespaces[i].flag;
    }
  if (syscall (SYS_pidfd_send_signal, s->target_pidfd, 0, NULL, 0) < 0)
    return sk_err_set (err, errno, "container process %d", (int)s->target_pid);
  return 0;
}

/* clone3 straight into the cgroup where the kernel allows it; otherwise a
 * plain clone3, and the caller attaches the waiting child. */
static pid_t
clone_joiner (const struct sk_exec_spec *s, int *pidfd, bool *in_cgroup, sk_err_t *err)
{
  struct clone_args args;
  int cgfd = s->cgroup != NULL ? sk_cgroup_clone_fd (s->cgroup) : -1;
  long pid;

  memset (&args, 0, sizeof args);
  args.flags = CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  if (cgfd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t)cgfd;
    }
  pid = syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0 && cgfd >= 0 && (errno == EINVAL || errno == E2BIG || errno == ENOSYS))
    {
      args.flags &= ~CLONE_INTO_CGROUP;
      args.cgroup = 0;
      cgfd = -1;
      pid = syscall (SYS_clone3, &args, sizeof args);
    }
  if (pid < 0)
    {
      int saved = errno;
      sk_err_set (err, saved, "clone3 the process to run in the container");
      if (saved == ENOMEM)
        /* alloc_pid refuses a pid namespace whose init has exited. */
        sk_err_wrap (err, "the container's pid 1 may have exited");
      else if (saved == EAGAIN)
        sk_err_wrap (err, "the container may be at its pids limit");
      return -1;
    }
  *in_cgroup = cgfd >= 0;
  return (pid_t)pid;
}

/* Clone with our pid namespace for children pointed at the container's, and
 * restore it whatever happens. */
static pid_t
clone_in_pidns (const struct sk_exec_spec *s, int flags, int *pidfd, bool *in_cgroup, sk_err_t *err)
{
  _cleanup_close_ int own = -1;
  pid_t pid;

  if (!(flags & CLONE_NEWPID))
    return clone_joiner (s, pidfd, in_cgroup, err);

  own = open ("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
  if (own < 0)
    return sk_err_set (err, errno, "open `/proc/thread-self/ns/pid_for_children`");
  if (setns (s->target_pidfd, CLONE_NEWPID) < 0)
    return sk_err_set (err, errno, "setns `pid` of pid %d", (int)s->target_pid);
  pid = clone_joiner (s, pidfd, in_cgroup, err);
  if (pid == 0)
    return 0;
  if (setns (own, CLONE_NEWPID) < 0)
    {
      /* Cannot happen for our own namespace; if it did, every later child
       * of the supervisor would land in the container. */
      int saved = errno;
      if (pid > 0)
        {
          syscall (SYS_pidfd_send_signal, *pidfd, SIGKILL, NULL, 0);
          waitid (P_PIDFD, (id_t)*pidfd, NULL, WEXITED);
          close (*pidfd);
          *pidfd = -1;
        }
      return sk_err_set (err, saved, "setns back to skiff's own pid namespace");
    }
  return pid;
}

int
sk_exec_spawn (const struct sk_exec_spec *s, pid_t *pid_out, int *pidfd_out, sk_err_t *err)
{
  _cleanup_close_ int parent_sock = -1;
  _cleanup_close_ int pidfd = -1;
  int socks[2];
  int flags;
  struct sk_spawn_join join = { .n = 0 };
  bool in_cgroup = false;
  pid_t pid;

  if (s->argv == NULL || s->argv[0] == NULL || s->argv[0][0] == '\0')
    return sk_err_set (err, EINVAL, "exec in the container: empty command");
  if (s->target_pidfd < 0 || s->target_pid <= 0)
    return sk_err_set (err, EBADF, "exec in the container: no target process");
  if (namespaces_to_join (s, &flags, err) < 0)
    return sk_err_wrap (err, "exec in the container");

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
    return sk_err_set (err, errno, "socketpair for the sync socket");
  parent_sock = socks[0];

  if (sk_spawn_join_open (s->cgroup, &join, err) < 0)
    {
      close (socks[1]);
      return -1;
    }
  pid = clone_in_pidns (s, flags, &pidfd, &in_cgroup, err);
  if (pid < 0)
    {
      close (socks[1]);
      sk_spawn_join_close (&join);
      return -1;
    }
  if (pid == 0)
    child_main (s, flags, socks[1], &join);
  close (socks[1]);
  in_cgroup = in_cgroup || join.n > 0;
  sk_spawn_join_close (&join);

  if (sk_spawn_prepare_from_parent (pid, s->cgroup, in_cgroup, s->rlimits, s->n_rlimits,
                                    s->oom_score_adj, err)
      < 0)
    {
      sk_spawn_kill_and_reap (pidfd);
      return -1;
    }
  if (sk_sync_send (parent_sock, SK_SYNC_GO, NULL) < 0)
    {
      sk_err_set (err, errno, "send go");
      sk_spawn_kill_and_reap (pidfd);
      return -1;
    }
  if (sk_spawn_follow (parent_sock, SK_EXEC_SETUP_TIMEOUT_MS, "joining the container", err) < 0)
    {
      sk_spawn_kill_and_reap (pidfd);
      return -1;
    }
  *pid_out = pid;
  *pidfd_out = steal_fd (&pidfd);
  return 0;
}
