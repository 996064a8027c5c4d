/* Terminals: pty pairs, the user's terminal in raw mode, window sizes, and
 * the relays of `skiff exec -t` and of a foreground task (pty.h). */
#include "pty.h"
#include "logs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

/* How long a write to a full pty waits before the bytes are dropped: the
 * supervisor's loop must go on even when a container never reads. */
#define PTY_WRITE_STALL_MS 1000

/* ---- the user's terminal --------------------------------------------------- */

static struct termios saved_mode;
static int saved_mode_fd = -1;
static pid_t saved_mode_pid; /* a forked child's exit() leaves the terminal alone */
static bool restore_registered;

int
sk_term_fd (void)
{
  static const int candidates[] = { STDOUT_FILENO, STDIN_FILENO, STDERR_FILENO };

  for (size_t i = 0; i < SK_ARRAY_SIZE (candidates); i++)
    if (isatty (candidates[i]))
      return candidates[i];
  return -1;
}

void
sk_pty_copy_winsize (int master)
{
  struct winsize ws;
  int term = sk_term_fd ();

  if (term >= 0 && ioctl (term, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    ioctl (master, TIOCSWINSZ, &ws);
}

void
sk_term_restore (void)
{
  if (saved_mode_fd < 0 || saved_mode_pid != getpid ())
    return;
  /* TCSADRAIN: what the container wrote last is shown in its own mode. */
  while (tcsetattr (saved_mode_fd, TCSADRAIN, &saved_mode) < 0 && errno == EINTR)
    ;
  saved_mode_fd = -1;
}

bool
sk_term_is_raw (void)
{
  return saved_mode_fd >= 0 && saved_mode_pid == getpid ();
}

bool
sk_term_make_raw (int fd)
{
  struct termios raw;

  if (saved_mode_fd >= 0)
    return true;
  if (!isatty (fd) || tcgetpgrp (fd) != getpgrp ())
    return false;
  if (tcgetattr (fd, &saved_mode) < 0)
    return false;
  raw = saved_mode;
  cfmakeraw (&raw);
  if (tcsetattr (fd, TCSANOW, &raw) < 0)
    return false;
  saved_mode_fd = fd;
  saved_mode_pid = getpid ();
  /* Error paths that end in exit() restore it too. */
  if (!restore_registered)
    restore_registered = atexit (sk_term_restore) == 0;
  return true;
}

/* ---- pty pairs ----------------------------------------------------------- */

int
sk_pty_open (bool nonblock, int *master, int *slave, char **slave_path, sk_err_t *err)
{
  _cleanup_close_ int m = -1;
  _cleanup_close_ int s = -1;
  char name[128];
  int flags = O_RDWR | O_NOCTTY | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0);

  m = posix_openpt (flags);
  if (m < 0)
    return sk_err_set (err, errno, "posix_openpt");
  if (grantpt (m) < 0)
    return sk_err_set (err, errno, "grantpt");
  if (unlockpt (m) < 0)
    return sk_err_set (err, errno, "unlockpt");
  int e = ptsname_r (m, name, sizeof name);
  if (e != 0)
    return sk_err_set (err, e, "ptsname");
  s = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    return sk_err_set (err, errno, "open the pty `%s`", name);
  sk_pty_copy_winsize (m);
  {
    /* Nobody's window to follow: the size of a classic terminal rather
     * than 0x0, which confuses full-screen programs. */
    struct winsize ws;
    if (ioctl (m, TIOCGWINSZ, &ws) == 0 && (ws.ws_row == 0 || ws.ws_col == 0))
      {
        ws.ws_row = 24;
        ws.ws_col = 80;
        ioctl (m, TIOCSWINSZ, &ws);
      }
  }
  if (slave_path != NULL)
    *slave_path = xstrdup (name);
  *master = steal_fd (&m);
  *slave = steal_fd (&s);
  return 0;
}

/* ---- moving bytes ----------------------------------------------------------- */

static bool
write_to_pty (int master, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (master, buf, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          struct pollfd p = { .fd = master, .events = POLLOUT };
          if (poll (&p, 1, PTY_WRITE_STALL_MS) > 0)
            continue;
          return false;
        }
      if (n < 0)
        return false; /* EIO: nobody holds the slave any more */
      buf += n;
      len -= (size_t)n;
    }
  return true;
}

/* The terminal's end-of-file character (VEOF, Ctrl-D by default). */
static char
eof_char (int master)
{
  struct termios t;

  if (master >= 0 && tcgetattr (master, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
    return (char)t.c_cc[VEOF];
  return 4;
}

static void
send_eof (int master)
{
  char eof = eof_char (master);
  write_to_pty (master, &eof, 1);
}

bool
sk_pty_forward_input (int from, int master)
{
  char buf[4096];
  ssize_t n;

  do
    n = read (from, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return true;
  if (n <= 0)
    {
      send_eof (master);
      return false;
    }
  write_to_pty (master, buf, (size_t)n);
  return true;
}

int
sk_winch_fd (sk_err_t *err)
{
  sigset_t mask;
  int fd;

  sigemptyset (&mask);
  sigaddset (&mask, SIGWINCH);
  if (sigprocmask (SIG_BLOCK, &mask, NULL) < 0)
    return sk_err_set (err, errno, "block SIGWINCH");
  fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return sk_err_set (err, errno, "signalfd SIGWINCH");
  return fd;
}

bool
sk_winch_consume (int winch_fd)
{
  struct signalfd_siginfo si;
  bool got = false;

  while (read (winch_fd, &si, sizeof si) == (ssize_t)sizeof si)
    got = true;
  return got;
}

/* ---- skiff exec -t ------------------------------------------------------------ */

static void
write_out (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      buf += n;
      len -= (size_t)n;
    }
}

void
sk_pty_relay (int master, int pidfd, bool input)
{
  sk_err_t ignored = NULL;
  int winch = sk_winch_fd (&ignored);
  bool in_open = input;
  bool exited = false;

  sk_err_free (&ignored);
  if (input)
    sk_term_make_raw (STDIN_FILENO);
  for (;;)
    {
      struct pollfd p[4] = {
        { .fd = master, .events = POLLIN },
        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = winch, .events = POLLIN },
        { .fd = exited ? -1 : pidfd, .events = POLLIN },
      };
      char buf[4096];
      ssize_t n;

      /* Once the process is gone, only what is left in the pty remains:
       * take it without waiting for processes that may still hold it. */
      if (poll (p, 4, exited ? 0 : -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = read (master, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break; /* EIO: every holder of the slave is gone */
          write_out (STDOUT_FILENO, buf, (size_t)n);
          continue;
        }
      if (exited)
        break;
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        in_open = sk_pty_forward_input (STDIN_FILENO, master);
      if ((p[2].revents & POLLIN) && sk_winch_consume (winch))
        sk_pty_copy_winsize (master);
      if (p[3].revents & POLLIN)
        exited = true;
    }
  if (winch >= 0)
    close (winch);
  sk_term_restore ();
}

/* ---- the terminals of a task ------------------------------------------------ */

/* skiff's stdin goes to the input container's pty with flow control: a
 * chunk is read only when the previous one was written whole, and while
 * the pty is full the supervisor waits for it to be writable instead of
 * stalling or dropping bytes. */
struct sk_task_tty
{
  size_t n;
  int *masters; /* per container, -1 when it has no pty (yet) */
  char **paths; /* the slaves' names */
  int epfd;     /* stdin, the input pty when full, the SIGWINCH signalfd */
  int winch;
  bool user_terminal;
  size_t input_idx;    /* SIZE_MAX: no container takes stdin */
  bool stdin_watched;  /* stdin is in epfd */
  bool stdin_pollable; /* false: a regular file or /dev/null, always readable */
  bool input_done;     /* stdin reached its end */
  int out_watched;     /* the master in epfd for EPOLLOUT, -1 none */
  char buf[4096];      /* read from stdin, not yet written */
  size_t len, off;
};

enum
{
  TTY_INPUT = 1,
  TTY_WINCH,
  TTY_OUTPUT_ROOM,
};

int
sk_task_tty_new (size_t n, bool user_terminal, struct sk_task_tty **out, sk_err_t *err)
{
  struct sk_task_tty *t = xzalloc (sizeof *t);
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TTY_WINCH };

  t->n = n;
  t->user_terminal = user_terminal;
  t->masters = xzalloc ((n + 1) * sizeof *t->masters);
  t->paths = xzalloc ((n + 1) * sizeof *t->paths);
  for (size_t i = 0; i < n; i++)
    t->masters[i] = -1;
  t->input_idx = SIZE_MAX;
  t->winch = -1;
  t->out_watched = -1;
  t->stdin_pollable = true;
  t->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (t->epfd < 0)
    {
      sk_err_set (err, errno, "epoll_create1 for the terminal");
      sk_task_tty_free (t);
      return -1;
    }
  if (user_terminal && sk_term_fd () >= 0)
    {
      t->winch = sk_winch_fd (err);
      if (t->winch < 0 || epoll_ctl (t->epfd, EPOLL_CTL_ADD, t->winch, &ev) < 0)
        {
          if (t->winch >= 0)
            sk_err_set (err, errno, "epoll_ctl SIGWINCH");
          sk_task_tty_free (t);
          return -1;
        }
    }
  *out = t;
  return 0;
}

int
sk_task_tty_fd (const struct sk_task_tty *t)
{
  return t != NULL ? t->epfd : -1;
}

static void
watch_stdin (struct sk_task_tty *t, bool on)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TTY_INPUT };

  on = on && t->stdin_pollable && !t->input_done;
  if (on == t->stdin_watched)
    return;
  if (on)
    {
      if (epoll_ctl (t->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0)
        t->stdin_watched = true;
      else if (errno == EPERM)
        t->stdin_pollable = false;
      return;
    }
  epoll_ctl (t->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
  t->stdin_watched = false;
}

/* Wait for room in the input pty (`master`, -1: stop waiting). */
static void
watch_room (struct sk_task_tty *t, int master)
{
  struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = TTY_OUTPUT_ROOM };

  if (master == t->out_watched)
    return;
  if (t->out_watched >= 0)
    epoll_ctl (t->epfd, EPOLL_CTL_DEL, t->out_watched, NULL);
  t->out_watched = -1;
  if (master >= 0 && epoll_ctl (t->epfd, EPOLL_CTL_ADD, master, &ev) == 0)
    t->out_watched = master;
}

static int
input_master (const struct sk_task_tty *t)
{
  return t->input_idx < t->n ? t->masters[t->input_idx] : -1;
}

/* One read of stdin into the empty buffer; false at its end, when the
 * buffer gets the terminal's end-of-file character instead. */
static bool
fill_from_stdin (struct sk_task_tty *t)
{
  ssize_t n;

  do
    n = read (STDIN_FILENO, t->buf, sizeof t->buf);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return true;
  if (n > 0)
    {
      t->len = (size_t)n;
      return true;
    }
  t->buf[0] = eof_char (input_master (t));
  t->len = 1;
  return false;
}

/* Write what is buffered; a file on stdin is read on while there is room
 * (a pollable stdin is read when epoll says so). */
static void
pump_input (struct sk_task_tty *t)
{
  int master = input_master (t);

  while (master >= 0)
    {
      while (t->off < t->len)
        {
          ssize_t n = write (master, t->buf + t->off, t->len - t->off);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            {
              /* Full: stdin waits until the container reads. */
              watch_stdin (t, false);
              watch_room (t, master);
              return;
            }
          if (n <= 0)
            t->off = t->len; /* nobody holds the slave any more: dropped */
          else
            t->off += (size_t)n;
        }
      t->off = t->len = 0;
      if (t->input_done || t->stdin_pollable)
        break;
      t->input_done = !fill_from_stdin (t);
      if (t->len == 0)
        break;
    }
  watch_room (t, -1);
  watch_stdin (t, master >= 0);
}

static int
connect_input (struct sk_task_tty *t, size_t idx, sk_err_t *err)
{
  (void)err;
  t->input_idx = idx;
  /* What was on its way to a container that is gone is dropped; a
   * restarted reader sees the end the last one saw. */
  t->off = t->len = 0;
  if (t->input_done)
    {
      t->buf[0] = eof_char (input_master (t));
      t->len = 1;
    }
  else
    {
      sk_term_make_raw (STDIN_FILENO);
      watch_stdin (t, true); /* also finds out whether stdin can be polled */
    }
  pump_input (t);
  return 0;
}

/* A container's old master leaves the epoll set before it is closed. */
static void
replace_master (struct sk_task_tty *t, size_t idx, int master)
{
  if (t->masters[idx] >= 0)
    {
      if (t->out_watched == t->masters[idx])
        watch_room (t, -1);
      close (t->masters[idx]);
    }
  t->masters[idx] = master;
}

/* The sink reads a fresh pipe whose read end is then replaced with the
 * master, keeping the fd number the sink knows. */
static int
install_on_sink (struct sk_log_sink *log, int master, sk_err_t *err)
{
  _cleanup_close_ int pipe_end = -1;

  if (sk_log_sink_pipe (log, SK_LOG_STDOUT, &pipe_end, err) < 0)
    return -1;
  if (dup3 (master, sk_log_fd (log, SK_LOG_STDOUT), O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "dup3 the pty master");
  return 0;
}

int
sk_task_tty_adopt (struct sk_task_tty *t, size_t idx, struct sk_log_sink *log, int master,
                   sk_err_t *err)
{
  _cleanup_close_ int m = master;

  if (idx >= t->n)
    return sk_err_set (err, EINVAL, "terminal of container %zu", idx);
  if (fcntl (m, F_SETFL, O_RDWR | O_NONBLOCK) < 0)
    return sk_err_set (err, errno, "fcntl O_NONBLOCK on the pty master");
  if (install_on_sink (log, m, err) < 0)
    return -1;
  replace_master (t, idx, steal_fd (&m));
  return 0;
}

int
sk_task_tty_open (struct sk_task_tty *t, size_t idx, struct sk_log_sink *log, bool input,
                  int *slave, const char **slave_path, sk_err_t *err)
{
  _cleanup_close_ int master = -1;
  _cleanup_close_ int s = -1;
  char *path = NULL;

  if (idx >= t->n)
    return sk_err_set (err, EINVAL, "terminal of container %zu", idx);
  /* Non-blocking: the log sink's reads and our writes must never stall
   * the supervisor. */
  if (sk_pty_open (true, &master, &s, &path, err) < 0)
    return -1;
  if (install_on_sink (log, master, err) < 0)
    {
      free (path);
      return -1;
    }
  replace_master (t, idx, steal_fd (&master));
  free (t->paths[idx]);
  t->paths[idx] = path;
  if (input && t->user_terminal && (t->input_idx == SIZE_MAX || t->input_idx == idx)
      && connect_input (t, idx, err) < 0)
    return -1;
  *slave = steal_fd (&s);
  *slave_path = path;
  return 0;
}

void
sk_task_tty_dispatch (struct sk_task_tty *t)
{
  struct epoll_event evs[4];
  int n = epoll_wait (t->epfd, evs, SK_ARRAY_SIZE (evs), 0);

  for (int k = 0; k < n; k++)
    switch (evs[k].data.u32)
      {
      case TTY_WINCH:
        if (sk_winch_consume (t->winch))
          for (size_t i = 0; i < t->n; i++)
            if (t->masters[i] >= 0)
              sk_pty_copy_winsize (t->masters[i]);
        break;
      case TTY_INPUT:
        if (t->len == 0 && !t->input_done)
          t->input_done = !fill_from_stdin (t);
        pump_input (t);
        break;
      case TTY_OUTPUT_ROOM:
        pump_input (t);
        break;
      default:
        break;
      }
}

void
sk_task_tty_free (struct sk_task_tty *t)
{
  if (t == NULL)
    return;
  sk_term_restore ();
  for (size_t i = 0; i < t->n; i++)
    {
      if (t->masters[i] >= 0)
        close (t->masters[i]);
      free (t->paths[i]);
    }
  if (t->winch >= 0)
    close (t->winch);
  if (t->epfd >= 0)
    close (t->epfd);
  free (t->masters);
  free (t->paths);
  free (t);
}
