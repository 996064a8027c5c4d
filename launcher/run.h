/* Running a task in the foreground: state, attempts (task-level retry, in
 * the spirit of AWS Batch retryStrategy), events, and the final result. */
#ifndef SKIFF_RUN_H
#define SKIFF_RUN_H

#include "container.h"
#include "error.h"
#include "retry.h"
#include "task.h"
#include "taskstate.h"

#include <stdbool.h>
#include <stdint.h>

struct sk_run_request
{
  struct sk_task *task;
  const char *root;
  struct sk_run_overrides overrides;
  uint64_t timeout_ms; /* 0 = none; per attempt, as Batch's attemptDurationSeconds */
  struct sk_retry_strategy retry;
  int prefix;              /* `name | ` before output lines: 1 on, -1 off, 0 = only when the
                              task has several containers */
  bool quiet;              /* no event lines on stderr */
  const char *events_file; /* JSON lines of every supervisor decision; NULL = none */
  const char *result_file; /* the stopped task as JSON (DescribeTasks-like); NULL = none */

  /* Detached tasks (`run -d`, launcher/taskstate.h): run in the existing
   * task directory `task_id`, containers outlive this process, decisions go
   * to <task>/events.jsonl, and every state change to `observe`. */
  const char *task_id; /* NULL = a new task directory, removed at the end */
  bool detached;
  const struct sk_task_record *resume; /* what a killed supervisor left; NULL = fresh */
  void (*observe) (void *ctx, const struct sk_task_record *r);
  void *observe_ctx;
  struct sk_run_summary *summary; /* filled at the end when not NULL */
};

struct sk_run_summary
{
  unsigned attempts;
  char stop_code[40];
  char stopped_reason[512];
  char container_reason[512];
  bool exit_known;
  int exit_code;
  bool hibernated; /* the task still runs: its monitor wakes a new supervisor */
};

/* Runs the task to its end. Returns 0 and the exit code skiff should exit
 * with (the essential container's, 124, 130, 143, ...), or -1 when the task
 * could not be set up (err carries the exit code, default 125). */
int sk_run_task (const struct sk_run_request *req, int *exit_code, sk_err_t *err);

#endif
