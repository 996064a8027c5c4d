#include "net.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
sk_net_loopback_up_in_child (struct sk_child_fail *f)
{
  struct ifreq ifr;
  int fd, r;

  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sk_child_fail (f, SK_PHASE_NETWORK, errno, "socket for `lo`");
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  r = ioctl (fd, SIOCGIFFLAGS, &ifr);
  if (r == 0 && !(ifr.ifr_flags & IFF_UP))
    {
      ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
      r = ioctl (fd, SIOCSIFFLAGS, &ifr);
    }
  if (r < 0)
    {
      int saved = errno;
      close (fd);
      return sk_child_fail (f, SK_PHASE_NETWORK, saved, "bring up `lo`");
    }
  close (fd);
  return 0;
}
