/* Detached tasks: `run -d` (the CLI half), the hidden commands its
 * processes run (`__monitor`, `__supervise`), and the state observer of
 * the supervisor. docs/architecture.md, "Crash safety". */
#include "cli.h"
#include "json.h"
#include "jsonw.h"
#include "monitor.h"
#include "run.h"
#include "spec.h"
#include "state.h"
#include "supervise.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *
sk_detached_spec_path (const struct sk_global *g, const char *id)
{
  return xasprintf ("%s/tasks/%s/spec.json", g->root, id);
}

static bool
valid_name (const char *name)
{
  if (name[0] == '\0' || strlen (name) > 64)
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || (p != name && (*p == '-' || *p == '_' || *p == '.'))))
      return false;
  return true;
}

static int
write_string (const char *dir, const char *file, const char *text, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);
  return sk_write_file_atomic (path, text, strlen (text), err);
}

static void
record_init (struct sk_task_record *r, const char *id, const char *name, const struct sk_task *t)
{
  memset (r, 0, sizeof *r);
  r->id = xstrdup (id);
  r->name = name != NULL ? xstrdup (name) : NULL;
  r->family = xstrdup (t->family);
  r->last_status = xstrdup ("PROVISIONING");
  r->desired_status = xstrdup ("RUNNING");
  r->created_ns = sk_realtime_ns ();
  r->ended_by = -1;
  sk_boot_id (r->boot_id);
  r->n = t->n_containers;
  r->c = xzalloc (r->n * sizeof *r->c);
  for (size_t i = 0; i < r->n; i++)
    r->c[i].name = xstrdup (t->containers[i].name);
}

int
sk_run_detach (struct sk_global *g, int argc, char **argv, const char *name,
               const struct sk_run_request *req)
{
  struct sk_task_dir td = { .lock_fd = -1 };
  struct sk_task_record rec;
  _cleanup_free_ char *spec = NULL;
  _cleanup_free_ char *names_lock = xasprintf ("%s/names.lock", g->root);
  _cleanup_close_ int names_fd = -1;
  struct sk_jw w;
  sk_err_t err = NULL;

  if (name != NULL && !valid_name (name))
    return sk_usage_error ("run",
                           "--name: '%s' is not a valid name (letters, digits, '-', '_', "
                           "'.'; at most 64)",
                           name);
  if (sk_state_init_root (g->root, &err) < 0)
    goto fail;
  sk_tasks_reconcile (g->root);
  /* Names are unique: checked and claimed under one lock. */
  names_fd = open (names_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (names_fd < 0 || flock (names_fd, LOCK_EX) < 0)
    {
      sk_err_set (&err, errno, "lock `%s`", names_lock);
      goto fail;
    }
  if (name != NULL)
    {
      _cleanup_free_ char *other = NULL;
      sk_err_t ignored = NULL;
      if (sk_task_resolve (g->root, name, &other, &ignored) == 0 && strcmp (other, name) != 0)
        {
          fprintf (stderr, "skiff run: the name '%s' is in use by task %s (skiff rm it first)\n",
                   name, other);
          return SK_EXIT_SKIFF;
        }
      sk_err_free (&ignored);
    }
  if (sk_task_dir_create (g->root, &td, &err) < 0)
    goto fail_dir;

  spec = sk_task_to_json (req->task, true);
  sk_jw_init (&w);
  sk_jw_begin_object (&w);
  sk_jw_kv_string (&w, "sourceDir", req->task->source_dir);
  sk_jw_key (&w, "argv");
  sk_jw_begin_array (&w);
  for (int i = 0; i < argc; i++)
    sk_jw_string (&w, argv[i]);
  sk_jw_end_array (&w);
  sk_jw_end_object (&w);
  _cleanup_free_ char *options = sk_jw_steal (&w);

  record_init (&rec, td.id, name, req->task);
  /* spec.json last: it is what makes the directory a detached task. */
  int r = write_string (td.path, "options.json", options, &err);
  if (r == 0 && name != NULL)
    r = write_string (td.path, "name", name, &err);
  if (r == 0)
    r = sk_task_record_save (td.path, &rec, &err);
  if (r == 0)
    r = write_string (td.path, "spec.json", spec, &err);
  sk_task_record_clear (&rec);
  if (r < 0)
    goto fail_dir;
  close (steal_fd (&names_fd));
  if (sk_monitor_spawn (g->root, td.id, td.lock_fd, &err) < 0)
    goto fail_dir;
  printf ("%s\n", td.id);
  sk_task_dir_clear (&td);
  return SK_EXIT_OK;

fail_dir:
  {
    sk_err_t ignored = NULL;
    sk_task_dir_remove (&td, &ignored);
    sk_err_free (&ignored);
  }
fail:
  sk_err_print (&err);
  sk_err_free (&err);
  return SK_EXIT_SKIFF;
}

/* ---- the supervisor of a detached task ---------------------------------- */

struct observer
{
  const char *dir;
  struct sk_task_record *rec; /* task-level fields; containers copied in */
  char *last;                 /* the JSON last written */
};

static void
copy_containers (struct sk_task_record *dst, const struct sk_task_record *src)
{
  for (size_t i = 0; i < dst->n; i++)
    {
      free (dst->c[i].name);
      free (dst->c[i].reason);
    }
  free (dst->c);
  dst->n = src->n;
  dst->c = xzalloc ((src->n + 1) * sizeof *dst->c);
  for (size_t i = 0; i < src->n; i++)
    {
      dst->c[i] = src->c[i];
      dst->c[i].name = src->c[i].name ? xstrdup (src->c[i].name) : NULL;
      dst->c[i].reason = src->c[i].reason ? xstrdup (src->c[i].reason) : NULL;
    }
}

static void
set_str (char **field, const char *value)
{
  free (*field);
  *field = value != NULL ? xstrdup (value) : NULL;
}

static void
write_if_changed (struct observer *o)
{
  _cleanup_free_ char *text = sk_task_record_to_json (o->rec, false);
  sk_err_t err = NULL;

  if (o->last != NULL && strcmp (o->last, text) == 0)
    return;
  if (sk_task_record_save (o->dir, o->rec, &err) < 0)
    {
      sk_err_free (&err);
      return;
    }
  free (o->last);
  o->last = steal_pointer (&text);
}

static void
on_state (void *ctx, const struct sk_task_record *r)
{
  struct observer *o = ctx;
  struct sk_task_record *rec = o->rec;
  bool any_running = false;

  copy_containers (rec, r);
  rec->attempt = r->attempt;
  rec->stopping = r->stopping;
  rec->cause = r->cause;
  rec->ended_by = r->ended_by;
  rec->signal = r->signal;
  rec->deadline_ms = r->deadline_ms;
  rec->hibernating = r->hibernating;
  rec->wake_at_ms = r->wake_at_ms;
  for (size_t i = 0; i < r->n; i++)
    any_running = any_running || r->c[i].state == 1;
  if (any_running && rec->started_ns == 0)
    rec->started_ns = sk_realtime_ns ();
  set_str (&rec->last_status, r->stopping ? "DEACTIVATING" : any_running ? "RUNNING" : "PENDING");
  if (r->stopping)
    set_str (&rec->desired_status, "STOPPED");
  write_if_changed (o);
}

void
sk_detached_load_source_dir (const char *dir, struct sk_task *task)
{
  _cleanup_free_ char *path = xasprintf ("%s/options.json", dir);
  _cleanup_free_ char *text = NULL;
  struct sk_diags diags = { 0 };
  struct sk_json *root;
  const struct sk_json *v;
  size_t len;
  sk_err_t err = NULL;

  if (sk_read_file (path, &text, &len, &err) < 0)
    {
      sk_err_free (&err);
      return;
    }
  root = sk_json_parse (text, len, "options.json", &diags);
  sk_diags_clear (&diags);
  v = root != NULL ? sk_json_get (root, "sourceDir") : NULL;
  if (v != NULL && v->type == SK_JSON_STRING)
    {
      free (task->source_dir);
      task->source_dir = xstrndup (v->text, v->len);
    }
  sk_json_free (root);
}

/* The task reached its end: the final state, then the `stopped` mark that
 * tells every later skiff there is nothing left to adopt. */
static void
finish (struct observer *o, const struct sk_run_summary *sum, const char *failure)
{
  struct sk_task_record *rec = o->rec;
  sk_err_t err = NULL;

  set_str (&rec->last_status, "STOPPED");
  set_str (&rec->desired_status, "STOPPED");
  rec->stopped_ns = sk_realtime_ns ();
  rec->stopping = false;
  if (failure != NULL)
    {
      set_str (&rec->stop_code, "TaskFailedToStart");
      set_str (&rec->stopped_reason, failure);
      rec->exit_known = true;
      rec->exit_code = SK_EXIT_SKIFF;
    }
  else
    {
      set_str (&rec->stop_code, sum->stop_code);
      set_str (&rec->stopped_reason, sum->stopped_reason);
      rec->exit_known = sum->exit_known;
      rec->exit_code = sum->exit_code;
    }
  for (size_t i = 0; i < rec->n; i++)
    {
      rec->c[i].pid = 0;
      if (rec->c[i].state != 2)
        {
          rec->c[i].state = 2;
          rec->c[i].backoff = false;
        }
    }
  write_if_changed (o);
  if (write_string (o->dir, "stopped", "", &err) < 0)
    sk_err_free (&err);
}

static bool
desired_stopped (const char *dir)
{
  _cleanup_free_ char *path = xasprintf ("%s/desired", dir);
  return access (path, F_OK) == 0;
}

int
sk_supervise_detached (struct sk_global *g, const char *id, struct sk_run_request *req)
{
  _cleanup_free_ char *dir = sk_task_dir_path (g->root, id);
  _cleanup_free_ char *done = xasprintf ("%s/stopped", dir);
  struct sk_task_record rec;
  struct sk_run_summary sum;
  struct observer o = { .dir = dir, .rec = &rec };
  char boot[40];
  sigset_t mask;
  sk_err_t err = NULL;
  bool hibernated = false;
  int code = 0;

  if (access (done, F_OK) == 0)
    return 0;
  sk_detached_load_source_dir (dir, req->task);
  if (sk_task_record_load (dir, &rec, &err) < 0)
    {
      sk_err_free (&err);
      record_init (&rec, id, NULL, req->task);
    }
  rec.supervisor_pid = getpid ();
  rec.supervisor_start = sk_proc_start_time (getpid ());

  sk_boot_id (boot);
  if (rec.attempt > 0 && strcmp (boot, rec.boot_id) != 0)
    {
      /* Nothing of the task survived the reboot but its record. */
      memset (&sum, 0, sizeof sum);
      snprintf (sum.stop_code, sizeof sum.stop_code, "TerminationNotice");
      snprintf (sum.stopped_reason, sizeof sum.stopped_reason,
                "Host rebooted while the task was running");
      for (size_t i = 0; i < rec.n; i++)
        if (rec.c[i].state == 1)
          {
            rec.c[i].exit_known = false;
            set_str (&rec.c[i].reason, "HostRebooted: the host restarted while it ran");
          }
      finish (&o, &sum, NULL);
      goto out;
    }
  snprintf (rec.boot_id, sizeof rec.boot_id, "%s", boot);

  /* A stop asked for while no supervisor ran (or before this one read its
   * signals) is a pending SIGTERM, which the loop takes as `skiff stop`. */
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  if (desired_stopped (dir))
    raise (SIGTERM);

  req->task_id = id;
  req->detached = true;
  req->quiet = true;
  req->resume = rec.attempt > 0 ? &rec : NULL;
  req->observe = on_state;
  req->observe_ctx = &o;
  memset (&sum, 0, sizeof sum);
  req->summary = &sum;
  if (sk_run_task (req, &code, &err) < 0)
    {
      _cleanup_free_ char *text = sk_err_text (&err);
      sk_err_free (&err);
      finish (&o, &sum, text);
    }
  else if (sum.hibernated)
    hibernated = true; /* the task runs on: the monitor wakes a successor */
  else
    finish (&o, &sum, NULL);
out:
  free (o.last);
  sk_task_record_clear (&rec);
  return hibernated ? SK_MONITOR_EXIT_HIBERNATE : 0;
}

int
cmd_supervise (struct sk_global *g, int argc, char **argv)
{
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *text = NULL;
  struct sk_diags diags = { 0 };
  struct sk_json *root;
  const struct sk_json *args;
  char **run_argv;
  size_t len, n = 0;
  sk_err_t err = NULL;
  int code;

  if (argc != 2)
    return SK_EXIT_SKIFF;
  /* Before any child exists: the monitor's socket is ours alone. */
  sk_monitor_attach ();
  dir = sk_task_dir_path (g->root, argv[1]);
  path = xasprintf ("%s/options.json", dir);
  if (sk_read_file (path, &text, &len, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      return 1;
    }
  root = sk_json_parse (text, len, "options.json", &diags);
  sk_diags_clear (&diags);
  args = root != NULL ? sk_json_get (root, "argv") : NULL;
  if (args == NULL || args->type != SK_JSON_ARRAY || args->n == 0)
    {
      sk_json_free (root);
      return 1;
    }
  /* `run --__task ID <the options run -d was given>`: the same parser. */
  run_argv = xzalloc ((args->n + 3) * sizeof *run_argv);
  run_argv[n++] = xstrdup ("run");
  run_argv[n++] = xasprintf ("--__task=%s", argv[1]);
  for (size_t i = 1; i < args->n; i++)
    if (args->items[i]->type == SK_JSON_STRING)
      run_argv[n++] = xstrndup (args->items[i]->text, args->items[i]->len);
  sk_json_free (root);
  optind = 0;
  code = cmd_run (g, (int)n, run_argv);
  sk_strv_free (run_argv);
  return code;
}

int
cmd_monitor (struct sk_global *g, int argc, char **argv)
{
  if (argc != 3)
    return SK_EXIT_SKIFF;
  return sk_monitor_main (g->root, argv[1], atoi (argv[2]));
}

void
sk_tasks_reconcile (const char *root)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n = sk_task_list (root, &ids);

  for (size_t i = 0; i < n; i++)
    sk_monitor_readopt (root, ids[i]);
}
