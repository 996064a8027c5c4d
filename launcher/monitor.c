/* The monitor of a detached task (monitor.h). Kept deliberately small: one
 * epoll loop that writes tiny files and spawns supervisors, so there is
 * little that can crash and little memory for the OOM killer to want. No
 * JSON, no cgroups, and no allocation in the loop: everything it tracks
 * lives in fixed arrays. */
#include "monitor.h"
#include "monitor_internal.h"
#include "taskstate.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESPAWN_MIN_MS 100
#define RESPAWN_MAX_MS 5000
#define MAX_FAST_FAILURES 20 /* supervisors that exited with an error, not killed ones */
#define MAX_FIFOS 64         /* stdout + stderr of up to 32 containers (ECS allows 10) */

/* ---- the CLI side ------------------------------------------------------------ */

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

int
sk_monitor_pidfd (const char *task_dir)
{
  char path[4096], text[64];
  unsigned long long start = 0;
  int pid = 0, fd;
  ssize_t n;

  snprintf (path, sizeof path, "%s/monitor", task_dir);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, text, sizeof text - 1);
  close (fd);
  if (n <= 0)
    return -1;
  text[n] = '\0';
  if (sscanf (text, "%d %llu", &pid, &start) != 2 || pid <= 0)
    return -1;
  /* pid + start time: a recycled pid is never signalled. */
  return sk_pidfd_open_verified ((pid_t)pid, (uint64_t)start);
}

int
sk_monitor_signal (const char *task_dir, int sig)
{
  int fd = sk_monitor_pidfd (task_dir), ok;

  if (fd < 0)
    return -1;
  ok = (int)syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0);
  close (fd);
  return ok == 0 ? 0 : -1;
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

/* ---- the monitor ---------------------------------------------------------------- */

enum tag
{
  TAG_SIGNAL = 1,
  TAG_TIMER,
  TAG_SOCK,
  TAG_FIFO,
};

enum sup_state
{
  SUP_RUNNING,     /* a supervisor runs */
  SUP_HIBERNATING, /* none runs; woken by an event or wake_at */
  SUP_BACKOFF,     /* the last one crashed; the next one starts at wake_at */
  SUP_DONE,        /* the task is over */
};

struct monitor
{
  const char *root;
  const char *id;
  char dir[4096];
  int epfd;
  int sigfd;
  int timerfd;
  int sock; /* our end of the running supervisor's socket, -1 none */
  pid_t sup;
  enum sup_state state;
  uint64_t wake_at_ms; /* HIBERNATING / BACKOFF: when to spawn, 0 = never */
  bool wake_pending;   /* a request came while a supervisor ran */
  unsigned delay_ms;   /* next crash back-off */
  unsigned fast_failures;
  size_t n_fifos;
  int fifos[2 * MAX_FIFOS]; /* room for the new set while the old one is open */
  struct sup_news news;
};

static uint64_t
monotonic_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
watch (struct monitor *m, int fd, enum tag tag)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
  epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
arm_timer (struct monitor *m)
{
  struct itimerspec its;
  uint64_t at = m->state == SUP_HIBERNATING || m->state == SUP_BACKOFF ? m->wake_at_ms : 0;

  memset (&its, 0, sizeof its);
  if (at != 0)
    {
      its.it_value.tv_sec = (time_t)(at / 1000);
      its.it_value.tv_nsec = (long)(at % 1000) * 1000000L;
    }
  timerfd_settime (m->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The containers' output FIFOs (<task>/containers/<name>/std{out,err}.fifo)
 * are watched only while no supervisor reads them: output wakes one. The
 * container holds its FIFO open read-write, so no EOF comes from it. They
 * stay open (unwatched) while a supervisor runs: a FIFO nobody holds loses
 * what its exited container wrote last. Opened anew on each hibernation
 * notice, the old set closed after (restarted containers, new FIFOs). */
static void
reopen_fifos (struct monitor *m)
{
  size_t old = m->n_fifos;
  char path[4400];
  DIR *d;
  struct dirent *e;

  if (snprintf (path, sizeof path, "%s/containers", m->dir) >= (int)sizeof path)
    return;
  d = opendir (path);
  while (d != NULL && (e = readdir (d)) != NULL && m->n_fifos - old + 2 <= MAX_FIFOS)
    {
      static const char *const streams[] = { "stdout", "stderr" };
      if (e->d_name[0] == '.')
        continue;
      for (size_t k = 0; k < 2; k++)
        {
          int fd;
          if (snprintf (path, sizeof path, "%s/containers/%s/%s.fifo", m->dir, e->d_name,
                        streams[k])
              >= (int)sizeof path)
            continue;
          fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
          if (fd >= 0)
            m->fifos[m->n_fifos++] = fd;
        }
    }
  if (d != NULL)
    closedir (d);
  for (size_t i = 0; i < old; i++)
    close (m->fifos[i]);
  memmove (m->fifos, m->fifos + old, (m->n_fifos - old) * sizeof *m->fifos);
  m->n_fifos -= old;
}

static void
on_hibernate_notice (void *ctx)
{
  reopen_fifos (ctx);
}

static void
set_fifo_watch (struct monitor *m, bool on)
{
  for (size_t i = 0; i < m->n_fifos; i++)
    {
      struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_FIFO };
      epoll_ctl (m->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, m->fifos[i], on ? &ev : NULL);
    }
}

static void
close_fifos (struct monitor *m)
{
  for (size_t i = 0; i < m->n_fifos; i++)
    close (m->fifos[i]);
  m->n_fifos = 0;
}

static void
spawn_supervisor (struct monitor *m)
{
  pid_t monitor = getpid ();
  bool waking = m->state == SUP_HIBERNATING;
  int pair[2];
  pid_t pid;

  if (m->state == SUP_HIBERNATING)
    set_fifo_watch (m, false);
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    pair[0] = pair[1] = -1;
  pid = fork ();
  if (pid == 0)
    {
      sigset_t term;
      char num[16];
      /* SIGTERM stays blocked through exec: a stop forwarded before the
       * supervisor reads its signals waits for it instead of killing it. */
      sigemptyset (&term);
      sigaddset (&term, SIGTERM);
      sigprocmask (SIG_SETMASK, &term, NULL);
      /* A supervisor never outlives its monitor: a later CLI re-adopts the
       * task with a new pair, and two supervisors must never both act. */
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (getppid () != monitor)
        _exit (1);
      if (pair[1] >= 0 && fcntl (pair[1], F_SETFD, 0) == 0)
        {
          snprintf (num, sizeof num, "%d", pair[1]);
          setenv (SK_MONITOR_FD_ENV, num, 1);
          if (waking)
            setenv (SK_MONITOR_WAKE_ENV, "1", 1);
        }
      execl ("/proc/self/exe", "skiff", "--root", m->root, "__supervise", m->id, (char *)NULL);
      _exit (127);
    }
  if (pair[1] >= 0)
    close (pair[1]);
  memset (&m->news, 0, sizeof m->news);
  m->news.on_hibernate = on_hibernate_notice;
  m->news.ctx = m;
  m->wake_pending = false;
  if (pid < 0)
    {
      /* Tried again after the longest back-off. */
      if (pair[0] >= 0)
        close (pair[0]);
      m->state = SUP_BACKOFF;
      m->wake_at_ms = monotonic_ms () + RESPAWN_MAX_MS;
      return;
    }
  m->sup = pid;
  m->sock = pair[0];
  m->state = SUP_RUNNING;
  if (m->sock >= 0)
    watch (m, m->sock, TAG_SOCK);
}

/* A container (or a probe) re-parented to us: keep its status for the
 * supervisor. Read the start time while it is a zombie, then reap it. */
static void
record_exit (const char *task_dir, pid_t pid)
{
  uint64_t start = sk_proc_start_time (pid);
  siginfo_t info;
  char path[4200], text[32];
  sk_err_t err = NULL;

  memset (&info, 0, sizeof info);
  if (waitid (P_PID, (id_t)pid, &info, WEXITED) < 0)
    return;
  if (start == 0)
    return;
  /* The same name as sk_exit_record_path(), without an allocation. */
  snprintf (path, sizeof path, "%s/exits/%d.%" PRIu64, task_dir, (int)pid, start);
  snprintf (text, sizeof text, "%d %d\n", info.si_code, info.si_status);
  if (sk_write_file_atomic (path, text, strlen (text), &err) < 0)
    sk_err_free (&err);
}

static bool
task_exists (const struct monitor *m)
{
  char path[4200];
  snprintf (path, sizeof path, "%s/spec.json", m->dir);
  return access (path, F_OK) == 0;
}

static void
on_supervisor_exit (struct monitor *m, const siginfo_t *info)
{
  /* Its last words (a hibernation notice, deposits) are still queued. */
  if (m->sock >= 0)
    {
      sk_monitor_serve_messages (m->sock, &m->news, MSG_DONTWAIT);
      close (m->sock);
      m->sock = -1;
    }
  m->sup = -1;
  if (info->si_code == CLD_EXITED && info->si_status == 0)
    {
      close_fifos (m);
      m->state = SUP_DONE; /* the task is over and its state final */
      return;
    }
  if (info->si_code == CLD_EXITED && info->si_status == SK_MONITOR_EXIT_HIBERNATE
      && m->news.hibernating)
    {
      m->fast_failures = 0;
      m->delay_ms = RESPAWN_MIN_MS;
      m->state = SUP_HIBERNATING;
      m->wake_at_ms = m->news.wake_at_ms;
      /* A request it may not have seen before it left wakes a new one. */
      if (m->wake_pending)
        m->wake_at_ms = 1;
      else
        set_fifo_watch (m, true);
      return;
    }
  /* Killed or crashed: a new one resumes from state.json. A task removed
   * meanwhile, or a supervisor that cannot even start, ends the monitor
   * (the next skiff command may adopt the task again). */
  if (info->si_code == CLD_EXITED)
    m->fast_failures++;
  if (!task_exists (m) || m->fast_failures > MAX_FAST_FAILURES)
    {
      m->state = SUP_DONE;
      return;
    }
  m->state = SUP_BACKOFF;
  m->wake_at_ms = monotonic_ms () + m->delay_ms;
  m->delay_ms = m->delay_ms * 2 > RESPAWN_MAX_MS ? RESPAWN_MAX_MS : m->delay_ms * 2;
}

/* Reap everything that ended; true when a container ended (an event for a
 * hibernating supervisor). */
static bool
reap (struct monitor *m)
{
  bool container_exit = false;

  for (;;)
    {
      siginfo_t info;

      memset (&info, 0, sizeof info);
      if (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
        break;
      if (info.si_pid == m->sup)
        {
          waitid (P_PID, (id_t)m->sup, &info, WEXITED);
          on_supervisor_exit (m, &info);
          continue;
        }
      record_exit (m->dir, info.si_pid);
      container_exit = true;
    }
  return container_exit;
}

/* A CLI request: forwarded to the supervisor, or wakes one. */
static bool
on_request (struct monitor *m, int sig)
{
  if (m->state == SUP_RUNNING)
    {
      m->wake_pending = true;
      /* Still our unreaped child: its pid cannot have been reused. */
      if (sig == SIGTERM)
        kill (m->sup, SIGTERM);
      return false;
    }
  /* A woken supervisor reads `desired` and stops by itself. */
  return m->state == SUP_HIBERNATING || m->state == SUP_BACKOFF;
}

static bool
on_signals (struct monitor *m)
{
  struct signalfd_siginfo si;
  bool wake = false;

  while (read (m->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
    switch (si.ssi_signo)
      {
      case SIGCHLD:
        if (reap (m) && m->state == SUP_HIBERNATING)
          wake = true;
        break;
      case SIGTERM:
      case SIGUSR1:
        wake = on_request (m, (int)si.ssi_signo) || wake;
        break;
      default:
        break; /* hangups and ^C of the shell that ran `run -d` are not ours */
      }
  return wake;
}

static void
write_identity (const struct monitor *m)
{
  char path[4200], text[64];
  sk_err_t err = NULL;

  snprintf (path, sizeof path, "%s/monitor", m->dir);
  snprintf (text, sizeof text, "%d %" PRIu64 "\n", (int)getpid (), sk_proc_start_time (getpid ()));
  if (sk_write_file_atomic (path, text, strlen (text), &err) < 0)
    sk_err_free (&err);
}

static int
setup (struct monitor *m, int lock_fd)
{
  char path[4200];
  sigset_t mask;
  int fd;

  if (lock_fd < 0)
    {
      snprintf (path, sizeof path, "%s/lock", m->dir);
      lock_fd = open (path, O_RDWR | O_CLOEXEC);
      if (lock_fd < 0 || flock (lock_fd, LOCK_EX | LOCK_NB) < 0)
        return -1; /* someone else adopted it */
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
  snprintf (path, sizeof path, "%s/exits", m->dir);
  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    return -1;
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGUSR1);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGPIPE);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  m->sigfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  m->epfd = epoll_create1 (EPOLL_CLOEXEC);
  m->timerfd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (m->sigfd < 0 || m->epfd < 0 || m->timerfd < 0)
    return -1;
  watch (m, m->sigfd, TAG_SIGNAL);
  watch (m, m->timerfd, TAG_TIMER);
  write_identity (m);
  return 0;
}

int
sk_monitor_main (const char *root, const char *id, int lock_fd)
{
  static struct monitor m; /* static: its fd arrays stay off the stack */
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);

  memset (&m, 0, sizeof m);
  m.root = root;
  m.id = id;
  m.sock = -1;
  m.sup = -1;
  m.delay_ms = RESPAWN_MIN_MS;
  snprintf (m.dir, sizeof m.dir, "%s", dir);
  sk_monitor_store_init ();
  if (setup (&m, lock_fd) < 0)
    return 0;

  spawn_supervisor (&m);
  while (m.state != SUP_DONE)
    {
      struct epoll_event evs[8];
      bool wake = false;
      int n;

      arm_timer (&m);
      n = epoll_wait (m.epfd, evs, 8, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      for (int k = 0; k < n && m.state != SUP_DONE; k++)
        switch (evs[k].data.u32)
          {
          case TAG_SIGNAL:
            wake = on_signals (&m) || wake;
            break;
          case TAG_TIMER:
            {
              uint64_t expirations;
              if (read (m.timerfd, &expirations, sizeof expirations) < 0)
                (void)0;
              if ((m.state == SUP_HIBERNATING || m.state == SUP_BACKOFF) && m.wake_at_ms != 0
                  && monotonic_ms () >= m.wake_at_ms)
                wake = true;
              break;
            }
          case TAG_SOCK:
            if (m.sock >= 0 && !sk_monitor_serve_messages (m.sock, &m.news, MSG_DONTWAIT))
              {
                /* Gone: its exit (SIGCHLD) follows; stop polling a dead end. */
                epoll_ctl (m.epfd, EPOLL_CTL_DEL, m.sock, NULL);
              }
            break;
          case TAG_FIFO:
            wake = wake || m.state == SUP_HIBERNATING;
            break;
          }
      if (wake && m.state != SUP_RUNNING && m.state != SUP_DONE)
        spawn_supervisor (&m);
    }
  close_fifos (&m);
  /* Orphans the supervisor left (none when it ended well) are reaped. */
  {
    siginfo_t info;
    memset (&info, 0, sizeof info);
    while (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid > 0)
      {
        record_exit (m.dir, info.si_pid);
        memset (&info, 0, sizeof info);
      }
  }
  return 0;
}
