/* launcher/restart: restart decisions over long histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "restart_testlib.h"

/* ---- decisions --------------------------------------------------------------- */

/* A crash loop: every run lasts `run_ms` and exits with `code`. Records
 * every decision; returns the number of restarts before the first refusal
 * (or max_runs). */
static size_t
crash_loop (const struct sk_restart_policy_x *p, struct sk_restart_history *h, uint64_t *now,
            uint64_t run_ms, int code, size_t max_runs, uint64_t *delays,
            struct sk_restart_decision *last)
{
  size_t restarts = 0;
  struct sk_exit_event ev = exited (code);

  for (size_t i = 0; i < max_runs; i++)
    {
      sk_restart_history_record_start (h, *now);
      *now += run_ms;
      *last = sk_restart_decide (p, h, &ev, *now, NO_JITTER);
      sk_restart_history_record_decision (h, last, *now);
      if (!last->restart)
        return restarts;
      if (delays != NULL)
        delays[restarts] = last->delay_ms;
      restarts++;
      *now += last->delay_ms;
    }
  return restarts;
}

static void
test_backoff_sequence (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  uint64_t now = 1000, delays[12];
  const uint64_t expected[12] = { 1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60 };

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  assert_int_equal (crash_loop (&p, &h, &now, 2 * S, 1, 12, delays, &d), 12);
  for (size_t i = 0; i < 12; i++)
    assert_int_equal (delays[i], expected[i] * S);
  assert_int_equal (h.restart_count, 12);
  assert_int_equal (h.backoff_step, 12);
  assert_int_equal (h.last_delay_ms, 60 * S);
  assert_string_equal (d.reason, "exit code 1 under skiff.restart=on-failure; attempt 12; next "
                                 "in 60.0s");

  /* the printed schedule is the same curve */
  uint64_t sched[8];
  sk_restart_schedule (&p, sched, 8);
  for (size_t i = 0; i < 8; i++)
    assert_int_equal (sched[i], expected[i] * S);
  sk_restart_policy_x_clear (&p);
}

static void
test_jitter_bounds (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_exit_event ev = exited (1);
  uint64_t seed = 0x9e3779b97f4a7c15ull;

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  sk_restart_history_record_start (&h, 0);

  /* the extremes of the random value */
  struct sk_restart_decision lo = sk_restart_decide (&p, &h, &ev, 10, 0);
  struct sk_restart_decision hi = sk_restart_decide (&p, &h, &ev, 10, UINT64_MAX);
  assert_int_equal (lo.delay_ms, 800);
  assert_in_range (hi.delay_ms, 1199, 1200);

  for (uint32_t step = 0; step < 10; step++)
    {
      h.backoff_step = step;
      double base = 1000.0;
      for (uint32_t i = 0; i < step; i++)
        base = base * 2 < 60000 ? base * 2 : 60000;
      uint64_t min = (uint64_t)(base * 0.8), max = (uint64_t)(base * 1.2 + 1);
      if (max > 60000)
        max = 60000;
      uint64_t seen_min = UINT64_MAX, seen_max = 0;
      for (int i = 0; i < 2000; i++)
        {
          struct sk_restart_decision d = sk_restart_decide (&p, &h, &ev, 10, xorshift (&seed));
          assert_true (d.restart);
          assert_in_range (d.delay_ms, min, max);
          seen_min = d.delay_ms < seen_min ? d.delay_ms : seen_min;
          seen_max = d.delay_ms > seen_max ? d.delay_ms : seen_max;
        }
      /* the spread is used, not a constant */
      assert_true (seen_max - seen_min > (max - min) / 2);
    }
  sk_restart_policy_x_clear (&p);
}

static void
test_give_up_within_window (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  uint64_t now = 5 * S;

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.maxAttempts\":\"5\","
                      "\"skiff.restart.window\":\"10m\",\"skiff.restart.jitter\":\"0\""),
              &p);
  /* crashes 1 s after each start: 1+2+4+8+16 s of delays, well inside 10 m */
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 50, NULL, &d), 5);
  assert_false (d.restart);
  assert_true (d.gave_up);
  assert_true (h.gave_up);
  assert_string_equal (d.reason, "gave up: 5 attempts within 10m (exit code 1)");
  assert_false (sk_restart_resume_allowed (&p, &h));
  sk_restart_policy_x_clear (&p);
}

static void
test_attempt_text (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);
  uint64_t now = 0;

  must_parse (LABELS ("\"skiff.restart\":\"never\",\"skiff.restart.onUnhealthy\":\"restart\","
                      "\"skiff.restart.exitCodes\":\"1-3=restart\","
                      "\"skiff.restart.maxAttempts\":\"5\",\"skiff.restart.window\":\"10m\","
                      "\"skiff.restart.jitter\":\"0\""),
              &p);
  for (int i = 0; i < 3; i++)
    {
      sk_restart_history_record_start (&h, now);
      now += 1 * S;
      d = sk_restart_decide (&p, &h, &ev, now, 12345);
      sk_restart_history_record_decision (&h, &d, now);
      now += d.delay_ms;
    }
  assert_string_equal (d.reason, "exit code 1 matched rule 1-3=restart; attempt 3 of 5; next in "
                                 "4.0s");
  assert_string_equal (d.rule, "1-3=restart");
  assert_string_equal (d.trigger, "exit");
  assert_int_equal (d.attempt, 3);
  assert_int_equal (d.max_attempts, 5);

  /* outside the rules, mode never decides */
  ev = exited (4);
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 4; skiff.restart=never; not restarting");
  sk_restart_policy_x_clear (&p);
}

static void
test_window_slides (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_exit_event ev = exited (2);
  struct sk_restart_decision d;

  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.maxAttempts\":\"3\","
                      "\"skiff.restart.window\":\"1m\",\"skiff.restart.delay\":\"0\","
                      "\"skiff.restart.maxDelay\":\"0\""),
              &p);
  /* restarts at 0 s, 20 s, 40 s; a fourth at 50 s is refused */
  const uint64_t at[] = { 0, 20 * S, 40 * S };
  for (size_t i = 0; i < 3; i++)
    {
      sk_restart_history_record_start (&h, at[i] > 0 ? at[i] - 1 : 0);
      d = sk_restart_decide (&p, &h, &ev, at[i], 0);
      assert_true (d.restart);
      assert_int_equal (d.attempt, i + 1);
      assert_int_equal (d.delay_ms, 0);
      assert_string_equal (d.reason + strlen (d.reason) - strlen ("restarting now"),
                           "restarting now");
      sk_restart_history_record_decision (&h, &d, at[i]);
    }
  d = sk_restart_decide (&p, &h, &ev, 50 * S, 0);
  assert_false (d.restart);
  assert_true (d.gave_up);
  assert_string_equal (d.reason, "gave up: 3 attempts within 1m (exit code 2)");
  /* exactly one window after the first restart it has left the window */
  d = sk_restart_decide (&p, &h, &ev, 60 * S, 0);
  assert_true (d.restart);
  assert_int_equal (d.attempt, 3);
  sk_restart_history_record_decision (&h, &d, 60 * S);
  /* 70 s: restarts at 20, 40, 60 are inside -> refused; 80 s: 20 left -> allowed */
  d = sk_restart_decide (&p, &h, &ev, 70 * S, 0);
  assert_false (d.restart);
  d = sk_restart_decide (&p, &h, &ev, 80 * S, 0);
  assert_true (d.restart);

  /* a long history keeps only the slots it needs */
  for (uint64_t t = 100 * S; t < 100 * S + 500 * 30 * S; t += 30 * S)
    {
      d = sk_restart_decide (&p, &h, &ev, t, 0);
      assert_true (d.restart);
      assert_int_equal (d.attempt, 2);
      sk_restart_history_record_decision (&h, &d, t);
    }
  assert_true (h.n_recent <= SK_RESTART_RECENT_SLOTS);
  assert_int_equal (h.restart_count, 4 + 500);
  sk_restart_policy_x_clear (&p);
}

static void
test_max_attempts_forever (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  uint64_t now = 0;

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.maxAttempts\":\"2\""), &p);
  /* long stable runs reset the backoff but not the budget (no window) */
  assert_int_equal (crash_loop (&p, &h, &now, 10 * MIN, 1, 10, NULL, &d), 2);
  assert_string_equal (d.reason, "gave up: 2 attempts (exit code 1)");
  sk_restart_policy_x_clear (&p);
}

static void
test_reset_after_stable_run (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);
  uint64_t now = 0, delays[6];

  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.jitter\":\"0\""), &p);
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 6, delays, &d), 6);
  assert_int_equal (delays[5], 32 * S);
  /* a run just short of resetAfter keeps growing */
  sk_restart_history_record_start (&h, now);
  now += 59 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_false (d.backoff_reset);
  assert_int_equal (d.delay_ms, 60 * S);
  sk_restart_history_record_decision (&h, &d, now);
  now += d.delay_ms;
  /* a stable run of resetAfter: back to the initial delay */
  sk_restart_history_record_start (&h, now);
  now += 60 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_true (d.backoff_reset);
  assert_int_equal (d.delay_ms, 1 * S);
  assert_int_equal (d.backoff_step, 1);
  assert_string_equal (d.reason, "exit code 1 under skiff.restart=on-failure; attempt 8 (backoff "
                                 "reset after a stable run); next in 1.0s");
  sk_restart_history_record_decision (&h, &d, now);
  now += d.delay_ms;
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 3, delays, &d), 3);
  assert_int_equal (delays[0], 2 * S);
  assert_int_equal (delays[1], 4 * S);
  assert_int_equal (delays[2], 8 * S);

  /* resetAfter=0: never resets */
  sk_restart_policy_x_clear (&p);
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.jitter\":\"0\","
                      "\"skiff.restart.resetAfter\":\"0\""),
              &p);
  memset (&h, 0, sizeof h);
  now = 0;
  assert_int_equal (crash_loop (&p, &h, &now, 1 * S, 1, 3, NULL, &d), 3);
  assert_int_equal (crash_loop (&p, &h, &now, 24 * 60 * MIN, 1, 1, delays, &d), 1);
  assert_int_equal (delays[0], 8 * S);
  sk_restart_policy_x_clear (&p);
}

static void
test_ecs_attempt_period (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);

  must_parse ("\"restartPolicy\":{\"enabled\":true}", &p);
  /* dies 12 s after the first start: not restarted */
  sk_restart_history_record_start (&h, 1000);
  d = sk_restart_decide (&p, &h, &ev, 13000, 0);
  assert_false (d.restart);
  assert_false (d.gave_up);
  assert_string_equal (d.reason, "attempt reset period of 300s has not elapsed (ran 12s)");
  /* after 300 s: restarted at once, exit 0 too */
  ev = exited (0);
  d = sk_restart_decide (&p, &h, &ev, 301000, 0);
  assert_true (d.restart);
  assert_int_equal (d.delay_ms, 0);
  assert_string_equal (d.rule, "restartPolicy.enabled");
  assert_string_equal (d.reason, "exit code 0 under restartPolicy.enabled; attempt 1; restarting "
                                 "now");
  sk_restart_history_record_decision (&h, &d, 301000);
  sk_restart_history_record_start (&h, 301000);
  /* 299 s after the restart: refused; 300 s: allowed */
  d = sk_restart_decide (&p, &h, &ev, 600000, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "attempt reset period of 300s has not elapsed (ran 299s)");
  d = sk_restart_decide (&p, &h, &ev, 601000, 0);
  assert_true (d.restart);
  sk_restart_policy_x_clear (&p);
}

static void
test_ecs_ignored_exit_codes (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (0);

  must_parse ("\"restartPolicy\":{\"enabled\":true,\"ignoredExitCodes\":[0],"
              "\"restartAttemptPeriod\":60}",
              &p);
  sk_restart_history_record_start (&h, 0);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 0 matched rule 0=never; not restarting");
  ev = exited (1);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_true (d.restart);
  d = sk_restart_decide (&p, &h, &ev, 59 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "attempt reset period of 60s has not elapsed (ran 59s)");
  sk_restart_policy_x_clear (&p);
}

static void
test_never_restart_cases (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = exited (1);

  /* no policy */
  must_parse ("", &p);
  sk_restart_history_record_start (&h, 0);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 1; no restart policy; not restarting");
  sk_restart_policy_x_clear (&p);

  must_parse (LABELS ("\"skiff.restart\":\"always\""), &p);
  /* a stopping task never restarts, whatever happened */
  for (int code = 0; code < 256; code++)
    {
      ev = exited (code);
      ev.task_stopping = true;
      ev.oom = code % 2;
      d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
      assert_false (d.restart);
    }
  ev = killed (SIGTERM);
  ev.task_stopping = true;
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_string_equal (d.reason, "signal SIGTERM (exit code 143): the task is stopping");
  /* unknown exit status */
  ev = (struct sk_exit_event){ .exit_known = false };
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.trigger, "unknown");
  assert_string_equal (d.reason, "exit code unknown: not restarting a container whose exit "
                                 "status is lost");
  /* always restarts exit 0 */
  ev = exited (0);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_true (d.restart);
  sk_restart_policy_x_clear (&p);

  /* on-failure: exit 0 is a success */
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "exit code 0 is a success; skiff.restart=on-failure restarts "
                                 "failures only");
  ev = killed (SIGSEGV);
  d = sk_restart_decide (&p, &h, &ev, 10 * MIN, NO_JITTER);
  assert_true (d.restart);
  assert_string_equal (d.trigger, "signal");
  assert_string_equal (d.reason, "signal SIGSEGV (exit code 139) under skiff.restart=on-failure; "
                                 "attempt 1; next in 1.0s");
  sk_restart_policy_x_clear (&p);
}

static void
test_user_stop_and_resume (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = killed (SIGTERM);

  ev.user_stopped = true;
  must_parse (LABELS ("\"skiff.restart\":\"unless-stopped\""), &p);
  sk_restart_history_record_start (&h, 0);
  assert_true (sk_restart_resume_allowed (&p, &h));
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_true (d.user_stopped);
  sk_restart_history_record_decision (&h, &d, 10 * S);
  assert_true (h.user_stopped);
  assert_false (sk_restart_resume_allowed (&p, &h));
  p.mode = SK_RESTART_ALWAYS;
  assert_true (sk_restart_resume_allowed (&p, &h));
  /* a new start forgets the user stop */
  p.mode = SK_RESTART_UNLESS_STOPPED;
  sk_restart_history_record_start (&h, 20 * S);
  assert_true (sk_restart_resume_allowed (&p, &h));
  sk_restart_policy_x_clear (&p);
}

static void
test_oom (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = killed (SIGKILL);

  ev.oom = true;
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\""), &p);
  sk_restart_history_record_start (&h, 0);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, NO_JITTER);
  assert_true (d.restart);
  assert_string_equal (d.trigger, "OutOfMemoryError");
  assert_string_equal (d.reason, "OutOfMemoryError (exit code 137) under skiff.restart=on-failure; "
                                 "attempt 1; next in 1.0s");
  sk_restart_policy_x_clear (&p);

  /* an oom rule placed first wins over the code rules */
  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.exitCodes\":\"oom=never,"
                      "137=restart\""),
              &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "OutOfMemoryError (exit code 137) matched rule oom=never; not "
                                 "restarting");
  ev.oom = false;
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_true (d.restart);
  assert_string_equal (d.rule, "137=restart");
  sk_restart_policy_x_clear (&p);
}

static void
test_unhealthy_routing (void **state)
{
  struct sk_restart_policy_x p;
  struct sk_restart_history h = { 0 };
  struct sk_restart_decision d;
  struct sk_exit_event ev = killed (SIGTERM);
  uint64_t now = 0;

  ev.unhealthy = true;
  /* default with a policy: restart, through the same backoff and budget */
  must_parse (LABELS ("\"skiff.restart\":\"on-failure\",\"skiff.restart.exitCodes\":\"*=never\","
                      "\"skiff.restart.maxAttempts\":\"2\",\"skiff.restart.jitter\":\"0\""),
              &p);
  sk_restart_history_record_start (&h, now);
  now += 5 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_true (d.restart);
  assert_string_equal (d.trigger, "health-check-failed");
  assert_string_equal (d.rule, "onUnhealthy=restart");
  assert_string_equal (d.reason, "health-check-failed (exit code 143) under onUnhealthy=restart; "
                                 "attempt 1 of 2; next in 1.0s");
  sk_restart_history_record_decision (&h, &d, now);
  sk_restart_history_record_start (&h, now += d.delay_ms);
  now += 5 * S;
  d = sk_restart_decide (&p, &h, &ev, now, 0);
  assert_int_equal (d.delay_ms, 2 * S);
  sk_restart_history_record_decision (&h, &d, now);
  d = sk_restart_decide (&p, &h, &ev, now + 10 * S, 0);
  assert_false (d.restart);
  assert_true (d.gave_up);
  sk_restart_policy_x_clear (&p);

  /* onUnhealthy=none */
  memset (&h, 0, sizeof h);
  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.onUnhealthy\":\"none\""), &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.reason, "health-check-failed (exit code 143); onUnhealthy=none; not "
                                 "restarting");
  sk_restart_policy_x_clear (&p);

  /* an explicit unhealthy rule wins */
  must_parse (LABELS ("\"skiff.restart\":\"always\",\"skiff.restart.exitCodes\":"
                      "\"unhealthy=never\""),
              &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  assert_string_equal (d.rule, "unhealthy=never");
  sk_restart_policy_x_clear (&p);

  /* no restart policy, but restart on unhealthy (moby#28400) */
  must_parse (LABELS ("\"skiff.restart.onUnhealthy\":\"restart\""), &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_true (d.restart);
  struct sk_exit_event crash = exited (1);
  d = sk_restart_decide (&p, &h, &crash, 10 * S, 0);
  assert_false (d.restart);
  sk_restart_policy_x_clear (&p);

  /* no policy at all: unhealthy is reported only */
  must_parse ("", &p);
  d = sk_restart_decide (&p, &h, &ev, 10 * S, 0);
  assert_false (d.restart);
  sk_restart_policy_x_clear (&p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_backoff_sequence),       cmocka_unit_test (test_jitter_bounds),
    cmocka_unit_test (test_give_up_within_window),  cmocka_unit_test (test_attempt_text),
    cmocka_unit_test (test_window_slides),          cmocka_unit_test (test_max_attempts_forever),
    cmocka_unit_test (test_reset_after_stable_run), cmocka_unit_test (test_ecs_attempt_period),
    cmocka_unit_test (test_ecs_ignored_exit_codes), cmocka_unit_test (test_never_restart_cases),
    cmocka_unit_test (test_user_stop_and_resume),   cmocka_unit_test (test_oom),
    cmocka_unit_test (test_unhealthy_routing),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
