/* JSON text -> struct sk_json, with yajl's event (callback) API.
 *
 * The only file that includes yajl. The tree is built with an explicit stack
 * so a depth limit applies while parsing (yajl has none) and freeing never
 * recurses deeper than SK_JSON_MAX_DEPTH. Input is fed one line at a time so
 * every value and every error carries the line it was found on. */
#include "json.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

struct builder
{
  const char *source;
  struct sk_diags *diags;
  unsigned line;
  struct sk_json *root;
  struct sk_json *stack[SK_JSON_MAX_DEPTH + 1];
  size_t depth;
  char *pending_key;
  unsigned pending_key_line;
  bool too_deep;
};

static struct sk_json *
new_value (struct builder *b, enum sk_json_type type)
{
  struct sk_json *v = xzalloc (sizeof *v);
  v->type = type;
  v->line = b->line;
  return v;
}

/* Attach v to the container on top of the stack (or make it the root). */
static void
attach (struct builder *b, struct sk_json *v)
{
  struct sk_json *top;

  if (b->depth == 0)
    {
      b->root = v;
      return;
    }
  top = b->stack[b->depth - 1];
  if (top->type == SK_JSON_ARRAY)
    {
      top->items = xreallocarray (top->items, top->n + 1, sizeof *top->items);
      top->items[top->n++] = v;
      return;
    }
  top->members = xreallocarray (top->members, top->n + 1, sizeof *top->members);
  top->members[top->n].key = b->pending_key ? b->pending_key : xstrdup ("");
  top->members[top->n].line = b->pending_key_line;
  top->members[top->n].value = v;
  top->n++;
  b->pending_key = NULL;
}

static int
on_null (void *ctx)
{
  struct builder *b = ctx;
  attach (b, new_value (b, SK_JSON_NULL));
  return 1;
}

static int
on_boolean (void *ctx, int value)
{
  struct builder *b = ctx;
  struct sk_json *v = new_value (b, SK_JSON_BOOL);
  v->boolean = value != 0;
  attach (b, v);
  return 1;
}

static int
on_number (void *ctx, const char *text, size_t len)
{
  struct builder *b = ctx;
  struct sk_json *v = new_value (b, SK_JSON_NUMBER);
  char *end = NULL;

  v->text = xstrndup (text, len);
  v->len = len;
  v->integral = strpbrk (v->text, ".eE") == NULL;
  if (v->integral)
    {
      errno = 0;
      long long n = strtoll (v->text, &end, 10);
      v->in_range = errno == 0 && end != NULL && *end == '\0';
      v->integer = v->in_range ? n : 0;
    }
  attach (b, v);
  return 1;
}

static int
on_string (void *ctx, const unsigned char *text, size_t len)
{
  struct builder *b = ctx;
  struct sk_json *v = new_value (b, SK_JSON_STRING);
  v->text = xmalloc (len + 1);
  memcpy (v->text, text, len);
  v->text[len] = '\0';
  v->len = len;
  attach (b, v);
  return 1;
}

static int
push (struct builder *b, enum sk_json_type type)
{
  struct sk_json *v;

  if (b->depth >= SK_JSON_MAX_DEPTH)
    {
      b->too_deep = true;
      return 0; /* aborts yajl_parse with yajl_status_client_canceled */
    }
  v = new_value (b, type);
  attach (b, v);
  b->stack[b->depth++] = v;
  return 1;
}

static int
on_start_map (void *ctx)
{
  return push (ctx, SK_JSON_OBJECT);
}

static int
on_start_array (void *ctx)
{
  return push (ctx, SK_JSON_ARRAY);
}

static int
on_map_key (void *ctx, const unsigned char *key, size_t len)
{
  struct builder *b = ctx;

  free (b->pending_key);
  b->pending_key = xstrndup ((const char *)key, len);
  b->pending_key_line = b->line;
  if (strlen (b->pending_key) != len)
    sk_diags_add (b->diags, SK_DIAG_ERROR, "%s:%u: a key contains a NUL character (\\u0000)",
                  b->source, b->line);
  return 1;
}

static int
compare_member_index (const void *pa, const void *pb, void *arg)
{
  const struct sk_json_member *m = arg;
  size_t a = *(const size_t *)pa, bi = *(const size_t *)pb;
  int c = strcmp (m[a].key, m[bi].key);
  if (c != 0)
    return c;
  return a < bi ? -1 : a > bi;
}

/* Sorting indices keeps the check O(n log n) even for a hostile object
 * with many thousand keys. */
static void
report_duplicate_keys (struct builder *b, const struct sk_json *obj)
{
  _cleanup_free_ size_t *order = NULL;

  if (obj->n < 2)
    return;
  order = xreallocarray (NULL, obj->n, sizeof *order);
  for (size_t i = 0; i < obj->n; i++)
    order[i] = i;
  qsort_r (order, obj->n, sizeof *order, compare_member_index, obj->members);
  for (size_t i = 1; i < obj->n; i++)
    {
      const struct sk_json_member *first = &obj->members[order[i - 1]];
      const struct sk_json_member *dup = &obj->members[order[i]];
      if (strcmp (first->key, dup->key) == 0)
        sk_diags_add (b->diags, SK_DIAG_ERROR, "%s:%u: duplicate key \"%s\" (first at line %u)",
                      b->source, dup->line, dup->key, first->line);
    }
}

static int
pop (struct builder *b)
{
  struct sk_json *top = b->stack[--b->depth];
  if (top->type == SK_JSON_OBJECT)
    report_duplicate_keys (b, top);
  return 1;
}

static int
on_end (void *ctx)
{
  return pop (ctx);
}

static const yajl_callbacks callbacks = {
  .yajl_null = on_null,
  .yajl_boolean = on_boolean,
  .yajl_number = on_number,
  .yajl_string = on_string,
  .yajl_start_map = on_start_map,
  .yajl_map_key = on_map_key,
  .yajl_end_map = on_end,
  .yajl_start_array = on_start_array,
  .yajl_end_array = on_end,
};

static void
report_yajl_error (struct builder *b, yajl_handle h, const char *chunk, size_t len)
{
  unsigned char *msg;
  size_t n;

  if (b->too_deep)
    {
      sk_diags_add (b->diags, SK_DIAG_ERROR, "%s:%u: nesting deeper than %d levels", b->source,
                    b->line, SK_JSON_MAX_DEPTH);
      return;
    }
  msg = yajl_get_error (h, 0, (const unsigned char *)chunk, len);
  n = msg ? strlen ((char *)msg) : 0;
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
    msg[--n] = '\0';
  sk_diags_add (b->diags, SK_DIAG_ERROR, "%s:%u: invalid JSON: %s", b->source, b->line,
                msg ? (char *)msg : "parse error");
  if (msg)
    yajl_free_error (h, msg);
}

struct sk_json *
sk_json_parse (const char *buf, size_t len, const char *source, struct sk_diags *diags)
{
  struct builder b = { .source = source, .diags = diags, .line = 1 };
  yajl_handle h;
  yajl_status st = yajl_status_ok;
  size_t pos = 0;
  size_t errors_before = diags->n_errors;

  if (len > SK_JSON_MAX_BYTES)
    {
      sk_diags_add (diags, SK_DIAG_ERROR, "%s: larger than the %u byte limit (%zu bytes)", source,
                    SK_JSON_MAX_BYTES, len);
      return NULL;
    }
  h = yajl_alloc (&callbacks, NULL, &b);
  if (h == NULL)
    {
      sk_diags_add (diags, SK_DIAG_ERROR, "%s: out of memory", source);
      return NULL;
    }
  /* Strict JSON: no comments, one value, no trailing garbage; UTF-8 is
   * validated by default and stays validated. */
  yajl_config (h, yajl_allow_comments, 0);

  while (pos < len)
    {
      const char *nl = memchr (buf + pos, '\n', len - pos);
      size_t chunk = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
      st = yajl_parse (h, (const unsigned char *)buf + pos, chunk);
      if (st != yajl_status_ok)
        {
          report_yajl_error (&b, h, buf + pos, chunk);
          break;
        }
      pos += chunk;
      if (nl)
        b.line++;
    }
  if (st == yajl_status_ok)
    {
      if (b.line > 1 && len > 0 && buf[len - 1] == '\n')
        b.line--;
      st = yajl_complete_parse (h);
      if (st != yajl_status_ok)
        report_yajl_error (&b, h, (const char *)"", 0);
    }
  yajl_free (h);
  free (b.pending_key);
  if (st != yajl_status_ok || b.root == NULL)
    {
      if (b.root == NULL && diags->n_errors == errors_before)
        sk_diags_add (diags, SK_DIAG_ERROR, "%s: empty file", source);
      sk_json_free (b.root);
      return NULL;
    }
  return b.root;
}

void
sk_json_free (struct sk_json *v)
{
  if (v == NULL)
    return;
  /* Depth is bounded by SK_JSON_MAX_DEPTH, so this recursion is too. */
  if (v->type == SK_JSON_ARRAY)
    for (size_t i = 0; i < v->n; i++)
      sk_json_free (v->items[i]);
  if (v->type == SK_JSON_OBJECT)
    for (size_t i = 0; i < v->n; i++)
      {
        free (v->members[i].key);
        sk_json_free (v->members[i].value);
      }
  free (v->items);
  free (v->members);
  free (v->text);
  free (v);
}

const struct sk_json *
sk_json_get (const struct sk_json *obj, const char *key)
{
  if (obj == NULL || obj->type != SK_JSON_OBJECT)
    return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp (obj->members[i].key, key) == 0)
      return obj->members[i].value;
  return NULL;
}
