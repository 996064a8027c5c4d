/* Manifest, index and config documents. The JSON tree reader is spec/'s
 * (spec/json.h), so yajl stays behind one file. */
#include "image_manifest.h"
#include "image_ref.h"
#include "json.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

static struct sk_json *
parse_doc (const char *body, size_t len, const char *what, sk_err_t *err)
{
  struct sk_diags diags = { 0 };
  struct sk_json *root;

  if (len > SK_JSON_MAX_BYTES)
    {
      sk_err_set (err, EFBIG, "%s is larger than %u bytes", what, SK_JSON_MAX_BYTES);
      return NULL;
    }
  root = sk_json_parse (body, len, what, &diags);
  if (root == NULL || diags.n_errors > 0)
    {
      sk_err_set (err, EINVAL, "%s is not valid JSON%s%s", what, diags.n > 0 ? ": " : "",
                  diags.n > 0 ? diags.v[0].text : "");
      sk_json_free (root);
      sk_diags_clear (&diags);
      return NULL;
    }
  sk_diags_clear (&diags);
  if (root->type != SK_JSON_OBJECT)
    {
      sk_json_free (root);
      sk_err_set (err, EINVAL, "%s is not a JSON object", what);
      return NULL;
    }
  return root;
}

static char *
get_string (const struct sk_json *obj, const char *key)
{
  const struct sk_json *v = obj != NULL ? sk_json_get (obj, key) : NULL;

  if (v == NULL || v->type != SK_JSON_STRING || memchr (v->text, '\0', v->len) != NULL)
    return NULL;
  return xstrndup (v->text, v->len);
}

/* A string array; NULL when absent, null or not all strings. */
static char **
get_strv (const struct sk_json *obj, const char *key)
{
  const struct sk_json *v = obj != NULL ? sk_json_get (obj, key) : NULL;
  char **out;

  if (v == NULL || v->type != SK_JSON_ARRAY)
    return NULL;
  out = xzalloc ((v->n + 1) * sizeof *out);
  for (size_t i = 0; i < v->n; i++)
    {
      if (v->items[i]->type != SK_JSON_STRING)
        {
          sk_strv_free (out);
          return NULL;
        }
      out[i] = xstrndup (v->items[i]->text, v->items[i]->len);
    }
  return out;
}

static int
parse_descriptor (const struct sk_json *obj, const char *where, struct sk_descriptor *d,
                  sk_err_t *err)
{
  const struct sk_json *size, *platform;

  if (obj == NULL || obj->type != SK_JSON_OBJECT)
    return sk_err_set (err, EINVAL, "%s: expected an object", where);
  d->media_type = get_string (obj, "mediaType");
  d->digest = get_string (obj, "digest");
  if (!sk_digest_is_valid (d->digest))
    return sk_err_set (err, EINVAL, "%s: missing or unsupported digest `%s` (sha256 only)", where,
                       d->digest != NULL ? d->digest : "");
  size = sk_json_get (obj, "size");
  if (size == NULL || size->type != SK_JSON_NUMBER || !size->in_range || size->integer < 0)
    return sk_err_set (err, EINVAL, "%s: missing or invalid size", where);
  d->size = size->integer;
  platform = sk_json_get (obj, "platform");
  if (platform != NULL && platform->type == SK_JSON_OBJECT)
    {
      d->os = get_string (platform, "os");
      d->arch = get_string (platform, "architecture");
      d->variant = get_string (platform, "variant");
    }
  return 0;
}

bool
sk_manifest_is_index (const char *body, size_t len, const char *content_type)
{
  struct sk_diags diags = { 0 };
  struct sk_json *root;
  _cleanup_free_ char *mt = NULL;
  bool is_index;

  if (content_type != NULL
      && (strstr (content_type, SK_MT_OCI_INDEX) || strstr (content_type, SK_MT_DOCKER_LIST)))
    return true;
  root = sk_json_parse (body, len, "manifest", &diags);
  sk_diags_clear (&diags);
  if (root == NULL)
    return false;
  mt = get_string (root, "mediaType");
  if (mt != NULL)
    is_index = strcmp (mt, SK_MT_OCI_INDEX) == 0 || strcmp (mt, SK_MT_DOCKER_LIST) == 0;
  else
    is_index = sk_json_get (root, "manifests") != NULL && sk_json_get (root, "layers") == NULL;
  sk_json_free (root);
  return is_index;
}

int
sk_manifest_parse (const char *body, size_t len, struct sk_manifest *out, sk_err_t *err)
{
  struct sk_json *root;
  const struct sk_json *layers, *version;
  int r = -1;

  memset (out, 0, sizeof *out);
  root = parse_doc (body, len, "manifest", err);
  if (root == NULL)
    return -1;
  version = sk_json_get (root, "schemaVersion");
  if (version != NULL && version->type == SK_JSON_NUMBER && version->in_range
      && version->integer == 1)
    {
      sk_err_set (err, ENOTSUP,
                  "manifest schema 1 is deprecated and not supported: push the image again with a "
                  "current client");
      goto out;
    }
  out->media_type = get_string (root, "mediaType");
  if (out->media_type != NULL && strcmp (out->media_type, SK_MT_OCI_MANIFEST) != 0
      && strcmp (out->media_type, SK_MT_DOCKER_MANIFEST) != 0)
    {
      sk_err_set (err, ENOTSUP, "manifest media type `%s` is not supported", out->media_type);
      goto out;
    }
  if (parse_descriptor (sk_json_get (root, "config"), "manifest config", &out->config, err) < 0)
    goto out;
  layers = sk_json_get (root, "layers");
  if (layers == NULL || layers->type != SK_JSON_ARRAY)
    {
      sk_err_set (err, EINVAL, "manifest has no layers array");
      goto out;
    }
  out->layers = xzalloc ((layers->n + 1) * sizeof *out->layers);
  for (size_t i = 0; i < layers->n; i++)
    {
      char where[48];
      snprintf (where, sizeof where, "manifest layers[%zu]", i);
      out->n_layers = i + 1;
      if (parse_descriptor (layers->items[i], where, &out->layers[i], err) < 0)
        goto out;
    }
  r = 0;
out:
  sk_json_free (root);
  if (r < 0)
    sk_manifest_clear (out);
  return r;
}

int
sk_index_parse (const char *body, size_t len, struct sk_index *out, sk_err_t *err)
{
  struct sk_json *root;
  const struct sk_json *list;
  int r = -1;

  memset (out, 0, sizeof *out);
  root = parse_doc (body, len, "image index", err);
  if (root == NULL)
    return -1;
  list = sk_json_get (root, "manifests");
  if (list == NULL || list->type != SK_JSON_ARRAY)
    {
      sk_err_set (err, EINVAL, "image index has no manifests array");
      goto out;
    }
  out->manifests = xzalloc ((list->n + 1) * sizeof *out->manifests);
  for (size_t i = 0; i < list->n; i++)
    {
      char where[48];
      snprintf (where, sizeof where, "index manifests[%zu]", i);
      out->n = i + 1;
      if (parse_descriptor (list->items[i], where, &out->manifests[i], err) < 0)
        goto out;
    }
  r = 0;
out:
  sk_json_free (root);
  if (r < 0)
    sk_index_clear (out);
  return r;
}

int
sk_image_config_parse (const char *body, size_t len, struct sk_image_config *out, sk_err_t *err)
{
  struct sk_json *root;
  const struct sk_json *cfg, *hc;

  memset (out, 0, sizeof *out);
  root = parse_doc (body, len, "image config", err);
  if (root == NULL)
    return -1;
  out->os = get_string (root, "os");
  out->arch = get_string (root, "architecture");
  cfg = sk_json_get (root, "config");
  if (cfg != NULL && cfg->type == SK_JSON_OBJECT)
    {
      out->entrypoint = get_strv (cfg, "Entrypoint");
      out->cmd = get_strv (cfg, "Cmd");
      out->env = get_strv (cfg, "Env");
      out->working_dir = get_string (cfg, "WorkingDir");
      out->user = get_string (cfg, "User");
      out->stop_signal = get_string (cfg, "StopSignal");
      hc = sk_json_get (cfg, "Healthcheck");
      if (hc != NULL && hc->type == SK_JSON_OBJECT)
        out->healthcheck = get_strv (hc, "Test");
      /* Empty strings mean "not set", as in Docker. */
      if (out->working_dir != NULL && out->working_dir[0] == '\0')
        out->working_dir = (free (out->working_dir), NULL);
      if (out->user != NULL && out->user[0] == '\0')
        out->user = (free (out->user), NULL);
      if (out->stop_signal != NULL && out->stop_signal[0] == '\0')
        out->stop_signal = (free (out->stop_signal), NULL);
    }
  sk_json_free (root);
  if (out->os != NULL && strcmp (out->os, "linux") != 0)
    {
      sk_err_set (err, ENOEXEC, "image is for `%s`, not linux", out->os);
      sk_image_config_clear (out);
      return -1;
    }
  return 0;
}

void
sk_host_platform (const char **arch, const char **variant)
{
  struct utsname u;

  *variant = NULL;
  if (uname (&u) < 0)
    {
      *arch = "amd64";
      return;
    }
  if (strcmp (u.machine, "x86_64") == 0)
    *arch = "amd64";
  else if (strcmp (u.machine, "aarch64") == 0)
    *arch = "arm64", *variant = "v8";
  else if (strncmp (u.machine, "armv7", 5) == 0)
    *arch = "arm", *variant = "v7";
  else if (strcmp (u.machine, "i686") == 0 || strcmp (u.machine, "i386") == 0)
    *arch = "386";
  else if (strcmp (u.machine, "ppc64le") == 0)
    *arch = "ppc64le";
  else if (strcmp (u.machine, "s390x") == 0)
    *arch = "s390x";
  else if (strcmp (u.machine, "riscv64") == 0)
    *arch = "riscv64";
  else
    *arch = "amd64";
}

const char *
sk_ecs_arch_to_oci (const char *ecs_arch)
{
  if (ecs_arch == NULL)
    return NULL;
  if (strcasecmp (ecs_arch, "X86_64") == 0)
    return "amd64";
  if (strcasecmp (ecs_arch, "ARM64") == 0)
    return "arm64";
  return NULL;
}

int
sk_index_select (const struct sk_index *idx, const char *arch, const char *variant,
                 const struct sk_descriptor **out, sk_err_t *err)
{
  const struct sk_descriptor *fallback = NULL;
  _cleanup_free_ char *offered = xstrdup ("");

  for (size_t i = 0; i < idx->n; i++)
    {
      const struct sk_descriptor *d = &idx->manifests[i];
      char *next;

      if (d->os == NULL || d->arch == NULL)
        continue;
      if (strcmp (d->os, "linux") == 0 && strcmp (d->arch, arch) == 0)
        {
          /* An exact variant wins; an entry without a variant is next. */
          if (variant == NULL || (d->variant != NULL && strcmp (d->variant, variant) == 0))
            {
              *out = d;
              return 0;
            }
          if (fallback == NULL || d->variant == NULL)
            fallback = d;
        }
      next = xasprintf ("%s%s%s/%s%s%s", offered, offered[0] ? ", " : "", d->os, d->arch,
                        d->variant ? "/" : "", d->variant ? d->variant : "");
      free (offered);
      offered = next;
    }
  if (fallback != NULL)
    {
      *out = fallback;
      return 0;
    }
  return sk_err_set (err, ENOEXEC,
                     "no image for linux/%s%s%s in the index (it offers: %s); pick another tag, "
                     "or set runtimePlatform.cpuArchitecture to one it offers on a host that can "
                     "run it",
                     arch, variant ? "/" : "", variant ? variant : "",
                     offered[0] ? offered : "nothing with a platform");
}

void
sk_descriptor_clear (struct sk_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  free (d->os);
  free (d->arch);
  free (d->variant);
  memset (d, 0, sizeof *d);
}

void
sk_manifest_clear (struct sk_manifest *m)
{
  free (m->media_type);
  sk_descriptor_clear (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    sk_descriptor_clear (&m->layers[i]);
  free (m->layers);
  memset (m, 0, sizeof *m);
}

void
sk_index_clear (struct sk_index *idx)
{
  for (size_t i = 0; i < idx->n; i++)
    sk_descriptor_clear (&idx->manifests[i]);
  free (idx->manifests);
  memset (idx, 0, sizeof *idx);
}

void
sk_image_config_clear (struct sk_image_config *c)
{
  free (c->os);
  free (c->arch);
  sk_strv_free (c->entrypoint);
  sk_strv_free (c->cmd);
  sk_strv_free (c->env);
  free (c->working_dir);
  free (c->user);
  free (c->stop_signal);
  sk_strv_free (c->healthcheck);
  memset (c, 0, sizeof *c);
}
