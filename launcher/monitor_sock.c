/* The monitor's socket with its supervisor (monitor.h): the messages, the
 * supervisor's side of them, and the fd store the monitor keeps. One
 * SOCK_SEQPACKET socketpair per supervisor; fds travel as SCM_RIGHTS. */
#include "monitor.h"
#include "monitor_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_STORED_FDS 16
#define NAME_MAX_LEN 63

/* ---- the supervisor's socket: messages ------------------------------------ */

/* One SOCK_SEQPACKET message each way; an fd travels as SCM_RIGHTS. */
enum msg_op
{
  MSG_DEPOSIT = 'D',   /* name + fd; answered */
  MSG_WITHDRAW = 'W',  /* name; answered with the fd or an errno */
  MSG_FORGET = 'F',    /* name */
  MSG_HIBERNATE = 'H', /* value = wake-up time (monotonic ms, 0 none) */
  MSG_REPLY = 'R',     /* value = 0 or an errno; maybe an fd */
};

struct msg
{
  char op;
  char name[NAME_MAX_LEN + 1];
  uint64_t value;
};

static int
send_msg (int sock, const struct msg *m, int fd)
{
  union
  {
    struct cmsghdr h;
    char buf[CMSG_SPACE (sizeof (int))];
  } ctl;
  struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof *m };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (fd >= 0)
    {
      memset (&ctl, 0, sizeof ctl);
      mh.msg_control = ctl.buf;
      mh.msg_controllen = sizeof ctl.buf;
      struct cmsghdr *c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof fd);
    }
  for (;;)
    {
      if (sendmsg (sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof *m)
        return 0;
      if (errno != EINTR)
        return -1;
    }
}

/* 1 with a message (and *fd, or -1), 0 when none is waiting (flags has
 * MSG_DONTWAIT), -1 when the peer is gone or on an error. */
static int
recv_msg (int sock, struct msg *m, int *fd, int flags)
{
  union
  {
    struct cmsghdr h;
    char buf[CMSG_SPACE (sizeof (int))];
  } ctl;
  struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  *fd = -1;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  do
    n = recvmsg (sock, &mh, flags | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EAGAIN ? 0 : -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&mh); c != NULL; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (fd, CMSG_DATA (c), sizeof *fd);
  if (n != (ssize_t)sizeof *m)
    {
      if (*fd >= 0)
        close (*fd);
      *fd = -1;
      if (n == 0)
        errno = EPIPE;
      return -1;
    }
  m->name[NAME_MAX_LEN] = '\0';
  return 1;
}

/* ---- the supervisor side ---------------------------------------------------- */

static int monitor_sock = -2; /* -2: not looked up yet; -1: no monitor */
static bool monitor_waking;

bool
sk_monitor_attach (void)
{
  if (monitor_sock == -2)
    {
      const char *text = getenv (SK_MONITOR_FD_ENV);
      char *end = NULL;
      long fd = text != NULL ? strtol (text, &end, 10) : -1;

      monitor_sock = -1;
      if (text != NULL && end != text && *end == '\0' && fd > 2 && fd < 65536
          && fcntl ((int)fd, F_SETFD, FD_CLOEXEC) == 0)
        monitor_sock = (int)fd;
      text = getenv (SK_MONITOR_WAKE_ENV);
      monitor_waking = monitor_sock >= 0 && text != NULL && strcmp (text, "1") == 0;
      /* Nothing the supervisor starts may think it has a monitor. */
      unsetenv (SK_MONITOR_FD_ENV);
      unsetenv (SK_MONITOR_WAKE_ENV);
    }
  return monitor_sock >= 0;
}

bool
sk_monitor_waking (void)
{
  return sk_monitor_attach () && monitor_waking;
}

uint64_t
sk_monitor_hibernate_ms (void)
{
  const char *text = getenv (SK_MONITOR_HIBERNATE_ENV);
  char *end = NULL;
  unsigned long long ms;

  if (!sk_monitor_attach ())
    return 0;
  if (text == NULL || text[0] == '\0')
    return SK_MONITOR_HIBERNATE_DEFAULT_MS;
  errno = 0;
  ms = strtoull (text, &end, 10);
  if (errno != 0 || *end != '\0')
    return SK_MONITOR_HIBERNATE_DEFAULT_MS;
  return (uint64_t)ms;
}

static int
name_ok (const char *name)
{
  return name != NULL && name[0] != '\0' && strlen (name) <= NAME_MAX_LEN;
}

/* A request and its answer; returns the answer's errno (0 = done). */
static int
ask_monitor (const struct msg *m, int fd_out, int *fd_in)
{
  struct msg reply;
  int fd = -1;

  if (send_msg (monitor_sock, m, fd_out) < 0)
    return errno;
  for (;;)
    {
      int r = recv_msg (monitor_sock, &reply, &fd, 0);
      if (r < 0)
        return errno;
      if (reply.op == MSG_REPLY)
        break;
      if (fd >= 0)
        close (fd);
    }
  if (fd_in != NULL)
    *fd_in = fd;
  else if (fd >= 0)
    close (fd);
  return (int)reply.value;
}

int
sk_monitor_deposit_fd (const char *name, int fd, sk_err_t *err)
{
  struct msg m = { .op = MSG_DEPOSIT };
  int e;

  if (!name_ok (name))
    return sk_err_set (err, EINVAL, "deposit fd `%s` with the monitor", name ? name : "");
  if (!sk_monitor_attach ())
    return 0;
  snprintf (m.name, sizeof m.name, "%s", name);
  e = ask_monitor (&m, fd, NULL);
  if (e != 0)
    return sk_err_set (err, e, "deposit fd `%s` with the monitor", name);
  return 0;
}

int
sk_monitor_withdraw_fd (const char *name)
{
  struct msg m = { .op = MSG_WITHDRAW };
  int fd = -1, e;

  if (!name_ok (name) || !sk_monitor_attach ())
    {
      errno = ENOENT;
      return -1;
    }
  snprintf (m.name, sizeof m.name, "%s", name);
  e = ask_monitor (&m, -1, &fd);
  if (e != 0 || fd < 0)
    {
      if (fd >= 0)
        close (fd);
      errno = e != 0 ? e : ENOENT;
      return -1;
    }
  return fd;
}

void
sk_monitor_forget_fd (const char *name)
{
  struct msg m = { .op = MSG_FORGET };

  if (!name_ok (name) || !sk_monitor_attach ())
    return;
  snprintf (m.name, sizeof m.name, "%s", name);
  send_msg (monitor_sock, &m, -1);
}

int
sk_monitor_hibernate (uint64_t wake_at_ms, sk_err_t *err)
{
  struct msg m = { .op = MSG_HIBERNATE, .value = wake_at_ms };
  int e;

  if (!sk_monitor_attach ())
    return sk_err_set (err, ENOTCONN, "hibernate: no monitor");
  /* Answered once the monitor holds the output FIFOs: from then on
   * nothing a container writes can be lost when we close ours. */
  e = ask_monitor (&m, -1, NULL);
  if (e != 0)
    return sk_err_set (err, e, "hibernate: tell the monitor");
  return 0;
}

/* ---- the monitor side: the fd store --------------------------------------- */

struct stored_fd
{
  char name[NAME_MAX_LEN + 1];
  int fd; /* -1: free slot */
};

static struct stored_fd store[MAX_STORED_FDS];
static bool store_ready;

void
sk_monitor_store_init (void)
{
  if (store_ready)
    return;
  for (size_t i = 0; i < MAX_STORED_FDS; i++)
    store[i].fd = -1;
  store_ready = true;
}

static struct stored_fd *
store_find (const char *name)
{
  for (size_t i = 0; i < MAX_STORED_FDS; i++)
    if (store[i].fd >= 0 && strcmp (store[i].name, name) == 0)
      return &store[i];
  return NULL;
}

static int
store_put (const char *name, int fd)
{
  struct stored_fd *slot = store_find (name);

  for (size_t i = 0; slot == NULL && i < MAX_STORED_FDS; i++)
    if (store[i].fd < 0)
      slot = &store[i];
  if (slot == NULL)
    return ENOSPC;
  if (slot->fd >= 0)
    close (slot->fd);
  snprintf (slot->name, sizeof slot->name, "%s", name);
  slot->fd = fd;
  return 0;
}

bool
sk_monitor_serve_messages (int sock, struct sup_news *news, int flags)
{
  for (;;)
    {
      struct msg m, reply = { .op = MSG_REPLY };
      struct stored_fd *slot;
      int fd, r = recv_msg (sock, &m, &fd, flags);

      if (r <= 0)
        return r == 0;
      switch (m.op)
        {
        case MSG_DEPOSIT:
          reply.value = fd < 0 ? EBADF : (uint64_t)store_put (m.name, fd);
          if (reply.value != 0 && fd >= 0)
            close (fd);
          send_msg (sock, &reply, -1);
          break;
        case MSG_WITHDRAW:
          slot = store_find (m.name);
          reply.value = slot != NULL ? 0 : ENOENT;
          send_msg (sock, &reply, slot != NULL ? slot->fd : -1);
          break;
        case MSG_FORGET:
          slot = store_find (m.name);
          if (slot != NULL)
            {
              close (slot->fd);
              slot->fd = -1;
            }
          break;
        case MSG_HIBERNATE:
          if (news != NULL)
            {
              news->hibernating = true;
              news->wake_at_ms = m.value;
              if (news->on_hibernate != NULL)
                news->on_hibernate (news->ctx);
            }
          send_msg (sock, &reply, -1);
          break;
        default:
          break;
        }
      if (fd >= 0 && m.op != MSG_DEPOSIT)
        close (fd);
    }
}

void
sk_monitor_serve_store (int sock)
{
  sk_monitor_store_init ();
  while (sk_monitor_serve_messages (sock, NULL, 0))
    ;
}
