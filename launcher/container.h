/* One container of a running task: everything the parent prepares from the
 * task definition (image, cgroup, seccomp program, credentials, mounts,
 * argv, environment, rlimits) and the runtime facts the supervisor tracks. */
#ifndef SKIFF_CONTAINER_H
#define SKIFF_CONTAINER_H

#include "error.h"
#include "image.h"
#include "launch.h"
#include "task.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sk_cgroup;

/* What `skiff run` options change, in the spirit of ECS RunTask overrides. */
struct sk_run_overrides
{
  size_t n_env;
  char **env; /* KEY=VALUE, applied last */
  size_t n_secrets;
  char **secrets; /* NAME=VALUE for `secrets` entries */
  char **command; /* replaces the command of `command_container` */
  const char *command_container;
  int64_t pids_limit;  /* 0 = default */
  bool init;           /* force initProcessEnabled */
  int pull_policy;     /* enum sk_pull_policy (image_pull.h): 0 = missing */
  bool userns;         /* --userns: the task runs in its own user namespace */
  int64_t userns_base; /* --userns-base: host id of the container's 0; 0 = /etc/subuid or 100000 */
};

/* Where the task's shared pieces live, filled by the run code. */
struct sk_task_ctx
{
  const struct sk_task *task;
  const char *root; /* skiff root */
  const char *task_id;
  const char *task_path; /* <root>/tasks/<id> */
  const char *cache_dir; /* <root>/cache/seccomp */
  struct sk_cgroup *task_cgroup;
  bool die_with_parent;
  bool adopt; /* a resumed supervisor: the task's groups and directories exist */
};

enum sk_ctr_state
{
  SK_CTR_PENDING = 0,
  SK_CTR_RUNNING,
  SK_CTR_STOPPING,
  SK_CTR_STOPPED,
};

struct sk_ctr
{
  const struct sk_container *def;
  struct sk_image image;
  struct sk_cgroup *cgroup;
  int seccomp_fd;
  struct sk_mount_plan mounts;
  struct sk_creds creds;
  char *home;
  char *hostname;
  char **argv;
  char **envp;
  char *cwd;
  char *state_dir;
  size_t n_rlimits;
  struct sk_rlimit *rlimits;
  size_t n_sysctls;
  struct sk_sysctl *sysctls;
  struct sk_launch_spec spec;
  int stop_signal;

  /* runtime */
  uint32_t starts; /* successful starts in this attempt (detached: start_record.h) */
  enum sk_ctr_state state;
  pid_t pid;
  int pidfd;
  uint64_t oom_kills_before;
  bool exited;
  int exit_code; /* 0-255, 128+n for signal n */
  bool oom_killed;
  char *reason; /* ECS-style container reason, NULL when none */
};

#define SK_DEFAULT_PIDS_LIMIT 4096

/* Parent-side preparation: all of it fallible, none of it running code in
 * the container. On failure the partial state is released by sk_ctr_clear. */
int sk_ctr_prepare (struct sk_ctr *c, const struct sk_task_ctx *t, const struct sk_container *def,
                    const struct sk_run_overrides *ov, sk_err_t *err);
int sk_ctr_start (struct sk_ctr *c, sk_err_t *err);
/* After the process is gone: remove the cgroup and release everything. */
int sk_ctr_destroy (struct sk_ctr *c, sk_err_t *err);
void sk_ctr_clear (struct sk_ctr *c);

/* Exit code conventions: exit status n, or 128+n for signal n. */
int sk_wait_status_to_code (int how, int status); /* siginfo si_code, si_status */

#endif
