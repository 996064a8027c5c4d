/* Running a task in the foreground: prepare, start, watch, stop, clean up.
 * One event loop (signalfd + pidfds + one timerfd on epoll): no sleeping,
 * no polling. */
#ifndef SKIFF_RUN_H
#define SKIFF_RUN_H

#include "container.h"
#include "error.h"
#include "task.h"

#include <stdint.h>

struct sk_run_request
{
  struct sk_task *task;
  const char *root;
  struct sk_run_overrides overrides;
  uint64_t timeout_ms; /* 0 = none */
};

/* Runs the task to its end. Returns 0 and the exit code skiff should exit
 * with (the essential container's, 124, 130, 143, ...), or -1 when the task
 * could not be started (err carries the exit code, default 125). */
int sk_run_task (const struct sk_run_request *req, int *exit_code, sk_err_t *err);

#endif
