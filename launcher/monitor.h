/* The monitor of a detached task: the one skiff process that must survive.
 * It is the parent of the task's supervisor and the subreaper of its
 * containers, and does nothing else (no JSON, no cgroups, no decisions):
 *
 *   - respawns the supervisor (`skiff __supervise ID`) when it dies other
 *     than by finishing the task (exit 0), with a growing delay;
 *   - reaps containers re-parented to it and records each exit status in
 *     <task>/exits/<pid>.<start-time>, for the next supervisor;
 *   - holds <task>/lock (flock) for its lifetime: a free lock means the
 *     monitor is gone and the task must be re-adopted.
 *
 * docs/architecture.md, "Crash safety", explains the split. */
#ifndef SKIFF_MONITOR_H
#define SKIFF_MONITOR_H

#include "error.h"

#include <stdbool.h>

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

#endif
