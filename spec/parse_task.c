/* Task-level fields and volumes: JSON object -> struct sk_task. */
#include "parse.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const task_keys[] = {
  "family",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "containerDefinitions",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "tags",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
  "enableFaultInjection",
  NULL,
};

/* describe-task-definition output only: ignored, never an error. */
static const char *const output_only_keys[] = {
  "taskDefinitionArn", "revision",     "status",         "requiresAttributes", "compatibilities",
  "registeredAt",      "registeredBy", "deregisteredAt", "deleteRequestedAt",  NULL,
};

/* Task cpu/memory: ECS takes strings ("1 vCPU", "2 GB") and numbers. */
static void
parse_task_size (struct sk_pctx *pc, const struct sk_json *v, bool is_cpu, uint32_t *out)
{
  char got[96];
  uint32_t value = 0;

  if (v->type == SK_JSON_NUMBER && v->in_range && v->integer >= 0 && v->integer <= UINT32_MAX)
    value = (uint32_t)v->integer;
  else if (v->type == SK_JSON_STRING && strlen (v->text) == v->len && v->len < 64
           && (is_cpu ? sk_parse_cpu_units (v->text, &value)
                      : sk_parse_memory_mib (v->text, &value))
                  == 0)
    ;
  else
    {
      pc_describe (v, got, sizeof got);
      if (is_cpu)
        pc_error (pc, "expected CPU units (\"256\") or vCPUs (\"1 vCPU\"), got %s", got);
      else
        pc_error (pc, "expected MiB (\"512\") or GB (\"2 GB\"), got %s", got);
      return;
    }
  if (is_cpu && (value < 128 || value > 196608))
    {
      pc_error (pc, "must be between 128 and 196608 CPU units, got %u", value);
      return;
    }
  if (!is_cpu && value < 6)
    {
      pc_error (pc, "must be at least 6 MiB, got %u", value);
      return;
    }
  *out = value;
}

static void
parse_size_key (struct sk_pctx *pc, const struct sk_json *obj, const char *key, bool is_cpu,
                uint32_t *out, bool *has)
{
  const struct sk_json *v = sk_json_get (obj, key);
  size_t saved;

  if (v == NULL || v->type == SK_JSON_NULL)
    return;
  *has = true;
  saved = pc_push_key (pc, key);
  parse_task_size (pc, v, is_cpu, out);
  pc_pop (pc, saved);
}

static void
parse_tag (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "key", "value", NULL };
  struct sk_task *task = data;
  char *key = NULL, *value = NULL;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "key", 128, SK_STR_NONEMPTY, &key) == 0)
    pc_missing (pc, "key");
  if (pc_string (pc, item, "value", 256, 0, &value) == 0)
    value = xstrdup ("");
  if (key && strncasecmp (key, "aws:", 4) == 0)
    pc_error_at (pc, "key", "the prefix \"aws:\" is reserved for AWS");
  if (key == NULL || value == NULL)
    {
      free (key);
      free (value);
      return;
    }
  sk_kv_push (&task->tags, key, value);
}

static void
parse_placement_constraint (struct sk_pctx *pc, const struct sk_json *item, size_t index,
                            void *data)
{
  static const char *const keys[] = { "type", "expression", NULL };
  static const char *const types[] = { "memberOf", NULL };
  _cleanup_free_ char *expr = NULL;
  int type;

  pc_check_keys (pc, item, keys, NULL);
  pc_enum (pc, item, "type", types, &type);
  pc_string (pc, item, "expression", 2000, 0, &expr);
}

static void
parse_kv_property (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "name", "value", NULL };
  _cleanup_free_ char *name = NULL;
  _cleanup_free_ char *value = NULL;

  pc_check_keys (pc, item, keys, NULL);
  pc_string (pc, item, "name", SK_MAX_NAME, 0, &name);
  pc_string (pc, item, "value", SK_MAX_VALUE, 0, &value);
}

static void
parse_accelerator (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "deviceName", "deviceType", NULL };
  _cleanup_free_ char *name = NULL;
  _cleanup_free_ char *type = NULL;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "deviceName", SK_MAX_NAME, SK_STR_NONEMPTY, &name) == 0)
    pc_missing (pc, "deviceName");
  if (pc_string (pc, item, "deviceType", SK_MAX_NAME, SK_STR_NONEMPTY, &type) == 0)
    pc_missing (pc, "deviceType");
}

static void
parse_proxy_configuration (struct sk_pctx *pc, const struct sk_json *obj)
{
  static const char *const keys[] = { "type", "containerName", "properties", NULL };
  static const char *const types[] = { "APPMESH", NULL };
  const struct sk_json *p = pc_object (pc, obj, "proxyConfiguration");
  _cleanup_free_ char *name = NULL;
  size_t saved;
  int type;

  if (p == NULL)
    return;
  saved = pc_push_key (pc, "proxyConfiguration");
  pc_check_keys (pc, p, keys, NULL);
  pc_enum (pc, p, "type", types, &type);
  if (pc_string (pc, p, "containerName", SK_MAX_NAME, SK_STR_NONEMPTY, &name) == 0)
    pc_missing (pc, "containerName");
  pc_each_object (pc, p, "properties", parse_kv_property, NULL);
  pc_warn (pc, "App Mesh traffic redirection is not set up by skiff; ignored");
  pc_pop (pc, saved);
}

static void
parse_runtime_platform (struct sk_pctx *pc, const struct sk_json *obj, struct sk_task *task)
{
  static const char *const keys[] = { "cpuArchitecture", "operatingSystemFamily", NULL };
  static const char *const archs[] = { "X86_64", "ARM64", NULL };
  static const char *const families[] = {
    "LINUX",
    "WINDOWS_SERVER_2019_FULL",
    "WINDOWS_SERVER_2019_CORE",
    "WINDOWS_SERVER_2016_FULL",
    "WINDOWS_SERVER_2004_CORE",
    "WINDOWS_SERVER_2022_CORE",
    "WINDOWS_SERVER_2022_FULL",
    "WINDOWS_SERVER_2025_CORE",
    "WINDOWS_SERVER_2025_FULL",
    "WINDOWS_SERVER_20H2_CORE",
    NULL,
  };
  const struct sk_json *p = pc_object (pc, obj, "runtimePlatform");
  size_t saved;
  int arch = -1, family = -1;

  if (p == NULL)
    return;
  saved = pc_push_key (pc, "runtimePlatform");
  pc_check_keys (pc, p, keys, NULL);
  if (pc_enum (pc, p, "cpuArchitecture", archs, &arch) > 0)
    {
      task->cpu_architecture = xstrdup (archs[arch]);
      if (strcmp (archs[arch], sk_host_architecture ()) != 0)
        pc_warn_at (pc, "cpuArchitecture",
                    "this host is %s; images are run as they are, not emulated",
                    sk_host_architecture ());
    }
  if (pc_enum (pc, p, "operatingSystemFamily", families, &family) > 0)
    {
      task->os_family = xstrdup (families[family]);
      if (family != 0)
        pc_error_at (pc, "operatingSystemFamily", "skiff runs Linux containers only, got \"%s\"",
                     families[family]);
    }
  pc_pop (pc, saved);
}

static const char *const volume_kinds[] = {
  "host",
  "dockerVolumeConfiguration",
  "efsVolumeConfiguration",
  "fsxWindowsFileServerVolumeConfiguration",
  "s3filesVolumeConfiguration",
  "configuredAtLaunch",
  NULL,
};

/* Key checks and required members of the volume kinds skiff cannot mount:
 * every ECS field is known even when the volume is refused at run time. */
static void
check_remote_volume (struct sk_pctx *pc, const struct sk_json *cfg, const char *kind)
{
  static const char *const efs_keys[]
      = { "fileSystemId",          "rootDirectory",       "transitEncryption",
          "transitEncryptionPort", "authorizationConfig", NULL };
  static const char *const efs_auth_keys[] = { "accessPointId", "iam", NULL };
  static const char *const fsx_keys[]
      = { "fileSystemId", "rootDirectory", "authorizationConfig", NULL };
  static const char *const fsx_auth_keys[] = { "credentialsParameter", "domain", NULL };
  static const char *const s3_keys[]
      = { "fileSystemArn", "rootDirectory", "transitEncryptionPort", "accessPointArn", NULL };
  static const char *const on_off[] = { "ENABLED", "DISABLED", NULL };
  const struct sk_json *auth;
  _cleanup_free_ char *id = NULL;
  _cleanup_free_ char *root = NULL;
  uint32_t port;
  int e;

  if (strcmp (kind, "efsVolumeConfiguration") == 0)
    {
      pc_check_keys (pc, cfg, efs_keys, NULL);
      if (pc_string (pc, cfg, "fileSystemId", SK_MAX_NAME, SK_STR_NONEMPTY, &id) == 0)
        pc_missing (pc, "fileSystemId");
      pc_string (pc, cfg, "rootDirectory", SK_MAX_PATH, 0, &root);
      pc_enum (pc, cfg, "transitEncryption", on_off, &e);
      pc_u32 (pc, cfg, "transitEncryptionPort", 0, 65535, "", &port);
      if ((auth = pc_object (pc, cfg, "authorizationConfig")) != NULL)
        {
          size_t saved = pc_push_key (pc, "authorizationConfig");
          _cleanup_free_ char *ap = NULL;
          pc_check_keys (pc, auth, efs_auth_keys, NULL);
          pc_string (pc, auth, "accessPointId", SK_MAX_NAME, 0, &ap);
          pc_enum (pc, auth, "iam", on_off, &e);
          pc_pop (pc, saved);
        }
    }
  else if (strcmp (kind, "fsxWindowsFileServerVolumeConfiguration") == 0)
    {
      pc_check_keys (pc, cfg, fsx_keys, NULL);
      if (pc_string (pc, cfg, "fileSystemId", SK_MAX_NAME, SK_STR_NONEMPTY, &id) == 0)
        pc_missing (pc, "fileSystemId");
      if (pc_string (pc, cfg, "rootDirectory", SK_MAX_PATH, 0, &root) == 0)
        pc_missing (pc, "rootDirectory");
      if ((auth = pc_object (pc, cfg, "authorizationConfig")) != NULL)
        {
          size_t saved = pc_push_key (pc, "authorizationConfig");
          pc_check_keys (pc, auth, fsx_auth_keys, NULL);
          pc_pop (pc, saved);
        }
      else
        pc_missing (pc, "authorizationConfig");
    }
  else
    {
      _cleanup_free_ char *ap = NULL;
      pc_check_keys (pc, cfg, s3_keys, NULL);
      if (pc_string (pc, cfg, "fileSystemArn", 2048, SK_STR_NONEMPTY, &id) == 0)
        pc_missing (pc, "fileSystemArn");
      pc_string (pc, cfg, "rootDirectory", SK_MAX_PATH, 0, &root);
      pc_u32 (pc, cfg, "transitEncryptionPort", 0, 65535, "", &port);
      pc_string (pc, cfg, "accessPointArn", 2048, 0, &ap);
    }
}

static void
parse_docker_volume (struct sk_pctx *pc, const struct sk_json *cfg, struct sk_volume *vol)
{
  static const char *const keys[]
      = { "scope", "autoprovision", "driver", "driverOpts", "labels", NULL };
  static const char *const scopes[] = { "task", "shared", NULL };
  struct sk_kv_list opts = { 0 }, labels = { 0 };
  _cleanup_free_ char *driver = NULL;
  bool autoprovision = false;
  int scope = 0;

  pc_check_keys (pc, cfg, keys, NULL);
  pc_enum (pc, cfg, "scope", scopes, &scope);
  vol->kind = scope == 1 ? SK_VOL_DOCKER_SHARED : SK_VOL_DOCKER_TASK;
  if (pc_bool (pc, cfg, "autoprovision", &autoprovision) > 0 && autoprovision && scope != 1)
    pc_error_at (pc, "autoprovision", "only valid with scope \"shared\"");
  if (pc_string (pc, cfg, "driver", SK_MAX_NAME, 0, &driver) > 0 && strcmp (driver, "local") != 0)
    pc_warn_at (pc, "driver",
                "volume driver \"%s\" is not used: skiff keeps the volume in a "
                "local directory",
                driver);
  pc_string_map (pc, cfg, "driverOpts", &opts);
  pc_string_map (pc, cfg, "labels", &labels);
  if (opts.n > 0)
    pc_warn_at (pc, "driverOpts", "not used: skiff keeps the volume in a local directory");
  if (labels.n > 0)
    pc_warn_at (pc, "labels", "volume labels are not stored; ignored");
  sk_kv_list_clear (&opts);
  sk_kv_list_clear (&labels);
}

static void
parse_volume (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "name",
                                      "host",
                                      "dockerVolumeConfiguration",
                                      "efsVolumeConfiguration",
                                      "fsxWindowsFileServerVolumeConfiguration",
                                      "s3filesVolumeConfiguration",
                                      "configuredAtLaunch",
                                      NULL };
  struct sk_task *task = data;
  struct sk_volume *vol;
  const char *kind = NULL;
  bool at_launch = false;

  task->volumes = xreallocarray (task->volumes, task->n_volumes + 1, sizeof *task->volumes);
  vol = &task->volumes[task->n_volumes++];
  memset (vol, 0, sizeof *vol);
  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "name", SK_MAX_NAME, SK_STR_NONEMPTY, &vol->name) == 0)
    pc_missing (pc, "name");
  else if (vol->name && !sk_is_name (vol->name))
    pc_error_at (pc, "name", "must be 1-255 letters, digits, '_' or '-', got \"%.40s\"", vol->name);

  for (size_t k = 0; volume_kinds[k]; k++)
    {
      const struct sk_json *v = sk_json_get (item, volume_kinds[k]);
      if (v == NULL || v->type == SK_JSON_NULL)
        continue;
      if (k == 5 && (pc_bool (pc, item, "configuredAtLaunch", &at_launch) <= 0 || !at_launch))
        continue;
      if (kind != NULL)
        {
          pc_error (pc, "has both %s and %s; a volume takes at most one", kind, volume_kinds[k]);
          continue;
        }
      kind = volume_kinds[k];
    }

  vol->kind = SK_VOL_SCRATCH;
  if (kind == NULL)
    return;
  if (strcmp (kind, "configuredAtLaunch") == 0)
    {
      vol->kind = SK_VOL_UNSUPPORTED;
      vol->unsupported_kind = xstrdup (kind);
      pc_warn_at (pc, kind,
                  "volumes supplied at launch (EBS) are not available locally; `skiff "
                  "run` refuses this task");
      return;
    }
  const struct sk_json *cfg = pc_object (pc, item, kind);
  if (cfg == NULL)
    return;
  size_t saved = pc_push_key (pc, kind);
  if (strcmp (kind, "host") == 0)
    {
      static const char *const host_keys[] = { "sourcePath", NULL };
      pc_check_keys (pc, cfg, host_keys, NULL);
      if (pc_string (pc, cfg, "sourcePath", SK_MAX_PATH, SK_STR_EMPTY_IS_ABSENT,
                     &vol->host_source_path)
          > 0)
        {
          vol->kind = SK_VOL_HOST;
          pc->extra->n_host_path_volumes++;
          if (vol->host_source_path[0] != '/')
            pc_error_at (pc, "sourcePath", "must be an absolute path, got \"%.40s\"",
                         vol->host_source_path);
        }
    }
  else if (strcmp (kind, "dockerVolumeConfiguration") == 0)
    {
      pc->extra->n_docker_volumes++;
      parse_docker_volume (pc, cfg, vol);
    }
  else
    {
      vol->kind = SK_VOL_UNSUPPORTED;
      vol->unsupported_kind = xstrdup (kind);
      check_remote_volume (pc, cfg, kind);
      pc_warn (pc, "network file systems cannot be mounted locally; `skiff run` refuses this task");
    }
  pc_pop (pc, saved);
}

static void
parse_container_item (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  struct sk_task *task = data;
  struct sk_parse_extra *x = pc->extra;

  task->containers
      = xreallocarray (task->containers, task->n_containers + 1, sizeof *task->containers);
  x->containers = xreallocarray (x->containers, x->n_containers + 1, sizeof *x->containers);
  memset (&task->containers[task->n_containers], 0, sizeof *task->containers);
  memset (&x->containers[x->n_containers], 0, sizeof *x->containers);
  sk_parse_container (pc, item, &task->containers[task->n_containers],
                      &x->containers[x->n_containers]);
  task->n_containers++;
  x->n_containers++;
}

static void
parse_compatibilities (struct sk_pctx *pc, const struct sk_json *obj, struct sk_task *task)
{
  static const char *const names[] = { "EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES", NULL };
  const struct sk_json *a = pc_array (pc, obj, "requiresCompatibilities");
  size_t saved;

  if (a == NULL)
    return;
  saved = pc_push_key (pc, "requiresCompatibilities");
  for (size_t i = 0; i < a->n; i++)
    {
      size_t at = pc_push_index (pc, i);
      _cleanup_free_ char *s = NULL;
      bool found = false;
      if (pc_string_value (pc, a->items[i], SK_MAX_NAME, 0, &s) > 0)
        {
          for (unsigned k = 0; names[k]; k++)
            if (strcmp (s, names[k]) == 0)
              {
                task->requires_compatibilities |= 1u << k;
                found = true;
              }
          if (!found)
            pc_error (pc,
                      "must be one of \"EC2\", \"FARGATE\", \"EXTERNAL\", "
                      "\"MANAGED_INSTANCES\", got \"%.40s\"",
                      s);
        }
      pc_pop (pc, at);
    }
  pc_pop (pc, saved);
}

static void
parse_roles_and_flags (struct sk_pctx *pc, const struct sk_json *obj, struct sk_task *task)
{
  bool fault = false;

  if (pc_string (pc, obj, "taskRoleArn", 2048, SK_STR_EMPTY_IS_ABSENT, &task->task_role_arn) > 0)
    pc_warn_at (pc, "taskRoleArn",
                "no IAM locally: containers get no task-role credentials; recorded only");
  if (pc_string (pc, obj, "executionRoleArn", 2048, SK_STR_EMPTY_IS_ABSENT,
                 &task->execution_role_arn)
      > 0)
    pc_warn_at (pc, "executionRoleArn",
                "not used: images are local and secrets come from --secret NAME=VALUE or "
                "SKIFF_SECRET_<NAME>");
  if (pc_bool (pc, obj, "enableFaultInjection", &fault) > 0 && fault)
    pc_warn_at (pc, "enableFaultInjection", "fault-injection endpoints are not provided; ignored");
  if (pc_each_object (pc, obj, "placementConstraints", parse_placement_constraint, NULL) > 0)
    {
      const struct sk_json *a = sk_json_get (obj, "placementConstraints");
      pc->extra->n_placement_constraints = a->n;
      if (a->n > 10)
        pc_error_at (pc, "placementConstraints", "at most 10 constraints, got %zu", a->n);
      pc_warn_at (pc, "placementConstraints", "one host, no placement: ignored");
    }
  if (pc_each_object (pc, obj, "inferenceAccelerators", parse_accelerator, NULL) > 0)
    pc_warn_at (pc, "inferenceAccelerators", "Elastic Inference is not available; ignored");
  parse_proxy_configuration (pc, obj);
}

static void
parse_task_object (struct sk_pctx *pc, const struct sk_json *obj, struct sk_task *task)
{
  static const char *const net_modes[] = { "awsvpc", "none", "bridge", "host", NULL };
  static const char *const pid_modes[] = { "host", "task", NULL };
  static const char *const ipc_modes[] = { "host", "task", "none", NULL };
  struct sk_parse_extra *x = pc->extra;
  const struct sk_json *eph;
  int mode;

  pc_check_keys (pc, obj, task_keys, output_only_keys);
  if (pc_string (pc, obj, "family", SK_MAX_NAME, SK_STR_NONEMPTY, &task->family) == 0)
    pc_missing (pc, "family");
  else if (task->family && !sk_is_name (task->family))
    pc_error_at (pc, "family", "must be 1-255 letters, digits, '_' or '-', got \"%.40s\"",
                 task->family);

  if (pc_enum (pc, obj, "networkMode", net_modes, &mode) > 0)
    {
      x->has_network_mode = true;
      task->network_mode = (enum sk_network_mode)mode;
      if (task->network_mode == SK_NET_BRIDGE)
        pc_warn_at (pc, "networkMode",
                    "bridge runs as awsvpc: the task's containers share one "
                    "network namespace");
    }
  else
    /* ECS's default on EC2; the normalized task says so explicitly, and
     * skiff runs it as it runs awsvpc. */
    task->network_mode = SK_NET_BRIDGE;
  if (pc_enum (pc, obj, "pidMode", pid_modes, &mode) > 0)
    task->pid_mode = mode == 0 ? SK_NS_HOST : SK_NS_TASK;
  if (pc_enum (pc, obj, "ipcMode", ipc_modes, &mode) > 0)
    {
      x->has_ipc_mode = true;
      task->ipc_mode = mode == 0 ? SK_NS_HOST : mode == 1 ? SK_NS_TASK : SK_NS_NONE;
    }
  parse_size_key (pc, obj, "cpu", true, &task->cpu, &x->has_cpu);
  parse_size_key (pc, obj, "memory", false, &task->memory, &x->has_memory);
  parse_compatibilities (pc, obj, task);
  parse_runtime_platform (pc, obj, task);
  if ((eph = pc_object (pc, obj, "ephemeralStorage")) != NULL)
    {
      static const char *const keys[] = { "sizeInGiB", NULL };
      size_t saved = pc_push_key (pc, "ephemeralStorage");
      x->has_ephemeral_storage = true;
      pc_check_keys (pc, eph, keys, NULL);
      if (pc_u32 (pc, eph, "sizeInGiB", 21, 200, "GiB", &task->ephemeral_storage_gib) == 0)
        pc_missing (pc, "sizeInGiB");
      pc_warn (pc, "recorded only: skiff does not cap a task's scratch space");
      pc_pop (pc, saved);
    }
  if (pc_each_object (pc, obj, "tags", parse_tag, task) > 50)
    pc_error_at (pc, "tags", "at most 50 tags, got %zu", task->tags.n);
  parse_roles_and_flags (pc, obj, task);
  pc_each_object (pc, obj, "volumes", parse_volume, task);

  const struct sk_json *defs = sk_json_get (obj, "containerDefinitions");
  if (defs == NULL || defs->type == SK_JSON_NULL)
    pc_missing (pc, "containerDefinitions");
  else if (pc_each_object (pc, obj, "containerDefinitions", parse_container_item, task) == 0
           && defs->type == SK_JSON_ARRAY)
    pc_error_at (pc, "containerDefinitions", "must list at least one container");
}

/* "path/to/web.tf.json" -> "web-tf": a usable family for the bare-array form. */
static char *
family_from_source (const char *source)
{
  const char *base = strrchr (source, '/');
  char *family = xstrdup (base ? base + 1 : source);
  size_t n = strlen (family);

  if (n > 5 && strcmp (family + n - 5, ".json") == 0)
    family[n - 5] = '\0';
  for (char *p = family; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9')
        && *p != '_' && *p != '-')
      *p = '-';
  if (family[0] == '\0' || strcmp (source, "-") == 0)
    {
      free (family);
      family = xstrdup ("stdin");
    }
  if (strlen (family) > SK_MAX_NAME)
    family[SK_MAX_NAME] = '\0';
  return family;
}

static void
apply_bare_array_options (struct sk_pctx *pc, const struct sk_load_opts *opts, struct sk_task *task)
{
  if (opts && opts->family)
    {
      task->family = xstrdup (opts->family);
      if (!sk_is_name (task->family))
        pc_error (pc, "family option: must be 1-255 letters, digits, '_' or '-', got \"%.40s\"",
                  task->family);
    }
  else
    task->family = family_from_source (pc->source);
  if (opts && opts->cpu)
    {
      pc->extra->has_cpu = true;
      if (sk_parse_cpu_units (opts->cpu, &task->cpu) < 0 || task->cpu < 128)
        pc_error (pc, "cpu option: expected CPU units (\"256\") or vCPUs (\"1 vCPU\"), got \"%s\"",
                  opts->cpu);
    }
  if (opts && opts->memory)
    {
      pc->extra->has_memory = true;
      if (sk_parse_memory_mib (opts->memory, &task->memory) < 0 || task->memory < 6)
        pc_error (pc, "memory option: expected MiB (\"512\") or GB (\"2 GB\"), got \"%s\"",
                  opts->memory);
    }
}

int
sk_parse_task_json (struct sk_pctx *pc, const struct sk_json *root, const struct sk_load_opts *opts,
                    const char *default_family, struct sk_task *task)
{
  const struct sk_json *wrapped;

  if (root->type == SK_JSON_ARRAY)
    {
      /* Terraform's container_definitions: containers only. */
      size_t saved;

      pc->extra->bare_array = true;
      apply_bare_array_options (pc, opts, task);
      /* Paths of the bare form are "[1].memory", not "containerDefinitions[1]". */
      saved = pc->path_len;
      for (size_t i = 0; i < root->n; i++)
        {
          size_t at = pc_push_index (pc, i);
          if (root->items[i]->type == SK_JSON_OBJECT)
            parse_container_item (pc, root->items[i], i, task);
          else
            {
              char got[96];
              pc_describe (root->items[i], got, sizeof got);
              pc_error (pc, "expected a container definition object, got %s", got);
            }
          pc_pop (pc, at);
        }
      pc_pop (pc, saved);
      if (root->n == 0)
        pc_error (pc, "the array lists no container definitions");
      return 0;
    }
  if (root->type != SK_JSON_OBJECT)
    {
      char got[96];
      pc_describe (root, got, sizeof got);
      pc_error (pc,
                "expected a task definition object or an array of container definitions, "
                "got %s",
                got);
      return -1;
    }
  wrapped = sk_json_get (root, "taskDefinition");
  if (wrapped != NULL && sk_json_get (root, "containerDefinitions") == NULL)
    {
      /* describe-task-definition output, maybe with --include TAGS. */
      static const char *const wrapper_keys[] = { "taskDefinition", "tags", NULL };
      size_t saved;

      pc_check_keys (pc, root, wrapper_keys, NULL);
      if (wrapped->type != SK_JSON_OBJECT)
        {
          pc_error_at (pc, "taskDefinition", "expected an object");
          return -1;
        }
      saved = pc_push_key (pc, "taskDefinition");
      parse_task_object (pc, wrapped, task);
      pc_pop (pc, saved);
      if (pc_each_object (pc, root, "tags", parse_tag, task) > 50)
        pc_error_at (pc, "tags", "at most 50 tags, got %zu", task->tags.n);
      return 0;
    }
  parse_task_object (pc, root, task);
  (void)default_family;
  return 0;
}
