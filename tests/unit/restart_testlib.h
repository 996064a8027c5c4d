/* Shared by the restart unit tests (test_restart.c, test_restart_labels.c):
 * loading a one-container task, parsing its policy, exit events. Include
 * after cmocka.h. */
#ifndef SKIFF_TEST_RESTART_LIB_H
#define SKIFF_TEST_RESTART_LIB_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_labels.h"
#include "restart.h"
#include "spec.h"
#include "util.h"

#define S 1000ull
#define MIN (60 * S)
/* The container's dockerLabels member with the given "key":"value" pairs. */
#define LABELS(x) "\"dockerLabels\":{" x "}"

/* ---- helpers --------------------------------------------------------------- */

/* Loads one container "c" with the given extra JSON members. */
static __attribute__ ((unused)) struct sk_task *
load (const char *members)
{
  _cleanup_free_ char *json = xasprintf ("{\"family\":\"f\",\"memory\":\"512\","
                                         "\"containerDefinitions\":[{\"name\":\"c\",\"image\":"
                                         "\"x\"%s%s}]}",
                                         *members ? "," : "", members);
  struct sk_diags d = { 0 };
  struct sk_task *t = NULL;
  sk_err_t err = NULL;

  if (sk_task_load_buffer (json, strlen (json), "task.json", NULL, &t, &d, &err) < 0)
    {
      sk_diags_print (&d, stderr);
      fail_msg ("cannot load %s", json);
    }
  sk_diags_clear (&d);
  sk_err_free (&err);
  return t;
}

/* Parses the policy; returns the diagnostics text ("" when valid). */
static __attribute__ ((unused)) char *
policy_of (const char *members, struct sk_restart_policy_x *p)
{
  struct sk_task *t = load (members);
  struct sk_diags d = { 0 };
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream (&text, &len);
  int rc = sk_restart_policy_from_container (&t->containers[0], p, &d);

  sk_diags_print (&d, m);
  fclose (m);
  assert_int_equal (rc, d.n_errors ? -1 : 0);
  sk_diags_clear (&d);
  sk_task_free (t);
  return text;
}

static __attribute__ ((unused)) void
must_parse (const char *members, struct sk_restart_policy_x *p)
{
  _cleanup_free_ char *diags = policy_of (members, p);
  assert_string_equal (diags, "");
}

static __attribute__ ((unused)) void
expect_error (const char *members, const char *expected)
{
  struct sk_restart_policy_x p;
  _cleanup_free_ char *diags = policy_of (members, &p);
  assert_string_equal (diags, expected);
  assert_null (p.rules);
}

static __attribute__ ((unused)) struct sk_exit_event
exited (int code)
{
  return (struct sk_exit_event){ .exit_known = true, .exit_code = code };
}

static __attribute__ ((unused)) struct sk_exit_event
killed (int sig)
{
  return (struct sk_exit_event){ .exit_known = true, .signal = sig };
}

/* A simple deterministic generator for jitter inputs. */
static __attribute__ ((unused)) uint64_t
xorshift (uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Mid-range random value: jitter factor exactly 1. */
#define NO_JITTER (1ull << 63)

#endif
