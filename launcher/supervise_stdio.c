/* A container's standard streams for the supervisor: log pipes, the FIFOs
 * of detached tasks, ptys (kept by the monitor across supervisors). */
#include "container.h"
#include "monitor.h"
#include "pty.h"
#include "supervise.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervise_internal.h"

/* Detached tasks: the container writes into a FIFO in its state directory
 * that it also holds open for reading, so a killed supervisor never breaks
 * its stdout (no EPIPE); the next supervisor reopens the FIFO and carries
 * on reading. The sink keeps its fd number: the FIFO is dup'ed onto it. */
int
sup_fifo_swap (struct sup *s, size_t i, int stream, int *container_end, sk_err_t *err)
{
  struct sup_ctr *sc = &s->v[i];
  _cleanup_free_ char *path
      = xasprintf ("%s/%s.fifo", sc->c.state_dir, stream == SK_LOG_STDOUT ? "stdout" : "stderr");
  _cleanup_close_ int rd = -1;
  int sink_fd = sk_log_fd (sc->log, stream);

  if (mkfifo (path, 0600) < 0 && errno != EEXIST)
    return sk_err_set (err, errno, "mkfifo `%s`", path);
  rd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  if (container_end != NULL)
    {
      int wr = open (path, O_RDWR | O_CLOEXEC);
      if (wr < 0)
        return sk_err_set (err, errno, "open `%s`", path);
      close (*container_end);
      *container_end = wr;
    }
  if (dup3 (rd, sink_fd, O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "dup3 `%s`", path);
  return 0;
}

/* Detached: the pty master of container i, in the monitor's fd store
 * while no supervisor holds it (a crash, hibernation). */
static void
pty_store_name (size_t i, char *name, size_t size)
{
  snprintf (name, size, "pty.%zu", i);
}

/* pseudoTerminal: stdin, stdout and stderr are one pty, whose master is
 * the sink's stdout stream (launcher/pty.h). */
static int
open_pty (struct sup *s, size_t i, sk_err_t *err)
{
  struct sup_ctr *sc = &s->v[i];
  const struct sk_container *def = &s->task->containers[i];
  const char *path = NULL;
  int slave = -1;

  if (sk_task_tty_open (s->tty, i, sc->log, def->interactive, &slave, &path, err) < 0)
    return -1;
  if (s->env->req->detached)
    {
      char name[32];
      pty_store_name (i, name, sizeof name);
      if (sk_monitor_deposit_fd (name, sk_log_fd (sc->log, SK_LOG_STDOUT), err) < 0)
        {
          close (slave);
          return -1;
        }
    }
  sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDOUT), WATCH (W_LOG_OUT, i));
  sc->c.spec.stdio[0] = sc->c.spec.stdio[1] = sc->c.spec.stdio[2] = slave;
  sc->c.spec.console_path = path;
  return 0;
}

bool
sup_pty_reattach (struct sup *s, size_t i)
{
  struct sup_ctr *sc = &s->v[i];
  sk_err_t err = NULL;
  char name[32];
  int master;

  if (s->tty == NULL || !s->task->containers[i].pseudo_terminal)
    return false;
  pty_store_name (i, name, sizeof name);
  master = sk_monitor_withdraw_fd (name);
  if (master < 0)
    sk_err_set (&err, errno, "take its terminal back from the monitor");
  else if (sk_task_tty_adopt (s->tty, i, sc->log, master, &err) == 0)
    {
      sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDOUT), WATCH (W_LOG_OUT, i));
      return true;
    }
  _cleanup_free_ char *text = sk_err_text (&err);
  _cleanup_free_ char *line = xasprintf ("its output is not logged any more: %s", text);
  sk_err_free (&err);
  sk_log_sink_note (sc->log, line, sk_log_now ());
  return true;
}

int
sup_open_log_pipes (struct sup *s, size_t i, sk_err_t *err)
{
  struct sup_ctr *sc = &s->v[i];
  int out = -1, errfd = -1;

  if (s->tty != NULL && s->task->containers[i].pseudo_terminal)
    return open_pty (s, i, err);
  if (sk_log_sink_pipe (sc->log, SK_LOG_STDOUT, &out, err) < 0)
    return -1;
  if (sk_log_sink_pipe (sc->log, SK_LOG_STDERR, &errfd, err) < 0)
    {
      close (out);
      return -1;
    }
  if (s->env->req->detached
      && (sup_fifo_swap (s, i, SK_LOG_STDOUT, &out, err) < 0
          || sup_fifo_swap (s, i, SK_LOG_STDERR, &errfd, err) < 0))
    {
      close (out);
      close (errfd);
      return -1;
    }
  sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDOUT), WATCH (W_LOG_OUT, i));
  sup_watch_fd (s, sk_log_fd (sc->log, SK_LOG_STDERR), WATCH (W_LOG_ERR, i));
  sc->c.spec.stdio[1] = out;
  sc->c.spec.stdio[2] = errfd;
  return 0;
}

void
sup_close_container_ends (struct sup_ctr *sc)
{
  /* The container holds its copies; ours would keep the pipes from ever
   * reaching end-of-file. A pty's slave is all three at once. */
  for (int k = 0; k <= 2; k++)
    {
      int fd = sc->c.spec.stdio[k];
      if (fd <= 2)
        continue;
      close (fd);
      for (int j = k; j <= 2; j++)
        if (sc->c.spec.stdio[j] == fd)
          sc->c.spec.stdio[j] = -1;
    }
}

void
sup_drain_logs (struct sup *s, size_t i)
{
  struct sup_ctr *sc = &s->v[i];

  /* Every writer is gone with the container's pid namespace: what is left
   * in the pipes belongs to this run and is flushed before anything else
   * (a restart reopens the pipes). */
  for (int stream = SK_LOG_STDOUT; stream <= SK_LOG_STDERR; stream++)
    for (int rounds = 0; rounds < 64 && sk_log_fd (sc->log, stream) >= 0; rounds++)
      {
        int fd = sk_log_fd (sc->log, stream);
        sup_unwatch_fd (s, fd);
        if (sk_log_sink_drain (sc->log, stream, sk_log_now ()) != 0)
          break;
        sup_watch_fd (s, fd, WATCH (stream == SK_LOG_STDOUT ? W_LOG_OUT : W_LOG_ERR, i));
        break;
      }
}
