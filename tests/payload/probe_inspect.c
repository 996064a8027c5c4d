/* probe: identity, namespaces, credentials, cgroups and process environment. */
#include "probe.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>

/* ---- identity and namespaces --------------------------------------------------- */

int
verb_pid (char **argv)
{
  emit ("pid", "%d", (int)getpid ());
  return 0;
}

int
verb_ppid (char **argv)
{
  emit ("ppid", "%d", (int)getppid ());
  return 0;
}

int
verb_hostname (char **argv)
{
  struct utsname u;
  if (uname (&u) < 0)
    return emit_errno ("hostname", errno);
  emit ("hostname", "%s", u.nodename);
  return 0;
}

int
verb_ns (char **argv)
{
  static const char *const types[]
      = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "user", "uts", NULL };
  int rc = 0;

  for (const char *const *t = types; *t; t++)
    {
      char path[64], key[64], target[128];
      ssize_t n;
      unsigned long inode;

      snprintf (path, sizeof path, "/proc/self/ns/%s", *t);
      snprintf (key, sizeof key, "ns.%s", *t);
      n = readlink (path, target, sizeof target - 1);
      if (n < 0)
        {
          if (errno != ENOENT) /* time namespaces are recent */
            rc = emit_errno (key, errno);
          continue;
        }
      target[n] = '\0';
      char *open_bracket = strchr (target, '[');
      if (open_bracket && sscanf (open_bracket, "[%lu]", &inode) == 1)
        emit (key, "%lu", inode);
      else
        emit (key, "%s", target);
    }
  return rc;
}

int
verb_id (char **argv)
{
  gid_t groups[256];
  char list[2048] = "";
  size_t len = 0;
  int n = getgroups ((int)(sizeof groups / sizeof groups[0]), groups);

  emit ("uid", "%u", (unsigned)getuid ());
  emit ("gid", "%u", (unsigned)getgid ());
  emit ("euid", "%u", (unsigned)geteuid ());
  emit ("egid", "%u", (unsigned)getegid ());
  if (n < 0)
    return emit_errno ("groups", errno);
  /* Sorted, so tests can compare against one string. */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && groups[j - 1] > groups[j]; j--)
      {
        gid_t t = groups[j];
        groups[j] = groups[j - 1];
        groups[j - 1] = t;
      }
  for (int i = 0; i < n && len < sizeof list - 16; i++)
    len += (size_t)snprintf (list + len, sizeof list - len, "%s%u", i ? "," : "",
                             (unsigned)groups[i]);
  emit ("groups", "%s", list);
  return 0;
}

int
verb_caps (char **argv)
{
  static const char *const fields[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL };
  return emit_status_fields (fields);
}

int
verb_nnp (char **argv)
{
  static const char *const fields[] = { "NoNewPrivs", NULL };
  return emit_status_fields (fields);
}

int
verb_seccomp (char **argv)
{
  static const char *const fields[] = { "Seccomp", "Seccomp_filters", NULL };
  return emit_status_fields (fields);
}

int
verb_cgroup (char **argv)
{
  char line[1024];
  FILE *f = fopen ("/proc/self/cgroup", "re");

  if (f == NULL)
    return emit_errno ("cgroup", errno);
  /* "4:memory:/skiff/t" -> cgroup.memory=/skiff/t; "0::/x" -> cgroup.unified=/x */
  while (fgets (line, sizeof line, f))
    {
      char key[256];
      char *colon = strchr (line, ':');
      char *path = colon ? strchr (colon + 1, ':') : NULL;
      const char *controllers;
      if (path == NULL)
        continue;
      *path++ = '\0';
      path[strcspn (path, "\n")] = '\0';
      controllers = colon + 1;
      if (*controllers == '\0')
        controllers = "unified";
      else if (strncmp (controllers, "name=", 5) == 0)
        controllers += 5;
      snprintf (key, sizeof key, "cgroup.%s", controllers);
      emit (key, "%s", path);
    }
  fclose (f);
  return 0;
}

/* The path of this process in the v1 hierarchy holding CONTROLLER ("" when
 * the controller is on v2 or absent). */
static void
own_cgroup_path (const char *controller, char *out, size_t out_size)
{
  char line[1024];
  FILE *f = fopen ("/proc/self/cgroup", "re");

  out[0] = '\0';
  if (f == NULL)
    return;
  while (fgets (line, sizeof line, f))
    {
      char *controllers = strchr (line, ':');
      char *path = controllers ? strchr (controllers + 1, ':') : NULL;
      if (path == NULL)
        continue;
      *path++ = '\0';
      path[strcspn (path, "\n")] = '\0';
      for (char *tok = strtok (controllers + 1, ","); tok; tok = strtok (NULL, ","))
        if (strcmp (tok, controller) == 0)
          snprintf (out, out_size, "%s", path);
    }
  fclose (f);
}

/* Read the first line of the first candidate file that exists. */
static int
read_first_of (const char *key, const char *const *candidates)
{
  for (; *candidates; candidates++)
    {
      char value[256];
      FILE *f = fopen (*candidates, "re");
      if (f == NULL)
        continue;
      if (fgets (value, sizeof value, f))
        {
          value[strcspn (value, "\n")] = '\0';
          emit (key, "%s", value);
          fclose (f);
          return 0;
        }
      fclose (f);
    }
  emit (key, "missing");
  return 1;
}

int
verb_limits (char **argv)
{
  char mem[512], pids[512], cpu[512], a[1024], b[1024], c[1024], d[1024], e[1024];
  int missing = 0;

  /* v1 with a cgroup namespace shows the container's group at the controller
   * root; without one, the group sits at the path /proc/self/cgroup names. */
  own_cgroup_path ("memory", mem, sizeof mem);
  own_cgroup_path ("pids", pids, sizeof pids);
  own_cgroup_path ("cpu", cpu, sizeof cpu);
  snprintf (a, sizeof a, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", mem);
  snprintf (b, sizeof b, "/sys/fs/cgroup/pids%s/pids.max", pids);
  snprintf (c, sizeof c, "/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us", cpu);
  snprintf (d, sizeof d, "/sys/fs/cgroup/cpu%s/cpu.cfs_period_us", cpu);
  snprintf (e, sizeof e, "/sys/fs/cgroup/cpu%s/cpu.shares", cpu);
  {
    const char *const memory[]
        = { "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes", a, NULL };
    const char *const pid[]
        = { "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max", b, NULL };
    const char *const cpu_max[] = { "/sys/fs/cgroup/cpu.max", NULL };
    const char *const quota[] = { "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", c, NULL };
    const char *const period[] = { "/sys/fs/cgroup/cpu/cpu.cfs_period_us", d, NULL };
    const char *const weight[] = { "/sys/fs/cgroup/cpu.weight", NULL };
    const char *const shares[] = { "/sys/fs/cgroup/cpu/cpu.shares", e, NULL };

    missing |= read_first_of ("limit.memory", memory);
    missing |= read_first_of ("limit.pids", pid);
    if (access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
      {
        emit ("limit.layout", "v2");
        missing |= read_first_of ("limit.cpu.max", cpu_max);
        missing |= read_first_of ("limit.cpu.weight", weight);
      }
    else
      {
        emit ("limit.layout", "v1");
        missing |= read_first_of ("limit.cpu.quota", quota);
        missing |= read_first_of ("limit.cpu.period", period);
        missing |= read_first_of ("limit.cpu.shares", shares);
      }
  }
  return missing ? EXIT_FAILED : 0;
}

/* ---- process environment --------------------------------------------------------- */

int
verb_env (char **argv)
{
  for (char **e = environ; *e; e++)
    {
      if (!json_mode)
        {
          puts (*e);
          continue;
        }
      char key[256];
      size_t klen = strcspn (*e, "=");
      snprintf (key, sizeof key, "env.%.*s", (int)klen, *e);
      emit (key, "%s", (*e)[klen] ? *e + klen + 1 : "");
    }
  return 0;
}

int
verb_cwd (char **argv)
{
  char buf[4096];
  if (getcwd (buf, sizeof buf) == NULL)
    return emit_errno ("cwd", errno);
  emit ("cwd", "%s", buf);
  return 0;
}

int
verb_umask (char **argv)
{
  mode_t old = umask (0);
  umask (old);
  emit ("umask", "%04o", (unsigned)old);
  return 0;
}

int
verb_args (char **argv)
{
  for (int i = 0; argv[i]; i++)
    {
      char key[32];
      snprintf (key, sizeof key, "arg.%d", i);
      emit (key, "%s", argv[i]);
    }
  return 0;
}

int
verb_rlimit (char **argv)
{
  static const struct
  {
    const char *name;
    int resource;
  } table[] = {
    { "as", RLIMIT_AS },
    { "core", RLIMIT_CORE },
    { "cpu", RLIMIT_CPU },
    { "data", RLIMIT_DATA },
    { "fsize", RLIMIT_FSIZE },
    { "locks", RLIMIT_LOCKS },
    { "memlock", RLIMIT_MEMLOCK },
    { "msgqueue", RLIMIT_MSGQUEUE },
    { "nice", RLIMIT_NICE },
    { "nofile", RLIMIT_NOFILE },
    { "nproc", RLIMIT_NPROC },
    { "rss", RLIMIT_RSS },
    { "rtprio", RLIMIT_RTPRIO },
    { "rttime", RLIMIT_RTTIME },
    { "sigpending", RLIMIT_SIGPENDING },
    { "stack", RLIMIT_STACK },
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp (argv[0], table[i].name) == 0)
      {
        struct rlimit rl;
        char key[64];
        if (getrlimit (table[i].resource, &rl) < 0)
          return emit_errno ("rlimit", errno);
        snprintf (key, sizeof key, "rlimit.%s.soft", table[i].name);
        if (rl.rlim_cur == RLIM_INFINITY)
          emit (key, "unlimited");
        else
          emit (key, "%llu", (unsigned long long)rl.rlim_cur);
        snprintf (key, sizeof key, "rlimit.%s.hard", table[i].name);
        if (rl.rlim_max == RLIM_INFINITY)
          emit (key, "unlimited");
        else
          emit (key, "%llu", (unsigned long long)rl.rlim_max);
        return 0;
      }
  fprintf (stderr, "probe: rlimit: unknown name `%s`\n", argv[0]);
  return EXIT_USAGE;
}

int
verb_net (char **argv)
{
  char line[512];
  FILE *f = fopen ("/proc/net/dev", "re");
  int sock = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char names[1024] = "";
  size_t len = 0;

  if (f == NULL)
    return emit_errno ("net", errno);
  /* Two header lines, then "  name: counters". */
  while (fgets (line, sizeof line, f))
    {
      char *colon = strchr (line, ':');
      if (colon == NULL || strchr (line, '|'))
        continue;
      *colon = '\0';
      char *name = line + strspn (line, " ");
      struct ifreq ifr = { 0 };
      snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
      char key[64];
      snprintf (key, sizeof key, "iface.%s", name);
      if (sock >= 0 && ioctl (sock, SIOCGIFFLAGS, &ifr) == 0)
        emit (key, "%s", (ifr.ifr_flags & IFF_UP) ? "up" : "down");
      else
        emit (key, "unknown");
      len += (size_t)snprintf (names + len, sizeof names - len, "%s%s", len ? "," : "", name);
      if (len >= sizeof names)
        len = sizeof names - 1;
    }
  fclose (f);
  if (sock >= 0)
    close (sock);
  emit ("ifaces", "%s", names);
  return 0;
}
