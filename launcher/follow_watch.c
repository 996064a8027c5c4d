#include "follow_watch.h"
#include "monitor.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

int
sk_watch_set_init (struct sk_watch_set *ws, size_t capacity, sk_err_t *err)
{
  ws->n = 0;
  ws->w = xzalloc ((capacity + 1) * sizeof *ws->w);
  ws->fd = inotify_init1 (IN_CLOEXEC);
  if (ws->fd < 0)
    return sk_err_set (err, errno, "inotify_init1");
  return 0;
}

void
sk_watch_set_free (struct sk_watch_set *ws)
{
  for (size_t i = 0; i < ws->n; i++)
    free (ws->w[i].path);
  free (ws->w);
  if (ws->fd >= 0)
    close (ws->fd);
  if (ws->mon >= 0)
    close (ws->mon);
  ws->fd = ws->mon = -1;
}

/* Add every missing watch that can be added now; a path that does not
 * exist (yet) is no error. */
int
sk_watch_set_refresh (struct sk_watch_set *ws, sk_err_t *err)
{
  for (size_t i = 0; i < ws->n; i++)
    {
      struct sk_watch *w = &ws->w[i];

      if (w->wd >= 0 || w->gone)
        continue;
      w->wd = inotify_add_watch (ws->fd, w->path, w->mask);
      if (w->wd < 0 && errno != ENOENT && errno != ENOTDIR)
        return sk_err_set (err, errno, "inotify_add_watch `%s`", w->path);
    }
  return 0;
}

/* Register `path` (watched from the next refresh on); returns its index. */
size_t
sk_watch_set_add (struct sk_watch_set *ws, char *path, uint32_t mask)
{
  struct sk_watch *w = &ws->w[ws->n];

  w->path = path;
  w->mask = mask;
  w->wd = -1;
  return ws->n++;
}

/* Block until something watched changes; then add the watches that became
 * possible. A watched path that was removed is marked gone. */
int
sk_watch_set_wait (struct sk_watch_set *ws, sk_err_t *err)
{
  char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  ssize_t len;

  if (ws->root != NULL)
    {
      struct pollfd pfd[2]
          = { { .fd = ws->fd, .events = POLLIN }, { .fd = ws->mon, .events = POLLIN } };

      if (ws->mon < 0 && sk_monitor_readopt (ws->root, ws->id))
        ws->mon = sk_monitor_pidfd (ws->task_dir);
      pfd[1].fd = ws->mon;
      /* Without a monitor (another command adopts it right now): look again in a second. */
      if (poll (pfd, 2, ws->mon >= 0 ? -1 : 1000) >= 0 && (pfd[1].revents & POLLIN))
        {
          close (ws->mon);
          ws->mon = -1;
        }
      if (!(pfd[0].revents & POLLIN))
        return 0;
    }
  do
    len = read (ws->fd, buf, sizeof buf);
  while (len < 0 && errno == EINTR);
  if (len < 0)
    return sk_err_set (err, errno, "read inotify events");
  for (char *p = buf; p < buf + len;)
    {
      const struct inotify_event *e = (const struct inotify_event *)p;

      if (e->mask & IN_IGNORED)
        for (size_t i = 0; i < ws->n; i++)
          if (ws->w[i].wd == e->wd)
            {
              ws->w[i].wd = -1;
              ws->w[i].gone = true;
            }
      p += sizeof *e + e->len;
    }
  return sk_watch_set_refresh (ws, err);
}

/* A task directory that was watched and then removed (`skiff rm`). */
bool
sk_watch_gone (const struct sk_watch_set *ws, size_t index)
{
  return ws->fd >= 0 && ws->w[index].gone;
}

/* One JSON line of a log file: its time, stream and text. */
