#include "run.h"
#include "events.h"
#include "jsonw.h"
#include "state.h"
#include "supervise.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

static void
write_result (const struct sk_run_request *req, const char *task_id, unsigned attempts,
              const struct sk_attempt_outcome *o, uint64_t created_ns, uint64_t stopped_ns)
{
  struct sk_jw w;
  char created[40], stopped[40];
  _cleanup_free_ char *tmp = NULL;
  _cleanup_free_ char *text = NULL;
  FILE *f;

  sk_format_time (created_ns, created, sizeof created);
  sk_format_time (stopped_ns, stopped, sizeof stopped);
  sk_jw_init (&w);
  sk_jw_begin_object (&w);
  sk_jw_kv_string (&w, "taskArn", task_id);
  sk_jw_kv_string (&w, "family", req->task->family);
  sk_jw_kv_string (&w, "lastStatus", "STOPPED");
  sk_jw_kv_string (&w, "desiredStatus", "STOPPED");
  sk_jw_kv_string (&w, "stopCode", sk_stop_code (o->cause));
  sk_jw_kv_string (&w, "stoppedReason", o->stopped_reason);
  sk_jw_kv_string (&w, "createdAt", created);
  sk_jw_kv_string (&w, "stoppedAt", stopped);
  sk_jw_kv_uint (&w, "attempts", attempts);
  sk_jw_kv_int (&w, "exitCode", o->exit_code);
  if (o->container_reason[0] != '\0')
    sk_jw_kv_string (&w, "containerReason", o->container_reason);
  sk_jw_end_object (&w);
  text = sk_jw_steal (&w);

  /* Written whole or not at all: a reader never sees half a result. */
  tmp = xasprintf ("%s.tmp", req->result_file);
  f = fopen (tmp, "we");
  if (f == NULL)
    {
      fprintf (stderr, "skiff: warning: --result-file: open `%s`: %s\n", tmp, strerror (errno));
      return;
    }
  fprintf (f, "%s\n", text);
  if (fclose (f) != 0 || rename (tmp, req->result_file) < 0)
    fprintf (stderr, "skiff: warning: --result-file: write `%s`: %s\n", req->result_file,
             strerror (errno));
}

static void
retry_event (struct sk_events *ev, const struct sk_retry_decision *d)
{
  struct sk_jw w;

  sk_event_begin (ev, &w, NULL, "task-retry");
  sk_jw_kv_bool (&w, "retry", d->retry);
  sk_jw_kv_uint (&w, "attempts", d->attempts);
  sk_jw_kv_int (&w, "rule", d->rule);
  sk_jw_kv_string (&w, "why", d->reason);
  sk_event_end (ev, &w, "%s", d->reason);
}

int
sk_run_task (const struct sk_run_request *req, int *exit_code, sk_err_t *err)
{
  struct sk_task_dir td = { .lock_fd = -1 };
  struct sk_events ev = { 0 };
  struct sk_attempt_outcome outcome;
  struct sk_attempt_env env;
  _cleanup_free_ char *cache_dir = NULL;
  _cleanup_free_ char *events_path = NULL;
  _cleanup_close_ int sigfd = -1;
  uint64_t created_ns = sk_realtime_ns ();
  unsigned attempt = 0;
  sigset_t mask;
  int ret = -1;

  /* Signals become events before any child exists, so none is lost and
   * every child starts from a known mask (it resets its own). */
  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGHUP);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal (SIGPIPE, SIG_IGN);
  sigfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    return sk_err_set (err, errno, "signalfd");

  if (sk_state_init_root (req->root, err) < 0)
    return -1;
  if (req->task_id == NULL)
    sk_state_gc (req->root); /* a detached task's supervisor leaves that to the CLI */
  cache_dir = xasprintf ("%s/cache/seccomp", req->root);
  if (mkdir (cache_dir, 0700) < 0 && errno != EEXIST)
    return sk_err_set (err, errno, "mkdir `%s`", cache_dir);
  if (req->task_id != NULL)
    {
      /* Detached: the directory exists and the task's monitor holds its
       * lock; it outlives this process. */
      snprintf (td.id, sizeof td.id, "%s", req->task_id);
      td.path = sk_task_dir_path (req->root, req->task_id);
    }
  else if (sk_task_dir_create (req->root, &td, err) < 0)
    {
      sk_err_t ignored = NULL;
      sk_task_dir_remove (&td, &ignored);
      sk_err_free (&ignored);
      return sk_err_wrap (err, "task %s", req->task->family);
    }

  ev.task_id = td.id;
  ev.family = req->task->family;
  ev.human = !req->quiet;
  if (req->detached)
    events_path = xasprintf ("%s/events.jsonl", td.path);
  else
    events_path = xstrdup (req->events_file != NULL ? req->events_file : "/dev/null");
  if (req->events_file != NULL || req->detached)
    {
      ev.file = fopen (events_path, "ae");
      if (ev.file == NULL)
        {
          sk_err_set (err, errno, "--events-file `%s`", events_path);
          goto out;
        }
    }

  memset (&env, 0, sizeof env);
  env.req = req;
  env.task_id = td.id;
  env.task_path = td.path;
  env.cache_dir = cache_dir;
  env.events = &ev;
  env.sigfd = sigfd;
  if (req->resume != NULL && req->resume->attempt > 0)
    {
      /* A resumed supervisor continues the attempt it found. */
      attempt = req->resume->attempt - 1;
      env.resume = req->resume;
    }

  for (;;)
    {
      struct sk_attempt_result result;
      struct sk_retry_decision d;

      attempt++;
      ev.attempt = attempt;
      env.attempt = attempt;
      env.deadline_ms = req->timeout_ms != 0 ? sk_monotonic_ms () + req->timeout_ms : 0;
      if (env.resume != NULL && env.resume->deadline_ms != 0)
        env.deadline_ms = env.resume->deadline_ms;
      if (sk_supervise_attempt (&env, &outcome, err) < 0)
        {
          sk_err_wrap (err, "task %s", req->task->family);
          goto out;
        }
      if (outcome.hibernated)
        {
          /* Detached: the task runs on; a woken supervisor resumes it. */
          if (req->summary != NULL)
            req->summary->hibernated = true;
          ret = 0;
          goto out;
        }
      env.resume = NULL;
      *exit_code = outcome.exit_code;
      memset (&result, 0, sizeof result);
      result.has_exit_code = outcome.cause != SK_STOP_FAILED_TO_START || outcome.exit_code != 125;
      result.exit_code = outcome.exit_code;
      result.reason = outcome.container_reason[0] ? outcome.container_reason : NULL;
      result.status_reason = outcome.stopped_reason;
      result.timed_out = outcome.timed_out;
      result.cancelled = outcome.interrupted;
      if (outcome.exit_code == 0 || outcome.interrupted)
        break;
      d = sk_retry_decide (&req->retry, attempt, &result);
      if (req->retry.attempts > 1)
        retry_event (&ev, &d);
      if (!d.retry)
        break;
      /* A fresh start: new writable layers, new cgroups, same task id. */
      _cleanup_free_ char *containers = xasprintf ("%s/containers", td.path);
      if (sk_remove_tree (containers, err) < 0 || mkdir (containers, 0700) < 0)
        {
          sk_err_wrap (err, "task %s: reset for attempt %u", req->task->family, attempt + 1);
          goto out;
        }
    }
  if (req->summary != NULL)
    {
      struct sk_run_summary *sum = req->summary;
      sum->attempts = attempt;
      snprintf (sum->stop_code, sizeof sum->stop_code, "%s", sk_stop_code (outcome.cause));
      snprintf (sum->stopped_reason, sizeof sum->stopped_reason, "%s", outcome.stopped_reason);
      snprintf (sum->container_reason, sizeof sum->container_reason, "%s",
                outcome.container_reason);
      sum->exit_known = outcome.exit_known;
      sum->exit_code = outcome.exit_code;
    }
  if (req->result_file != NULL)
    write_result (req, td.id, attempt, &outcome, created_ns, sk_realtime_ns ());
  ret = 0;
out:
  if (ev.file != NULL)
    fclose (ev.file);
  sk_err_t cleanup_err = NULL;
  if (req->task_id != NULL)
    sk_task_dir_clear (&td); /* the task's files stay for ps, inspect, logs */
  else if (sk_task_dir_remove (&td, &cleanup_err) < 0)
    {
      sk_err_print (&cleanup_err);
      sk_err_free (&cleanup_err);
    }
  return ret;
}
