/* One container definition: JSON object -> struct sk_container. Linux
 * parameters and ulimits are in parse_linux.c. */
#include "parse.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const container_keys[] = {
  "name",
  "image",
  "repositoryCredentials",
  "cpu",
  "memory",
  "memoryReservation",
  "links",
  "portMappings",
  "essential",
  "restartPolicy",
  "entryPoint",
  "command",
  "environment",
  "environmentFiles",
  "mountPoints",
  "volumesFrom",
  "linuxParameters",
  "secrets",
  "dependsOn",
  "startTimeout",
  "stopTimeout",
  "versionConsistency",
  "hostname",
  "user",
  "workingDirectory",
  "disableNetworking",
  "privileged",
  "readonlyRootFilesystem",
  "dnsServers",
  "dnsSearchDomains",
  "extraHosts",
  "dockerSecurityOptions",
  "interactive",
  "pseudoTerminal",
  "dockerLabels",
  "ulimits",
  "logConfiguration",
  "healthCheck",
  "systemControls",
  "resourceRequirements",
  "firelensConfiguration",
  "credentialSpecs",
  NULL,
};

static bool
is_absolute_clean_path (const char *p)
{
  const char *s = p;

  if (p[0] != '/')
    return false;
  while ((s = strstr (s, "..")) != NULL)
    {
      bool starts = s == p || s[-1] == '/';
      bool ends = s[2] == '\0' || s[2] == '/';
      if (starts && ends)
        return false;
      s += 2;
    }
  return true;
}

static void
check_container_path (struct sk_pctx *pc, const char *key, const char *path)
{
  if (path && !is_absolute_clean_path (path))
    pc_error_at (pc, key, "must be an absolute path without \"..\", got \"%.40s\"", path);
}

static bool
is_ip_address (const char *s)
{
  unsigned char buf[16];
  return inet_pton (AF_INET, s, buf) == 1 || inet_pton (AF_INET6, s, buf) == 1;
}

static void
parse_port_mapping (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "containerPort", "hostPort",           "protocol", "name",
                                      "appProtocol",   "containerPortRange", NULL };
  static const char *const protocols[] = { "tcp", "udp", NULL };
  static const char *const app_protocols[] = { "http", "http2", "grpc", NULL };
  struct sk_container *c = data;
  struct sk_port_mapping *pm;
  _cleanup_free_ char *range = NULL;
  uint32_t port = 0;
  int proto = 0, app;
  int has_port;

  c->port_mappings
      = xreallocarray (c->port_mappings, c->n_port_mappings + 1, sizeof *c->port_mappings);
  pm = &c->port_mappings[c->n_port_mappings++];
  memset (pm, 0, sizeof *pm);
  pc_check_keys (pc, item, keys, NULL);
  has_port = pc_u32 (pc, item, "containerPort", 1, 65535, "", &port);
  pm->container_port = (uint16_t)port;
  port = 0;
  if (pc_u32 (pc, item, "hostPort", 0, 65535, "", &port) > 0)
    pm->host_port = (uint16_t)port;
  if (pc_enum (pc, item, "protocol", protocols, &proto) > 0)
    pm->protocol = proto == 1 ? SK_PROTO_UDP : SK_PROTO_TCP;
  if (pc_string (pc, item, "name", 64, SK_STR_NONEMPTY, &pm->name) > 0 && !sk_is_name (pm->name))
    pc_error_at (pc, "name", "must be letters, digits, '_' or '-', got \"%.40s\"", pm->name);
  if (pc_enum (pc, item, "appProtocol", app_protocols, &app) > 0)
    pm->app_protocol = xstrdup (app_protocols[app]);
  if (pc_string (pc, item, "containerPortRange", 64, SK_STR_NONEMPTY, &range) > 0)
    {
      unsigned first, last;
      int used = 0;
      if (sscanf (range, "%u-%u%n", &first, &last, &used) != 2 || (size_t)used != strlen (range)
          || first < 1 || last > 65535 || first >= last)
        pc_error_at (pc, "containerPortRange",
                     "expected \"FIRST-LAST\" with 1 <= FIRST < LAST <= 65535, got \"%.40s\"",
                     range);
      else
        {
          pm->range_first = (uint16_t)first;
          pm->range_last = (uint16_t)last;
        }
      if (has_port > 0)
        pc_error (pc, "containerPort and containerPortRange exclude each other");
      if (pm->host_port != 0)
        pc_error_at (pc, "hostPort", "not allowed with containerPortRange");
    }
  else if (has_port == 0)
    pc_missing (pc, "containerPort");
}

static void
parse_environment (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "name", "value", NULL };
  struct sk_container *c = data;
  char *name = NULL, *value = NULL;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "name", SK_MAX_NAME, SK_STR_NONEMPTY, &name) == 0)
    pc_missing (pc, "name");
  else if (name && strchr (name, '='))
    {
      pc_error_at (pc, "name", "must not contain '=', got \"%.40s\"", name);
      free (name);
      name = NULL;
    }
  if (pc_string (pc, item, "value", SK_MAX_VALUE, 0, &value) == 0)
    value = xstrdup ("");
  if (name && value)
    {
      sk_kv_push (&c->environment, name, value);
      return;
    }
  free (name);
  free (value);
}

static void
parse_environment_file (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "value", "type", NULL };
  static const char *const types[] = { "s3", NULL };
  struct sk_container *c = data;
  char *value = NULL;
  int type;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_enum (pc, item, "type", types, &type) == 0)
    pc_missing (pc, "type");
  if (pc_string (pc, item, "value", SK_MAX_PATH, SK_STR_NONEMPTY, &value) == 0)
    pc_missing (pc, "value");
  if (value == NULL)
    return;
  if (strncmp (value, "arn:", 4) == 0)
    pc_warn_at (pc, "value",
                "S3 objects are not fetched: skiff reads environment files from a local path "
                "(relative to the task file); `skiff run` fails on this ARN");
  sk_strv_push (&c->environment_files, value);
}

static void
parse_secret_into (struct sk_pctx *pc, const struct sk_json *item, struct sk_kv_list *out)
{
  static const char *const keys[] = { "name", "valueFrom", NULL };
  char *name = NULL, *from = NULL;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "name", SK_MAX_NAME, SK_STR_NONEMPTY, &name) == 0)
    pc_missing (pc, "name");
  if (pc_string (pc, item, "valueFrom", 2048, SK_STR_NONEMPTY, &from) == 0)
    pc_missing (pc, "valueFrom");
  if (name && from)
    {
      sk_kv_push (out, name, from);
      return;
    }
  free (name);
  free (from);
}

static void
parse_secret (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  struct sk_container *c = data;
  parse_secret_into (pc, item, &c->secrets);
}

static void
parse_mount_point (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "sourceVolume", "containerPath", "readOnly", NULL };
  struct sk_container *c = data;
  struct sk_mount_point *mp;

  c->mount_points = xreallocarray (c->mount_points, c->n_mount_points + 1, sizeof *c->mount_points);
  mp = &c->mount_points[c->n_mount_points++];
  memset (mp, 0, sizeof *mp);
  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "sourceVolume", SK_MAX_NAME, SK_STR_NONEMPTY, &mp->source_volume) == 0)
    pc_missing (pc, "sourceVolume");
  if (pc_string (pc, item, "containerPath", SK_MAX_PATH, SK_STR_NONEMPTY, &mp->container_path) == 0)
    pc_missing (pc, "containerPath");
  check_container_path (pc, "containerPath", mp->container_path);
  pc_bool (pc, item, "readOnly", &mp->read_only);
}

static void
parse_volume_from (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "sourceContainer", "readOnly", NULL };
  struct sk_container *c = data;
  struct sk_volume_from *vf;

  c->volumes_from = xreallocarray (c->volumes_from, c->n_volumes_from + 1, sizeof *c->volumes_from);
  vf = &c->volumes_from[c->n_volumes_from++];
  memset (vf, 0, sizeof *vf);
  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "sourceContainer", SK_MAX_NAME, SK_STR_NONEMPTY, &vf->source_container)
      == 0)
    pc_missing (pc, "sourceContainer");
  pc_bool (pc, item, "readOnly", &vf->read_only);
}

static void
parse_dependency (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "containerName", "condition", NULL };
  static const char *const conditions[] = { "START", "COMPLETE", "SUCCESS", "HEALTHY", NULL };
  struct sk_container *c = data;
  struct sk_dependency *d;
  int cond = 0;

  c->depends_on = xreallocarray (c->depends_on, c->n_depends_on + 1, sizeof *c->depends_on);
  d = &c->depends_on[c->n_depends_on++];
  memset (d, 0, sizeof *d);
  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "containerName", SK_MAX_NAME, SK_STR_NONEMPTY, &d->container_name) == 0)
    pc_missing (pc, "containerName");
  if (pc_enum (pc, item, "condition", conditions, &cond) == 0)
    pc_missing (pc, "condition");
  d->condition = (enum sk_dep_condition)cond;
}

static void
parse_extra_host (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "hostname", "ipAddress", NULL };
  struct sk_container *c = data;
  char *host = NULL, *ip = NULL;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "hostname", SK_MAX_NAME, SK_STR_NONEMPTY, &host) == 0)
    pc_missing (pc, "hostname");
  if (pc_string (pc, item, "ipAddress", 64, SK_STR_NONEMPTY, &ip) == 0)
    pc_missing (pc, "ipAddress");
  else if (ip && !is_ip_address (ip))
    pc_error_at (pc, "ipAddress", "not an IPv4 or IPv6 address: \"%.40s\"", ip);
  if (host && ip)
    {
      sk_kv_push (&c->extra_hosts, host, ip);
      return;
    }
  free (host);
  free (ip);
}

static void
parse_system_control (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "namespace", "value", NULL };
  static const char *const ipc[]
      = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",          "kernel.sem", "kernel.shmall",
          "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL };
  struct sk_container *c = data;
  char *ns = NULL, *value = NULL;
  bool ok = false;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "namespace", SK_MAX_NAME, SK_STR_NONEMPTY, &ns) == 0)
    pc_missing (pc, "namespace");
  if (pc_string (pc, item, "value", 4096, 0, &value) == 0)
    pc_missing (pc, "value");
  if (ns)
    {
      ok = strncmp (ns, "net.", 4) == 0 || strncmp (ns, "fs.mqueue.", 10) == 0;
      for (size_t i = 0; ipc[i] && !ok; i++)
        ok = strcmp (ns, ipc[i]) == 0;
      if (!ok || strstr (ns, "..") || strchr (ns, '/'))
        {
          pc_error_at (pc, "namespace",
                       "\"%.40s\" is not a namespaced sysctl (net.*, "
                       "fs.mqueue.* or the IPC kernel.* ones)",
                       ns);
          ok = false;
        }
    }
  if (ok && value)
    {
      sk_kv_push (&c->system_controls, ns, value);
      return;
    }
  free (ns);
  free (value);
}

static void
parse_resource_requirement (struct sk_pctx *pc, const struct sk_json *item, size_t index,
                            void *data)
{
  static const char *const keys[] = { "value", "type", NULL };
  static const char *const types[] = { "GPU", "InferenceAccelerator", NULL };
  struct sk_container_extra *x = data;
  _cleanup_free_ char *value = NULL;
  int type = -1;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_enum (pc, item, "type", types, &type) == 0)
    pc_missing (pc, "type");
  if (pc_string (pc, item, "value", SK_MAX_NAME, SK_STR_NONEMPTY, &value) == 0)
    pc_missing (pc, "value");
  if (type == 0)
    {
      x->has_gpu = true;
      if (value && strspn (value, "0123456789") != strlen (value))
        pc_error_at (pc, "value", "expected a number of GPUs, got \"%.40s\"", value);
      pc_warn (pc, "GPUs are not reserved or exposed by skiff; ignored");
    }
  else if (type == 1)
    pc_warn (pc, "Elastic Inference is not available; ignored");
}

static void
parse_health_check (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c)
{
  static const char *const keys[]
      = { "command", "interval", "timeout", "retries", "startPeriod", NULL };
  const struct sk_json *h = pc_object (pc, obj, "healthCheck");
  struct sk_health_check *hc = &c->health_check;
  struct sk_strv argv = { 0 };
  size_t saved;

  if (h == NULL)
    return;
  saved = pc_push_key (pc, "healthCheck");
  hc->present = true;
  pc_check_keys (pc, h, keys, NULL);
  int r = pc_strv (pc, h, "command", SK_MAX_ARG, 0, &argv);
  if (r == 0)
    pc_missing (pc, "command");
  else if (r > 0)
    {
      const char *kw = argv.n > 0 ? argv.v[0] : NULL;
      if (kw == NULL || (strcmp (kw, "CMD") != 0 && strcmp (kw, "CMD-SHELL") != 0))
        pc_error_at (pc, "command", "must start with \"CMD\" or \"CMD-SHELL\", got %s%.40s%s",
                     kw ? "\"" : "", kw ? kw : "an empty list", kw ? "\"" : "");
      else if (argv.n < 2)
        pc_error_at (pc, "command", "\"%s\" needs a command after it", kw);
      else
        {
          hc->shell = strcmp (kw, "CMD-SHELL") == 0;
          if (hc->shell)
            {
              /* Docker joins the words of CMD-SHELL into one shell line. */
              size_t total = 1;
              for (size_t i = 1; i < argv.n; i++)
                total += strlen (argv.v[i]) + 1;
              char *line = xzalloc (total);
              for (size_t i = 1; i < argv.n; i++)
                {
                  if (i > 1)
                    strcat (line, " ");
                  strcat (line, argv.v[i]);
                }
              sk_strv_push (&hc->command, line);
            }
          else
            for (size_t i = 1; i < argv.n; i++)
              sk_strv_push (&hc->command, xstrdup (argv.v[i]));
        }
    }
  sk_strv_clear (&argv);
  hc->interval = 30;
  hc->timeout = 5;
  hc->retries = 3;
  hc->start_period = 0;
  pc_u32 (pc, h, "interval", 5, 300, "seconds", &hc->interval);
  pc_u32 (pc, h, "timeout", 2, 60, "seconds", &hc->timeout);
  pc_u32 (pc, h, "retries", 1, 10, "", &hc->retries);
  pc_u32 (pc, h, "startPeriod", 0, 300, "seconds", &hc->start_period);
  pc_pop (pc, saved);
}

static void
parse_restart_policy (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c)
{
  static const char *const keys[] = { "enabled", "ignoredExitCodes", "restartAttemptPeriod", NULL };
  const struct sk_json *p = pc_object (pc, obj, "restartPolicy");
  struct sk_restart_policy *rp = &c->restart_policy;
  const struct sk_json *codes;
  size_t saved;

  rp->restart_attempt_period = 300;
  if (p == NULL)
    return;
  saved = pc_push_key (pc, "restartPolicy");
  pc_check_keys (pc, p, keys, NULL);
  if (pc_bool (pc, p, "enabled", &rp->enabled) == 0)
    pc_missing (pc, "enabled");
  pc_u32 (pc, p, "restartAttemptPeriod", 60, 1800, "seconds", &rp->restart_attempt_period);
  if ((codes = pc_array (pc, p, "ignoredExitCodes")) != NULL)
    {
      size_t at = pc_push_key (pc, "ignoredExitCodes");
      if (codes->n > 50)
        pc_error (pc, "at most 50 exit codes, got %zu", codes->n);
      else
        for (size_t i = 0; i < codes->n; i++)
          {
            const struct sk_json *v = codes->items[i];
            size_t ai = pc_push_index (pc, i);
            if (v->type != SK_JSON_NUMBER || !v->in_range || v->integer < INT32_MIN
                || v->integer > INT32_MAX)
              {
                char got[96];
                pc_describe (v, got, sizeof got);
                pc_error (pc, "expected an integer exit code, got %s", got);
              }
            else
              {
                rp->ignored_exit_codes = xreallocarray (rp->ignored_exit_codes,
                                                        rp->n_ignored_exit_codes + 1, sizeof (int));
                rp->ignored_exit_codes[rp->n_ignored_exit_codes++] = (int)v->integer;
              }
            pc_pop (pc, ai);
          }
      pc_pop (pc, at);
    }
  pc_pop (pc, saved);
}

static void
parse_log_configuration (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c,
                         struct sk_container_extra *x)
{
  static const char *const keys[] = { "logDriver", "options", "secretOptions", NULL };
  static const char *const drivers[] = { "json-file", "syslog", "journald",    "gelf", "fluentd",
                                         "awslogs",   "splunk", "awsfirelens", NULL };
  const struct sk_json *l = pc_object (pc, obj, "logConfiguration");
  struct sk_kv_list secret_opts = { 0 };
  size_t saved;
  int driver = -1;

  if (l == NULL)
    return;
  x->has_log_config = true;
  saved = pc_push_key (pc, "logConfiguration");
  pc_check_keys (pc, l, keys, NULL);
  if (pc_enum (pc, l, "logDriver", drivers, &driver) == 0)
    pc_missing (pc, "logDriver");
  if (driver >= 0)
    {
      c->log_configuration.driver = xstrdup (drivers[driver]);
      if (driver != 0)
        pc_warn_at (pc, "logDriver",
                    "the %s driver is not used: stdout and stderr go to "
                    "skiff's local log files",
                    drivers[driver]);
    }
  pc_string_map (pc, l, "options", &c->log_configuration.options);
  const struct sk_json *so = pc_array (pc, l, "secretOptions");
  if (so != NULL)
    {
      size_t at = pc_push_key (pc, "secretOptions");
      for (size_t i = 0; i < so->n; i++)
        {
          size_t ai = pc_push_index (pc, i);
          if (so->items[i]->type == SK_JSON_OBJECT)
            parse_secret_into (pc, so->items[i], &secret_opts);
          else
            pc_error (pc, "expected an object");
          pc_pop (pc, ai);
        }
      if (so->n > 0)
        pc_warn (pc, "not used: no log driver receives them");
      pc_pop (pc, at);
    }
  sk_kv_list_clear (&secret_opts);
  pc_pop (pc, saved);
}

static void
parse_firelens (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container_extra *x)
{
  static const char *const keys[] = { "type", "options", NULL };
  static const char *const types[] = { "fluentd", "fluentbit", NULL };
  const struct sk_json *f = pc_object (pc, obj, "firelensConfiguration");
  struct sk_kv_list opts = { 0 };
  size_t saved;
  int type;

  if (f == NULL)
    return;
  saved = pc_push_key (pc, "firelensConfiguration");
  pc_check_keys (pc, f, keys, NULL);
  if (pc_enum (pc, f, "type", types, &type) == 0)
    pc_missing (pc, "type");
  pc_string_map (pc, f, "options", &opts);
  for (size_t i = 0; i < opts.n; i++)
    if (strcmp (opts.v[i].name, "config-file-type") == 0 && strcmp (opts.v[i].value, "s3") == 0)
      x->has_firelens_file_s3 = true;
  sk_kv_list_clear (&opts);
  pc_warn (pc, "no log router is configured: the container runs as a plain container");
  pc_pop (pc, saved);
}

static void
parse_security_options (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c)
{
  size_t saved;

  if (pc_strv (pc, obj, "dockerSecurityOptions", 4096, SK_STR_NONEMPTY, &c->docker_security_options)
      <= 0)
    return;
  saved = pc_push_key (pc, "dockerSecurityOptions");
  for (size_t i = 0; i < c->docker_security_options.n; i++)
    {
      const char *o = c->docker_security_options.v[i];
      size_t at = pc_push_index (pc, i);
      if (strcmp (o, "no-new-privileges") == 0)
        ;
      else if (strncmp (o, "apparmor:", 9) == 0 || strncmp (o, "label:", 6) == 0
               || strncmp (o, "credentialspec:", 15) == 0)
        pc_warn (pc, "\"%.40s\" is not applied by skiff", o);
      else
        pc_error (pc,
                  "expected \"no-new-privileges\", \"apparmor:PROFILE\", \"label:VALUE\" or "
                  "\"credentialspec:PATH\", got \"%.40s\"",
                  o);
      pc_pop (pc, at);
    }
  pc_pop (pc, saved);
}

static void
parse_dns (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c)
{
  size_t saved;

  if (pc_strv (pc, obj, "dnsServers", 64, SK_STR_NONEMPTY, &c->dns_servers) > 0)
    {
      saved = pc_push_key (pc, "dnsServers");
      for (size_t i = 0; i < c->dns_servers.n; i++)
        if (!is_ip_address (c->dns_servers.v[i]))
          {
            size_t at = pc_push_index (pc, i);
            pc_error (pc, "not an IPv4 or IPv6 address: \"%.40s\"", c->dns_servers.v[i]);
            pc_pop (pc, at);
          }
      pc_pop (pc, saved);
    }
  if (pc_strv (pc, obj, "dnsSearchDomains", 254, SK_STR_NONEMPTY, &c->dns_search_domains) > 0)
    {
      saved = pc_push_key (pc, "dnsSearchDomains");
      for (size_t i = 0; i < c->dns_search_domains.n; i++)
        {
          const char *d = c->dns_search_domains.v[i];
          size_t n = strlen (d);
          if (strspn (d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != n
              || d[n - 1] == '.' || d[n - 1] == '-')
            {
              size_t at = pc_push_index (pc, i);
              pc_error (pc, "not a domain name: \"%.40s\"", d);
              pc_pop (pc, at);
            }
        }
      pc_pop (pc, saved);
    }
}

static void
parse_identity (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c)
{
  static const char *const consistency[] = { "enabled", "disabled", NULL };
  const struct sk_json *rc;
  _cleanup_free_ char *cred = NULL;
  int vc;

  if (pc_string (pc, obj, "name", SK_MAX_NAME, SK_STR_NONEMPTY, &c->name) == 0)
    pc_missing (pc, "name");
  else if (c->name && !sk_is_name (c->name))
    pc_error_at (pc, "name", "must be 1-255 letters, digits, '_' or '-', got \"%.40s\"", c->name);
  if (pc_string (pc, obj, "image", SK_MAX_PATH, SK_STR_NONEMPTY, &c->image) == 0)
    pc_missing (pc, "image");
  if ((rc = pc_object (pc, obj, "repositoryCredentials")) != NULL)
    {
      static const char *const keys[] = { "credentialsParameter", NULL };
      size_t saved = pc_push_key (pc, "repositoryCredentials");
      pc_check_keys (pc, rc, keys, NULL);
      if (pc_string (pc, rc, "credentialsParameter", 2048, SK_STR_NONEMPTY, &cred) == 0)
        pc_missing (pc, "credentialsParameter");
      pc_warn (pc, "images are local: registry credentials are not used");
      pc_pop (pc, saved);
    }
  if (pc_enum (pc, obj, "versionConsistency", consistency, &vc) > 0)
    pc_warn_at (pc, "versionConsistency", "images are local and not re-resolved; ignored");
  if (pc_string (pc, obj, "hostname", SK_MAX_NAME, SK_STR_EMPTY_IS_ABSENT, &c->hostname) > 0
      && strspn (c->hostname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
             != strlen (c->hostname))
    pc_error_at (pc, "hostname", "not a host name: \"%.40s\"", c->hostname);
  if (pc_string (pc, obj, "user", SK_MAX_NAME, SK_STR_EMPTY_IS_ABSENT, &c->user) > 0)
    {
      /* user, user:group, uid, uid:gid, ... : no spaces, at most one ':'. */
      const char *colon = strchr (c->user, ':');
      if (c->user[0] == ':' || (colon && (colon[1] == '\0' || strchr (colon + 1, ':')))
          || strpbrk (c->user, " \t/"))
        pc_error_at (pc, "user", "expected USER, USER:GROUP, UID or UID:GID, got \"%.40s\"",
                     c->user);
    }
  if (pc_string (pc, obj, "workingDirectory", SK_MAX_PATH, SK_STR_EMPTY_IS_ABSENT,
                 &c->working_directory)
      > 0)
    check_container_path (pc, "workingDirectory", c->working_directory);
}

static void
parse_resources (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c,
                 struct sk_container_extra *x)
{
  pc_u32 (pc, obj, "cpu", 0, 262144, "CPU units", &c->cpu);
  x->has_memory = pc_u32 (pc, obj, "memory", 6, UINT32_MAX, "MiB", &c->memory) != 0;
  x->has_memory_reservation
      = pc_u32 (pc, obj, "memoryReservation", 6, UINT32_MAX, "MiB", &c->memory_reservation) != 0;
  c->stop_timeout = 30;
  x->has_stop_timeout = pc_u32 (pc, obj, "stopTimeout", 0, 86400, "seconds", &c->stop_timeout) != 0;
  x->has_start_timeout
      = pc_u32 (pc, obj, "startTimeout", 0, 86400, "seconds", &c->start_timeout) != 0;
  pc_each_object (pc, obj, "resourceRequirements", parse_resource_requirement, x);
}

void
sk_parse_container (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c,
                    struct sk_container_extra *x)
{
  struct sk_strv creds = { 0 };

  c->essential = true;
  pc_check_keys (pc, obj, container_keys, NULL);
  parse_identity (pc, obj, c);
  parse_resources (pc, obj, c, x);
  pc_bool (pc, obj, "essential", &c->essential);
  c->has_entry_point = pc_strv (pc, obj, "entryPoint", SK_MAX_ARG, 0, &c->entry_point) != 0;
  c->has_command = pc_strv (pc, obj, "command", SK_MAX_ARG, 0, &c->command) != 0;
  pc_each_object (pc, obj, "environment", parse_environment, c);
  if (pc_each_object (pc, obj, "environmentFiles", parse_environment_file, c) > 10)
    pc_error_at (pc, "environmentFiles", "at most 10 files, got %zu", c->environment_files.n);
  if (pc_each_object (pc, obj, "secrets", parse_secret, c) > 0 && c->secrets.n > 0)
    pc_warn_at (pc, "secrets",
                "valueFrom is not fetched: each secret is read at run time from "
                "--secret NAME=VALUE or the SKIFF_SECRET_<NAME> environment variable");
  pc_each_object (pc, obj, "portMappings", parse_port_mapping, c);
  pc_each_object (pc, obj, "mountPoints", parse_mount_point, c);
  pc_each_object (pc, obj, "volumesFrom", parse_volume_from, c);
  pc_each_object (pc, obj, "dependsOn", parse_dependency, c);
  parse_health_check (pc, obj, c);
  parse_restart_policy (pc, obj, c);
  pc_bool (pc, obj, "readonlyRootFilesystem", &c->readonly_root_filesystem);
  pc_bool (pc, obj, "privileged", &c->privileged);
  pc_bool (pc, obj, "interactive", &c->interactive);
  pc_bool (pc, obj, "pseudoTerminal", &c->pseudo_terminal);
  pc_bool (pc, obj, "disableNetworking", &c->disable_networking);
  pc_strv (pc, obj, "links", SK_MAX_NAME * 2 + 1, SK_STR_NONEMPTY, &c->links);
  parse_dns (pc, obj, c);
  pc_each_object (pc, obj, "extraHosts", parse_extra_host, c);
  parse_security_options (pc, obj, c);
  pc_string_map (pc, obj, "dockerLabels", &c->docker_labels);
  sk_parse_ulimits (pc, obj, c);
  sk_parse_linux_parameters (pc, obj, c, x);
  parse_log_configuration (pc, obj, c, x);
  pc_each_object (pc, obj, "systemControls", parse_system_control, c);
  parse_firelens (pc, obj, x);
  if (pc_strv (pc, obj, "credentialSpecs", 2048, SK_STR_NONEMPTY, &creds) > 0)
    {
      if (creds.n > 1)
        pc_error_at (pc, "credentialSpecs", "at most 1 credential spec, got %zu", creds.n);
      if (creds.n > 0)
        pc_warn_at (pc, "credentialSpecs", "gMSA credential specs are not used; ignored");
    }
  sk_strv_clear (&creds);
}
