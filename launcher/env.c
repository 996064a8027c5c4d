#include "env.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void
sk_env_set (char ***envp, size_t *n, const char *name, const char *value)
{
  size_t len = strlen (name);
  char *entry = xasprintf ("%s=%s", name, value);

  for (size_t i = 0; i < *n; i++)
    if (strncmp ((*envp)[i], name, len) == 0 && (*envp)[i][len] == '=')
      {
        free ((*envp)[i]);
        (*envp)[i] = entry;
        return;
      }
  *envp = xreallocarray (*envp, *n + 2, sizeof **envp);
  (*envp)[(*n)++] = entry;
  (*envp)[*n] = NULL;
}

/* "NAME=VALUE" into the list; a bare NAME is skipped (callers decide). */
static int
set_assignment (char ***envp, size_t *n, const char *assignment, const char *what, sk_err_t *err)
{
  const char *eq = strchr (assignment, '=');
  _cleanup_free_ char *name = NULL;

  if (eq == NULL || eq == assignment)
    return sk_err_set (err, 0, "%s: expected NAME=VALUE, got `%s`", what, assignment);
  name = xstrndup (assignment, (size_t)(eq - assignment));
  sk_env_set (envp, n, name, eq + 1);
  return 0;
}

/* Docker env-file format, which Fargate uses too: NAME=VALUE per line, no
 * quoting interpreted, `#` comments, a bare NAME takes skiff's own value. */
static int
read_env_file (const char *path, const char *task_dir, char ***envp, size_t *n, sk_err_t *err)
{
  _cleanup_free_ char *full = NULL;
  _cleanup_fclose_ FILE *f = NULL;
  _cleanup_free_ char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned lineno = 0;

  if (strncmp (path, "arn:", 4) == 0)
    return sk_err_set (err, 0,
                       "environmentFiles: `%s` is in S3, which skiff cannot read; download it "
                       "and give its local path",
                       path);
  full = path[0] == '/' ? xstrdup (path) : xasprintf ("%s/%s", task_dir ? task_dir : ".", path);
  f = fopen (full, "re");
  if (f == NULL)
    return sk_err_set (err, errno, "environmentFiles: open `%s`", full);
  while ((len = getline (&line, &cap, f)) >= 0)
    {
      char *s = line;
      lineno++;
      while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
      while (*s == ' ' || *s == '\t')
        s++;
      if (*s == '\0' || *s == '#')
        continue;
      if (strchr (s, '=') == NULL)
        {
          const char *own = getenv (s);
          if (own != NULL)
            sk_env_set (envp, n, s, own);
          continue;
        }
      _cleanup_free_ char *what = xasprintf ("environmentFiles: %s:%u", full, lineno);
      if (set_assignment (envp, n, s, what, err) < 0)
        return -1;
    }
  return 0;
}

static const char *
override_value (char **list, size_t n_list, const char *name)
{
  size_t len = strlen (name);
  for (size_t i = 0; i < n_list; i++)
    if (strncmp (list[i], name, len) == 0 && list[i][len] == '=')
      return list[i] + len + 1;
  return NULL;
}

/* Secrets never come from AWS here: --secret NAME=VALUE, else the
 * SKIFF_SECRET_<NAME> variable of skiff's own environment. */
static int
resolve_secret (const struct sk_kv *secret, const struct sk_run_overrides *ov, const char **value,
                sk_err_t *err)
{
  _cleanup_free_ char *var = xasprintf ("SKIFF_SECRET_%s", secret->name);

  *value = override_value (ov->secrets, ov->n_secrets, secret->name);
  if (*value == NULL)
    *value = getenv (var);
  if (*value == NULL)
    return sk_err_set (err, 0,
                       "secret `%s` (valueFrom `%s`): no local value; pass --secret %s=VALUE or "
                       "set %s",
                       secret->name, secret->value ? secret->value : "", secret->name, var);
  return 0;
}

int
sk_env_build (const struct sk_container *def, const struct sk_task *task,
              const struct sk_image *image, const char *home, const char *hostname,
              const struct sk_run_overrides *ov, char ***envp, sk_err_t *err)
{
  _cleanup_strv_ char **env = xzalloc (sizeof *env);
  size_t n = 0;

  sk_env_set (&env, &n, "PATH", DEFAULT_PATH);
  if (hostname != NULL)
    sk_env_set (&env, &n, "HOSTNAME", hostname);
  if (def->pseudo_terminal)
    sk_env_set (&env, &n, "TERM", "xterm");
  for (char **e = image->env; e != NULL && *e != NULL; e++)
    if (set_assignment (&env, &n, *e, "image Env", err) < 0)
      return -1;
  for (size_t i = 0; i < def->environment_files.n; i++)
    if (read_env_file (def->environment_files.v[i], task->source_dir, &env, &n, err) < 0)
      return -1;
  for (size_t i = 0; i < def->environment.n; i++)
    sk_env_set (&env, &n, def->environment.v[i].name,
                def->environment.v[i].value ? def->environment.v[i].value : "");
  for (size_t i = 0; i < def->secrets.n; i++)
    {
      const char *value;
      if (resolve_secret (&def->secrets.v[i], ov, &value, err) < 0)
        return -1;
      sk_env_set (&env, &n, def->secrets.v[i].name, value);
    }
  for (size_t i = 0; i < ov->n_env; i++)
    if (set_assignment (&env, &n, ov->env[i], "--env", err) < 0)
      return -1;
  /* HOME follows the user unless the task chose one. */
  if (override_value (env, n, "HOME") == NULL)
    sk_env_set (&env, &n, "HOME", home != NULL ? home : "/");
  *envp = steal_pointer (&env);
  return 0;
}
