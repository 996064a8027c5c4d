/* launcher/deps: dependsOn graphs at run time, stop order, stop codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps.h"
#include "spec.h"
#include "util.h"

#define S 1000ull
#define REASON "CannotStartContainerError: dependency graph: "

static struct sk_task *
load (const char *extra, const char *containers)
{
  _cleanup_free_ char *json = xasprintf ("{\"family\":\"f\",\"memory\":\"1024\"%s,"
                                         "\"containerDefinitions\":[%s]}",
                                         extra, containers);
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

#define C(name, more) "{\"name\":\"" name "\",\"image\":\"x\"" more "}"
#define DEP(name, cond) "{\"containerName\":\"" name "\",\"condition\":\"" cond "\"}"
#define HC ",\"healthCheck\":{\"command\":[\"CMD\",\"true\"]}"
#define NONESS ",\"essential\":false"

static void
run (struct sk_container_status *st, uint64_t at)
{
  st->state = SK_RUN_RUNNING;
  st->ever_started = true;
  st->started_ms = at;
}

static void
stop (struct sk_container_status *st, int code)
{
  st->state = SK_RUN_STOPPED;
  st->exit_known = true;
  st->exit_code = code;
}

/* "ab" = containers 0 and 1 may start. */
static void
expect_startable (const struct sk_task *t, const struct sk_container_status *st, uint64_t now,
                  const char *expected)
{
  struct sk_deps_plan plan;
  char got[32] = "";
  size_t k = 0;

  sk_deps_evaluate (t, st, now, &plan);
  for (size_t i = 0; i < plan.n; i++)
    if (plan.may_start[i])
      got[k++] = (char)('a' + i);
  got[k] = '\0';
  sk_deps_plan_clear (&plan);
  assert_string_equal (got, expected);
}

static void
test_chain (void **state)
{
  struct sk_task *t
      = load ("", C ("a", "") "," C ("b", ",\"dependsOn\":[" DEP ("a", "START") "]") "," C (
                      "c", ",\"dependsOn\":[" DEP ("b", "START") "]"));
  struct sk_container_status st[3] = { 0 };

  expect_startable (t, st, 0, "a");
  run (&st[0], 1);
  expect_startable (t, st, 2, "b");
  run (&st[1], 3);
  expect_startable (t, st, 4, "c");
  /* START is also met by a dependency that started and already exited */
  st[2] = (struct sk_container_status){ 0 };
  stop (&st[1], 1);
  expect_startable (t, st, 5, "c");
  sk_task_free (t);
}

static void
test_diamond (void **state)
{
  struct sk_task *t = load (
      "", C ("a", NONESS) "," C ("b", ",\"dependsOn\":[" DEP ("a", "SUCCESS") "]") "," C (
              "c", ",\"dependsOn\":[" DEP (
                       "a", "COMPLETE") "]") "," C ("d",
                                                    ",\"dependsOn\":[" DEP ("b", "START") "," DEP (
                                                        "c", "START") "]"));
  struct sk_container_status st[4] = { 0 };

  expect_startable (t, st, 0, "a");
  run (&st[0], 0);
  expect_startable (t, st, 1, "");
  stop (&st[0], 0);
  expect_startable (t, st, 2, "bc");
  run (&st[1], 3);
  expect_startable (t, st, 4, "c");
  run (&st[2], 5);
  expect_startable (t, st, 6, "d");
  sk_task_free (t);
}

static void
test_conditions (void **state)
{
  struct sk_task *t = load (
      "",
      C ("dep", NONESS HC) "," C ("on_start", ",\"dependsOn\":[" DEP ("dep", "START") "]") "," C (
          "on_complete",
          ",\"dependsOn\":[" DEP (
              "dep", "COMPLETE") "]") "," C ("on_success",
                                             ",\"dependsOn\":[" DEP (
                                                 "dep",
                                                 "SUCCESS") "]") "," C ("on_healthy",
                                                                        ",\"dependsOn\":[" DEP (
                                                                            "dep", "HEALTHY") "]"));
  struct sk_container_status st[5] = { 0 };

  st[0].state = SK_RUN_PENDING;
  expect_startable (t, st, 0, "a");
  run (&st[0], 10);
  expect_startable (t, st, 11, "b");
  st[0].health = SK_HEALTH_UNHEALTHY;
  expect_startable (t, st, 12, "b");
  st[0].health = SK_HEALTH_HEALTHY;
  expect_startable (t, st, 13, "be");
  /* exit 0: START, COMPLETE, SUCCESS; HEALTHY can never be met any more */
  stop (&st[0], 0);
  struct sk_deps_plan plan;
  sk_deps_evaluate (t, st, 14, &plan);
  assert_true (plan.may_start[1] && plan.may_start[2] && plan.may_start[3]);
  assert_false (plan.may_start[4]);
  assert_true (plan.never_start[4]);
  assert_string_equal (plan.reason[4],
                       REASON "failed to resolve container ordering dependency [dep] for target "
                              "[on_healthy] because dependency stopped without reaching condition "
                              "HEALTHY");
  sk_deps_plan_clear (&plan);
  /* exit 3: COMPLETE yes, SUCCESS never */
  stop (&st[0], 3);
  sk_deps_evaluate (t, st, 15, &plan);
  assert_true (plan.may_start[2]);
  assert_true (plan.never_start[3]);
  assert_string_equal (plan.reason[3],
                       REASON "failed to resolve container ordering dependency [dep] for target "
                              "[on_success] as dependency did not exit successfully.");
  sk_deps_plan_clear (&plan);
  sk_task_free (t);
}

static void
test_success_fail_fast_propagates (void **state)
{
  /* the init-container pattern, with a second level behind app */
  struct sk_task *t = load (
      "",
      C ("migrate", NONESS) "," C ("app", ",\"dependsOn\":[" DEP ("migrate", "SUCCESS") "]") "," C (
          "proxy",
          NONESS ",\"dependsOn\":[" DEP ("app", "START") "]") "," C ("report",
                                                                     NONESS ",\"dependsOn\":[" DEP (
                                                                         "proxy", "COMPLETE") "]"));
  struct sk_container_status st[4] = { 0 };
  struct sk_deps_plan plan;

  run (&st[0], 0);
  stop (&st[0], 1);
  sk_deps_evaluate (t, st, 10, &plan);
  assert_true (plan.never_start[1]);
  assert_string_equal (plan.reason[1],
                       REASON "failed to resolve container ordering dependency [migrate] for "
                              "target [app] as dependency did not exit successfully.");
  /* in the same call: proxy behind app can never start either */
  assert_true (plan.never_start[2]);
  assert_string_equal (plan.reason[2],
                       REASON "failed to resolve container ordering dependency [app] for target "
                              "[proxy] because dependency will never start");
  /* COMPLETE is met by the blocked proxy's stop (143), as the agent does */
  assert_false (plan.never_start[3]);
  assert_true (plan.may_start[3]);
  assert_false (plan.has_deadline);
  sk_deps_plan_clear (&plan);

  /* the loop marks app stopped without running: the task fails to start */
  enum sk_stop_cause cause;
  size_t idx = 99;
  st[1] = (struct sk_container_status){ .state = SK_RUN_STOPPED,
                                        .exit_known = true,
                                        .exit_code = 143 };
  assert_true (sk_deps_task_should_stop (t, st, &cause, &idx));
  assert_int_equal (idx, 1);
  assert_int_equal (cause, SK_STOP_FAILED_TO_START);
  assert_string_equal (sk_stop_code (cause), "TaskFailedToStart");
  sk_task_free (t);
}

static void
test_start_timeout (void **state)
{
  struct sk_task *t = load (
      "", C ("db", NONESS HC ",\"startTimeout\":10") "," C (
              "slow", NONESS
              ",\"startTimeout\":30") "," C ("app",
                                             ",\"dependsOn\":[" DEP ("db", "HEALTHY") "," DEP (
                                                 "slow",
                                                 "COMPLETE") "]") "," C ("side",
                                                                         ",\"dependsOn\":[" DEP (
                                                                             "db", "START") "]"));
  struct sk_container_status st[4] = { 0 };
  struct sk_deps_plan plan;

  run (&st[0], 100 * S);
  run (&st[1], 105 * S);
  sk_deps_evaluate (t, st, 101 * S, &plan);
  assert_true (plan.has_deadline);
  assert_int_equal (plan.deadline_ms, 110 * S); /* the earlier of 110 s and 135 s */
  assert_true (plan.may_start[3]);
  sk_deps_plan_clear (&plan);

  /* db healthy in time: only slow's deadline remains */
  st[0].health = SK_HEALTH_HEALTHY;
  sk_deps_evaluate (t, st, 109 * S, &plan);
  assert_int_equal (plan.deadline_ms, 135 * S);
  sk_deps_plan_clear (&plan);

  /* db not healthy at its deadline: app fails; START (side) ignores timeouts */
  st[0].health = SK_HEALTH_UNKNOWN;
  sk_deps_evaluate (t, st, 110 * S, &plan);
  assert_true (plan.never_start[2]);
  assert_string_equal (plan.reason[2], REASON "container ordering dependency [db] for target "
                                              "[app] has timed out.");
  assert_true (plan.may_start[3]);
  sk_deps_plan_clear (&plan);

  /* a dependency that already stopped cannot time out */
  stop (&st[1], 0);
  st[0].health = SK_HEALTH_HEALTHY;
  sk_deps_evaluate (t, st, 1000 * S, &plan);
  assert_false (plan.never_start[2]);
  sk_deps_plan_clear (&plan);
  sk_task_free (t);
}

static void
test_unknown_dependency (void **state)
{
  struct sk_task *t = load ("", C ("a", "") "," C ("b", ",\"dependsOn\":[" DEP ("a", "START") "]"));
  struct sk_container_status st[2] = { 0 };
  struct sk_deps_plan plan;

  /* validation refuses this; the evaluator still must not crash */
  free (t->containers[1].depends_on[0].container_name);
  t->containers[1].depends_on[0].container_name = xstrdup ("ghost");
  sk_deps_evaluate (t, st, 0, &plan);
  assert_true (plan.never_start[1]);
  assert_string_equal (plan.reason[1], REASON "container ordering dependency [ghost] for target "
                                              "[b] does not exist.");
  sk_deps_plan_clear (&plan);
  sk_task_free (t);
}

static void
test_implicit_dependencies (void **state)
{
  struct sk_task *t = load (",\"networkMode\":\"bridge\"",
                            C ("data", NONESS) "," C ("db", "") "," C (
                                "app", ",\"links\":[\"db:database\"],\"volumesFrom\":[{"
                                       "\"sourceContainer\":\"data\"}]"));
  struct sk_container_status st[3] = { 0 };

  expect_startable (t, st, 0, "ab");
  run (&st[0], 1);
  expect_startable (t, st, 2, "b");
  run (&st[1], 3);
  expect_startable (t, st, 4, "c");
  run (&st[2], 5);
  /* and they order the stop */
  assert_false (sk_deps_may_stop (t, st, 0));
  assert_false (sk_deps_may_stop (t, st, 1));
  assert_true (sk_deps_may_stop (t, st, 2));
  stop (&st[2], 0);
  assert_true (sk_deps_may_stop (t, st, 0));
  assert_true (sk_deps_may_stop (t, st, 1));
  sk_task_free (t);
}

static void
test_stop_order (void **state)
{
  /* envoy <- app (HEALTHY), log <- envoy (START), log <- app (START) */
  struct sk_task *t = load (
      "", C ("log", "") "," C ("envoy", HC ",\"dependsOn\":[" DEP ("log", "START") "]") "," C (
              "app", ",\"dependsOn\":[" DEP ("envoy", "HEALTHY") "," DEP ("log", "START") "]"));
  struct sk_container_status st[3] = { 0 };
  char order[8] = "";
  size_t k = 0;

  for (size_t i = 0; i < 3; i++)
    run (&st[i], i);
  /* repeatedly stop everything that may stop: the order must be app, envoy, log */
  while (k < 3)
    {
      bool any = false;
      for (size_t i = 0; i < 3; i++)
        if (st[i].state == SK_RUN_RUNNING && sk_deps_may_stop (t, st, i))
          {
            order[k++] = (char)('a' + i);
            stop (&st[i], 143);
            any = true;
            break;
          }
      assert_true (any);
    }
  assert_string_equal (order, "cba");

  /* a pending dependent does not block */
  st[0].state = st[1].state = SK_RUN_RUNNING;
  st[2] = (struct sk_container_status){ 0 };
  assert_true (sk_deps_may_stop (t, st, 1));
  sk_task_free (t);
}

static void
test_stop_codes (void **state)
{
  struct sk_task *t = load ("", C ("main", "") "," C ("side", NONESS));
  struct sk_container_status st[2] = { 0 };
  enum sk_stop_cause cause;
  size_t idx;

  run (&st[0], 0);
  run (&st[1], 0);
  stop (&st[1], 1);
  assert_false (sk_deps_task_should_stop (t, st, &cause, &idx)); /* non-essential */
  stop (&st[0], 0);
  assert_true (sk_deps_task_should_stop (t, st, &cause, &idx));
  assert_int_equal (idx, 0);
  assert_int_equal (cause, SK_STOP_ESSENTIAL_EXITED);
  assert_string_equal (sk_stop_code (cause), "EssentialContainerExited");
  assert_string_equal (sk_stopped_reason (cause), "Essential container in task exited");
  assert_string_equal (sk_stop_code (SK_STOP_USER_INITIATED), "UserInitiated");
  assert_string_equal (sk_stop_code (SK_STOP_FAILED_TO_START), "TaskFailedToStart");
  assert_string_equal (sk_stopped_reason (SK_STOP_TIMEOUT),
                       "Job attempt duration exceeded timeout");
  assert_string_equal (sk_stopped_reason (SK_STOP_UNHEALTHY),
                       "Task failed container health checks");
  sk_task_free (t);
}

static void
test_large_chain (void **state)
{
  /* 40 containers in a chain: each evaluation lets exactly the next one start */
  _cleanup_free_ char *list = xstrdup (C ("n0", ""));
  for (int i = 1; i < 40; i++)
    {
      char *next = xasprintf ("%s,{\"name\":\"n%d\",\"image\":\"x\",\"dependsOn\":[{"
                              "\"containerName\":\"n%d\",\"condition\":\"START\"}]}",
                              list, i, i - 1);
      free (list);
      list = next;
    }
  struct sk_task *t = load ("", list);
  struct sk_container_status st[40] = { 0 };
  for (size_t i = 0; i < 40; i++)
    {
      struct sk_deps_plan plan;
      sk_deps_evaluate (t, st, i, &plan);
      for (size_t j = 0; j < 40; j++)
        assert_int_equal (plan.may_start[j], j == i);
      sk_deps_plan_clear (&plan);
      run (&st[i], i);
    }
  /* and the stop order is the reverse */
  for (size_t i = 40; i-- > 0;)
    {
      for (size_t j = 0; j < i; j++)
        assert_false (sk_deps_may_stop (t, st, j));
      assert_true (sk_deps_may_stop (t, st, i));
      stop (&st[i], 143);
    }
  sk_task_free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_chain),
    cmocka_unit_test (test_diamond),
    cmocka_unit_test (test_conditions),
    cmocka_unit_test (test_success_fail_fast_propagates),
    cmocka_unit_test (test_start_timeout),
    cmocka_unit_test (test_unknown_dependency),
    cmocka_unit_test (test_implicit_dependencies),
    cmocka_unit_test (test_stop_order),
    cmocka_unit_test (test_stop_codes),
    cmocka_unit_test (test_large_chain),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
