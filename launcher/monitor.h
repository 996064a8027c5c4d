/* The monitor of a detached task: the one skiff process that must survive.
 * It is the parent of the task's supervisor and the subreaper of its
 * containers, and decides nothing (no JSON, no cgroups, no policies). One
 * epoll loop over a signalfd, a timerfd, the supervisor's socket and, while
 * the supervisor hibernates, the containers' stdout/stderr FIFOs:
 *
 *   - spawns the supervisor (`skiff __supervise ID`), again after a crash
 *     (growing delay) and when a hibernating one must wake: a container
 *     exit, output on a FIFO, the deadline it left, a CLI request;
 *   - reaps containers re-parented to it and records each exit status in
 *     <task>/exits/<pid>.<start-time>, for the next supervisor;
 *   - keeps fds a supervisor deposits (sk_monitor_deposit_fd) across
 *     supervisors;
 *   - holds <task>/lock (flock) for its lifetime: a free lock means the
 *     monitor is gone and the task must be re-adopted; <task>/monitor says
 *     "<pid> <start-time>" so the CLI can signal it.
 *
 * docs/architecture.md, "Crash safety", explains the split. */
#ifndef SKIFF_MONITOR_H
#define SKIFF_MONITOR_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

/* The supervisor's exit status for "nothing to decide: wake me later". */
#define SK_MONITOR_EXIT_HIBERNATE 75
/* Idle time before a detached task's supervisor hibernates, in ms (default
 * SK_MONITOR_HIBERNATE_DEFAULT_MS; 0 = never). */
#define SK_MONITOR_HIBERNATE_ENV "SKIFF_HIBERNATE_MS"
#define SK_MONITOR_HIBERNATE_DEFAULT_MS 2000
/* How the monitor hands its socket to the supervisor (an fd number), and
 * says that it wakes a hibernating one ("1"). */
#define SK_MONITOR_FD_ENV "SKIFF_MONITOR_FD"
#define SK_MONITOR_WAKE_ENV "SKIFF_MONITOR_WAKE"

/* ---- the CLI side ------------------------------------------------------ */

/* Start the monitor of task `id` fully detached (double fork, setsid, stdio
 * on /dev/null) from the process that holds the task's lock on `lock_fd`:
 * the monitor inherits the lock. Returns once the monitor runs. */
int sk_monitor_spawn (const char *root, const char *id, int lock_fd, sk_err_t *err);

/* The monitor's main: never returns to the CLI. `lock_fd` < 0: take the
 * lock itself (re-adoption by a later CLI). */
int sk_monitor_main (const char *root, const char *id, int lock_fd);

/* A detached task whose monitor is gone (killed, OOM, reboot): start a new
 * monitor (which re-adopts through a new supervisor) unless the task has
 * stopped. Safe to call from any command, concurrently: the task lock
 * decides who does it. Returns true when a monitor was started. */
bool sk_monitor_readopt (const char *root, const char *id);

/* Signal the monitor of the task in `task_dir` (identified by pid + start
 * time from <task>/monitor, never by pid alone). SIGTERM: a stop request,
 * forwarded to the supervisor, which is woken first when it hibernates;
 * SIGUSR1: wake the supervisor. Returns 0 when sent, -1 when no live
 * monitor could be found. */
int sk_monitor_signal (const char *task_dir, int sig);
/* A pidfd of the task's monitor (from <task>/monitor, checked by start
 * time: never a recycled pid), or -1 when it does not run. */
int sk_monitor_pidfd (const char *task_dir);

/* ---- the supervisor side ----------------------------------------------- */

/* Take the monitor's socket from the environment (SK_MONITOR_FD_ENV, then
 * unset; the fd becomes close-on-exec). Call before any child is started.
 * True when running under a monitor. */
bool sk_monitor_attach (void);

/* True when this supervisor was spawned to wake a hibernating one (as
 * opposed to after a crash or by a new monitor): its resume is quiet. */
bool sk_monitor_waking (void);

/* The hibernation grace period from SK_MONITOR_HIBERNATE_ENV, in ms; 0 when
 * hibernation is off or there is no monitor. */
uint64_t sk_monitor_hibernate_ms (void);

/* Tell the monitor this supervisor hibernates: it exits next with
 * SK_MONITOR_EXIT_HIBERNATE and wants to be woken (spawned again) at
 * `wake_at_ms` (CLOCK_MONOTONIC, 0 = only on an event). */
int sk_monitor_hibernate (uint64_t wake_at_ms, sk_err_t *err);

/* Supervisor side. Gives the monitor a duplicate of FD under NAME (≤ 63 chars) so it
 * outlives this supervisor. Returns 0 and does nothing when not under a monitor. */
int sk_monitor_deposit_fd (const char *name, int fd, sk_err_t *err);
/* A duplicate of the fd deposited under NAME (O_CLOEXEC), or -1 with errno ENOENT. */
int sk_monitor_withdraw_fd (const char *name);
/* The monitor closes its copy (the container that used it is gone). */
void sk_monitor_forget_fd (const char *name);

/* For tests: answer fd-store requests on `sock` (the monitor's end of a
 * SOCK_SEQPACKET socketpair) until the peer closes it. */
void sk_monitor_serve_store (int sock);

#endif
