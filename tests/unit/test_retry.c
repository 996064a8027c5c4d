/* launcher/retry: AWS Batch retryStrategy rules and decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"
#include "util.h"

static struct sk_retry_strategy
strategy (const char *retries, const char *const *rules, size_t n)
{
  struct sk_retry_strategy s = { 0 };
  sk_err_t err = NULL;

  if (retries != NULL)
    assert_int_equal (sk_retry_count_parse (retries, &s, &err), 0);
  for (size_t i = 0; i < n; i++)
    if (sk_retry_strategy_add_rule (&s, rules[i], &err) < 0)
      fail_msg ("%s: %s", rules[i], err->msg);
  return s;
}

static struct sk_attempt_result
code (int c)
{
  return (struct sk_attempt_result){ .has_exit_code = true,
                                     .exit_code = c,
                                     .status_reason = "Essential container in task exited" };
}

static void
test_glob (void **state)
{
  assert_true (sk_retry_glob_match ("1", "1"));
  assert_false (sk_retry_glob_match ("1", "10"));
  assert_true (sk_retry_glob_match ("1*", "10"));
  assert_true (sk_retry_glob_match ("1*", "1"));
  assert_false (sk_retry_glob_match ("1*", "21"));
  assert_true (sk_retry_glob_match ("*", "anything"));
  assert_true (sk_retry_glob_match ("*", ""));
  assert_true (sk_retry_glob_match ("*", NULL));
  assert_false (sk_retry_glob_match ("1*", NULL));
  assert_true (sk_retry_glob_match ("Host EC2*", "Host EC2 (instance i-1) terminated."));
  assert_false (sk_retry_glob_match ("host ec2*", "Host EC2 (instance i-1) terminated."));
}

static void
test_parse (void **state)
{
  struct sk_retry_rule r;
  sk_err_t err = NULL;
  char buf[1600];

  assert_int_equal (sk_retry_rule_parse ("exitCode=1*:RETRY", &r, &err), 0);
  assert_true (r.has_exit_code);
  assert_false (r.has_reason);
  assert_string_equal (r.on_exit_code, "1*");
  assert_int_equal (r.action, SK_RETRY_ACTION_RETRY);

  /* colons inside a reason pattern: the action follows the last one */
  assert_int_equal (
      sk_retry_rule_parse ("reason=CannotPullContainerError: *,exitCode=*:exit", &r, &err), 0);
  assert_string_equal (r.on_reason, "CannotPullContainerError: *");
  assert_string_equal (r.on_exit_code, "*");
  assert_int_equal (r.action, SK_RETRY_ACTION_EXIT);
  sk_retry_rule_format (&r, buf, sizeof buf);
  assert_string_equal (buf, "exitCode=*,reason=CannotPullContainerError: *:EXIT");

  assert_int_equal (sk_retry_rule_parse ("onStatusReason=Host EC2*:Retry", &r, &err), 0);
  assert_string_equal (r.on_status_reason, "Host EC2*");

  struct
  {
    const char *text, *msg;
  } bad[] = {
    { "exitCode=1", "--retry-on `exitCode=1`: expected FIELDS:ACTION, e.g. exitCode=1*:RETRY" },
    { "exitCode=1*:MAYBE", "--retry-on `exitCode=1*:MAYBE`: action `MAYBE` is not RETRY or EXIT" },
    { "RETRY", "--retry-on `RETRY`: expected FIELDS:ACTION, e.g. exitCode=1*:RETRY" },
    { ":RETRY", "--retry-on `:RETRY`: needs at least one of exitCode, reason, statusReason" },
    { "code=1:RETRY", "--retry-on `code=1:RETRY`: unknown key `code` (exitCode, reason or "
                      "statusReason)" },
    { "exitCode=1a:EXIT", "--retry-on `exitCode=1a:EXIT`: `exitCode=1a`: exit code patterns are "
                          "digits with an optional trailing `*`" },
    { "exitCode=*1:EXIT", "--retry-on `exitCode=*1:EXIT`: `exitCode=*1`: `*` is only allowed at "
                          "the end" },
    { "reason=Out(of)*:EXIT", "--retry-on `reason=Out(of)*:EXIT`: `reason=Out(of)*`: reason "
                              "patterns allow letters, digits, `.`, `:`, blanks and a trailing "
                              "`*`" },
    { "exitCode=:EXIT", "--retry-on `exitCode=:EXIT`: `exitCode`: empty pattern" },
    { "exitCode=1,exitCode=2:EXIT", "--retry-on `exitCode=1,exitCode=2:EXIT`: `exitCode` given "
                                    "twice" },
    { "exitCode:EXIT", "--retry-on `exitCode:EXIT`: `exitCode`: expected KEY=PATTERN (exitCode, "
                       "reason, statusReason)" },
  };
  for (size_t i = 0; i < SK_ARRAY_SIZE (bad); i++)
    {
      assert_int_equal (sk_retry_rule_parse (bad[i].text, &r, &err), -1);
      assert_string_equal (err->msg, bad[i].msg);
      sk_err_free (&err);
    }

  /* a pattern of 513 characters */
  _cleanup_free_ char *longer = xmalloc (600);
  memset (longer, 'a', 520);
  memcpy (longer, "reason=", 7);
  strcpy (longer + 7 + 513, ":EXIT");
  assert_int_equal (sk_retry_rule_parse (longer, &r, &err), -1);
  sk_err_free (&err);
  longer[7 + 512] = '\0';
  strcat (longer, ":EXIT");
  assert_int_equal (sk_retry_rule_parse (longer, &r, &err), 0);

  /* counts */
  struct sk_retry_strategy s = { 0 };
  assert_int_equal (sk_retry_count_parse ("0", &s, &err), 0);
  assert_int_equal (s.attempts, 1);
  assert_int_equal (sk_retry_count_parse ("9", &s, &err), 0);
  assert_int_equal (s.attempts, 10);
  const char *bad_counts[] = { "10", "-1", "", "x", "3 " };
  for (size_t i = 0; i < SK_ARRAY_SIZE (bad_counts); i++)
    {
      assert_int_equal (sk_retry_count_parse (bad_counts[i], &s, &err), -1);
      sk_err_free (&err);
    }

  /* at most five rules */
  for (int i = 0; i < 5; i++)
    assert_int_equal (sk_retry_strategy_add_rule (&s, "exitCode=1:RETRY", &err), 0);
  assert_int_equal (sk_retry_strategy_add_rule (&s, "exitCode=1:RETRY", &err), -1);
  assert_string_equal (err->msg, "--retry-on `exitCode=1:RETRY`: at most 5 rules (as AWS Batch)");
  sk_err_free (&err);
}

static void
test_default_retry (void **state)
{
  struct sk_retry_strategy s = strategy ("2", NULL, 0);
  struct sk_attempt_result r = code (1);
  struct sk_retry_decision d;

  d = sk_retry_decide (&s, 1, &r);
  assert_true (d.retry);
  assert_int_equal (d.rule, -1);
  assert_string_equal (d.reason, "exit code 1 matched no rule (default RETRY); starting attempt 2 "
                                 "of 3");
  d = sk_retry_decide (&s, 2, &r);
  assert_true (d.retry);
  d = sk_retry_decide (&s, 3, &r);
  assert_false (d.retry);
  assert_string_equal (d.reason, "exit code 1; no attempts left (3 of 3 used)");

  /* success is never retried */
  r = code (0);
  d = sk_retry_decide (&s, 1, &r);
  assert_false (d.retry);
  assert_string_equal (d.reason, "attempt 1 of 3 succeeded");

  /* zero-initialized strategy: one attempt */
  struct sk_retry_strategy none = { 0 };
  r = code (1);
  d = sk_retry_decide (&none, 1, &r);
  assert_false (d.retry);
  assert_int_equal (d.attempts, 1);
}

static void
test_rule_order (void **state)
{
  const char *const rules[] = {
    "exitCode=137,reason=OutOfMemoryError*:EXIT",
    "exitCode=13*:RETRY",
    "statusReason=Host EC2*:RETRY",
    "reason=CannotPullContainerError*:RETRY",
    "exitCode=*:EXIT",
  };
  struct sk_retry_strategy s = strategy ("9", rules, 5);
  struct sk_attempt_result r;
  struct sk_retry_decision d;

  /* OOM: all fields of rule 1 match */
  r = code (137);
  r.reason = "OutOfMemoryError: Container killed due to memory usage";
  d = sk_retry_decide (&s, 1, &r);
  assert_false (d.retry);
  assert_int_equal (d.rule, 0);
  assert_string_equal (d.reason, "exit code 137 matched rule 1 (exitCode=137,reason="
                                 "OutOfMemoryError*:EXIT); not retrying");
  /* 137 without the OOM reason: rule 1 fails on one field, rule 2 matches */
  r.reason = NULL;
  d = sk_retry_decide (&s, 1, &r);
  assert_true (d.retry);
  assert_int_equal (d.rule, 1);
  assert_string_equal (d.reason, "exit code 137 matched rule 2 (exitCode=13*:RETRY); starting "
                                 "attempt 2 of 10");
  /* a host loss with some code */
  r = code (1);
  r.status_reason = "Host EC2 (instance i-0abc) terminated.";
  d = sk_retry_decide (&s, 4, &r);
  assert_true (d.retry);
  assert_int_equal (d.rule, 2);
  /* a start failure: no exit code; only reason/statusReason rules can match */
  r = (struct sk_attempt_result){ .reason = "CannotPullContainerError: pull access denied" };
  d = sk_retry_decide (&s, 2, &r);
  assert_true (d.retry);
  assert_int_equal (d.rule, 3);
  assert_string_equal (d.reason, "no exit code matched rule 4 (reason=CannotPullContainerError*:"
                                 "RETRY); starting attempt 3 of 10");
  /* everything else: the final catch-all EXIT */
  r = code (2);
  d = sk_retry_decide (&s, 1, &r);
  assert_false (d.retry);
  assert_int_equal (d.rule, 4);
  /* the last attempt: RETRY rule, but nothing left */
  r = code (139);
  d = sk_retry_decide (&s, 10, &r);
  assert_false (d.retry);
  assert_string_equal (d.reason, "exit code 139; no attempts left (10 of 10 used)");
}

static void
test_timeout_and_cancel (void **state)
{
  const char *const rules[] = { "exitCode=*:RETRY" };
  struct sk_retry_strategy s = strategy ("3", rules, 1);
  struct sk_attempt_result r = code (143);
  struct sk_retry_decision d;

  r.timed_out = true;
  r.status_reason = "Job attempt duration exceeded timeout";
  d = sk_retry_decide (&s, 1, &r);
  assert_false (d.retry);
  assert_string_equal (d.reason, "attempt 1 timed out; a timed-out attempt is not retried");
  /* even an exit 0 after the deadline is not a success */
  r.exit_code = 0;
  d = sk_retry_decide (&s, 1, &r);
  assert_false (d.retry);
  assert_string_equal (d.reason, "attempt 1 timed out; a timed-out attempt is not retried");
  /* the skiff extension */
  s.retry_on_timeout = true;
  r.exit_code = 143;
  d = sk_retry_decide (&s, 1, &r);
  assert_true (d.retry);

  r = code (130);
  r.cancelled = true;
  d = sk_retry_decide (&s, 1, &r);
  assert_false (d.retry);
  assert_string_equal (d.reason, "attempt 1 was cancelled; not retrying");
}

static void
test_long_history (void **state)
{
  /* a flaky job: fails with 1 twice, then host loss, then succeeds */
  const char *const rules[]
      = { "exitCode=1:RETRY", "statusReason=Host EC2*:RETRY", "reason=*:EXIT" };
  struct sk_retry_strategy s = strategy ("4", rules, 3);
  struct sk_attempt_result seq[4] = { code (1), code (1), code (255), code (0) };
  uint32_t attempt = 1;

  seq[2].status_reason = "Host EC2 (instance i-1) stopped.";
  for (;; attempt++)
    {
      struct sk_retry_decision d = sk_retry_decide (&s, attempt, &seq[attempt - 1]);
      if (!d.retry)
        {
          assert_string_equal (d.reason, "attempt 4 of 5 succeeded");
          break;
        }
    }
  assert_int_equal (attempt, 4);

  /* an unexpected code meets reason=* (no reason given counts as matched by *) */
  struct sk_attempt_result other = code (3);
  struct sk_retry_decision d = sk_retry_decide (&s, 1, &other);
  assert_false (d.retry);
  assert_int_equal (d.rule, 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_glob),
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_default_retry),
    cmocka_unit_test (test_rule_order),
    cmocka_unit_test (test_timeout_and_cancel),
    cmocka_unit_test (test_long_history),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
