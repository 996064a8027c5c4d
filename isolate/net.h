/* Network namespace set-up, child side. */
#ifndef SKIFF_NET_H
#define SKIFF_NET_H

#include "child.h"

/* Bring the loopback interface up in the current (new) network namespace. */
int sk_net_loopback_up_in_child (struct sk_child_fail *f);

#endif
