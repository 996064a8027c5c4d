/* skiff pull: put an image into the store. */
#include "cli.h"
#include "error.h"
#include "image_manifest.h"
#include "image_pull.h"
#include "image_store.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
pull_help (FILE *out)
{
  fprintf (out, "Usage: skiff pull [OPTIONS] IMAGE...\n"
                "\n"
                "Pull registry images (NAME[:TAG][@DIGEST]) or import oci:PATH[:TAG] and\n"
                "docker-archive:PATH into the image store under the skiff root.\n"
                "\n"
                "Options:\n"
                "      --platform ARCH       architecture to choose from a multi-platform image\n"
                "                            (amd64, arm64, ...; default: this host's)\n"
                "      --insecure-registry HOST  plain HTTP for HOST[:PORT] (local registries)\n"
                "  -q, --quiet               no progress output\n"
                "  -h, --help                this text\n"
                "\n"
                "Credentials come from $DOCKER_CONFIG/config.json or ~/.docker/config.json.\n");
}

int
cmd_pull (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "insecure-registry", required_argument, NULL, 'K' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct sk_pull_opts po = { 0 };
  struct sk_store s;
  sk_err_t err = NULL;
  int c, code = SK_EXIT_OK;

  while ((c = getopt_long (argc, argv, "+:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        po.arch = optarg;
        break;
      case 'K':
        sk_insecure_registry_add (optarg);
        break;
      case 'q':
        po.quiet = true;
        break;
      case 'h':
        pull_help (stdout);
        return SK_EXIT_OK;
      case ':':
        return sk_usage_error ("pull", "option '%s' needs an argument", argv[optind - 1]);
      default:
        return sk_usage_error ("pull", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind >= argc)
    return sk_usage_error ("pull", "no image given");
  if (sk_store_open (g->root, &s, &err) < 0)
    {
      sk_err_print (&err);
      sk_err_free (&err);
      return SK_EXIT_SKIFF;
    }
  for (int i = optind; i < argc; i++)
    {
      _cleanup_free_ char *digest = NULL;
      if (sk_store_lock (&s, false, &err) < 0
          || sk_image_pull (&s, argv[i], NULL, &po, &digest, &err) < 0)
        {
          sk_err_print (&err);
          sk_err_free (&err);
          code = SK_EXIT_SKIFF;
        }
      else if (po.quiet)
        printf ("%s\n", digest);
      sk_store_unlock (&s);
    }
  sk_store_close (&s);
  return code;
}
