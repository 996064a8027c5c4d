/* launcher/health: the health-check state machine over long probe histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "util.h"

#define S 1000ull

static struct sk_health_check
check (uint32_t interval, uint32_t retries, uint32_t start_period)
{
  return (struct sk_health_check){ .present = true,
                                   .interval = interval,
                                   .timeout = 5,
                                   .retries = retries,
                                   .start_period = start_period };
}

static struct sk_health_change
probe (struct sk_health_state *s, const struct sk_health_check *c, uint64_t now, int code,
       uint64_t started)
{
  struct sk_probe_result r
      = { .exit_code = code, .output = code ? "fail\n" : "ok\n", .output_len = code ? 5 : 3 };
  return sk_health_on_result (s, c, &r, now, started);
}

static void
test_unknown_to_healthy_and_back (void **state)
{
  struct sk_health_check c = check (30, 3, 0);
  struct sk_health_state s = { 0 };
  struct sk_health_change ch;

  assert_int_equal (s.status, SK_HEALTH_UNKNOWN);
  ch = probe (&s, &c, 30 * S, 0, 0);
  assert_true (ch.changed);
  assert_int_equal (ch.previous, SK_HEALTH_UNKNOWN);
  assert_int_equal (ch.status, SK_HEALTH_HEALTHY);
  /* two failures: still healthy; the third flips */
  ch = probe (&s, &c, 60 * S, 1, 0);
  assert_false (ch.changed);
  assert_true (ch.counted);
  ch = probe (&s, &c, 90 * S, 1, 0);
  assert_false (ch.changed);
  assert_int_equal (s.consecutive_failures, 2);
  ch = probe (&s, &c, 120 * S, 1, 0);
  assert_true (ch.changed);
  assert_int_equal (ch.status, SK_HEALTH_UNHEALTHY);
  assert_int_equal (s.last_change_ms, 120 * S);
  /* more failures: no new change */
  ch = probe (&s, &c, 150 * S, 1, 0);
  assert_false (ch.changed);
  /* one success heals */
  ch = probe (&s, &c, 180 * S, 0, 0);
  assert_true (ch.changed);
  assert_int_equal (ch.status, SK_HEALTH_HEALTHY);
  assert_int_equal (s.consecutive_failures, 0);
}

static void
test_unknown_to_unhealthy (void **state)
{
  struct sk_health_check c = check (30, 1, 0);
  struct sk_health_state s = { 0 };

  /* retries 1: one failure is enough */
  struct sk_health_change ch = probe (&s, &c, 30 * S, 2, 0);
  assert_true (ch.changed);
  assert_int_equal (ch.status, SK_HEALTH_UNHEALTHY);
}

static void
test_timeout_is_failure (void **state)
{
  struct sk_health_check c = check (30, 2, 0);
  struct sk_health_state s = { 0 };
  struct sk_probe_result r = { .exit_code = 0, .timed_out = true };

  sk_health_on_result (&s, &c, &r, 35 * S, 0);
  struct sk_health_change ch = sk_health_on_result (&s, &c, &r, 70 * S, 0);
  assert_int_equal (ch.status, SK_HEALTH_UNHEALTHY);
  assert_true (sk_health_log_at (&s, 1)->timed_out);
  assert_false (sk_health_log_at (&s, 1)->passed);
}

static void
test_start_period (void **state)
{
  struct sk_health_check c = check (5, 3, 60);
  struct sk_health_state s = { 0 };
  struct sk_health_change ch;
  uint64_t started = 1000 * S;

  /* failures inside the start period do not count, however many */
  for (uint64_t t = started + 2 * S; t < started + 60 * S; t += 2 * S)
    {
      ch = probe (&s, &c, t, 1, started);
      assert_false (ch.counted);
      assert_int_equal (ch.status, SK_HEALTH_UNKNOWN);
    }
  assert_int_equal (s.consecutive_failures, 0);
  /* after it, they do */
  probe (&s, &c, started + 61 * S, 1, started);
  probe (&s, &c, started + 66 * S, 1, started);
  ch = probe (&s, &c, started + 71 * S, 1, started);
  assert_int_equal (ch.status, SK_HEALTH_UNHEALTHY);

  /* a success during the start period: HEALTHY at once, and from then on
   * failures count even inside the period */
  sk_health_reset (&s);
  started = 5000 * S;
  probe (&s, &c, started + 2 * S, 1, started);
  ch = probe (&s, &c, started + 4 * S, 0, started);
  assert_true (ch.changed);
  assert_int_equal (ch.status, SK_HEALTH_HEALTHY);
  probe (&s, &c, started + 6 * S, 1, started);
  probe (&s, &c, started + 8 * S, 1, started);
  ch = probe (&s, &c, started + 10 * S, 1, started);
  assert_true (ch.counted);
  assert_int_equal (ch.status, SK_HEALTH_UNHEALTHY);

  /* the probe's own start time decides: started in the period, ended after */
  sk_health_reset (&s);
  started = 9000 * S;
  struct sk_probe_result r = { .start_ms = started + 59 * S, .exit_code = 1 };
  ch = sk_health_on_result (&s, &c, &r, started + 63 * S, started);
  assert_false (ch.counted);
}

static void
test_flapping (void **state)
{
  struct sk_health_check c = check (10, 3, 0);
  struct sk_health_state s = { 0 };
  unsigned changes = 0;
  uint64_t t = 0;

  /* fail, fail, pass forever: never UNHEALTHY */
  for (int i = 0; i < 300; i++)
    {
      t += 10 * S;
      struct sk_health_change ch = probe (&s, &c, t, i % 3 == 2 ? 0 : 1, 0);
      assert_int_not_equal (ch.status, SK_HEALTH_UNHEALTHY);
      changes += ch.changed;
    }
  assert_int_equal (changes, 1); /* UNKNOWN -> HEALTHY once */

  /* 3 fails then 1 pass: flips every cycle */
  changes = 0;
  for (int i = 0; i < 400; i++)
    {
      t += 10 * S;
      struct sk_health_change ch = probe (&s, &c, t, i % 4 == 3 ? 0 : 1, 0);
      changes += ch.changed;
    }
  assert_int_equal (changes, 200);
  assert_int_equal (s.n_probes, 700);
}

static void
test_log (void **state)
{
  struct sk_health_check c = check (30, 3, 0);
  struct sk_health_state s = { 0 };
  _cleanup_free_ char *big = xmalloc (10000);
  struct sk_probe_result r = { 0 };

  assert_null (sk_health_log_at (&s, 0));
  for (int i = 0; i < 8; i++)
    {
      char out[32];
      snprintf (out, sizeof out, "probe %d", i);
      r = (struct sk_probe_result){
        .start_ms = (uint64_t)i * 30 * S, .exit_code = i, .output = out, .output_len = strlen (out)
      };
      sk_health_on_result (&s, &c, &r, (uint64_t)i * 30 * S + 7, 0);
    }
  /* the last five, oldest first, with times and codes */
  assert_int_equal (s.n_log, SK_HEALTH_LOG_ENTRIES);
  for (size_t i = 0; i < 5; i++)
    {
      const struct sk_health_log_entry *e = sk_health_log_at (&s, i);
      char out[32];
      snprintf (out, sizeof out, "probe %zu", i + 3);
      assert_string_equal (e->output, out);
      assert_int_equal (e->exit_code, (int)i + 3);
      assert_int_equal (e->start_ms, (i + 3) * 30 * S);
      assert_int_equal (e->end_ms, (i + 3) * 30 * S + 7);
    }
  assert_null (sk_health_log_at (&s, 5));

  /* output kept to 4 KiB */
  memset (big, 'x', 10000);
  r = (struct sk_probe_result){ .exit_code = 0, .output = big, .output_len = 10000 };
  sk_health_on_result (&s, &c, &r, 999 * S, 0);
  const struct sk_health_log_entry *e = sk_health_log_at (&s, 4);
  assert_int_equal (e->output_len, SK_HEALTH_OUTPUT_MAX);
  assert_true (e->truncated);
  assert_int_equal (strlen (e->output), SK_HEALTH_OUTPUT_MAX);
  /* no output at all */
  r = (struct sk_probe_result){ .exit_code = 1 };
  sk_health_on_result (&s, &c, &r, 1000 * S, 0);
  assert_string_equal (sk_health_log_at (&s, 4)->output, "");
  /* reset keeps the evidence */
  sk_health_reset (&s);
  assert_int_equal (s.n_log, 5);
  assert_int_equal (s.status, SK_HEALTH_UNKNOWN);
}

static void
test_next_probe (void **state)
{
  struct sk_health_check c = check (30, 3, 0);
  struct sk_health_state s = { 0 };
  uint64_t started = 100 * S;

  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 30 * S);
  probe (&s, &c, started + 31 * S, 0, started);
  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 61 * S);

  /* with a start period: every 2 s until it passes or the period ends */
  c = check (30, 3, 10);
  sk_health_reset (&s);
  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 2 * S);
  probe (&s, &c, started + 2 * S, 1, started);
  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 4 * S);
  probe (&s, &c, started + 9 * S, 1, started);
  /* 11 s would be past the period: back to the interval */
  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 39 * S);
  sk_health_reset (&s);
  probe (&s, &c, started + 2 * S, 0, started);
  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 32 * S);

  /* an interval shorter than the start interval is kept */
  c = check (1, 3, 10);
  sk_health_reset (&s);
  assert_int_equal (sk_health_next_probe_ms (&s, &c, started), started + 1 * S);
}

static void
test_task_health (void **state)
{
  struct sk_container cs[3]
      = { { .essential = true }, { .essential = true }, { .essential = false } };
  struct sk_task t = { .n_containers = 3, .containers = cs };
  enum sk_health_status st[3];

  st[0] = SK_HEALTH_HEALTHY, st[1] = SK_HEALTH_HEALTHY, st[2] = SK_HEALTH_UNHEALTHY;
  assert_int_equal (sk_task_health (&t, st), SK_HEALTH_HEALTHY); /* non-essential ignored */
  st[1] = SK_HEALTH_UNKNOWN;
  assert_int_equal (sk_task_health (&t, st), SK_HEALTH_UNKNOWN);
  st[0] = SK_HEALTH_UNHEALTHY;
  assert_int_equal (sk_task_health (&t, st), SK_HEALTH_UNHEALTHY); /* UNHEALTHY > UNKNOWN */
  cs[0].essential = cs[1].essential = false;
  assert_int_equal (sk_task_health (&t, st), SK_HEALTH_UNKNOWN);
  assert_string_equal (sk_health_status_name (SK_HEALTH_UNHEALTHY), "UNHEALTHY");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_unknown_to_healthy_and_back),
    cmocka_unit_test (test_unknown_to_unhealthy),
    cmocka_unit_test (test_timeout_is_failure),
    cmocka_unit_test (test_start_period),
    cmocka_unit_test (test_flapping),
    cmocka_unit_test (test_log),
    cmocka_unit_test (test_next_probe),
    cmocka_unit_test (test_task_health),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
