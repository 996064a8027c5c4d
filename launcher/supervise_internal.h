/* The supervisor's private state, shared by supervise.c (the loop),
 * supervise_setup.c (set-up, teardown, the outcome) and supervise_resume.c
 * (detached tasks: state records and re-adoption). */
#ifndef SKIFF_SUPERVISE_INTERNAL_H
#define SKIFF_SUPERVISE_INTERNAL_H

#include "container.h"
#include "deps.h"
#include "health.h"
#include "logs.h"
#include "probe.h"
#include "restart.h"
#include "sandbox.h"
#include "supervise.h"
#include "taskstate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

enum watch_kind
{
  W_SIGNAL = 1,
  W_TIMER,
  W_EXIT,
  W_LOG_OUT,
  W_LOG_ERR,
  W_PROBE_EXIT,
  W_PROBE_OUT,
  W_TTY, /* pty: skiff's stdin and SIGWINCH (launcher/pty.h) */
};

#define WATCH(kind, idx) (((uint64_t)(kind) << 32) | (uint64_t)(idx))
#define WATCH_KIND(v) ((enum watch_kind) ((v) >> 32))
#define WATCH_IDX(v) ((size_t)((v)&0xffffffffu))

struct sup_ctr
{
  struct sk_ctr c;
  bool prepared;
  struct sk_restart_policy_x policy;
  struct sk_restart_history history;
  struct sk_health_state health;
  struct sk_probe probe;
  struct sk_log_sink *log;
  bool backoff; /* exited, restart decided, waiting for restart_at */
  uint64_t restart_at;
  uint64_t next_probe_at;
  uint64_t kill_at; /* stop signal sent: SIGKILL due */
  bool stop_sent;
  bool killed;
  bool unhealthy_kill; /* being stopped because its health check failed */
  /* Detached tasks: a container a killed supervisor started (not our
   * child: its exit status comes from the monitor), and its times. */
  bool adopted;
  uint64_t pid_start;
  uint64_t started_at_ns;
  uint64_t stopped_at_ns;
};

struct sup
{
  const struct sk_attempt_env *env;
  const struct sk_task *task;
  struct sk_task_ctx ctx;
  struct sk_cgroup *task_cgroup;
  struct sk_sandbox sb;
  struct sk_log_opts log_opts;
  size_t n;
  struct sup_ctr *v;
  struct sk_container_status *st;
  int epfd;
  int timerfd;

  bool stopping;
  bool force_kill;
  enum sk_stop_cause cause;
  size_t ended_by; /* index of the container whose exit/health stopped the task */
  int signal;
  struct sk_task_record rec; /* what sup_observe() reports; strings borrowed */
  struct sk_task_tty *tty;   /* pseudoTerminal containers; NULL when none */

  /* Detached tasks: hibernation (monitor.h). */
  uint64_t hibernate_ms;     /* idle time before hibernating, 0 = never */
  uint64_t last_activity_ms; /* monotonic: the last event that was not a bare timer */
  bool hibernating;          /* deciding to: state.json says so */
  uint64_t wake_at_ms;       /* the earliest deadline left to the monitor */
  bool hibernated;           /* done: the loop returned for it */
  bool woken;                /* resumed from a hibernating predecessor */
};

const char *sup_name_of (const struct sup *s, size_t i);
void sup_watch_fd (struct sup *s, int fd, uint64_t tag);
int sup_fifo_swap (struct sup *s, size_t i, int stream, int *container_end, sk_err_t *err);
void sup_on_exit_of (struct sup *s, size_t i, uint64_t now);

void sup_drain_logs (struct sup *s, size_t i);
int sup_open_log_pipes (struct sup *s, size_t i, sk_err_t *err);
void sup_close_container_ends (struct sup_ctr *sc);
void sup_unwatch_fd (struct sup *s, int fd);
void sup_note (struct sup *s, size_t i, const char *text);
uint64_t sup_random_u64 (void);
void sup_stop_task (struct sup *s, enum sk_stop_cause cause, size_t by);
void sup_advance_stop (struct sup *s, uint64_t now);
/* A resumed supervisor takes a running pseudoTerminal container's pty back
 * from the monitor; false when container i has no pty. */
bool sup_pty_reattach (struct sup *s, size_t i);

/* supervise_setup.c */
int sup_prepare (struct sup *s, sk_err_t *err);
void sup_teardown (struct sup *s);
void sup_fill_outcome (const struct sup *s, struct sk_attempt_outcome *out);

/* supervise_resume.c */
void sup_observe (struct sup *s);
void sup_resume (struct sup *s, uint64_t now);

#endif
