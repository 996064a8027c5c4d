/* What monitor.c and monitor_sock.c share (monitor.h is the public side). */
#ifndef SKIFF_MONITOR_INTERNAL_H
#define SKIFF_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* What the monitor learnt from one supervisor's messages. */
struct sup_news
{
  bool hibernating;
  uint64_t wake_at_ms;
  /* Called on the notice, before it is answered (the supervisor still
   * holds its ends of everything then). */
  void (*on_hibernate) (void *ctx);
  void *ctx;
};

/* Empty fd store; before the first message is served. */
void sk_monitor_store_init (void);

/* Answer every message waiting on `sock` (MSG_DONTWAIT in flags: those
 * already queued; 0: until the peer closes), noting hibernation in `news`
 * (may be NULL). False once the peer is gone. */
bool sk_monitor_serve_messages (int sock, struct sup_news *news, int flags);

#endif
