/* Task-level retry with AWS Batch retryStrategy semantics, pure.
 *
 * attempts 1-10 (1 = no retry); up to 5 evaluateOnExit rules, each with any
 * of onExitCode / onReason / onStatusReason and an action RETRY or EXIT.
 * A rule matches when every field it gives matches; patterns are exact or
 * end with one `*` (prefix match). First matching rule wins; no match means
 * RETRY. A timed-out attempt is not retried (unless retry_on_timeout), nor
 * one the user cancelled.
 *
 * CLI (docs/supervision.md, "Task retry"):
 *   --retry N                 N retries after the first attempt (0-9): attempts = N + 1
 *   --retry-on RULE           repeatable, at most 5, in order
 *     RULE   = FIELD *( "," FIELD ) ":" ACTION
 *     FIELD  = ( "exitCode" | "reason" | "statusReason" ) "=" PATTERN
 *     ACTION = RETRY | EXIT (any case)
 *   e.g. --retry 3 --retry-on 'exitCode=137:RETRY' --retry-on 'reason=OutOfMemory*:EXIT'
 *        --retry-on 'statusReason=Host EC2*:RETRY' --retry-on 'exitCode=*:EXIT'
 * The action follows the LAST colon, so patterns may contain colons. */
#ifndef SKIFF_RETRY_H
#define SKIFF_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SK_RETRY_MAX_ATTEMPTS 10
#define SK_RETRY_MAX_RULES 5
#define SK_RETRY_PATTERN_MAX 512

enum sk_retry_action
{
  SK_RETRY_ACTION_RETRY = 0,
  SK_RETRY_ACTION_EXIT,
};

struct sk_retry_rule
{
  bool has_exit_code, has_reason, has_status_reason;
  char on_exit_code[SK_RETRY_PATTERN_MAX + 1];
  char on_reason[SK_RETRY_PATTERN_MAX + 1];
  char on_status_reason[SK_RETRY_PATTERN_MAX + 1];
  enum sk_retry_action action;
};

/* Zero-initialized = no retry (attempts 0 is read as 1). */
struct sk_retry_strategy
{
  uint32_t attempts; /* total attempts, 1-10 */
  size_t n_rules;
  struct sk_retry_rule rules[SK_RETRY_MAX_RULES];
  bool retry_on_timeout; /* skiff extension; Batch never retries a timeout */
};

/* How one attempt ended. */
struct sk_attempt_result
{
  bool has_exit_code;        /* false when no container ran (start failure) */
  int exit_code;             /* the task's exit code: 0 = the attempt succeeded */
  const char *reason;        /* container reason, e.g. "OutOfMemoryError: ..."; may be NULL */
  const char *status_reason; /* stoppedReason, e.g. "Essential container in task exited" */
  bool timed_out;            /* the attempt hit its deadline */
  bool cancelled;            /* the user interrupted the run */
};

struct sk_retry_decision
{
  bool retry;
  uint32_t attempt;  /* the attempt that just ended, from 1 */
  uint32_t attempts; /* the total allowed */
  int rule;          /* index of the matching rule, -1 for none */
  char reason[320];  /* "exit code 1 matched rule 1 (exitCode=1*:RETRY); starting attempt 2 of 3" */
};

/* --retry N: 0-9. 0 or -1. */
int sk_retry_count_parse (const char *text, struct sk_retry_strategy *s, sk_err_t *err);

/* Parse one --retry-on RULE. 0 or -1 with err naming the problem. */
int sk_retry_rule_parse (const char *text, struct sk_retry_rule *out, sk_err_t *err);

/* Parse and append a rule (at most SK_RETRY_MAX_RULES). 0 or -1. */
int sk_retry_strategy_add_rule (struct sk_retry_strategy *s, const char *text, sk_err_t *err);

/* The rule as `--retry-on` text, e.g. "exitCode=1*,reason=Oom*:RETRY". */
void sk_retry_rule_format (const struct sk_retry_rule *r, char *buf, size_t size);

/* Batch's glob: exact, or prefix when the pattern ends with `*`. A NULL
 * value is matched only by "*". */
bool sk_retry_glob_match (const char *pattern, const char *value);

/* attempt: the number of the attempt that just ended, from 1. */
struct sk_retry_decision sk_retry_decide (const struct sk_retry_strategy *s, uint32_t attempt,
                                          const struct sk_attempt_result *r);

#endif
