/* spec/: load, check and print ECS task definitions.
 *
 * The only public entry points of the task-definition parser. Every problem
 * of a file is collected in a struct sk_diags (all of them, not only the
 * first), each line naming the file and the JSON path or line:
 *   task.json: containerDefinitions[1].memory: expected an integer number of MiB, got ...
 * See docs/task-definitions.md for the accepted shapes, fields and limits. */
#ifndef SKIFF_SPEC_H
#define SKIFF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "task.h"

enum sk_diag_level
{
  SK_DIAG_WARNING,
  SK_DIAG_ERROR,
};

struct sk_diag
{
  enum sk_diag_level level;
  char *text; /* "task.json: containerDefinitions[1].memory: ..." or "task.json:12: ..." */
};

struct sk_diags
{
  size_t n;
  size_t n_errors;
  struct sk_diag *v;
};

void sk_diags_clear (struct sk_diags *d);
/* One line per diagnostic, prefixed "warning: " or "error: ". */
void sk_diags_print (const struct sk_diags *d, FILE *out);
/* Append one diagnostic (used by every stage of spec/). */
void sk_diags_add (struct sk_diags *d, enum sk_diag_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

struct sk_load_opts
{
  bool unknown_keys_are_warnings; /* --allow-unknown-keys: for files written for a newer ECS */
  const char *family;             /* bare-array form; NULL = the file's base name */
  const char *cpu;                /* bare-array form: task cpu ("1 vCPU", "512"); NULL = none */
  const char *memory;             /* bare-array form: task memory ("2 GB"); NULL = none */
};

/* 0 = valid (warnings may be in diags); -1 = invalid or unreadable: *out stays
 * NULL, err says "task.json: N errors" (or the I/O error), diags holds every
 * error. opts may be NULL. path "-" reads standard input. */
int sk_task_load_file (const char *path, const struct sk_load_opts *opts, struct sk_task **out,
                       struct sk_diags *diags, sk_err_t *err);
int sk_task_load_buffer (const char *buf, size_t len, const char *source_name,
                         const struct sk_load_opts *opts, struct sk_task **out,
                         struct sk_diags *diags, sk_err_t *err);

/* The normalized task, every default filled in, as JSON (camelCase ECS keys).
 * Caller frees. */
char *sk_task_to_json (const struct sk_task *task, bool pretty);

/* Units (spec/units.c). Task-level "cpu": "256", "1 vCPU", ".5 vcpu" -> CPU
 * units; "memory": "512", "2GB", "2 GB", "512 MiB" -> MiB. 0 or -1. */
int sk_parse_cpu_units (const char *text, uint32_t *units);
int sk_parse_memory_mib (const char *text, uint32_t *mib);
/* ulimit name ("nofile") -> RLIMIT_NOFILE, or -1. */
int sk_ulimit_resource (const char *name);
/* Capability name without CAP_, upper case ("SYS_ADMIN") -> number, or -1. */
int sk_capability_number (const char *name);

#endif
