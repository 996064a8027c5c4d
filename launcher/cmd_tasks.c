/* Managing detached tasks: ps, inspect, stop, kill, rm, wait, gc. Every
 * command reads state.json without a lock (it is replaced atomically) and
 * first re-adopts tasks whose monitor died (sk_tasks_reconcile). */
#include "cgroup.h"
#include "cli.h"
#include "deps.h"
#include "jsonw.h"
#include "monitor.h"
#include "spec.h"
#include "state.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Block until the task directory changes (state.json is replaced by a
 * rename, `stopped` is created), the monitor `mon` ends, or timeout_ms
 * passes (-1: no limit). Nothing is polled: inotify and the pidfd wake us. */
static void
wait_for_change (int inotify_fd, int mon, int timeout_ms)
{
  struct pollfd pfd[2]
      = { { .fd = inotify_fd, .events = POLLIN }, { .fd = mon, .events = POLLIN } };
  char buf[4096];

  if (poll (pfd, mon >= 0 ? 2 : 1, timeout_ms) > 0 && (pfd[0].revents & POLLIN))
    while (read (inotify_fd, buf, sizeof buf) > 0)
      ;
}

/* Parse `COMMAND [--format json|table] [-a] ...`: shared by the simple
 * commands. Returns -1 to go on, else the exit code. */
struct common_opts
{
  bool json;
  bool all;
  bool force;
  long timeout_s;
  const char *signal;
};

static int
print_help (const char *cmd)
{
  if (strcmp (cmd, "ps") == 0)
    printf ("Usage: skiff ps [-a] [--format table|json]\n\nList detached tasks; -a includes "
            "stopped ones.\n");
  else if (strcmp (cmd, "inspect") == 0)
    printf ("Usage: skiff inspect [--format json|table] TASK...\n\nThe task as JSON, shaped "
            "like ECS DescribeTasks (lastStatus, stopCode,\nstoppedReason, containers with "
            "exitCode, reason, healthStatus, restartCount).\n");
  else if (strcmp (cmd, "stop") == 0)
    printf ("Usage: skiff stop [-t|--timeout SECONDS] TASK...\n\nStop the task as Ctrl-C stops "
            "a foreground one: each container gets its stop\nsignal, SIGKILL after its "
            "stopTimeout (or after --timeout). Waits until STOPPED.\n");
  else if (strcmp (cmd, "kill") == 0)
    printf ("Usage: skiff kill [-s|--signal SIGNAL] TASK...\n\nSend SIGNAL (default KILL) to "
            "the main process of every running container.\nThe restart policy then decides as "
            "for any exit.\n");
  else if (strcmp (cmd, "rm") == 0)
    printf ("Usage: skiff rm [-f] TASK...\n\nRemove stopped tasks and all they left; -f stops "
            "(kills) a running one first.\n");
  else if (strcmp (cmd, "wait") == 0)
    printf ("Usage: skiff wait TASK\n\nBlock until the task stops, print its exit code and exit "
            "with it\n(255 when the exit code could not be observed).\n");
  else if (strcmp (cmd, "gc") == 0)
    printf ("Usage: skiff gc\n\nRe-adopt detached tasks whose monitor died and remove what "
            "crashed\nforeground runs left (task directories, cgroups).\n");
  return SK_EXIT_OK;
}

static int
parse_common (const char *cmd, int argc, char **argv, struct common_opts *o)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'F' }, { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },        { "timeout", required_argument, NULL, 't' },
    { "time", required_argument, NULL, 't' },   { "signal", required_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
  };
  int c;

  memset (o, 0, sizeof *o);
  o->timeout_s = -1;
  while ((c = getopt_long (argc, argv, "+:aft:s:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'F':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "table") != 0)
          return sk_usage_error (cmd, "--format is table or json, got '%s'", optarg);
        o->json = strcmp (optarg, "json") == 0;
        break;
      case 'a':
        o->all = true;
        break;
      case 'f':
        o->force = true;
        break;
      case 't':
        {
          char *end;
          o->timeout_s = strtol (optarg, &end, 10);
          if (*end != '\0' || o->timeout_s < 0)
            return sk_usage_error (cmd, "--timeout expects seconds, got '%s'", optarg);
          break;
        }
      case 's':
        o->signal = optarg;
        break;
      case 'h':
        return print_help (cmd);
      case ':':
        return sk_usage_error (cmd, "option '%s' needs an argument", argv[optind - 1]);
      default:
        return sk_usage_error (cmd, "unknown option '%s'", argv[optind - 1]);
      }
  return -1;
}

static int
resolve_or_report (const char *root, const char *ref, char **id)
{
  sk_err_t err = NULL;

  if (sk_task_resolve (root, ref, id, &err) == 0)
    return 0;
  sk_err_print (&err);
  sk_err_free (&err);
  return -1;
}

static int
load_record (const char *root, const char *id, struct sk_task_record *r)
{
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);
  sk_err_t err = NULL;

  if (sk_task_record_load (dir, r, &err) == 0)
    return 0;
  sk_err_print (&err);
  sk_err_free (&err);
  return -1;
}

static bool
is_stopped (const struct sk_task_record *r)
{
  return strcmp (r->last_status, "STOPPED") == 0;
}

/* ---- ps ------------------------------------------------------------------ */

static void
age (uint64_t ns, char *buf, size_t size)
{
  uint64_t now = sk_realtime_ns ();
  uint64_t s = ns != 0 && now > ns ? (now - ns) / 1000000000ull : 0;

  if (s < 60)
    snprintf (buf, size, "%us ago", (unsigned)s);
  else if (s < 3600)
    snprintf (buf, size, "%um ago", (unsigned)(s / 60));
  else if (s < 86400)
    snprintf (buf, size, "%uh ago", (unsigned)(s / 3600));
  else
    snprintf (buf, size, "%ud ago", (unsigned)(s / 86400));
}

int
cmd_ps (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  int r = parse_common ("ps", argc, argv, &o);
  bool first = true;

  if (r >= 0)
    return r;
  if (optind < argc)
    return sk_usage_error ("ps", "unexpected argument '%s'", argv[optind]);
  sk_tasks_reconcile (g->root);
  n = sk_task_list (g->root, &ids);
  if (o.json)
    printf ("[");
  else
    printf ("%-12s  %-16s  %-20s  %-12s  %-9s  %s\n", "TASK ID", "NAME", "FAMILY", "STATUS", "EXIT",
            "CREATED");
  for (size_t i = 0; i < n; i++)
    {
      struct sk_task_record rec;
      _cleanup_free_ char *dir = sk_task_dir_path (g->root, ids[i]);
      sk_err_t err = NULL;
      char when[32], exit_text[16];

      if (sk_task_record_load (dir, &rec, &err) < 0)
        {
          sk_err_free (&err);
          continue;
        }
      if (!o.all && is_stopped (&rec))
        {
          sk_task_record_clear (&rec);
          continue;
        }
      if (o.json)
        {
          _cleanup_free_ char *text = sk_task_record_to_json (&rec, false);
          printf ("%s%s", first ? "" : ",", text);
          first = false;
        }
      else
        {
          age (rec.created_ns, when, sizeof when);
          if (!is_stopped (&rec))
            snprintf (exit_text, sizeof exit_text, "-");
          else if (rec.exit_known)
            snprintf (exit_text, sizeof exit_text, "%d", rec.exit_code);
          else
            snprintf (exit_text, sizeof exit_text, "unknown");
          printf ("%-12s  %-16s  %-20s  %-12s  %-9s  %s\n", rec.id, rec.name ? rec.name : "-",
                  rec.family ? rec.family : "-", rec.last_status, exit_text, when);
        }
      sk_task_record_clear (&rec);
    }
  if (o.json)
    printf ("]\n");
  return SK_EXIT_OK;
}

/* ---- inspect ------------------------------------------------------------- */

int
cmd_inspect (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  int r = parse_common ("inspect", argc, argv, &o);
  int code = SK_EXIT_OK;

  if (r >= 0)
    return r;
  if (optind >= argc)
    return sk_usage_error ("inspect", "missing the TASK");
  sk_tasks_reconcile (g->root);
  for (int i = optind; i < argc; i++)
    {
      _cleanup_free_ char *id = NULL;
      struct sk_task_record rec;

      if (resolve_or_report (g->root, argv[i], &id) < 0 || load_record (g->root, id, &rec) < 0)
        {
          code = SK_EXIT_SKIFF;
          continue;
        }
      _cleanup_free_ char *text = sk_task_record_to_json (&rec, false);
      printf ("%s\n", text);
      sk_task_record_clear (&rec);
    }
  return code;
}

/* ---- stop, kill, wait ------------------------------------------------------ */

/* A stop request reaches the supervisor through the monitor, which wakes
 * a hibernating one first; without a monitor identity (a monitor of an
 * older skiff) straight to the supervisor. Both by pid + start time, never
 * by pid alone. */
static bool
signal_supervisor (const char *dir, const struct sk_task_record *rec, int sig)
{
  int fd;
  bool ok;

  if (sk_monitor_signal (dir, sig) == 0)
    return true;
  fd = sk_pidfd_open_verified (rec->supervisor_pid, rec->supervisor_start);
  if (fd < 0)
    return false;
  ok = syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0;
  close (fd);
  return ok;
}

/* Until STOPPED (or timeout_ms passes; 0 = forever). 0 when stopped, 1 on
 * timeout, -1 on error. The watch is set before each read of the record,
 * so a change between the read and the wait still wakes us. */
static int
wait_stopped (const char *root, const char *id, uint64_t timeout_ms, struct sk_task_record *out)
{
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);
  _cleanup_close_ int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  uint64_t deadline = timeout_ms != 0 ? now_ms () + timeout_ms : 0;

  if (in < 0
      || inotify_add_watch (in, dir, IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_DELETE_SELF) < 0)
    {
      fprintf (stderr, "skiff: task %s: watch `%s`: %s\n", id, dir, strerror (errno));
      return -1;
    }
  for (;;)
    {
      struct sk_task_record rec;
      sk_err_t err = NULL;
      _cleanup_close_ int mon = -1;
      int wait_ms = -1;

      if (sk_task_record_load (dir, &rec, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
          return -1;
        }
      if (is_stopped (&rec))
        {
          if (out != NULL)
            *out = rec;
          else
            sk_task_record_clear (&rec);
          return 0;
        }
      sk_task_record_clear (&rec);
      /* A monitor killed meanwhile is replaced by whoever waits. */
      mon = sk_monitor_pidfd (dir);
      if (mon < 0 && sk_monitor_readopt (root, id))
        mon = sk_monitor_pidfd (dir);
      if (deadline != 0)
        {
          uint64_t now = now_ms ();
          if (now >= deadline)
            return 1;
          wait_ms = (int)(deadline - now);
        }
      /* No monitor and none could be started (another CLI adopts the task
       * right now): look again in a second rather than never. */
      if (mon < 0 && (wait_ms < 0 || wait_ms > 1000))
        wait_ms = 1000;
      wait_for_change (in, mon, wait_ms);
    }
}

/* Ask the task to stop: `desired` first (a supervisor being respawned
 * right now reads it when it starts), then SIGTERM through the monitor.
 * 1 when the task has already stopped, 0 when asked, -1 on error. */
static int
send_stop (const char *root, const char *id)
{
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);
  _cleanup_free_ char *desired = xasprintf ("%s/desired", dir);
  struct sk_task_record rec;
  sk_err_t err = NULL;
  bool stopped;

  if (load_record (root, id, &rec) < 0)
    return -1;
  stopped = is_stopped (&rec);
  if (!stopped)
    {
      if (sk_write_file_atomic (desired, "STOPPED\n", 8, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
        }
      signal_supervisor (dir, &rec, SIGTERM);
    }
  sk_task_record_clear (&rec);
  return stopped ? 1 : 0;
}

/* Wait for a task asked to stop. With --timeout (deadline_ms != 0) a
 * second request at the deadline means "kill now", as a second Ctrl-C
 * does in the foreground. */
static int
await_stop (const char *root, const char *id, uint64_t deadline_ms)
{
  if (deadline_ms != 0)
    {
      uint64_t now = now_ms ();
      struct sk_task_record rec;

      if (wait_stopped (root, id, deadline_ms > now ? deadline_ms - now : 1, NULL) == 0)
        return 0;
      if (load_record (root, id, &rec) == 0)
        {
          _cleanup_free_ char *dir = sk_task_dir_path (root, id);
          signal_supervisor (dir, &rec, SIGTERM);
          sk_task_record_clear (&rec);
        }
    }
  return wait_stopped (root, id, 0, NULL) == 0 ? 0 : -1;
}

static int
request_stop (const char *root, const char *id, long timeout_s)
{
  int r = send_stop (root, id);

  if (r != 0)
    return r < 0 ? -1 : 0;
  return await_stop (root, id, timeout_s >= 0 ? now_ms () + (uint64_t)timeout_s * 1000 + 1 : 0);
}

int
cmd_stop (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  int r = parse_common ("stop", argc, argv, &o);
  int code = SK_EXIT_OK;
  uint64_t deadline = 0;
  char **ids;

  if (r >= 0)
    return r;
  if (optind >= argc)
    return sk_usage_error ("stop", "missing the TASK");
  sk_tasks_reconcile (g->root);
  /* All tasks are asked first and waited for after, as `docker stop a b`
   * does: stopping N tasks takes the longest stop, not the sum. */
  ids = xzalloc ((size_t)(argc - optind) * sizeof *ids);
  if (o.timeout_s >= 0)
    deadline = now_ms () + (uint64_t)o.timeout_s * 1000 + 1;
  for (int i = optind; i < argc; i++)
    {
      char **id = &ids[i - optind];
      if (resolve_or_report (g->root, argv[i], id) < 0 || send_stop (g->root, *id) < 0)
        {
          code = SK_EXIT_SKIFF;
          free (*id);
          *id = NULL;
        }
    }
  for (int i = 0; i < argc - optind; i++)
    {
      if (ids[i] == NULL)
        continue;
      if (await_stop (g->root, ids[i], deadline) < 0)
        code = SK_EXIT_SKIFF;
      else
        printf ("%s\n", ids[i]);
      free (ids[i]);
    }
  free (ids);
  return code;
}

static int
parse_signal (const char *text)
{
  char *end;
  long n = strtol (text, &end, 10);

  if (*end == '\0' && n > 0 && n < NSIG)
    return (int)n;
  if (strncasecmp (text, "SIG", 3) == 0)
    text += 3;
  for (int s = 1; s < NSIG; s++)
    {
      const char *name = sigabbrev_np (s);
      if (name != NULL && strcasecmp (name, text) == 0)
        return s;
    }
  return -1;
}

int
cmd_kill (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  int r = parse_common ("kill", argc, argv, &o);
  int sig, code = SK_EXIT_OK;

  if (r >= 0)
    return r;
  sig = parse_signal (o.signal != NULL ? o.signal : "KILL");
  if (sig < 0)
    return sk_usage_error ("kill", "unknown signal '%s'", o.signal);
  if (optind >= argc)
    return sk_usage_error ("kill", "missing the TASK");
  sk_tasks_reconcile (g->root);
  for (int i = optind; i < argc; i++)
    {
      _cleanup_free_ char *id = NULL;
      struct sk_task_record rec;
      int sent = 0;

      if (resolve_or_report (g->root, argv[i], &id) < 0 || load_record (g->root, id, &rec) < 0)
        {
          code = SK_EXIT_SKIFF;
          continue;
        }
      for (size_t k = 0; k < rec.n; k++)
        {
          /* pid + start time: a recycled pid is never signalled. */
          int fd = sk_pidfd_open_verified (rec.c[k].pid, rec.c[k].pid_start);
          if (fd < 0)
            continue;
          if (syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0)
            sent++;
          close (fd);
        }
      if (sent == 0)
        {
          fprintf (stderr, "skiff kill: task %s has no running container\n", id);
          code = SK_EXIT_SKIFF;
        }
      else
        printf ("%s\n", id);
      sk_task_record_clear (&rec);
    }
  return code;
}

/* `docker wait` reports the container's own exit code. After `skiff stop`
 * the task's code is run's 143 ("skiff was stopped by SIGTERM"); wait says
 * how the essential container really ended (137 when stopTimeout ran out
 * and SIGKILL ended it). The first essential container by definition
 * order; false when the task was not stopped by a user. */
static bool
essential_exit (const char *root, const char *id, const struct sk_task_record *rec, bool *known,
                int *code)
{
  _cleanup_free_ char *path = xasprintf ("%s/tasks/%s/spec.json", root, id);
  struct sk_task *task = NULL;
  struct sk_diags diags = { 0 };
  sk_err_t err = NULL;
  bool found = false;

  /* A user's stop reports what the container made of it (docker wait); a
   * --timeout stop keeps 124, as `run --timeout` exits. */
  if (rec->stop_code == NULL || strcmp (rec->stop_code, "UserInitiated") != 0
      || rec->cause == SK_STOP_TIMEOUT)
    return false;
  if (sk_task_load_file (path, NULL, &task, &diags, &err) < 0)
    {
      sk_err_free (&err);
      sk_diags_clear (&diags);
      return false;
    }
  sk_diags_clear (&diags);
  for (size_t i = 0; i < task->n_containers && !found; i++)
    {
      if (!task->containers[i].essential)
        continue;
      for (size_t k = 0; k < rec->n && !found; k++)
        if (rec->c[k].name != NULL && strcmp (rec->c[k].name, task->containers[i].name) == 0
            && rec->c[k].ever_started)
          {
            *known = rec->c[k].exit_known;
            *code = rec->c[k].exit_code;
            found = true;
          }
    }
  sk_task_free (task);
  return found;
}

int
cmd_wait (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  int r = parse_common ("wait", argc, argv, &o);
  _cleanup_free_ char *id = NULL;
  struct sk_task_record rec;
  int code;

  if (r >= 0)
    return r;
  if (optind + 1 != argc)
    return sk_usage_error ("wait", "expects one TASK");
  sk_tasks_reconcile (g->root);
  if (resolve_or_report (g->root, argv[optind], &id) < 0)
    return SK_EXIT_SKIFF;
  if (wait_stopped (g->root, id, 0, &rec) < 0)
    return SK_EXIT_SKIFF;
  bool known = rec.exit_known;
  code = rec.exit_code;
  essential_exit (g->root, id, &rec, &known, &code);
  if (known)
    printf ("%d\n", code);
  else
    {
      printf ("unknown\n");
      code = 255;
    }
  sk_task_record_clear (&rec);
  return code;
}

/* ---- rm, gc ----------------------------------------------------------------- */

#define RM_LOCK_WAIT_MS 5000

static int
remove_task (const char *root, const char *id)
{
  _cleanup_free_ char *dir = sk_task_dir_path (root, id);
  _cleanup_free_ char *lock = xasprintf ("%s/lock", dir);
  _cleanup_free_ char *spec = xasprintf ("%s/spec.json", dir);
  _cleanup_close_ int fd = open (lock, O_RDWR | O_CLOEXEC);
  struct sk_task_record rec;
  sk_err_t err = NULL;
  int tries;

  /* The monitor lets go of the lock right after the final state: wait for
   * it to end (its pidfd, at most RM_LOCK_WAIT_MS), then hold the lock so
   * nobody re-adopts what is being removed. */
  for (tries = 0; fd >= 0 && tries < 2; tries++)
    {
      _cleanup_close_ int mon = -1;
      struct pollfd pfd = { .fd = -1, .events = POLLIN };

      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        break;
      mon = sk_monitor_pidfd (dir);
      pfd.fd = mon;
      if (tries == 0 && mon >= 0)
        poll (&pfd, 1, RM_LOCK_WAIT_MS);
    }
  if (fd >= 0 && tries == 2)
    {
      fprintf (stderr, "skiff rm: task %s: its monitor is still running\n", id);
      return -1;
    }
  if (sk_task_record_load (dir, &rec, &err) == 0)
    {
      for (size_t k = 0; k < rec.n; k++)
        {
          _cleanup_free_ char *cg = sk_task_cgroup_path (id, rec.c[k].name);
          if (sk_cgroup_remove_path (cg, &err) < 0)
            sk_err_free (&err);
        }
      sk_task_record_clear (&rec);
    }
  sk_err_free (&err);
  _cleanup_free_ char *task_cg = sk_task_cgroup_path (id, NULL);
  if (sk_cgroup_remove_path (task_cg, &err) < 0)
    sk_err_free (&err);
  /* spec.json first: from then on the directory is no detached task. */
  unlink (spec);
  if (sk_remove_tree (dir, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      return -1;
    }
  return 0;
}

int
cmd_rm (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  int r = parse_common ("rm", argc, argv, &o);
  int code = SK_EXIT_OK;

  if (r >= 0)
    return r;
  if (optind >= argc)
    return sk_usage_error ("rm", "missing the TASK");
  sk_tasks_reconcile (g->root);
  for (int i = optind; i < argc; i++)
    {
      _cleanup_free_ char *id = NULL;
      struct sk_task_record rec;

      if (resolve_or_report (g->root, argv[i], &id) < 0 || load_record (g->root, id, &rec) < 0)
        {
          code = SK_EXIT_SKIFF;
          continue;
        }
      bool stopped = is_stopped (&rec);
      sk_task_record_clear (&rec);
      if (!stopped && !o.force)
        {
          fprintf (stderr, "skiff rm: task %s is running: stop it first, or use -f\n", id);
          code = SK_EXIT_SKIFF;
          continue;
        }
      if (!stopped && request_stop (g->root, id, 0) < 0)
        {
          code = SK_EXIT_SKIFF;
          continue;
        }
      if (remove_task (g->root, id) < 0)
        code = SK_EXIT_SKIFF;
      else
        printf ("%s\n", id);
    }
  return code;
}

int
cmd_gc (struct sk_global *g, int argc, char **argv)
{
  struct common_opts o;
  int r = parse_common ("gc", argc, argv, &o);

  if (r >= 0)
    return r;
  sk_tasks_reconcile (g->root);
  sk_state_gc (g->root);
  return SK_EXIT_OK;
}
