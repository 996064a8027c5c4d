/* `skiff run --userns`: the task's user namespace on the launcher side —
 * which map, the sandbox that owns it, and what each container needs on the
 * host (directories the namespace's root can reach and own). The kernel
 * side is isolate/userns.h; the launch side isolate/launch.c. */
#ifndef SKIFF_TASK_USERNS_H
#define SKIFF_TASK_USERNS_H

#include "container.h"
#include "error.h"
#include "sandbox.h"
#include "task.h"

/* Environment switch equivalent to --userns ("1", "true", "yes"). */
#define SK_USERNS_ENV "SKIFF_USERNS"

/* true when SKIFF_USERNS asks for user namespaces. */
bool sk_userns_env_enabled (void);

/* The task's sandbox: with ov->userns inside a new user namespace mapped
 * from ov->userns_base, /etc/subuid + /etc/subgid, or the default base;
 * otherwise exactly sk_sandbox_create. */
int sk_task_sandbox_create (const struct sk_task *task, const char *hostname,
                            const struct sk_run_overrides *ov, struct sk_sandbox *sb,
                            sk_err_t *err);

/* After sk_ctr_prepare, when sb has a user namespace: open the way to the
 * container's state directory and skiff-made volumes for the namespace's
 * root (search permission on directories under the skiff root only), give
 * it the writable layer and those volumes, have the launch build the root
 * filesystem from ID-mapped layers, and turn the spec's user namespace on.
 * Nothing when sb has none. */
int sk_ctr_userns_prepare (struct sk_ctr *c, const struct sk_task_ctx *t,
                           const struct sk_sandbox *sb, sk_err_t *err);

#endif
