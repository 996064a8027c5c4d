/* The CLI: one small file per command (cmd_*.c), each parsing its options
 * and calling into the library layers. Only launcher/ calls exit(). */
#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

#include <stdbool.h>

/* Exit codes (docs/errors.md). */
enum
{
  SK_EXIT_OK = 0,
  SK_EXIT_INVALID = 1,   /* validate: a file is not a valid task definition */
  SK_EXIT_TIMEOUT = 124, /* --timeout ran out */
  SK_EXIT_SKIFF = 125,   /* skiff's own error: usage, set-up, configuration */
  SK_EXIT_CANNOT_EXEC = 126,
  SK_EXIT_NOT_FOUND = 127,
};

/* Options that come before the command name. */
struct sk_global
{
  const char *root; /* --root / SKIFF_ROOT, default /run/skiff */
  int verbose;      /* --debug */
  const char *prog; /* argv[0] for messages */
};

typedef int (*sk_cmd_fn) (struct sk_global *g, int argc, char **argv);

int cmd_validate (struct sk_global *g, int argc, char **argv);
int cmd_run (struct sk_global *g, int argc, char **argv);

/* Detached tasks (docs/cli.md): cmd_detached.c, cmd_tasks.c, cmd_logs.c,
 * cmd_exec.c. */
int cmd_ps (struct sk_global *g, int argc, char **argv);
int cmd_inspect (struct sk_global *g, int argc, char **argv);
int cmd_stop (struct sk_global *g, int argc, char **argv);
int cmd_kill (struct sk_global *g, int argc, char **argv);
int cmd_rm (struct sk_global *g, int argc, char **argv);
int cmd_wait (struct sk_global *g, int argc, char **argv);
int cmd_gc (struct sk_global *g, int argc, char **argv);
int cmd_logs (struct sk_global *g, int argc, char **argv);
int cmd_events (struct sk_global *g, int argc, char **argv);
int cmd_stats (struct sk_global *g, int argc, char **argv);
int cmd_exec (struct sk_global *g, int argc, char **argv);
/* Hidden: the processes of a detached task. */
int cmd_monitor (struct sk_global *g, int argc, char **argv);
int cmd_supervise (struct sk_global *g, int argc, char **argv);

struct sk_run_request;
/* `run -d`: record the task, start its monitor, print the id. */
int sk_run_detach (struct sk_global *g, int argc, char **argv, const char *name,
                   const struct sk_run_request *req);
/* `run --__task ID`: the supervisor of a detached task; 0 once it ended. */
int sk_supervise_detached (struct sk_global *g, const char *id, struct sk_run_request *req);
char *sk_detached_spec_path (const struct sk_global *g, const char *id);
struct sk_task;
/* Relative image paths of a recorded task resolve where `run -d` found it. */
void sk_detached_load_source_dir (const char *task_dir, struct sk_task *task);
/* Re-adopt every detached task whose monitor is gone (any command does). */
void sk_tasks_reconcile (const char *root);
int cmd_pull (struct sk_global *g, int argc, char **argv);
int cmd_images (struct sk_global *g, int argc, char **argv);
int cmd_rmi (struct sk_global *g, int argc, char **argv);
int cmd_image (struct sk_global *g, int argc, char **argv);

/* Print "skiff COMMAND: message" and the hint to use --help; returns 125. */
int sk_usage_error (const char *command, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
