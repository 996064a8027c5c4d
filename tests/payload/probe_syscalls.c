/* probe: try-syscall: calls the sandbox must refuse, made harmless when allowed. */
#include "probe.h"

#include <fcntl.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

/* ---- syscalls the sandbox must refuse ----------------------------------------- */

/* Run FN in a throw-away child so a call that succeeds changes nothing in
 * the probe itself; the child reports errno as its exit status. */
static int
in_child (int (*fn) (void))
{
  int status;
  pid_t pid = fork ();

  if (pid < 0)
    return errno;
  if (pid == 0)
    _exit (fn () < 0 ? errno : 0);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return errno;
  if (WIFSIGNALED (status))
    return WTERMSIG (status) == SIGSYS ? ENOSYS : EINTR;
  return WEXITSTATUS (status);
}

static int
try_unshare_user (void)
{
  return unshare (CLONE_NEWUSER);
}
static int
try_unshare_net (void)
{
  return unshare (CLONE_NEWNET);
}
static int
try_unshare_mnt (void)
{
  return unshare (CLONE_NEWNS);
}
static int
try_clone_newns (void)
{
  long pid = syscall (SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid == 0)
    _exit (0);
  return pid < 0 ? -1 : (waitpid ((pid_t)pid, NULL, 0), 0);
}
static int
try_ptrace (void)
{
  return (int)ptrace (PTRACE_TRACEME, 0, NULL, NULL);
}
static int
try_personality (void)
{
  return personality (ADDR_NO_RANDOMIZE) < 0 ? -1 : 0;
}
static int
try_setuid (void)
{
  return setuid (4242);
}
static int
try_nice (void)
{
  return setpriority (PRIO_PROCESS, 0, -5);
}

/* A call that fails with EINVAL/EBADF/ENOENT once past the filter and the
 * capability check, so success of the check never changes anything. */
static int
try_direct (const char *name)
{
  long r;
  int fd;

  if (strcmp (name, "mount") == 0)
    r = mount ("probe", "/", "probe-no-such-fs", 0, NULL); /* ENODEV if allowed */
  else if (strcmp (name, "umount") == 0)
    r = umount2 ("/probe-not-a-mount-point", 0);
  else if (strcmp (name, "pivot_root") == 0)
    r = syscall (SYS_pivot_root, "/probe-missing", "/probe-missing");
  else if (strcmp (name, "keyctl") == 0)
    r = syscall (SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  else if (strcmp (name, "add_key") == 0)
    r = syscall (SYS_add_key, "user", "probe", "x", 1, -3);
  else if (strcmp (name, "kexec") == 0)
    r = syscall (SYS_kexec_load, 0, 0, NULL, 0xffff0000UL);
  else if (strcmp (name, "reboot") == 0)
    r = syscall (SYS_reboot, 0, 0, 0, NULL); /* bad magic: EINVAL if allowed */
  else if (strcmp (name, "init_module") == 0)
    r = syscall (SYS_init_module, NULL, 0, "");
  else if (strcmp (name, "open_by_handle_at") == 0)
    r = syscall (SYS_open_by_handle_at, -1, NULL, 0);
  else if (strcmp (name, "io_uring") == 0)
    r = syscall (SYS_io_uring_setup, 0, NULL);
  else if (strcmp (name, "userfaultfd") == 0)
    {
      r = syscall (SYS_userfaultfd, O_CLOEXEC);
      if (r >= 0)
        close ((int)r);
    }
  else if (strcmp (name, "clone3") == 0)
    r = syscall (SYS_clone3, NULL, 0); /* EINVAL if allowed, ENOSYS from the profile */
  else if (strcmp (name, "setns") == 0)
    r = setns (-1, 0);
  else if (strcmp (name, "sethostname") == 0)
    {
      static const char long_name[80] = "x";
      r = sethostname (long_name, sizeof long_name); /* EINVAL after the capability check */
    }
  else if (strcmp (name, "swapon") == 0)
    r = syscall (SYS_swapon, "/probe-missing", 0);
  else if (strcmp (name, "acct") == 0)
    r = syscall (SYS_acct, "/probe-missing");
  else if (strcmp (name, "bpf") == 0)
    r = syscall (SYS_bpf, -1, NULL, 0);
  else if (strcmp (name, "chroot") == 0)
    r = chroot ("/");
  else if (strcmp (name, "socket-vsock") == 0 || strcmp (name, "socket-alg") == 0
           || strcmp (name, "raw-socket") == 0)
    {
      fd = strcmp (name, "raw-socket") == 0 ? socket (AF_INET, SOCK_RAW, IPPROTO_ICMP)
           : name[7] == 'v'                 ? socket (AF_VSOCK, SOCK_STREAM, 0)
                                            : socket (AF_ALG, SOCK_SEQPACKET, 0);
      r = fd;
      if (fd >= 0)
        close (fd);
    }
  else if (strcmp (name, "bind-80") == 0)
    {
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (80) };
      fd = socket (AF_INET, SOCK_STREAM, 0);
      if (fd < 0)
        return errno;
      r = bind (fd, (struct sockaddr *)&sa, sizeof sa);
      int saved = errno;
      close (fd);
      errno = saved;
    }
  else if (strcmp (name, "mknod") == 0)
    {
      r = mknod ("/tmp/.probe-null", S_IFCHR | 0600, makedev (1, 3));
      if (r == 0)
        unlink ("/tmp/.probe-null");
    }
  else if (strcmp (name, "chown") == 0)
    {
      /* CAP_CHOWN: give a file we own to someone else. */
      fd = open ("/tmp/.probe-chown", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      if (fd < 0)
        return errno;
      close (fd);
      r = chown ("/tmp/.probe-chown", 4242, 4242);
      int saved = errno;
      unlink ("/tmp/.probe-chown");
      errno = saved;
    }
  else
    return -1;
  return r < 0 ? errno : 0;
}

int
verb_try_syscall (char **argv)
{
  static const struct
  {
    const char *name;
    int (*fn) (void);
  } in_child_calls[] = {
    { "unshare-user", try_unshare_user },
    { "unshare-net", try_unshare_net },
    { "unshare-mnt", try_unshare_mnt },
    { "clone-newns", try_clone_newns },
    { "ptrace", try_ptrace },
    { "personality", try_personality },
    { "setuid", try_setuid },
    { "nice", try_nice },
  };
  const char *name = argv[0];
  char key[128];
  int err = -1;

  snprintf (key, sizeof key, "try.%s", name);
  for (size_t i = 0; i < sizeof in_child_calls / sizeof in_child_calls[0]; i++)
    if (strcmp (name, in_child_calls[i].name) == 0)
      err = in_child (in_child_calls[i].fn);
  if (err < 0)
    err = try_direct (name);
  if (err < 0)
    {
      fprintf (stderr, "probe: try-syscall: unknown name `%s`\n", name);
      return EXIT_USAGE;
    }
  if (err == 0)
    {
      emit (key, "OK");
      return 0;
    }
  return emit_errno (key, err);
}
