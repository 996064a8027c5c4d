/* The one wire format between the launching parent and the container child:
 * fixed records, one per SEQPACKET datagram, in both directions. */
#ifndef SKIFF_SYNC_H
#define SKIFF_SYNC_H

#include "child.h"

#include <stdint.h>

enum sk_sync_type
{
  SK_SYNC_GO = 1,  /* parent -> child: cgroup joined, ids and rlimits set; start setting up */
  SK_SYNC_READY,   /* child -> parent: set up, privileges dropped; waiting for START */
  SK_SYNC_START,   /* parent -> child: state recorded; exec */
  SK_SYNC_EXECING, /* child -> parent: about to execve; EOF next means it succeeded */
  SK_SYNC_ERROR,   /* child -> parent: phase, errno and the text naming the call and object */
};

struct sk_sync_msg
{
  uint32_t type;
  int32_t phase;
  int32_t err;
  char text[SK_CHILD_TEXT_MAX];
};

/* Send a record; f may be NULL for the plain sync points. 0 or -1 (errno). */
int sk_sync_send (int fd, int type, const struct sk_child_fail *f);
/* 1 = a record, 0 = end of file (the peer closed or exec'd), -1 = error (errno). */
int sk_sync_recv (int fd, struct sk_sync_msg *m);

#endif
