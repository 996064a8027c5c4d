/* Capability names, ECS add/drop resolution, and the child's privilege drop. */
#include "caps.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const cap_names[] = {
  [CAP_CHOWN] = "CHOWN",
  [CAP_DAC_OVERRIDE] = "DAC_OVERRIDE",
  [CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
  [CAP_FOWNER] = "FOWNER",
  [CAP_FSETID] = "FSETID",
  [CAP_KILL] = "KILL",
  [CAP_SETGID] = "SETGID",
  [CAP_SETUID] = "SETUID",
  [CAP_SETPCAP] = "SETPCAP",
  [CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
  [CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE",
  [CAP_NET_BROADCAST] = "NET_BROADCAST",
  [CAP_NET_ADMIN] = "NET_ADMIN",
  [CAP_NET_RAW] = "NET_RAW",
  [CAP_IPC_LOCK] = "IPC_LOCK",
  [CAP_IPC_OWNER] = "IPC_OWNER",
  [CAP_SYS_MODULE] = "SYS_MODULE",
  [CAP_SYS_RAWIO] = "SYS_RAWIO",
  [CAP_SYS_CHROOT] = "SYS_CHROOT",
  [CAP_SYS_PTRACE] = "SYS_PTRACE",
  [CAP_SYS_PACCT] = "SYS_PACCT",
  [CAP_SYS_ADMIN] = "SYS_ADMIN",
  [CAP_SYS_BOOT] = "SYS_BOOT",
  [CAP_SYS_NICE] = "SYS_NICE",
  [CAP_SYS_RESOURCE] = "SYS_RESOURCE",
  [CAP_SYS_TIME] = "SYS_TIME",
  [CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
  [CAP_MKNOD] = "MKNOD",
  [CAP_LEASE] = "LEASE",
  [CAP_AUDIT_WRITE] = "AUDIT_WRITE",
  [CAP_AUDIT_CONTROL] = "AUDIT_CONTROL",
  [CAP_SETFCAP] = "SETFCAP",
  [CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
  [CAP_MAC_ADMIN] = "MAC_ADMIN",
  [CAP_SYSLOG] = "SYSLOG",
  [CAP_WAKE_ALARM] = "WAKE_ALARM",
  [CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND",
  [CAP_AUDIT_READ] = "AUDIT_READ",
  [CAP_PERFMON] = "PERFMON",
  [CAP_BPF] = "BPF",
  [CAP_CHECKPOINT_RESTORE] = "CHECKPOINT_RESTORE",
};

/* A mask is 64 bits wide; a kernel with more capabilities than that would
 * need a wider type, so fail the build rather than truncate silently. */
_Static_assert(SK_ARRAY_SIZE (cap_names) == CAP_LAST_CAP + 1, "name table covers the headers");
_Static_assert(CAP_LAST_CAP < 64, "capability masks are 64 bits");

int
sk_cap_from_name (const char *name)
{
  if (name == NULL)
    return -1;
  if (strncasecmp (name, "CAP_", 4) == 0)
    name += 4;
  for (size_t i = 0; i < SK_ARRAY_SIZE (cap_names); i++)
    if (cap_names[i] != NULL && strcasecmp (cap_names[i], name) == 0)
      return (int)i;
  return -1;
}

const char *
sk_cap_name (int cap)
{
  if (cap < 0 || (size_t)cap >= SK_ARRAY_SIZE (cap_names))
    return NULL;
  return cap_names[cap];
}

int
sk_cap_last (void)
{
  _cleanup_fclose_ FILE *fp = fopen ("/proc/sys/kernel/cap_last_cap", "re");
  int last = -1;

  if (fp == NULL || fscanf (fp, "%d", &last) != 1 || last < 0)
    return CAP_LAST_CAP;
  /* A newer kernel knows capabilities our table cannot name: ignore them. */
  return last > CAP_LAST_CAP ? CAP_LAST_CAP : last;
}

uint64_t
sk_caps_all (void)
{
  int last = sk_cap_last ();
  return last >= 63 ? UINT64_MAX : SK_CAP_BIT (last + 1) - 1;
}

uint64_t
sk_caps_docker_default (void)
{
  return SK_CAP_BIT (CAP_CHOWN) | SK_CAP_BIT (CAP_DAC_OVERRIDE) | SK_CAP_BIT (CAP_FSETID)
         | SK_CAP_BIT (CAP_FOWNER) | SK_CAP_BIT (CAP_MKNOD) | SK_CAP_BIT (CAP_NET_RAW)
         | SK_CAP_BIT (CAP_SETGID) | SK_CAP_BIT (CAP_SETUID) | SK_CAP_BIT (CAP_SETFCAP)
         | SK_CAP_BIT (CAP_SETPCAP) | SK_CAP_BIT (CAP_NET_BIND_SERVICE)
         | SK_CAP_BIT (CAP_SYS_CHROOT) | SK_CAP_BIT (CAP_KILL) | SK_CAP_BIT (CAP_AUDIT_WRITE);
}

static uint64_t
caps_bounding (void)
{
  uint64_t mask = 0;
  int last = sk_cap_last ();

  for (int cap = 0; cap <= last; cap++)
    if (prctl (PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) == 1)
      mask |= SK_CAP_BIT (cap);
  return mask;
}

static uint64_t
caps_permitted (void)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = { { 0 } };

  if (syscall (SYS_capget, &hdr, data) < 0)
    return 0;
  return (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
}

uint64_t
sk_caps_held (void)
{
  return caps_bounding () & caps_permitted ();
}

char *
sk_caps_format (uint64_t mask)
{
  size_t cap_len = 1;
  char *out;

  for (int cap = 0; cap < 64; cap++)
    if (mask & SK_CAP_BIT (cap))
      cap_len += (sk_cap_name (cap) ? strlen (sk_cap_name (cap)) : 8) + 1;
  out = xzalloc (cap_len);
  for (int cap = 0; cap < 64; cap++)
    {
      char num[16];
      const char *name = sk_cap_name (cap);

      if (!(mask & SK_CAP_BIT (cap)))
        continue;
      if (name == NULL)
        {
          snprintf (num, sizeof num, "%d", cap);
          name = num;
        }
      if (*out != '\0')
        strcat (out, ",");
      strcat (out, name);
    }
  return out;
}

static bool
is_all (const char *name)
{
  return strcasecmp (name, "ALL") == 0 || strcasecmp (name, "CAP_ALL") == 0;
}

/* Turn a list of names into a mask; *all tells whether ALL was among them. */
static int
names_to_mask (const char *const *names, size_t n, const char *what, uint64_t known, uint64_t *mask,
               bool *all, sk_err_t *err)
{
  *mask = 0;
  *all = false;
  for (size_t i = 0; i < n; i++)
    {
      int cap;

      if (is_all (names[i]))
        {
          *all = true;
          continue;
        }
      cap = sk_cap_from_name (names[i]);
      if (cap < 0)
        return sk_err_set (err, 0, "capabilities.%s: unknown capability `%s`", what, names[i]);
      if (!(known & SK_CAP_BIT (cap)))
        return sk_err_set (err, 0,
                           "capabilities.%s: capability %s is not known to the running kernel",
                           what, sk_cap_name (cap));
      *mask |= SK_CAP_BIT (cap);
    }
  return 0;
}

int
sk_caps_resolve (const char *const *add, size_t n_add, const char *const *drop, size_t n_drop,
                 bool privileged, uint64_t *mask, char **warning, sk_err_t *err)
{
  uint64_t known = sk_caps_all ();
  uint64_t held = sk_caps_held ();
  uint64_t add_mask, drop_mask, result, missing, asked_missing;
  bool add_all, drop_all;

  *warning = NULL;
  if (names_to_mask (drop, n_drop, "drop", known, &drop_mask, &drop_all, err) < 0)
    return -1;
  if (names_to_mask (add, n_add, "add", known, &add_mask, &add_all, err) < 0)
    return -1;

  if (privileged)
    result = known;
  else
    {
      /* ECS semantics: drop is applied to the default first, then add. */
      result = drop_all ? 0 : (sk_caps_docker_default () & ~drop_mask);
      result |= add_all ? known : add_mask;
    }

  missing = result & ~held;
  asked_missing = missing & add_mask;
  if (asked_missing != 0)
    {
      int cap = __builtin_ctzll (asked_missing);
      bool in_bounding = prctl (PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) == 1;
      return sk_err_set (err, 0, "capability %s requested but skiff itself does not hold it (%s)",
                         sk_cap_name (cap),
                         in_bounding ? "its permitted set lacks it"
                                     : "the host's bounding set lacks it");
    }
  if (missing != 0)
    {
      _cleanup_free_ char *names = sk_caps_format (missing);
      *warning = xasprintf ("capabilities %s left out: skiff itself does not hold them", names);
    }
  *mask = result & held;
  return 0;
}

/* ---- child side ------------------------------------------------------- */

static int
set_cap_sets (uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];

  data[0].effective = (uint32_t)effective;
  data[1].effective = (uint32_t)(effective >> 32);
  data[0].permitted = (uint32_t)permitted;
  data[1].permitted = (uint32_t)(permitted >> 32);
  data[0].inheritable = (uint32_t)inheritable;
  data[1].inheritable = (uint32_t)(inheritable >> 32);
  return (int)syscall (SYS_capset, &hdr, data);
}

int
sk_creds_apply_in_child (const struct sk_creds *c, struct sk_child_fail *f)
{
  uint64_t keep;

  /* 1. Supplementary groups first: setgroups needs CAP_SETGID, which the
   *    process still holds as root. Without this the task would inherit the
   *    launcher's groups. */
  if (setgroups (c->n_groups, c->groups) < 0)
    return sk_child_fail (f, SK_PHASE_USER, errno, "setgroups `%zu groups`", c->n_groups);

  /* 2. Shrink the bounding set while CAP_SETPCAP is still effective (it is
   *    needed for PR_CAPBSET_DROP); after the uid switch it may be gone. Stop
   *    at the first capability the kernel does not know (EINVAL), which is
   *    cap_last_cap + 1, without reading /proc. */
  for (int cap = 0; cap < 64; cap++)
    {
      if (prctl (PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) < 0)
        break;
      if (c->caps & SK_CAP_BIT (cap))
        continue;
      if (prctl (PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
        return sk_child_fail (f, SK_PHASE_CAPS, errno, "prctl `PR_CAPBSET_DROP` `%s`",
                              sk_cap_name (cap) ? sk_cap_name (cap) : "?");
    }

  /* 3. Without KEEPCAPS, leaving uid 0 clears the permitted set, and capset
   *    below could not hand anything back. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return sk_child_fail (f, SK_PHASE_CAPS, errno, "prctl `PR_SET_KEEPCAPS`");

  /* 4. Group before user: changing gids needs CAP_SETGID, which an unprivileged
   *    uid would no longer have effective. */
  if (setresgid (c->gid, c->gid, c->gid) < 0)
    return sk_child_fail (f, SK_PHASE_USER, errno, "setresgid to `%u`", (unsigned)c->gid);
  if (setresuid (c->uid, c->uid, c->uid) < 0)
    return sk_child_fail (f, SK_PHASE_USER, errno, "setresuid to `%u`", (unsigned)c->uid);

  /* 5. Docker's rule: root gets the set in effective and permitted; any other
   *    user gets nothing there (only the bounding set limits what a setuid
   *    program could regain, and no_new_privs stops that too). Inheritable
   *    stays empty: combined with file capabilities it leaked privileges
   *    (CVE-2022-29162). */
  keep = c->uid == 0 ? c->caps : 0;
  if (set_cap_sets (keep, keep, 0) < 0)
    return sk_child_fail (f, SK_PHASE_CAPS, errno, "capset `effective=permitted=%#llx`",
                          (unsigned long long)keep);

  /* 6. Ambient capabilities would survive execve into an unprivileged
   *    program; Docker raises none, so clear whatever was inherited. EINVAL
   *    means a kernel without ambient capabilities: nothing to clear. */
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return sk_child_fail (f, SK_PHASE_CAPS, errno, "prctl `PR_CAP_AMBIENT_CLEAR_ALL`");

  /* 7. Always no_new_privs: setuid binaries and file capabilities in the
   *    image cannot raise privileges, and seccomp may then be loaded without
   *    CAP_SYS_ADMIN. */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return sk_child_fail (f, SK_PHASE_CAPS, errno, "prctl `PR_SET_NO_NEW_PRIVS`");
  return 0;
}
