/* Getting an image into the store: from a registry, an OCI layout or a
 * docker-archive tarball. Each blob is verified before it lands. */
#ifndef SKIFF_IMAGE_PULL_H
#define SKIFF_IMAGE_PULL_H

#include "error.h"
#include "image_store.h"

#include <stdbool.h>

enum sk_pull_policy
{
  SK_PULL_MISSING = 0, /* default: pull when the store has no such name */
  SK_PULL_ALWAYS,
  SK_PULL_NEVER,
};

struct sk_pull_opts
{
  const char *arch;    /* OCI architecture; NULL = the host's */
  const char *variant; /* NULL = the host's (when arch is NULL) */
  bool quiet;          /* no progress output */
};

int sk_pull_policy_parse (const char *text, enum sk_pull_policy *out);

/* --insecure-registry HOST: appended to $SKIFF_INSECURE_REGISTRIES, which
 * the registry client reads (registry.h). */
void sk_insecure_registry_add (const char *host);

/* The name a reference is stored under ("docker.io/library/nginx:1.27",
 * "oci:/abs/layout:tag", "docker-archive:/abs/file.tar"). task_dir resolves
 * relative paths (NULL: the current directory). */
int sk_image_store_name (const char *ref, const char *task_dir, char **name, sk_err_t *err);

/* Pull / import ref into the store (the caller holds the shared store
 * lock). *manifest_digest receives the image's manifest digest. */
int sk_image_pull (struct sk_store *s, const char *ref, const char *task_dir,
                   const struct sk_pull_opts *o, char **manifest_digest, sk_err_t *err);

#endif
