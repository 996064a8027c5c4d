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
int cmd_pull (struct sk_global *g, int argc, char **argv);
int cmd_images (struct sk_global *g, int argc, char **argv);
int cmd_rmi (struct sk_global *g, int argc, char **argv);
int cmd_image (struct sk_global *g, int argc, char **argv);

/* Print "skiff COMMAND: message" and the hint to use --help; returns 125. */
int sk_usage_error (const char *command, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
