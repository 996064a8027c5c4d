/* Registry client. One curl handle per repository; every request goes
 * through request(), which adds the current Authorization header, answers a
 * 401 challenge once (bearer token or basic), and retries transient
 * failures with exponential backoff. */
#include "registry.h"
#include "imagelibs.h"
#include "json.h"
#include "spec.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAX (4u * 1024u * 1024u)
#define ATTEMPTS 4

struct sk_registry
{
  const struct sk_curl_lib *cu;
  const struct sk_crypto_lib *cr;
  CURL *curl;
  char *host;
  char *repo;
  char *base; /* "https://host/v2/repo" */
  bool insecure;
  char *auth_header; /* "Authorization: ..." or NULL */
  char *user;
  char *password;
};

struct response
{
  long status;
  char *challenge;    /* WWW-Authenticate of the last response */
  char *content_type; /* of the last response */
  /* body: memory ... */
  char *buf;
  size_t len;
  size_t max;
  /* ... or a blob writer */
  struct sk_blob_writer *w;
  int write_errno;
  sk_progress_fn progress;
  void *progress_ctx;
};

static void
response_reset (struct response *rs)
{
  free (rs->challenge);
  free (rs->content_type);
  free (rs->buf);
  rs->challenge = rs->content_type = rs->buf = NULL;
  rs->len = 0;
  rs->status = 0;
  rs->write_errno = 0;
}

static size_t
on_header (char *data, size_t size, size_t n, void *ctx)
{
  struct response *rs = ctx;
  size_t len = size * n;
  char **slot = NULL;
  size_t skip = 0;

  /* A new status line: redirects and retries start a new header set. */
  if (len >= 5 && strncmp (data, "HTTP/", 5) == 0)
    {
      free (rs->challenge);
      free (rs->content_type);
      rs->challenge = rs->content_type = NULL;
      if (sscanf (data, "HTTP/%*s %ld", &rs->status) != 1)
        rs->status = 0;
    }
  else if (len > 17 && strncasecmp (data, "WWW-Authenticate:", 17) == 0)
    slot = &rs->challenge, skip = 17;
  else if (len > 13 && strncasecmp (data, "Content-Type:", 13) == 0)
    slot = &rs->content_type, skip = 13;
  if (slot != NULL)
    {
      const char *v = data + skip;
      size_t vlen = len - skip;
      while (vlen > 0 && (*v == ' ' || *v == '\t'))
        v++, vlen--;
      while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
      free (*slot);
      *slot = xstrndup (v, vlen);
    }
  return len;
}

static size_t
on_body (char *data, size_t size, size_t n, void *ctx)
{
  struct response *rs = ctx;
  size_t len = size * n;

  /* Error bodies (and redirect bodies) never reach a blob. */
  if (rs->w != NULL && rs->status != 200)
    return len;
  if (rs->w != NULL)
    {
      sk_err_t e = NULL;
      if (sk_blob_write (rs->w, data, len, &e) < 0)
        {
          rs->write_errno = e != NULL && e->errnum ? e->errnum : EIO;
          sk_err_free (&e);
          return 0;
        }
      return len;
    }
  if (rs->len + len > rs->max)
    {
      rs->write_errno = EFBIG;
      return 0;
    }
  rs->buf = xrealloc (rs->buf, rs->len + len + 1);
  memcpy (rs->buf + rs->len, data, len);
  rs->len += len;
  rs->buf[rs->len] = '\0';
  return len;
}

static int
on_progress (void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  struct response *rs = ctx;

  if (rs->progress != NULL && rs->status == 200)
    rs->progress (rs->progress_ctx, (uint64_t)dlnow, (uint64_t)dltotal);
  return 0;
}

bool
sk_registry_is_insecure (const char *host)
{
  const char *list = getenv ("SKIFF_INSECURE_REGISTRIES");
  _cleanup_free_ char *copy = NULL;
  char *save = NULL;

  if (list == NULL)
    return false;
  copy = xstrdup (list);
  for (char *t = strtok_r (copy, ", ", &save); t != NULL; t = strtok_r (NULL, ", ", &save))
    if (strcmp (t, host) == 0)
      return true;
  return false;
}

static char *
read_small_file (const char *path, size_t max)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  ssize_t n;

  if (fd < 0 || fstat (fd, &st) < 0 || (size_t)st.st_size > max)
    return NULL;
  buf = xmalloc ((size_t)st.st_size + 1);
  n = read (fd, buf, (size_t)st.st_size);
  if (n < 0)
    {
      free (buf);
      return NULL;
    }
  buf[n] = '\0';
  return buf;
}

static const struct sk_json *
find_auth (const struct sk_json *auths, const char *host)
{
  const char *hub[]
      = { "https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io" };
  bool is_hub = strcmp (host, "docker.io") == 0 || strcmp (host, "registry-1.docker.io") == 0;

  for (size_t i = 0; i < auths->n; i++)
    {
      const char *k = auths->members[i].key;
      const char *bare = k;
      if (strncmp (bare, "https://", 8) == 0)
        bare += 8;
      else if (strncmp (bare, "http://", 7) == 0)
        bare += 7;
      size_t blen = strcspn (bare, "/");
      if (strlen (host) == blen && strncmp (bare, host, blen) == 0)
        return auths->members[i].value;
      if (is_hub)
        for (size_t j = 0; j < SK_ARRAY_SIZE (hub); j++)
          if (strcmp (k, hub[j]) == 0)
            return auths->members[i].value;
    }
  return NULL;
}

int
sk_registry_credentials (const char *host, char **user, char **password, sk_err_t *err)
{
  const char *dir = getenv ("DOCKER_CONFIG");
  const char *home = getenv ("HOME");
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *text = NULL;
  struct sk_diags diags = { 0 };
  struct sk_json *root;
  const struct sk_json *auths, *entry, *v;
  const struct sk_crypto_lib *cr;

  *user = *password = NULL;
  if (dir != NULL && dir[0] != '\0')
    path = xasprintf ("%s/config.json", dir);
  else if (home != NULL)
    path = xasprintf ("%s/.docker/config.json", home);
  else
    return 0;
  text = read_small_file (path, 1u << 20);
  if (text == NULL)
    return 0;
  root = sk_json_parse (text, strlen (text), path, &diags);
  sk_diags_clear (&diags);
  if (root == NULL)
    return sk_err_set (err, EINVAL, "credentials file `%s` is not valid JSON", path);
  auths = sk_json_get (root, "auths");
  entry = auths != NULL && auths->type == SK_JSON_OBJECT ? find_auth (auths, host) : NULL;
  if (entry != NULL && entry->type == SK_JSON_OBJECT)
    {
      v = sk_json_get (entry, "auth");
      if (v != NULL && v->type == SK_JSON_STRING && v->len > 0)
        {
          if (sk_crypto_load (&cr, err) < 0)
            {
              sk_json_free (root);
              return -1;
            }
          unsigned char *dec = xzalloc (v->len + 4);
          int n = cr->EVP_DecodeBlock (dec, (const unsigned char *)v->text, (int)v->len);
          char *colon;
          if (n > 0)
            {
              /* EVP_DecodeBlock counts '=' padding as zero bytes. */
              while (n > 0 && dec[n - 1] == '\0')
                n--;
              dec[n] = '\0';
              colon = strchr ((char *)dec, ':');
              if (colon != NULL)
                {
                  *user = xstrndup ((char *)dec, (size_t)(colon - (char *)dec));
                  *password = xstrdup (colon + 1);
                }
            }
          free (dec);
        }
      if (*user == NULL)
        {
          const struct sk_json *u = sk_json_get (entry, "username");
          const struct sk_json *p = sk_json_get (entry, "password");
          if (u != NULL && p != NULL && u->type == SK_JSON_STRING && p->type == SK_JSON_STRING)
            {
              *user = xstrndup (u->text, u->len);
              *password = xstrndup (p->text, p->len);
            }
        }
    }
  sk_json_free (root);
  return 0;
}

int
sk_registry_open (const char *host, const char *repo, bool insecure, struct sk_registry **out,
                  sk_err_t *err)
{
  const struct sk_curl_lib *cu;
  const struct sk_crypto_lib *cr;
  struct sk_registry *r;

  /* libcurl itself needs libcrypto: loading both costs no more. */
  if (sk_curl_load (&cu, err) < 0 || sk_crypto_load (&cr, err) < 0)
    return -1;
  r = xzalloc (sizeof *r);
  r->cu = cu;
  r->cr = cr;
  r->curl = cu->curl_easy_init ();
  if (r->curl == NULL)
    {
      free (r);
      return sk_err_set (err, ENOMEM, "curl_easy_init");
    }
  r->host = xstrdup (host);
  r->repo = xstrdup (repo);
  r->insecure = insecure;
  r->base = xasprintf ("%s://%s/v2/%s", insecure ? "http" : "https", host, repo);
  if (sk_registry_credentials (host, &r->user, &r->password, err) < 0)
    {
      sk_registry_free (r);
      return -1;
    }
  *out = r;
  return 0;
}

void
sk_registry_free (struct sk_registry *r)
{
  if (r == NULL)
    return;
  r->cu->curl_easy_cleanup (r->curl);
  free (r->host);
  free (r->repo);
  free (r->base);
  free (r->auth_header);
  free (r->user);
  if (r->password != NULL)
    explicit_bzero (r->password, strlen (r->password));
  free (r->password);
  free (r);
}

/* key="value" from a WWW-Authenticate challenge. */
static char *
challenge_param (const char *challenge, const char *key)
{
  size_t klen = strlen (key);

  for (const char *p = challenge; (p = strcasestr (p, key)) != NULL; p += klen)
    {
      const char *v, *end;
      if (p != challenge && isalnum ((unsigned char)p[-1]))
        continue;
      if (p[klen] != '=')
        continue;
      v = p + klen + 1;
      if (*v == '"')
        {
          v++;
          end = strchr (v, '"');
        }
      else
        end = v + strcspn (v, ", ");
      if (end == NULL)
        return NULL;
      return xstrndup (v, (size_t)(end - v));
    }
  return NULL;
}

static void
setup_common (struct sk_registry *r, struct response *rs, struct curl_slist *headers)
{
  CURL *c = r->curl;

  r->cu->curl_easy_reset (c);
  r->cu->curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  r->cu->curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
  r->cu->curl_easy_setopt (c, CURLOPT_MAXREDIRS, 5L);
  r->cu->curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, r->insecure ? "http,https" : "https");
  r->cu->curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, r->insecure ? "http,https" : "https");
  r->cu->curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  r->cu->curl_easy_setopt (c, CURLOPT_HEADERDATA, rs);
  r->cu->curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  r->cu->curl_easy_setopt (c, CURLOPT_WRITEDATA, rs);
  r->cu->curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
  r->cu->curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, on_progress);
  r->cu->curl_easy_setopt (c, CURLOPT_XFERINFODATA, rs);
  r->cu->curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 15L);
  /* Abort a transfer that stalls below 1 KiB/s for 30 s. */
  r->cu->curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  r->cu->curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 30L);
  r->cu->curl_easy_setopt (c, CURLOPT_USERAGENT, "skiff/" SKIFF_VERSION);
  r->cu->curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
}

static bool
transient_curl (CURLcode rc)
{
  switch (rc)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
    }
}

static int
curl_failure (struct sk_registry *r, CURLcode rc, const char *errbuf, const char *what,
              sk_err_t *err)
{
  const char *detail = errbuf[0] ? errbuf : r->cu->curl_easy_strerror (rc);

  switch (rc)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
      return sk_err_set (err, ENETUNREACH,
                         "registry `%s` is unreachable (%s): check the network, a proxy "
                         "(HTTPS_PROXY) and the registry name; an image pulled earlier runs "
                         "offline with --pull never",
                         r->host, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return sk_err_set (err, EPROTO,
                         "TLS with registry `%s` failed (%s); for a plain-HTTP registry on this "
                         "host, opt in with --insecure-registry %s",
                         r->host, detail, r->host);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return sk_err_set (err, EPROTO, "%s: redirected to a protocol skiff does not follow (%s)",
                         what, detail);
    default:
      return sk_err_set (err, EIO, "%s from `%s`: %s", what, r->host, detail);
    }
}

static int fetch_token (struct sk_registry *r, const char *challenge, sk_err_t *err);

/* One HTTP GET with auth and retries. rs->status holds the final status. */
static int
request (struct sk_registry *r, const char *url, const char *accept, struct response *rs,
         const char *what, sk_err_t *err)
{
  bool authed = false;
  int attempt = 0;

  for (;;)
    {
      struct curl_slist *headers = NULL;
      char errbuf[CURL_ERROR_SIZE] = "";
      CURLcode rc;
      _cleanup_free_ char *accept_header = NULL;
      sk_err_t ignored = NULL;

      if (accept != NULL)
        {
          accept_header = xasprintf ("Accept: %s", accept);
          headers = r->cu->curl_slist_append (headers, accept_header);
        }
      /* curl drops a custom Authorization header when a redirect leaves the
       * host, so blob storage never sees registry credentials. */
      if (r->auth_header != NULL)
        headers = r->cu->curl_slist_append (headers, r->auth_header);
      response_reset (rs);
      if (rs->w != NULL && sk_blob_rewind (rs->w, &ignored) < 0)
        {
          r->cu->curl_slist_free_all (headers);
          *err = ignored;
          return -1;
        }
      setup_common (r, rs, headers);
      r->cu->curl_easy_setopt (r->curl, CURLOPT_URL, url);
      r->cu->curl_easy_setopt (r->curl, CURLOPT_ERRORBUFFER, errbuf);
      rc = r->cu->curl_easy_perform (r->curl);
      r->cu->curl_easy_getinfo (r->curl, CURLINFO_RESPONSE_CODE, &rs->status);
      r->cu->curl_slist_free_all (headers);

      if (rs->write_errno != 0 && rs->write_errno != EFBIG)
        {
          if (rs->write_errno == ENOSPC || rs->write_errno == EDQUOT)
            return sk_err_set (err, rs->write_errno,
                               "%s: the disk holding the image store is full: free space, or "
                               "remove unused images with `skiff image prune -a`",
                               what);
          return sk_err_set (err, rs->write_errno, "%s: write to the image store", what);
        }
      if (rs->write_errno == EFBIG)
        return sk_err_set (err, EFBIG, "%s: response larger than %zu bytes", what, rs->max);
      if (rc != CURLE_OK)
        {
          if (transient_curl (rc) && ++attempt < ATTEMPTS)
            goto backoff;
          return curl_failure (r, rc, errbuf, what, err);
        }
      if (rs->status == 401 && !authed && rs->challenge != NULL)
        {
          authed = true;
          if (fetch_token (r, rs->challenge, err) < 0)
            return -1;
          continue;
        }
      if ((rs->status >= 500 || rs->status == 429 || rs->status == 408) && ++attempt < ATTEMPTS)
        goto backoff;
      return 0;
    backoff:
      {
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 250000000L };
        for (int i = 1; i < attempt; i++)
          {
            ts.tv_nsec *= 2;
            if (ts.tv_nsec >= 1000000000L)
              ts.tv_sec += 1, ts.tv_nsec -= 1000000000L;
          }
        nanosleep (&ts, NULL);
      }
    }
}

static int
fetch_token (struct sk_registry *r, const char *challenge, sk_err_t *err)
{
  _cleanup_free_ char *realm = NULL;
  _cleanup_free_ char *service = NULL;
  _cleanup_free_ char *scope = NULL;
  _cleanup_free_ char *url = NULL;
  struct response rs = { .max = 1u << 20 };
  struct sk_diags diags = { 0 };
  struct sk_json *root = NULL;
  const struct sk_json *tok;
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode rc;
  int ret = -1;

  if (strncasecmp (challenge, "Basic", 5) == 0)
    {
      _cleanup_free_ char *pair = NULL;
      unsigned char *enc;
      if (r->user == NULL)
        return sk_err_set (err, EACCES,
                           "registry `%s` wants a login: add credentials for it to "
                           "~/.docker/config.json (or $DOCKER_CONFIG/config.json)",
                           r->host);
      pair = xasprintf ("%s:%s", r->user, r->password);
      enc = xzalloc (4 * (strlen (pair) / 3 + 2));
      r->cr->EVP_EncodeBlock (enc, (const unsigned char *)pair, (int)strlen (pair));
      free (r->auth_header);
      r->auth_header = xasprintf ("Authorization: Basic %s", (char *)enc);
      free (enc);
      return 0;
    }
  if (strncasecmp (challenge, "Bearer", 6) != 0)
    return sk_err_set (err, EPROTO, "registry `%s`: unsupported authentication `%s`", r->host,
                       challenge);
  realm = challenge_param (challenge, "realm");
  service = challenge_param (challenge, "service");
  scope = challenge_param (challenge, "scope");
  if (realm == NULL)
    return sk_err_set (err, EPROTO, "registry `%s`: bearer challenge without a realm", r->host);
  {
    char *esc_service = service ? r->cu->curl_easy_escape (r->curl, service, 0) : NULL;
    _cleanup_free_ char *default_scope = xasprintf ("repository:%s:pull", r->repo);
    char *esc_scope = r->cu->curl_easy_escape (r->curl, scope ? scope : default_scope, 0);
    url = xasprintf ("%s%sscope=%s%s%s", realm, strchr (realm, '?') ? "&" : "?", esc_scope,
                     esc_service ? "&service=" : "", esc_service ? esc_service : "");
    r->cu->curl_free (esc_service);
    r->cu->curl_free (esc_scope);
  }
  setup_common (r, &rs, headers);
  r->cu->curl_easy_setopt (r->curl, CURLOPT_URL, url);
  r->cu->curl_easy_setopt (r->curl, CURLOPT_ERRORBUFFER, errbuf);
  if (r->user != NULL)
    {
      r->cu->curl_easy_setopt (r->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
      r->cu->curl_easy_setopt (r->curl, CURLOPT_USERNAME, r->user);
      r->cu->curl_easy_setopt (r->curl, CURLOPT_PASSWORD, r->password);
    }
  rc = r->cu->curl_easy_perform (r->curl);
  r->cu->curl_easy_getinfo (r->curl, CURLINFO_RESPONSE_CODE, &rs.status);
  if (rc != CURLE_OK)
    {
      curl_failure (r, rc, errbuf, "token request", err);
      goto out;
    }
  if (rs.status == 401 || rs.status == 403)
    {
      sk_err_set (err, EACCES,
                  "registry `%s` refused the %s token request: check the credentials for it in "
                  "~/.docker/config.json (or $DOCKER_CONFIG/config.json)",
                  r->host, r->user ? "credentials of the" : "anonymous");
      goto out;
    }
  if (rs.status != 200 || rs.buf == NULL)
    {
      sk_err_set (err, EPROTO, "token request to `%s` answered HTTP %ld", realm, rs.status);
      goto out;
    }
  root = sk_json_parse (rs.buf, rs.len, "token response", &diags);
  tok = root != NULL ? sk_json_get (root, "token") : NULL;
  if (tok == NULL || tok->type != SK_JSON_STRING)
    tok = root != NULL ? sk_json_get (root, "access_token") : NULL;
  if (tok == NULL || tok->type != SK_JSON_STRING || tok->len == 0
      || memchr (tok->text, '\n', tok->len) || memchr (tok->text, '\r', tok->len))
    {
      sk_err_set (err, EPROTO, "token response from `%s` has no token", realm);
      goto out;
    }
  free (r->auth_header);
  r->auth_header = xasprintf ("Authorization: Bearer %.*s", (int)tok->len, tok->text);
  ret = 0;
out:
  sk_json_free (root);
  sk_diags_clear (&diags);
  response_reset (&rs);
  return ret;
}

static int
status_error (struct sk_registry *r, long status, const char *what, const char *object,
              sk_err_t *err)
{
  if (status == 401 || status == 403)
    return sk_err_set (err, EACCES,
                       "unauthorized: `%s/%s` refused %s: log in (credentials for `%s` in "
                       "~/.docker/config.json or $DOCKER_CONFIG/config.json), or check the name "
                       "(a registry answers unauthorized for repositories that do not exist, too)",
                       r->host, r->repo, what, r->host);
  if (status == 404)
    return sk_err_set (err, ENOENT,
                       "%s `%s` not found in `%s/%s`: check the repository name and tag", what,
                       object, r->host, r->repo);
  if (status == 429)
    return sk_err_set (err, EAGAIN,
                       "registry `%s` rate-limits us (HTTP 429): wait and retry, or log in for a "
                       "higher limit",
                       r->host);
  return sk_err_set (err, EPROTO, "%s `%s` from `%s`: HTTP %ld", what, object, r->host, status);
}

int
sk_registry_get_manifest (struct sk_registry *r, const char *reference, char **body, size_t *len,
                          char **content_type, sk_err_t *err)
{
  static const char accept[] = "application/vnd.oci.image.index.v1+json, "
                               "application/vnd.docker.distribution.manifest.list.v2+json, "
                               "application/vnd.oci.image.manifest.v1+json, "
                               "application/vnd.docker.distribution.manifest.v2+json";
  _cleanup_free_ char *url = xasprintf ("%s/manifests/%s", r->base, reference);
  struct response rs = { .max = MANIFEST_MAX };

  if (request (r, url, accept, &rs, "manifest", err) < 0)
    {
      response_reset (&rs);
      return -1;
    }
  if (rs.status != 200)
    {
      long status = rs.status;
      response_reset (&rs);
      return status_error (r, status, "manifest", reference, err);
    }
  *body = rs.buf != NULL ? rs.buf : xstrdup ("");
  *len = rs.len;
  rs.buf = NULL;
  if (content_type != NULL)
    *content_type = steal_pointer (&rs.content_type);
  response_reset (&rs);
  return 0;
}

int
sk_registry_get_blob (struct sk_registry *r, const char *digest, struct sk_blob_writer *w,
                      sk_progress_fn progress, void *ctx, sk_err_t *err)
{
  _cleanup_free_ char *url = xasprintf ("%s/blobs/%s", r->base, digest);
  struct response rs = { .max = 64u * 1024u, .w = w, .progress = progress, .progress_ctx = ctx };

  if (request (r, url, NULL, &rs, "blob", err) < 0)
    {
      response_reset (&rs);
      return -1;
    }
  if (rs.status != 200)
    {
      long status = rs.status;
      response_reset (&rs);
      return status_error (r, status, "blob", digest, err);
    }
  response_reset (&rs);
  return 0;
}
