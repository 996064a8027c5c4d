/* Closing the window between the clone of a detached task's container and
 * the state write that records it (docs/architecture.md, "Crash safety").
 *
 * Before the clone, the supervisor writes <task>/containers/<name>/start:
 * "gen G at T\n" (G = the start's number in the attempt, as the restart
 * history counts starts; T = CLOCK_MONOTONIC ms); while the child waits for
 * GO (before anything of it can run) it adds "pid P start S\n" at offset
 * 64. A resumed supervisor whose state.json counts G-1 starts lost start G:
 * it adopts process P/S as if recorded (alive: watched; dead: its exit is
 * read like any adopted container's), so a container is never started
 * twice. Without a pid the child never got GO and ran nothing of the task;
 * it dies on its own and the start simply happens again. */
#ifndef SKIFF_START_RECORD_H
#define SKIFF_START_RECORD_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sup;

struct sk_start_files
{
  int start_fd; /* <state dir>/start */
  int init_fd;  /* <state dir>/init-exit (init_status.h), -1 without init */
};

/* Before the clone of start number `generation`. */
int sk_start_files_open (const char *state_dir, uint32_t generation, bool init,
                         struct sk_start_files *f, sk_err_t *err);
/* sk_launch_spec.on_cloned: stamps both files with pid + start time. */
int sk_start_files_cloned (void *ctx, pid_t pid, sk_err_t *err);
/* The start failed (the child is gone): the record no longer names it. */
void sk_start_files_cancel (struct sk_start_files *f);
void sk_start_files_close (struct sk_start_files *f);

/* Test-only crash point (docs/testing.md): SIGKILL ourselves when the
 * environment variable `name` is "1". */
void sk_test_crash_point (const char *name);

/* The hook at the start of sup_resume: a fresh attempt of a detached task
 * records its containers before any clone; a resumed one adopts the starts
 * its predecessor lost, then counts starts on from the record. */
void sk_start_records_resume (struct sup *s);

#endif
