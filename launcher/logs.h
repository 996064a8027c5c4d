/* Container logs: each container's stdout and stderr go to skiff's terminal
 * (prefixed with the container name, as docker compose does) and to a
 * per-container JSON-lines file with timestamps, capped in size and rotated.
 *
 * Made for a single-threaded epoll loop (docs/logging.md, "Logs"): the pipe
 * read ends are non-blocking, a drain call does a bounded amount of work,
 * nothing sleeps and nothing here stops a container: a full disk or a dead
 * terminal only drops output, counts it and says so once on stderr. */
#ifndef SKIFF_LOGS_H
#define SKIFF_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "task.h"

#define SK_LOG_STDOUT 1
#define SK_LOG_STDERR 2

/* Longest line kept whole; a longer one is cut into records of this size
 * marked "partial" (docker uses the same 16 KiB). */
#define SK_LOG_LINE_MAX 16384u

/* Defaults of the rotation (docker's json-file options max-size/max-file). */
#define SK_LOG_DEFAULT_MAX_BYTES (10ull * 1024 * 1024)
#define SK_LOG_DEFAULT_MAX_FILES 3u
#define SK_LOG_MAX_FILES_LIMIT 100u

/* At most this many bytes are read from one pipe per drain call, so a
 * flooding container cannot starve the loop's other fds and timers. */
#define SK_LOG_DRAIN_BUDGET (4u * SK_LOG_LINE_MAX)

struct sk_log_opts
{
  bool prefix;        /* `name  | ` before each terminal line; false: pass bytes through */
  bool color;         /* ANSI colour on the prefix */
  uint64_t max_bytes; /* cap of one log file; 0 = no cap (no rotation) */
  unsigned max_files; /* files kept per container, the current one included (>= 1) */
  size_t name_width;  /* names are padded to this width (the longest name) */
  int out_fd;         /* the terminal for the containers' stdout (1) */
  int err_fd;         /* the terminal for stderr and skiff's notes (2) */
};

/* Defaults: prefix on, 10 MiB x 3 files, fds 1 and 2, colour when fd 1 is a
 * TTY and NO_COLOR is unset or empty. */
void sk_log_opts_init (struct sk_log_opts *o);

/* True when `fd` is a terminal and NO_COLOR (no-color.org) is unset or empty. */
bool sk_log_color_wanted (int fd);

/* The longest container name of the task: the width to pad names to. */
size_t sk_log_name_width (const struct sk_task *task);

/* Apply a container's logConfiguration: for the json-file (or local) driver
 * the options max-size ("10m", "-1" = no cap) and max-file set the cap;
 * every other driver is logged locally with the defaults (the parser already
 * warned), so its options are ignored. */
int sk_log_opts_apply_config (struct sk_log_opts *o, const struct sk_log_config *config,
                              sk_err_t *err);

/* Parse a docker-style size: "512", "512k", "10m", "1g", "1.5g", "10MB",
 * "10MiB" (binary units, case-insensitive). Returns 0, or -1 with errno
 * EINVAL (not a size) or ERANGE (too big). */
int sk_log_parse_size (const char *text, uint64_t *bytes);

/* One per container: its log file and the line buffers of both streams. */
struct sk_log_sink;

/* A sink appending to `<dir>/<container>.log`; `color_index` picks the
 * prefix colour from a fixed palette (use the container's index in the
 * task). The options are copied. Nothing is created here: `dir` (its parent
 * must exist) and the file are made on the first record, so a container that
 * prints nothing has no log file; failing to make them later only drops
 * records (counted, reported once). Fails only for a container name that is
 * not a file name. */
int sk_log_sink_open (const char *dir, const char *container, unsigned color_index,
                      const struct sk_log_opts *o, struct sk_log_sink **out, sk_err_t *err);

/* Create the pipe of a stream (SK_LOG_STDOUT or SK_LOG_STDERR): the sink keeps
 * the non-blocking read end; *container_end receives the write end, with
 * O_CLOEXEC set (dup2 it onto the child's fd 1/2, which clears the flag).
 * Called again after the stream reached EOF (a restart), it starts afresh. */
int sk_log_sink_pipe (struct sk_log_sink *s, int stream, int *container_end, sk_err_t *err);

/* The read end the loop watches for EPOLLIN (level-triggered), -1 when the
 * stream has no pipe or reached EOF. */
int sk_log_fd (const struct sk_log_sink *s, int stream);

/* The read end is readable or hung up: read at most SK_LOG_DRAIN_BUDGET bytes
 * and write the complete lines out. Returns 0 while the pipe is open (call
 * again when epoll says so), 1 at EOF or on a read error: the remainder was
 * flushed and the read end closed, which also removes it from epoll (only the
 * sink holds it), so do not EPOLL_CTL_DEL it afterwards. */
int sk_log_sink_drain (struct sk_log_sink *s, int stream, uint64_t now_realtime_ns);

/* Skiff's own line about this container (an event): to the err terminal with
 * the prefix, and to the file with stream "skiff". */
void sk_log_sink_note (struct sk_log_sink *s, const char *text, uint64_t now_realtime_ns);

/* Bytes that could not be written to the log file / to the terminal. */
uint64_t sk_log_sink_dropped_file (const struct sk_log_sink *s);
uint64_t sk_log_sink_dropped_terminal (const struct sk_log_sink *s);

/* Path of the current log file (owned by the sink). */
const char *sk_log_sink_path (const struct sk_log_sink *s);

/* Flush buffered partial lines, close every fd, report dropped bytes on the
 * err terminal, free. NULL is a no-op. */
void sk_log_sink_close (struct sk_log_sink *s);

/* The realtime clock in nanoseconds, for the now_realtime_ns arguments. */
uint64_t sk_log_now (void);

/* The end of a line skiff itself writes on `fd` (an event, a note, a
 * prefixed line): "\r\n" while skiff's terminal is raw (sk_term_is_raw) and
 * `fd` is a terminal without output processing, which would not add the CR
 * itself; else "\n". */
const char *sk_log_line_end (int fd);

#endif
