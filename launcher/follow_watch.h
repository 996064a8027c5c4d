/* What `logs -f` and `events -f` wait on: inotify watches over paths that
 * may not exist yet, and for one task its monitor's pidfd (a monitor killed
 * meanwhile is replaced: the follower re-adopts the task). */
#ifndef SKIFF_FOLLOW_WATCH_H
#define SKIFF_FOLLOW_WATCH_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/inotify.h>

/* The paths -f watches with inotify. One that does not exist yet (logs/
 * before a container's first line, events.jsonl) is added again after each
 * wake-up: the watch on its parent directory is what wakes us when it
 * appears, and it is added before the next read, so no line is missed. */
struct sk_watch
{
  char *path;
  uint32_t mask;
  int wd;    /* -1 while the path is missing */
  bool gone; /* it was watched and then removed */
};

struct sk_watch_set
{
  int fd;
  size_t n;
  struct sk_watch *w;
  /* logs -f of one task: its monitor's pidfd. A monitor killed meanwhile
   * would leave the task unsupervised and -f waiting for ever: whoever
   * follows re-adopts it (sk_monitor_readopt), as `wait` does. */
  const char *root, *id, *task_dir;
  int mon;
};

/* The task directory: the `stopped` mark and state.json arrive by rename,
 * logs/ and events.jsonl are created in it. */
#define WATCH_TASK_DIR (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)
/* logs/: lines appended, files made on a first line and by rotation. */
#define WATCH_LOGS_DIR (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)

int sk_watch_set_init (struct sk_watch_set *ws, size_t capacity, sk_err_t *err);
void sk_watch_set_free (struct sk_watch_set *ws);
/* Add every missing watch that can be added now (a missing path is no error). */
int sk_watch_set_refresh (struct sk_watch_set *ws, sk_err_t *err);
/* Register `path` (owned; watched from the next refresh on); its index. */
size_t sk_watch_set_add (struct sk_watch_set *ws, char *path, uint32_t mask);
/* Block until something watched changes (or the monitor ends); then add
 * the watches that became possible. */
int sk_watch_set_wait (struct sk_watch_set *ws, sk_err_t *err);
/* A watched path that was removed since (the task directory after `rm`). */
bool sk_watch_gone (const struct sk_watch_set *ws, size_t index);

#endif
