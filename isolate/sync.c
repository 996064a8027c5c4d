#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int
sk_sync_send (int fd, int type, const struct sk_child_fail *f)
{
  struct sk_sync_msg m;
  ssize_t n;

  memset (&m, 0, sizeof m);
  m.type = (uint32_t)type;
  if (f != NULL)
    {
      m.phase = f->phase;
      m.err = f->err;
      memcpy (m.text, f->text, sizeof m.text);
      m.text[sizeof m.text - 1] = '\0';
    }
  do
    n = send (fd, &m, sizeof m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if ((size_t)n != sizeof m)
    {
      errno = EPROTO;
      return -1;
    }
  return 0;
}

int
sk_sync_recv (int fd, struct sk_sync_msg *m)
{
  ssize_t n;

  do
    n = recv (fd, m, sizeof *m, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if (n == 0)
    return 0;
  /* SEQPACKET keeps records whole: anything else is a protocol error. */
  if ((size_t)n != sizeof *m)
    {
      errno = EPROTO;
      return -1;
    }
  m->text[sizeof m->text - 1] = '\0';
  return 1;
}
