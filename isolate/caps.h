/* Capabilities of a container process: the name table, ECS add/drop
 * resolution (parent side) and the privilege drop (child side).
 *
 * A capability mask is a uint64_t where bit n is capability n. skiff keeps its
 * own name table (no libcap) covering 0..CAP_LAST_CAP of the headers it was
 * built with; the running kernel's /proc/sys/kernel/cap_last_cap narrows it. */
#ifndef SKIFF_CAPS_H
#define SKIFF_CAPS_H

#include "child.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SK_CAP_BIT(cap) (UINT64_C (1) << (cap))

/* -1 when unknown. Accepts "CAP_CHOWN", "chown", "Chown". */
int sk_cap_from_name (const char *name);
/* "CHOWN" (without CAP_), or NULL when cap is outside the table. */
const char *sk_cap_name (int cap);
/* Highest capability number of the running kernel (cap_last_cap), capped to
 * the table; falls back to the table's last entry when /proc is unreadable. */
int sk_cap_last (void);
/* Every capability the running kernel knows. */
uint64_t sk_caps_all (void);
/* Docker's 14 default capabilities. */
uint64_t sk_caps_docker_default (void);
/* Capabilities skiff itself can hand out: its bounding set intersected with
 * its permitted set. */
uint64_t sk_caps_held (void);

/* ECS linuxParameters.capabilities on top of Docker's default: drop first,
 * then add; "ALL" in drop empties the set, "ALL" in add fills it; privileged
 * means every capability of the kernel. A name the task asks for that skiff
 * does not hold is an error; what ALL/privileged/the default would give
 * beyond that is narrowed silently and described in *warning (NULL when
 * nothing was narrowed; the caller frees it). */
int sk_caps_resolve (const char *const *add, size_t n_add, const char *const *drop, size_t n_drop,
                     bool privileged, uint64_t *mask, char **warning, sk_err_t *err);

/* "CHOWN,KILL" for messages; the caller frees it. */
char *sk_caps_format (uint64_t mask);

/* The identity and privileges the container process ends up with. */
struct sk_creds
{
  uid_t uid;
  gid_t gid;
  size_t n_groups;
  gid_t *groups; /* supplementary groups, primary included */
  uint64_t caps; /* bounding set; also effective/permitted when uid is 0 */
};

/* Child side, after the mounts and before seccomp: supplementary groups,
 * bounding set, ids, capability sets, ambient set, no_new_privs. */
int sk_creds_apply_in_child (const struct sk_creds *c, struct sk_child_fail *f);

#endif
