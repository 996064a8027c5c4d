/* The monitor of a detached task (monitor.h). Kept deliberately small: a
 * loop over waitid() that writes tiny files, so there is little that can
 * crash and little memory for the OOM killer to want. */
#include "monitor.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESPAWN_MIN_MS 100
#define RESPAWN_MAX_MS 5000
#define MAX_FAST_FAILURES 20 /* supervisors that exited with an error, not killed ones */

static void
sleep_ms (unsigned ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static void
stdio_to_null (void)
{
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return;
  dup2 (fd, 0);
  dup2 (fd, 1);
  dup2 (fd, 2);
  if (fd > 2)
    close (fd);
}

int
sk_monitor_spawn (const char *root, const char *id, int lock_fd, sk_err_t *err)
{
  pid_t pid = fork ();
  int status;

  if (pid < 0)
    return sk_err_set (err, errno, "fork the monitor");
  if (pid == 0)
    {
      /* Own session, then a second fork: the monitor is no session leader
       * and can never get a controlling terminal back. */
      setsid ();
      if (fork () != 0)
        _exit (0);
      char fdnum[16];
      snprintf (fdnum, sizeof fdnum, "%d", lock_fd);
      /* The lock goes through exec: the monitor holds it from now on. */
      fcntl (lock_fd, F_SETFD, 0);
      stdio_to_null ();
      execl ("/proc/self/exe", "skiff", "--root", root, "__monitor", id, fdnum, (char *)NULL);
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

static pid_t
spawn_supervisor (const char *root, const char *id)
{
  pid_t monitor = getpid ();
  pid_t pid = fork ();

  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      /* A supervisor never outlives its monitor: a later CLI re-adopts the
       * task with a new pair, and two supervisors must never both act. */
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (getppid () != monitor)
        _exit (1);
      execl ("/proc/self/exe", "skiff", "--root", root, "__supervise", id, (char *)NULL);
      _exit (127);
    }
  return pid;
}

/* A container (or a probe) re-parented to us: keep its status for the
 * supervisor. Read the start time while it is a zombie, then reap it. */
static void
record_exit (const char *task_dir, pid_t pid)
{
  uint64_t start = sk_proc_start_time (pid);
  siginfo_t info;
  char text[32];
  sk_err_t err = NULL;

  memset (&info, 0, sizeof info);
  if (waitid (P_PID, (id_t)pid, &info, WEXITED) < 0)
    return;
  if (start == 0)
    return;
  _cleanup_free_ char *path = sk_exit_record_path (task_dir, pid, start);
  snprintf (text, sizeof text, "%d %d\n", info.si_code, info.si_status);
  if (sk_write_file_atomic (path, text, strlen (text), &err) < 0)
    sk_err_free (&err);
}

int
sk_monitor_main (const char *root, const char *id, int lock_fd)
{
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);
  _cleanup_free_ char *exits = xasprintf ("%s/exits", dir);
  _cleanup_free_ char *lock = xasprintf ("%s/lock", dir);
  _cleanup_free_ char *spec = xasprintf ("%s/spec.json", dir);
  unsigned delay = RESPAWN_MIN_MS;
  unsigned fast_failures = 0;
  sigset_t mask;
  pid_t sup;
  int fd;

  if (lock_fd < 0)
    {
      lock_fd = open (lock, O_RDWR | O_CLOEXEC);
      if (lock_fd < 0 || flock (lock_fd, LOCK_EX | LOCK_NB) < 0)
        return 0; /* someone else adopted it */
    }
  /* Not inherited by the supervisor: the lock must fall with the monitor. */
  fcntl (lock_fd, F_SETFD, FD_CLOEXEC);
  prctl (PR_SET_NAME, "skiff-monitor", 0, 0, 0);
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  /* Out of the OOM killer's reach where allowed (CAP_SYS_RESOURCE); else
   * it stays at 0 and the monitor's small size keeps it a poor target. */
  fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, "-1000", 5) < 0)
        (void)0;
      close (fd);
    }
  if (chdir ("/") < 0)
    (void)0;
  if (mkdir (exits, 0700) < 0 && errno != EEXIST)
    return 1;
  /* Users stop tasks through the supervisor; signals meant for the
   * session (hangups, ^C of the shell that ran `run -d`) are not ours. */
  sigemptyset (&mask);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGPIPE);
  sigprocmask (SIG_BLOCK, &mask, NULL);

  sup = spawn_supervisor (root, id);
  for (;;)
    {
      siginfo_t info;

      memset (&info, 0, sizeof info);
      if (waitid (P_ALL, 0, &info, WEXITED | WNOWAIT) < 0)
        {
          if (errno == EINTR)
            continue;
          break; /* ECHILD: nothing left to watch */
        }
      if (info.si_pid != sup)
        {
          record_exit (dir, info.si_pid);
          continue;
        }
      waitid (P_PID, (id_t)sup, &info, WEXITED);
      if (info.si_code == CLD_EXITED && info.si_status == 0)
        break; /* the task is over and its state final */
      /* Killed or crashed: a new one resumes from state.json. A task
       * removed meanwhile, or a supervisor that cannot even start, ends
       * the monitor (the next skiff command may adopt the task again). */
      if (info.si_code == CLD_EXITED)
        fast_failures++;
      if (access (spec, F_OK) != 0 || fast_failures > MAX_FAST_FAILURES)
        break;
      sleep_ms (delay);
      delay = delay * 2 > RESPAWN_MAX_MS ? RESPAWN_MAX_MS : delay * 2;
      sup = spawn_supervisor (root, id);
      if (sup < 0)
        break;
    }
  /* Orphans the supervisor left (none when it ended well) are reaped. */
  {
    siginfo_t info;
    memset (&info, 0, sizeof info);
    while (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid > 0)
      {
        record_exit (dir, info.si_pid);
        memset (&info, 0, sizeof info);
      }
  }
  return 0;
}

bool
sk_monitor_readopt (const char *root, const char *id)
{
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);
  _cleanup_free_ char *lock = xasprintf ("%s/lock", dir);
  _cleanup_free_ char *done = xasprintf ("%s/stopped", dir);
  _cleanup_free_ char *spec = xasprintf ("%s/spec.json", dir);
  _cleanup_close_ int fd = -1;
  sk_err_t err = NULL;

  if (access (done, F_OK) == 0)
    return false;
  /* Never O_CREAT: a task being removed (`rm` holds the lock, then
   * unlinks it) must not come back to life through a new lock file. */
  fd = open (lock, O_RDWR | O_CLOEXEC);
  if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
    return false; /* the monitor lives, or another CLI adopts it right now */
  /* Checked again under the lock: it may have ended or been removed. */
  if (access (done, F_OK) == 0 || access (spec, F_OK) != 0)
    return false;
  if (sk_monitor_spawn (root, id, fd, &err) < 0)
    {
      sk_err_free (&err);
      return false;
    }
  return true;
}
