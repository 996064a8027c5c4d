/* libFuzzer harness for the task-definition parser (spec/).
 *
 * Each input is loaded as "fuzz.json". Beyond "no crash, no leak, no UB"
 * under ASan+UBSan, it checks the contract of sk_task_load_buffer() and a
 * round-trip property: a task that loads prints as JSON that loads again
 * and prints the very same text (pretty and compact), so the printer never
 * writes what the parser refuses or reads differently.
 *
 * Built twice by the Makefile (`make fuzz`): fuzz_spec (unknown keys are
 * errors, the default) and fuzz_spec_lenient (-DSK_FUZZ_LENIENT=1, unknown
 * keys are warnings as with --allow-unknown-keys). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "util.h"

#ifndef SK_FUZZ_LENIENT
#define SK_FUZZ_LENIENT 0
#endif

/* The loader's input cap (spec/json.h keeps it private). */
#define FUZZ_MAX_BYTES (1024u * 1024u)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const source_name = "fuzz.json";

/* FUZZ_SPEC_NO_ROUND_TRIP=1 in the environment: while a known round-trip
 * bug is open, keep hunting memory errors without hitting it every run. */
static int skip_round_trip = -1;

/* A broken property: print what is needed to understand it and abort, which
 * libFuzzer records as a crash with this input. */
__attribute__ ((noreturn, format (printf, 1, 2))) static void
fail (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("fuzz_spec: property broken: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  abort ();
}

static void
print_diags (const struct sk_diags *d)
{
  sk_diags_print (d, stderr);
}

/* Load buf and check the entry point's contract; the task or NULL. */
static struct sk_task *
load_checked (const char *buf, size_t len, const struct sk_load_opts *opts, const char *what)
{
  struct sk_diags diags = { 0 };
  struct sk_task *task = NULL;
  sk_err_t err = NULL;
  int rc;

  rc = sk_task_load_buffer (buf, len, source_name, opts, &task, &diags, &err);
  if (rc == 0 && (task == NULL || err != NULL || diags.n_errors != 0))
    fail ("%s: returned 0 with task=%p err=%p and %zu errors", what, (void *)task, (void *)err,
          diags.n_errors);
  if (rc < 0 && (task != NULL || err == NULL || diags.n_errors == 0))
    fail ("%s: returned %d with task=%p err=%p and %zu errors", what, rc, (void *)task, (void *)err,
          diags.n_errors);
  if (diags.n_errors > diags.n)
    fail ("%s: %zu errors counted but %zu diagnostics kept", what, diags.n_errors, diags.n);
  for (size_t i = 0; i < diags.n; i++)
    if (diags.v[i].text == NULL || strncmp (diags.v[i].text, source_name, strlen (source_name)))
      fail ("%s: diagnostic %zu does not start with the source name", what, i);
  if (rc < 0 && strcmp (what, "input") != 0)
    {
      print_diags (&diags);
      sk_err_print (&err);
    }
  sk_err_free (&err);
  sk_diags_clear (&diags);
  return task;
}

/* Name the first line where two printings differ, not two whole texts. */
__attribute__ ((noreturn)) static void
report_first_difference (const char *first, const char *second)
{
  size_t line = 1, at = 0, start = 0;

  while (first[at] != '\0' && first[at] == second[at])
    {
      if (first[at] == '\n')
        {
          line++;
          start = at + 1;
        }
      at++;
    }
  fail ("printing is not stable across a re-load; first difference at line %zu:\n"
        "  first:  %.200s\n  second: %.200s",
        line, first + start, second + start);
}

/* printed (from the first load) must load again and print identically. */
static void
check_round_trip (const char *printed, bool pretty, const struct sk_load_opts *opts)
{
  size_t len = strlen (printed);
  struct sk_task *again;
  char *reprinted;

  /* Pretty printing can grow a near-cap input past the cap; the loader
   * rightly refuses that, so there is nothing to compare. */
  if (len > FUZZ_MAX_BYTES)
    return;
  again = load_checked (printed, len, opts, pretty ? "pretty re-load" : "compact re-load");
  if (again == NULL)
    fail ("the printed task does not load again (errors above); it begins:\n%.1500s", printed);
  reprinted = sk_task_to_json (again, pretty);
  if (strcmp (printed, reprinted) != 0)
    report_first_difference (printed, reprinted);
  free (reprinted);
  sk_task_free (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct sk_load_opts opts = { .unknown_keys_are_warnings = SK_FUZZ_LENIENT };
  struct sk_task *task;
  char *pretty, *compact;

  task = load_checked ((const char *)data, size, &opts, "input");
  if (task == NULL)
    return 0;
  if (skip_round_trip < 0)
    skip_round_trip = getenv ("FUZZ_SPEC_NO_ROUND_TRIP") != NULL;
  pretty = sk_task_to_json (task, true);
  compact = sk_task_to_json (task, false);
  if (pretty == NULL || compact == NULL)
    fail ("sk_task_to_json returned NULL");
  if (!skip_round_trip)
    {
      check_round_trip (pretty, true, &opts);
      check_round_trip (compact, false, &opts);
    }
  free (pretty);
  free (compact);
  sk_task_free (task);
  return 0;
}
