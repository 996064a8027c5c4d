/* linuxParameters (capabilities, devices, tmpfs, swap, shm, init) and
 * ulimits of a container definition. */
#include "parse.h"
#include "util.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "cap_sys_admin", "SYS_ADMIN", "CAP_SYS_ADMIN" -> "SYS_ADMIN"; "ALL" stays. */
static void
parse_capability_list (struct sk_pctx *pc, const struct sk_json *caps, const char *key,
                       struct sk_strv *out)
{
  struct sk_strv raw = { 0 };
  size_t saved;

  if (pc_strv (pc, caps, key, 64, SK_STR_NONEMPTY, &raw) <= 0)
    {
      sk_strv_clear (&raw);
      return;
    }
  saved = pc_push_key (pc, key);
  if (out->v == NULL)
    out->v = xzalloc (sizeof *out->v);
  for (size_t i = 0; i < raw.n; i++)
    {
      char *name = xstrdup (raw.v[i]);
      for (char *p = name; *p; p++)
        *p = (char)toupper ((unsigned char)*p);
      if (strncmp (name, "CAP_", 4) == 0)
        memmove (name, name + 4, strlen (name + 4) + 1);
      if (strcmp (name, "ALL") != 0 && sk_capability_number (name) < 0)
        {
          size_t at = pc_push_index (pc, i);
          pc_error (pc, "unknown capability \"%.40s\"", raw.v[i]);
          pc_pop (pc, at);
          free (name);
          continue;
        }
      sk_strv_push (out, name);
    }
  pc_pop (pc, saved);
  sk_strv_clear (&raw);
}

static void
parse_device (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "hostPath", "containerPath", "permissions", NULL };
  static const char *const perms[] = { "read", "write", "mknod", NULL };
  struct sk_container *c = data;
  struct sk_device *d;
  const struct sk_json *p;

  c->devices = xreallocarray (c->devices, c->n_devices + 1, sizeof *c->devices);
  d = &c->devices[c->n_devices++];
  memset (d, 0, sizeof *d);
  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "hostPath", SK_MAX_PATH, SK_STR_NONEMPTY, &d->host_path) == 0)
    pc_missing (pc, "hostPath");
  else if (d->host_path && d->host_path[0] != '/')
    pc_error_at (pc, "hostPath", "must be an absolute path, got \"%.40s\"", d->host_path);
  if (pc_string (pc, item, "containerPath", SK_MAX_PATH, SK_STR_NONEMPTY, &d->container_path) > 0
      && d->container_path[0] != '/')
    pc_error_at (pc, "containerPath", "must be an absolute path, got \"%.40s\"", d->container_path);
  if (d->container_path == NULL && d->host_path)
    d->container_path = xstrdup (d->host_path);
  d->permissions = SK_DEVICE_READ | SK_DEVICE_WRITE | SK_DEVICE_MKNOD;
  if ((p = pc_array (pc, item, "permissions")) != NULL)
    {
      size_t saved = pc_push_key (pc, "permissions");
      d->permissions = 0;
      for (size_t i = 0; i < p->n; i++)
        {
          size_t at = pc_push_index (pc, i);
          _cleanup_free_ char *s = NULL;
          if (pc_string_value (pc, p->items[i], 16, 0, &s) > 0)
            {
              size_t k;
              for (k = 0; perms[k] && strcmp (perms[k], s) != 0; k++)
                ;
              if (perms[k])
                d->permissions |= 1u << k;
              else
                pc_error (pc, "must be one of \"read\", \"write\", \"mknod\", got \"%.40s\"", s);
            }
          pc_pop (pc, at);
        }
      pc_pop (pc, saved);
    }
}

static void
parse_tmpfs (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "containerPath", "size", "mountOptions", NULL };
  struct sk_container *c = data;
  struct sk_tmpfs *t;

  c->tmpfs = xreallocarray (c->tmpfs, c->n_tmpfs + 1, sizeof *c->tmpfs);
  t = &c->tmpfs[c->n_tmpfs++];
  memset (t, 0, sizeof *t);
  pc_check_keys (pc, item, keys, NULL);
  if (pc_string (pc, item, "containerPath", SK_MAX_PATH, SK_STR_NONEMPTY, &t->container_path) == 0)
    pc_missing (pc, "containerPath");
  else if (t->container_path && (t->container_path[0] != '/' || strstr (t->container_path, "..")))
    pc_error_at (pc, "containerPath", "must be an absolute path without \"..\", got \"%.40s\"",
                 t->container_path);
  if (pc_u32 (pc, item, "size", 1, UINT32_MAX, "MiB", &t->size) == 0)
    pc_missing (pc, "size");
  if (pc_strv (pc, item, "mountOptions", 256, SK_STR_NONEMPTY, &t->mount_options) > 0)
    {
      size_t saved = pc_push_key (pc, "mountOptions");
      for (size_t i = 0; i < t->mount_options.n; i++)
        if (!sk_is_tmpfs_option (t->mount_options.v[i]))
          {
            size_t at = pc_push_index (pc, i);
            pc_error (pc, "unknown tmpfs mount option \"%.40s\"", t->mount_options.v[i]);
            pc_pop (pc, at);
          }
      pc_pop (pc, saved);
    }
}

void
sk_parse_linux_parameters (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c,
                           struct sk_container_extra *x)
{
  static const char *const keys[]
      = { "capabilities", "devices", "initProcessEnabled", "sharedMemorySize",
          "tmpfs",        "maxSwap", "swappiness",         NULL };
  static const char *const cap_keys[] = { "add", "drop", NULL };
  const struct sk_json *lp = pc_object (pc, obj, "linuxParameters");
  const struct sk_json *caps;
  size_t saved;

  if (lp == NULL)
    return;
  saved = pc_push_key (pc, "linuxParameters");
  pc_check_keys (pc, lp, keys, NULL);
  if ((caps = pc_object (pc, lp, "capabilities")) != NULL)
    {
      size_t at = pc_push_key (pc, "capabilities");
      pc_check_keys (pc, caps, cap_keys, NULL);
      parse_capability_list (pc, caps, "add", &c->cap_add);
      parse_capability_list (pc, caps, "drop", &c->cap_drop);
      pc_pop (pc, at);
    }
  pc_each_object (pc, lp, "devices", parse_device, c);
  pc_bool (pc, lp, "initProcessEnabled", &c->init_process_enabled);
  x->has_shared_memory_size
      = pc_u32 (pc, lp, "sharedMemorySize", 1, UINT32_MAX, "MiB", &c->shared_memory_size) != 0;
  pc_each_object (pc, lp, "tmpfs", parse_tmpfs, c);
  c->has_max_swap = pc_u32 (pc, lp, "maxSwap", 0, UINT32_MAX, "MiB", &c->max_swap) > 0;
  c->has_swappiness = pc_u32 (pc, lp, "swappiness", 0, 100, "", &c->swappiness) > 0;
  if (c->has_swappiness && !c->has_max_swap)
    pc_warn_at (pc, "swappiness", "ignored unless maxSwap is set (as in ECS)");
  pc_pop (pc, saved);
}

static void
parse_ulimit (struct sk_pctx *pc, const struct sk_json *item, size_t index, void *data)
{
  static const char *const keys[] = { "name", "softLimit", "hardLimit", NULL };
  static const char *const names[]
      = { "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
          "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",    NULL };
  struct sk_container *c = data;
  int name = -1;
  int64_t soft = 0, hard = 0;
  int rs, rh;

  pc_check_keys (pc, item, keys, NULL);
  if (pc_enum (pc, item, "name", names, &name) == 0)
    pc_missing (pc, "name");
  /* -1 means unlimited (RLIM_INFINITY), as Docker reads it. */
  rs = pc_int (pc, item, "softLimit", -1, INT64_MAX, "", &soft);
  rh = pc_int (pc, item, "hardLimit", -1, INT64_MAX, "", &hard);
  if (rs == 0)
    pc_missing (pc, "softLimit");
  if (rh == 0)
    pc_missing (pc, "hardLimit");
  if (name < 0 || rs <= 0 || rh <= 0)
    return;
  uint64_t s = soft < 0 ? UINT64_MAX : (uint64_t)soft;
  uint64_t h = hard < 0 ? UINT64_MAX : (uint64_t)hard;
  if (s > h)
    {
      pc_error (pc, "softLimit %" PRId64 " is above hardLimit %" PRId64, soft, hard);
      return;
    }
  for (size_t i = 0; i < c->n_ulimits; i++)
    if (strcmp (c->ulimits[i].name, names[name]) == 0)
      {
        pc_error_at (pc, "name", "\"%s\" is set twice", names[name]);
        return;
      }
  c->ulimits = xreallocarray (c->ulimits, c->n_ulimits + 1, sizeof *c->ulimits);
  c->ulimits[c->n_ulimits].name = xstrdup (names[name]);
  c->ulimits[c->n_ulimits].resource = sk_ulimit_resource (names[name]);
  c->ulimits[c->n_ulimits].soft = s;
  c->ulimits[c->n_ulimits].hard = h;
  c->n_ulimits++;
}

void
sk_parse_ulimits (struct sk_pctx *pc, const struct sk_json *obj, struct sk_container *c)
{
  pc_each_object (pc, obj, "ulimits", parse_ulimit, c);
}
