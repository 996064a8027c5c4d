/* skiff exec: a command inside a running container of a detached task. It
 * joins the container's namespaces, cgroup, credentials, capabilities and
 * seccomp filter (isolate/exec.h), all prepared from the task's recorded
 * definition exactly as the supervisor prepared the container. */
#include "cgroup.h"
#include "cli.h"
#include "container.h"
#include "exec.h"
#include "pty.h"
#include "spec.h"
#include "taskstate.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
exec_help (void)
{
  printf ("Usage: skiff exec [-c CONTAINER] [-i] [-t] TASK -- COMMAND [ARG...]\n"
          "\n"
          "Run COMMAND inside a running container of TASK: in its namespaces (its\n"
          "filesystem, pid namespace, network), its cgroup, as its user with its\n"
          "capabilities and under its seccomp filter. Exits with COMMAND's exit code.\n"
          "\n"
          "  -c, --container NAME  the container (default: the first running one)\n"
          "  -i, --interactive     pass standard input (else /dev/null)\n"
          "  -t, --tty             give the command a terminal (pty) whose window size\n"
          "                        follows this one's; with -i this terminal is in raw\n"
          "                        mode meanwhile (Ctrl-C goes to the command)\n");
}

/* ---- exec ---------------------------------------------------------------- */

static int
find_container (const struct sk_task_record *rec, const char *name, size_t *idx)
{
  for (size_t i = 0; i < rec->n; i++)
    if ((name == NULL || strcmp (rec->c[i].name, name) == 0) && rec->c[i].pid > 0)
      {
        *idx = i;
        return 0;
      }
  return -1;
}

int
cmd_exec (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "container", required_argument, NULL, 'c' },
    { "interactive", no_argument, NULL, 'i' },
    { "tty", no_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *only = NULL;
  bool interactive = false, tty = false;
  _cleanup_free_ char *id = NULL;
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *spec_path = NULL;
  _cleanup_free_ char *cache = NULL;
  _cleanup_close_ int target = -1;
  _cleanup_close_ int devnull = -1;
  _cleanup_close_ int master = -1;
  _cleanup_close_ int slave = -1;
  struct sk_task_record rec = { 0 };
  struct sk_task *task = NULL;
  struct sk_diags diags = { 0 };
  struct sk_run_overrides ov = { 0 };
  struct sk_task_ctx ctx = { 0 };
  struct sk_ctr ctr;
  struct sk_exec_spec spec;
  sk_err_t err = NULL;
  size_t idx = 0;
  pid_t pid;
  int pidfd = -1, c, code = SK_EXIT_SKIFF;

  memset (&ctr, 0, sizeof ctr);
  ctr.seccomp_fd = ctr.pidfd = -1;
  while ((c = getopt_long (argc, argv, "+:c:ith", opts, NULL)) != -1)
    switch (c)
      {
      case 'c':
        only = optarg;
        break;
      case 'i':
        interactive = true;
        break;
      case 't':
        tty = true;
        break;
      case 'h':
        exec_help ();
        return SK_EXIT_OK;
      case ':':
        return sk_usage_error ("exec", "option '%s' needs an argument", argv[optind - 1]);
      default:
        return sk_usage_error ("exec", "unknown option '%s'", argv[optind - 1]);
      }
  if (optind >= argc)
    return sk_usage_error ("exec", "missing the TASK");
  const char *ref = argv[optind++];
  if (optind < argc && strcmp (argv[optind], "--") == 0)
    optind++;
  if (optind >= argc)
    return sk_usage_error ("exec", "missing the COMMAND");

  if (sk_task_resolve (g->root, ref, &id, &err) < 0)
    goto fail;
  dir = sk_task_dir_path (g->root, id);
  if (sk_task_record_load (dir, &rec, &err) < 0)
    goto fail;
  if (find_container (&rec, only, &idx) < 0)
    {
      sk_err_set (&err, ESRCH, "task %s has no running container%s%s", id, only ? " " : "",
                  only ? only : "");
      goto fail;
    }
  /* pid + start time: never a recycled pid. */
  target = sk_pidfd_open_verified (rec.c[idx].pid, rec.c[idx].pid_start);
  if (target < 0)
    {
      sk_err_set (&err, ESRCH, "container %s is not running", rec.c[idx].name);
      goto fail;
    }
  spec_path = xasprintf ("%s/spec.json", dir);
  if (sk_task_load_file (spec_path, NULL, &task, &diags, &err) < 0)
    goto fail;
  sk_detached_load_source_dir (dir, task);
  const struct sk_container *def = sk_task_find_container (task, rec.c[idx].name);
  if (def == NULL)
    {
      sk_err_set (&err, ENOENT, "container %s is not in the task definition", rec.c[idx].name);
      goto fail;
    }
  cache = xasprintf ("%s/cache/seccomp", g->root);
  ctx.task = task;
  ctx.root = g->root;
  ctx.task_id = id;
  ctx.task_path = dir;
  ctx.cache_dir = cache;
  ctx.adopt = true; /* the container's group exists: joined, never re-created */
  if (sk_ctr_prepare (&ctr, &ctx, def, &ov, &err) < 0)
    goto fail;

  memset (&spec, 0, sizeof spec);
  spec.target_pidfd = target;
  spec.target_pid = rec.c[idx].pid;
  spec.cgroup = ctr.cgroup;
  spec.seccomp_fd = ctr.seccomp_fd;
  spec.creds = ctr.creds;
  spec.argv = &argv[optind];
  spec.envp = ctr.envp;
  spec.cwd = ctr.cwd;
  spec.n_rlimits = ctr.n_rlimits;
  spec.rlimits = ctr.rlimits;
  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (tty)
    {
      if (sk_pty_open (false, &master, &slave, NULL, &err) < 0)
        goto fail;
      spec.stdio[0] = spec.stdio[1] = spec.stdio[2] = slave;
      spec.new_session = true;
    }
  else
    {
      spec.stdio[0] = interactive ? STDIN_FILENO : devnull;
      spec.stdio[1] = STDOUT_FILENO;
      spec.stdio[2] = STDERR_FILENO;
    }
  if (sk_exec_spawn (&spec, &pid, &pidfd, &err) < 0)
    {
      code = err != NULL && err->exitcode != 0 ? err->exitcode : SK_EXIT_SKIFF;
      sk_err_print (&err);
      sk_err_free (&err);
      goto out;
    }
  if (tty)
    {
      close (steal_fd (&slave));
      sk_pty_relay (master, pidfd, interactive);
    }
  siginfo_t info;
  memset (&info, 0, sizeof info);
  while (waitid (P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
    ;
  close (pidfd);
  code = sk_wait_status_to_code (info.si_code, info.si_status);
  goto out;

fail:
  sk_diags_print (&diags, stderr);
  sk_err_wrap (&err, "skiff exec");
  sk_err_print (&err);
  sk_err_free (&err);
out:
  /* The group belongs to the running container: only let go of it. */
  if (ctr.cgroup != NULL)
    {
      sk_cgroup_free (ctr.cgroup);
      ctr.cgroup = NULL;
    }
  sk_ctr_clear (&ctr);
  sk_diags_clear (&diags);
  sk_task_free (task);
  sk_task_record_clear (&rec);
  return code;
}
