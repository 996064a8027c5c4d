/* The init status file (init_status.h). */
#include "init_status.h"
#include "init.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define INIT_STATUS_FILE "init-exit"

int
sk_init_status_open (const char *state_dir, sk_err_t *err)
{
  _cleanup_free_ char *path = xasprintf ("%s/" INIT_STATUS_FILE, state_dir);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", path);
  return fd;
}

int
sk_init_status_stamp (int fd, pid_t pid, uint64_t start, sk_err_t *err)
{
  char head[SK_INIT_STATUS_RECORD_AT];
  int len = snprintf (head, sizeof head, "skiff-init pid %d start %" PRIu64 "\n", (int)pid, start);

  /* No fsync: only a crash of the host loses it, and then the task is
   * finished as rebooted anyway. */
  if (pwrite (fd, head, (size_t)len, 0) != len)
    return sk_err_set (err, errno, "write the init status file");
  return 0;
}

int
sk_init_status_read (const char *state_dir, pid_t pid, uint64_t start, int *how, int *status)
{
  _cleanup_free_ char *path = xasprintf ("%s/" INIT_STATUS_FILE, state_dir);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  char buf[2 * SK_INIT_STATUS_RECORD_AT + 1];
  char word[16];
  int file_pid, value;
  uint64_t file_start;
  ssize_t n;

  if (fd < 0)
    return -1;
  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= SK_INIT_STATUS_RECORD_AT)
    return -1;
  buf[n] = '\0';
  if (sscanf (buf, "skiff-init pid %d start %" SCNu64, &file_pid, &file_start) != 2
      || file_pid != (int)pid || file_start != start || start == 0)
    return -1;
  if (sscanf (buf + SK_INIT_STATUS_RECORD_AT, "%15s %d", word, &value) != 2 || value < 0)
    return -1;
  /* As init's own exit: its code is the task's, 128+n for a signal n. The
   * live path sees exactly this, so the restart policy decides alike. */
  *how = CLD_EXITED;
  if (strcmp (word, "exited") == 0 && value <= 255)
    *status = value;
  else if (strcmp (word, "killed") == 0 && value < 128)
    *status = 128 + value;
  else
    return -1;
  return 0;
}

int
sk_init_status_export (const char *task_dir, const char *state_dir, pid_t pid, uint64_t start)
{
  _cleanup_free_ char *exits = NULL;
  _cleanup_free_ char *path = NULL;
  sk_err_t err = NULL;
  char text[32];
  int how, status;

  if (sk_exit_record_read (task_dir, pid, start, &how, &status) == 0)
    return 0;
  if (state_dir == NULL || sk_init_status_read (state_dir, pid, start, &how, &status) < 0)
    return -1;
  exits = xasprintf ("%s/exits", task_dir);
  if (mkdir (exits, 0700) < 0 && errno != EEXIST)
    return -1;
  path = sk_exit_record_path (task_dir, pid, start);
  snprintf (text, sizeof text, "%d %d\n", how, status);
  if (sk_write_file_atomic (path, text, strlen (text), &err) < 0)
    {
      sk_err_free (&err);
      return -1;
    }
  return 0;
}
