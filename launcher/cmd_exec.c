/* skiff exec: a command inside a running container of a detached task. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int
cmd_exec (struct sk_global *g, int argc, char **argv)
{
  (void)g;
  if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      printf ("Usage: skiff exec [-c CONTAINER] [-i] [-t] TASK -- COMMAND [ARG...]\n\n"
              "Not implemented yet (docs/cli.md).\n");
      return SK_EXIT_OK;
    }
  fprintf (stderr, "skiff exec: not implemented yet\n");
  return SK_EXIT_SKIFF;
}
