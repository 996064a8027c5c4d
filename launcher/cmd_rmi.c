/* skiff rmi: remove image names from the store (and the image when no
 * other name or running task needs it). */
#include "cli.h"
#include "error.h"
#include "image_pull.h"
#include "image_store.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>

int
cmd_rmi (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct sk_store s;
  sk_err_t err = NULL;
  int c, code = SK_EXIT_OK;
  struct sk_prune_report rep;

  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 'h':
        printf ("Usage: skiff rmi IMAGE...\n\nRemove the names from the image store; an image no "
                "name and no running task\nneeds is deleted with its unshared layers.\n");
        return SK_EXIT_OK;
      default:
        return sk_usage_error ("rmi", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind >= argc)
    return sk_usage_error ("rmi", "no image given");
  if (sk_store_open (g->root, &s, &err) < 0 || sk_store_lock (&s, true, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      if (s.dir != NULL)
        sk_store_close (&s);
      return SK_EXIT_SKIFF;
    }
  for (int i = optind; i < argc; i++)
    {
      _cleanup_free_ char *name = NULL;
      bool removed = false;
      if (sk_image_store_name (argv[i], NULL, &name, &err) < 0
          || sk_store_remove_image (&s, name, &removed, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
          code = SK_EXIT_SKIFF;
          continue;
        }
      printf ("Untagged: %s\n", name);
    }
  /* Sweep what the removed images alone used. */
  if (sk_store_prune (&s, false, &rep, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      code = SK_EXIT_SKIFF;
    }
  sk_store_unlock (&s);
  sk_store_close (&s);
  return code;
}
