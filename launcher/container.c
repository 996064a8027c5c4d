/* From a container definition to a launch spec: the parent's half of the
 * launch path (docs/architecture.md). Everything here may fail and nothing
 * here runs code inside the container. */
#include "container.h"
#include "caps.h"
#include "cgroup.h"
#include "env.h"
#include "seccomp.h"
#include "start_record.h"
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (UINT64_C (1024) * 1024)

int
sk_wait_status_to_code (int how, int status)
{
  if (how == CLD_EXITED)
    return status & 0xff;
  return 128 + status;
}

static char **
strv_from_model (const struct sk_strv *v)
{
  char **out = xzalloc ((v->n + 1) * sizeof *out);
  for (size_t i = 0; i < v->n; i++)
    out[i] = xstrdup (v->v[i]);
  return out;
}

static char **
strv_concat (char **a, char **b)
{
  size_t na = 0, nb = 0, k = 0;
  char **out;

  while (a != NULL && a[na] != NULL)
    na++;
  while (b != NULL && b[nb] != NULL)
    nb++;
  out = xzalloc ((na + nb + 1) * sizeof *out);
  for (size_t i = 0; i < na; i++)
    out[k++] = xstrdup (a[i]);
  for (size_t i = 0; i < nb; i++)
    out[k++] = xstrdup (b[i]);
  return out;
}

/* Docker's merge: an entryPoint given by the task drops the image's CMD; a
 * command given alone runs under the image's ENTRYPOINT. */
static int
build_argv (struct sk_ctr *c, const struct sk_run_overrides *ov, sk_err_t *err)
{
  const struct sk_container *d = c->def;
  _cleanup_strv_ char **entry = NULL;
  _cleanup_strv_ char **cmd = NULL;
  bool overridden
      = ov->command != NULL
        && (ov->command_container == NULL || strcmp (ov->command_container, d->name) == 0);

  if (d->has_entry_point)
    entry = strv_from_model (&d->entry_point);
  else if (c->image.entrypoint != NULL)
    entry = strv_concat (c->image.entrypoint, NULL);

  if (overridden)
    cmd = strv_concat (ov->command, NULL);
  else if (d->has_command)
    cmd = strv_from_model (&d->command);
  else if (!d->has_entry_point && c->image.cmd != NULL)
    cmd = strv_concat (c->image.cmd, NULL);

  c->argv = strv_concat (entry, cmd);
  if (c->argv[0] == NULL)
    return sk_err_set (err, 0,
                       "no command to run: the task gives neither entryPoint nor command, and "
                       "image `%s` has none",
                       d->image);
  if (c->argv[0][0] == '\0')
    return sk_err_set (err, 0, "the command's first element is empty");
  return 0;
}

static int
build_rlimits (struct sk_ctr *c, sk_err_t *err)
{
  const struct sk_container *d = c->def;
  bool has_core = false;

  c->rlimits = xzalloc ((d->n_ulimits + 1) * sizeof *c->rlimits);
  for (size_t i = 0; i < d->n_ulimits; i++)
    {
      struct sk_rlimit *rl = &c->rlimits[c->n_rlimits++];
      rl->resource = d->ulimits[i].resource;
      rl->name = d->ulimits[i].name;
      rl->limit.rlim_cur = d->ulimits[i].soft;
      rl->limit.rlim_max = d->ulimits[i].hard;
      if (rl->limit.rlim_cur > rl->limit.rlim_max)
        return sk_err_set (err, 0, "ulimit `%s`: soft limit %llu above hard limit %llu", rl->name,
                           (unsigned long long)rl->limit.rlim_cur,
                           (unsigned long long)rl->limit.rlim_max);
      if (rl->resource == RLIMIT_CORE)
        has_core = true;
    }
  /* No core dumps unless asked: a crashing task must not fill the disk. */
  if (!has_core)
    {
      struct sk_rlimit *rl = &c->rlimits[c->n_rlimits++];
      rl->resource = RLIMIT_CORE;
      rl->name = "core";
      rl->limit.rlim_cur = 0;
      rl->limit.rlim_max = 0;
    }
  return 0;
}

static int
build_sysctls (struct sk_ctr *c)
{
  const struct sk_kv_list *l = &c->def->system_controls;

  c->sysctls = xzalloc ((l->n + 1) * sizeof *c->sysctls);
  for (size_t i = 0; i < l->n; i++)
    {
      c->sysctls[i].key = l->v[i].name;
      c->sysctls[i].value = l->v[i].value;
    }
  c->n_sysctls = l->n;
  return 0;
}

static int
create_cgroup (struct sk_ctr *c, const struct sk_task_ctx *t, const struct sk_run_overrides *ov,
               sk_err_t *err)
{
  const struct sk_container *d = c->def;
  struct sk_cgroup_limits lim;
  _cleanup_free_ char *path = sk_task_cgroup_path (t->task_id, d->name);

  memset (&lim, 0, sizeof lim);
  lim.swappiness = -1;
  lim.memory_max = (uint64_t)d->memory * MIB;
  lim.memory_low = (uint64_t)d->memory_reservation * MIB;
  if (d->has_max_swap)
    {
      lim.has_swap_max = true;
      lim.swap_max = (uint64_t)d->max_swap * MIB;
      if (d->has_swappiness)
        lim.swappiness = (int)d->swappiness;
    }
  else if (d->memory != 0)
    {
      /* No swap on top of the hard limit unless maxSwap asks for it: a
       * memory limit then means what it says on every host. */
      lim.has_swap_max = true;
      lim.swap_max_implicit = true;
      lim.swap_max = 0;
    }
  lim.cpu_shares = d->cpu;
  if (lim.cpu_shares != 0 && lim.cpu_shares < 2)
    lim.cpu_shares = 2; /* the kernel's minimum, as the ECS agent clamps */
  lim.pids_max = ov->pids_limit > 0 ? ov->pids_limit : SK_DEFAULT_PIDS_LIMIT;
  if (t->adopt)
    {
      /* A resumed supervisor takes the group over, running container and all. */
      sk_err_t ignored = NULL;
      if (sk_cgroup_open (path, &c->cgroup, &ignored) == 0)
        return 0;
      sk_err_free (&ignored);
    }
  if (sk_cgroup_create (path, &lim, &c->cgroup, err) < 0)
    return -1;
  /* Soft settings the host cannot honour (swap accounting off, ...) are
   * said once, never silently dropped. */
  const struct sk_cgroup_note *notes;
  size_t n = sk_cgroup_notes (c->cgroup, &notes);
  for (size_t i = 0; i < n; i++)
    if (notes[i].level == SK_CGROUP_NOTE_WARNING)
      fprintf (stderr, "skiff: warning: container %s: %s\n", d->name, notes[i].text);
  return 0;
}

static int
prepare_volume_source (const struct sk_task_ctx *t, const struct sk_volume *v, char **out,
                       sk_err_t *err)
{
  switch (v->kind)
    {
    case SK_VOL_HOST:
      /* Docker creates a missing host path; so does ECS on EC2. */
      if (mkdir (v->host_source_path, 0755) < 0 && errno != EEXIST)
        return sk_err_set (err, errno, "volume `%s`: create host path `%s`", v->name,
                           v->host_source_path);
      *out = xstrdup (v->host_source_path);
      return 0;
    case SK_VOL_SCRATCH:
    case SK_VOL_DOCKER_TASK:
      {
        _cleanup_free_ char *vols = xasprintf ("%s/volumes", t->task_path);
        *out = xasprintf ("%s/%s", vols, v->name);
        if ((mkdir (vols, 0755) < 0 && errno != EEXIST)
            || (mkdir (*out, 0755) < 0 && errno != EEXIST))
          return sk_err_set (err, errno, "volume `%s`: create `%s`", v->name, *out);
        return 0;
      }
    case SK_VOL_DOCKER_SHARED:
      {
        _cleanup_free_ char *vols = xasprintf ("%s/volumes", t->root);
        *out = xasprintf ("%s/%s", vols, v->name);
        if ((mkdir (vols, 0700) < 0 && errno != EEXIST)
            || (mkdir (*out, 0755) < 0 && errno != EEXIST))
          return sk_err_set (err, errno, "volume `%s`: create `%s`", v->name, *out);
        return 0;
      }
    case SK_VOL_UNSUPPORTED:
    default:
      return sk_err_set (err, ENOTSUP, "volume `%s`: %s volumes cannot be provided on this host",
                         v->name, v->unsupported_kind ? v->unsupported_kind : "this kind of");
    }
}

static int
add_mount_points (struct sk_ctr *c, const struct sk_task_ctx *t, const struct sk_container *src,
                  bool force_ro, sk_err_t *err)
{
  for (size_t i = 0; i < src->n_mount_points; i++)
    {
      const struct sk_mount_point *mp = &src->mount_points[i];
      const struct sk_volume *v = sk_task_find_volume (t->task, mp->source_volume);
      struct sk_bind_mount *b;
      char *source = NULL;

      if (v == NULL)
        return sk_err_set (err, 0, "mountPoints: volume `%s` is not declared", mp->source_volume);
      if (prepare_volume_source (t, v, &source, err) < 0)
        {
          free (source);
          return -1;
        }
      c->mounts.binds
          = xreallocarray (c->mounts.binds, c->mounts.n_binds + 1, sizeof *c->mounts.binds);
      b = &c->mounts.binds[c->mounts.n_binds++];
      b->source = source;
      b->dest = xstrdup (mp->container_path);
      b->read_only = mp->read_only || force_ro;
    }
  return 0;
}

/* privileged, as Docker: every device node of the host's /dev (and one
 * level of its subdirectories: /dev/net/tun, /dev/snd/...), except what the
 * container's own /dev provides (pts, shm, mqueue, the standard nodes). */
static void
add_host_devices (struct sk_mount_plan *plan, const char *dir, int depth)
{
  static const char *const skip[]
      = { "pts",  "shm",    "mqueue",  "console", "ptmx", "tty",   "null",   "zero",
          "full", "random", "urandom", "core",    "fd",   "stdin", "stdout", "stderr" };
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      _cleanup_free_ char *path = NULL;
      struct stat st;
      bool skipped = de->d_name[0] == '.';

      for (size_t k = 0; depth == 0 && k < SK_ARRAY_SIZE (skip) && !skipped; k++)
        skipped = strcmp (de->d_name, skip[k]) == 0;
      if (skipped)
        continue;
      path = xasprintf ("%s/%s", dir, de->d_name);
      if (lstat (path, &st) < 0)
        continue;
      if (S_ISDIR (st.st_mode) && depth == 0)
        {
          add_host_devices (plan, path, 1);
          continue;
        }
      if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
        continue;
      plan->devices = xreallocarray (plan->devices, plan->n_devices + 1, sizeof *plan->devices);
      plan->devices[plan->n_devices].host_path = xstrdup (path);
      plan->devices[plan->n_devices].dest = xstrdup (path);
      plan->devices[plan->n_devices].mode = st.st_mode & (S_IFMT | 07777);
      plan->devices[plan->n_devices].rdev = st.st_rdev;
      plan->n_devices++;
    }
  closedir (d);
}

static int
build_mounts (struct sk_ctr *c, const struct sk_task_ctx *t, bool userns, sk_err_t *err)
{
  const struct sk_container *d = c->def;
  /* One mount point for every container (isolate/mount.h), except where
   * the parent premounts the root for a user namespace. */
  _cleanup_free_ char *mount_point = userns ? NULL : xasprintf ("%s/rootfs-mnt", t->root);

  if (c->image.lowers != NULL)
    {
      if (sk_rootfs_prepare_layers_at (&c->mounts, (const char *const *)c->image.lowers,
                                       c->state_dir, mount_point, d->readonly_root_filesystem, err)
          < 0)
        return -1;
    }
  else if (sk_rootfs_prepare_at (&c->mounts, c->image.rootfs, c->state_dir, mount_point,
                                 d->readonly_root_filesystem, err)
           < 0)
    return -1;
  c->mounts.own_netns = t->task->network_mode != SK_NET_HOST;
  c->mounts.privileged = d->privileged;
  c->mounts.shm_size_mib = d->shared_memory_size;

  if (add_mount_points (c, t, d, false, err) < 0)
    return -1;
  for (size_t i = 0; i < d->n_volumes_from; i++)
    {
      const struct sk_container *src
          = sk_task_find_container (t->task, d->volumes_from[i].source_container);
      if (src == NULL)
        return sk_err_set (err, 0, "volumesFrom: no container `%s`",
                           d->volumes_from[i].source_container);
      if (add_mount_points (c, t, src, d->volumes_from[i].read_only, err) < 0)
        return -1;
    }

  c->mounts.tmpfs = xzalloc ((d->n_tmpfs + 1) * sizeof *c->mounts.tmpfs);
  for (size_t i = 0; i < d->n_tmpfs; i++)
    {
      struct sk_tmpfs_mount *tm = &c->mounts.tmpfs[c->mounts.n_tmpfs];
      if (sk_tmpfs_options ((const char *const *)d->tmpfs[i].mount_options.v,
                            d->tmpfs[i].mount_options.n, d->tmpfs[i].size, &tm->flags, &tm->data,
                            err)
          < 0)
        return sk_err_wrap (err, "tmpfs `%s`", d->tmpfs[i].container_path);
      tm->dest = xstrdup (d->tmpfs[i].container_path);
      c->mounts.n_tmpfs++;
    }

  c->mounts.devices = xzalloc ((d->n_devices + 1) * sizeof *c->mounts.devices);
  for (size_t i = 0; i < d->n_devices; i++)
    {
      struct sk_device_node *dn = &c->mounts.devices[c->mounts.n_devices];
      struct stat st;

      if (stat (d->devices[i].host_path, &st) < 0)
        return sk_err_set (err, errno, "device `%s`", d->devices[i].host_path);
      if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
        return sk_err_set (err, ENODEV, "device `%s` is not a device node",
                           d->devices[i].host_path);
      dn->host_path = xstrdup (d->devices[i].host_path);
      dn->dest = xstrdup (d->devices[i].container_path ? d->devices[i].container_path
                                                       : d->devices[i].host_path);
      dn->mode = (st.st_mode & S_IFMT) | 0660;
      dn->rdev = st.st_rdev;
      c->mounts.n_devices++;
    }
  if (d->privileged)
    add_host_devices (&c->mounts, "/dev", 0);
  return 0;
}

static int
resolve_creds (struct sk_ctr *c, sk_err_t *err)
{
  const struct sk_container *d = c->def;
  _cleanup_close_ int rootfd = -1;
  _cleanup_free_ char *warning = NULL;
  uint64_t caps = 0;

  rootfd = open (c->image.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return sk_err_set (err, errno, "open image root `%s`", c->image.rootfs);
  if (sk_user_resolve (rootfd, d->user != NULL ? d->user : c->image.user, &c->creds, &c->home, err)
      < 0)
    return -1;
  if (sk_caps_resolve ((const char *const *)d->cap_add.v, d->cap_add.n,
                       (const char *const *)d->cap_drop.v, d->cap_drop.n, d->privileged, &caps,
                       &warning, err)
      < 0)
    return -1;
  if (warning != NULL)
    fprintf (stderr, "skiff: warning: container %s: %s\n", d->name, warning);
  c->creds.caps = caps;
  return 0;
}

int
sk_ctr_prepare (struct sk_ctr *c, const struct sk_task_ctx *t, const struct sk_container *def,
                const struct sk_run_overrides *ov, sk_err_t *err)
{
  int ns;

  memset (c, 0, sizeof *c);
  c->def = def;
  c->seccomp_fd = -1;
  c->pidfd = -1;
  c->stop_signal = SIGTERM;

  {
    struct sk_image_opts io = {
      .root = t->root,
      .policy = (enum sk_pull_policy)ov->pull_policy,
      .cpu_arch = t->task->cpu_architecture,
    };
    int image_signal;
    if (sk_image_resolve (def->image, t->task->source_dir, &io, &c->image, err) < 0)
      return -1;
    /* The image's STOPSIGNAL replaces SIGTERM, as with docker stop. */
    image_signal = sk_image_stop_signal (c->image.stop_signal);
    if (image_signal > 0)
      c->stop_signal = image_signal;
  }
  /* The state directory holds a detached task's records and FIFOs, the
   * writable layer (made with it) and a user namespace's premount; a
   * foreground container with a read-only root needs none, and on a disk
   * state root its mkdir and rmdir are journal writes. */
  c->state_dir = xasprintf ("%s/containers/%s", t->task_path, def->name);
  if ((!t->die_with_parent || ov->userns) && mkdir (c->state_dir, 0700) < 0
      && !(t->adopt && errno == EEXIST))
    return sk_err_set (err, errno, "mkdir `%s`", c->state_dir);

  if (build_argv (c, ov, err) < 0 || resolve_creds (c, err) < 0)
    return -1;
  c->hostname = xstrdup (def->hostname != NULL ? def->hostname : t->task_id);
  if (sk_env_build (c->def, t->task, &c->image, c->home, c->hostname, ov, &c->envp, err) < 0)
    return -1;
  if (build_rlimits (c, err) < 0 || build_sysctls (c) < 0
      || build_mounts (c, t, ov->userns, err) < 0)
    return -1;

  /* Limits are written before any process of the container exists. */
  if (create_cgroup (c, t, ov, err) < 0)
    return -1;

  /* The BPF program is compiled (or taken from the cache) here, once, so
   * the child only reads bytes. Privileged containers run unfiltered. */
  if (!def->privileged && sk_seccomp_prepare (c->creds.caps, t->cache_dir, &c->seccomp_fd, err) < 0)
    return -1;

  ns = CLONE_NEWNS | CLONE_NEWUTS;
  if (t->task->pid_mode != SK_NS_HOST)
    ns |= CLONE_NEWPID;
  if (t->task->ipc_mode != SK_NS_HOST)
    ns |= CLONE_NEWIPC;
  if (t->task->network_mode != SK_NET_HOST)
    ns |= CLONE_NEWNET;

  c->cwd = xstrdup (def->working_directory != NULL ? def->working_directory
                    : c->image.working_dir != NULL ? c->image.working_dir
                                                   : "/");

  c->spec.name = def->name;
  c->spec.namespaces = ns;
  c->spec.hostname = c->hostname;
  c->spec.mounts = &c->mounts;
  c->spec.cgroup = c->cgroup;
  c->spec.seccomp_fd = c->seccomp_fd;
  c->spec.creds = c->creds;
  c->spec.argv = c->argv;
  c->spec.envp = c->envp;
  c->spec.cwd = c->cwd;
  c->spec.n_rlimits = c->n_rlimits;
  c->spec.rlimits = c->rlimits;
  c->spec.n_sysctls = c->n_sysctls;
  c->spec.sysctls = c->sysctls;
  c->spec.stdio[0] = -1;
  c->spec.stdio[1] = STDOUT_FILENO;
  c->spec.stdio[2] = STDERR_FILENO;
  c->spec.init = def->init_process_enabled || ov->init;
  c->spec.init_status_fd = -1;
  c->spec.die_with_parent = t->die_with_parent;
  return 0;
}

int
sk_ctr_start (struct sk_ctr *c, sk_err_t *err)
{
  struct sk_launched l;
  _cleanup_close_ int devnull = -1;

  if (c->spec.stdio[0] < 0)
    {
      /* A task does not read the user's terminal unless it is interactive. */
      if (c->def->interactive)
        c->spec.stdio[0] = STDIN_FILENO;
      else
        {
          devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
          if (devnull < 0)
            return sk_err_set (err, errno, "open `/dev/null`");
          c->spec.stdio[0] = devnull;
        }
    }
  if (sk_cgroup_oom_kills (c->cgroup, &c->oom_kills_before, err) < 0)
    return -1;
  /* Detached: which start this is, and init's status file, are on disk
   * before anything of it runs (start_record.h). */
  struct sk_start_files files = { .start_fd = -1, .init_fd = -1 };
  bool recorded = !c->spec.die_with_parent;
  if (recorded && sk_start_files_open (c->state_dir, c->starts + 1, c->spec.init, &files, err) < 0)
    return -1;
  c->spec.init_status_fd = files.init_fd;
  c->spec.on_cloned = recorded ? sk_start_files_cloned : NULL;
  c->spec.on_cloned_ctx = &files;
  int launched = sk_launch (&c->spec, &l, err);
  if (launched < 0)
    sk_start_files_cancel (&files);
  sk_start_files_close (&files);
  c->spec.init_status_fd = -1;
  c->spec.on_cloned = NULL;
  c->spec.on_cloned_ctx = NULL;
  if (devnull >= 0)
    c->spec.stdio[0] = -1;
  if (launched < 0)
    return -1;
  c->starts++;
  if (recorded)
    sk_test_crash_point ("SKIFF_TEST_CRASH_AFTER_CLONE");
  c->pid = l.pid;
  c->pidfd = l.pidfd;
  c->state = SK_CTR_RUNNING;
  return 0;
}

int
sk_ctr_destroy (struct sk_ctr *c, sk_err_t *err)
{
  int r = 0;

  if (c->cgroup != NULL)
    {
      /* The container's pid namespace died with its init, so the group is
       * empty; kill anything that joined it some other way first. */
      sk_err_t ignored = NULL;
      if (sk_cgroup_destroy (c->cgroup, &ignored) < 0)
        {
          sk_err_free (&ignored);
          if (sk_cgroup_kill_all (c->cgroup, &ignored) < 0)
            sk_err_free (&ignored);
          r = sk_cgroup_destroy (c->cgroup, err);
        }
      sk_cgroup_free (c->cgroup);
      c->cgroup = NULL;
    }
  return r;
}

void
sk_ctr_clear (struct sk_ctr *c)
{
  if (c->cgroup != NULL)
    {
      sk_err_t ignored = NULL;
      if (sk_ctr_destroy (c, &ignored) < 0)
        sk_err_free (&ignored);
    }
  if (c->seccomp_fd >= 0)
    close (c->seccomp_fd);
  if (c->pidfd >= 0)
    close (c->pidfd);
  sk_image_clear (&c->image);
  sk_mount_plan_clear (&c->mounts);
  sk_creds_clear (&c->creds);
  free (c->home);
  free (c->hostname);
  sk_strv_free (c->argv);
  sk_strv_free (c->envp);
  free (c->cwd);
  free (c->state_dir);
  free (c->rlimits);
  free (c->sysctls);
  free (c->reason);
  memset (c, 0, sizeof *c);
  c->seccomp_fd = -1;
  c->pidfd = -1;
}
