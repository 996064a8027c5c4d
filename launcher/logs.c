/* launcher/logs: per-container log sinks (pipes -> terminal + rotated file).
 *
 * Choices (docs/logging.md, "Logs"):
 * - the pipes' read ends are non-blocking and a drain reads a bounded budget;
 * - the terminal fds stay as skiff received them (setting O_NONBLOCK on a
 *   shared terminal would change it for the user's shell too), so a terminal
 *   write may block, but only for one line; a full pipe then throttles the
 *   container, as with docker compose;
 * - the log file never blocks the loop for long (a regular file) and its
 *   failures only drop records: counted, reported once, retried per record;
 * - a record is written with one write(); a short write is truncated away so
 *   the file only ever holds whole JSON lines. */
#include "logs.h"
#include "logs_internal.h"
#include "pty.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* How long a write waits for a terminal that someone made non-blocking. */
#define TERM_STALL_MS 1000

struct log_stream
{
  int fd;                        /* read end, -1 when none */
  size_t used;                   /* bytes in buf */
  size_t scanned;                /* bytes of buf already searched for a newline */
  char buf[SK_LOG_LINE_MAX + 2]; /* + 2: a longest line still fits with its CR LF */
};

struct sk_log_sink
{
  struct sk_log_opts o;
  char *name;
  char *file_name; /* "<name>.log", relative to dirfd */
  char *path;      /* "<dir>/<name>.log", for messages */
  char *dir;
  const char *color;
  int dirfd;   /* -1 until the first record */
  int file_fd; /* -1 until the first record and after a failure: opened on the next one */
  uint64_t file_size;
  uint64_t dropped_file;
  uint64_t dropped_term;
  bool file_warned;
  bool term_warned;
  bool rotate_warned;
  struct log_stream streams[2];
  char *line; /* prefix + one line + newline, for the terminal */
  size_t line_cap;
  char record[SK_LOG_RECORD_MAX];
};

static const char *const stream_names[] = { "stdout", "stderr" };

void
sk_log_opts_init (struct sk_log_opts *o)
{
  memset (o, 0, sizeof *o);
  o->prefix = true;
  o->max_bytes = SK_LOG_DEFAULT_MAX_BYTES;
  o->max_files = SK_LOG_DEFAULT_MAX_FILES;
  o->out_fd = 1;
  o->err_fd = 2;
  o->color = sk_log_color_wanted (o->out_fd);
}

bool
sk_log_color_wanted (int fd)
{
  const char *no_color = getenv ("NO_COLOR");

  if (no_color != NULL && no_color[0] != '\0')
    return false;
  return isatty (fd) == 1;
}

size_t
sk_log_name_width (const struct sk_task *task)
{
  size_t width = 0;

  for (size_t i = 0; i < task->n_containers; i++)
    if (task->containers[i].name != NULL && strlen (task->containers[i].name) > width)
      width = strlen (task->containers[i].name);
  return width;
}

static const char *
option_value (const struct sk_log_config *config, const char *name)
{
  for (size_t i = 0; i < config->options.n; i++)
    if (strcmp (config->options.v[i].name, name) == 0)
      return config->options.v[i].value;
  return NULL;
}

int
sk_log_opts_apply_config (struct sk_log_opts *o, const struct sk_log_config *config, sk_err_t *err)
{
  const char *max_size, *max_file;

  if (config == NULL || config->driver == NULL
      || (strcmp (config->driver, "json-file") != 0 && strcmp (config->driver, "local") != 0))
    return 0;
  max_size = option_value (config, "max-size");
  max_file = option_value (config, "max-file");
  if (max_size != NULL)
    {
      uint64_t bytes;

      if (strcmp (max_size, "-1") == 0)
        o->max_bytes = 0;
      else if (sk_log_parse_size (max_size, &bytes) < 0 || bytes == 0)
        return sk_err_set (err, 0,
                           "logConfiguration.options.max-size `%s`: not a size (e.g. 10m, 512k, "
                           "1g, or -1 for no cap)",
                           max_size);
      else
        o->max_bytes = bytes;
    }
  if (max_file != NULL)
    {
      char *end = NULL;
      unsigned long n;

      errno = 0;
      n = strtoul (max_file, &end, 10);
      if (errno != 0 || end == max_file || *end != '\0' || max_file[0] == '-' || n < 1
          || n > SK_LOG_MAX_FILES_LIMIT)
        return sk_err_set (err, 0,
                           "logConfiguration.options.max-file `%s`: not a number from 1 to %u",
                           max_file, SK_LOG_MAX_FILES_LIMIT);
      o->max_files = (unsigned)n;
    }
  return 0;
}

uint64_t
sk_log_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the terminal ------------------------------------------------------- */

const char *
sk_log_line_end (int fd)
{
  struct termios mode;

  /* The cheap test first: skiff's lines are only this careful while raw. */
  if (!sk_term_is_raw ())
    return "\n";
  if (tcgetattr (fd, &mode) == 0 && !(mode.c_oflag & OPOST))
    return "\r\n";
  return "\n";
}

/* Write all of buf, waiting a bounded time if the fd is non-blocking.
 * Returns 0 or -1 with errno. */
static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          struct pollfd p = { .fd = fd, .events = POLLOUT };
          int r = poll (&p, 1, TERM_STALL_MS);
          if (r > 0)
            continue;
          if (r == 0)
            errno = EAGAIN;
          return -1;
        }
      if (n < 0)
        return -1;
      buf += n;
      len -= (size_t)n;
    }
  return 0;
}

static void
term_write (struct sk_log_sink *s, int fd, const char *buf, size_t len)
{
  if (write_all (fd, buf, len) == 0)
    return;
  s->dropped_term += len;
  if (!s->term_warned)
    {
      s->term_warned = true;
      /* Best effort: this fd may be the broken one. */
      dprintf (s->o.err_fd,
               "skiff: container %s: writing its output to the terminal (fd %d): %s; dropping "
               "it there (the log file `%s` keeps it)%s",
               s->name, fd, strerror (errno), s->path, sk_log_line_end (s->o.err_fd));
    }
}

/* "<colour>name   |<reset> " into s->line; returns its length. */
static size_t
format_prefix (struct sk_log_sink *s)
{
  size_t o = 0, name_len = strlen (s->name);

  if (s->o.color)
    {
      memcpy (s->line, s->color, strlen (s->color));
      o += strlen (s->color);
    }
  memcpy (s->line + o, s->name, name_len);
  o += name_len;
  for (size_t i = name_len; i < s->o.name_width; i++)
    s->line[o++] = ' ';
  memcpy (s->line + o, " |", 2), o += 2;
  if (s->o.color)
    memcpy (s->line + o, "\033[0m", 4), o += 4;
  s->line[o++] = ' ';
  return o;
}

static void
term_line (struct sk_log_sink *s, int fd, const char *note_tag, const char *text, size_t len)
{
  size_t o = format_prefix (s), tag_len = note_tag ? strlen (note_tag) : 0;
  const char *eol = sk_log_line_end (fd);
  size_t eol_len = strlen (eol);

  if (o + tag_len + len + eol_len > s->line_cap)
    len = s->line_cap - o - tag_len - eol_len;
  if (tag_len > 0)
    memcpy (s->line + o, note_tag, tag_len), o += tag_len;
  memcpy (s->line + o, text, len), o += len;
  memcpy (s->line + o, eol, eol_len), o += eol_len;
  term_write (s, fd, s->line, o);
}

/* ---- the file ----------------------------------------------------------- */

static void
file_failed (struct sk_log_sink *s, const char *what, int errnum, size_t dropped)
{
  s->dropped_file += dropped;
  if (s->file_warned)
    return;
  s->file_warned = true;
  dprintf (s->o.err_fd,
           "skiff: container %s: %s log file `%s`: %s; dropping log records (counted) until "
           "it works again%s",
           s->name, what, s->path, strerror (errnum), sk_log_line_end (s->o.err_fd));
}

/* The directory is made and opened on the first record, not when the
 * sink opens: a container that never prints costs no inodes (on a disk
 * state root each create and unlink is a journal write). */
static int
dir_open (struct sk_log_sink *s)
{
  if (s->dirfd >= 0)
    return 0;
  if (mkdir (s->dir, 0700) < 0 && errno != EEXIST)
    return -1;
  s->dirfd = open (s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return s->dirfd < 0 ? -1 : 0;
}

static int
file_open (struct sk_log_sink *s)
{
  struct stat st;
  int fd;

  if (dir_open (s) < 0)
    return -1;
  fd = openat (s->dirfd, s->file_name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
               0640);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }
  s->file_fd = fd;
  s->file_size = (uint64_t)st.st_size;
  return 0;
}

static char *
rotated_name (const struct sk_log_sink *s, unsigned i)
{
  return xasprintf ("%s.%u", s->file_name, i);
}

/* name.log -> name.log.1 -> ... -> name.log.<max_files-1>, the oldest goes.
 * If renaming fails the current file is emptied instead: the cap holds even
 * when history is lost. Returns 0 with a fresh file open, or -1 with errno. */
static int
file_rotate (struct sk_log_sink *s)
{
  unsigned last = s->o.max_files - 1;
  int rc = 0;

  if (last > 0)
    {
      _cleanup_free_ char *oldest = rotated_name (s, last);
      if (unlinkat (s->dirfd, oldest, 0) < 0 && errno != ENOENT)
        rc = -1;
      for (unsigned i = last - 1; rc == 0 && i >= 1; i--)
        {
          _cleanup_free_ char *from = rotated_name (s, i);
          _cleanup_free_ char *to = rotated_name (s, i + 1);
          if (renameat (s->dirfd, from, s->dirfd, to) < 0 && errno != ENOENT)
            rc = -1;
        }
      if (rc == 0)
        {
          _cleanup_free_ char *first = rotated_name (s, 1);
          if (renameat (s->dirfd, s->file_name, s->dirfd, first) < 0)
            rc = -1;
        }
      if (rc == 0)
        {
          close (s->file_fd);
          s->file_fd = -1;
          return file_open (s);
        }
      if (!s->rotate_warned)
        {
          s->rotate_warned = true;
          dprintf (s->o.err_fd,
                   "skiff: container %s: rotating log file `%s`: %s; emptying it instead%s",
                   s->name, s->path, strerror (errno), sk_log_line_end (s->o.err_fd));
        }
    }
  if (ftruncate (s->file_fd, 0) < 0)
    return -1;
  s->file_size = 0;
  return 0;
}

static void
file_write (struct sk_log_sink *s, const char *rec, size_t len)
{
  ssize_t n;

  if (s->file_fd < 0 && file_open (s) < 0)
    return file_failed (s, "opening", errno, len);
  if (s->o.max_bytes > 0 && s->file_size > 0 && s->file_size + len > s->o.max_bytes
      && file_rotate (s) < 0)
    {
      int saved = errno;
      if (s->file_fd >= 0)
        close (s->file_fd);
      s->file_fd = -1;
      return file_failed (s, "rotating", saved, len);
    }
  do
    n = write (s->file_fd, rec, len);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)len)
    {
      s->file_size += len;
      return;
    }
  if (n >= 0)
    {
      /* A cut record would glue onto the next one: take it back. */
      if (ftruncate (s->file_fd, (off_t)s->file_size) < 0)
        s->file_size += (uint64_t)n;
      errno = ENOSPC;
    }
  file_failed (s, "writing", errno, len);
}

/* ---- records ------------------------------------------------------------ */

static void
emit_line (struct sk_log_sink *s, int stream, const char *text, size_t len, bool partial,
           uint64_t now)
{
  size_t rec_len
      = sk_log_format_record (s->record, now, stream_names[stream - 1], text, len, partial);

  if (s->o.prefix)
    term_line (s, stream == SK_LOG_STDOUT ? s->o.out_fd : s->o.err_fd, NULL, text, len);
  file_write (s, s->record, rec_len);
}

/* A line longer than SK_LOG_LINE_MAX goes out in pieces marked partial; the
 * last piece carries `partial`. */
static void
emit_text (struct sk_log_sink *s, int stream, const char *text, size_t len, bool partial,
           uint64_t now)
{
  while (len > SK_LOG_LINE_MAX)
    {
      size_t cut = sk_log_cut_point (text, SK_LOG_LINE_MAX);
      emit_line (s, stream, text, cut, true, now);
      text += cut;
      len -= cut;
    }
  emit_line (s, stream, text, len, partial, now);
}

/* Write out the complete lines in the stream's buffer; a buffer full without
 * a newline goes out as a partial record. */
static void
split_lines (struct sk_log_sink *s, int stream, uint64_t now)
{
  struct log_stream *st = &s->streams[stream - 1];
  size_t start = 0;

  for (;;)
    {
      char *nl = memchr (st->buf + st->scanned, '\n', st->used - st->scanned);
      size_t end, text_len;

      if (nl == NULL)
        break;
      end = (size_t)(nl - st->buf);
      text_len = end - start;
      if (text_len > 0 && st->buf[end - 1] == '\r')
        text_len--;
      emit_text (s, stream, st->buf + start, text_len, false, now);
      start = end + 1;
      st->scanned = start;
    }
  if (start == 0 && st->used == sizeof st->buf)
    {
      size_t cut = sk_log_cut_point (st->buf, SK_LOG_LINE_MAX);
      emit_line (s, stream, st->buf, cut, true, now);
      start = cut;
    }
  memmove (st->buf, st->buf + start, st->used - start);
  st->used -= start;
  st->scanned = st->used;
}

/* End of a stream: flush what remains (a line without its newline). */
static void
stream_finish (struct sk_log_sink *s, int stream, uint64_t now)
{
  struct log_stream *st = &s->streams[stream - 1];

  if (st->used > 0)
    emit_text (s, stream, st->buf, st->used, true, now);
  st->used = st->scanned = 0;
  if (st->fd >= 0)
    close (st->fd);
  st->fd = -1;
}

/* ---- the sink ----------------------------------------------------------- */

static bool
valid_file_name (const char *name)
{
  return name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL && strlen (name) <= 255;
}

int
sk_log_sink_open (const char *dir, const char *container, unsigned color_index,
                  const struct sk_log_opts *o, struct sk_log_sink **out, sk_err_t *err)
{
  struct sk_log_sink *s;

  if (!valid_file_name (container))
    return sk_err_set (err, 0, "log file for container `%s`: the name is not a file name",
                       container);
  s = xzalloc (sizeof *s);
  s->o = *o;
  if (s->o.max_files < 1)
    s->o.max_files = 1;
  if (s->o.max_files > SK_LOG_MAX_FILES_LIMIT)
    s->o.max_files = SK_LOG_MAX_FILES_LIMIT;
  s->name = xstrdup (container);
  s->file_name = xasprintf ("%s.log", container);
  s->path = xasprintf ("%s/%s", dir, s->file_name);
  s->color = sk_log_palette (color_index);
  s->file_fd = -1;
  s->streams[0].fd = s->streams[1].fd = -1;
  /* colour + padded name + " |" + reset + " " + "skiff: " + line + "\r\n" */
  s->line_cap = 16 + (o->name_width > strlen (container) ? o->name_width : strlen (container)) + 16
                + SK_LOG_LINE_MAX + 2;
  s->line = xmalloc (s->line_cap);
  s->dir = xstrdup (dir);
  s->dirfd = -1;
  *out = s;
  return 0;
}

int
sk_log_sink_pipe (struct sk_log_sink *s, int stream, int *container_end, sk_err_t *err)
{
  int fds[2];

  if (stream != SK_LOG_STDOUT && stream != SK_LOG_STDERR)
    return sk_err_set (err, EINVAL, "log stream %d", stream);
  stream_finish (s, stream, sk_log_now ());
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return sk_err_set (err, errno, "pipe2 for the %s of container `%s`", stream_names[stream - 1],
                       s->name);
  if (fcntl (fds[0], F_SETFL, O_NONBLOCK) < 0)
    {
      int saved = errno;
      close (fds[0]);
      close (fds[1]);
      return sk_err_set (err, saved, "fcntl O_NONBLOCK on the %s pipe of container `%s`",
                         stream_names[stream - 1], s->name);
    }
  s->streams[stream - 1].fd = fds[0];
  *container_end = fds[1];
  return 0;
}

int
sk_log_fd (const struct sk_log_sink *s, int stream)
{
  if (stream != SK_LOG_STDOUT && stream != SK_LOG_STDERR)
    return -1;
  return s->streams[stream - 1].fd;
}

int
sk_log_sink_drain (struct sk_log_sink *s, int stream, uint64_t now_realtime_ns)
{
  struct log_stream *st;
  size_t budget = SK_LOG_DRAIN_BUDGET;

  if (stream != SK_LOG_STDOUT && stream != SK_LOG_STDERR)
    return 1;
  st = &s->streams[stream - 1];
  if (st->fd < 0)
    return 1;
  while (budget > 0)
    {
      size_t room = sizeof st->buf - st->used;
      ssize_t n = read (st->fd, st->buf + st->used, room < budget ? room : budget);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      if (n <= 0)
        {
          /* EOF, or a read error that will not go away: the stream is over. */
          stream_finish (s, stream, now_realtime_ns);
          return 1;
        }
      if (!s->o.prefix)
        term_write (s, stream == SK_LOG_STDOUT ? s->o.out_fd : s->o.err_fd, st->buf + st->used,
                    (size_t)n);
      st->used += (size_t)n;
      budget -= (size_t)n;
      split_lines (s, stream, now_realtime_ns);
    }
  return 0;
}

void
sk_log_sink_note (struct sk_log_sink *s, const char *text, uint64_t now_realtime_ns)
{
  size_t len = strnlen (text, SK_LOG_LINE_MAX);
  size_t rec_len;

  while (len > 0 && text[len - 1] == '\n')
    len--;
  if (s->o.prefix)
    term_line (s, s->o.err_fd, "skiff: ", text, len);
  else
    dprintf (s->o.err_fd, "skiff: %s: %.*s%s", s->name, (int)len, text,
             sk_log_line_end (s->o.err_fd));
  rec_len = sk_log_format_record (s->record, now_realtime_ns, "skiff", text, len, false);
  file_write (s, s->record, rec_len);
}

uint64_t
sk_log_sink_dropped_file (const struct sk_log_sink *s)
{
  return s->dropped_file;
}

uint64_t
sk_log_sink_dropped_terminal (const struct sk_log_sink *s)
{
  return s->dropped_term;
}

const char *
sk_log_sink_path (const struct sk_log_sink *s)
{
  return s->path;
}

void
sk_log_sink_close (struct sk_log_sink *s)
{
  if (s == NULL)
    return;
  {
    uint64_t now = sk_log_now ();
    stream_finish (s, SK_LOG_STDOUT, now);
    stream_finish (s, SK_LOG_STDERR, now);
  }
  if (s->dropped_file > 0)
    dprintf (s->o.err_fd,
             "skiff: container %s: %" PRIu64 " bytes of log records could not be written to "
             "`%s`%s",
             s->name, s->dropped_file, s->path, sk_log_line_end (s->o.err_fd));
  if (s->file_fd >= 0)
    close (s->file_fd);
  if (s->dirfd >= 0)
    close (s->dirfd);
  free (s->line);
  free (s->dir);
  free (s->path);
  free (s->file_name);
  free (s->name);
  free (s);
}
