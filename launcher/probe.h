/* Running one health-check probe inside a container (through
 * isolate/exec.c), capturing its output, enforcing its timeout. The
 * supervisor's loop watches pidfd and out_fd; this module only acts when
 * told. */
#ifndef SKIFF_PROBE_H
#define SKIFF_PROBE_H

#include "container.h"
#include "error.h"
#include "health.h"
#include "task.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sk_probe
{
  pid_t pid; /* 0 when no probe runs */
  int pidfd;
  int out_fd; /* read end of the probe's stdout+stderr */
  uint64_t start_ms;
  uint64_t deadline_ms;
  bool timed_out;
  size_t len;
  char out[SK_HEALTH_OUTPUT_MAX + 1];
};

void sk_probe_init (struct sk_probe *p);
int sk_probe_start (struct sk_probe *p, const struct sk_ctr *c, const struct sk_health_check *check,
                    uint64_t now_ms, sk_err_t *err);
/* out_fd readable: 0 while open, 1 at end-of-file (the fd is closed). */
int sk_probe_read (struct sk_probe *p);
/* The probe's pidfd is readable: reap it and fill the result (which points
 * into p). False when it had not exited after all. */
bool sk_probe_finish (struct sk_probe *p, uint64_t now_ms, struct sk_probe_result *r);
/* Its deadline passed: kill its whole process group; the exit follows. */
void sk_probe_timeout (struct sk_probe *p);
/* Kill and reap whatever runs; used when the container goes away. */
void sk_probe_abort (struct sk_probe *p);

#endif
