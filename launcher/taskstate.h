/* The on-disk state of a detached task (`skiff run -d`), shared by the CLI,
 * the monitor and the supervisor (docs/architecture.md, "Crash safety"):
 *
 *   <root>/tasks/<id>/spec.json       the normalized task definition
 *   <root>/tasks/<id>/options.json    the `run` options, as argv strings
 *   <root>/tasks/<id>/state.json      lastStatus, containers, supervision facts
 *   <root>/tasks/<id>/name            the friendly name (--name), when given
 *   <root>/tasks/<id>/desired         "STOPPED <timeout-s>" once a user asked
 *   <root>/tasks/<id>/exits/<pid>.<start>  exit status a monitor reaped
 *   <root>/tasks/<id>/events.jsonl    the supervisor's decision log
 *   <root>/tasks/<id>/lock            flock: held by the task's monitor
 *   <root>/tasks/<id>/monitor         "<pid> <start-time>" of that monitor
 *   <root>/tasks/<id>/state.lock      flock: serializes state.json writers
 *
 * Every file is written whole (temporary file, fsync, rename): a reader
 * never needs a lock and never sees half a file. */
#ifndef SKIFF_TASKSTATE_H
#define SKIFF_TASKSTATE_H

#include "error.h"
#include "restart.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- files ------------------------------------------------------------- */

/* Write `len` bytes to `path` atomically (tmp + fsync + rename), mode 0600. */
int sk_write_file_atomic (const char *path, const char *data, size_t len, sk_err_t *err);
/* The whole file, NUL-terminated (at most 16 MiB). */
int sk_read_file (const char *path, char **out, size_t *len, sk_err_t *err);

/* ---- process identity -------------------------------------------------- */

/* Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22);
 * 0 when the process does not exist. Works on zombies. */
uint64_t sk_proc_start_time (pid_t pid);
/* The kernel's boot id (36 characters + NUL), "" when unreadable. */
void sk_boot_id (char out[40]);
/* A pidfd of `pid` only if it is still the process that started at
 * `start` (checked after opening, so a reused pid is never returned);
 * -1 otherwise. */
int sk_pidfd_open_verified (pid_t pid, uint64_t start);

/* ---- records ----------------------------------------------------------- */

struct sk_ctr_record
{
  char *name;
  int state; /* enum sk_run_state */
  bool ever_started;
  bool backoff; /* exited; a restart is due at restart_at_ms */
  pid_t pid;    /* host pid while RUNNING, 0 otherwise */
  uint64_t pid_start;
  bool exit_known;
  int exit_code;
  char *reason;
  int health; /* enum sk_health_status */
  struct sk_restart_history history;
  uint64_t started_ms;    /* monotonic, last start */
  uint64_t restart_at_ms; /* monotonic */
  bool stop_sent;
  bool killed;
  bool unhealthy_kill;
  uint64_t kill_at_ms;    /* monotonic */
  uint64_t started_at_ns; /* realtime, for people */
  uint64_t stopped_at_ns;
  /* The health check's schedule and counters: a resumed (woken) supervisor
   * probes at the same time its predecessor would have. */
  uint64_t next_probe_ms;     /* monotonic, 0 none */
  uint64_t last_probe_end_ms; /* monotonic, 0 none */
  uint32_t health_failures;   /* consecutive counted failures */
  bool health_passed_once;
};

struct sk_task_record
{
  char *id;
  char *name; /* NULL when none */
  char *family;
  char *last_status;    /* PROVISIONING, RUNNING, DEACTIVATING, STOPPED */
  char *desired_status; /* RUNNING, STOPPED */
  char *stop_code;      /* NULL while running */
  char *stopped_reason;
  bool exit_known;
  int exit_code;
  uint64_t created_ns, started_ns, stopped_ns;
  char boot_id[40];
  unsigned attempt;
  pid_t supervisor_pid;
  uint64_t supervisor_start;
  /* The attempt's stop, for a resumed supervisor. */
  bool stopping;
  int cause;     /* enum sk_stop_cause */
  long ended_by; /* container index, -1 none */
  int signal;
  uint64_t deadline_ms; /* monotonic --timeout deadline, 0 none */
  /* The supervisor hibernates (monitor.h): the task still runs and its
   * monitor wakes a new supervisor at wake_at_ms or on an event. */
  bool hibernating;
  uint64_t wake_at_ms; /* monotonic, 0 = only on an event */
  size_t n;
  struct sk_ctr_record *c;
};

void sk_task_record_clear (struct sk_task_record *r);
/* The record as JSON (DescribeTasks-like; `supervision` members hold what a
 * resumed supervisor needs). Caller frees. */
char *sk_task_record_to_json (const struct sk_task_record *r, bool pretty);
int sk_task_record_from_json (const char *text, size_t len, struct sk_task_record *r,
                              sk_err_t *err);
/* <task dir>/state.json; ENOENT when the task has none yet. */
int sk_task_record_load (const char *task_dir, struct sk_task_record *r, sk_err_t *err);
/* Write state.json under state.lock. */
int sk_task_record_save (const char *task_dir, const struct sk_task_record *r, sk_err_t *err);

/* ---- finding tasks ----------------------------------------------------- */

/* A task id, a unique id prefix, or a --name -> the id (caller frees).
 * ENOENT: no such task; EINVAL: ambiguous prefix. */
int sk_task_resolve (const char *root, const char *ref, char **id, sk_err_t *err);
/* Ids of every detached task (directories with a spec.json), sorted.
 * Returns the count; *ids is a NULL-terminated list the caller frees. */
size_t sk_task_list (const char *root, char ***ids);
/* "<root>/tasks/<id>" */
char *sk_task_dir_path (const char *root, const char *id);
/* Is the task's monitor alive (its flock held)? */
bool sk_task_monitor_alive (const char *task_dir);

/* ---- exit records (written by the monitor) ----------------------------- */

/* What the monitor recorded for the process pid/start: 0 with the
 * siginfo si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and si_status, or -1
 * when nothing was recorded. The file is "<si_code> <si_status>\n". */
int sk_exit_record_read (const char *task_dir, pid_t pid, uint64_t start, int *how, int *status);
char *sk_exit_record_path (const char *task_dir, pid_t pid, uint64_t start);

/* The container reason when nobody could see how a container ended. */
#define SK_EXIT_UNOBSERVED_REASON                                                                  \
  "ExitCodeUnknown: the exit code could not be observed (the task's monitor was killed)"

#endif
