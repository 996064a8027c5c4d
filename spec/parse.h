/* Internals of spec/: the JSON-to-model conversion context and its typed
 * getters, shared by parse_*.c, validate*.c and units.c. Not for other
 * layers: they include spec.h and task.h only. */
#ifndef SKIFF_PARSE_H
#define SKIFF_PARSE_H

#include "json.h"
#include "spec.h"
#include "task.h"

/* Per-field string limits (docs/task-definitions.md). */
#define SK_MAX_NAME 255
#define SK_MAX_PATH 4096
#define SK_MAX_VALUE 32768
#define SK_MAX_ARG 131072

/* What the model does not keep but the validation rules need: presence of
 * fields whose absence is a default in the model. */
struct sk_container_extra
{
  bool has_memory;
  bool has_memory_reservation;
  bool has_stop_timeout;
  bool has_start_timeout;
  bool has_shared_memory_size;
  bool has_gpu;
  bool has_log_config;
  bool has_firelens_file_s3;
};

struct sk_parse_extra
{
  bool bare_array;
  bool has_network_mode; /* absent means bridge for ECS's own rules */
  bool has_ipc_mode;
  bool has_cpu;
  bool has_memory;
  bool has_ephemeral_storage;
  size_t n_placement_constraints;
  size_t n_docker_volumes;
  size_t n_host_path_volumes;
  size_t n_containers;
  struct sk_container_extra *containers;
};

struct sk_pctx
{
  struct sk_diags *diags;
  const char *source;
  bool unknown_keys_are_warnings;
  struct sk_parse_extra *extra;
  char path[1024];
  size_t path_len;
};

/* Path bookkeeping: push returns the length to pop back to. */
size_t pc_push_key (struct sk_pctx *pc, const char *key);
size_t pc_push_index (struct sk_pctx *pc, size_t index);
void pc_pop (struct sk_pctx *pc, size_t saved);

/* "SOURCE: PATH: message" (or "SOURCE: message" at the root). */
void pc_error (struct sk_pctx *pc, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void pc_warn (struct sk_pctx *pc, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void pc_error_at (struct sk_pctx *pc, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void pc_warn_at (struct sk_pctx *pc, const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* "the string \"512m\"", "the number 1.5", "true", "an object", ... */
void pc_describe (const struct sk_json *v, char *buf, size_t size);

/* Report every key of obj not in the NULL-terminated list known (nor in
 * ignored, which may be NULL) with a "did you mean" suggestion. */
void pc_check_keys (struct sk_pctx *pc, const struct sk_json *obj, const char *const *known,
                    const char *const *ignored);
/* The closest candidate within a small edit distance, or NULL. */
const char *sk_suggest (const char *word, const char *const *candidates);

/* Typed getters. Each returns 1 when the key is present with the right type
 * (and *out is set), 0 when absent or null, -1 after reporting an error. */
#define SK_STR_NONEMPTY 1u
#define SK_STR_EMPTY_IS_ABSENT 2u
int pc_string (struct sk_pctx *pc, const struct sk_json *obj, const char *key, size_t max_len,
               unsigned flags, char **out);
int pc_bool (struct sk_pctx *pc, const struct sk_json *obj, const char *key, bool *out);
/* Integer in [min, max]; unit ("MiB", "seconds", "" ...) goes into messages. */
int pc_int (struct sk_pctx *pc, const struct sk_json *obj, const char *key, int64_t min,
            int64_t max, const char *unit, int64_t *out);
int pc_u32 (struct sk_pctx *pc, const struct sk_json *obj, const char *key, uint32_t min,
            uint32_t max, const char *unit, uint32_t *out);
/* Array / object: the node, or NULL when absent, null or of the wrong type. */
const struct sk_json *pc_array (struct sk_pctx *pc, const struct sk_json *obj, const char *key);
const struct sk_json *pc_object (struct sk_pctx *pc, const struct sk_json *obj, const char *key);
/* Array of strings into a NULL-terminated list. */
int pc_strv (struct sk_pctx *pc, const struct sk_json *obj, const char *key, size_t max_len,
             unsigned flags, struct sk_strv *out);
/* Free-form map of string values (dockerLabels, options, ...). */
int pc_string_map (struct sk_pctx *pc, const struct sk_json *obj, const char *key,
                   struct sk_kv_list *out);
/* String that must be one of values (NULL-terminated); *index is its position. */
int pc_enum (struct sk_pctx *pc, const struct sk_json *obj, const char *key,
             const char *const *values, int *index);
/* Report that a required key is absent. */
void pc_missing (struct sk_pctx *pc, const char *key);
/* Objects of an array, with the path pushed around each call of fn. */
typedef void (*sk_item_fn) (struct sk_pctx *pc, const struct sk_json *item, size_t index,
                            void *data);
size_t pc_each_object (struct sk_pctx *pc, const struct sk_json *obj, const char *key,
                       sk_item_fn fn, void *data);
/* Check a string value node already fetched (array elements). */
int pc_string_value (struct sk_pctx *pc, const struct sk_json *v, size_t max_len, unsigned flags,
                     char **out);

void sk_strv_push (struct sk_strv *v, char *s);
void sk_kv_push (struct sk_kv_list *l, char *name, char *value);

/* parse_task.c / parse_container.c / parse_linux.c */
int sk_parse_task_json (struct sk_pctx *pc, const struct sk_json *root,
                        const struct sk_load_opts *opts, const char *default_family,
                        struct sk_task *task);
void sk_parse_container (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c,
                         struct sk_container_extra *x);
void sk_parse_linux_parameters (struct sk_pctx *pc, const struct sk_json *obj,
                                struct sk_container *c, struct sk_container_extra *x);
void sk_parse_ulimits (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c);

/* validate.c / validate_fargate.c: cross-field rules; paths are rebuilt
 * from container indexes. */
void sk_validate_task (struct sk_pctx *pc, struct sk_task *task);
void sk_validate_fargate (struct sk_pctx *pc, const struct sk_task *task);

/* units.c */
bool sk_is_name (const char *s); /* [A-Za-z0-9_-]{1,255} */
bool sk_is_tmpfs_option (const char *opt);
const char *sk_host_architecture (void);

#endif
