/* Per-start records of a detached task's containers (start_record.h). */
#include "start_record.h"
#include "events.h"
#include "init_status.h"
#include "supervise_internal.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define START_FILE "start"
#define START_PID_AT 64

int
sk_start_files_open (const char *state_dir, uint32_t generation, bool init,
                     struct sk_start_files *f, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/" START_FILE, state_dir);
  char line[START_PID_AT];
  int len;

  f->start_fd = f->init_fd = -1;
  f->start_fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (f->start_fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  len = snprintf (line, sizeof line, "gen %" PRIu32 " at %" PRIu64 "\n", generation,
                  sk_monotonic_ms ());
  if (pwrite (f->start_fd, line, (size_t)len, 0) != len)
    {
      sk_err_set (err, errno, "write `%s`", path);
      sk_start_files_close (f);
      return -1;
    }
  if (init)
    {
      f->init_fd = sk_init_status_open (state_dir, err);
      if (f->init_fd < 0)
        {
          sk_start_files_close (f);
          return -1;
        }
    }
  return 0;
}

int
sk_start_files_cloned (void *ctx, pid_t pid, sk_err_t *err)
{
  struct sk_start_files *f = ctx;
  uint64_t start = sk_proc_start_time (pid);
  char line[START_PID_AT];
  int len;

  if (start == 0)
    return sk_err_set (err, ESRCH, "read the start time of process %d", (int)pid);
  len = snprintf (line, sizeof line, "pid %d start %" PRIu64 "\n", (int)pid, start);
  if (pwrite (f->start_fd, line, (size_t)len, START_PID_AT) != len)
    return sk_err_set (err, errno, "write the start record");
  if (f->init_fd >= 0 && sk_init_status_stamp (f->init_fd, pid, start, err) < 0)
    return -1;
  return 0;
}

void
sk_start_files_cancel (struct sk_start_files *f)
{
  /* A start that failed ran nothing of the task: nothing to adopt. */
  if (f->start_fd >= 0 && ftruncate (f->start_fd, 0) < 0)
    (void)0;
}

void
sk_start_files_close (struct sk_start_files *f)
{
  if (f->start_fd >= 0)
    close (f->start_fd);
  if (f->init_fd >= 0)
    close (f->init_fd);
  f->start_fd = f->init_fd = -1;
}

void
sk_test_crash_point (const char *name)
{
  const char *v = getenv (name);

  if (v != NULL && strcmp (v, "1") == 0)
    kill (getpid (), SIGKILL);
}

struct start_marker
{
  uint32_t gen;
  uint64_t at_ms;
  pid_t pid; /* 0: not cloned, or the child never got GO */
  uint64_t start;
};

static int
read_marker (const char *state_dir, struct start_marker *m)
{
  _cleanup_free_ char *path = xasprintf ("%s/" START_FILE, state_dir);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  char buf[2 * START_PID_AT + 1];
  int pid;
  ssize_t n;

  memset (m, 0, sizeof *m);
  if (fd < 0)
    return -1;
  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  if (sscanf (buf, "gen %" SCNu32 " at %" SCNu64, &m->gen, &m->at_ms) != 2)
    return -1;
  if (n > START_PID_AT && sscanf (buf + START_PID_AT, "pid %d start %" SCNu64, &pid, &m->start) == 2
      && pid > 0)
    m->pid = pid;
  return 0;
}

static struct sk_ctr_record *
record_of (struct sk_task_record *r, const char *name)
{
  for (size_t k = 0; k < r->n; k++)
    if (r->c[k].name != NULL && strcmp (r->c[k].name, name) == 0)
      return &r->c[k];
  return NULL;
}

/* Start `m.gen` happened but state.json never heard of it: make the record
 * say what the lost state write would have said, and log the start. */
static void
adopt_lost_start (struct sup *s, size_t i, struct sk_ctr_record *c, const struct start_marker *m)
{
  struct sk_jw w;

  c->state = SK_RUN_RUNNING;
  c->ever_started = true;
  c->backoff = false;
  c->restart_at_ms = 0;
  c->pid = m->pid;
  c->pid_start = m->start;
  c->exit_known = false;
  c->health = SK_HEALTH_UNKNOWN;
  c->started_ms = m->at_ms;
  c->stop_sent = c->killed = c->unhealthy_kill = false;
  c->kill_at_ms = 0;
  c->started_at_ns = sk_realtime_ns ();
  c->stopped_at_ns = 0;
  sk_restart_history_record_start (&c->history, m->at_ms);
  sk_event_begin (s->env->events, &w, sup_name_of (s, i), "started");
  sk_jw_kv_int (&w, "pid", m->pid);
  sk_jw_kv_uint (&w, "startCount", c->history.n_starts);
  sk_jw_kv_bool (&w, "recovered", true);
  sk_event_end (s->env->events, &w, NULL);
}

void
sk_start_records_resume (struct sup *s)
{
  /* The record was loaded for this supervisor alone: amending it before
   * sup_resume reads it is the least intrusive way to adopt. */
  struct sk_task_record *r = (struct sk_task_record *)s->env->resume;

  if (s->env->req->observe == NULL || !s->env->req->detached)
    return;
  if (r == NULL)
    {
      /* A fresh attempt: its containers are on record (PENDING, this
       * attempt) before the first clone, so a crash right after that clone
       * leads to a resume, not to a second fresh attempt. */
      sup_observe (s);
      return;
    }
  for (size_t i = 0; i < s->n; i++)
    {
      struct sk_ctr_record *c = record_of (r, sup_name_of (s, i));
      struct start_marker m;

      if (c == NULL)
        continue;
      /* Only a container waiting for its (re)start can have lost one. */
      bool startable = c->state == SK_RUN_PENDING || (c->state == SK_RUN_RUNNING && c->backoff);
      if (startable && s->v[i].c.state_dir != NULL && read_marker (s->v[i].c.state_dir, &m) == 0
          && m.gen == c->history.n_starts + 1 && m.pid > 0)
        adopt_lost_start (s, i, c, &m);
      s->v[i].c.starts = c->history.n_starts;
    }
}
