/* Detached task state: atomic files, process identity, state.json. */
#include "taskstate.h"
#include "json.h"
#include "jsonw.h"
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------- */

int
sk_write_file_atomic (const char *path, const char *data, size_t len, sk_err_t *err)
{
  _cleanup_free_ char *tmp = xasprintf ("%s.tmp.%d", path, (int)getpid ());
  _cleanup_close_ int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  size_t done = 0;

  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", tmp);
  while (done < len)
    {
      ssize_t n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          unlink (tmp);
          return sk_err_set (err, saved, "write `%s`", tmp);
        }
      done += (size_t)n;
    }
  /* fsync before rename: after a crash the name points at whole data. */
  if (fsync (fd) < 0 || rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return sk_err_set (err, saved, "replace `%s`", path);
    }
  return 0;
}

int
sk_read_file (const char *path, char **out, size_t *len, sk_err_t *err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  _cleanup_free_ char *buf = NULL;
  size_t n = 0, cap = 0;

  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  for (;;)
    {
      if (cap - n < 4096)
        {
          cap = cap ? cap * 2 : 8192;
          if (cap > 16u << 20)
            return sk_err_set (err, EFBIG, "read `%s`", path);
          buf = xrealloc (buf, cap + 1);
        }
      ssize_t r = read (fd, buf + n, cap - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return sk_err_set (err, errno, "read `%s`", path);
      if (r == 0)
        break;
      n += (size_t)r;
    }
  if (buf == NULL)
    buf = xzalloc (1);
  buf[n] = '\0';
  *out = steal_pointer (&buf);
  if (len != NULL)
    *len = n;
  return 0;
}

/* ---- process identity -------------------------------------------------- */

uint64_t
sk_proc_start_time (pid_t pid)
{
  char path[64], buf[1024];
  _cleanup_close_ int fd = -1;
  ssize_t n;
  char *p;
  unsigned long long start = 0;

  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: fields start after the last ')'. */
  p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  p++;
  /* Field 3 (state) is the first after ')'; start time is field 22. */
  for (int field = 3; field < 22 && p != NULL; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL || sscanf (p, " %llu", &start) != 1)
    return 0;
  return start;
}

void
sk_boot_id (char out[40])
{
  _cleanup_close_ int fd = open ("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, out, 39) : -1;

  if (n < 0)
    n = 0;
  out[n] = '\0';
  out[strcspn (out, "\n")] = '\0';
}

int
sk_pidfd_open_verified (pid_t pid, uint64_t start)
{
  int fd;

  if (pid <= 0 || start == 0)
    return -1;
  fd = (int)syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return -1;
  /* The pidfd pins the process: if the start time still matches now, the
   * fd refers to the process we recorded, not a newcomer with its pid. */
  if (sk_proc_start_time (pid) != start)
    {
      close (fd);
      return -1;
    }
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

/* ---- records ----------------------------------------------------------- */

static const char *const run_states[] = { "PENDING", "RUNNING", "STOPPED" };
static const char *const health_names[] = { "UNKNOWN", "HEALTHY", "UNHEALTHY" };

void
sk_task_record_clear (struct sk_task_record *r)
{
  for (size_t i = 0; i < r->n; i++)
    {
      free (r->c[i].name);
      free (r->c[i].reason);
    }
  free (r->c);
  free (r->id);
  free (r->name);
  free (r->family);
  free (r->last_status);
  free (r->desired_status);
  free (r->stop_code);
  free (r->stopped_reason);
  memset (r, 0, sizeof *r);
}

static void
kv_time (struct sk_jw *w, const char *key, uint64_t ns)
{
  char buf[40];

  if (ns == 0)
    {
      sk_jw_kv_string (w, key, NULL);
      return;
    }
  sk_format_time (ns, buf, sizeof buf);
  sk_jw_kv_string (w, key, buf);
}

static void
write_history (struct sk_jw *w, const struct sk_restart_history *h)
{
  sk_jw_key (w, "history");
  sk_jw_begin_object (w);
  sk_jw_kv_uint (w, "starts", h->n_starts);
  sk_jw_kv_uint (w, "firstStartMs", h->first_start_ms);
  sk_jw_kv_uint (w, "lastStartMs", h->last_start_ms);
  sk_jw_kv_uint (w, "restartCount", h->restart_count);
  sk_jw_kv_uint (w, "backoffStep", h->backoff_step);
  sk_jw_kv_uint (w, "lastDelayMs", h->last_delay_ms);
  sk_jw_kv_bool (w, "gaveUp", h->gave_up);
  sk_jw_kv_bool (w, "userStopped", h->user_stopped);
  sk_jw_key (w, "recentMs");
  sk_jw_begin_array (w);
  for (uint32_t k = 0; k < h->n_recent && k < SK_RESTART_RECENT_SLOTS; k++)
    sk_jw_uint (w, h->recent_ms[k]);
  sk_jw_end_array (w);
  sk_jw_end_object (w);
}

static void
write_container (struct sk_jw *w, const struct sk_ctr_record *c)
{
  const char *status = c->state >= 0 && c->state <= 2 ? run_states[c->state] : "PENDING";

  sk_jw_begin_object (w);
  sk_jw_kv_string (w, "name", c->name);
  sk_jw_kv_string (w, "lastStatus", c->backoff ? "RUNNING" : status);
  if (c->exit_known)
    sk_jw_kv_int (w, "exitCode", c->exit_code);
  else
    sk_jw_kv_string (w, "exitCode", NULL);
  sk_jw_kv_string (w, "reason", c->reason);
  sk_jw_kv_string (w, "healthStatus",
                   c->health >= 0 && c->health <= 2 ? health_names[c->health] : "UNKNOWN");
  sk_jw_kv_uint (w, "restartCount", c->history.restart_count);
  if (c->pid > 0)
    sk_jw_kv_int (w, "pid", c->pid);
  else
    sk_jw_kv_string (w, "pid", NULL);
  kv_time (w, "startedAt", c->started_at_ns);
  kv_time (w, "stoppedAt", c->stopped_at_ns);
  sk_jw_key (w, "supervision");
  sk_jw_begin_object (w);
  sk_jw_kv_int (w, "state", c->state);
  sk_jw_kv_bool (w, "everStarted", c->ever_started);
  sk_jw_kv_bool (w, "backoff", c->backoff);
  sk_jw_kv_uint (w, "pidStartTime", c->pid_start);
  sk_jw_kv_uint (w, "startedMs", c->started_ms);
  sk_jw_kv_uint (w, "restartAtMs", c->restart_at_ms);
  sk_jw_kv_bool (w, "stopSent", c->stop_sent);
  sk_jw_kv_bool (w, "killed", c->killed);
  sk_jw_kv_bool (w, "unhealthyKill", c->unhealthy_kill);
  sk_jw_kv_uint (w, "killAtMs", c->kill_at_ms);
  sk_jw_kv_uint (w, "startedAtNs", c->started_at_ns);
  sk_jw_kv_uint (w, "stoppedAtNs", c->stopped_at_ns);
  /* Only for health-checked containers: `ps --format json` stays small. */
  if (c->next_probe_ms != 0 || c->last_probe_end_ms != 0)
    {
      sk_jw_kv_uint (w, "nextProbeMs", c->next_probe_ms);
      sk_jw_kv_uint (w, "lastProbeEndMs", c->last_probe_end_ms);
      sk_jw_kv_uint (w, "healthFailures", c->health_failures);
      sk_jw_kv_bool (w, "healthPassedOnce", c->health_passed_once);
    }
  write_history (w, &c->history);
  sk_jw_end_object (w);
  sk_jw_end_object (w);
}

char *
sk_task_record_to_json (const struct sk_task_record *r, bool pretty)
{
  struct sk_jw w;

  (void)pretty;
  sk_jw_init (&w);
  sk_jw_begin_object (&w);
  sk_jw_kv_string (&w, "taskArn", r->id);
  sk_jw_kv_string (&w, "name", r->name);
  sk_jw_kv_string (&w, "family", r->family);
  sk_jw_kv_string (&w, "lastStatus", r->last_status);
  sk_jw_kv_string (&w, "desiredStatus", r->desired_status);
  sk_jw_kv_string (&w, "stopCode", r->stop_code);
  sk_jw_kv_string (&w, "stoppedReason", r->stopped_reason);
  if (r->exit_known)
    sk_jw_kv_int (&w, "exitCode", r->exit_code);
  else
    sk_jw_kv_string (&w, "exitCode", NULL);
  kv_time (&w, "createdAt", r->created_ns);
  kv_time (&w, "startedAt", r->started_ns);
  kv_time (&w, "stoppedAt", r->stopped_ns);
  sk_jw_kv_uint (&w, "attempt", r->attempt);
  sk_jw_key (&w, "containers");
  sk_jw_begin_array (&w);
  for (size_t i = 0; i < r->n; i++)
    write_container (&w, &r->c[i]);
  sk_jw_end_array (&w);
  sk_jw_key (&w, "supervision");
  sk_jw_begin_object (&w);
  sk_jw_kv_string (&w, "bootId", r->boot_id);
  sk_jw_kv_int (&w, "supervisorPid", r->supervisor_pid);
  sk_jw_kv_uint (&w, "supervisorStartTime", r->supervisor_start);
  sk_jw_kv_bool (&w, "stopping", r->stopping);
  sk_jw_kv_int (&w, "cause", r->cause);
  sk_jw_kv_int (&w, "endedBy", r->ended_by);
  sk_jw_kv_int (&w, "signal", r->signal);
  sk_jw_kv_uint (&w, "deadlineMs", r->deadline_ms);
  if (r->hibernating)
    {
      sk_jw_kv_bool (&w, "hibernating", true);
      sk_jw_kv_uint (&w, "wakeAtMs", r->wake_at_ms);
    }
  sk_jw_kv_uint (&w, "createdAtNs", r->created_ns);
  sk_jw_kv_uint (&w, "startedAtNs", r->started_ns);
  sk_jw_kv_uint (&w, "stoppedAtNs", r->stopped_ns);
  sk_jw_end_object (&w);
  sk_jw_end_object (&w);
  return sk_jw_steal (&w);
}

static char *
get_str (const struct sk_json *o, const char *key)
{
  const struct sk_json *v = sk_json_get (o, key);
  return v != NULL && v->type == SK_JSON_STRING ? xstrndup (v->text, v->len) : NULL;
}

static int64_t
get_int (const struct sk_json *o, const char *key, bool *present)
{
  const struct sk_json *v = sk_json_get (o, key);
  if (present != NULL)
    *present = v != NULL && v->type == SK_JSON_NUMBER && v->in_range;
  return v != NULL && v->type == SK_JSON_NUMBER && v->in_range ? v->integer : 0;
}

static uint64_t
get_u64 (const struct sk_json *o, const char *key)
{
  const struct sk_json *v = sk_json_get (o, key);
  if (v == NULL || v->type != SK_JSON_NUMBER)
    return 0;
  return strtoull (v->text, NULL, 10);
}

static bool
get_bool (const struct sk_json *o, const char *key)
{
  const struct sk_json *v = sk_json_get (o, key);
  return v != NULL && v->type == SK_JSON_BOOL && v->boolean;
}

static void
read_history (const struct sk_json *o, struct sk_restart_history *h)
{
  const struct sk_json *recent;

  memset (h, 0, sizeof *h);
  if (o == NULL || o->type != SK_JSON_OBJECT)
    return;
  h->n_starts = (uint32_t)get_int (o, "starts", NULL);
  h->first_start_ms = get_u64 (o, "firstStartMs");
  h->last_start_ms = get_u64 (o, "lastStartMs");
  h->restart_count = (uint32_t)get_int (o, "restartCount", NULL);
  h->backoff_step = (uint32_t)get_int (o, "backoffStep", NULL);
  h->last_delay_ms = get_u64 (o, "lastDelayMs");
  h->gave_up = get_bool (o, "gaveUp");
  h->user_stopped = get_bool (o, "userStopped");
  recent = sk_json_get (o, "recentMs");
  if (recent != NULL && recent->type == SK_JSON_ARRAY)
    for (size_t k = 0; k < recent->n && k < SK_RESTART_RECENT_SLOTS; k++)
      if (recent->items[k]->type == SK_JSON_NUMBER)
        h->recent_ms[h->n_recent++] = strtoull (recent->items[k]->text, NULL, 10);
}

static void
read_container (const struct sk_json *o, struct sk_ctr_record *c)
{
  const struct sk_json *sup = sk_json_get (o, "supervision");
  const struct sk_json *health = sk_json_get (o, "healthStatus");

  c->name = get_str (o, "name");
  c->reason = get_str (o, "reason");
  c->exit_code = (int)get_int (o, "exitCode", &c->exit_known);
  c->pid = (pid_t)get_int (o, "pid", NULL);
  c->health = 0;
  if (health != NULL && health->type == SK_JSON_STRING)
    for (int k = 0; k < 3; k++)
      if (strcmp (health->text, health_names[k]) == 0)
        c->health = k;
  if (sup == NULL || sup->type != SK_JSON_OBJECT)
    return;
  c->state = (int)get_int (sup, "state", NULL);
  c->ever_started = get_bool (sup, "everStarted");
  c->backoff = get_bool (sup, "backoff");
  c->pid_start = get_u64 (sup, "pidStartTime");
  c->started_ms = get_u64 (sup, "startedMs");
  c->restart_at_ms = get_u64 (sup, "restartAtMs");
  c->stop_sent = get_bool (sup, "stopSent");
  c->killed = get_bool (sup, "killed");
  c->unhealthy_kill = get_bool (sup, "unhealthyKill");
  c->kill_at_ms = get_u64 (sup, "killAtMs");
  c->started_at_ns = get_u64 (sup, "startedAtNs");
  c->stopped_at_ns = get_u64 (sup, "stoppedAtNs");
  c->next_probe_ms = get_u64 (sup, "nextProbeMs");
  c->last_probe_end_ms = get_u64 (sup, "lastProbeEndMs");
  c->health_failures = (uint32_t)get_u64 (sup, "healthFailures");
  c->health_passed_once = get_bool (sup, "healthPassedOnce");
  read_history (sk_json_get (sup, "history"), &c->history);
}

int
sk_task_record_from_json (const char *text, size_t len, struct sk_task_record *r, sk_err_t *err)
{
  struct sk_diags diags = { 0 };
  struct sk_json *root = sk_json_parse (text, len, "state.json", &diags);
  const struct sk_json *sup, *ctrs;
  _cleanup_free_ char *boot = NULL;

  memset (r, 0, sizeof *r);
  if (root == NULL || root->type != SK_JSON_OBJECT)
    {
      sk_err_set (err, EINVAL, "state.json: %s",
                  diags.n > 0 ? diags.v[0].text : "not a JSON object");
      sk_diags_clear (&diags);
      sk_json_free (root);
      return -1;
    }
  sk_diags_clear (&diags);
  r->id = get_str (root, "taskArn");
  r->name = get_str (root, "name");
  r->family = get_str (root, "family");
  r->last_status = get_str (root, "lastStatus");
  r->desired_status = get_str (root, "desiredStatus");
  r->stop_code = get_str (root, "stopCode");
  r->stopped_reason = get_str (root, "stoppedReason");
  r->exit_code = (int)get_int (root, "exitCode", &r->exit_known);
  r->attempt = (unsigned)get_int (root, "attempt", NULL);
  sup = sk_json_get (root, "supervision");
  if (sup != NULL && sup->type == SK_JSON_OBJECT)
    {
      boot = get_str (sup, "bootId");
      snprintf (r->boot_id, sizeof r->boot_id, "%s", boot ? boot : "");
      r->supervisor_pid = (pid_t)get_int (sup, "supervisorPid", NULL);
      r->supervisor_start = get_u64 (sup, "supervisorStartTime");
      r->stopping = get_bool (sup, "stopping");
      r->cause = (int)get_int (sup, "cause", NULL);
      r->ended_by = (long)get_int (sup, "endedBy", NULL);
      r->signal = (int)get_int (sup, "signal", NULL);
      r->deadline_ms = get_u64 (sup, "deadlineMs");
      r->hibernating = get_bool (sup, "hibernating");
      r->wake_at_ms = get_u64 (sup, "wakeAtMs");
      r->created_ns = get_u64 (sup, "createdAtNs");
      r->started_ns = get_u64 (sup, "startedAtNs");
      r->stopped_ns = get_u64 (sup, "stoppedAtNs");
    }
  ctrs = sk_json_get (root, "containers");
  if (ctrs != NULL && ctrs->type == SK_JSON_ARRAY && ctrs->n > 0)
    {
      r->c = xzalloc (ctrs->n * sizeof *r->c);
      for (size_t i = 0; i < ctrs->n; i++)
        if (ctrs->items[i]->type == SK_JSON_OBJECT)
          read_container (ctrs->items[i], &r->c[r->n++]);
    }
  sk_json_free (root);
  if (r->id == NULL || r->last_status == NULL)
    {
      sk_task_record_clear (r);
      return sk_err_set (err, EINVAL, "state.json: no taskArn or lastStatus");
    }
  return 0;
}

int
sk_task_record_load (const char *task_dir, struct sk_task_record *r, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/state.json", task_dir);
  _cleanup_free_ char *text = NULL;
  size_t len;

  memset (r, 0, sizeof *r);
  if (sk_read_file (path, &text, &len, err) < 0)
    return -1;
  return sk_task_record_from_json (text, len, r, err);
}

int
sk_task_record_save (const char *task_dir, const struct sk_task_record *r, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/state.json", task_dir);
  _cleanup_free_ char *lock = xasprintf ("%s/state.lock", task_dir);
  _cleanup_free_ char *text = sk_task_record_to_json (r, false);
  _cleanup_close_ int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  size_t len = strlen (text);
  int ret;

  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", lock);
  if (flock (fd, LOCK_EX) < 0)
    return sk_err_set (err, errno, "lock `%s`", lock);
  text = xrealloc (text, len + 2);
  text[len++] = '\n';
  ret = sk_write_file_atomic (path, text, len, err);
  return ret;
}

/* ---- finding tasks ----------------------------------------------------- */

char *
sk_task_dir_path (const char *root, const char *id)
{
  return xasprintf ("%s/tasks/%s", root, id);
}

static int
compare_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

size_t
sk_task_list (const char *root, char ***ids)
{
  _cleanup_free_ char *tasks = xasprintf ("%s/tasks", root);
  DIR *d = opendir (tasks);
  struct dirent *de;
  size_t n = 0;
  char **v = xzalloc (sizeof *v);

  while (d != NULL && (de = readdir (d)) != NULL)
    {
      if (de->d_name[0] == '.' || strlen (de->d_name) != SK_TASK_ID_LEN)
        continue;
      _cleanup_free_ char *spec = xasprintf ("%s/%s/spec.json", tasks, de->d_name);
      if (access (spec, F_OK) != 0)
        continue;
      v = xreallocarray (v, n + 2, sizeof *v);
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  if (d != NULL)
    closedir (d);
  qsort (v, n, sizeof *v, compare_str);
  *ids = v;
  return n;
}

static bool
valid_ref (const char *ref)
{
  return ref[0] != '\0' && ref[0] != '.' && strchr (ref, '/') == NULL && strlen (ref) < 200;
}

int
sk_task_resolve (const char *root, const char *ref, char **id, sk_err_t *err)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n = sk_task_list (root, &ids);
  const char *found = NULL;
  size_t matches = 0;

  if (!valid_ref (ref))
    return sk_err_set (err, ENOENT, "no such task `%s`", ref);
  /* Exact id or name first, as docker does; then a unique id prefix. */
  for (size_t i = 0; i < n; i++)
    {
      if (strcmp (ids[i], ref) == 0)
        {
          *id = xstrdup (ids[i]);
          return 0;
        }
      _cleanup_free_ char *name_path = xasprintf ("%s/tasks/%s/name", root, ids[i]);
      _cleanup_free_ char *name = NULL;
      sk_err_t ignored = NULL;
      if (sk_read_file (name_path, &name, NULL, &ignored) == 0)
        {
          name[strcspn (name, "\n")] = '\0';
          if (strcmp (name, ref) == 0)
            {
              *id = xstrdup (ids[i]);
              return 0;
            }
        }
      sk_err_free (&ignored);
    }
  for (size_t i = 0; i < n; i++)
    if (strncmp (ids[i], ref, strlen (ref)) == 0)
      {
        found = ids[i];
        matches++;
      }
  if (matches == 1)
    {
      *id = xstrdup (found);
      return 0;
    }
  if (matches > 1)
    return sk_err_set (err, EINVAL, "task id prefix `%s` is ambiguous", ref);
  return sk_err_set (err, ENOENT, "no such task `%s`", ref);
}

bool
sk_task_monitor_alive (const char *task_dir)
{
  _cleanup_free_ char *lock = xasprintf ("%s/lock", task_dir);
  _cleanup_close_ int fd = open (lock, O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return false;
  if (flock (fd, LOCK_SH | LOCK_NB) == 0)
    {
      flock (fd, LOCK_UN);
      return false;
    }
  return errno == EWOULDBLOCK;
}

/* ---- exit records ------------------------------------------------------ */

char *
sk_exit_record_path (const char *task_dir, pid_t pid, uint64_t start)
{
  return xasprintf ("%s/exits/%d.%" PRIu64, task_dir, (int)pid, start);
}

int
sk_exit_record_read (const char *task_dir, pid_t pid, uint64_t start, int *how, int *status)
{
  _cleanup_free_ char *path = sk_exit_record_path (task_dir, pid, start);
  _cleanup_free_ char *text = NULL;
  sk_err_t ignored = NULL;

  if (sk_read_file (path, &text, NULL, &ignored) < 0)
    {
      sk_err_free (&ignored);
      return -1;
    }
  if (sscanf (text, "%d %d", how, status) != 2)
    return -1;
  return 0;
}
