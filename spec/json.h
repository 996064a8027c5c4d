/* A tiny JSON value tree, private to spec/.
 *
 * spec/json.c builds it with yajl's event API (never yajl_tree_parse: no
 * depth limit, recursive free); the rest of spec/ reads only these structs,
 * so yajl stays inside one file. */
#ifndef SKIFF_JSON_H
#define SKIFF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

#define SK_JSON_MAX_BYTES (1024u * 1024u) /* documented in docs/task-definitions.md */
#define SK_JSON_MAX_DEPTH 64

enum sk_json_type
{
  SK_JSON_NULL,
  SK_JSON_BOOL,
  SK_JSON_NUMBER,
  SK_JSON_STRING,
  SK_JSON_ARRAY,
  SK_JSON_OBJECT,
};

struct sk_json_member;

struct sk_json
{
  enum sk_json_type type;
  unsigned line; /* 1-based line where the value ended */
  bool boolean;
  char *text;      /* STRING: the decoded bytes (may hold NULs); NUMBER: the literal */
  size_t len;      /* bytes in text */
  bool integral;   /* NUMBER: written without fraction or exponent */
  bool in_range;   /* NUMBER: integral and fits int64 */
  int64_t integer; /* NUMBER: the value when in_range */
  size_t n;        /* ARRAY / OBJECT: element count */
  struct sk_json **items;
  struct sk_json_member *members;
};

struct sk_json_member
{
  char *key;
  unsigned line;
  struct sk_json *value;
};

/* Parse buf (at most SK_JSON_MAX_BYTES). Syntax errors, depth overflow and
 * duplicate keys are added to diags as "SOURCE:LINE: ..." errors. Returns the
 * tree (duplicates keep their first value) or NULL when no tree was built. */
struct sk_json *sk_json_parse (const char *buf, size_t len, const char *source,
                               struct sk_diags *diags);
void sk_json_free (struct sk_json *v);

/* The first member called key, or NULL. */
const struct sk_json *sk_json_get (const struct sk_json *obj, const char *key);

#endif
