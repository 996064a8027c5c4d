/* Freeing the task model, and the lookups every layer uses. */
#include "task.h"

#include <stdlib.h>
#include <string.h>

void
sk_strv_clear (struct sk_strv *v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->n; i++)
    free (v->v[i]);
  free (v->v);
  v->v = NULL;
  v->n = 0;
}

void
sk_kv_list_clear (struct sk_kv_list *l)
{
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->v[i].name);
      free (l->v[i].value);
    }
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

/* Frees what *c owns; c itself lives in the task's array. */
void
sk_container_free (struct sk_container *c)
{
  if (c == NULL)
    return;
  free (c->name);
  free (c->image);
  sk_strv_clear (&c->entry_point);
  sk_strv_clear (&c->command);
  sk_kv_list_clear (&c->environment);
  sk_strv_clear (&c->environment_files);
  sk_kv_list_clear (&c->secrets);
  free (c->working_directory);
  free (c->user);
  free (c->hostname);
  for (size_t i = 0; i < c->n_depends_on; i++)
    free (c->depends_on[i].container_name);
  free (c->depends_on);
  sk_strv_clear (&c->health_check.command);
  free (c->restart_policy.ignored_exit_codes);
  for (size_t i = 0; i < c->n_port_mappings; i++)
    {
      free (c->port_mappings[i].name);
      free (c->port_mappings[i].app_protocol);
    }
  free (c->port_mappings);
  for (size_t i = 0; i < c->n_mount_points; i++)
    {
      free (c->mount_points[i].source_volume);
      free (c->mount_points[i].container_path);
    }
  free (c->mount_points);
  for (size_t i = 0; i < c->n_volumes_from; i++)
    free (c->volumes_from[i].source_container);
  free (c->volumes_from);
  for (size_t i = 0; i < c->n_ulimits; i++)
    free (c->ulimits[i].name);
  free (c->ulimits);
  sk_strv_clear (&c->cap_add);
  sk_strv_clear (&c->cap_drop);
  for (size_t i = 0; i < c->n_devices; i++)
    {
      free (c->devices[i].host_path);
      free (c->devices[i].container_path);
    }
  free (c->devices);
  for (size_t i = 0; i < c->n_tmpfs; i++)
    {
      free (c->tmpfs[i].container_path);
      sk_strv_clear (&c->tmpfs[i].mount_options);
    }
  free (c->tmpfs);
  sk_kv_list_clear (&c->system_controls);
  sk_kv_list_clear (&c->docker_labels);
  sk_strv_clear (&c->dns_servers);
  sk_strv_clear (&c->dns_search_domains);
  sk_kv_list_clear (&c->extra_hosts);
  sk_strv_clear (&c->links);
  sk_strv_clear (&c->docker_security_options);
  free (c->log_configuration.driver);
  sk_kv_list_clear (&c->log_configuration.options);
  memset (c, 0, sizeof *c);
}

void
sk_task_free (struct sk_task *task)
{
  if (task == NULL)
    return;
  free (task->source);
  free (task->source_dir);
  free (task->family);
  free (task->os_family);
  free (task->cpu_architecture);
  free (task->task_role_arn);
  free (task->execution_role_arn);
  sk_kv_list_clear (&task->tags);
  for (size_t i = 0; i < task->n_volumes; i++)
    {
      free (task->volumes[i].name);
      free (task->volumes[i].host_source_path);
      free (task->volumes[i].unsupported_kind);
    }
  free (task->volumes);
  for (size_t i = 0; i < task->n_containers; i++)
    sk_container_free (&task->containers[i]);
  free (task->containers);
  free (task);
}

struct sk_container *
sk_task_find_container (const struct sk_task *task, const char *name)
{
  if (task == NULL || name == NULL)
    return NULL;
  for (size_t i = 0; i < task->n_containers; i++)
    if (task->containers[i].name && strcmp (task->containers[i].name, name) == 0)
      return &task->containers[i];
  return NULL;
}

const struct sk_volume *
sk_task_find_volume (const struct sk_task *task, const char *name)
{
  if (task == NULL || name == NULL)
    return NULL;
  for (size_t i = 0; i < task->n_volumes; i++)
    if (task->volumes[i].name && strcmp (task->volumes[i].name, name) == 0)
      return &task->volumes[i];
  return NULL;
}

const char *
sk_dep_condition_name (enum sk_dep_condition c)
{
  switch (c)
    {
    case SK_DEP_START:
      return "START";
    case SK_DEP_COMPLETE:
      return "COMPLETE";
    case SK_DEP_SUCCESS:
      return "SUCCESS";
    case SK_DEP_HEALTHY:
      return "HEALTHY";
    }
  return "?";
}

const char *
sk_network_mode_name (enum sk_network_mode m)
{
  switch (m)
    {
    case SK_NET_AWSVPC:
      return "awsvpc";
    case SK_NET_NONE:
      return "none";
    case SK_NET_BRIDGE:
      return "bridge";
    case SK_NET_HOST:
      return "host";
    }
  return "?";
}
