/* Run one more process inside a RUNNING container: health-check probes and
 * `skiff exec`. The new process joins the container's namespaces, its
 * cgroup, its user and capabilities and its seccomp filter before it runs a
 * single instruction of the command; it never runs on the host.
 *
 * Order and reasons: docs/architecture.md ("Joining a running container"). */
#ifndef SKIFF_EXEC_H
#define SKIFF_EXEC_H

#include "caps.h"
#include "error.h"
#include "launch.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sk_cgroup;

struct sk_exec_spec
{
  int target_pidfd;         /* pidfd of a process of the container (its pid 1) */
  pid_t target_pid;         /* the same process, as the host sees it */
  struct sk_cgroup *cgroup; /* the container's cgroup: joined before the process runs code;
                               NULL stays in the caller's group (tests only) */
  int seccomp_fd;           /* the container's BPF memfd, -1 none */
  struct sk_creds creds;    /* the container's uid/gid/groups/caps */
  char *const *argv;        /* argv[0] is searched in the PATH of envp */
  char *const *envp;        /* NULL = empty environment */
  const char *cwd;          /* NULL = "/" */
  int stdio[3];             /* fds for 0, 1, 2 (e.g. /dev/null and a pipe to capture output) */
  bool new_session;         /* setsid so the whole probe process group can be killed */
  /* Optional, as in sk_launch_spec: the container's ulimits and OOM score,
   * applied from outside while the process waits. */
  size_t n_rlimits;
  const struct sk_rlimit *rlimits;
  int oom_score_adj; /* 0 leaves it inherited */
};

/* Fork a process that joins the container and execs argv. Returns 0 once
 * the command is running, with its host pid and a pidfd (CLOEXEC, owned by
 * the caller, who reaps it with waitid(P_PIDFD) and kills it on timeout);
 * the process is the caller's own child and gets SIGKILL when the calling
 * thread dies. On failure nothing of the process remains and err holds one
 * line; its exit code is 127 when the command does not exist, 126 when it
 * cannot be executed, 125 for any other failure. The caller must be
 * single-threaded while this runs (it briefly switches its pid namespace
 * for children) and must not reap children with waitpid(-1) concurrently. */
int sk_exec_spawn (const struct sk_exec_spec *s, pid_t *pid, int *pidfd, sk_err_t *err);

#endif
