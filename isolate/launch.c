/* The launch path: parent and child halves of starting one container.
 *
 * Order and reasons: docs/architecture.md ("Launch path"). In short: the
 * parent prepared cgroup, seccomp BPF and mount plan; it clones the child
 * into every new namespace at once (and into its cgroup on cgroup v2), puts
 * it in its cgroup on v1 and sets its rlimits while the child waits, then
 * lets it go. The child sets itself up with system calls only, reports any
 * failure as one record on the sync socket, and execs. */
#include "launch.h"
#include "cgroup.h"
#include "init.h"
#include "net.h"
#include "seccomp.h"
#include "spawn.h"
#include "sync.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
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

/* Exit status of a child whose set-up failed; the parent reports the
 * record it sent, never this number. */
#define SK_CHILD_SETUP_FAILED 125

/* How long the parent waits for the child to finish its set-up. */
#define SK_SETUP_TIMEOUT_MS 30000

extern char **environ;

/* ---- child half -------------------------------------------------------- */

/* Inside the task's user namespace, before anything that creates files or
 * mounts: the root filesystem the parent built is attached on `merged`
 * while we are still host root (the host directories above it may be
 * closed to the namespace's root), then we become that root, so that mount
 * points and files created from here on are owned by a mapped id (an
 * unmapped creator gets EOVERFLOW). */
static int
child_enter_userns (const struct sk_launch_spec *s, int root_fd, struct sk_child_fail *f)
{
  if (root_fd >= 0)
    {
      if (mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        return sk_child_fail (f, SK_PHASE_MOUNT, errno, "mount `%s` private", "/");
      if (sk_userns_attach_in_child (root_fd, s->mounts->merged, f) < 0)
        return -1;
      close (root_fd);
    }
  return sk_userns_become_root_in_child (f);
}

static int
child_write_sysctls (const struct sk_launch_spec *s, struct sk_child_fail *f)
{
  /* Written through the host's /proc, before the container's /proc is
   * mounted: namespaced sysctls resolve against the writer's own
   * namespaces, which are already the container's. */
  for (size_t i = 0; i < s->n_sysctls; i++)
    {
      char path[512];
      size_t len, vlen;
      int fd;

      len = (size_t)snprintf (path, sizeof path, "/proc/sys/%s", s->sysctls[i].key);
      if (len >= sizeof path)
        return sk_child_fail (f, SK_PHASE_SYSCTL, ENAMETOOLONG, "sysctl `%s`", s->sysctls[i].key);
      for (char *p = path + strlen ("/proc/sys/"); *p; p++)
        if (*p == '.')
          *p = '/';
      fd = open (path, O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        return sk_child_fail (f, SK_PHASE_SYSCTL, errno, "open sysctl `%s`", s->sysctls[i].key);
      vlen = strlen (s->sysctls[i].value);
      if (write (fd, s->sysctls[i].value, vlen) != (ssize_t)vlen)
        {
          int saved = errno;
          close (fd);
          return sk_child_fail (f, SK_PHASE_SYSCTL, saved, "write sysctl `%s` = `%s`",
                                s->sysctls[i].key, s->sysctls[i].value);
        }
      close (fd);
    }
  return 0;
}

static int
child_stdio (const struct sk_launch_spec *s, struct sk_child_fail *f)
{
  int fds[3];

  /* Move the sources above 2 first so that dup2 onto 0..2 never clobbers a
   * source still to be copied. */
  for (int i = 0; i < 3; i++)
    {
      fds[i] = fcntl (s->stdio[i], F_DUPFD_CLOEXEC, 3);
      if (fds[i] < 0)
        return sk_child_fail (f, SK_PHASE_EXEC, errno, "duplicate stdio fd %d", s->stdio[i]);
    }
  for (int i = 0; i < 3; i++)
    if (dup2 (fds[i], i) < 0)
      return sk_child_fail (f, SK_PHASE_EXEC, errno, "dup2 stdio fd %d", i);
  return 0;
}

/* pseudoTerminal. The slave was opened by the parent on skiff's devpts,
 * which the container's root does not show: clone a mount of it while our
 * copy of the host's mount table still has it (a bind of the fd itself
 * would cross into the parent's mount namespace, which the kernel
 * refuses), and put that on /dev/console after the root switch, as crun
 * shows its console. Best effort: without it the fds are still the
 * terminal. */
static int
child_clone_console (const struct sk_launch_spec *s)
{
  if (s->console_path == NULL || !(s->namespaces & CLONE_NEWNS) || s->mounts == NULL)
    return -1;
  return open_tree (AT_FDCWD, s->console_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
}

static void
child_attach_console (int tree)
{
  int fd;

  if (tree < 0)
    return;
  fd = open ("/dev/console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      close (fd);
      move_mount (tree, "", AT_FDCWD, "/dev/console", MOVE_MOUNT_F_EMPTY_PATH);
    }
  close (tree);
}

/* Under init the task gets a process group of its own and the terminal's
 * foreground, so that Ctrl-C reaches the task once (not through init as
 * well), as tini does. SIGTTOU stays blocked while we take it. */
static void
child_take_foreground (void)
{
  sigset_t ttou, old;

  sigemptyset (&ttou);
  sigaddset (&ttou, SIGTTOU);
  sigprocmask (SIG_BLOCK, &ttou, &old);
  if (setpgid (0, 0) == 0)
    tcsetpgrp (STDIN_FILENO, getpgrp ());
  sigprocmask (SIG_SETMASK, &old, NULL);
}

static int
child_setup (const struct sk_launch_spec *s, int sock, int root_fd, struct sk_spawn_join *join,
             struct sk_child_fail *f)
{
  struct sk_seccomp_program prog = { 0 };
  sigset_t task_mask;

  /* Nobody may ptrace or read /proc/<pid> of a half-configured container;
   * and an unfinished set-up dies with a dying launcher. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  /* GO means: our rlimits are set and, unless we join it ourselves (v1,
   * right here), we are in our cgroup. Everything below runs limited. */
  if (sk_spawn_child_wait_for (sock, SK_SYNC_GO, f) < 0)
    return -1;
  if (sk_spawn_child_join (join, f) < 0)
    return -1;

  /* The task's shared namespaces: joined before anything that depends on
   * them (hostname, sysctls, the sysfs mount of the network namespace). */
  if (s->join_netns >= 0 && setns (s->join_netns, CLONE_NEWNET) < 0)
    return sk_child_fail (f, SK_PHASE_NETWORK, errno, "join the task's network namespace");
  if (s->join_utsns >= 0 && setns (s->join_utsns, CLONE_NEWUTS) < 0)
    return sk_child_fail (f, SK_PHASE_HOSTNAME, errno, "join the task's uts namespace");
  if (s->join_ipcns >= 0 && setns (s->join_ipcns, CLONE_NEWIPC) < 0)
    return sk_child_fail (f, SK_PHASE_SYNC, errno, "join the task's ipc namespace");

  /* Only now, inside the cgroup, does a new cgroup namespace root itself
   * at the container's own group. */
  if (unshare (CLONE_NEWCGROUP) < 0)
    return sk_child_fail (f, SK_PHASE_CGROUPNS, errno, "unshare the cgroup namespace");

  if (s->userns && child_enter_userns (s, root_fd, f) < 0)
    return -1;

  if ((s->namespaces & CLONE_NEWUTS) && s->hostname != NULL
      && sethostname (s->hostname, strlen (s->hostname)) < 0)
    return sk_child_fail (f, SK_PHASE_HOSTNAME, errno, "sethostname `%s`", s->hostname);

  if ((s->namespaces & CLONE_NEWNET) && sk_net_loopback_up_in_child (f) < 0)
    return -1;

  if (child_write_sysctls (s, f) < 0)
    return -1;

  /* All mounts, masks included, happen before pivot_root while host paths
   * (volumes, device nodes) are still reachable. */
  int console = child_clone_console (s);
  if ((s->namespaces & CLONE_NEWNS) && s->mounts != NULL
      && sk_mounts_setup_in_child (s->mounts, f) < 0)
    return -1;
  child_attach_console (console);

  if (setsid () < 0)
    return sk_child_fail (f, SK_PHASE_EXEC, errno, "setsid");
  umask (022);
  if (child_stdio (s, f) < 0)
    return -1;
  /* A new session leader without a terminal takes the pty as its own. */
  if (s->console_path != NULL && ioctl (STDIN_FILENO, TIOCSCTTY, 0) < 0)
    return sk_child_fail (f, SK_PHASE_EXEC, errno, "make `%s` the controlling terminal",
                          s->console_path);
  /* Nothing of the launcher may leak into the task (CVE-2024-21626 leaked
   * a host directory fd): everything above 2 closes on exec. */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 1024; fd++)
      fcntl (fd, F_SETFD, FD_CLOEXEC);

  /* Read the filter while we may still read any fd; it is loaded last. */
  if (s->seccomp_fd >= 0 && sk_seccomp_read_in_child (s->seccomp_fd, &prog, f) < 0)
    return -1;

  /* The working directory may be readable only by the task's user: try
   * before the switch (as root) and insist after it. */
  const char *cwd = s->cwd != NULL ? s->cwd : "/";
  int cwd_ok = chdir (cwd) == 0;

  /* Fixed privilege-drop order: groups, bounding set, ids, capabilities,
   * no_new_privs (isolate/caps.c explains each step). */
  if (sk_creds_apply_in_child (&s->creds, f) < 0)
    return -1;
  if (chdir (cwd) < 0 && !cwd_ok)
    return sk_child_fail (f, SK_PHASE_CHDIR, errno, "chdir to `%s`", cwd);
  /* Changing ids cleared the death signal: set it again. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  if (sk_sync_send (sock, SK_SYNC_READY, NULL) < 0)
    return sk_child_fail (f, SK_PHASE_SYNC, errno, "send ready");
  if (sk_spawn_child_wait_for (sock, SK_SYNC_START, f) < 0)
    return -1;

  /* The container outlives a supervisor that is restarted (detached
   * mode), init included (its death would end the pid namespace); in the
   * foreground it dies with skiff. A forked task starts without one. */
  if (!s->die_with_parent)
    prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);

  sigemptyset (&task_mask);
  sk_spawn_child_reset_signals ();
  if (s->init)
    {
      /* pid 1 stays ours: the task is its child. Both get the filter. */
      pid_t task = sk_init_fork (&task_mask);
      if (task < 0)
        return sk_child_fail (f, SK_PHASE_INIT, errno, "fork the task under init");
      if (task > 0)
        {
          close (sock);
          sk_init_close_fds (s->init_status_fd);
          if (prog.filter != NULL)
            {
              struct sk_child_fail ignored;
              if (sk_seccomp_load_in_child (&prog, &ignored) < 0)
                kill (task, SIGKILL);
            }
          sk_init_loop (task, s->init_status_fd);
        }
      /* The task never holds init's status file. */
      if (s->init_status_fd >= 0)
        close (s->init_status_fd);
      if (s->console_path != NULL)
        child_take_foreground ();
    }

  /* Seccomp is the very last step: the filter then only has to allow what
   * runs after it (send, execve), and no_new_privs is already set. */
  if (prog.filter != NULL && sk_seccomp_load_in_child (&prog, f) < 0)
    return -1;

  if (sk_sync_send (sock, SK_SYNC_EXECING, NULL) < 0)
    return sk_child_fail (f, SK_PHASE_SYNC, errno, "send execing");
  /* execvp searches the PATH of `environ`, so give it the task's. */
  environ = (char **)s->envp;
  execvp (s->argv[0], s->argv);
  int saved = errno;
  if (saved == ENOENT && strchr (s->argv[0], '/') != NULL && access (s->argv[0], F_OK) == 0)
    return sk_child_fail (f, SK_PHASE_EXEC, saved,
                          "exec `%s` (the file exists: missing interpreter or dynamic loader?)",
                          s->argv[0]);
  return sk_child_fail (f, SK_PHASE_EXEC, saved, "exec `%s`", s->argv[0]);
}

static __attribute__ ((noreturn)) void
child_main (const struct sk_launch_spec *s, int sock, int root_fd, struct sk_spawn_join *join)
{
  struct sk_child_fail f = { 0 };

  if (child_setup (s, sock, root_fd, join, &f) < 0)
    {
      sk_sync_send (sock, SK_SYNC_ERROR, &f);
      if (f.phase == SK_PHASE_EXEC && f.err == ENOENT)
        _exit (127);
      if (f.phase == SK_PHASE_EXEC)
        _exit (126);
      _exit (SK_CHILD_SETUP_FAILED);
    }
  _exit (SK_CHILD_SETUP_FAILED);
}

/* ---- parent half ------------------------------------------------------- */

static pid_t clone_child_in (const struct sk_launch_spec *s, uint64_t extra_flags, int *pidfd,
                             bool *in_cgroup, sk_err_t *err);
static pid_t clone_child_in_userns (const struct sk_launch_spec *s, int *pidfd, bool *in_cgroup,
                                    sk_err_t *err);

/* A shared pid namespace can only be entered at birth: point our
 * pid_for_children at it around the clone, then back at our own. */
static pid_t
clone_child (const struct sk_launch_spec *s, int *pidfd, bool *in_cgroup, sk_err_t *err)
{
  _cleanup_close_ int own = -1;
  pid_t pid;

  if (s->userns)
    return clone_child_in_userns (s, pidfd, in_cgroup, err);
  if (s->join_pidns < 0)
    return clone_child_in (s, 0, pidfd, in_cgroup, err);
  own = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (own < 0)
    return sk_err_set (err, errno, "open `/proc/self/ns/pid`");
  if (setns (s->join_pidns, CLONE_NEWPID) < 0)
    return sk_err_set (err, errno, "join the task's pid namespace");
  pid = clone_child_in (s, 0, pidfd, in_cgroup, err);
  if (pid == 0)
    return 0;
  if (setns (own, CLONE_NEWPID) < 0)
    {
      /* Every later child would land in the task's namespace: fatal. */
      int saved = errno;
      if (pid > 0)
        {
          syscall (SYS_pidfd_send_signal, *pidfd, SIGKILL, NULL, 0);
          waitid (P_PIDFD, (id_t)*pidfd, &(siginfo_t){ 0 }, WEXITED);
          close (*pidfd);
        }
      return sk_err_set (err, saved, "return to skiff's own pid namespace");
    }
  return pid;
}

static pid_t
clone_child_in (const struct sk_launch_spec *s, uint64_t extra_flags, int *pidfd, bool *in_cgroup,
                sk_err_t *err)
{
  struct clone_args args;
  int cgfd = s->cgroup != NULL ? sk_cgroup_clone_fd (s->cgroup) : -1;
  long pid;

  memset (&args, 0, sizeof args);
  args.flags = (uint64_t)(s->namespaces & ~CLONE_NEWCGROUP) | CLONE_PIDFD | extra_flags;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  /* With CLONE_PARENT the kernel takes the caller's own exit signal (the
   * helper's SIGCHLD) and refuses one given here. */
  args.exit_signal = (extra_flags & CLONE_PARENT) ? 0 : SIGCHLD;
  if (cgfd >= 0)
    {
      /* Born inside its cgroup: limited before its first instruction. */
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t)cgfd;
    }
  pid = syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0 && cgfd >= 0
      && (errno == EINVAL || errno == E2BIG || errno == ENOSYS
          || ((extra_flags & CLONE_PARENT) && (errno == EPERM || errno == EACCES))))
    {
      /* Older kernel: clone plainly, attach while the child still waits.
       * Also from inside a user namespace (--userns helper), should the
       * kernel judge the cgroup's permissions against it: the parent, real
       * root, attaches. */
      args.flags &= ~CLONE_INTO_CGROUP;
      args.cgroup = 0;
      cgfd = -1;
      pid = syscall (SYS_clone3, &args, sizeof args);
    }
  if (pid < 0)
    {
      int saved = errno;
      sk_err_set (err, saved, "clone3 the container process");
      if (saved == ENOSPC)
        sk_err_wrap (err, "namespace limit reached (see /proc/sys/user/max_*_namespaces)");
      return -1;
    }
  *in_cgroup = cgfd >= 0;
  return (pid_t)pid;
}

/* What the helper of clone_child_in_userns tells the parent. */
struct helper_report
{
  pid_t pid; /* > 0: the container process, our child */
  int err;   /* errno of the failed step otherwise */
  bool in_cgroup;
  char step[128];
};

/* Namespaces created by a process are owned by its user namespace, and a
 * pid namespace is fixed at birth: to have the container's namespaces owned
 * by the task's user namespace (so that it may mount /proc, sysfs, ...), the
 * clone must come from inside it. We cannot enter it ourselves (no way
 * back), so a short-lived helper does: it joins the task's pid namespace (for
 * its children) and user namespace, clones with CLONE_PARENT so that the
 * container is still our child (waitid, pidfd, death signal), reports, and
 * exits. Only with --userns: the default path pays nothing. */
static pid_t
clone_child_in_userns (const struct sk_launch_spec *s, int *pidfd, bool *in_cgroup, sk_err_t *err)
{
  struct helper_report rep = { 0 };
  int report[2];
  pid_t helper, pid;
  ssize_t n;

  if (pipe2 (report, O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "pipe for the user namespace helper");
  helper = fork ();
  if (helper < 0)
    {
      int saved = errno;
      close (report[0]);
      close (report[1]);
      return sk_err_set (err, saved, "fork the user namespace helper");
    }
  if (helper == 0)
    {
      sk_err_t herr = NULL;
      int child_pidfd = -1;

      close (report[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (s->join_pidns >= 0 && setns (s->join_pidns, CLONE_NEWPID) < 0)
        {
          rep.err = errno;
          snprintf (rep.step, sizeof rep.step, "join the task's pid namespace");
        }
      else if (setns (s->userns_fd, CLONE_NEWUSER) < 0)
        {
          rep.err = errno;
          snprintf (rep.step, sizeof rep.step, "join the task's user namespace");
        }
      else
        {
          rep.pid = clone_child_in (s, CLONE_PARENT, &child_pidfd, &rep.in_cgroup, &herr);
          if (rep.pid == 0)
            {
              close (report[1]);
              return 0; /* the container process */
            }
          if (rep.pid < 0)
            {
              rep.err = herr != NULL ? herr->errnum : 0;
              snprintf (rep.step, sizeof rep.step, "%s", herr != NULL ? herr->msg : "clone3");
            }
        }
      if (write (report[1], &rep, sizeof rep) != (ssize_t)sizeof rep)
        _exit (1);
      _exit (0);
    }
  close (report[1]);
  do
    n = read (report[0], &rep, sizeof rep);
  while (n < 0 && errno == EINTR);
  close (report[0]);
  while (waitpid (helper, NULL, 0) < 0 && errno == EINTR)
    ;
  if (n != (ssize_t)sizeof rep)
    return sk_err_set (err, n < 0 ? errno : 0, "the user namespace helper died");
  if (rep.pid <= 0)
    {
      sk_err_set (err, rep.err, "%s", rep.step);
      return -1;
    }
  pid = rep.pid;
  /* Our own child, not yet reaped: the pid cannot have been reused. */
  *pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (*pidfd < 0)
    {
      int saved = errno;
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return sk_err_set (err, saved, "pidfd_open the container process %d", (int)pid);
    }
  *in_cgroup = rep.in_cgroup;
  return pid;
}

/* With a user namespace the parent mounts the root filesystem (ID-mapped
 * layers need privilege over their filesystem, which the namespace's root
 * lacks); the child only attaches it. -1 when there is nothing to do. */
static int
root_prepare (const struct sk_launch_spec *s, int *root_fd, sk_err_t *err)
{
  *root_fd = -1;
  if (!s->userns || s->mounts == NULL || !s->mounts->root_premounted)
    return 0;
  return sk_userns_root_from_parent (s->mounts, s->userns_fd, root_fd, err);
}

int
sk_launch (const struct sk_launch_spec *s, struct sk_launched *out, sk_err_t *err)
{
  _cleanup_close_ int parent_sock = -1;
  _cleanup_close_ int pidfd = -1;
  _cleanup_close_ int root_fd = -1;
  int socks[2];
  struct sk_spawn_join join = { .n = 0 };
  bool in_cgroup = false;
  pid_t pid;

  if (root_prepare (s, &root_fd, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
    return sk_err_set (err, errno, "socketpair for the sync socket");
  parent_sock = socks[0];

  if (sk_spawn_join_open (s->cgroup, &join, err) < 0)
    {
      close (socks[1]);
      return -1;
    }
  pid = clone_child (s, &pidfd, &in_cgroup, err);
  if (pid < 0)
    {
      close (socks[1]);
      sk_spawn_join_close (&join);
      return -1;
    }
  if (pid == 0)
    {
      close (socks[0]);
      child_main (s, socks[1], root_fd, &join);
    }
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
  if (s->on_cloned != NULL && s->on_cloned (s->on_cloned_ctx, pid, err) < 0)
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
  if (sk_spawn_follow (parent_sock, SK_SETUP_TIMEOUT_MS, "container set-up", err) < 0)
    {
      sk_spawn_kill_and_reap (pidfd);
      return -1;
    }
  out->pid = pid;
  out->pidfd = steal_fd (&pidfd);
  return 0;
}
