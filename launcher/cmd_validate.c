/* skiff validate [--print] [--allow-unknown-keys] [--quiet] FILE... */
#include "cli.h"
#include "restart.h"
#include "spec.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
print_usage (FILE *out)
{
  fprintf (out,
           "Usage: skiff validate [OPTIONS] FILE...\n"
           "\n"
           "Check ECS task definition files (register input, describe-task-definition output,\n"
           "or a bare array of container definitions; FILE `-` is standard input). Every error\n"
           "of every file is reported on stderr, with warnings for AWS-only fields.\n"
           "\n"
           "Options:\n"
           "  --print               print the normalized task (defaults filled in) as JSON\n"
           "  --allow-unknown-keys  unknown keys are warnings, not errors (newer ECS files)\n"
           "  --family NAME         family for a bare array (default: the file's base name)\n"
           "  --quiet               no \"FILE: valid\" lines and no warnings\n"
           "  --help                this text\n"
           "\n"
           "Exit status: 0 every file is valid, 1 a file is not, 125 usage error.\n");
}

int
cmd_validate (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "print", no_argument, NULL, 'p' },        { "allow-unknown-keys", no_argument, NULL, 'u' },
    { "family", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
  };
  struct sk_load_opts load = { 0 };
  bool print = false, quiet = false;
  int status = SK_EXIT_OK;
  int c;

  while ((c = getopt_long (argc, argv, "+:hq", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        print = true;
        break;
      case 'u':
        load.unknown_keys_are_warnings = true;
        break;
      case 'f':
        load.family = optarg;
        break;
      case 'q':
        quiet = true;
        break;
      case 'h':
        print_usage (stdout);
        return SK_EXIT_OK;
      case ':':
        return sk_usage_error ("validate", "option '%s' needs an argument", argv[optind - 1]);
      default:
        return sk_usage_error ("validate", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind >= argc)
    return sk_usage_error ("validate", "no task definition file given");

  for (int i = optind; i < argc; i++)
    {
      struct sk_diags diags = { 0 };
      struct sk_task *task = NULL;
      _cleanup_err_ sk_err_t err = NULL;

      int loaded = sk_task_load_file (argv[i], &load, &task, &diags, &err);
      /* skiff's own dockerLabels (skiff.restart.*) are checked here too: a
       * typo there must fail validation as any other would. */
      for (size_t k = 0; loaded == 0 && k < task->n_containers; k++)
        {
          struct sk_restart_policy_x policy;
          size_t first = diags.n;
          if (sk_restart_policy_from_container (&task->containers[k], &policy, &diags) < 0)
            loaded = -1;
          sk_restart_policy_x_clear (&policy);
          for (size_t d = first; d < diags.n; d++)
            {
              /* Same shape as the parser's lines: the file first. */
              char *text = xasprintf ("%s: %s", argv[i], diags.v[d].text);
              free (diags.v[d].text);
              diags.v[d].text = text;
            }
        }
      if (loaded < 0)
        {
          sk_diags_print (&diags, stderr);
          if (diags.n_errors == 0)
            sk_err_print (&err); /* I/O error: not in diags */
          else
            fprintf (stderr, "%s: invalid (%zu error%s)\n", argv[i], diags.n_errors,
                     diags.n_errors == 1 ? "" : "s");
          status = SK_EXIT_INVALID;
        }
      else
        {
          if (!quiet)
            sk_diags_print (&diags, stderr);
          if (print)
            {
              _cleanup_free_ char *json = sk_task_to_json (task, true);
              fputs (json, stdout);
            }
          else if (!quiet)
            printf ("%s: valid\n", argv[i]);
        }
      sk_task_free (task);
      sk_diags_clear (&diags);
    }
  (void)g;
  return status;
}
