/* AWS Batch retryStrategy: rule parsing and the retry decision. */
#include "retry.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int
sk_retry_count_parse (const char *text, struct sk_retry_strategy *s, sk_err_t *err)
{
  if (text[0] < '0' || text[0] > '9' || text[1] != '\0')
    return sk_err_set (err, 0,
                       "--retry `%s`: expected a number of retries from 0 to %d (Batch allows "
                       "%d attempts in all)",
                       text, SK_RETRY_MAX_ATTEMPTS - 1, SK_RETRY_MAX_ATTEMPTS);
  s->attempts = (uint32_t)(text[0] - '0') + 1;
  return 0;
}

/* Batch's character sets: onExitCode digits; the reasons letters, digits,
 * '.', ':' and white space; a single `*` only at the end. */
static int
check_pattern (const char *key, const char *pattern, bool digits_only, sk_err_t *err)
{
  size_t len = strlen (pattern);

  if (len == 0)
    return sk_err_set (err, 0, "`%s`: empty pattern", key);
  if (len > SK_RETRY_PATTERN_MAX)
    return sk_err_set (err, 0, "`%s`: pattern longer than %d characters", key,
                       SK_RETRY_PATTERN_MAX);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char ch = (unsigned char)pattern[i];
      bool ok;

      if (ch == '*')
        {
          if (i != len - 1)
            return sk_err_set (err, 0, "`%s=%s`: `*` is only allowed at the end", key, pattern);
          continue;
        }
      ok = digits_only ? isdigit (ch) : (isalnum (ch) || ch == '.' || ch == ':' || isspace (ch));
      if (!ok)
        return sk_err_set (err, 0, "`%s=%s`: %s", key, pattern,
                           digits_only ? "exit code patterns are digits with an optional "
                                         "trailing `*`"
                                       : "reason patterns allow letters, digits, `.`, `:`, "
                                         "blanks and a trailing `*`");
    }
  return 0;
}

static int
parse_field (char *field, struct sk_retry_rule *r, sk_err_t *err)
{
  char *eq = strchr (field, '=');
  const char *key, *pattern;
  char *dest;
  bool *has, digits;

  if (eq == NULL)
    return sk_err_set (err, 0, "`%s`: expected KEY=PATTERN (exitCode, reason, statusReason)",
                       field);
  *eq = '\0';
  key = field;
  pattern = eq + 1;
  if (strcasecmp (key, "exitCode") == 0 || strcasecmp (key, "onExitCode") == 0)
    dest = r->on_exit_code, has = &r->has_exit_code, digits = true;
  else if (strcasecmp (key, "reason") == 0 || strcasecmp (key, "onReason") == 0)
    dest = r->on_reason, has = &r->has_reason, digits = false;
  else if (strcasecmp (key, "statusReason") == 0 || strcasecmp (key, "onStatusReason") == 0)
    dest = r->on_status_reason, has = &r->has_status_reason, digits = false;
  else
    return sk_err_set (err, 0, "unknown key `%s` (exitCode, reason or statusReason)", key);
  if (*has)
    return sk_err_set (err, 0, "`%s` given twice", key);
  if (check_pattern (key, pattern, digits, err) < 0)
    return -1;
  snprintf (dest, SK_RETRY_PATTERN_MAX + 1, "%s", pattern);
  *has = true;
  return 0;
}

int
sk_retry_rule_parse (const char *text, struct sk_retry_rule *out, sk_err_t *err)
{
  _cleanup_free_ char *copy = xstrdup (text);
  char *colon = strrchr (copy, ':');
  char *action, *save = NULL;
  struct sk_retry_rule r = { 0 };

  if (colon == NULL)
    return sk_err_set (err, 0, "--retry-on `%s`: expected FIELDS:ACTION, e.g. exitCode=1*:RETRY",
                       text);
  *colon = '\0';
  action = colon + 1;
  if (strcasecmp (action, "RETRY") == 0)
    r.action = SK_RETRY_ACTION_RETRY;
  else if (strcasecmp (action, "EXIT") == 0)
    r.action = SK_RETRY_ACTION_EXIT;
  else
    return sk_err_set (err, 0, "--retry-on `%s`: action `%s` is not RETRY or EXIT", text, action);
  if (*copy == '\0')
    return sk_err_set (err, 0,
                       "--retry-on `%s`: needs at least one of exitCode, reason, "
                       "statusReason",
                       text);
  for (char *field = copy; field != NULL; field = save)
    {
      save = strchr (field, ',');
      if (save != NULL)
        *save++ = '\0';
      if (parse_field (field, &r, err) < 0)
        return sk_err_wrap (err, "--retry-on `%s`", text);
    }
  *out = r;
  return 0;
}

int
sk_retry_strategy_add_rule (struct sk_retry_strategy *s, const char *text, sk_err_t *err)
{
  if (s->n_rules >= SK_RETRY_MAX_RULES)
    return sk_err_set (err, 0, "--retry-on `%s`: at most %d rules (as AWS Batch)", text,
                       SK_RETRY_MAX_RULES);
  if (sk_retry_rule_parse (text, &s->rules[s->n_rules], err) < 0)
    return -1;
  s->n_rules++;
  return 0;
}

void
sk_retry_rule_format (const struct sk_retry_rule *r, char *buf, size_t size)
{
  size_t used = 0;
  const char *sep = "";

  buf[0] = '\0';
#define APPEND(...)                                                                                \
  do                                                                                               \
    {                                                                                              \
      int _n = snprintf (buf + used, size > used ? size - used : 0, __VA_ARGS__);                  \
      if (_n > 0)                                                                                  \
        used += (size_t)_n;                                                                        \
    }                                                                                              \
  while (0)
  if (r->has_exit_code)
    {
      APPEND ("%sexitCode=%s", sep, r->on_exit_code);
      sep = ",";
    }
  if (r->has_reason)
    {
      APPEND ("%sreason=%s", sep, r->on_reason);
      sep = ",";
    }
  if (r->has_status_reason)
    APPEND ("%sstatusReason=%s", sep, r->on_status_reason);
  APPEND (":%s", r->action == SK_RETRY_ACTION_RETRY ? "RETRY" : "EXIT");
#undef APPEND
}

bool
sk_retry_glob_match (const char *pattern, const char *value)
{
  size_t len = strlen (pattern);

  if (len > 0 && pattern[len - 1] == '*')
    {
      if (value == NULL)
        return len == 1;
      return strncmp (pattern, value, len - 1) == 0;
    }
  return value != NULL && strcmp (pattern, value) == 0;
}

static bool
rule_matches (const struct sk_retry_rule *rule, const struct sk_attempt_result *r)
{
  char code[16];

  snprintf (code, sizeof code, "%d", r->exit_code);
  if (rule->has_exit_code
      && !sk_retry_glob_match (rule->on_exit_code, r->has_exit_code ? code : NULL))
    return false;
  if (rule->has_reason && !sk_retry_glob_match (rule->on_reason, r->reason))
    return false;
  if (rule->has_status_reason && !sk_retry_glob_match (rule->on_status_reason, r->status_reason))
    return false;
  return true;
}

struct sk_retry_decision
sk_retry_decide (const struct sk_retry_strategy *s, uint32_t attempt,
                 const struct sk_attempt_result *r)
{
  struct sk_retry_decision d = { .attempt = attempt, .rule = -1 };
  char what[48], rule[96] = "";

  d.attempts = s->attempts > 0 ? s->attempts : 1;
  if (r->has_exit_code)
    snprintf (what, sizeof what, "exit code %d", r->exit_code);
  else
    snprintf (what, sizeof what, "no exit code");

  if (r->has_exit_code && r->exit_code == 0 && !r->timed_out)
    {
      snprintf (d.reason, sizeof d.reason, "attempt %u of %u succeeded", attempt, d.attempts);
      return d;
    }
  if (r->cancelled)
    {
      snprintf (d.reason, sizeof d.reason, "attempt %u was cancelled; not retrying", attempt);
      return d;
    }
  if (r->timed_out && !s->retry_on_timeout)
    {
      snprintf (d.reason, sizeof d.reason,
                "attempt %u timed out; a timed-out attempt is not "
                "retried",
                attempt);
      return d;
    }
  for (size_t i = 0; i < s->n_rules; i++)
    if (rule_matches (&s->rules[i], r))
      {
        d.rule = (int)i;
        sk_retry_rule_format (&s->rules[i], rule, sizeof rule);
        break;
      }
  if (d.rule >= 0 && s->rules[d.rule].action == SK_RETRY_ACTION_EXIT)
    {
      snprintf (d.reason, sizeof d.reason, "%s matched rule %d (%s); not retrying", what,
                d.rule + 1, rule);
      return d;
    }
  if (attempt >= d.attempts)
    {
      snprintf (d.reason, sizeof d.reason, "%s; no attempts left (%u of %u used)", what, attempt,
                d.attempts);
      return d;
    }
  d.retry = true;
  if (d.rule >= 0)
    snprintf (d.reason, sizeof d.reason, "%s matched rule %d (%s); starting attempt %u of %u", what,
              d.rule + 1, rule, attempt + 1, d.attempts);
  else
    snprintf (d.reason, sizeof d.reason,
              "%s matched no rule (default RETRY); starting attempt "
              "%u of %u",
              what, attempt + 1, d.attempts);
  return d;
}
