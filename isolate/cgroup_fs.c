/* cgroupfs files read and written directly: what libcgroup 2.0.x has no
 * primitive for (cgroup.kill, cgroup.freeze, memory.events, statistics,
 * cgroup.procs listing). Errors name the full path of the file. */
#include "cgroup_internal.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool
sk_cgroup_file_exists (const char *dir, const char *file)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);

  return access (path, F_OK) == 0;
}

int
sk_cgroup_read_file (const char *dir, const char *file, char **out, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *buf = NULL;
  size_t cap = 512, len = 0;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  buf = xmalloc (cap);
  for (;;)
    {
      ssize_t n;

      if (cap - len < 2)
        {
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      n = read (fd, buf + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return sk_err_set (err, errno, "read `%s`", path);
      if (n == 0)
        break;
      len += (size_t)n;
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

int
sk_cgroup_write_file (const char *dir, const char *file, const char *value, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);
  _cleanup_close_ int fd = -1;
  size_t len = strlen (value);
  ssize_t n;

  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  /* cgroupfs takes one value per write(2); never split it. */
  do
    n = write (fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return sk_err_set (err, errno, "write `%s` = `%s`", path, value);
  if ((size_t)n != len)
    return sk_err_set (err, EIO, "write `%s` = `%s`: short write", path, value);
  return 0;
}

static int
parse_u64 (const char *text, const char *path, uint64_t *value, sk_err_t *err)
{
  char *end = NULL;
  unsigned long long v;

  while (isspace ((unsigned char)*text))
    text++;
  if (strncmp (text, "max", 3) == 0 && (text[3] == '\0' || isspace ((unsigned char)text[3])))
    {
      *value = UINT64_MAX;
      return 0;
    }
  errno = 0;
  v = strtoull (text, &end, 10);
  if (errno != 0 || end == text || (*end != '\0' && !isspace ((unsigned char)*end)))
    return sk_err_set (err, EINVAL, "parse `%s`: expected a number, got `%.32s`", path, text);
  *value = v;
  return 0;
}

int
sk_cgroup_read_u64 (const char *dir, const char *file, uint64_t *value, sk_err_t *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *path = NULL;

  if (sk_cgroup_read_file (dir, file, &text, err) < 0)
    return -1;
  path = xasprintf ("%s/%s", dir, file);
  return parse_u64 (text, path, value, err);
}

int
sk_cgroup_read_keyed (const char *dir, const char *file, const char *key, uint64_t *value,
                      bool *found, sk_err_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t key_len = strlen (key);

  *found = false;
  if (sk_cgroup_read_file (dir, file, &text, err) < 0)
    return -1;
  for (char *line = text; line != NULL && *line != '\0';)
    {
      char *next = strchr (line, '\n');

      if (next != NULL)
        *next++ = '\0';
      if (strncmp (line, key, key_len) == 0 && line[key_len] == ' ')
        {
          _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);

          *found = true;
          return parse_u64 (line + key_len + 1, path, value, err);
        }
      line = next;
    }
  return 0;
}

int
sk_cgroup_kill_procs (const char *dir, size_t *n_killed, sk_err_t *err)
{
  _cleanup_free_ char *text = NULL;

  *n_killed = 0;
  if (sk_cgroup_read_file (dir, "cgroup.procs", &text, err) < 0)
    return -1;
  for (char *p = text; *p != '\0';)
    {
      char *end = NULL;
      long pid = strtol (p, &end, 10);

      if (end == p)
        break;
      p = end;
      while (isspace ((unsigned char)*p))
        p++;
      if (pid <= 0)
        continue;
      if (kill ((pid_t)pid, SIGKILL) < 0)
        {
          if (errno == ESRCH)
            continue; /* exited since the read */
          return sk_err_set (err, errno, "kill pid %ld of `%s`", pid, dir);
        }
      (*n_killed)++;
    }
  return 0;
}

int
sk_cgroup_has_procs (const char *dir, bool *has, sk_err_t *err)
{
  _cleanup_free_ char *text = NULL;

  *has = false;
  if (sk_cgroup_read_file (dir, "cgroup.procs", &text, err) < 0)
    return -1;
  for (const char *p = text; *p != '\0'; p++)
    if (!isspace ((unsigned char)*p))
      {
        *has = true;
        break;
      }
  return 0;
}

static long
elapsed_ms (const struct timespec *start)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int
sk_cgroup_wait_events (const char *dir, const char *line, int timeout_ms, bool *reached,
                       sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/cgroup.events", dir);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct timespec start;

  *reached = false;
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      char buf[256];
      ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
      struct pollfd pfd = { .fd = fd, .events = POLLPRI };
      long waited;

      if (n < 0)
        return sk_err_set (err, errno, "read `%s`", path);
      buf[n] = '\0';
      for (char *p = strstr (buf, line); p != NULL; p = strstr (p + 1, line))
        if ((p == buf || p[-1] == '\n') && (p[strlen (line)] == '\n' || p[strlen (line)] == '\0'))
          {
            *reached = true;
            return 0;
          }
      waited = elapsed_ms (&start);
      if (waited >= timeout_ms)
        return 0;
      /* cgroup.events signals every change with POLLPRI. */
      if (poll (&pfd, 1, (int)(timeout_ms - waited)) < 0 && errno != EINTR)
        return sk_err_set (err, errno, "poll `%s`", path);
    }
}

int
sk_cgroup_wait_no_procs (const char *const *dirs, size_t n_dirs, int timeout_ms, bool *reached,
                         sk_err_t *err)
{
  /* v1 has no emptiness notification for a plain group (its release
   * agent is host-wide), so the lists are polled in 1 ms steps. */
  const struct timespec step = { 0, 1000 * 1000 };
  struct timespec start;

  *reached = false;
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      bool any = false;

      for (size_t i = 0; i < n_dirs && !any; i++)
        if (sk_cgroup_has_procs (dirs[i], &any, err) < 0)
          return -1;
      if (!any)
        {
          *reached = true;
          return 0;
        }
      if (elapsed_ms (&start) >= timeout_ms)
        return 0;
      nanosleep (&step, NULL);
    }
}
