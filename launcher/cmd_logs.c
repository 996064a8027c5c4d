/* skiff logs / events / stats: reading what a detached task wrote. */
#include "cgroup.h"
#include "cli.h"
#include "follow_watch.h"
#include "json.h"
#include "jsonw.h"
#include "logs.h"
#include "monitor.h"
#include "spec.h"
#include "state.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Only `stats` sleeps: its interval is a sampling period. */
static void
sleep_ms (unsigned ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

static bool
task_stopped (const char *dir)
{
  _cleanup_free_ char *p = xasprintf ("%s/stopped", dir);
  return access (p, F_OK) == 0;
}

static bool
parse_log_line (const char *line, char **time, char **stream, char **text, size_t *len)
{
  struct sk_diags d = { 0 };
  struct sk_json *v = sk_json_parse (line, strlen (line), "log", &d);
  const struct sk_json *t, *s, *l;
  bool ok = false;

  sk_diags_clear (&d);
  if (v != NULL && v->type == SK_JSON_OBJECT && (t = sk_json_get (v, "time")) != NULL
      && (s = sk_json_get (v, "stream")) != NULL && (l = sk_json_get (v, "log")) != NULL
      && l->type == SK_JSON_STRING)
    {
      *time = t->type == SK_JSON_STRING ? xstrndup (t->text, t->len) : xstrdup ("");
      *stream = s->type == SK_JSON_STRING ? xstrndup (s->text, s->len) : xstrdup ("");
      *text = xmalloc (l->len + 1);
      memcpy (*text, l->text, l->len);
      (*text)[l->len] = '\0';
      *len = l->len;
      ok = true;
    }
  sk_json_free (v);
  return ok;
}

struct log_opts
{
  const char *since; /* RFC 3339 prefix-comparable time */
  long tail;         /* -1 = all */
  bool follow;
  bool timestamps;
  bool prefix;
};

static void
emit (const struct log_opts *o, const char *name, const char *line)
{
  _cleanup_free_ char *time = NULL, *stream = NULL, *text = NULL;
  size_t len;

  if (!parse_log_line (line, &time, &stream, &text, &len))
    return;
  if (o->since != NULL && strcmp (time, o->since) < 0)
    return;
  FILE *out = strcmp (stream, "stdout") == 0 ? stdout : stderr;
  /* stdout is flushed when a stderr line comes (their order on a shared
   * terminal holds) and after each read, not per line: a follower as fast
   * as the writer keeps up with a rotating flood. */
  if (out == stderr)
    fflush (stdout);
  if (o->prefix)
    fprintf (out, "%s | ", name);
  if (o->timestamps)
    fprintf (out, "%s ", time);
  fwrite (text, 1, len, out);
  if (len == 0 || text[len - 1] != '\n')
    fputc ('\n', out);
}

/* Print the open log file from `*offset`, whole lines only (half a line is
 * read again next time); with tail >= 0 only its last `tail` lines. */
static void
print_from (const struct log_opts *o, const char *name, int fd, long *offset, long tail)
{
  struct stat st;
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  char **ring = NULL;
  long kept = 0, total = 0;

  /* Emptied instead of rotated (max-file 1): start again at its top. */
  if (fstat (fd, &st) == 0 && st.st_size < *offset)
    *offset = 0;
  /* A stdio stream of our own each time: one kept open could serve bytes
   * from its buffer that an emptied file no longer has. */
  int copy = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0)
    return;
  f = fdopen (copy, "r");
  if (f == NULL)
    {
      close (copy);
      return;
    }
  if (fseek (f, *offset, SEEK_SET) < 0)
    {
      fclose (f);
      return;
    }
  if (tail >= 0)
    ring = xzalloc ((size_t)(tail + 1) * sizeof *ring);
  while ((n = getline (&line, &cap, f)) > 0)
    {
      if (line[n - 1] != '\n')
        break; /* half a line: the rest comes later */
      *offset += n;
      if (ring == NULL)
        emit (o, name, line);
      else if (tail > 0)
        {
          free (ring[total % tail]);
          ring[total % tail] = xstrdup (line);
          total++;
          kept = total < tail ? total : tail;
        }
    }
  if (ring != NULL)
    {
      for (long k = 0; k < kept; k++)
        {
          long idx = (total - kept + k) % tail;
          emit (o, name, ring[idx]);
        }
      for (long k = 0; k < tail; k++)
        free (ring[k]);
      free (ring);
    }
  free (line);
  fclose (f);
}

/* One container's log file as it is read. The file stays open: when the
 * supervisor rotates it (renames it to .log.1, then makes a new .log) the
 * lines it got last are still read from it before the new file starts. */
struct followed_log
{
  int fd; /* -1 until the file exists */
  dev_t dev;
  ino_t ino;
  long offset;
};

static bool
log_open (struct followed_log *fl, const char *path)
{
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return false;
  if (fstat (fd, &st) < 0)
    {
      close (fd);
      return false;
    }
  fl->fd = fd;
  fl->dev = st.st_dev;
  fl->ino = st.st_ino;
  fl->offset = 0;
  return true;
}

static void
log_close (struct followed_log *fl)
{
  if (fl->fd >= 0)
    close (fl->fd);
  fl->fd = -1;
}

/* `path` names another file than the open one: it was rotated. */
static bool
log_rotated (const struct followed_log *fl, const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && (st.st_dev != fl->dev || st.st_ino != fl->ino);
}

static bool
same_file (const struct followed_log *a, const struct followed_log *b)
{
  return a->dev == b->dev && a->ino == b->ino;
}

/* `fl` was read to its end and its name has moved on: read the files made
 * since, oldest first, and go on with the newest. Newest first, the walk
 * opens name.log, name.log.1, ... up to the file just finished (or past the
 * last one: it was deleted). Files only move to higher numbers, the way this
 * walk goes, so a rotation during it can show a file twice (kept once) but
 * never hide one. */
static void
read_rotated (const struct log_opts *o, const char *name, const char *path, struct followed_log *fl)
{
  struct followed_log newer[SK_LOG_MAX_FILES_LIMIT + 1];
  size_t n = 0;
  unsigned missing = 0;

  /* Two names missing in a row is the end: a rotation leaves one gap. */
  for (unsigned i = 0; i <= SK_LOG_MAX_FILES_LIMIT && missing < 2; i++)
    {
      _cleanup_free_ char *p = i == 0 ? xstrdup (path) : xasprintf ("%s.%u", path, i);
      struct followed_log g = { .fd = -1 };
      bool seen = false;

      if (!log_open (&g, p))
        {
          missing++;
          continue;
        }
      missing = 0;
      if (same_file (&g, fl))
        {
          log_close (&g);
          break;
        }
      for (size_t k = 0; k < n; k++)
        seen = seen || same_file (&newer[k], &g);
      if (seen)
        log_close (&g);
      else
        newer[n++] = g;
    }
  log_close (fl);
  if (n == 0)
    return; /* opened again by name on the next read */
  for (size_t k = n - 1; k > 0; k--)
    {
      print_from (o, name, newer[k].fd, &newer[k].offset, -1);
      log_close (&newer[k]);
    }
  *fl = newer[0];
  print_from (o, name, fl->fd, &fl->offset, -1);
}

static void
read_log (const struct log_opts *o, const char *name, const char *path, struct followed_log *fl,
          long tail)
{
  if (fl->fd < 0 && !log_open (fl, path))
    return; /* no line yet: the file is made with the first one */
  print_from (o, name, fl->fd, &fl->offset, tail);
  /* The writer renames the old file before it opens the new one, so once
   * the name has moved on the old file gets nothing more: finish it. */
  while (fl->fd >= 0 && log_rotated (fl, path))
    {
      print_from (o, name, fl->fd, &fl->offset, -1);
      read_rotated (o, name, path, fl);
    }
}

int
cmd_logs (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },
    { "since", required_argument, NULL, 'S' },
    { "tail", required_argument, NULL, 'n' },
    { "container", required_argument, NULL, 'c' },
    { "timestamps", no_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct log_opts o = { .tail = -1 };
  const char *only = NULL;
  _cleanup_free_ char *id = NULL;
  _cleanup_free_ char *dir = NULL;
  struct sk_task_record rec;
  sk_err_t err = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+:fn:c:th", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        o.follow = true;
        break;
      case 'S':
        o.since = optarg;
        break;
      case 'n':
        {
          char *end;
          o.tail = strcmp (optarg, "all") == 0 ? -1 : strtol (optarg, &end, 10);
          if (strcmp (optarg, "all") != 0 && (*end != '\0' || o.tail < 0))
            return sk_usage_error ("logs", "--tail expects a number, got '%s'", optarg);
          break;
        }
      case 'c':
        only = optarg;
        break;
      case 't':
        o.timestamps = true;
        break;
      case 'h':
        printf ("Usage: skiff logs [-f] [--since TIME] [--tail N] [-t] [-c CONTAINER] TASK\n\n"
                "The output of the task's containers, from their log files. With several\n"
                "containers each line starts with `name | `. --since takes an RFC 3339 time\n"
                "(2026-01-02T15:04:05Z); -f follows until the task stops.\n");
        return SK_EXIT_OK;
      case ':':
        return sk_usage_error ("logs", "option '%s' needs an argument", argv[optind - 1]);
      default:
        return sk_usage_error ("logs", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind + 1 != argc)
    return sk_usage_error ("logs", "expects one TASK");
  if (sk_task_resolve (g->root, argv[optind], &id, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      return SK_EXIT_SKIFF;
    }
  dir = sk_task_dir_path (g->root, id);
  if (sk_task_record_load (dir, &rec, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      return SK_EXIT_SKIFF;
    }
  if (only != NULL)
    {
      bool found = false;
      for (size_t i = 0; i < rec.n; i++)
        found = found || strcmp (rec.c[i].name, only) == 0;
      if (!found)
        {
          sk_task_record_clear (&rec);
          return sk_usage_error ("logs", "the task has no container '%s'", only);
        }
    }
  o.prefix = only == NULL && rec.n > 1;
  struct sk_watch_set ws = { .fd = -1, .mon = -1 };
  size_t dir_watch = 0;
  int rc = SK_EXIT_OK;
  if (o.follow)
    {
      if (sk_watch_set_init (&ws, 2, &err) < 0)
        goto fail;
      dir_watch = sk_watch_set_add (&ws, xstrdup (dir), WATCH_TASK_DIR);
      sk_watch_set_add (&ws, xasprintf ("%s/logs", dir), WATCH_LOGS_DIR);
      if (sk_watch_set_refresh (&ws, &err) < 0)
        goto fail;
      ws.root = g->root;
      ws.id = id;
      ws.task_dir = dir;
      ws.mon = sk_monitor_pidfd (dir);
    }
  struct followed_log *logs = xzalloc ((rec.n + 1) * sizeof *logs);
  for (size_t i = 0; i < rec.n; i++)
    logs[i].fd = -1;
  /* Watches first, then the read, then the wait: whatever is written after
   * a read wakes the wait, however soon it comes. */
  for (bool first = true;; first = false)
    {
      /* The supervisor marks the task `stopped` once the containers' last
       * output is in their files; a removed task has nothing more either. */
      bool ended = o.follow && (task_stopped (dir) || sk_watch_gone (&ws, dir_watch));
      for (size_t i = 0; i < rec.n; i++)
        {
          if (only != NULL && strcmp (rec.c[i].name, only) != 0)
            continue;
          _cleanup_free_ char *path = xasprintf ("%s/logs/%s.log", dir, rec.c[i].name);
          read_log (&o, rec.c[i].name, path, &logs[i], first ? o.tail : -1);
        }
      fflush (stdout);
      if (!o.follow || ended)
        break;
      if (sk_watch_set_wait (&ws, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
          rc = SK_EXIT_SKIFF;
          break;
        }
    }
  for (size_t i = 0; i < rec.n; i++)
    log_close (&logs[i]);
  free (logs);
  sk_watch_set_free (&ws);
  sk_task_record_clear (&rec);
  return rc;
fail:
  sk_err_wrap (&err, "skiff logs -f %s", id);
  sk_err_print (&err);
  sk_err_free (&err);
  sk_watch_set_free (&ws);
  sk_task_record_clear (&rec);
  return SK_EXIT_SKIFF;
}

/* ---- events ---------------------------------------------------------------- */

static void
event_line (const char *line, bool json)
{
  struct sk_diags d = { 0 };
  struct sk_json *v;
  const char *keys[] = { "time", "task", "container", "event" };
  char *vals[4] = { 0 };

  if (json)
    {
      fputs (line, stdout);
      return;
    }
  v = sk_json_parse (line, strlen (line), "event", &d);
  sk_diags_clear (&d);
  if (v == NULL || v->type != SK_JSON_OBJECT)
    {
      sk_json_free (v);
      return;
    }
  for (int k = 0; k < 4; k++)
    {
      const struct sk_json *x = sk_json_get (v, keys[k]);
      vals[k] = x != NULL && x->type == SK_JSON_STRING ? xstrndup (x->text, x->len) : xstrdup ("-");
    }
  printf ("%-27s  %-12s  %-12s  %-16s", vals[0], vals[1], vals[2], vals[3]);
  for (size_t m = 0; m < v->n; m++)
    {
      const char *key = v->members[m].key;
      const struct sk_json *x = v->members[m].value;
      if (strcmp (key, "time") == 0 || strcmp (key, "task") == 0 || strcmp (key, "container") == 0
          || strcmp (key, "event") == 0 || strcmp (key, "family") == 0)
        continue;
      if (x->type == SK_JSON_STRING)
        printf (" %s=%.*s", key, (int)x->len, x->text);
      else if (x->type == SK_JSON_NUMBER)
        printf (" %s=%s", key, x->text);
      else if (x->type == SK_JSON_BOOL)
        printf (" %s=%s", key, x->boolean ? "true" : "false");
    }
  printf ("\n");
  for (int k = 0; k < 4; k++)
    free (vals[k]);
  sk_json_free (v);
}

int
cmd_events (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool follow = false, json = false;
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  int c;

  while ((c = getopt_long (argc, argv, "+:fh", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        follow = true;
        break;
      case 'F':
        json = strcmp (optarg, "json") == 0;
        if (!json && strcmp (optarg, "table") != 0)
          return sk_usage_error ("events", "--format is table or json, got '%s'", optarg);
        break;
      case 'h':
        printf ("Usage: skiff events [-f] [--format table|json] [TASK]\n\nThe supervisor's "
                "decision log (starts, exits, restarts, health, stops)\nof TASK, or of every "
                "detached task; -f follows.\n");
        return SK_EXIT_OK;
      case ':':
        return sk_usage_error ("events", "option '%s' needs an argument", argv[optind - 1]);
      default:
        return sk_usage_error ("events", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind + 1 < argc)
    return sk_usage_error ("events", "expects at most one TASK");
  if (optind < argc)
    {
      sk_err_t err = NULL;
      ids = xzalloc (2 * sizeof *ids);
      if (sk_task_resolve (g->root, argv[optind], &ids[0], &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
          return SK_EXIT_SKIFF;
        }
      n = 1;
    }
  else
    n = sk_task_list (g->root, &ids);
  long *offsets = xzalloc ((n + 1) * sizeof *offsets);
  struct sk_watch_set ws = { .fd = -1, .mon = -1 };
  int rc = SK_EXIT_OK;
  if (follow)
    {
      sk_err_t err = NULL;
      /* Per task: its directory (the events file is made there, the
       * `stopped` mark arrives there) and the events file. */
      if (sk_watch_set_init (&ws, 2 * n, &err) == 0)
        for (size_t i = 0; i < n; i++)
          {
            _cleanup_free_ char *dir = sk_task_dir_path (g->root, ids[i]);
            sk_watch_set_add (&ws, xstrdup (dir), WATCH_TASK_DIR);
            sk_watch_set_add (&ws, xasprintf ("%s/events.jsonl", dir), IN_MODIFY);
          }
      if (ws.fd < 0 || sk_watch_set_refresh (&ws, &err) < 0)
        {
          sk_err_wrap (&err, "skiff events -f");
          sk_err_print (&err);
          sk_err_free (&err);
          free (offsets);
          sk_watch_set_free (&ws);
          return SK_EXIT_SKIFF;
        }
    }
  for (;;)
    {
      bool all_stopped = true;
      for (size_t i = 0; i < n; i++)
        {
          _cleanup_free_ char *dir = sk_task_dir_path (g->root, ids[i]);
          _cleanup_free_ char *path = xasprintf ("%s/events.jsonl", dir);
          FILE *f = fopen (path, "re");
          char *line = NULL;
          size_t cap = 0;
          ssize_t r;

          all_stopped
              = all_stopped && (task_stopped (dir) || (follow && sk_watch_gone (&ws, 2 * i)));
          if (f == NULL || fseek (f, offsets[i], SEEK_SET) < 0)
            {
              if (f != NULL)
                fclose (f);
              continue;
            }
          while ((r = getline (&line, &cap, f)) > 0 && line[r - 1] == '\n')
            {
              offsets[i] += r;
              event_line (line, json);
            }
          free (line);
          fclose (f);
        }
      fflush (stdout);
      if (!follow || (optind < argc && all_stopped))
        break;
      sk_err_t err = NULL;
      if (sk_watch_set_wait (&ws, &err) < 0)
        {
          sk_err_wrap (&err, "skiff events -f");
          sk_err_print (&err);
          sk_err_free (&err);
          rc = SK_EXIT_SKIFF;
          break;
        }
    }
  free (offsets);
  sk_watch_set_free (&ws);
  return rc;
}

/* ---- stats ----------------------------------------------------------------- */

int
cmd_stats (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "no-stream", no_argument, NULL, 'N' },
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool stream = true, json = false;
  _cleanup_free_ char *id = NULL;
  _cleanup_free_ char *dir = NULL;
  struct sk_task_record rec;
  sk_err_t err = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'N':
        stream = false;
        break;
      case 'F':
        json = strcmp (optarg, "json") == 0;
        break;
      case 'h':
        printf ("Usage: skiff stats [--no-stream] [--format table|json] TASK\n\nCPU, memory "
                "and processes of each container, from its cgroup,\nrefreshed every second "
                "(--no-stream: once).\n");
        return SK_EXIT_OK;
      default:
        return sk_usage_error ("stats", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind + 1 != argc)
    return sk_usage_error ("stats", "expects one TASK");
  if (sk_task_resolve (g->root, argv[optind], &id, &err) < 0)
    goto fail;
  dir = sk_task_dir_path (g->root, id);
  if (sk_task_record_load (dir, &rec, &err) < 0)
    goto fail;
  uint64_t *prev = xzalloc ((rec.n + 1) * sizeof *prev);
  uint64_t prev_ns = 0;
  for (int round = 0;; round++)
    {
      uint64_t now = sk_realtime_ns ();
      if (!json && (round > 0 || stream))
        printf ("%-16s  %8s  %12s  %12s  %6s\n", "CONTAINER", "CPU %", "MEM USAGE", "MEM PEAK",
                "PIDS");
      for (size_t i = 0; i < rec.n; i++)
        {
          _cleanup_free_ char *path = sk_task_cgroup_path (id, rec.c[i].name);
          struct sk_cgroup *cg = NULL;
          struct sk_cgroup_stats st;
          double cpu = 0;

          memset (&st, 0, sizeof st);
          if (sk_cgroup_open (path, &cg, &err) == 0)
            {
              if (sk_cgroup_stats (cg, &st, &err) < 0)
                sk_err_free (&err);
              sk_cgroup_free (cg);
            }
          else
            sk_err_free (&err);
          if (prev_ns != 0 && now > prev_ns && st.cpu_usage_usec >= prev[i])
            cpu = (double)(st.cpu_usage_usec - prev[i]) * 1000.0 * 100.0 / (double)(now - prev_ns);
          prev[i] = st.cpu_usage_usec;
          if (round == 0 && !stream)
            continue;
          if (json)
            printf ("{\"container\":\"%s\",\"cpuPercent\":%.2f,\"memoryBytes\":%llu,"
                    "\"memoryPeakBytes\":%llu,\"pids\":%llu,\"cpuUsageUsec\":%llu}\n",
                    rec.c[i].name, cpu, (unsigned long long)st.memory_current,
                    (unsigned long long)st.memory_peak, (unsigned long long)st.pids_current,
                    (unsigned long long)st.cpu_usage_usec);
          else
            printf ("%-16s  %7.2f%%  %10.1fMi  %10.1fMi  %6llu\n", rec.c[i].name, cpu,
                    (double)st.memory_current / 1048576.0, (double)st.memory_peak / 1048576.0,
                    (unsigned long long)st.pids_current);
        }
      prev_ns = now;
      fflush (stdout);
      if (!stream && round >= 1)
        break;
      sleep_ms (stream ? 1000 : 250);
    }
  free (prev);
  sk_task_record_clear (&rec);
  return SK_EXIT_OK;
fail:
  sk_err_print (&err);
  sk_err_free (&err);
  return SK_EXIT_SKIFF;
}
