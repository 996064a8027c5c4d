/* probe: exit codes, signals, memory, pids and reaping. */
#include "probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* ---- lifecycle ------------------------------------------------------------------- */

int
verb_exit (char **argv)
{
  long code;
  if (parse_int (argv[0], &code) < 0)
    return EXIT_USAGE;
  fflush (stdout);
  exit ((int)code);
}

int
verb_kill_self (char **argv)
{
  int sig = parse_signal (argv[0]);
  if (sig < 0)
    return EXIT_USAGE;
  fflush (stdout);
  signal (sig, SIG_DFL);
  if (getpid () == 1)
    fprintf (stderr, "probe: kill-self: pid 1 ignores signals sent from its own namespace\n");
  kill (getpid (), sig);
  sleep_seconds (0.2);
  emit ("kill-self", "survived");
  return EXIT_FAILED;
}

/* Opaque to the compiler, so the store below is a real fault at run time. */
static int *volatile fault_address;

/* A fault: unlike kill(), this ends even pid 1 of a pid namespace. */
int
verb_segv (char **argv)
{
  fflush (stdout);
  signal (SIGSEGV, SIG_DFL);
  *fault_address = 1;
  return EXIT_FAILED;
}

int
verb_sleep (char **argv)
{
  char *end;
  double seconds = strtod (argv[0], &end);
  if (*end || seconds < 0)
    return EXIT_USAGE;
  emit ("sleeping", "%s", argv[0]);
  fflush (stdout);
  sleep_seconds (seconds);
  return 0;
}

int
verb_ignore_term (char **argv)
{
  signal (SIGTERM, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  emit ("ignoring", "SIGTERM,SIGINT");
  return verb_sleep (argv);
}

static volatile sig_atomic_t received_signal;

static void
on_signal (int sig)
{
  received_signal = sig;
}

int
verb_sig_wait (char **argv)
{
  static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  struct sigaction sa = { .sa_handler = on_signal };
  sigset_t none;

  sigemptyset (&none);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &sa, NULL);
  emit ("waiting", "%d", (int)getpid ());
  fflush (stdout);
  while (!received_signal)
    sigsuspend (&none);
  emit ("signal", "%s", signame (received_signal));
  fflush (stdout);
  exit (128 + received_signal);
}

int
verb_alloc (char **argv)
{
  long mib;
  if (parse_int (argv[0], &mib) < 0 || mib < 0)
    return EXIT_USAGE;
  for (long i = 0; i < mib; i++)
    {
      char *p = mmap (NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED)
        {
          emit ("allocated", "%ld", i);
          return emit_errno ("alloc", errno);
        }
      memset (p, 0x5a, 1 << 20); /* touch every page: make it resident */
    }
  emit ("allocated", "%ld", mib);
  return 0;
}

/* Fork children that block on a pipe until told to go, N of them or until
 * fork fails (the pids limit). */
int
verb_forkbomb (char **argv)
{
  long want, made = 0;
  int fds[2], err = 0;

  if (parse_int (argv[0], &want) < 0 || want < 0)
    return EXIT_USAGE;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return emit_errno ("forkbomb", errno);
  for (; made < want; made++)
    {
      pid_t pid = fork ();
      if (pid < 0)
        {
          err = errno;
          break;
        }
      if (pid == 0)
        {
          char c;
          close (fds[1]);
          while (read (fds[0], &c, 1) < 0 && errno == EINTR)
            ;
          _exit (0);
        }
    }
  close (fds[1]); /* EOF releases every child */
  close (fds[0]);
  while (wait (NULL) > 0 || errno == EINTR)
    ;
  emit ("forked", "%ld", made);
  emit ("fork.error", "%s", err ? errname (err) : "none");
  return err ? EXIT_REFUSED : 0;
}

/* Count zombies among our pid namespace's processes. */
static int
count_zombies (void)
{
  int zombies = 0;
  struct dirent *de;
  DIR *d = opendir ("/proc");

  if (d == NULL)
    return -1;
  while ((de = readdir (d)))
    {
      char path[300], buf[512];
      if (de->d_name[0] < '0' || de->d_name[0] > '9')
        continue;
      snprintf (path, sizeof path, "/proc/%s/stat", de->d_name);
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      ssize_t n = read (fd, buf, sizeof buf - 1);
      close (fd);
      if (n <= 0)
        continue;
      buf[n] = '\0';
      char *rparen = strrchr (buf, ')'); /* the name may contain spaces */
      if (rparen && rparen[1] == ' ' && rparen[2] == 'Z')
        zombies++;
    }
  closedir (d);
  return zombies;
}

/* Orphan N grandchildren that exit at once: they are re-parented to pid 1,
 * which must reap them. Prints how many zombies remain after a moment. */
int
verb_zombies (char **argv)
{
  long n;
  pid_t middle;

  if (parse_int (argv[0], &n) < 0 || n < 0)
    return EXIT_USAGE;
  middle = fork ();
  if (middle < 0)
    return emit_errno ("zombies", errno);
  if (middle == 0)
    {
      for (long i = 0; i < n; i++)
        if (fork () == 0)
          {
            sleep_seconds (0.1); /* outlive the middle process: become an orphan */
            _exit (0);
          }
      _exit (0);
    }
  waitpid (middle, NULL, 0);
  sleep_seconds (0.6);
  emit ("zombies", "%d", count_zombies ());
  return 0;
}
