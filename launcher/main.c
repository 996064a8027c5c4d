/* skiff: run ECS task definitions on one Linux host, no daemon. */
#include "cli.h"
#include "error.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command
{
  const char *name;
  sk_cmd_fn fn;
  const char *summary;
};

static const struct command commands[] = {
  { "run", cmd_run, "run a task definition in the foreground" },
  { "validate", cmd_validate, "check task definition files; --print shows the normalized task" },
  { "ps", cmd_ps, "list detached tasks (-a: stopped ones too)" },
  { "inspect", cmd_inspect, "a detached task as JSON (ECS DescribeTasks-like)" },
  { "logs", cmd_logs, "the output of a detached task's containers" },
  { "events", cmd_events, "the supervisor's decisions for a task" },
  { "stop", cmd_stop, "stop a detached task" },
  { "kill", cmd_kill, "send a signal to a detached task's containers" },
  { "rm", cmd_rm, "remove a stopped task (-f: stop it first)" },
  { "wait", cmd_wait, "wait until a task stops; exit with its exit code" },
  { "exec", cmd_exec, "run a command inside a running container" },
  { "stats", cmd_stats, "cpu, memory and pids of a task's containers" },
  { "gc", cmd_gc, "clean what crashed skiff processes left behind" },
  { "__monitor", cmd_monitor, NULL },
  { "__supervise", cmd_supervise, NULL },
  { "pull", cmd_pull, "pull an image into the image store" },
  { "images", cmd_images, "list the images in the store" },
  { "rmi", cmd_rmi, "remove images from the store" },
  { "image", cmd_image, "image subcommands: ls, pull, rm, prune" },
};

static void
print_help (FILE *out)
{
  fprintf (out, "Usage: skiff [--root DIR] [--debug] COMMAND [OPTIONS] [ARGS]\n"
                "\n"
                "Run ECS task definitions as isolated containers on this host, with no daemon.\n"
                "\n"
                "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].summary != NULL)
      fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n"
                "Global options:\n"
                "  --root DIR   runtime state directory (default $SKIFF_ROOT or /run/skiff)\n"
                "  --debug      print debug messages\n"
                "  --cgroup-parent PATH  cgroup under which task groups are made (default\n"
                "               $SKIFF_CGROUP_PARENT or skiff)\n"
                "  --help       this text; `skiff COMMAND --help` for a command\n"
                "  --version    print the version\n"
                "\n"
                "Exit codes: 0 success, 1 invalid task definition (validate), 124 timeout,\n"
                "125 skiff error, 126 cannot execute, 127 not found, 128+n killed by signal n,\n"
                "otherwise the essential container's exit code. See docs/errors.md.\n");
}

int
sk_usage_error (const char *command, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "skiff%s%s: ", command ? " " : "", command ? command : "");
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry 'skiff%s%s --help'.\n", command ? " " : "", command ? command : "");
  return SK_EXIT_SKIFF;
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "debug", no_argument, NULL, 'd' },
    { "cgroup-parent", required_argument, NULL, 'C' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  struct sk_global g = { .root = getenv ("SKIFF_ROOT"), .prog = argv[0] };
  int c;

  if (g.root == NULL || g.root[0] == '\0')
    g.root = "/run/skiff";
  opterr = 0;
  /* '+': stop at the command name; its options belong to the command. */
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'r':
          g.root = optarg;
          break;
        case 'd':
          g.verbose++;
          break;
        case 'C':
          if (optarg[0] == '\0' || optarg[0] == '/' || strstr (optarg, "..") != NULL)
            return sk_usage_error (NULL,
                                   "--cgroup-parent must be a relative cgroup path without "
                                   "'..', got '%s'",
                                   optarg);
          setenv ("SKIFF_CGROUP_PARENT", optarg, 1);
          break;
        case 'h':
          print_help (stdout);
          return SK_EXIT_OK;
        case 'V':
          printf ("skiff %s\n", SKIFF_VERSION);
          return SK_EXIT_OK;
        case ':':
          return sk_usage_error (NULL, "option '%s' needs an argument", argv[optind - 1]);
        default:
          return sk_usage_error (NULL, "unknown option '%s'", argv[optind - 1]);
        }
    }
  if (optind >= argc)
    {
      print_help (stderr);
      return SK_EXIT_SKIFF;
    }
  if (g.root[0] != '/')
    return sk_usage_error (NULL, "--root must be an absolute path, got '%s'", g.root);

  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (argv[optind], commands[i].name) == 0)
      {
        /* Commands see argv[0] = their own name, and run getopt afresh. */
        int first = optind;
        argv += first;
        argc -= first;
        optind = 0;
        opterr = 0;
        return commands[i].fn (&g, argc, argv);
      }
  return sk_usage_error (NULL, "unknown command '%s'", argv[optind]);
}
