/* The entry points: read a file (bounded), parse, fill defaults, validate. */
#include "parse.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
absolute_dir_of (const char *source)
{
  _cleanup_free_ char *copy = xstrdup (source);
  char *dir = dirname (copy);
  char *real;
  _cleanup_free_ char *cwd = NULL;

  if (strcmp (source, "-") != 0 && (real = realpath (dir, NULL)) != NULL)
    return real;
  cwd = getcwd (NULL, 0);
  if (cwd == NULL)
    return xstrdup ("/");
  if (strcmp (source, "-") == 0 || strcmp (dir, ".") == 0)
    return steal_pointer (&cwd);
  if (dir[0] == '/')
    return xstrdup (dir);
  return xasprintf ("%s/%s", cwd, dir);
}

static void
fill_defaults (struct sk_task *task)
{
  if (task->os_family == NULL)
    task->os_family = xstrdup ("LINUX");
  if (task->cpu_architecture == NULL)
    task->cpu_architecture = xstrdup (sk_host_architecture ());
}

int
sk_task_load_buffer (const char *buf, size_t len, const char *source_name,
                     const struct sk_load_opts *opts, struct sk_task **out, struct sk_diags *diags,
                     sk_err_t *err)
{
  struct sk_parse_extra extra = { 0 };
  struct sk_pctx pc = { .diags = diags, .source = source_name, .extra = &extra };
  struct sk_task *task;
  struct sk_json *root;
  size_t errors_before = diags->n_errors;
  size_t n;

  *out = NULL;
  pc.unknown_keys_are_warnings = opts && opts->unknown_keys_are_warnings;
  root = sk_json_parse (buf, len, source_name, diags);
  if (root != NULL)
    {
      task = xzalloc (sizeof *task);
      task->source = xstrdup (source_name);
      task->source_dir = absolute_dir_of (source_name);
      if (sk_parse_task_json (&pc, root, opts, NULL, task) == 0)
        {
          fill_defaults (task);
          /* Paths of the wrapped form start at "taskDefinition". */
          if (root->type == SK_JSON_OBJECT && sk_json_get (root, "containerDefinitions") == NULL
              && sk_json_get (root, "taskDefinition") != NULL)
            pc_push_key (&pc, "taskDefinition");
          sk_validate_task (&pc, task);
        }
      sk_json_free (root);
      if (diags->n_errors == errors_before)
        *out = task;
      else
        sk_task_free (task);
    }
  free (extra.containers);
  n = diags->n_errors - errors_before;
  if (n > 0)
    return sk_err_set (err, 0, "%s: %zu error%s", source_name, n, n == 1 ? "" : "s");
  return 0;
}

/* The first buffer: the file's size when fstat knows it (plus one byte to
 * see EOF at once), else 64 KiB. Never the full cap up front: a 1 MiB
 * allocation raises malloc's mmap threshold for the rest of the process,
 * and every later large calloc then zeroes fresh heap pages by hand. */
static size_t
first_read_size (int fd, size_t cap)
{
  struct stat st;

  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size >= 0 && (uint64_t)st.st_size < cap)
    return (size_t)st.st_size + 1;
  return cap < 65536 ? cap : 65536;
}

/* One bounded read loop: never more than the cap plus one byte. The buffer
 * grows (doubling, up to the cap) when the file is larger than it said. */
static int
read_bounded (int fd, char **out, size_t *len)
{
  size_t cap = SK_JSON_MAX_BYTES + 1, used = 0;
  size_t size = first_read_size (fd, cap);
  char *buf = xmalloc (size);

  for (;;)
    {
      ssize_t r;

      if (used == size)
        {
          if (size == cap)
            break;
          size = size > cap / 2 ? cap : size * 2;
          buf = xrealloc (buf, size);
        }
      r = read (fd, buf + used, size - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          free (buf);
          return -1;
        }
      if (r == 0)
        break;
      used += (size_t)r;
    }
  *out = buf;
  *len = used;
  return 0;
}

int
sk_task_load_file (const char *path, const struct sk_load_opts *opts, struct sk_task **out,
                   struct sk_diags *diags, sk_err_t *err)
{
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;

  *out = NULL;
  if (strcmp (path, "-") == 0)
    fd = dup (STDIN_FILENO);
  else
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  if (read_bounded (fd, &buf, &len) < 0)
    return sk_err_set (err, errno, "read `%s`", path);
  if (len > SK_JSON_MAX_BYTES)
    {
      sk_diags_add (diags, SK_DIAG_ERROR, "%s: larger than the 1 MiB limit for a task definition",
                    path);
      return sk_err_set (err, 0, "%s: 1 error", path);
    }
  return sk_task_load_buffer (buf, len, path, opts, out, diags, err);
}
