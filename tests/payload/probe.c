/* probe: the payload the integration tests run inside containers.
 *
 * A static, dependency-free multi-verb helper (the model is crun's
 * tests/init.c): each verb looks at one aspect of the process it runs in and
 * prints `key=value` lines, so a test asserts from the inside what skiff set
 * up. Several verbs may follow each other (`probe id caps nnp`); every verb
 * runs and the exit status is the last verb's.
 *
 * Exit status of a verb: 0 success, 1 refused (EPERM, EACCES, EROFS), 2 other
 * failure, 64 usage. `--json` prints one flat JSON object instead of lines.
 *
 * No getpwnam and friends: a static glibc would want NSS modules at run time. */
#include "probe.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>

int json_mode;
static int json_fields;

/* ---- output ---------------------------------------------------------------- */

static void
json_string (const char *s)
{
  putchar ('"');
  for (; *s; s++)
    {
      unsigned char c = (unsigned char)*s;
      if (c == '"' || c == '\\')
        printf ("\\%c", c);
      else if (c == '\n')
        fputs ("\\n", stdout);
      else if (c < 0x20)
        printf ("\\u%04x", c);
      else
        putchar (c);
    }
  putchar ('"');
}

/* Every result goes through here: `key=value`, or one JSON member. */
void
emit (const char *key, const char *fmt, ...)
{
  char value[4096];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (value, sizeof value, fmt, ap);
  va_end (ap);
  if (!json_mode)
    {
      printf ("%s=%s\n", key, value);
      return;
    }
  fputs (json_fields++ ? ",\n  " : "{\n  ", stdout);
  json_string (key);
  fputs (": ", stdout);
  json_string (value);
  fflush (stdout);
}

const char *
errname (int err)
{
  const char *name = strerrorname_np (err);
  return name ? name : "EUNKNOWN";
}

/* Print `key=ERRNAME` and map errno to the verb's exit status. */
int
emit_errno (const char *key, int err)
{
  emit (key, "%s", errname (err));
  return (err == EPERM || err == EACCES || err == EROFS) ? EXIT_REFUSED : EXIT_FAILED;
}

/* Copy a file to stdout verbatim (in JSON mode: as one member). */
int
dump_file (const char *key, const char *path)
{
  char buf[65536];
  size_t len = 0;
  ssize_t n;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return emit_errno (key, errno);
  while ((n = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    {
      len += (size_t)n;
      if (len == sizeof buf - 1)
        {
          if (!json_mode)
            fwrite (buf, 1, len, stdout);
          else
            break; /* JSON: the first 64 KiB are enough */
          len = 0;
        }
    }
  int saved = errno;
  close (fd);
  if (n < 0)
    return emit_errno (key, saved);
  buf[len] = '\0';
  if (json_mode)
    emit (key, "%s", buf);
  else
    fwrite (buf, 1, len, stdout);
  return 0;
}

/* Find the line starting with `field:` in a /proc status-like file. */
static int
status_field (const char *field, char *out, size_t out_size)
{
  char line[512];
  size_t flen = strlen (field);
  FILE *f = fopen ("/proc/self/status", "re");

  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, field, flen) == 0 && line[flen] == ':')
      {
        char *v = line + flen + 1;
        v += strspn (v, " \t");
        v[strcspn (v, "\n")] = '\0';
        snprintf (out, out_size, "%s", v);
        fclose (f);
        return 0;
      }
  fclose (f);
  errno = ENOENT;
  return -1;
}

int
emit_status_fields (const char *const *fields)
{
  char value[256];
  int rc = 0;

  for (; *fields; fields++)
    if (status_field (*fields, value, sizeof value) == 0)
      emit (*fields, "%s", value);
    else
      rc = emit_errno (*fields, errno);
  return rc;
}

int
parse_int (const char *s, long *out)
{
  char *end;
  errno = 0;
  *out = strtol (s, &end, 0);
  if (errno || end == s || *end)
    {
      fprintf (stderr, "probe: `%s` is not a number\n", s);
      return -1;
    }
  return 0;
}

int
parse_signal (const char *s)
{
  long n;

  if (strncmp (s, "SIG", 3) == 0)
    s += 3;
  for (int sig = 1; sig < NSIG; sig++)
    {
      const char *abbrev = sigabbrev_np (sig);
      if (abbrev && strcmp (abbrev, s) == 0)
        return sig;
    }
  return parse_int (s, &n) == 0 && n > 0 && n < NSIG ? (int)n : -1;
}

const char *
signame (int sig)
{
  static char buf[16];
  const char *abbrev = sigabbrev_np (sig);
  if (abbrev == NULL)
    {
      snprintf (buf, sizeof buf, "%d", sig);
      return buf;
    }
  snprintf (buf, sizeof buf, "SIG%s", abbrev);
  return buf;
}

void
sleep_seconds (double seconds)
{
  struct timespec ts
      = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

int
verb_print (char **argv)
{
  fputs (argv[0], stdout);
  putchar ('\n');
  return 0;
}

int
verb_eprint (char **argv)
{
  fflush (stdout);
  fputs (argv[0], stderr);
  fputc ('\n', stderr);
  return 0;
}

/* ---- dispatch ---------------------------------------------------------------------- */

struct verb
{
  const char *name;
  int nargs; /* -1: every remaining argument */
  int (*fn) (char **argv);
  const char *help;
};

static const struct verb verbs[] = {
  { "pid", 0, verb_pid, "pid=N" },
  { "ppid", 0, verb_ppid, "ppid=N" },
  { "hostname", 0, verb_hostname, "hostname=NAME" },
  { "ns", 0, verb_ns, "ns.TYPE=INODE for every namespace" },
  { "id", 0, verb_id, "uid, gid, euid, egid, groups (sorted)" },
  { "caps", 0, verb_caps, "CapInh CapPrm CapEff CapBnd CapAmb (hex)" },
  { "nnp", 0, verb_nnp, "NoNewPrivs=0|1" },
  { "seccomp", 0, verb_seccomp, "Seccomp=MODE Seccomp_filters=N" },
  { "cgroup", 0, verb_cgroup, "cgroup.CONTROLLERS=PATH from /proc/self/cgroup" },
  { "limits", 0, verb_limits, "limit.memory, limit.pids, limit.cpu.* from the own cgroup" },
  { "try-syscall", 1, verb_try_syscall, "NAME: try.NAME=OK|ERRNO (exit 0 ok, 1 refused)" },
  { "rofs", 1, verb_rofs, "DIR: create a file in DIR: rofs=writable|EROFS|..." },
  { "read", 1, verb_read, "PATH: print the file" },
  { "write", 2, verb_write, "PATH TEXT: write=OK|ERRNO" },
  { "stat", 1, verb_stat, "PATH: stat.* and statfs.* (type, size, readonly, nosuid...)" },
  { "ls", 1, verb_ls, "DIR: names, sorted, one a line" },
  { "mounts", 0, verb_mounts, "print /proc/self/mountinfo" },
  { "fds", 0, verb_fds, "fds=0,1,2: open descriptors" },
  { "env", 0, verb_env, "print the environment" },
  { "cwd", 0, verb_cwd, "cwd=PATH" },
  { "umask", 0, verb_umask, "umask=0022" },
  { "args", -1, verb_args, "ARGS...: arg.N=ARG" },
  { "rlimit", 1, verb_rlimit, "NAME: rlimit.NAME.soft / .hard" },
  { "net", 0, verb_net, "iface.NAME=up|down, ifaces=lo,..." },
  { "exit", 1, verb_exit, "N: exit with status N" },
  { "kill-self", 1, verb_kill_self, "SIG: send SIG to itself (pid 1 ignores it)" },
  { "segv", 0, verb_segv, "die of SIGSEGV (works as pid 1 too)" },
  { "sleep", 1, verb_sleep, "SECONDS: sleeping=SECONDS, then sleep" },
  { "ignore-term", 1, verb_ignore_term, "SECONDS: ignore SIGTERM and SIGINT, sleep" },
  { "sig-wait", 0, verb_sig_wait, "wait for a signal: signal=SIGTERM, exit 128+n" },
  { "alloc", 1, verb_alloc, "MIB: allocate and touch MIB MiB: allocated=N" },
  { "forkbomb", 1, verb_forkbomb, "N: fork up to N children: forked=K fork.error=ERRNO" },
  { "zombies", 1, verb_zombies, "N: orphan N children: zombies=K left unreaped" },
  { "print", 1, verb_print, "TEXT: TEXT on stdout" },
  { "eprint", 1, verb_eprint, "TEXT: TEXT on stderr" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: probe [--json] VERB [ARGS] [VERB [ARGS]]...\n\nVerbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf (out, "  %-12s %s\n", verbs[i].name, verbs[i].help);
  fprintf (out, "\nExit: the last verb's status: 0 ok, 1 refused, 2 failed, 64 usage.\n");
}

int
main (int argc, char **argv)
{
  int i = 1, rc = 0;

  /* Line-buffered even on a pipe: a test that kills the probe still sees
   * every line printed before. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (i < argc && strcmp (argv[i], "--json") == 0)
    {
      json_mode = 1;
      i++;
    }
  if (i >= argc || strcmp (argv[i], "--help") == 0)
    {
      usage (i >= argc ? stderr : stdout);
      return i >= argc ? EXIT_USAGE : 0;
    }
  while (i < argc)
    {
      const struct verb *v = NULL;
      for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
        if (strcmp (argv[i], verbs[k].name) == 0)
          v = &verbs[k];
      if (v == NULL)
        {
          fprintf (stderr, "probe: unknown verb `%s`; see probe --help\n", argv[i]);
          return EXIT_USAGE;
        }
      if (v->nargs > 0 && argc - i - 1 < v->nargs)
        {
          fprintf (stderr, "probe: %s needs %d argument(s)\n", v->name, v->nargs);
          return EXIT_USAGE;
        }
      rc = v->fn (argv + i + 1);
      i += 1 + (v->nargs < 0 ? argc : v->nargs);
    }
  if (json_mode)
    fputs (json_fields ? "\n}\n" : "{}\n", stdout);
  return rc;
}
