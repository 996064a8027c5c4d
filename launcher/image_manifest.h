/* OCI / Docker v2 schema 2 manifests, indexes (manifest lists) and image
 * configs: parsed into plain structs, and the platform choice. */
#ifndef SKIFF_IMAGE_MANIFEST_H
#define SKIFF_IMAGE_MANIFEST_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define SK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SK_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define SK_MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define SK_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

struct sk_descriptor
{
  char *media_type;
  char *digest;
  int64_t size;
  /* index entries only */
  char *os;
  char *arch;
  char *variant;
};

struct sk_manifest
{
  char *media_type;
  struct sk_descriptor config;
  size_t n_layers;
  struct sk_descriptor *layers; /* bottom first */
};

struct sk_index
{
  size_t n;
  struct sk_descriptor *manifests;
};

/* The defaults an image config gives a container. */
struct sk_image_config
{
  char *os;
  char *arch;
  char **entrypoint;
  char **cmd;
  char **env;
  char *working_dir;
  char *user;
  char *stop_signal;
  char **healthcheck; /* Healthcheck.Test, kept for `skiff images --inspect` */
};

/* True when the document is an index / manifest list (by mediaType, or by
 * shape when mediaType is absent). */
bool sk_manifest_is_index (const char *body, size_t len, const char *content_type);

int sk_manifest_parse (const char *body, size_t len, struct sk_manifest *out, sk_err_t *err);
int sk_index_parse (const char *body, size_t len, struct sk_index *out, sk_err_t *err);
int sk_image_config_parse (const char *body, size_t len, struct sk_image_config *out,
                           sk_err_t *err);

/* The host's platform in OCI words ("amd64", "arm64", ...; variant or NULL). */
void sk_host_platform (const char **arch, const char **variant);
/* ECS runtimePlatform.cpuArchitecture (X86_64, ARM64) in OCI words, or NULL. */
const char *sk_ecs_arch_to_oci (const char *ecs_arch);

/* The entry of idx for linux/arch[/variant]; the error lists what the index
 * offers. */
int sk_index_select (const struct sk_index *idx, const char *arch, const char *variant,
                     const struct sk_descriptor **out, sk_err_t *err);

void sk_descriptor_clear (struct sk_descriptor *d);
void sk_manifest_clear (struct sk_manifest *m);
void sk_index_clear (struct sk_index *idx);
void sk_image_config_clear (struct sk_image_config *c);

#endif
