/* Terminals for containers and `skiff exec -t`: a pty pair made by skiff
 * (the container gets the slave as stdin/stdout/stderr and makes it its
 * controlling terminal), the user's own terminal in raw mode while bytes
 * are relayed (restored on every way out), and the window size followed
 * (TIOCGWINSZ on the user's terminal, TIOCSWINSZ on the master, again on
 * every SIGWINCH). docs/cli.md, "Terminals". */
#ifndef SKIFF_PTY_H
#define SKIFF_PTY_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* A new pty. *master: O_RDWR|O_NOCTTY|O_CLOEXEC (and O_NONBLOCK when
 * `nonblock`); *slave: the other end opened here, O_NOCTTY|O_CLOEXEC (so the
 * pty lives before any container process does); *slave_path: its name in
 * skiff's /dev/pts (free it), NULL to not ask. The window size is copied from
 * the user's terminal when there is one, else it is 24x80. */
int sk_pty_open (bool nonblock, int *master, int *slave, char **slave_path, sk_err_t *err);

/* skiff's terminal whose size is followed: stdout when it is a terminal,
 * else stdin, else stderr; -1 when none is. */
int sk_term_fd (void);

/* Copy the window size of the user's terminal (sk_term_fd) to `master`;
 * nothing when there is no terminal. */
void sk_pty_copy_winsize (int master);

/* Put the terminal on `fd` in raw mode (cfmakeraw), as `docker run -it`
 * does, so that every key (Ctrl-C too) goes to the container as a byte.
 * Only when `fd` is a terminal and skiff is in its foreground process group
 * (a background skiff would be stopped by SIGTTOU). The old mode is restored
 * by sk_term_restore, and at exit in any case (atexit). True when raw. */
bool sk_term_make_raw (int fd);
void sk_term_restore (void);
/* True while skiff's terminal is raw: a line skiff itself prints there
 * then needs "\r\n" to start at the left margin. */
bool sk_term_is_raw (void);

/* A signalfd of SIGWINCH (which stays blocked from now on), CLOEXEC and
 * non-blocking; -1 with err on failure. */
int sk_winch_fd (sk_err_t *err);

/* Read what is pending on the SIGWINCH signalfd; true when a signal came
 * (the caller then copies the window size). */
bool sk_winch_consume (int winch_fd);

/* Move the bytes readable on `from` to the pty `master` (blocking or not,
 * waiting a bounded time for room). Returns false at end of input: for a
 * pty that is an end-of-file character, sent once here, so a reading
 * program sees EOF as it would from a keyboard's Ctrl-D. */
bool sk_pty_forward_input (int from, int master);

/* `skiff exec -t`: relay between the user's terminal (stdin/stdout) and
 * `master` until the process of `pidfd` exited and the pty is drained.
 * The terminal is raw meanwhile when `input` (docker exec -it) and
 * restored afterwards. */
void sk_pty_relay (int master, int pidfd, bool input);

/* The terminals of a task's containers (launcher/supervise.c): one object
 * per attempt. It relays skiff's stdin to the first interactive
 * pseudoTerminal container and the window size to every pseudoTerminal
 * container; it has one fd for the supervisor's epoll (never ready when
 * there is nothing to relay), whose readiness sk_task_tty_dispatch handles. */
struct sk_task_tty;
struct sk_log_sink;

/* `n` containers; `user_terminal`: skiff's stdin/stdout are the user's
 * (a foreground task), else nothing of skiff's own terminal is touched. */
int sk_task_tty_new (size_t n, bool user_terminal, struct sk_task_tty **out, sk_err_t *err);
int sk_task_tty_fd (const struct sk_task_tty *t);

/* Container `idx` is about to (re)start on a new pty: its master becomes
 * the stdout stream of `log` (sk_log_fd(log, SK_LOG_STDOUT) reads it; the
 * log file and skiff's stdout get the output, no stderr stream), *slave is
 * for the container's stdin, stdout and stderr (the caller closes it once
 * the container runs), *slave_path its name (owned by `t`, valid until the
 * next open of `idx`). `input`: skiff's stdin goes to this container (the
 * first interactive one), and a terminal on stdin turns raw. */
int sk_task_tty_open (struct sk_task_tty *t, size_t idx, struct sk_log_sink *log, bool input,
                      int *slave, const char **slave_path, sk_err_t *err);
/* A resumed supervisor of a detached task: container `idx` still runs on
 * the pty whose master is `master` (taken over: closed on failure too),
 * installed on `log` as sk_task_tty_open does. */
int sk_task_tty_adopt (struct sk_task_tty *t, size_t idx, struct sk_log_sink *log, int master,
                       sk_err_t *err);
void sk_task_tty_dispatch (struct sk_task_tty *t);
/* Closes everything and restores the terminal. NULL is a no-op. */
void sk_task_tty_free (struct sk_task_tty *t);

#endif
