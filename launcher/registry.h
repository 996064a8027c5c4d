/* A Docker Registry HTTP API v2 / OCI distribution client over libcurl:
 * anonymous and credentialed bearer tokens, basic auth, redirects to blob
 * storage, retries with backoff, plain HTTP only when asked. */
#ifndef SKIFF_REGISTRY_H
#define SKIFF_REGISTRY_H

#include "error.h"
#include "image_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sk_registry;

/* host[:port] and repository path ("library/nginx"). insecure: plain HTTP. */
int sk_registry_open (const char *host, const char *repo, bool insecure, struct sk_registry **out,
                      sk_err_t *err);
void sk_registry_free (struct sk_registry *r);

/* GET /v2/<repo>/manifests/<reference>; *content_type may be NULL. */
int sk_registry_get_manifest (struct sk_registry *r, const char *reference, char **body,
                              size_t *len, char **content_type, sk_err_t *err);

typedef void (*sk_progress_fn) (void *ctx, uint64_t done, uint64_t total);

/* GET /v2/<repo>/blobs/<digest> into w (rewound on retries). */
int sk_registry_get_blob (struct sk_registry *r, const char *digest, struct sk_blob_writer *w,
                          sk_progress_fn progress, void *ctx, sk_err_t *err);

/* Is host listed in $SKIFF_INSECURE_REGISTRIES (comma-separated host[:port])? */
bool sk_registry_is_insecure (const char *host);

/* Credentials for host from $DOCKER_CONFIG/config.json or ~/.docker/config.json
 * (`auths`: "auth" base64 user:password, or username/password). */
int sk_registry_credentials (const char *host, char **user, char **password, sk_err_t *err);

#endif
