/* Reference parsing: Docker's grammar (distribution/reference) in our own
 * small hand-written form, and the transport prefixes. */
#include "image_ref.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_TOTAL 255
#define TAG_MAX 128

enum sk_transport
sk_transport_of (const char *text, const char **rest)
{
  static const struct
  {
    const char *prefix;
    enum sk_transport t;
  } prefixes[] = {
    { "dir:", SK_TRANSPORT_DIR },
    { "oci:", SK_TRANSPORT_OCI },
    { "docker-archive:", SK_TRANSPORT_DOCKER_ARCHIVE },
    { "docker://", SK_TRANSPORT_REGISTRY },
  };

  for (size_t i = 0; i < SK_ARRAY_SIZE (prefixes); i++)
    {
      size_t n = strlen (prefixes[i].prefix);
      if (strncmp (text, prefixes[i].prefix, n) == 0)
        {
          *rest = text + n;
          return prefixes[i].t;
        }
    }
  *rest = text;
  return SK_TRANSPORT_REGISTRY;
}

bool
sk_digest_is_valid (const char *digest)
{
  if (digest == NULL || strncmp (digest, "sha256:", 7) != 0 || strlen (digest) != 7 + 64)
    return false;
  for (const char *p = digest + 7; *p != '\0'; p++)
    if (!isdigit ((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  return true;
}

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool
component_is_valid (const char *s, size_t n)
{
  size_t i = 0;

  if (n == 0 || !is_lower_alnum (s[0]) || !is_lower_alnum (s[n - 1]))
    return false;
  while (i < n)
    {
      if (is_lower_alnum (s[i]))
        {
          i++;
          continue;
        }
      if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_'))
        i++;
      else if (s[i] == '_' && s[i + 1] == '_')
        i += 2;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i >= n || !is_lower_alnum (s[i]))
        return false;
    }
  return true;
}

/* host[:port]: DNS labels or an IPv4 address, or [IPv6]. */
static bool
domain_is_valid (const char *s, size_t n)
{
  size_t host_end = n;
  const char *colon;

  if (n == 0)
    return false;
  if (s[0] == '[')
    {
      const char *close = memchr (s, ']', n);
      if (close == NULL)
        return false;
      host_end = (size_t)(close - s) + 1;
      for (size_t i = 1; i + 1 < host_end; i++)
        if (!isxdigit ((unsigned char)s[i]) && s[i] != ':')
          return false;
    }
  else
    {
      colon = memchr (s, ':', n);
      if (colon != NULL)
        host_end = (size_t)(colon - s);
      if (host_end == 0)
        return false;
      for (size_t i = 0; i < host_end; i++)
        if (!isalnum ((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
          return false;
      if (s[0] == '-' || s[0] == '.' || s[host_end - 1] == '-' || s[host_end - 1] == '.')
        return false;
    }
  if (host_end < n)
    {
      if (s[host_end] != ':' || host_end + 1 == n)
        return false;
      for (size_t i = host_end + 1; i < n; i++)
        if (!isdigit ((unsigned char)s[i]))
          return false;
    }
  return true;
}

static bool
tag_is_valid (const char *t)
{
  size_t n = strlen (t);

  if (n == 0 || n > TAG_MAX)
    return false;
  if (!isalnum ((unsigned char)t[0]) && t[0] != '_')
    return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum ((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
      return false;
  return true;
}

/* Docker: the first component is a registry when it has a '.' or ':', is
 * "localhost", or has an upper-case letter (repositories cannot). */
static bool
looks_like_domain (const char *s, size_t n)
{
  if (n == 9 && strncmp (s, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || isupper ((unsigned char)s[i]))
      return true;
  return false;
}

int
sk_image_ref_parse (const char *text, struct sk_image_ref *out, sk_err_t *err)
{
  _cleanup_free_ char *name = NULL;
  _cleanup_free_ char *domain = NULL;
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *tag = NULL;
  _cleanup_free_ char *digest = NULL;
  const char *at, *slash, *last_slash, *colon, *remainder;

  memset (out, 0, sizeof *out);
  if (text == NULL || text[0] == '\0')
    return sk_err_set (err, EINVAL, "empty image reference");

  at = strchr (text, '@');
  if (at != NULL)
    {
      digest = xstrdup (at + 1);
      if (!sk_digest_is_valid (digest))
        return sk_err_set (err, EINVAL,
                           "image `%s`: invalid digest `%s` (expected sha256: and 64 hex digits)",
                           text, digest);
      name = xstrndup (text, (size_t)(at - text));
    }
  else
    name = xstrdup (text);

  /* A tag is after the last ':' that follows the last '/'. */
  last_slash = strrchr (name, '/');
  colon = strrchr (last_slash != NULL ? last_slash : name, ':');
  if (colon != NULL)
    {
      tag = xstrdup (colon + 1);
      name[colon - name] = '\0';
      if (!tag_is_valid (tag))
        return sk_err_set (err, EINVAL, "image `%s`: invalid tag `%s`", text, tag);
    }
  if (name[0] == '\0')
    return sk_err_set (err, EINVAL, "image `%s`: empty repository name", text);

  slash = strchr (name, '/');
  if (slash != NULL && looks_like_domain (name, (size_t)(slash - name)))
    {
      domain = xstrndup (name, (size_t)(slash - name));
      remainder = slash + 1;
      if (!domain_is_valid (domain, strlen (domain)))
        return sk_err_set (err, EINVAL, "image `%s`: invalid registry host `%s`", text, domain);
    }
  else
    {
      domain = xstrdup ("docker.io");
      remainder = name;
    }
  if (strcmp (domain, "index.docker.io") == 0)
    {
      free (domain);
      domain = xstrdup ("docker.io");
    }
  if (strcmp (domain, "docker.io") == 0 && strchr (remainder, '/') == NULL)
    path = xasprintf ("library/%s", remainder);
  else
    path = xstrdup (remainder);

  for (const char *p = path;;)
    {
      const char *end = strchr (p, '/');
      size_t n = end != NULL ? (size_t)(end - p) : strlen (p);
      for (size_t i = 0; i < n; i++)
        if (isupper ((unsigned char)p[i]))
          return sk_err_set (err, EINVAL, "image `%s`: repository name must be lowercase", text);
      if (!component_is_valid (p, n))
        return sk_err_set (err, EINVAL, "image `%s`: invalid repository name component `%.*s`",
                           text, (int)n, p);
      if (end == NULL)
        break;
      p = end + 1;
    }
  if (strlen (domain) + 1 + strlen (path) > NAME_MAX_TOTAL)
    return sk_err_set (err, EINVAL, "image `%s`: repository name longer than %d characters", text,
                       NAME_MAX_TOTAL);

  if (tag == NULL && digest == NULL)
    tag = xstrdup ("latest");
  out->domain = steal_pointer (&domain);
  out->path = steal_pointer (&path);
  out->tag = steal_pointer (&tag);
  out->digest = steal_pointer (&digest);
  return 0;
}

void
sk_image_ref_clear (struct sk_image_ref *ref)
{
  free (ref->domain);
  free (ref->path);
  free (ref->tag);
  free (ref->digest);
  memset (ref, 0, sizeof *ref);
}

char *
sk_image_ref_format (const struct sk_image_ref *ref)
{
  return xasprintf ("%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                    ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                    ref->digest ? ref->digest : "");
}

char *
sk_image_ref_repo (const struct sk_image_ref *ref)
{
  return xasprintf ("%s/%s", ref->domain, ref->path);
}

const char *
sk_image_ref_api_host (const struct sk_image_ref *ref)
{
  if (strcmp (ref->domain, "docker.io") == 0)
    return "registry-1.docker.io";
  return ref->domain;
}

void
sk_oci_ref_split (const char *arg, char **path, char **tag)
{
  const char *colon = strrchr (arg, ':');

  if (colon != NULL && colon != arg && strchr (colon, '/') == NULL && colon[1] != '\0')
    {
      *path = xstrndup (arg, (size_t)(colon - arg));
      *tag = xstrdup (colon + 1);
    }
  else
    {
      *path = xstrdup (arg);
      *tag = NULL;
    }
}
