/* One attempt of a task: start the containers in dependency order inside
 * the task's shared namespaces, watch them, run their health checks, restart
 * what fails by policy, stop everything in reverse dependency order, and
 * clean up. One epoll loop (signalfd, pidfds, pipes, one timerfd); every
 * decision comes from the pure functions of deps.c, restart.c and health.c. */
#ifndef SKIFF_SUPERVISE_H
#define SKIFF_SUPERVISE_H

#include "deps.h"
#include "error.h"
#include "events.h"
#include "logs.h"
#include "run.h"

#include <stdbool.h>
#include <stdint.h>

struct sk_attempt_outcome
{
  int exit_code; /* what skiff exits with for this attempt */
  enum sk_stop_cause cause;
  char stopped_reason[512];
  char container_reason[512]; /* reason of the container that ended it, "" when none */
  bool has_container_exit;    /* a container's exit decided the code */
  bool timed_out;
  bool interrupted; /* a signal stopped it */
  int signal;       /* that signal */
  bool exit_known;  /* false: the deciding exit could not be observed */
  bool hibernated;  /* detached: the supervisor left a running task to its monitor */
};

struct sk_attempt_env
{
  const struct sk_run_request *req;
  const char *task_id;
  const char *task_path;
  const char *cache_dir;
  struct sk_events *events;
  int sigfd;            /* signalfd of SIGINT/SIGTERM/SIGHUP, owned by the caller */
  uint64_t deadline_ms; /* monotonic --timeout deadline, 0 = none */
  unsigned attempt;
  const struct sk_task_record *resume; /* continue from this state (detached tasks) */
};

/* Run one attempt to its end. -1 only when the attempt could not be set up
 * at all (err says why; nothing is left behind). */
int sk_supervise_attempt (const struct sk_attempt_env *env, struct sk_attempt_outcome *out,
                          sk_err_t *err);

uint64_t sk_monotonic_ms (void);

#endif
