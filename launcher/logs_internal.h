/* launcher/logs: pieces shared by logs.c (I/O) and logs_format.c (bytes),
 * exposed for the unit tests. Not for other modules. */
#ifndef SKIFF_LOGS_INTERNAL_H
#define SKIFF_LOGS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logs.h"

/* Worst case of one record: every byte escaped as \u00XX (6 bytes), plus the
 * time, stream name and keys. */
#define SK_LOG_RECORD_MAX (6u * SK_LOG_LINE_MAX + 128u)

/* "2026-11-27T06:30:00.123456789Z" (RFC 3339, UTC, nanoseconds) into out,
 * which holds at least 40 bytes; returns the length. */
size_t sk_log_format_time (char *out, uint64_t ns);

/* JSON string body for `len` bytes of `text` into out (room for 6 * len):
 * quotes, backslashes and control characters escaped, valid UTF-8 kept,
 * every byte of an invalid sequence replaced by \ufffd. Returns the length. */
size_t sk_log_json_escape (char *out, const char *text, size_t len);

/* One JSON line: {"time":..,"stream":..,"log":..[,"partial":true]}\n into out
 * (SK_LOG_RECORD_MAX bytes; len <= SK_LOG_LINE_MAX). Returns the length. */
size_t sk_log_format_record (char *out, uint64_t ns, const char *stream, const char *text,
                             size_t len, bool partial);

/* Where to cut a full line buffer of `len` bytes so that neither a UTF-8
 * sequence nor a CR LF pair is split: len, or up to 3 bytes less. */
size_t sk_log_cut_point (const char *buf, size_t len);

/* The ANSI colour sequence for a palette index (wraps around). */
const char *sk_log_palette (unsigned index);

#endif
