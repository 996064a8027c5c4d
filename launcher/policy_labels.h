/* The small languages of the supervision labels and flags: durations,
 * signal names and the exit-code rules of skiff.restart.exitCodes.
 * Pure functions; errors come back as an allocated one-line text in *why. */
#ifndef SKIFF_POLICY_LABELS_H
#define SKIFF_POLICY_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "restart.h"

/* "500ms", "10s", "5m", "1h", sums like "1m30s", or "0". 0 or -1. */
int sk_duration_parse (const char *text, uint64_t *ms, char **why);

/* Shortest exact form: "0s", "500ms", "1.5s", "10s", "5m", "1h". */
void sk_duration_format (uint64_t ms, char *buf, size_t size);

/* "SIGSEGV" / "sigsegv" / "SEGV" -> number; -1 when unknown. */
int sk_signal_parse (const char *name);
/* "SIGSEGV", or "SIG42" for a number without a name. */
void sk_signal_format (int signo, char *buf, size_t size);

/* skiff.restart.exitCodes: ordered rules, first match wins.
 *   rules  = rule *( "," rule )
 *   rule   = match "=" action
 *   match  = "*" | CODE | CODE "-" CODE | SIGNAL | "oom" | "unhealthy"
 *   action = "restart" | "never"
 * CODE is 0-255; blanks around tokens are allowed. Appends to *rules and *n
 * (xreallocarray). 0 or -1. */
int sk_restart_rules_parse (const char *text, struct sk_restart_rule **rules, size_t *n,
                            char **why);

/* Does rule r match this exit? (unhealthy events only match "unhealthy"). */
bool sk_restart_rule_matches (const struct sk_restart_rule *r, const struct sk_exit_event *ev);

#endif
