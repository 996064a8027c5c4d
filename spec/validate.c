/* Cross-field rules, checked on the typed model the way ECS registration
 * checks them (reference: ecs.md section 14). Paths are rebuilt from the
 * container indexes, so messages point at the same JSON the user wrote. */
#include "parse.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Push "containerDefinitions[i]" (or "[i]" for the bare-array form). */
static size_t
push_container (struct sk_pctx *pc, size_t i)
{
  size_t saved = pc->path_len;
  if (!pc->extra->bare_array)
    pc_push_key (pc, "containerDefinitions");
  pc_push_index (pc, i);
  return saved;
}

static void
error_at_index (struct sk_pctx *pc, const char *key, size_t index, const char *sub, const char *msg)
{
  size_t saved = pc_push_key (pc, key);
  pc_push_index (pc, index);
  if (sub)
    pc_push_key (pc, sub);
  pc_error (pc, "%s", msg);
  pc_pop (pc, saved);
}

static bool
is_effective_bridge (const struct sk_pctx *pc, const struct sk_task *task)
{
  /* ECS applies its rules to the declared mode; absent means bridge. */
  return !pc->extra->has_network_mode || task->network_mode == SK_NET_BRIDGE;
}

static void
check_names (struct sk_pctx *pc, const struct sk_task *task)
{
  bool any_essential = false;

  for (size_t i = 0; i < task->n_containers; i++)
    {
      const struct sk_container *c = &task->containers[i];
      any_essential |= c->essential;
      if (c->name == NULL)
        continue;
      for (size_t j = 0; j < i; j++)
        if (task->containers[j].name && strcmp (task->containers[j].name, c->name) == 0)
          {
            size_t saved = push_container (pc, i);
            pc_error_at (pc, "name", "duplicate container name \"%s\"", c->name);
            pc_pop (pc, saved);
            break;
          }
    }
  if (task->n_containers > 0 && !any_essential)
    pc_error (pc, "no essential container: at least one container needs \"essential\": true");
  for (size_t i = 0; i < task->n_volumes; i++)
    for (size_t j = 0; j < i && task->volumes[i].name; j++)
      if (task->volumes[j].name && strcmp (task->volumes[j].name, task->volumes[i].name) == 0)
        {
          _cleanup_free_ char *msg
              = xasprintf ("duplicate volume name \"%s\"", task->volumes[i].name);
          error_at_index (pc, "volumes", i, "name", msg);
          break;
        }
}

static void
check_dependencies (struct sk_pctx *pc, const struct sk_task *task, size_t i)
{
  const struct sk_container *c = &task->containers[i];

  for (size_t d = 0; d < c->n_depends_on; d++)
    {
      const struct sk_dependency *dep = &c->depends_on[d];
      const struct sk_container *target;
      _cleanup_free_ char *msg = NULL;

      if (dep->container_name == NULL)
        continue;
      target = sk_task_find_container (task, dep->container_name);
      if (target == NULL)
        msg = xasprintf ("no container named \"%s\"", dep->container_name);
      else if (target == c)
        msg = xasprintf ("a container cannot depend on itself");
      else if ((dep->condition == SK_DEP_COMPLETE || dep->condition == SK_DEP_SUCCESS)
               && target->essential)
        msg = xasprintf ("container \"%s\" is essential; a %s dependency must be non-essential",
                         target->name, sk_dep_condition_name (dep->condition));
      else if (dep->condition == SK_DEP_HEALTHY && !target->health_check.present)
        msg = xasprintf ("container \"%s\" has no healthCheck; a HEALTHY dependency needs one",
                         target->name);
      if (msg)
        error_at_index (pc, "dependsOn", d, "containerName", msg);
    }
  for (size_t v = 0; v < c->n_volumes_from; v++)
    {
      const char *src = c->volumes_from[v].source_container;
      _cleanup_free_ char *msg = NULL;
      if (src == NULL)
        continue;
      if (sk_task_find_container (task, src) == NULL)
        msg = xasprintf ("no container named \"%s\"", src);
      else if (c->name && strcmp (src, c->name) == 0)
        msg = xasprintf ("a container cannot take volumes from itself");
      if (msg)
        error_at_index (pc, "volumesFrom", v, "sourceContainer", msg);
    }
}

/* Edges for ordering: dependsOn, links and volumesFrom (as the ECS agent
 * orders them). Calls fn for each target index. */
static size_t
edges (const struct sk_task *task, size_t i, size_t *out, size_t max)
{
  const struct sk_container *c = &task->containers[i];
  size_t n = 0;
  const char *names[256];
  size_t k = 0;

  for (size_t d = 0; d < c->n_depends_on && k < 256; d++)
    names[k++] = c->depends_on[d].container_name;
  for (size_t v = 0; v < c->n_volumes_from && k < 256; v++)
    names[k++] = c->volumes_from[v].source_container;
  for (size_t l = 0; l < c->links.n && k < 256; l++)
    names[k++] = c->links.v[l];
  for (size_t e = 0; e < k && n < max; e++)
    {
      if (names[e] == NULL)
        continue;
      size_t len = strcspn (names[e], ":");
      for (size_t j = 0; j < task->n_containers; j++)
        if (j != i && task->containers[j].name && strlen (task->containers[j].name) == len
            && strncmp (task->containers[j].name, names[e], len) == 0)
          out[n++] = j;
    }
  return n;
}

/* Depth-first search with colours; reports each cycle once, at the
 * container that closes it. n is small (ECS allows 10 containers), the
 * recursion depth is bounded by n. */
static bool
visit (struct sk_pctx *pc, const struct sk_task *task, size_t i, unsigned char *colour,
       size_t *stack, size_t depth)
{
  size_t next[256];
  size_t n = edges (task, i, next, 256);

  colour[i] = 1;
  stack[depth] = i;
  for (size_t e = 0; e < n; e++)
    {
      size_t j = next[e];
      if (colour[j] == 1)
        {
          char chain[1024] = "";
          size_t from = 0;
          while (stack[from] != j)
            from++;
          for (size_t s = from; s <= depth; s++)
            {
              strncat (chain, task->containers[stack[s]].name, sizeof chain - strlen (chain) - 1);
              strncat (chain, " -> ", sizeof chain - strlen (chain) - 1);
            }
          strncat (chain, task->containers[j].name, sizeof chain - strlen (chain) - 1);
          size_t saved = push_container (pc, i);
          pc_error (pc, "dependency cycle: %s", chain);
          pc_pop (pc, saved);
          return true;
        }
      if (colour[j] == 0 && visit (pc, task, j, colour, stack, depth + 1))
        return true;
    }
  colour[i] = 2;
  return false;
}

static void
check_cycles (struct sk_pctx *pc, const struct sk_task *task)
{
  size_t n = task->n_containers;
  _cleanup_free_ unsigned char *colour = NULL;
  _cleanup_free_ size_t *stack = NULL;

  if (n == 0 || n > 1000)
    return;
  for (size_t i = 0; i < n; i++)
    if (task->containers[i].name == NULL)
      return;
  colour = xzalloc (n);
  stack = xreallocarray (NULL, n + 1, sizeof *stack);
  for (size_t i = 0; i < n; i++)
    if (colour[i] == 0 && visit (pc, task, i, colour, stack, 0))
      return;
}

static void
check_ports (struct sk_pctx *pc, const struct sk_task *task, const struct sk_container *c)
{
  size_t ranges = 0;

  if (c->n_port_mappings == 0)
    return;
  if (task->network_mode == SK_NET_NONE)
    {
      pc_error_at (pc, "portMappings", "not allowed with networkMode \"none\"");
      return;
    }
  for (size_t p = 0; p < c->n_port_mappings; p++)
    {
      const struct sk_port_mapping *pm = &c->port_mappings[p];
      _cleanup_free_ char *msg = NULL;

      if (pm->range_first)
        {
          ranges++;
          if (task->network_mode == SK_NET_HOST)
            msg = xasprintf ("containerPortRange is not allowed with networkMode \"host\"");
          for (size_t q = 0; q < p && !msg; q++)
            {
              const struct sk_port_mapping *o = &c->port_mappings[q];
              if (o->range_first && o->protocol == pm->protocol && pm->range_first <= o->range_last
                  && o->range_first <= pm->range_last)
                msg = xasprintf ("containerPortRange overlaps portMappings[%zu]", q);
            }
          if (msg)
            error_at_index (pc, "portMappings", p, NULL, msg);
          continue;
        }
      if (pm->container_port == 0)
        continue;
      if (!is_effective_bridge (pc, task) && pm->host_port != 0
          && pm->host_port != pm->container_port)
        msg = xasprintf ("must equal containerPort (%u) or be omitted in networkMode \"%s\"",
                         pm->container_port, sk_network_mode_name (task->network_mode));
      if (msg)
        {
          error_at_index (pc, "portMappings", p, "hostPort", msg);
          continue;
        }
      for (size_t q = 0; q < p; q++)
        {
          const struct sk_port_mapping *o = &c->port_mappings[q];
          if (o->container_port != pm->container_port)
            continue;
          msg = xasprintf (o->protocol == pm->protocol
                               ? "containerPort %u is already mapped by portMappings[%zu]"
                               : "containerPort %u is already exposed under another protocol "
                                 "by portMappings[%zu]",
                           pm->container_port, q);
          error_at_index (pc, "portMappings", p, "containerPort", msg);
          break;
        }
    }
  if (ranges > 100)
    pc_error_at (pc, "portMappings", "at most 100 containerPortRange entries, got %zu", ranges);
}

static void
check_network_fields (struct sk_pctx *pc, const struct sk_task *task, const struct sk_container *c)
{
  bool bridge = is_effective_bridge (pc, task);
  const char *mode = sk_network_mode_name (task->network_mode);

  if (c->hostname && task->network_mode == SK_NET_AWSVPC && pc->extra->has_network_mode)
    pc_error_at (pc, "hostname", "not supported with networkMode \"awsvpc\"");
  if (c->extra_hosts.n > 0 && task->network_mode == SK_NET_AWSVPC && pc->extra->has_network_mode)
    pc_error_at (pc, "extraHosts", "not supported with networkMode \"awsvpc\"");
  if (c->links.n > 0 && !bridge)
    pc_error_at (pc, "links", "only supported with networkMode \"bridge\", not \"%s\"", mode);
  else if (c->links.n > 0)
    {
      for (size_t l = 0; l < c->links.n; l++)
        {
          const char *link = c->links.v[l];
          size_t len = strcspn (link, ":");
          _cleanup_free_ char *name = xstrndup (link, len);
          if (sk_task_find_container (task, name) == NULL)
            {
              _cleanup_free_ char *msg = xasprintf ("no container named \"%s\"", name);
              error_at_index (pc, "links", l, NULL, msg);
            }
        }
      pc_warn_at (pc, "links",
                  "the task's containers share one network namespace: linked "
                  "containers are reached on localhost");
    }
  for (size_t s = 0; s < c->system_controls.n; s++)
    {
      const char *ns = c->system_controls.v[s].name;
      _cleanup_free_ char *msg = NULL;
      if (strncmp (ns, "net.", 4) == 0 && task->network_mode == SK_NET_HOST)
        msg = xasprintf ("network sysctl \"%s\" is not allowed with networkMode \"host\"", ns);
      else if (strncmp (ns, "net.", 4) != 0 && task->ipc_mode == SK_NS_HOST)
        msg = xasprintf ("IPC sysctl \"%s\" is not allowed with ipcMode \"host\"", ns);
      if (msg)
        error_at_index (pc, "systemControls", s, "namespace", msg);
    }
}

static void
check_container (struct sk_pctx *pc, const struct sk_task *task, size_t i)
{
  const struct sk_container *c = &task->containers[i];
  const struct sk_container_extra *x = &pc->extra->containers[i];

  check_dependencies (pc, task, i);
  for (size_t m = 0; m < c->n_mount_points; m++)
    {
      const char *vol = c->mount_points[m].source_volume;
      if (vol && sk_task_find_volume (task, vol) == NULL)
        {
          _cleanup_free_ char *msg = xasprintf ("no volume named \"%s\" in volumes", vol);
          error_at_index (pc, "mountPoints", m, "sourceVolume", msg);
        }
    }
  check_ports (pc, task, c);
  check_network_fields (pc, task, c);

  if (!pc->extra->has_memory && !x->has_memory && !x->has_memory_reservation)
    pc_error (pc, "needs \"memory\" or \"memoryReservation\" when the task sets no memory");
  if (c->memory && c->memory_reservation)
    {
      if (c->memory < c->memory_reservation)
        pc_error_at (pc, "memory", "must be greater than memoryReservation (%u MiB), got %u",
                     c->memory_reservation, c->memory);
      else if (c->memory == c->memory_reservation)
        pc_warn_at (pc, "memoryReservation",
                    "equals memory; ECS documents memory > "
                    "memoryReservation");
    }
  for (size_t a = 0; a < c->environment.n; a++)
    {
      for (size_t b = 0; b < a; b++)
        if (strcmp (c->environment.v[a].name, c->environment.v[b].name) == 0)
          {
            _cleanup_free_ char *msg
                = xasprintf ("\"%s\" is set twice; the last value wins", c->environment.v[a].name);
            size_t saved = pc_push_key (pc, "environment");
            pc_push_index (pc, a);
            pc_warn (pc, "%s", msg);
            pc_pop (pc, saved);
            break;
          }
      for (size_t s = 0; s < c->secrets.n; s++)
        if (strcmp (c->environment.v[a].name, c->secrets.v[s].name) == 0)
          {
            _cleanup_free_ char *msg
                = xasprintf ("\"%s\" is also an environment variable", c->secrets.v[s].name);
            error_at_index (pc, "secrets", s, "name", msg);
          }
    }
  if (c->privileged && (c->cap_add.n > 0 || c->cap_drop.n > 0))
    pc_warn_at (pc, "linuxParameters",
                "capabilities are ignored for a privileged container "
                "(as in ECS)");
}

static void
check_totals (struct sk_pctx *pc, const struct sk_task *task)
{
  uint64_t mem = 0, res = 0, cpu = 0;

  for (size_t i = 0; i < task->n_containers; i++)
    {
      mem += task->containers[i].memory;
      res += task->containers[i].memory_reservation;
      cpu += task->containers[i].cpu;
    }
  if (task->memory && mem > task->memory)
    pc_error_at (pc, "memory",
                 "the containers' memory adds up to %llu MiB, more than the "
                 "task's %u MiB",
                 (unsigned long long)mem, task->memory);
  else if (task->memory && res > task->memory)
    pc_error_at (pc, "memory",
                 "the containers' memoryReservation adds up to %llu MiB, more "
                 "than the task's %u MiB",
                 (unsigned long long)res, task->memory);
  if (task->cpu && cpu > task->cpu)
    pc_error_at (pc, "cpu", "the containers' cpu adds up to %llu units, more than the task's %u",
                 (unsigned long long)cpu, task->cpu);
}

void
sk_validate_task (struct sk_pctx *pc, struct sk_task *task)
{
  check_names (pc, task);
  for (size_t i = 0; i < task->n_containers; i++)
    {
      size_t saved = push_container (pc, i);
      check_container (pc, task, i);
      pc_pop (pc, saved);
    }
  check_cycles (pc, task);
  check_totals (pc, task);
  if (task->requires_compatibilities & SK_COMPAT_FARGATE)
    sk_validate_fargate (pc, task);
}
