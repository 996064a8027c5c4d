/* The typed getters every parse_*.c file uses: each checks one JSON value
 * against the type and limits the field needs and reports, with the JSON
 * path, what it got instead. */
#include "parse.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Append text (already formatted) to the path; returns the old length. */
static size_t
path_append (struct sk_pctx *pc, const char *text)
{
  size_t saved = pc->path_len;
  size_t room = sizeof pc->path - pc->path_len;
  size_t n = strlen (text);

  if (n >= room)
    n = room - 1; /* truncated; still NUL-terminated */
  memcpy (pc->path + pc->path_len, text, n);
  pc->path_len += n;
  pc->path[pc->path_len] = '\0';
  return saved;
}

size_t
pc_push_key (struct sk_pctx *pc, const char *key)
{
  _cleanup_free_ char *seg = xasprintf ("%s%s", pc->path_len ? "." : "", key);
  return path_append (pc, seg);
}

size_t
pc_push_index (struct sk_pctx *pc, size_t index)
{
  char seg[32];
  snprintf (seg, sizeof seg, "[%zu]", index);
  return path_append (pc, seg);
}

void
pc_pop (struct sk_pctx *pc, size_t saved)
{
  pc->path_len = saved;
  pc->path[saved] = '\0';
}

static void
report (struct sk_pctx *pc, enum sk_diag_level level, const char *fmt, va_list ap)
{
  _cleanup_free_ char *msg = NULL;

  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  if (pc->path_len > 0)
    sk_diags_add (pc->diags, level, "%s: %s: %s", pc->source, pc->path, msg ? msg : "?");
  else
    sk_diags_add (pc->diags, level, "%s: %s", pc->source, msg ? msg : "?");
}

void
pc_error (struct sk_pctx *pc, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  report (pc, SK_DIAG_ERROR, fmt, ap);
  va_end (ap);
}

void
pc_warn (struct sk_pctx *pc, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  report (pc, SK_DIAG_WARNING, fmt, ap);
  va_end (ap);
}

void
pc_error_at (struct sk_pctx *pc, const char *key, const char *fmt, ...)
{
  va_list ap;
  size_t saved = pc_push_key (pc, key);
  va_start (ap, fmt);
  report (pc, SK_DIAG_ERROR, fmt, ap);
  va_end (ap);
  pc_pop (pc, saved);
}

void
pc_warn_at (struct sk_pctx *pc, const char *key, const char *fmt, ...)
{
  va_list ap;
  size_t saved = pc_push_key (pc, key);
  va_start (ap, fmt);
  report (pc, SK_DIAG_WARNING, fmt, ap);
  va_end (ap);
  pc_pop (pc, saved);
}

void
pc_describe (const struct sk_json *v, char *buf, size_t size)
{
  char shown[48];
  size_t j = 0;

  switch (v->type)
    {
    case SK_JSON_NULL:
      snprintf (buf, size, "null");
      return;
    case SK_JSON_BOOL:
      snprintf (buf, size, "%s", v->boolean ? "true" : "false");
      return;
    case SK_JSON_NUMBER:
      snprintf (buf, size, "the number %.40s%s", v->text, v->len > 40 ? "..." : "");
      return;
    case SK_JSON_ARRAY:
      snprintf (buf, size, "an array");
      return;
    case SK_JSON_OBJECT:
      snprintf (buf, size, "an object");
      return;
    case SK_JSON_STRING:
      break;
    }
  /* Quote at most 40 bytes; control bytes and quotes would garble a
   * one-line message, so they are shown as '?'. */
  for (size_t i = 0; i < v->len && j < 40; i++)
    {
      unsigned char ch = (unsigned char)v->text[i];
      shown[j++] = (ch < 0x20 || ch == '"' || ch == 0x7f) ? '?' : (char)ch;
    }
  shown[j] = '\0';
  snprintf (buf, size, "the string \"%s\"%s", shown, v->len > 40 ? "..." : "");
}

/* Edit distance, ignoring case, two rows. */
static size_t
edit_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  _cleanup_free_ size_t *prev = NULL;
  _cleanup_free_ size_t *cur = NULL;

  if (la > 64 || lb > 64)
    return SIZE_MAX;
  prev = xreallocarray (NULL, lb + 1, sizeof *prev);
  cur = xreallocarray (NULL, lb + 1, sizeof *cur);
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++)
    {
      cur[0] = i;
      for (size_t j = 1; j <= lb; j++)
        {
          size_t cost = tolower ((unsigned char)a[i - 1]) != tolower ((unsigned char)b[j - 1]);
          size_t best = prev[j - 1] + cost;
          if (prev[j] + 1 < best)
            best = prev[j] + 1;
          if (cur[j - 1] + 1 < best)
            best = cur[j - 1] + 1;
          cur[j] = best;
        }
      size_t *t = prev;
      prev = cur;
      cur = t;
    }
  return prev[lb];
}

const char *
sk_suggest (const char *word, const char *const *candidates)
{
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  size_t limit = strlen (word) / 3;

  if (limit < 2)
    limit = 2;
  for (size_t i = 0; candidates[i] != NULL; i++)
    {
      size_t d = edit_distance (word, candidates[i]);
      if (d < best_d)
        {
          best_d = d;
          best = candidates[i];
        }
    }
  return best_d <= limit ? best : NULL;
}

static bool
in_list (const char *key, const char *const *list)
{
  if (list == NULL)
    return false;
  for (size_t i = 0; list[i] != NULL; i++)
    if (strcmp (key, list[i]) == 0)
      return true;
  return false;
}

void
pc_check_keys (struct sk_pctx *pc, const struct sk_json *obj, const char *const *known,
               const char *const *ignored)
{
  for (size_t i = 0; i < obj->n; i++)
    {
      const char *key = obj->members[i].key;
      const char *hint;
      size_t saved;

      if (in_list (key, known) || in_list (key, ignored))
        continue;
      hint = sk_suggest (key, known);
      saved = pc_push_key (pc, key);
      if (pc->unknown_keys_are_warnings)
        {
          if (hint)
            pc_warn (pc, "unknown key ignored (did you mean \"%s\"?)", hint);
          else
            pc_warn (pc, "unknown key ignored");
        }
      else if (hint)
        pc_error (pc, "unknown key (did you mean \"%s\"?)", hint);
      else
        pc_error (pc, "unknown key (--allow-unknown-keys accepts keys of newer ECS versions)");
      pc_pop (pc, saved);
    }
}

static const struct sk_json *
present (const struct sk_json *obj, const char *key)
{
  const struct sk_json *v = sk_json_get (obj, key);
  return (v == NULL || v->type == SK_JSON_NULL) ? NULL : v;
}

static int
type_error (struct sk_pctx *pc, const char *key, const struct sk_json *v, const char *expected)
{
  char got[96];
  pc_describe (v, got, sizeof got);
  if (key)
    pc_error_at (pc, key, "expected %s, got %s", expected, got);
  else
    pc_error (pc, "expected %s, got %s", expected, got);
  return -1;
}

int
pc_string_value (struct sk_pctx *pc, const struct sk_json *v, size_t max_len, unsigned flags,
                 char **out)
{
  if (v->type != SK_JSON_STRING)
    return type_error (pc, NULL, v, "a string");
  if (strlen (v->text) != v->len)
    {
      pc_error (pc, "contains a NUL character (\\u0000)");
      return -1;
    }
  if (v->len > max_len)
    {
      pc_error (pc, "longer than %zu bytes (%zu)", max_len, v->len);
      return -1;
    }
  if (v->len == 0 && (flags & SK_STR_EMPTY_IS_ABSENT))
    return 0;
  if (v->len == 0 && (flags & SK_STR_NONEMPTY))
    {
      pc_error (pc, "must not be empty");
      return -1;
    }
  *out = xstrdup (v->text);
  return 1;
}

int
pc_string (struct sk_pctx *pc, const struct sk_json *obj, const char *key, size_t max_len,
           unsigned flags, char **out)
{
  const struct sk_json *v = present (obj, key);
  size_t saved;
  int r;

  if (v == NULL)
    return 0;
  saved = pc_push_key (pc, key);
  r = pc_string_value (pc, v, max_len, flags, out);
  pc_pop (pc, saved);
  return r;
}

int
pc_bool (struct sk_pctx *pc, const struct sk_json *obj, const char *key, bool *out)
{
  const struct sk_json *v = present (obj, key);

  if (v == NULL)
    return 0;
  if (v->type != SK_JSON_BOOL)
    return type_error (pc, key, v, "true or false");
  *out = v->boolean;
  return 1;
}

static void
expected_integer (const char *unit, char *buf, size_t size)
{
  if (unit && unit[0])
    snprintf (buf, size, "an integer number of %s", unit);
  else
    snprintf (buf, size, "an integer");
}

int
pc_int (struct sk_pctx *pc, const struct sk_json *obj, const char *key, int64_t min, int64_t max,
        const char *unit, int64_t *out)
{
  const struct sk_json *v = present (obj, key);
  char expected[64];
  const char *sp = (unit && unit[0]) ? " " : "";

  if (v == NULL)
    return 0;
  expected_integer (unit, expected, sizeof expected);
  if (v->type != SK_JSON_NUMBER || !v->integral)
    return type_error (pc, key, v, expected);
  if (!v->in_range || v->integer < min || v->integer > max)
    {
      const char *u = unit ? unit : "";
      if ((max == INT64_MAX || max == UINT32_MAX) && (!v->in_range || v->integer > max))
        pc_error_at (pc, key, "must be at most %" PRId64 "%s%s, got %.40s", max, sp, u, v->text);
      else if (max == INT64_MAX || max == UINT32_MAX)
        pc_error_at (pc, key, "must be at least %" PRId64 "%s%s, got %.40s", min, sp, u, v->text);
      else
        pc_error_at (pc, key, "must be between %" PRId64 " and %" PRId64 "%s%s, got %.40s", min,
                     max, sp, u, v->text);
      return -1;
    }
  *out = v->integer;
  return 1;
}

int
pc_u32 (struct sk_pctx *pc, const struct sk_json *obj, const char *key, uint32_t min, uint32_t max,
        const char *unit, uint32_t *out)
{
  int64_t n = 0;
  int r = pc_int (pc, obj, key, min, max, unit, &n);
  if (r > 0)
    *out = (uint32_t)n;
  return r;
}

const struct sk_json *
pc_array (struct sk_pctx *pc, const struct sk_json *obj, const char *key)
{
  const struct sk_json *v = present (obj, key);

  if (v == NULL)
    return NULL;
  if (v->type != SK_JSON_ARRAY)
    {
      type_error (pc, key, v, "an array");
      return NULL;
    }
  return v;
}

const struct sk_json *
pc_object (struct sk_pctx *pc, const struct sk_json *obj, const char *key)
{
  const struct sk_json *v = present (obj, key);

  if (v == NULL)
    return NULL;
  if (v->type != SK_JSON_OBJECT)
    {
      type_error (pc, key, v, "an object");
      return NULL;
    }
  return v;
}

void
sk_strv_push (struct sk_strv *v, char *s)
{
  v->v = xreallocarray (v->v, v->n + 2, sizeof *v->v);
  v->v[v->n++] = s;
  v->v[v->n] = NULL;
}

void
sk_kv_push (struct sk_kv_list *l, char *name, char *value)
{
  l->v = xreallocarray (l->v, l->n + 1, sizeof *l->v);
  l->v[l->n].name = name;
  l->v[l->n].value = value;
  l->n++;
}

int
pc_strv (struct sk_pctx *pc, const struct sk_json *obj, const char *key, size_t max_len,
         unsigned flags, struct sk_strv *out)
{
  const struct sk_json *a = pc_array (pc, obj, key);
  size_t saved;
  int ok = 1;

  if (a == NULL)
    return present (obj, key) ? -1 : 0;
  saved = pc_push_key (pc, key);
  /* An empty list is still "present": entryPoint [] differs from absent. */
  if (out->v == NULL)
    {
      out->v = xzalloc (sizeof *out->v);
      out->n = 0;
    }
  for (size_t i = 0; i < a->n; i++)
    {
      char *s = NULL;
      size_t at = pc_push_index (pc, i);
      if (pc_string_value (pc, a->items[i], max_len, flags & ~SK_STR_EMPTY_IS_ABSENT, &s) > 0)
        sk_strv_push (out, s);
      else
        ok = -1;
      pc_pop (pc, at);
    }
  pc_pop (pc, saved);
  return ok;
}

int
pc_string_map (struct sk_pctx *pc, const struct sk_json *obj, const char *key,
               struct sk_kv_list *out)
{
  const struct sk_json *m = pc_object (pc, obj, key);
  size_t saved;
  int ok = 1;

  if (m == NULL)
    return present (obj, key) ? -1 : 0;
  saved = pc_push_key (pc, key);
  for (size_t i = 0; i < m->n; i++)
    {
      char *value = NULL;
      size_t at = pc_push_key (pc, m->members[i].key);
      if (m->members[i].value->type == SK_JSON_NULL)
        {
          pc_pop (pc, at);
          continue;
        }
      if (strlen (m->members[i].key) > SK_MAX_VALUE)
        {
          pc_error (pc, "key longer than %d bytes", SK_MAX_VALUE);
          ok = -1;
        }
      else if (pc_string_value (pc, m->members[i].value, SK_MAX_VALUE, 0, &value) > 0)
        sk_kv_push (out, xstrdup (m->members[i].key), value);
      else
        ok = -1;
      pc_pop (pc, at);
    }
  pc_pop (pc, saved);
  return ok;
}

int
pc_enum (struct sk_pctx *pc, const struct sk_json *obj, const char *key, const char *const *values,
         int *index)
{
  _cleanup_free_ char *s = NULL;
  char list[512];
  size_t used = 0;
  int r = pc_string (pc, obj, key, SK_MAX_NAME, 0, &s);

  if (r <= 0)
    return r;
  for (size_t i = 0; values[i] != NULL; i++)
    if (strcmp (s, values[i]) == 0)
      {
        *index = (int)i;
        return 1;
      }
  list[0] = '\0';
  for (size_t i = 0; values[i] != NULL && used < sizeof list; i++)
    {
      int n = snprintf (list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "", values[i]);
      if (n < 0)
        break;
      used += (size_t)n;
    }
  const char *hint = sk_suggest (s, values);
  if (hint)
    pc_error_at (pc, key, "must be one of %s, got \"%.40s\" (did you mean \"%s\"?)", list, s, hint);
  else
    pc_error_at (pc, key, "must be one of %s, got \"%.40s\"", list, s);
  return -1;
}

void
pc_missing (struct sk_pctx *pc, const char *key)
{
  pc_error (pc, "missing required key \"%s\"", key);
}

size_t
pc_each_object (struct sk_pctx *pc, const struct sk_json *obj, const char *key, sk_item_fn fn,
                void *data)
{
  const struct sk_json *a = pc_array (pc, obj, key);
  size_t saved;

  if (a == NULL)
    return 0;
  saved = pc_push_key (pc, key);
  for (size_t i = 0; i < a->n; i++)
    {
      size_t at = pc_push_index (pc, i);
      const struct sk_json *item = a->items[i];
      if (item->type == SK_JSON_OBJECT)
        fn (pc, item, i, data);
      else
        {
          char got[96];
          pc_describe (item, got, sizeof got);
          pc_error (pc, "expected an object, got %s", got);
        }
      pc_pop (pc, at);
    }
  pc_pop (pc, saved);
  return a->n;
}
