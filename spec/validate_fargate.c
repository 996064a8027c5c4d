/* The extra rules ECS applies when requiresCompatibilities lists FARGATE
 * (ecs.md sections 2.1 and 10). */
#include "parse.h"
#include "util.h"

#include <string.h>

#define NOT_ON_FARGATE "not supported on Fargate (requiresCompatibilities lists FARGATE)"

struct fargate_size
{
  uint32_t cpu, mem_min, mem_max, step;
};

static const struct fargate_size sizes[] = {
  { 256, 512, 2048, 0 }, /* 512, 1024, 2048 */
  { 512, 1024, 4096, 1024 },   { 1024, 2048, 8192, 1024 },   { 2048, 4096, 16384, 1024 },
  { 4096, 8192, 30720, 1024 }, { 8192, 16384, 61440, 4096 }, { 16384, 32768, 122880, 8192 },
};

static void
check_size (struct sk_pctx *pc, const struct sk_task *task)
{
  if (!pc->extra->has_cpu)
    pc_error (pc, "Fargate needs a task-level \"cpu\"");
  if (!pc->extra->has_memory)
    pc_error (pc, "Fargate needs a task-level \"memory\"");
  if (task->cpu == 0 || task->memory == 0)
    return;
  for (size_t i = 0; i < SK_ARRAY_SIZE (sizes); i++)
    {
      const struct fargate_size *s = &sizes[i];
      bool ok;
      if (s->cpu != task->cpu)
        continue;
      if (s->step == 0)
        ok = task->memory == 512 || task->memory == 1024 || task->memory == 2048;
      else
        ok = task->memory >= s->mem_min && task->memory <= s->mem_max
             && (task->memory - s->mem_min) % s->step == 0;
      if (!ok)
        pc_error_at (pc, "memory",
                     "Fargate has no task size with %u CPU units and %u MiB; "
                     "with %u CPU units memory is %u to %u MiB in steps of %u",
                     task->cpu, task->memory, s->cpu, s->mem_min, s->mem_max,
                     s->step ? s->step : 512u);
      return;
    }
  pc_error_at (pc, "cpu",
               "Fargate has no task size with %u CPU units (valid: 256, 512, 1024, "
               "2048, 4096, 8192, 16384)",
               task->cpu);
}

static void
check_container (struct sk_pctx *pc, const struct sk_container *c,
                 const struct sk_container_extra *x)
{
  static const char *const drivers[] = { "awslogs", "splunk", "awsfirelens", NULL };

  if (c->privileged)
    pc_error_at (pc, "privileged", NOT_ON_FARGATE);
  if (c->docker_security_options.n > 0)
    pc_error_at (pc, "dockerSecurityOptions", NOT_ON_FARGATE);
  if (c->links.n > 0)
    pc_error_at (pc, "links", NOT_ON_FARGATE);
  if (c->hostname)
    pc_error_at (pc, "hostname", NOT_ON_FARGATE);
  if (c->extra_hosts.n > 0)
    pc_error_at (pc, "extraHosts", NOT_ON_FARGATE);
  if (c->n_devices > 0)
    pc_error_at (pc, "linuxParameters.devices", NOT_ON_FARGATE);
  if (x->has_shared_memory_size)
    pc_error_at (pc, "linuxParameters.sharedMemorySize", NOT_ON_FARGATE);
  if (c->has_max_swap)
    pc_error_at (pc, "linuxParameters.maxSwap", NOT_ON_FARGATE);
  if (c->has_swappiness)
    pc_error_at (pc, "linuxParameters.swappiness", NOT_ON_FARGATE);
  if (x->has_gpu)
    pc_error_at (pc, "resourceRequirements", "GPUs are " NOT_ON_FARGATE);
  for (size_t i = 0; i < c->cap_add.n; i++)
    if (strcmp (c->cap_add.v[i], "SYS_PTRACE") != 0)
      {
        size_t saved = pc_push_key (pc, "linuxParameters.capabilities.add");
        pc_push_index (pc, i);
        pc_error (pc, "Fargate allows only SYS_PTRACE to be added, got \"%s\"", c->cap_add.v[i]);
        pc_pop (pc, saved);
      }
  if (c->log_configuration.driver)
    {
      bool ok = false;
      for (size_t i = 0; drivers[i]; i++)
        ok |= strcmp (drivers[i], c->log_configuration.driver) == 0;
      if (!ok)
        pc_error_at (pc, "logConfiguration.logDriver",
                     "Fargate supports only awslogs, splunk and awsfirelens, got \"%s\"",
                     c->log_configuration.driver);
    }
  if (x->has_firelens_file_s3)
    pc_error_at (pc, "firelensConfiguration.options", "config-file-type \"s3\" is " NOT_ON_FARGATE);
  if (x->has_stop_timeout && (c->stop_timeout < 2 || c->stop_timeout > 120))
    pc_error_at (pc, "stopTimeout", "must be between 2 and 120 seconds on Fargate, got %u",
                 c->stop_timeout);
  if (x->has_start_timeout && (c->start_timeout < 2 || c->start_timeout > 120))
    pc_error_at (pc, "startTimeout", "must be between 2 and 120 seconds on Fargate, got %u",
                 c->start_timeout);
  for (size_t i = 0; i < c->n_ulimits; i++)
    if (strcmp (c->ulimits[i].name, "nofile") == 0 && c->ulimits[i].hard > 1048576)
      {
        size_t saved = pc_push_key (pc, "ulimits");
        pc_push_index (pc, i);
        pc_error (pc, "Fargate allows nofile up to 1048576");
        pc_pop (pc, saved);
      }
}

void
sk_validate_fargate (struct sk_pctx *pc, const struct sk_task *task)
{
  if (!pc->extra->has_network_mode)
    pc_error (pc, "Fargate needs networkMode \"awsvpc\"");
  else if (task->network_mode != SK_NET_AWSVPC)
    pc_error_at (pc, "networkMode", "Fargate needs \"awsvpc\", got \"%s\"",
                 sk_network_mode_name (task->network_mode));
  check_size (pc, task);
  if (pc->extra->has_ipc_mode)
    pc_error_at (pc, "ipcMode", NOT_ON_FARGATE);
  if (task->pid_mode == SK_NS_HOST)
    pc_error_at (pc, "pidMode", "Fargate allows only \"task\"");
  if (pc->extra->n_placement_constraints > 0)
    pc_error_at (pc, "placementConstraints", NOT_ON_FARGATE);
  for (size_t i = 0; i < task->n_volumes; i++)
    {
      const struct sk_volume *v = &task->volumes[i];
      const char *what = v->kind == SK_VOL_HOST ? "host.sourcePath"
                         : v->kind == SK_VOL_DOCKER_TASK || v->kind == SK_VOL_DOCKER_SHARED
                             ? "dockerVolumeConfiguration"
                             : NULL;
      if (what)
        {
          size_t saved = pc_push_key (pc, "volumes");
          pc_push_index (pc, i);
          pc_error (pc, "%s is " NOT_ON_FARGATE, what);
          pc_pop (pc, saved);
        }
    }
  for (size_t i = 0; i < task->n_containers; i++)
    {
      size_t saved = pc->path_len;
      if (!pc->extra->bare_array)
        pc_push_key (pc, "containerDefinitions");
      pc_push_index (pc, i);
      check_container (pc, &task->containers[i], &pc->extra->containers[i]);
      pc_pop (pc, saved);
    }
}
