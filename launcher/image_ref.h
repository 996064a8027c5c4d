/* Image references: the transport prefix (skopeo's naming) and registry
 * references parsed the way Docker parses them. Pure: no I/O. */
#ifndef SKIFF_IMAGE_REF_H
#define SKIFF_IMAGE_REF_H

#include "error.h"

#include <stdbool.h>

enum sk_transport
{
  SK_TRANSPORT_REGISTRY,       /* "nginx:1.27", "docker://..." */
  SK_TRANSPORT_DIR,            /* "dir:PATH" */
  SK_TRANSPORT_OCI,            /* "oci:PATH[:TAG]" */
  SK_TRANSPORT_DOCKER_ARCHIVE, /* "docker-archive:PATH" */
};

/* docker.io/library/nginx:1.27@sha256:... split into its parts. */
struct sk_image_ref
{
  char *domain; /* "docker.io", "127.0.0.1:5000" */
  char *path;   /* "library/nginx" */
  char *tag;    /* NULL when only a digest was given */
  char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Which transport `text` names, and where its argument starts. */
enum sk_transport sk_transport_of (const char *text, const char **rest);

/* Parse a registry reference. Defaults as Docker: docker.io, library/ for
 * one-component names on Docker Hub, tag "latest" when neither tag nor digest
 * is given. */
int sk_image_ref_parse (const char *text, struct sk_image_ref *out, sk_err_t *err);
void sk_image_ref_clear (struct sk_image_ref *ref);

/* "domain/path:tag@digest" (the parts present), newly allocated. */
char *sk_image_ref_format (const struct sk_image_ref *ref);
/* "domain/path" */
char *sk_image_ref_repo (const struct sk_image_ref *ref);
/* The host to talk to: registry-1.docker.io for docker.io. */
const char *sk_image_ref_api_host (const struct sk_image_ref *ref);

/* oci:PATH[:TAG] -> PATH and TAG (NULL when absent). A ':' only starts the
 * tag when what follows has no '/', as in skopeo. */
void sk_oci_ref_split (const char *arg, char **path, char **tag);

/* "sha256:" + 64 lowercase hex digits. */
bool sk_digest_is_valid (const char *digest);

#endif
