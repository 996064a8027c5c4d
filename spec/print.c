/* The normalized task as JSON (camelCase ECS keys, every default filled
 * in): what `skiff validate --print` shows. A small writer of our own keeps
 * yajl inside json.c. */
#include "spec.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct writer
{
  char *buf;
  size_t len, cap;
  bool pretty;
  int depth;
  bool need_comma[80];
};

static void
put (struct writer *w, const char *s, size_t n)
{
  if (w->len + n + 1 > w->cap)
    {
      w->cap = (w->len + n + 1) * 2;
      w->buf = xrealloc (w->buf, w->cap);
    }
  memcpy (w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = '\0';
}

static void
puts_ (struct writer *w, const char *s)
{
  put (w, s, strlen (s));
}

static void
newline (struct writer *w)
{
  if (!w->pretty)
    return;
  puts_ (w, "\n");
  for (int i = 0; i < w->depth; i++)
    puts_ (w, "  ");
}

static void
string (struct writer *w, const char *s)
{
  puts_ (w, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      char esc[8];
      if (*p == '"' || *p == '\\')
        {
          esc[0] = '\\';
          esc[1] = (char)*p;
          put (w, esc, 2);
        }
      else if (*p < 0x20)
        {
          snprintf (esc, sizeof esc, "\\u%04x", *p);
          puts_ (w, esc);
        }
      else
        put (w, (const char *)p, 1);
    }
  puts_ (w, "\"");
}

/* Start a value: comma, newline, and "key": when inside an object. */
static void
begin_value (struct writer *w, const char *key)
{
  if (w->depth > 0)
    {
      if (w->need_comma[w->depth])
        puts_ (w, ",");
      w->need_comma[w->depth] = true;
      newline (w);
    }
  if (key)
    {
      string (w, key);
      puts_ (w, w->pretty ? ": " : ":");
    }
}

static void
open_ (struct writer *w, const char *key, const char *bracket)
{
  begin_value (w, key);
  puts_ (w, bracket);
  w->depth++;
  w->need_comma[w->depth] = false;
}

static void
close_ (struct writer *w, const char *bracket)
{
  bool had = w->need_comma[w->depth];
  w->depth--;
  if (had)
    newline (w);
  puts_ (w, bracket);
}

static void
kv_str (struct writer *w, const char *key, const char *value)
{
  if (value == NULL)
    return;
  begin_value (w, key);
  string (w, value);
}

static void
kv_u64 (struct writer *w, const char *key, uint64_t value)
{
  char num[32];
  begin_value (w, key);
  snprintf (num, sizeof num, "%" PRIu64, value);
  puts_ (w, num);
}

static void
kv_i64 (struct writer *w, const char *key, int64_t value)
{
  char num[32];
  begin_value (w, key);
  snprintf (num, sizeof num, "%" PRId64, value);
  puts_ (w, num);
}

static void
kv_bool (struct writer *w, const char *key, bool value)
{
  begin_value (w, key);
  puts_ (w, value ? "true" : "false");
}

static void
strv (struct writer *w, const char *key, const struct sk_strv *v)
{
  open_ (w, key, "[");
  for (size_t i = 0; i < v->n; i++)
    kv_str (w, NULL, v->v[i]);
  close_ (w, "]");
}

/* [{"name": .., "value": ..}] with the given member names. */
static void
pairs (struct writer *w, const char *key, const struct sk_kv_list *l, const char *k1,
       const char *k2)
{
  open_ (w, key, "[");
  for (size_t i = 0; i < l->n; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, k1, l->v[i].name);
      kv_str (w, k2, l->v[i].value);
      close_ (w, "}");
    }
  close_ (w, "]");
}

static void
map (struct writer *w, const char *key, const struct sk_kv_list *l)
{
  open_ (w, key, "{");
  for (size_t i = 0; i < l->n; i++)
    kv_str (w, l->v[i].name, l->v[i].value);
  close_ (w, "}");
}

static void
health_check (struct writer *w, const struct sk_health_check *h)
{
  if (!h->present)
    return;
  open_ (w, "healthCheck", "{");
  open_ (w, "command", "[");
  kv_str (w, NULL, h->shell ? "CMD-SHELL" : "CMD");
  for (size_t i = 0; i < h->command.n; i++)
    kv_str (w, NULL, h->command.v[i]);
  close_ (w, "]");
  kv_u64 (w, "interval", h->interval);
  kv_u64 (w, "timeout", h->timeout);
  kv_u64 (w, "retries", h->retries);
  kv_u64 (w, "startPeriod", h->start_period);
  close_ (w, "}");
}

static void
ports (struct writer *w, const struct sk_container *c)
{
  open_ (w, "portMappings", "[");
  for (size_t i = 0; i < c->n_port_mappings; i++)
    {
      const struct sk_port_mapping *p = &c->port_mappings[i];
      char range[32];
      open_ (w, NULL, "{");
      if (p->range_first)
        {
          snprintf (range, sizeof range, "%u-%u", p->range_first, p->range_last);
          kv_str (w, "containerPortRange", range);
        }
      else
        {
          kv_u64 (w, "containerPort", p->container_port);
          kv_u64 (w, "hostPort", p->host_port ? p->host_port : p->container_port);
        }
      kv_str (w, "protocol", p->protocol == SK_PROTO_UDP ? "udp" : "tcp");
      kv_str (w, "name", p->name);
      kv_str (w, "appProtocol", p->app_protocol);
      close_ (w, "}");
    }
  close_ (w, "]");
}

static void
storage (struct writer *w, const struct sk_container *c)
{
  open_ (w, "mountPoints", "[");
  for (size_t i = 0; i < c->n_mount_points; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "sourceVolume", c->mount_points[i].source_volume);
      kv_str (w, "containerPath", c->mount_points[i].container_path);
      kv_bool (w, "readOnly", c->mount_points[i].read_only);
      close_ (w, "}");
    }
  close_ (w, "]");
  open_ (w, "volumesFrom", "[");
  for (size_t i = 0; i < c->n_volumes_from; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "sourceContainer", c->volumes_from[i].source_container);
      kv_bool (w, "readOnly", c->volumes_from[i].read_only);
      close_ (w, "}");
    }
  close_ (w, "]");
}

static void
linux_parameters (struct writer *w, const struct sk_container *c)
{
  static const char *const perm_names[] = { "read", "write", "mknod" };

  open_ (w, "linuxParameters", "{");
  open_ (w, "capabilities", "{");
  strv (w, "add", &c->cap_add);
  strv (w, "drop", &c->cap_drop);
  close_ (w, "}");
  open_ (w, "devices", "[");
  for (size_t i = 0; i < c->n_devices; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "hostPath", c->devices[i].host_path);
      kv_str (w, "containerPath", c->devices[i].container_path);
      open_ (w, "permissions", "[");
      for (unsigned k = 0; k < 3; k++)
        if (c->devices[i].permissions & (1u << k))
          kv_str (w, NULL, perm_names[k]);
      close_ (w, "]");
      close_ (w, "}");
    }
  close_ (w, "]");
  kv_bool (w, "initProcessEnabled", c->init_process_enabled);
  /* Only when set: Fargate refuses the field even at its default value. */
  if (c->shared_memory_size != 0)
    kv_u64 (w, "sharedMemorySize", c->shared_memory_size);
  open_ (w, "tmpfs", "[");
  for (size_t i = 0; i < c->n_tmpfs; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "containerPath", c->tmpfs[i].container_path);
      kv_u64 (w, "size", c->tmpfs[i].size);
      strv (w, "mountOptions", &c->tmpfs[i].mount_options);
      close_ (w, "}");
    }
  close_ (w, "]");
  if (c->has_max_swap)
    kv_u64 (w, "maxSwap", c->max_swap);
  if (c->has_swappiness)
    kv_u64 (w, "swappiness", c->swappiness);
  close_ (w, "}");
}

static void
container (struct writer *w, const struct sk_container *c)
{
  open_ (w, NULL, "{");
  kv_str (w, "name", c->name);
  kv_str (w, "image", c->image);
  kv_bool (w, "essential", c->essential);
  if (c->has_entry_point)
    strv (w, "entryPoint", &c->entry_point);
  if (c->has_command)
    strv (w, "command", &c->command);
  pairs (w, "environment", &c->environment, "name", "value");
  open_ (w, "environmentFiles", "[");
  for (size_t i = 0; i < c->environment_files.n; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "value", c->environment_files.v[i]);
      kv_str (w, "type", "s3");
      close_ (w, "}");
    }
  close_ (w, "]");
  pairs (w, "secrets", &c->secrets, "name", "valueFrom");
  kv_str (w, "workingDirectory", c->working_directory);
  kv_str (w, "user", c->user);
  kv_str (w, "hostname", c->hostname);
  kv_u64 (w, "cpu", c->cpu);
  if (c->memory)
    kv_u64 (w, "memory", c->memory);
  if (c->memory_reservation)
    kv_u64 (w, "memoryReservation", c->memory_reservation);
  open_ (w, "dependsOn", "[");
  for (size_t i = 0; i < c->n_depends_on; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "containerName", c->depends_on[i].container_name);
      kv_str (w, "condition", sk_dep_condition_name (c->depends_on[i].condition));
      close_ (w, "}");
    }
  close_ (w, "]");
  health_check (w, &c->health_check);
  open_ (w, "restartPolicy", "{");
  kv_bool (w, "enabled", c->restart_policy.enabled);
  open_ (w, "ignoredExitCodes", "[");
  for (size_t i = 0; i < c->restart_policy.n_ignored_exit_codes; i++)
    kv_i64 (w, NULL, c->restart_policy.ignored_exit_codes[i]);
  close_ (w, "]");
  kv_u64 (w, "restartAttemptPeriod", c->restart_policy.restart_attempt_period);
  close_ (w, "}");
  if (c->start_timeout)
    kv_u64 (w, "startTimeout", c->start_timeout);
  kv_u64 (w, "stopTimeout", c->stop_timeout);
  ports (w, c);
  storage (w, c);
  kv_bool (w, "readonlyRootFilesystem", c->readonly_root_filesystem);
  kv_bool (w, "privileged", c->privileged);
  kv_bool (w, "interactive", c->interactive);
  kv_bool (w, "pseudoTerminal", c->pseudo_terminal);
  kv_bool (w, "disableNetworking", c->disable_networking);
  open_ (w, "ulimits", "[");
  for (size_t i = 0; i < c->n_ulimits; i++)
    {
      open_ (w, NULL, "{");
      kv_str (w, "name", c->ulimits[i].name);
      /* RLIM_INFINITY is written back as -1, the way it was read. */
      kv_i64 (w, "softLimit", c->ulimits[i].soft == UINT64_MAX ? -1 : (int64_t)c->ulimits[i].soft);
      kv_i64 (w, "hardLimit", c->ulimits[i].hard == UINT64_MAX ? -1 : (int64_t)c->ulimits[i].hard);
      close_ (w, "}");
    }
  close_ (w, "]");
  linux_parameters (w, c);
  pairs (w, "systemControls", &c->system_controls, "namespace", "value");
  map (w, "dockerLabels", &c->docker_labels);
  strv (w, "dnsServers", &c->dns_servers);
  strv (w, "dnsSearchDomains", &c->dns_search_domains);
  pairs (w, "extraHosts", &c->extra_hosts, "hostname", "ipAddress");
  strv (w, "links", &c->links);
  strv (w, "dockerSecurityOptions", &c->docker_security_options);
  if (c->log_configuration.driver)
    {
      open_ (w, "logConfiguration", "{");
      kv_str (w, "logDriver", c->log_configuration.driver);
      map (w, "options", &c->log_configuration.options);
      close_ (w, "}");
    }
  close_ (w, "}");
}

static const char *
ns_mode_name (enum sk_ns_mode m)
{
  switch (m)
    {
    case SK_NS_TASK:
      return "task";
    case SK_NS_HOST:
      return "host";
    case SK_NS_NONE:
      return "none";
    case SK_NS_PRIVATE:
      break;
    }
  return NULL;
}

static void
volumes (struct writer *w, const struct sk_task *task)
{
  open_ (w, "volumes", "[");
  for (size_t i = 0; i < task->n_volumes; i++)
    {
      const struct sk_volume *v = &task->volumes[i];
      open_ (w, NULL, "{");
      kv_str (w, "name", v->name);
      switch (v->kind)
        {
        case SK_VOL_SCRATCH:
          open_ (w, "host", "{");
          close_ (w, "}");
          break;
        case SK_VOL_HOST:
          open_ (w, "host", "{");
          kv_str (w, "sourcePath", v->host_source_path);
          close_ (w, "}");
          break;
        case SK_VOL_DOCKER_TASK:
        case SK_VOL_DOCKER_SHARED:
          open_ (w, "dockerVolumeConfiguration", "{");
          kv_str (w, "scope", v->kind == SK_VOL_DOCKER_SHARED ? "shared" : "task");
          close_ (w, "}");
          break;
        case SK_VOL_UNSUPPORTED:
          if (v->unsupported_kind && strcmp (v->unsupported_kind, "configuredAtLaunch") == 0)
            kv_bool (w, "configuredAtLaunch", true);
          else if (v->unsupported_kind)
            {
              open_ (w, v->unsupported_kind, "{");
              close_ (w, "}");
            }
          break;
        }
      close_ (w, "}");
    }
  close_ (w, "]");
}

char *
sk_task_to_json (const struct sk_task *task, bool pretty)
{
  static const char *const compat[] = { "EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES" };
  struct writer w = { .pretty = pretty };

  open_ (&w, NULL, "{");
  kv_str (&w, "family", task->family);
  if (task->cpu)
    {
      char b[16];
      snprintf (b, sizeof b, "%u", task->cpu);
      kv_str (&w, "cpu", b);
    }
  if (task->memory)
    {
      char b[16];
      snprintf (b, sizeof b, "%u", task->memory);
      kv_str (&w, "memory", b);
    }
  kv_str (&w, "networkMode", sk_network_mode_name (task->network_mode));
  kv_str (&w, "pidMode", ns_mode_name (task->pid_mode));
  kv_str (&w, "ipcMode", ns_mode_name (task->ipc_mode));
  open_ (&w, "requiresCompatibilities", "[");
  for (unsigned k = 0; k < 4; k++)
    if (task->requires_compatibilities & (1u << k))
      kv_str (&w, NULL, compat[k]);
  close_ (&w, "]");
  open_ (&w, "runtimePlatform", "{");
  kv_str (&w, "operatingSystemFamily", task->os_family);
  kv_str (&w, "cpuArchitecture", task->cpu_architecture);
  close_ (&w, "}");
  if (task->ephemeral_storage_gib)
    {
      open_ (&w, "ephemeralStorage", "{");
      kv_u64 (&w, "sizeInGiB", task->ephemeral_storage_gib);
      close_ (&w, "}");
    }
  kv_str (&w, "taskRoleArn", task->task_role_arn);
  kv_str (&w, "executionRoleArn", task->execution_role_arn);
  pairs (&w, "tags", &task->tags, "key", "value");
  volumes (&w, task);
  open_ (&w, "containerDefinitions", "[");
  for (size_t i = 0; i < task->n_containers; i++)
    container (&w, &task->containers[i]);
  close_ (&w, "]");
  close_ (&w, "}");
  if (pretty)
    puts_ (&w, "\n");
  return w.buf;
}
