/* skiff images: list the image store; skiff image prune: clean it. */
#include "cli.h"
#include "error.h"
#include "image_progress.h"
#include "image_store.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int
fail (sk_err_t *err)
{
  sk_err_print (err);
  sk_err_free (err);
  return SK_EXIT_SKIFF;
}

int
cmd_images (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct sk_store s;
  sk_err_t err = NULL;
  _cleanup_strv_ char **names = NULL;
  _cleanup_strv_ char **digests = NULL;
  bool quiet = false;
  int c;

  while ((c = getopt_long (argc, argv, "+qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'q':
        quiet = true;
        break;
      case 'h':
        printf ("Usage: skiff images [-q]\n\nList the images in the store: name, manifest "
                "digest, size.\n  -q  names only\n");
        return SK_EXIT_OK;
      default:
        return sk_usage_error ("images", "unknown option '%s'", argv[optind - 1]);
      }
  if (sk_store_open (g->root, &s, &err) < 0)
    return fail (&err);
  if (sk_store_lock (&s, false, &err) < 0 || sk_store_list_refs (&s, &names, &digests, &err) < 0)
    {
      sk_store_close (&s);
      return fail (&err);
    }
  if (!quiet)
    printf ("%-60s %-19s %10s\n", "IMAGE", "DIGEST", "SIZE");
  for (size_t i = 0; names[i] != NULL; i++)
    {
      uint64_t size = 0;
      char sz[32];
      sk_err_t ignored = NULL;

      if (quiet)
        {
          printf ("%s\n", names[i]);
          continue;
        }
      if (sk_store_image_size (&s, digests[i], &size, &ignored) < 0)
        {
          sk_err_free (&ignored);
          snprintf (sz, sizeof sz, "?");
        }
      else
        sk_format_bytes (size, sz, sizeof sz);
      printf ("%-60s sha256:%.12s %10s\n", names[i], digests[i] + 7, sz);
    }
  sk_store_unlock (&s);
  sk_store_close (&s);
  return SK_EXIT_OK;
}

static int
image_prune (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct sk_store s;
  struct sk_prune_report rep;
  sk_err_t err = NULL;
  bool all = false;
  int c;
  char freed[32];

  optind = 0;
  while ((c = getopt_long (argc, argv, "+ah", opts, NULL)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      case 'h':
        printf ("Usage: skiff image prune [-a]\n\nRemove images no name refers to (with -a: "
                "every image), then every blob\nand unpacked layer no remaining image needs. "
                "Images a running task uses\nare kept.\n");
        return SK_EXIT_OK;
      default:
        return sk_usage_error ("image prune", "unknown option '%s'", argv[optind - 1]);
      }
  if (sk_store_open (g->root, &s, &err) < 0)
    return fail (&err);
  /* Exclusive: waits for pulls and task starts in progress. */
  if (sk_store_lock (&s, true, &err) < 0 || sk_store_prune (&s, all, &rep, &err) < 0)
    {
      sk_store_close (&s);
      return fail (&err);
    }
  sk_store_unlock (&s);
  sk_store_close (&s);
  sk_format_bytes (rep.bytes, freed, sizeof freed);
  printf ("Removed %zu images, %zu blobs, %zu unpacked layers; freed %s\n", rep.images, rep.blobs,
          rep.layers, freed);
  return SK_EXIT_OK;
}

int
cmd_image (struct sk_global *g, int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "prune") == 0)
    return image_prune (g, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp (argv[1], "ls") == 0 || strcmp (argv[1], "list") == 0))
    return cmd_images (g, argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "rm") == 0)
    return cmd_rmi (g, argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "pull") == 0)
    return cmd_pull (g, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      printf ("Usage: skiff image COMMAND\n\n  ls      list images (skiff images)\n"
              "  pull    pull images (skiff pull)\n  rm      remove images (skiff rmi)\n"
              "  prune   remove unused images and layers\n");
      return SK_EXIT_OK;
    }
  return sk_usage_error ("image", "expected ls, pull, rm or prune");
}
