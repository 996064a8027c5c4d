/* The typed model of an ECS task definition.
 *
 * spec/ turns JSON into these structs once (parse.c), checks them (validate.c)
 * and fills every default (defaults are visible through `skiff validate
 * --print`). The rest of skiff sees only these structs, never JSON.
 *
 * Conventions: strings are NUL-free UTF-8 owned by the struct; NULL means
 * "absent". Optional numbers carry a has_* flag. Sizes are MiB and times are
 * seconds unless the name says otherwise. */
#ifndef SKIFF_TASK_H
#define SKIFF_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A list of strings, also NULL-terminated so it can be passed to execve. */
struct sk_strv
{
  size_t n;
  char **v;
};

struct sk_kv
{
  char *name;
  char *value;
};

struct sk_kv_list
{
  size_t n;
  struct sk_kv *v;
};

enum sk_network_mode
{
  SK_NET_AWSVPC = 0, /* one network namespace for the task, loopback up */
  SK_NET_NONE,       /* as awsvpc, and portMappings are refused */
  SK_NET_BRIDGE,     /* accepted; run as awsvpc locally (with a warning) */
  SK_NET_HOST,       /* the host's network namespace */
};

enum sk_ns_mode
{
  SK_NS_PRIVATE = 0, /* one namespace per container (ECS default) */
  SK_NS_TASK,        /* shared by the task's containers */
  SK_NS_HOST,        /* the host's */
  SK_NS_NONE,        /* ipcMode none: private, unshareable */
};

enum sk_dep_condition
{
  SK_DEP_START = 0,
  SK_DEP_COMPLETE,
  SK_DEP_SUCCESS,
  SK_DEP_HEALTHY,
};

struct sk_dependency
{
  char *container_name;
  enum sk_dep_condition condition;
};

struct sk_health_check
{
  bool present;
  bool shell;             /* CMD-SHELL: command.v[0] is run by /bin/sh -c */
  struct sk_strv command; /* without the leading CMD / CMD-SHELL */
  uint32_t interval;      /* 5-300, default 30 */
  uint32_t timeout;       /* 2-60, default 5 */
  uint32_t retries;       /* 1-10, default 3 */
  uint32_t start_period;  /* 0-300, default 0 */
};

struct sk_restart_policy
{
  bool enabled;
  size_t n_ignored_exit_codes;
  int *ignored_exit_codes;
  uint32_t restart_attempt_period; /* 60-1800, default 300 */
};

enum sk_protocol
{
  SK_PROTO_TCP = 0,
  SK_PROTO_UDP,
};

struct sk_port_mapping
{
  uint16_t container_port; /* 0 when a range is used */
  uint16_t host_port;      /* 0 = same as container port */
  uint16_t range_first;    /* containerPortRange "first-last", 0 when absent */
  uint16_t range_last;
  enum sk_protocol protocol;
  char *name;
  char *app_protocol;
};

struct sk_mount_point
{
  char *source_volume;
  char *container_path;
  bool read_only;
};

struct sk_volume_from
{
  char *source_container;
  bool read_only;
};

struct sk_ulimit
{
  int resource; /* RLIMIT_* */
  char *name;
  uint64_t soft;
  uint64_t hard;
};

struct sk_tmpfs
{
  char *container_path;
  uint32_t size; /* MiB */
  struct sk_strv mount_options;
};

#define SK_DEVICE_READ 1u
#define SK_DEVICE_WRITE 2u
#define SK_DEVICE_MKNOD 4u

struct sk_device
{
  char *host_path;
  char *container_path; /* defaults to host_path */
  unsigned permissions; /* SK_DEVICE_*, default all three */
};

struct sk_log_config
{
  char *driver; /* NULL when absent */
  struct sk_kv_list options;
};

struct sk_container
{
  char *name;
  char *image;
  bool has_entry_point;
  struct sk_strv entry_point;
  bool has_command;
  struct sk_strv command;
  struct sk_kv_list environment;
  struct sk_strv environment_files; /* local paths or ARNs, in file order */
  struct sk_kv_list secrets;        /* name -> valueFrom */
  char *working_directory;
  char *user;
  char *hostname;

  uint32_t cpu;                /* CPU units; 0 = no reservation */
  uint32_t memory;             /* MiB hard limit; 0 = none */
  uint32_t memory_reservation; /* MiB soft limit; 0 = none */

  bool essential; /* default true */
  size_t n_depends_on;
  struct sk_dependency *depends_on;
  struct sk_health_check health_check;
  struct sk_restart_policy restart_policy;
  uint32_t start_timeout; /* 0 = none */
  uint32_t stop_timeout;  /* default 30 */

  size_t n_port_mappings;
  struct sk_port_mapping *port_mappings;
  size_t n_mount_points;
  struct sk_mount_point *mount_points;
  size_t n_volumes_from;
  struct sk_volume_from *volumes_from;

  bool readonly_root_filesystem;
  bool privileged;
  bool interactive;
  bool pseudo_terminal;
  bool disable_networking;

  size_t n_ulimits;
  struct sk_ulimit *ulimits;

  /* linuxParameters */
  struct sk_strv cap_add;  /* upper case, without CAP_ */
  struct sk_strv cap_drop; /* may contain ALL */
  size_t n_devices;
  struct sk_device *devices;
  bool init_process_enabled;
  uint32_t shared_memory_size; /* MiB; 0 = default 64 */
  size_t n_tmpfs;
  struct sk_tmpfs *tmpfs;
  bool has_max_swap;
  uint32_t max_swap; /* MiB */
  bool has_swappiness;
  uint32_t swappiness; /* 0-100 */

  struct sk_kv_list system_controls; /* namespace -> value */
  struct sk_kv_list docker_labels;
  struct sk_strv dns_servers;
  struct sk_strv dns_search_domains;
  struct sk_kv_list extra_hosts; /* hostname -> ipAddress */
  struct sk_strv links;
  struct sk_strv docker_security_options;
  struct sk_log_config log_configuration;
};

enum sk_volume_kind
{
  SK_VOL_SCRATCH = 0,   /* name only or host {}: per-task directory, removed with the task */
  SK_VOL_HOST,          /* host.sourcePath: bind mount */
  SK_VOL_DOCKER_TASK,   /* dockerVolumeConfiguration scope task: like scratch */
  SK_VOL_DOCKER_SHARED, /* scope shared: persistent directory under the skiff root */
  SK_VOL_UNSUPPORTED,   /* efs / fsx / s3files / configuredAtLaunch: refused at run time */
};

struct sk_volume
{
  char *name;
  enum sk_volume_kind kind;
  char *host_source_path; /* SK_VOL_HOST */
  char *unsupported_kind; /* e.g. "efsVolumeConfiguration", for the message */
};

#define SK_COMPAT_EC2 1u
#define SK_COMPAT_FARGATE 2u
#define SK_COMPAT_EXTERNAL 4u
#define SK_COMPAT_MANAGED_INSTANCES 8u

struct sk_task
{
  char *source;     /* file name used in messages */
  char *source_dir; /* directory of the file, for relative paths (dir:PATH images) */
  char *family;
  uint32_t cpu;    /* task-level CPU units (hard quota); 0 = none */
  uint32_t memory; /* task-level MiB (hard limit); 0 = none */
  enum sk_network_mode network_mode;
  enum sk_ns_mode pid_mode;
  enum sk_ns_mode ipc_mode;
  unsigned requires_compatibilities; /* SK_COMPAT_* */
  char *os_family;                   /* runtimePlatform, default LINUX */
  char *cpu_architecture;            /* runtimePlatform, default host's */
  uint32_t ephemeral_storage_gib;    /* 0 = absent */
  char *task_role_arn;
  char *execution_role_arn;
  struct sk_kv_list tags;

  size_t n_volumes;
  struct sk_volume *volumes;
  size_t n_containers;
  struct sk_container *containers;
};

void sk_task_free (struct sk_task *task);
void sk_container_free (struct sk_container *c);
void sk_strv_clear (struct sk_strv *v);
void sk_kv_list_clear (struct sk_kv_list *l);

/* Lookups used by every layer. */
struct sk_container *sk_task_find_container (const struct sk_task *task, const char *name);
const struct sk_volume *sk_task_find_volume (const struct sk_task *task, const char *name);
const char *sk_dep_condition_name (enum sk_dep_condition c);
const char *sk_network_mode_name (enum sk_network_mode m);

#endif
