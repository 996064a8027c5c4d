/* isolate/exec: processes started inside a running container.
 *
 * As root, the group setup launches one real container with sk_launch: a
 * busybox rootfs in a temporary directory, new mount/pid/net/uts/ipc/cgroup
 * namespaces, a cgroup under "skiff-test-exec-<pid>", the default seccomp
 * filter and Docker's capabilities, running `sleep` as its pid 1. Every test
 * then runs commands in it with sk_exec_spawn and checks from both sides
 * that they ran in there. Teardown kills and removes everything, whatever
 * failed. Without root, or without pidfds (valgrind), those tests skip; the
 * argument checks run everywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "caps.h"
#include "cgroup.h"
#include "exec.h"
#include "launch.h"
#include "mount.h"
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTNAME "exec-test"

struct container
{
  bool ready;
  char tmp[64];
  char cgroup_root[64];
  struct sk_mount_plan plan;
  struct sk_cgroup *cg;
  int bpf_fd;
  gid_t groups[1];
  uint64_t caps;
  struct sk_launched launched;
  int devnull;
};

static struct container ct = { .bpf_fd = -1, .devnull = -1, .launched = { .pidfd = -1 } };

/* ---- the container ------------------------------------------------------ */

static bool
have_pidfd (void)
{
  int fd = (int)syscall (SYS_pidfd_open, getpid (), 0);

  if (fd < 0)
    return false;
  close (fd);
  return true;
}

static void
write_file (const char *path, const char *text, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
  close (fd);
}

static int
copy_file (const char *from, const char *to, mode_t mode)
{
  _cleanup_close_ int in = open (from, O_RDONLY | O_CLOEXEC);
  _cleanup_close_ int out = open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  char buf[65536];
  ssize_t n;

  if (in < 0 || out < 0)
    return -1;
  while ((n = read (in, buf, sizeof buf)) > 0)
    if (write (out, buf, (size_t)n) != n)
      return -1;
  return n < 0 ? -1 : 0;
}

/* bin/busybox with the applets the tests call, a marker, a file that is
 * not executable, and the mount points. */
static int
make_image (const char *image)
{
  static const char *const dirs[] = { "", "/bin", "/etc", "/proc", "/sys", "/dev", "/tmp" };
  static const char *const applets[]
      = { "sh", "sleep", "cat", "id", "hostname", "pwd", "echo", "ls" };

  for (size_t i = 0; i < SK_ARRAY_SIZE (dirs); i++)
    {
      _cleanup_free_ char *d = xasprintf ("%s%s", image, dirs[i]);
      if (mkdir (d, 0755) < 0)
        return -1;
    }
  _cleanup_free_ char *bb = xasprintf ("%s/bin/busybox", image);
  if (copy_file ("/bin/busybox", bb, 0755) < 0)
    return -1;
  for (size_t i = 0; i < SK_ARRAY_SIZE (applets); i++)
    {
      _cleanup_free_ char *link = xasprintf ("%s/bin/%s", image, applets[i]);
      if (symlink ("busybox", link) < 0)
        return -1;
    }
  _cleanup_free_ char *marker = xasprintf ("%s/etc/marker", image);
  _cleanup_free_ char *notexec = xasprintf ("%s/bin/notexec", image);
  write_file (marker, "inside the image\n", 0644);
  write_file (notexec, "#!/bin/sh\nexit 0\n", 0644);
  return 0;
}

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (type == FTW_DP)
    return rmdir (path) < 0 && errno != ENOENT ? -1 : 0;
  return unlink (path) < 0 && errno != ENOENT ? -1 : 0;
}

static void
report (const char *what, sk_err_t *err)
{
  _cleanup_free_ char *text = sk_err_text (err);
  print_error ("%s: %s\n", what, text);
  sk_err_free (err);
}

static int group_teardown (void **state);

static int
setup_container (void)
{
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *image = NULL;
  _cleanup_free_ char *statedir = NULL;
  _cleanup_free_ char *leaf = NULL;
  struct sk_cgroup_limits limits = { .swappiness = -1, .pids_max = 64 };
  char *argv[] = { (char *)"sleep", (char *)"1000", NULL };
  char *envp[] = { (char *)"PATH=/bin", NULL };
  struct sk_launch_spec spec;

  if (geteuid () != 0 || !have_pidfd () || access ("/bin/busybox", X_OK) != 0
      || sk_cgroup_layout (NULL) < 0)
    return 0; /* the container tests skip */

  snprintf (ct.tmp, sizeof ct.tmp, "/tmp/skiff-test-exec-XXXXXX");
  if (mkdtemp (ct.tmp) == NULL)
    return -1;
  image = xasprintf ("%s/image", ct.tmp);
  statedir = xasprintf ("%s/state", ct.tmp);
  if (make_image (image) < 0)
    return -1;
  if (sk_rootfs_prepare (&ct.plan, image, statedir, true, &err) < 0)
    return report ("rootfs", &err), -1;
  ct.plan.own_netns = true;

  snprintf (ct.cgroup_root, sizeof ct.cgroup_root, "skiff-test-exec-%d", (int)getpid ());
  leaf = xasprintf ("%s/app", ct.cgroup_root);
  if (sk_cgroup_create (leaf, &limits, &ct.cg, &err) < 0)
    return report ("cgroup", &err), -1;

  ct.caps = sk_caps_docker_default () & sk_caps_held ();
  if (sk_seccomp_prepare (ct.caps, NULL, &ct.bpf_fd, &err) < 0)
    return report ("seccomp", &err), -1;

  ct.devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (ct.devnull < 0)
    return -1;
  memset (&spec, 0, sizeof spec);
  spec.name = "exec-test";
  spec.join_netns = spec.join_utsns = spec.join_ipcns = spec.join_pidns = -1;
  spec.namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
  spec.hostname = HOSTNAME;
  spec.mounts = &ct.plan;
  spec.cgroup = ct.cg;
  spec.seccomp_fd = ct.bpf_fd;
  spec.creds = (struct sk_creds){
    .uid = 0, .gid = 0, .n_groups = 1, .groups = ct.groups, .caps = ct.caps
  };
  spec.argv = argv;
  spec.envp = envp;
  spec.stdio[0] = spec.stdio[1] = spec.stdio[2] = ct.devnull;
  spec.die_with_parent = true;
  if (sk_launch (&spec, &ct.launched, &err) < 0)
    return report ("launch", &err), -1;
  ct.ready = true;
  return 0;
}

/* cmocka skips the group teardown when the setup fails: clean up here. */
static int
group_setup (void **state)
{
  if (setup_container () < 0)
    {
      group_teardown (state);
      return -1;
    }
  return 0;
}

static int
group_teardown (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;

  /* Idempotent: runs after a failed setup too, maybe twice. */
  (void)state;
  ct.ready = false;
  if (ct.launched.pidfd >= 0)
    {
      syscall (SYS_pidfd_send_signal, ct.launched.pidfd, SIGKILL, NULL, 0);
      waitid (P_PIDFD, (id_t)ct.launched.pidfd, NULL, WEXITED);
      close (steal_fd (&ct.launched.pidfd));
    }
  if (ct.cg != NULL)
    {
      if (sk_cgroup_kill_all (ct.cg, &err) < 0 || sk_cgroup_destroy (ct.cg, &err) < 0)
        report ("cgroup cleanup", &err);
      sk_cgroup_free (steal_pointer (&ct.cg));
    }
  if (ct.cgroup_root[0] != '\0' && sk_cgroup_remove_path (ct.cgroup_root, &err) < 0)
    report ("cgroup root cleanup", &err);
  ct.cgroup_root[0] = '\0';
  if (ct.bpf_fd >= 0)
    close (steal_fd (&ct.bpf_fd));
  if (ct.devnull >= 0)
    close (steal_fd (&ct.devnull));
  sk_mount_plan_clear (&ct.plan);
  if (ct.tmp[0] != '\0')
    nftw (ct.tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  ct.tmp[0] = '\0';
  return 0;
}

#define REQUIRE_CONTAINER()                                                                        \
  do                                                                                               \
    {                                                                                              \
      if (!ct.ready)                                                                               \
        skip ();                                                                                   \
    }                                                                                              \
  while (0)

/* ---- running commands in it --------------------------------------------- */

struct run
{
  const char *cwd;
  char *const *envp;
  uid_t uid;
  bool new_session;
  size_t n_rlimits;
  const struct sk_rlimit *rlimits;
};

static void
fill_spec (struct sk_exec_spec *s, char *const *argv, const struct run *opt, int out)
{
  static char *const default_env[] = { (char *)"PATH=/bin", NULL };

  memset (s, 0, sizeof *s);
  s->target_pidfd = ct.launched.pidfd;
  s->target_pid = ct.launched.pid;
  s->cgroup = ct.cg;
  s->seccomp_fd = ct.bpf_fd;
  s->creds = (struct sk_creds){
    .uid = opt->uid, .gid = opt->uid, .n_groups = 1, .groups = ct.groups, .caps = ct.caps
  };
  s->argv = argv;
  s->envp = opt->envp != NULL ? opt->envp : default_env;
  s->cwd = opt->cwd;
  s->stdio[0] = ct.devnull;
  s->stdio[1] = s->stdio[2] = out;
  s->new_session = opt->new_session;
  s->n_rlimits = opt->n_rlimits;
  s->rlimits = opt->rlimits;
}

static char *
read_all (int fd)
{
  size_t len = 0, cap = 4096;
  char *buf = xmalloc (cap);
  ssize_t n;

  while ((n = read (fd, buf + len, cap - len - 1)) > 0)
    {
      len += (size_t)n;
      if (cap - len < 2)
        buf = xrealloc (buf, cap *= 2);
    }
  buf[len] = '\0';
  return buf;
}

static int
reap (int pidfd)
{
  siginfo_t info;

  memset (&info, 0, sizeof info);
  assert_int_equal (waitid (P_PIDFD, (id_t)pidfd, &info, WEXITED), 0);
  close (pidfd);
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

/* Run argv to completion; returns its exit status and its output in *out. */
static int
run_opts (char *const *argv, const struct run *opt, char **out)
{
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_exec_spec s;
  int fds[2], pidfd = -1;
  pid_t pid = 0;

  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  fill_spec (&s, argv, opt, fds[1]);
  if (sk_exec_spawn (&s, &pid, &pidfd, &err) < 0)
    {
      _cleanup_free_ char *text = sk_err_text (&err);
      close (fds[0]);
      close (fds[1]);
      fail_msg ("sk_exec_spawn %s: %s", argv[0], text);
    }
  close (fds[1]);
  *out = read_all (fds[0]);
  close (fds[0]);
  return reap (pidfd);
}

static int
run (char *const *argv, char **out)
{
  struct run opt = { 0 };
  return run_opts (argv, &opt, out);
}

static char *
status_field (const char *status, const char *field)
{
  const char *p = strstr (status, field);
  size_t n;

  if (p == NULL)
    return NULL;
  p += strlen (field);
  while (*p == ' ' || *p == '\t')
    p++;
  n = strcspn (p, "\n");
  return xstrndup (p, n);
}

static char *
host_file (pid_t pid, const char *name)
{
  _cleanup_free_ char *path = xasprintf ("/proc/%d/%s", (int)pid, name);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return NULL;
  return read_all (fd);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_rejects_empty_command (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  char *argv[] = { NULL };
  struct sk_exec_spec s = { .target_pidfd = -1, .seccomp_fd = -1, .argv = argv };
  pid_t pid = 0;
  int pidfd = -1;

  (void)state;
  assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), -1);
  assert_non_null (strstr (err->msg, "empty command"));
  assert_int_equal (pidfd, -1);
}

static void
test_rejects_missing_target (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  char *argv[] = { (char *)"true", NULL };
  struct sk_exec_spec s = { .target_pidfd = -1, .seccomp_fd = -1, .argv = argv };
  pid_t pid = 0;
  int pidfd = -1;

  (void)state;
  assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), -1);
  assert_non_null (strstr (err->msg, "no target process"));
}

static void
test_exited_target_is_an_error (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  char *argv[] = { (char *)"true", NULL };
  struct sk_exec_spec s = { .seccomp_fd = -1, .argv = argv };
  pid_t child, pid = 0;
  int pidfd = -1;

  (void)state;
  if (!have_pidfd ())
    skip ();
  child = fork ();
  assert_true (child >= 0);
  if (child == 0)
    _exit (0);
  s.target_pid = child;
  s.target_pidfd = (int)syscall (SYS_pidfd_open, child, 0);
  assert_true (s.target_pidfd >= 0);
  assert_int_equal (waitpid (child, NULL, 0), child);
  assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), -1);
  assert_non_null (strstr (err->msg, "exec in the container"));
  assert_int_equal (pidfd, -1);
  close (s.target_pidfd);
}

static void
test_hostname_is_the_containers (void **state)
{
  char *argv[] = { (char *)"hostname", NULL };
  _cleanup_free_ char *out = NULL;

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (run (argv, &out), 0);
  assert_string_equal (out, HOSTNAME "\n");
}

static void
test_sees_the_containers_root_and_pid1 (void **state)
{
  char *marker[] = { (char *)"cat", (char *)"/etc/marker", NULL };
  char *cmdline[] = { (char *)"cat", (char *)"/proc/1/cmdline", NULL };
  char *pwd[] = { (char *)"pwd", NULL };
  _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  struct run in_tmp = { .cwd = "/tmp" };

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (run (marker, &a), 0);
  assert_string_equal (a, "inside the image\n");
  assert_int_equal (run (cmdline, &b), 0);
  assert_memory_equal (b,
                       "sleep\0"
                       "1000\0",
                       11);
  assert_int_equal (run (pwd, &c), 0);
  assert_string_equal (c, "/\n");
  assert_int_equal (run_opts (pwd, &in_tmp, &d), 0);
  assert_string_equal (d, "/tmp\n");
}

static void
test_confined_like_the_container (void **state)
{
  char *argv[] = { (char *)"cat", (char *)"/proc/self/status", NULL };
  _cleanup_free_ char *out = NULL, *sec = NULL, *nnp = NULL, *eff = NULL, *bnd = NULL, *uid = NULL;
  char want[32];

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (run (argv, &out), 0);
  sec = status_field (out, "Seccomp:");
  nnp = status_field (out, "NoNewPrivs:");
  eff = status_field (out, "CapEff:");
  bnd = status_field (out, "CapBnd:");
  uid = status_field (out, "Uid:");
  assert_non_null (sec);
  assert_string_equal (sec, "2");
  assert_string_equal (nnp, "1");
  snprintf (want, sizeof want, "%016llx", (unsigned long long)ct.caps);
  assert_string_equal (eff, want);
  assert_string_equal (bnd, want);
  assert_string_equal (uid, "0\t0\t0\t0");
}

static void
test_runs_as_another_user (void **state)
{
  char *argv[] = { (char *)"cat", (char *)"/proc/self/status", NULL };
  _cleanup_free_ char *out = NULL, *uid = NULL, *eff = NULL;
  struct run as_app = { .uid = 1000 };

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (run_opts (argv, &as_app, &out), 0);
  uid = status_field (out, "Uid:");
  eff = status_field (out, "CapEff:");
  assert_string_equal (uid, "1000\t1000\t1000\t1000");
  assert_string_equal (eff, "0000000000000000");
}

static void
test_environment_and_ulimits (void **state)
{
  char *argv[] = { (char *)"sh", (char *)"-c", (char *)"echo $GREETING; ulimit -n", NULL };
  char *envp[] = { (char *)"PATH=/bin", (char *)"GREETING=hello", NULL };
  const struct sk_rlimit nofile = { RLIMIT_NOFILE, "nofile", { 100, 200 } };
  struct run opt = { .envp = envp, .n_rlimits = 1, .rlimits = &nofile };
  _cleanup_free_ char *out = NULL;

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (run_opts (argv, &opt, &out), 0);
  assert_string_equal (out, "hello\n100\n");
}

/* While it sleeps, look at it from the host: its pid inside, its cgroup,
 * its namespaces and its session. */
static void
test_in_pid_namespace_and_cgroup (void **state)
{
  char *argv[] = { (char *)"sh", (char *)"-c", (char *)"echo $$; exec sleep 30", NULL };
  char *envp[] = { (char *)"PATH=/bin", NULL };
  struct run opt = { .envp = envp, .new_session = true };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *status = NULL, *nspid = NULL, *cgroups = NULL, *expect = NULL;
  struct sk_exec_spec s;
  char line[32] = { 0 };
  int fds[2], pidfd = -1;
  pid_t pid = 0;
  ssize_t n;
  static const char *const namespaces[] = { "mnt", "pid", "net", "uts", "ipc", "cgroup" };

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  fill_spec (&s, argv, &opt, fds[1]);
  assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), 0);
  close (fds[1]);
  n = read (fds[0], line, sizeof line - 1);
  close (fds[0]);
  assert_true (n > 0);
  line[strcspn (line, "\n")] = '\0';

  /* The pid it sees is its own inside the namespace, not the host's. */
  status = host_file (pid, "status");
  assert_non_null (status);
  nspid = status_field (status, "NSpid:");
  expect = xasprintf ("%d\t%s", (int)pid, line);
  assert_string_equal (nspid, expect);
  assert_true (atoi (line) != pid && atoi (line) > 1);

  cgroups = host_file (pid, "cgroup");
  assert_non_null (cgroups);
  assert_non_null (strstr (cgroups, sk_cgroup_path (ct.cg)));
  assert_int_equal (getsid (pid), pid);

  for (size_t i = 0; i < SK_ARRAY_SIZE (namespaces); i++)
    {
      _cleanup_free_ char *theirs
          = xasprintf ("/proc/%d/ns/%s", (int)ct.launched.pid, namespaces[i]);
      _cleanup_free_ char *its = xasprintf ("/proc/%d/ns/%s", (int)pid, namespaces[i]);
      struct stat a, b;
      assert_int_equal (stat (theirs, &a), 0);
      assert_int_equal (stat (its, &b), 0);
      if (a.st_ino != b.st_ino)
        fail_msg ("namespace %s: container %lu, exec'd process %lu", namespaces[i],
                  (unsigned long)a.st_ino, (unsigned long)b.st_ino);
    }

  assert_int_equal (syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0), 0);
  assert_int_equal (reap (pidfd), 128 + SIGKILL);
}

static void
test_exit_codes (void **state)
{
  char *three[] = { (char *)"sh", (char *)"-c", (char *)"exit 3", NULL };
  _cleanup_free_ char *out = NULL;
  static const struct
  {
    const char *cmd;
    int code;
  } fails[] = { { "no-such-command", 127 },
                { "/bin/no-such-file", 127 },
                { "/bin/notexec", 126 },
                { "/etc", 126 } };

  (void)state;
  REQUIRE_CONTAINER ();
  assert_int_equal (run (three, &out), 3);
  for (size_t i = 0; i < SK_ARRAY_SIZE (fails); i++)
    {
      _cleanup_err_ sk_err_t err = NULL;
      char *argv[] = { (char *)fails[i].cmd, NULL };
      struct run opt = { 0 };
      struct sk_exec_spec s;
      int pidfd = -1;
      pid_t pid = 0;

      fill_spec (&s, argv, &opt, ct.devnull);
      assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), -1);
      assert_int_equal (pidfd, -1);
      assert_non_null (err);
      if (err->exitcode != fails[i].code || strstr (err->msg, fails[i].cmd) == NULL)
        fail_msg ("%s: exit code %d, message `%s`", fails[i].cmd, err->exitcode, err->msg);
    }
}

static void
test_missing_cwd_fails_at_chdir (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  char *argv[] = { (char *)"pwd", NULL };
  struct run opt = { .cwd = "/no/such/dir" };
  struct sk_exec_spec s;
  int pidfd = -1;
  pid_t pid = 0;

  (void)state;
  REQUIRE_CONTAINER ();
  fill_spec (&s, argv, &opt, ct.devnull);
  assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), -1);
  assert_non_null (strstr (err->msg, "setup failed at chdir"));
  assert_non_null (strstr (err->msg, "/no/such/dir"));
  assert_int_equal (err->errnum, ENOENT);
}

/* Nothing of the caller leaks in: only 0, 1 and 2 are open (ls itself
 * opens one more for the directory it lists). */
static void
test_no_fd_of_the_caller_leaks (void **state)
{
  char *argv[] = { (char *)"ls", (char *)"/proc/self/fd", NULL };
  _cleanup_free_ char *out = NULL;
  int leaky = open ("/", O_RDONLY | O_DIRECTORY); /* deliberately without O_CLOEXEC */
  int n = 0;

  (void)state;
  assert_true (leaky >= 0);
  if (!ct.ready)
    {
      close (leaky);
      skip ();
    }
  assert_int_equal (run (argv, &out), 0);
  close (leaky);
  for (char *line = strtok (out, "\n"); line != NULL; line = strtok (NULL, "\n"))
    n++;
  if (n > 4)
    fail_msg ("fds open in the container: %s", out);
}

/* A target that shares every namespace with us (networkMode host, no pid
 * namespace): nothing to join, the process runs beside it. */
static void
test_target_sharing_our_namespaces (void **state)
{
  char *argv[] = { (char *)"/bin/busybox", (char *)"hostname", NULL };
  struct sk_exec_spec s;
  struct run opt = { 0 };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *out = NULL;
  char host[256] = { 0 };
  int fds[2], pidfd = -1;
  pid_t sleeper, pid = 0;

  (void)state;
  REQUIRE_CONTAINER ();
  sleeper = fork ();
  assert_true (sleeper >= 0);
  if (sleeper == 0)
    {
      pause ();
      _exit (0);
    }
  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  fill_spec (&s, argv, &opt, fds[1]);
  s.target_pid = sleeper;
  s.target_pidfd = (int)syscall (SYS_pidfd_open, sleeper, 0);
  s.cgroup = NULL;
  s.seccomp_fd = -1;
  s.creds.caps = sk_caps_held ();
  assert_true (s.target_pidfd >= 0);
  assert_int_equal (sk_exec_spawn (&s, &pid, &pidfd, &err), 0);
  close (fds[1]);
  out = read_all (fds[0]);
  close (fds[0]);
  assert_int_equal (reap (pidfd), 0);
  kill (sleeper, SIGKILL);
  waitpid (sleeper, NULL, 0);
  close (s.target_pidfd);
  assert_int_equal (gethostname (host, sizeof host - 1), 0);
  out[strcspn (out, "\n")] = '\0';
  assert_string_equal (out, host);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rejects_empty_command),
    cmocka_unit_test (test_rejects_missing_target),
    cmocka_unit_test (test_exited_target_is_an_error),
    cmocka_unit_test (test_hostname_is_the_containers),
    cmocka_unit_test (test_sees_the_containers_root_and_pid1),
    cmocka_unit_test (test_confined_like_the_container),
    cmocka_unit_test (test_runs_as_another_user),
    cmocka_unit_test (test_environment_and_ulimits),
    cmocka_unit_test (test_in_pid_namespace_and_cgroup),
    cmocka_unit_test (test_exit_codes),
    cmocka_unit_test (test_missing_cwd_fails_at_chdir),
    cmocka_unit_test (test_no_fd_of_the_caller_leaks),
    cmocka_unit_test (test_target_sharing_our_namespaces),
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
