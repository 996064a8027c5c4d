/* Launch one container process: clone3 into fresh namespaces (and straight
 * into its cgroup where the kernel allows), then the child sets itself up in
 * the order of docs/architecture.md and execs. The parent prepared everything
 * the child needs; the child only makes system calls. */
#ifndef SKIFF_LAUNCH_H
#define SKIFF_LAUNCH_H

#include "error.h"
#include "mount.h"
#include "user.h"

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

struct sk_cgroup;

struct sk_rlimit
{
  int resource;
  const char *name; /* ECS name, for messages */
  struct rlimit limit;
};

struct sk_sysctl
{
  const char *key; /* dotted, e.g. net.ipv4.ip_unprivileged_port_start */
  const char *value;
};

struct sk_launch_spec
{
  const char *name; /* container name, for messages */
  int namespaces;   /* CLONE_NEW* flags to create; CLONE_NEWCGROUP is always added */
  /* Namespaces shared by the task's containers, joined instead of created
   * (-1 = none): net, uts and ipc by the child with setns, pid by the
   * parent (a process's pid namespace is fixed at its birth). */
  int join_netns;
  int join_utsns;
  int join_ipcns;
  int join_pidns;
  /* Opt-in user namespace (isolate/userns.h): the child enters userns_fd,
   * the task's user namespace, before it is born into its new namespaces
   * (a helper joins it and clones), so they are owned by that namespace;
   * the image layers of `mounts` are ID-mapped into it. Off: no work. */
  bool userns;
  int userns_fd;
  const char *hostname;         /* with CLONE_NEWUTS */
  struct sk_mount_plan *mounts; /* with CLONE_NEWNS */
  struct sk_cgroup *cgroup;     /* the container's group, limits already written */
  int seccomp_fd;               /* memfd with the BPF program, -1 for none */
  struct sk_creds creds;        /* uid, gid, groups, capability mask */
  char *const *argv;
  char *const *envp;
  const char *cwd; /* NULL = "/" (or the user's home? no: "/" as Docker) */
  size_t n_rlimits;
  const struct sk_rlimit *rlimits;
  size_t n_sysctls;
  const struct sk_sysctl *sysctls;
  int stdio[3]; /* fds to become 0, 1, 2 in the container */
  bool init;    /* initProcessEnabled: skiff's minimal init is pid 1 */
  /* With init: the init status file (init.h), kept by init only; -1 none. */
  int init_status_fd;
  /* Called once the child exists, before it may run anything (it waits for
   * GO): records which process this start is. NULL: none. -1 fails the
   * start. */
  int (*on_cloned) (void *ctx, pid_t pid, sk_err_t *err);
  void *on_cloned_ctx;
  bool die_with_parent; /* the container is killed when the launching process dies */
  int oom_score_adj;    /* written for the child; 0 leaves it inherited */
  /* pseudoTerminal: stdio are the slave of a pty skiff opened, named
   * console_path in skiff's /dev/pts. The child makes it its controlling
   * terminal and shows it as /dev/console. NULL: no terminal. */
  const char *console_path;
};

struct sk_launched
{
  pid_t pid;
  int pidfd; /* owned by the caller */
};

/* Start the container; returns once it has exec'd its command (0), or with
 * the child's own one-line failure (-1; err's exit code is 126/127 for exec
 * failures, 125 otherwise). On failure nothing of the child remains. */
int sk_launch (const struct sk_launch_spec *spec, struct sk_launched *out, sk_err_t *err);

#endif
