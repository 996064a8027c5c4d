/* probe: what the verb files share (output, parsing) and the verbs. */
#ifndef SKIFF_PROBE_H
#define SKIFF_PROBE_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A verb's exit status. */
#define EXIT_REFUSED 1 /* EPERM, EACCES, EROFS: the sandbox said no */
#define EXIT_FAILED 2
#define EXIT_USAGE 64

extern int json_mode;

/* Every result goes through emit: `key=value`, or one JSON member. */
void emit (const char *key, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Print `key=ERRNAME` and map errno to a verb's exit status. */
int emit_errno (const char *key, int err);
const char *errname (int err);
/* Copy a file to stdout verbatim (in JSON mode: as one member). */
int dump_file (const char *key, const char *path);
/* Emit the named `Field:` lines of /proc/self/status. */
int emit_status_fields (const char *const *fields);
int parse_int (const char *s, long *out);
int parse_signal (const char *s);
const char *signame (int sig);
void sleep_seconds (double seconds);

int verb_pid (char **argv);
int verb_ppid (char **argv);
int verb_hostname (char **argv);
int verb_ns (char **argv);
int verb_id (char **argv);
int verb_caps (char **argv);
int verb_nnp (char **argv);
int verb_seccomp (char **argv);
int verb_cgroup (char **argv);
int verb_limits (char **argv);
int verb_try_syscall (char **argv);
int verb_rofs (char **argv);
int verb_read (char **argv);
int verb_write (char **argv);
int verb_stat (char **argv);
int verb_ls (char **argv);
int verb_mounts (char **argv);
int verb_fds (char **argv);
int verb_env (char **argv);
int verb_cwd (char **argv);
int verb_umask (char **argv);
int verb_args (char **argv);
int verb_rlimit (char **argv);
int verb_net (char **argv);
int verb_exit (char **argv);
int verb_kill_self (char **argv);
int verb_segv (char **argv);
int verb_sleep (char **argv);
int verb_ignore_term (char **argv);
int verb_sig_wait (char **argv);
int verb_alloc (char **argv);
int verb_forkbomb (char **argv);
int verb_zombies (char **argv);
int verb_print (char **argv);
int verb_eprint (char **argv);

#endif
