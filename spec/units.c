/* Units and fixed name lists: task cpu/memory strings, ulimit names,
 * capability names, tmpfs mount options. */
#include "parse.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>

/* "1.5", ".25", "512": a decimal number as thousandths, so ".25 vCPU" is
 * exact. Returns a pointer past the number or NULL. */
static const char *
parse_decimal_milli (const char *s, uint64_t *milli)
{
  uint64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool digits = false;

  while (isdigit ((unsigned char)*s))
    {
      whole = whole * 10 + (uint64_t)(*s++ - '0');
      digits = true;
      if (whole > 100000000)
        return NULL;
    }
  if (*s == '.')
    {
      s++;
      while (isdigit ((unsigned char)*s))
        {
          if (frac_digits == 3)
            {
              if (*s != '0')
                return NULL; /* more precision than any unit needs */
              s++;
              continue;
            }
          frac = frac * 10 + (uint64_t)(*s++ - '0');
          frac_digits++;
          digits = true;
        }
    }
  if (!digits)
    return NULL;
  while (frac_digits++ < 3)
    frac *= 10;
  *milli = whole * 1000 + frac;
  return s;
}

static const char *
skip_spaces (const char *s)
{
  while (*s == ' ')
    s++;
  return s;
}

int
sk_parse_cpu_units (const char *text, uint32_t *units)
{
  uint64_t milli;
  const char *rest = parse_decimal_milli (skip_spaces (text), &milli);

  if (rest == NULL)
    return -1;
  rest = skip_spaces (rest);
  if (strncasecmp (rest, "vcpu", 4) == 0 && *skip_spaces (rest + 4) == '\0')
    {
      /* 1 vCPU = 1024 units; the product must be a whole number of units. */
      if ((milli * 1024) % 1000 != 0)
        return -1;
      milli = milli * 1024 / 1000;
    }
  else if (*rest == '\0' && milli % 1000 == 0)
    milli /= 1000;
  else
    return -1;
  if (milli > UINT32_MAX)
    return -1;
  *units = (uint32_t)milli;
  return 0;
}

int
sk_parse_memory_mib (const char *text, uint32_t *mib)
{
  static const struct
  {
    const char *suffix;
    uint64_t factor;
  } suffixes[] = {
    { "", 1 },     { "m", 1 },     { "mb", 1 },     { "mib", 1 },
    { "g", 1024 }, { "gb", 1024 }, { "gib", 1024 },
  };
  uint64_t milli;
  const char *rest = parse_decimal_milli (skip_spaces (text), &milli);
  char unit[8];
  size_t n = 0;

  if (rest == NULL)
    return -1;
  rest = skip_spaces (rest);
  while (*rest && *rest != ' ' && n < sizeof unit - 1)
    unit[n++] = (char)tolower ((unsigned char)*rest++);
  unit[n] = '\0';
  if (*skip_spaces (rest) != '\0')
    return -1;
  for (size_t i = 0; i < SK_ARRAY_SIZE (suffixes); i++)
    if (strcmp (unit, suffixes[i].suffix) == 0)
      {
        /* ECS reads "GB" as GiB: 1 GB = 1024 MiB. */
        uint64_t value = milli * suffixes[i].factor;
        if (value % 1000 != 0 || value / 1000 > UINT32_MAX)
          return -1;
        *mib = (uint32_t)(value / 1000);
        return 0;
      }
  return -1;
}

int
sk_ulimit_resource (const char *name)
{
  static const struct
  {
    const char *name;
    int resource;
  } table[] = {
    { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
    { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
    { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
    { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
    { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
    { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
    { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
    { "stack", RLIMIT_STACK },
  };
  for (size_t i = 0; i < SK_ARRAY_SIZE (table); i++)
    if (strcmp (name, table[i].name) == 0)
      return table[i].resource;
  return -1;
}

/* Linux capability names in number order (linux/capability.h, up to 40). */
static const char *const capabilities[] = {
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
  NULL,
};

int
sk_capability_number (const char *name)
{
  for (size_t i = 0; capabilities[i] != NULL; i++)
    if (strcmp (name, capabilities[i]) == 0)
      return (int)i;
  return -1;
}

bool
sk_is_name (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > SK_MAX_NAME)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
      return false;
  return true;
}

bool
sk_is_tmpfs_option (const char *opt)
{
  /* The 39 values the ECS API lists for Tmpfs.mountOptions; the last six
   * take "=VALUE". */
  static const char *const flags[] = {
    "defaults",   "ro",          "rw",         "suid",        "nosuid",        "dev",     "nodev",
    "exec",       "noexec",      "sync",       "async",       "dirsync",       "remount", "mand",
    "nomand",     "atime",       "noatime",    "diratime",    "nodiratime",    "bind",    "rbind",
    "unbindable", "runbindable", "private",    "rprivate",    "shared",        "rshared", "slave",
    "rslave",     "relatime",    "norelatime", "strictatime", "nostrictatime", NULL,
  };
  static const char *const valued[]
      = { "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol", NULL };
  const char *eq = strchr (opt, '=');

  if (eq == NULL)
    {
      for (size_t i = 0; flags[i]; i++)
        if (strcmp (opt, flags[i]) == 0)
          return true;
      return false;
    }
  for (size_t i = 0; valued[i]; i++)
    if ((size_t)(eq - opt) == strlen (valued[i])
        && strncmp (opt, valued[i], strlen (valued[i])) == 0)
      return eq[1] != '\0';
  return false;
}

const char *
sk_host_architecture (void)
{
  struct utsname u;

  if (uname (&u) == 0 && (strcmp (u.machine, "aarch64") == 0 || strcmp (u.machine, "arm64") == 0))
    return "ARM64";
  return "X86_64";
}
