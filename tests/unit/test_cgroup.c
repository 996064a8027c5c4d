/* isolate/cgroup: the pure conversions without privileges; as root, real
 * groups on whichever layout this host has (v1/hybrid here, pure v2 in the
 * VM lane: the same binary asserts the v2 file names there). Every group
 * lives under "skiff-test-<pid>", which setup and teardown sweep, so a
 * failing test leaves nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cgroup.h"
#include "error.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024ULL * 1024ULL)

static char prefix[64];

static const char *const v1_hierarchies[] = { "memory", "cpu", "cpuacct", "pids", "freezer" };

/* ---- helpers ------------------------------------------------------------ */

static bool
can_use_cgroups (void)
{
  return geteuid () == 0 && sk_cgroup_layout (NULL) > 0;
}

#define REQUIRE_CGROUPS()                                                                          \
  do                                                                                               \
    {                                                                                              \
      if (!can_use_cgroups ())                                                                     \
        skip ();                                                                                   \
    }                                                                                              \
  while (0)

static bool
is_v2 (void)
{
  return sk_cgroup_layout (NULL) == SK_CGROUP_V2;
}

static char *
group_path (const char *test)
{
  return xasprintf ("%s/%s/app", prefix, test);
}

/* The file's content without its trailing newline, or NULL. */
static char *
read_text (const char *dir, const char *file)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  char buf[4096];
  size_t n;

  if (f == NULL)
    return NULL;
  n = fread (buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  return xstrdup (buf);
}

static void
assert_file (const struct sk_cgroup *cg, const char *controller, const char *file,
             const char *expected)
{
  const char *dir = sk_cgroup_dir (cg, controller);
  _cleanup_free_ char *text = NULL;

  assert_non_null (dir);
  text = read_text (dir, file);
  if (text == NULL || strcmp (text, expected) != 0)
    fail_msg ("%s/%s: expected `%s`, got `%s`", dir, file, expected, text ? text : "(missing)");
}

static bool
procs_has (const char *dir, pid_t pid)
{
  _cleanup_free_ char *text = read_text (dir, "cgroup.procs");
  char needle[24];

  if (text == NULL)
    return false;
  snprintf (needle, sizeof needle, "%d", (int)pid);
  for (char *line = strtok (text, "\n"); line != NULL; line = strtok (NULL, "\n"))
    if (strcmp (line, needle) == 0)
      return true;
  return false;
}

static bool
dir_exists (const char *dir)
{
  struct stat st;

  return stat (dir, &st) == 0;
}

/* Fork a child that waits for a byte on a pipe, then runs `body` (which
 * must not return into cmocka). Returns the write end through *go. */
static pid_t
fork_waiting (int *go, void (*body) (void))
{
  int fds[2];
  pid_t pid;

  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;

      close (fds[1]);
      if (read (fds[0], &c, 1) != 1)
        _exit (100);
      body ();
      _exit (0);
    }
  close (fds[0]);
  *go = fds[1];
  return pid;
}

static void
release (int go)
{
  assert_int_equal (write (go, "x", 1), 1);
  close (go);
}

static void
body_sleep (void)
{
  for (;;)
    pause ();
}

/* ---- sweeping skiff-test-<pid> in every hierarchy ------------------------ */

static void
reap_all (void)
{
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

static void
sweep_dir (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  _cleanup_free_ char *text = NULL;

  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    if (e->d_type == DT_DIR && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        _cleanup_free_ char *sub = xasprintf ("%s/%s", dir, e->d_name);
        sweep_dir (sub);
      }
  closedir (d);
  /* Kill whatever a failed test left, thawed so the signal lands. */
  text = read_text (dir, "cgroup.procs");
  for (char *p = text; p != NULL && *p != '\0';)
    {
      char *end;
      long pid = strtol (p, &end, 10);
      if (end == p)
        break;
      kill ((pid_t)pid, SIGKILL);
      p = end;
    }
  {
    _cleanup_free_ char *freezer = xasprintf ("%s/freezer.state", dir);
    _cleanup_free_ char *freeze = xasprintf ("%s/cgroup.freeze", dir);
    int fd = open (freezer, O_WRONLY | O_CLOEXEC);
    if (fd >= 0)
      {
        (void)!write (fd, "THAWED", 6);
        close (fd);
      }
    fd = open (freeze, O_WRONLY | O_CLOEXEC);
    if (fd >= 0)
      {
        (void)!write (fd, "0", 1);
        close (fd);
      }
  }
  for (int i = 0; i < 200 && rmdir (dir) < 0 && errno == EBUSY; i++)
    {
      const struct timespec step = { 0, 5 * 1000 * 1000 };
      reap_all ();
      nanosleep (&step, NULL);
    }
}

static int
sweep (void **state)
{
  (void)state;
  if (!can_use_cgroups ())
    return 0;
  if (is_v2 ())
    {
      _cleanup_free_ char *dir = xasprintf ("/sys/fs/cgroup/%s", prefix);
      sweep_dir (dir);
    }
  else
    for (size_t i = 0; i < SK_ARRAY_SIZE (v1_hierarchies); i++)
      {
        _cleanup_free_ char *dir = xasprintf ("/sys/fs/cgroup/%s/%s", v1_hierarchies[i], prefix);
        sweep_dir (dir);
      }
  reap_all ();
  return 0;
}

static int
group_setup (void **state)
{
  snprintf (prefix, sizeof prefix, "skiff-test-%d", (int)getpid ());
  /* We reap the grandchildren of the pids test ourselves. */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  return sweep (state);
}

/* ---- no privileges needed -------------------------------------------------- */

static void
test_shares_to_weight (void **state)
{
  (void)state;
  assert_int_equal (sk_cgroup_shares_to_weight (2), 1);
  assert_int_equal (sk_cgroup_shares_to_weight (262144), 10000);
  assert_int_equal (sk_cgroup_shares_to_weight (1024), 39);
  assert_int_equal (sk_cgroup_shares_to_weight (512), 20);
  assert_int_equal (sk_cgroup_shares_to_weight (0), 1);           /* clamped up */
  assert_int_equal (sk_cgroup_shares_to_weight (1), 1);           /* clamped up */
  assert_int_equal (sk_cgroup_shares_to_weight (1000000), 10000); /* clamped down */
}

static void
test_bad_paths (void **state)
{
  const char *bad[] = { "", "/abs", "a/../b", "..", "a//b", "./a", "a/" };
  (void)state;

  for (size_t i = 0; i < SK_ARRAY_SIZE (bad); i++)
    {
      _cleanup_err_ sk_err_t err = NULL;
      struct sk_cgroup *cg = NULL;

      assert_int_equal (sk_cgroup_create (bad[i], NULL, &cg, &err), -1);
      assert_null (cg);
      assert_non_null (err);
      assert_int_equal (err->errnum, EINVAL);
    }
}

/* ---- as root ------------------------------------------------------------- */

static void
test_layout (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  int layout;
  (void)state;

  layout = sk_cgroup_layout (&err);
  assert_true (layout == SK_CGROUP_V1 || layout == SK_CGROUP_V2);
  assert_int_equal (sk_cgroup_layout (&err), layout); /* cached */
  print_message ("cgroup layout: %s\n", layout == SK_CGROUP_V2 ? "v2" : "v1/hybrid");
}

static void
test_create_writes_limits (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  struct sk_cgroup_limits limits = {
    .memory_max = 64 * MiB,
    .memory_low = 32 * MiB,
    .has_swap_max = true,
    .swap_max = 16 * MiB,
    .swappiness = 10,
    .cpu_shares = 512,
    .cpu_quota_us = 50000,
    .cpu_period_us = 100000,
    .pids_max = 64,
  };
  _cleanup_free_ char *path = group_path ("limits");
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;
  const struct sk_cgroup_note *notes;
  size_t n_notes;

  if (sk_cgroup_create (path, &limits, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  assert_string_equal (sk_cgroup_path (cg), path);
  n_notes = sk_cgroup_notes (cg, &notes);
  for (size_t i = 0; i < n_notes; i++)
    print_message ("note (%s): %s\n",
                   notes[i].level == SK_CGROUP_NOTE_WARNING ? "warning" : "debug", notes[i].text);

  if (is_v2 ())
    {
      bool swappiness_noted = false;

      assert_file (cg, "memory", "memory.max", "67108864");
      assert_file (cg, "memory", "memory.low", "33554432");
      if (dir_exists (sk_cgroup_dir (cg, "memory")))
        {
          _cleanup_free_ char *swap = read_text (sk_cgroup_dir (cg, "memory"), "memory.swap.max");
          if (swap != NULL)
            assert_string_equal (swap, "16777216");
        }
      assert_file (cg, "cpu", "cpu.weight", "20");
      assert_file (cg, "cpu", "cpu.max", "50000 100000");
      assert_file (cg, "pids", "pids.max", "64");
      for (size_t i = 0; i < n_notes; i++)
        swappiness_noted = swappiness_noted || strstr (notes[i].text, "swappiness") != NULL;
      assert_true (swappiness_noted);
      assert_true (sk_cgroup_clone_fd (cg) >= 0);
    }
  else
    {
      _cleanup_free_ char *memsw = NULL;

      assert_file (cg, "memory", "memory.limit_in_bytes", "67108864");
      assert_file (cg, "memory", "memory.soft_limit_in_bytes", "33554432");
      assert_file (cg, "memory", "memory.swappiness", "10");
      memsw = read_text (sk_cgroup_dir (cg, "memory"), "memory.memsw.limit_in_bytes");
      if (memsw != NULL)
        assert_string_equal (memsw, "83886080"); /* memory + swap */
      assert_file (cg, "cpu", "cpu.shares", "512");
      assert_file (cg, "cpu", "cpu.cfs_quota_us", "50000");
      assert_file (cg, "cpu", "cpu.cfs_period_us", "100000");
      assert_file (cg, "pids", "pids.max", "64");
      assert_non_null (sk_cgroup_dir (cg, "freezer"));
      assert_non_null (sk_cgroup_dir (cg, "cpuacct"));
      assert_int_equal (sk_cgroup_clone_fd (cg), -1);
    }

  /* Creating it again must refuse to adopt the existing group. */
  {
    _cleanup_err_ sk_err_t again_err = NULL;
    struct sk_cgroup *again = NULL;
    assert_int_equal (sk_cgroup_create (path, &limits, &again, &again_err), -1);
    assert_int_equal (again_err->errnum, EEXIST);
  }

  assert_int_equal (sk_cgroup_destroy (cg, &err), 0);
  sk_cgroup_free (cg);
}

static void
test_weakened_soft_setting_warns (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  if (is_v2 ())
    skip (); /* v2 limits swap on its own; its swappiness note is checked above */
  /* v1 can only limit memory+swap together with a memory limit. */
  struct sk_cgroup_limits limits = { .swappiness = -1, .has_swap_max = true, .swap_max = 0 };
  _cleanup_free_ char *path = group_path ("warn");
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;
  const struct sk_cgroup_note *notes;
  size_t n_notes;
  bool warned = false;

  if (sk_cgroup_create (path, &limits, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  n_notes = sk_cgroup_notes (cg, &notes);
  for (size_t i = 0; i < n_notes; i++)
    warned = warned
             || (notes[i].level == SK_CGROUP_NOTE_WARNING
                 && strstr (notes[i].text, "swap limit ignored") != NULL);
  assert_true (warned);
  assert_int_equal (sk_cgroup_destroy (cg, &err), 0);
  sk_cgroup_free (cg);
}

static void
test_refused_write_names_file_and_value (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  /* The kernel refuses a CFS quota below 1 ms. */
  struct sk_cgroup_limits limits = { .swappiness = -1, .cpu_quota_us = 500 };
  _cleanup_free_ char *path = group_path ("refused");
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *expected = NULL;
  struct sk_cgroup *cg = NULL;

  assert_int_equal (sk_cgroup_create (path, &limits, &cg, &err), -1);
  assert_null (cg);
  text = sk_err_text (&err);
  print_message ("error: %s\n", text);
  if (is_v2 ())
    expected = xasprintf ("cgroup `%s`: write `cpu.max` = `500 100000`: Invalid argument", path);
  else
    expected = xasprintf ("cgroup `%s`: write `cpu.cfs_quota_us` = `500`: Invalid argument", path);
  assert_string_equal (text, expected);

  /* Nothing of the leaf remains. */
  {
    _cleanup_free_ char *leaf = is_v2 () ? xasprintf ("/sys/fs/cgroup/%s", path)
                                         : xasprintf ("/sys/fs/cgroup/cpu/%s", path);
    assert_false (dir_exists (leaf));
  }
}

static void
test_attach_and_kill_all (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  struct sk_cgroup_limits limits = { .swappiness = -1, .pids_max = 32 };
  _cleanup_free_ char *path = group_path ("kill");
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;
  struct sk_cgroup_stats st;
  int go, status;
  pid_t pid;

  if (sk_cgroup_create (path, &limits, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  pid = fork_waiting (&go, body_sleep);
  if (sk_cgroup_attach (cg, pid, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  release (go);

  if (is_v2 ())
    assert_true (procs_has (sk_cgroup_dir (cg, NULL), pid));
  else
    for (size_t i = 0; i < SK_ARRAY_SIZE (v1_hierarchies); i++)
      {
        const char *dir = sk_cgroup_dir (cg, v1_hierarchies[i]);
        if (dir != NULL && !procs_has (dir, pid))
          fail_msg ("pid %d not in %s/cgroup.procs", (int)pid, dir);
      }
  assert_int_equal (sk_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.pids_current, 1);

  /* A live process keeps the group: waiting times out, destroy says EBUSY. */
  assert_int_equal (sk_cgroup_wait_empty (cg, 50, &err), -1);
  assert_int_equal (err->errnum, ETIMEDOUT);
  sk_err_free (&err);
  assert_int_equal (sk_cgroup_destroy (cg, &err), -1);
  assert_int_equal (err->errnum, EBUSY);
  sk_err_free (&err);

  if (sk_cgroup_kill_all (cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  /* kill_all returned with the group empty: destroy works before the
   * child is even reaped, and removes the directory of every hierarchy. */
  {
    const char *dirs[SK_ARRAY_SIZE (v1_hierarchies)];
    char *saved[SK_ARRAY_SIZE (v1_hierarchies)] = { NULL };

    for (size_t i = 0; i < SK_ARRAY_SIZE (v1_hierarchies); i++)
      {
        dirs[i] = sk_cgroup_dir (cg, v1_hierarchies[i]);
        saved[i] = dirs[i] != NULL ? xstrdup (dirs[i]) : NULL;
        if (saved[i] != NULL)
          assert_true (dir_exists (saved[i]));
      }
    if (sk_cgroup_destroy (cg, &err) < 0)
      fail_msg ("%s", sk_err_text (&err));
    for (size_t i = 0; i < SK_ARRAY_SIZE (v1_hierarchies); i++)
      {
        bool survived = saved[i] != NULL && dir_exists (saved[i]);
        free (saved[i]);
        if (survived)
          fail_msg ("the %s directory survived destroy", v1_hierarchies[i]);
      }
  }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGKILL);
  sk_cgroup_free (cg);
}

static void
body_allocate (void)
{
  /* Touch every page so it is charged; the limit stops us long before. */
  for (int i = 0; i < 128; i++)
    {
      char *chunk = malloc (8 * MiB);
      if (chunk == NULL)
        _exit (3);
      memset (chunk, 0x5a, 8 * MiB);
    }
  _exit (2);
}

static void
test_oom_kill_is_counted (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  struct sk_cgroup_limits limits
      = { .swappiness = -1, .memory_max = 32 * MiB, .has_swap_max = true, .swap_max = 0 };
  _cleanup_free_ char *path = group_path ("oom");
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;
  struct sk_cgroup_stats st;
  uint64_t kills = 99;
  int go, status;
  pid_t pid;

  if (sk_cgroup_create (path, &limits, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  assert_int_equal (sk_cgroup_oom_kills (cg, &kills, &err), 0);
  assert_int_equal (kills, 0);

  pid = fork_waiting (&go, body_allocate);
  if (sk_cgroup_attach (cg, pid, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  release (go);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGKILL)
    fail_msg ("child was not OOM-killed (status 0x%x)", status);

  assert_int_equal (sk_cgroup_oom_kills (cg, &kills, &err), 0);
  assert_int_equal (kills, 1);
  assert_int_equal (sk_cgroup_stats (cg, &st, &err), 0);
  print_message ("after OOM: memory peak %llu, cpu %llu us\n", (unsigned long long)st.memory_peak,
                 (unsigned long long)st.cpu_usage_usec);
  if (st.memory_peak != 0) /* 0 only where the kernel does not track it */
    assert_true (st.memory_peak <= 32 * MiB);
  assert_true (st.cpu_usage_usec > 0);

  assert_int_equal (sk_cgroup_destroy (cg, &err), 0);
  sk_cgroup_free (cg);
}

static int pids_report_fd = -1;

static void
body_fork_until_refused (void)
{
  int forked = 0;

  for (int i = 0; i < 64; i++)
    {
      pid_t child = fork ();
      if (child < 0)
        break; /* EAGAIN: pids.max reached */
      if (child == 0)
        for (;;)
          pause ();
      forked++;
    }
  (void)!write (pids_report_fd, &forked, sizeof forked);
  for (;;)
    pause ();
}

static void
test_pids_max_stops_forks (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  struct sk_cgroup_limits limits = { .swappiness = -1, .pids_max = 8 };
  _cleanup_free_ char *path = group_path ("pids");
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;
  struct sk_cgroup_stats st;
  int report[2], go, status, forked = -1;
  pid_t pid;

  if (sk_cgroup_create (path, &limits, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  assert_int_equal (pipe2 (report, O_CLOEXEC), 0);
  pids_report_fd = report[1];
  pid = fork_waiting (&go, body_fork_until_refused);
  close (report[1]);
  if (sk_cgroup_attach (cg, pid, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  release (go);
  assert_int_equal (read (report[0], &forked, sizeof forked), (ssize_t)sizeof forked);
  close (report[0]);
  assert_int_equal (forked, 7); /* the child itself is the 8th */
  assert_int_equal (sk_cgroup_stats (cg, &st, &err), 0);
  assert_int_equal (st.pids_current, 8);

  if (sk_cgroup_kill_all (cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  if (sk_cgroup_destroy (cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFSIGNALED (status));
  /* The grandchildren were reparented to us (subreaper): reap them all. */
  while (waitpid (-1, NULL, 0) > 0)
    ;
  sk_cgroup_free (cg);
}

static void
test_remove_path (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  _cleanup_free_ char *path = group_path ("remove");
  _cleanup_free_ char *parent = xasprintf ("%s/remove", prefix);
  _cleanup_free_ char *missing = xasprintf ("%s/does/not/exist", prefix);
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;

  /* A path that does not exist is fine. */
  if (sk_cgroup_remove_path (missing, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));

  if (sk_cgroup_create (path, NULL, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  /* The parent is not empty while the leaf exists. */
  assert_int_equal (sk_cgroup_remove_path (parent, &err), -1);
  assert_int_equal (err->errnum, EBUSY);
  sk_err_free (&err);
  assert_int_equal (sk_cgroup_destroy (cg, &err), 0);
  sk_cgroup_free (cg);
  if (sk_cgroup_remove_path (parent, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  {
    _cleanup_free_ char *dir = is_v2 () ? xasprintf ("/sys/fs/cgroup/%s", parent)
                                        : xasprintf ("/sys/fs/cgroup/memory/%s", parent);
    assert_false (dir_exists (dir));
  }
}

static void
test_v2_refuses_populated_ancestor (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  if (!is_v2 ())
    skip (); /* the "no internal processes" rule is v2's */
  /* A process sits in what would become the leaf's parent: enabling
   * controllers there must be refused before anything is written. */
  _cleanup_free_ char *parent = xasprintf ("/sys/fs/cgroup/%s/busy", prefix);
  _cleanup_free_ char *top = xasprintf ("/sys/fs/cgroup/%s", prefix);
  _cleanup_free_ char *path = xasprintf ("%s/busy/app", prefix);
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *type = NULL;
  struct sk_cgroup *cg = NULL;
  char pid_text[24];
  int go, fd;
  pid_t pid;

  assert_int_equal (mkdir (top, 0755), 0);
  assert_int_equal (mkdir (parent, 0755), 0);
  pid = fork_waiting (&go, body_sleep);
  snprintf (pid_text, sizeof pid_text, "%d", (int)pid);
  {
    _cleanup_free_ char *procs = xasprintf ("%s/cgroup.procs", parent);
    fd = open (procs, O_WRONLY | O_CLOEXEC);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, pid_text, strlen (pid_text)), (ssize_t)strlen (pid_text));
    close (fd);
  }
  release (go);

  assert_int_equal (sk_cgroup_create (path, NULL, &cg, &err), -1);
  assert_int_equal (err->errnum, EBUSY);
  text = sk_err_text (&err);
  print_message ("error: %s\n", text);
  assert_non_null (strstr (text, "processes sit in that group"));
  type = read_text (parent, "cgroup.type");
  assert_string_equal (type, "domain"); /* not turned "domain threaded" */

  kill (pid, SIGKILL);
  assert_int_equal (waitpid (pid, NULL, 0), pid);
}

static int
child_checks_own_cgroup (void *arg)
{
  _cleanup_free_ char *text = read_text ("/proc/self", "cgroup");
  return text != NULL && strstr (text, (const char *)arg) != NULL ? 0 : 1;
}

static void
test_clone_into_cgroup (void **state)
{
  (void)state;
  REQUIRE_CGROUPS ();
  if (!is_v2 ())
    skip (); /* CLONE_INTO_CGROUP is a v2 feature; v1 attaches by pid */
  _cleanup_free_ char *path = group_path ("clone3");
  _cleanup_err_ sk_err_t err = NULL;
  struct sk_cgroup *cg = NULL;
  struct clone_args args;
  int status;
  long pid;
  if (sk_cgroup_create (path, NULL, &cg, &err) < 0)
    fail_msg ("%s", sk_err_text (&err));
  memset (&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (uint64_t)sk_cgroup_clone_fd (cg);
  pid = syscall (SYS_clone3, &args, sizeof args);
  if (pid == 0)
    _exit (child_checks_own_cgroup (path));
  if (pid < 0 && errno == ENOSYS) /* e.g. under valgrind */
    {
      assert_int_equal (sk_cgroup_destroy (cg, &err), 0);
      sk_cgroup_free (cg);
      free (steal_pointer (&path)); /* skip() longjmps past the cleanups */
      skip ();
    }
  assert_true (pid > 0);
  assert_int_equal (waitpid ((pid_t)pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  assert_int_equal (sk_cgroup_destroy (cg, &err), 0);
  sk_cgroup_free (cg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_shares_to_weight),
    cmocka_unit_test (test_bad_paths),
    cmocka_unit_test_teardown (test_layout, sweep),
    cmocka_unit_test_teardown (test_create_writes_limits, sweep),
    cmocka_unit_test_teardown (test_weakened_soft_setting_warns, sweep),
    cmocka_unit_test_teardown (test_refused_write_names_file_and_value, sweep),
    cmocka_unit_test_teardown (test_attach_and_kill_all, sweep),
    cmocka_unit_test_teardown (test_oom_kill_is_counted, sweep),
    cmocka_unit_test_teardown (test_pids_max_stops_forks, sweep),
    cmocka_unit_test_teardown (test_remove_path, sweep),
    cmocka_unit_test_teardown (test_v2_refuses_populated_ancestor, sweep),
    cmocka_unit_test_teardown (test_clone_into_cgroup, sweep),
  };

  return cmocka_run_group_tests (tests, group_setup, sweep);
}
