/* Pull progress on stderr: per-layer bytes and speed redrawn in place on a
 * terminal, one plain line per finished layer otherwise. */
#ifndef SKIFF_IMAGE_PROGRESS_H
#define SKIFF_IMAGE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sk_progress
{
  bool quiet;
  bool tty;
  char label[40]; /* what is pulled: a short digest */
  uint64_t start_ns;
  uint64_t last_draw_ns;
  uint64_t done;
  uint64_t total;
};

void sk_progress_begin (struct sk_progress *p, bool quiet, const char *what, const char *digest,
                        uint64_t total);
/* An sk_progress_fn: ctx is the struct sk_progress. */
void sk_progress_update (void *ctx, uint64_t done, uint64_t total);
void sk_progress_end (struct sk_progress *p, const char *verdict);
/* "12.3 MB" */
void sk_format_bytes (uint64_t n, char *buf, size_t size);

#endif
