/* Durations, signal names, exit-code rules, and the skiff.restart.* labels
 * turned into a struct sk_restart_policy_x. */
#include "policy_labels.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- durations ------------------------------------------------------------ */

/* A day is far beyond any sensible restart knob; the cap keeps every sum
 * and product of the decision code far from overflow. */
#define DURATION_MAX_MS (7ull * 24 * 3600 * 1000)

int
sk_duration_parse (const char *text, uint64_t *ms, char **why)
{
  const char *p = text;
  uint64_t total = 0;

  if (strcmp (text, "0") == 0)
    {
      *ms = 0;
      return 0;
    }
  if (*p == '\0')
    goto bad;
  while (*p != '\0')
    {
      uint64_t n = 0, unit;

      if (!isdigit ((unsigned char)*p))
        goto bad;
      while (isdigit ((unsigned char)*p))
        {
          n = n * 10 + (uint64_t)(*p - '0');
          if (n > DURATION_MAX_MS)
            goto too_long;
          p++;
        }
      if (strncmp (p, "ms", 2) == 0)
        unit = 1, p += 2;
      else if (*p == 's')
        unit = 1000, p++;
      else if (*p == 'm')
        unit = 60 * 1000, p++;
      else if (*p == 'h')
        unit = 3600 * 1000, p++;
      else
        goto bad;
      total += n * unit;
      if (total > DURATION_MAX_MS)
        goto too_long;
    }
  *ms = total;
  return 0;

bad:
  *why = xasprintf ("expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got `%s`", text);
  return -1;
too_long:
  *why = xasprintf ("duration `%s` is longer than the limit of 7 days", text);
  return -1;
}

void
sk_duration_format (uint64_t ms, char *buf, size_t size)
{
  if (ms == 0)
    snprintf (buf, size, "0s");
  else if (ms % 3600000 == 0)
    snprintf (buf, size, "%lluh", (unsigned long long)(ms / 3600000));
  else if (ms % 60000 == 0)
    snprintf (buf, size, "%llum", (unsigned long long)(ms / 60000));
  else if (ms % 1000 == 0)
    snprintf (buf, size, "%llus", (unsigned long long)(ms / 1000));
  else if (ms < 1000)
    snprintf (buf, size, "%llums", (unsigned long long)ms);
  else
    {
      /* seconds with the milliseconds, trailing zeros dropped: 1.5s, 1.25s */
      unsigned frac = (unsigned)(ms % 1000);
      int digits = 3;
      while (frac % 10 == 0)
        frac /= 10, digits--;
      snprintf (buf, size, "%llu.%0*us", (unsigned long long)(ms / 1000), digits, frac);
    }
}

/* ---- signals --------------------------------------------------------------- */

int
sk_signal_parse (const char *name)
{
  const char *bare = name;

  if (strncasecmp (name, "SIG", 3) == 0)
    bare = name + 3;
  if (*bare == '\0')
    return -1;
  for (int s = 1; s < SIGRTMIN; s++)
    {
      const char *abbrev = sigabbrev_np (s);
      if (abbrev != NULL && strcasecmp (abbrev, bare) == 0)
        return s;
    }
  return -1;
}

void
sk_signal_format (int signo, char *buf, size_t size)
{
  const char *abbrev = signo > 0 ? sigabbrev_np (signo) : NULL;
  if (abbrev != NULL)
    snprintf (buf, size, "SIG%s", abbrev);
  else
    snprintf (buf, size, "SIG%d", signo);
}

/* ---- exit-code rules ------------------------------------------------------- */

static char *
trim (char *s)
{
  while (isspace ((unsigned char)*s))
    s++;
  size_t len = strlen (s);
  while (len > 0 && isspace ((unsigned char)s[len - 1]))
    s[--len] = '\0';
  return s;
}

static int
parse_code (const char *s, int *out)
{
  char *end = NULL;
  long v;

  if (!isdigit ((unsigned char)*s))
    return -1;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || *end != '\0' || v < 0 || v > 255)
    return -1;
  *out = (int)v;
  return 0;
}

static int
parse_match (char *m, struct sk_restart_rule *r, char **why)
{
  char *dash;

  if (strcmp (m, "*") == 0)
    r->match = SK_MATCH_ANY;
  else if (strcasecmp (m, "oom") == 0)
    r->match = SK_MATCH_OOM;
  else if (strcasecmp (m, "unhealthy") == 0)
    r->match = SK_MATCH_UNHEALTHY;
  else if (isdigit ((unsigned char)m[0]))
    {
      r->match = SK_MATCH_CODES;
      dash = strchr (m, '-');
      if (dash != NULL)
        *dash = '\0';
      if (parse_code (trim (m), &r->lo) < 0
          || parse_code (dash != NULL ? trim (dash + 1) : m, &r->hi) < 0)
        {
          *why = xasprintf ("exit codes are numbers 0-255 or ranges like 1-3");
          return -1;
        }
      if (r->lo > r->hi)
        {
          *why = xasprintf ("range %d-%d is empty", r->lo, r->hi);
          return -1;
        }
    }
  else
    {
      r->match = SK_MATCH_SIGNAL;
      r->signo = sk_signal_parse (m);
      if (r->signo < 0)
        {
          *why = xasprintf ("`%s` is not an exit code, a range, a signal name, `oom`, "
                            "`unhealthy` or `*`",
                            m);
          return -1;
        }
    }
  return 0;
}

static void
format_rule (struct sk_restart_rule *r)
{
  char what[24];
  const char *action = r->action == SK_ACTION_RESTART ? "restart" : "never";

  switch (r->match)
    {
    case SK_MATCH_ANY:
      snprintf (what, sizeof what, "*");
      break;
    case SK_MATCH_CODES:
      if (r->lo == r->hi)
        snprintf (what, sizeof what, "%d", r->lo);
      else
        snprintf (what, sizeof what, "%d-%d", r->lo, r->hi);
      break;
    case SK_MATCH_SIGNAL:
      sk_signal_format (r->signo, what, sizeof what);
      break;
    case SK_MATCH_OOM:
      snprintf (what, sizeof what, "oom");
      break;
    case SK_MATCH_UNHEALTHY:
      snprintf (what, sizeof what, "unhealthy");
      break;
    }
  snprintf (r->text, sizeof r->text, "%s=%s", what, action);
}

static int
parse_one_rule (char *item, struct sk_restart_rule *r, char **why)
{
  char *eq = strchr (item, '=');
  char *action;

  memset (r, 0, sizeof *r);
  if (eq == NULL)
    {
      *why = xasprintf ("rule `%s` needs the form MATCH=ACTION, e.g. 1-3=restart", trim (item));
      return -1;
    }
  *eq = '\0';
  action = trim (eq + 1);
  if (strcasecmp (action, "restart") == 0)
    r->action = SK_ACTION_RESTART;
  else if (strcasecmp (action, "never") == 0)
    r->action = SK_ACTION_NEVER;
  else
    {
      *why = xasprintf ("action `%s` is not `restart` or `never`", action);
      return -1;
    }
  if (parse_match (trim (item), r, why) < 0)
    return -1;
  format_rule (r);
  return 0;
}

int
sk_restart_rules_parse (const char *text, struct sk_restart_rule **rules, size_t *n, char **why)
{
  _cleanup_free_ char *copy = xstrdup (text);
  char *save = NULL;
  size_t added = 0;

  if (*trim (copy) == '\0')
    {
      *why = xasprintf ("no rules; expected e.g. 0=never,1-3=restart,*=never");
      return -1;
    }
  /* strtok_r would merge empty items; a stray comma is worth an error. */
  for (char *item = copy; item != NULL; item = save)
    {
      struct sk_restart_rule r;
      _cleanup_free_ char *inner = NULL;

      save = strchr (item, ',');
      if (save != NULL)
        *save++ = '\0';
      if (*trim (item) == '\0')
        {
          *why = xasprintf ("empty rule in `%s`", text);
          goto fail;
        }
      if (parse_one_rule (item, &r, &inner) < 0)
        {
          *why = xasprintf ("rule %zu: %s", added + 1, inner);
          goto fail;
        }
      if (*n >= SK_RESTART_MAX_RULES)
        {
          *why = xasprintf ("more than %d rules", SK_RESTART_MAX_RULES);
          goto fail;
        }
      *rules = xreallocarray (*rules, *n + 1, sizeof **rules);
      (*rules)[(*n)++] = r;
      added++;
    }
  return 0;

fail:
  *n -= added;
  return -1;
}

bool
sk_restart_rule_matches (const struct sk_restart_rule *r, const struct sk_exit_event *ev)
{
  int code = ev->signal > 0 ? 128 + ev->signal : ev->exit_code;

  if (ev->unhealthy)
    return r->match == SK_MATCH_UNHEALTHY;
  switch (r->match)
    {
    case SK_MATCH_ANY:
      return true;
    case SK_MATCH_CODES:
      return code >= r->lo && code <= r->hi;
    case SK_MATCH_SIGNAL:
      return ev->signal == r->signo;
    case SK_MATCH_OOM:
      return ev->oom;
    case SK_MATCH_UNHEALTHY:
      return false;
    }
  return false;
}

/* ---- labels ---------------------------------------------------------------- */

enum label_key
{
  L_MODE,
  L_DELAY,
  L_MULTIPLIER,
  L_MAX_DELAY,
  L_JITTER,
  L_RESET_AFTER,
  L_MAX_ATTEMPTS,
  L_WINDOW,
  L_EXIT_CODES,
  L_ON_UNHEALTHY,
  L_COUNT,
};

static const char *const label_names[L_COUNT] = {
  [L_MODE] = "skiff.restart",
  [L_DELAY] = "skiff.restart.delay",
  [L_MULTIPLIER] = "skiff.restart.multiplier",
  [L_MAX_DELAY] = "skiff.restart.maxDelay",
  [L_JITTER] = "skiff.restart.jitter",
  [L_RESET_AFTER] = "skiff.restart.resetAfter",
  [L_MAX_ATTEMPTS] = "skiff.restart.maxAttempts",
  [L_WINDOW] = "skiff.restart.window",
  [L_EXIT_CODES] = "skiff.restart.exitCodes",
  [L_ON_UNHEALTHY] = "skiff.restart.onUnhealthy",
};

struct label_ctx
{
  const struct sk_container *c;
  struct sk_diags *diags;
  const char *values[L_COUNT];
};

static void label_error (struct label_ctx *lc, enum label_key k, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
label_error (struct label_ctx *lc, enum label_key k, const char *fmt, ...)
{
  va_list ap;
  char *text = NULL;

  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    text = NULL;
  va_end (ap);
  sk_diags_add (lc->diags, SK_DIAG_ERROR, "container `%s`: dockerLabels `%s`: %s", lc->c->name,
                label_names[k], text != NULL ? text : "bad value");
  free (text);
}

/* Collects the skiff.* labels; unknown skiff.* keys are errors. */
static void
collect_labels (struct label_ctx *lc)
{
  const struct sk_kv_list *labels = &lc->c->docker_labels;

  for (size_t i = 0; i < labels->n; i++)
    {
      const char *key = labels->v[i].name;
      size_t k;

      if (strncmp (key, "skiff.", 6) != 0)
        continue;
      for (k = 0; k < L_COUNT; k++)
        if (strcmp (key, label_names[k]) == 0)
          break;
      if (k < L_COUNT)
        {
          lc->values[k] = labels->v[i].value;
          continue;
        }
      for (k = 0; k < L_COUNT; k++)
        if (strcasecmp (key, label_names[k]) == 0)
          break;
      if (k < L_COUNT)
        sk_diags_add (lc->diags, SK_DIAG_ERROR,
                      "container `%s`: dockerLabels `%s`: unknown skiff label; did you mean `%s`?",
                      lc->c->name, key, label_names[k]);
      else
        sk_diags_add (lc->diags, SK_DIAG_ERROR,
                      "container `%s`: dockerLabels `%s`: unknown skiff label (known: "
                      "skiff.restart and skiff.restart.{delay,multiplier,maxDelay,jitter,"
                      "resetAfter,maxAttempts,window,exitCodes,onUnhealthy})",
                      lc->c->name, key);
    }
}

static void
get_duration (struct label_ctx *lc, enum label_key k, uint64_t *out)
{
  _cleanup_free_ char *why = NULL;

  if (lc->values[k] != NULL && sk_duration_parse (lc->values[k], out, &why) < 0)
    label_error (lc, k, "%s", why);
}

static void
get_number (struct label_ctx *lc, enum label_key k, double lo, double hi, bool percent_ok,
            double *out)
{
  const char *text = lc->values[k];
  char *end = NULL;
  double v;

  if (text == NULL)
    return;
  errno = 0;
  v = strtod (text, &end);
  if (percent_ok && end != text && *end == '%')
    v /= 100.0, end++;
  if (end == text || *end != '\0' || errno != 0 || isnan (v) || v < lo || v > hi)
    {
      label_error (lc, k, "expected a number from %g to %g%s, got `%s`", lo, hi,
                   percent_ok ? " (or a percentage like 20%)" : "", text);
      return;
    }
  *out = v;
}

static void
get_mode (struct label_ctx *lc, struct sk_restart_policy_x *p)
{
  static const struct
  {
    const char *name;
    enum sk_restart_mode mode;
  } modes[] = {
    { "never", SK_RESTART_NEVER },
    { "no", SK_RESTART_NEVER },
    { "on-failure", SK_RESTART_ON_FAILURE },
    { "always", SK_RESTART_ALWAYS },
    { "unless-stopped", SK_RESTART_UNLESS_STOPPED },
  };
  const char *v = lc->values[L_MODE];

  for (size_t i = 0; i < SK_ARRAY_SIZE (modes); i++)
    if (strcmp (v, modes[i].name) == 0)
      {
        p->mode = modes[i].mode;
        p->source = SK_RESTART_FROM_LABEL;
        return;
      }
  label_error (lc, L_MODE, "expected never, on-failure, always or unless-stopped, got `%s`", v);
}

static void
get_on_unhealthy (struct label_ctx *lc, struct sk_restart_policy_x *p)
{
  const char *v = lc->values[L_ON_UNHEALTHY];

  if (strcmp (v, "restart") == 0)
    p->on_unhealthy = SK_UNHEALTHY_RESTART;
  else if (strcmp (v, "stop-task") == 0)
    p->on_unhealthy = SK_UNHEALTHY_STOP_TASK;
  else if (strcmp (v, "none") == 0)
    p->on_unhealthy = SK_UNHEALTHY_NONE;
  else
    label_error (lc, L_ON_UNHEALTHY, "expected restart, stop-task or none, got `%s`", v);
}

static void
add_ignored_exit_codes (const struct sk_restart_policy *ecs, struct sk_restart_policy_x *p)
{
  for (size_t i = 0; i < ecs->n_ignored_exit_codes; i++)
    {
      struct sk_restart_rule r = { 0 };
      r.match = SK_MATCH_CODES;
      r.lo = r.hi = ecs->ignored_exit_codes[i];
      r.action = SK_ACTION_NEVER;
      r.from_ecs = true;
      format_rule (&r);
      p->rules = xreallocarray (p->rules, p->n_rules + 1, sizeof *p->rules);
      p->rules[p->n_rules++] = r;
    }
}

static void
check_coherence (struct label_ctx *lc, struct sk_restart_policy_x *p)
{
  char a[32], b[32];

  if (lc->values[L_MAX_DELAY] != NULL || lc->values[L_DELAY] != NULL)
    if (p->max_delay_ms < p->initial_delay_ms)
      {
        sk_duration_format (p->max_delay_ms, a, sizeof a);
        sk_duration_format (p->initial_delay_ms, b, sizeof b);
        label_error (lc, L_MAX_DELAY, "%s is shorter than skiff.restart.delay (%s)", a, b);
      }
  if (lc->values[L_WINDOW] != NULL && p->max_attempts == 0)
    label_error (lc, L_WINDOW, "has no effect without skiff.restart.maxAttempts");

  /* Knobs on a container that never restarts are a misunderstanding. */
  if (!sk_restart_policy_restarts_anything (p))
    for (size_t k = L_DELAY; k < L_COUNT; k++)
      if (lc->values[k] != NULL && k != L_ON_UNHEALTHY)
        label_error (lc, (enum label_key)k,
                     "has no effect: the container never restarts (set skiff.restart or "
                     "restartPolicy.enabled)");
}

int
sk_restart_policy_from_container (const struct sk_container *c, struct sk_restart_policy_x *out,
                                  struct sk_diags *diags)
{
  struct label_ctx lc = { .c = c, .diags = diags };
  struct sk_restart_policy_x *p = out;
  size_t errors_before = diags->n_errors;
  double max_attempts = 0;

  memset (p, 0, sizeof *p);
  p->initial_delay_ms = 1000;
  p->multiplier = 2.0;
  p->max_delay_ms = 60 * 1000;
  p->jitter = 0.2;
  p->reset_after_ms = 60 * 1000;

  collect_labels (&lc);
  if (lc.values[L_MODE] != NULL)
    get_mode (&lc, p);
  else if (c->restart_policy.enabled)
    {
      /* ECS exactly: no delay, at most one restart per restartAttemptPeriod. */
      p->mode = SK_RESTART_ECS;
      p->source = SK_RESTART_FROM_ECS;
      p->initial_delay_ms = 0;
      p->min_uptime_ms = (uint64_t)c->restart_policy.restart_attempt_period * 1000;
    }
  add_ignored_exit_codes (&c->restart_policy, p);

  get_duration (&lc, L_DELAY, &p->initial_delay_ms);
  get_number (&lc, L_MULTIPLIER, 1.0, 100.0, false, &p->multiplier);
  get_duration (&lc, L_MAX_DELAY, &p->max_delay_ms);
  get_number (&lc, L_JITTER, 0.0, 1.0, true, &p->jitter);
  get_duration (&lc, L_RESET_AFTER, &p->reset_after_ms);
  get_number (&lc, L_MAX_ATTEMPTS, 0, SK_RESTART_MAX_ATTEMPTS_LIMIT, false, &max_attempts);
  if (max_attempts != (double)(uint32_t)max_attempts)
    label_error (&lc, L_MAX_ATTEMPTS, "expected a whole number, got `%s`",
                 lc.values[L_MAX_ATTEMPTS]);
  p->max_attempts = (uint32_t)max_attempts;
  get_duration (&lc, L_WINDOW, &p->window_ms);
  if (lc.values[L_EXIT_CODES] != NULL)
    {
      _cleanup_free_ char *why = NULL;
      if (sk_restart_rules_parse (lc.values[L_EXIT_CODES], &p->rules, &p->n_rules, &why) < 0)
        label_error (&lc, L_EXIT_CODES, "%s", why);
    }
  p->on_unhealthy = p->mode != SK_RESTART_NEVER ? SK_UNHEALTHY_RESTART : SK_UNHEALTHY_NONE;
  if (lc.values[L_ON_UNHEALTHY] != NULL)
    get_on_unhealthy (&lc, p);
  check_coherence (&lc, p);

  if (diags->n_errors > errors_before)
    {
      sk_restart_policy_x_clear (p);
      return -1;
    }
  return 0;
}

void
sk_restart_policy_x_clear (struct sk_restart_policy_x *p)
{
  if (p == NULL)
    return;
  free (p->rules);
  memset (p, 0, sizeof *p);
}
