/* A container's environment, merged in the order ECS and Docker apply it:
 * skiff's defaults (PATH, HOSTNAME, HOME), the image's Env, the
 * environmentFiles top-down, `environment`, `secrets`, then --env. A later
 * source replaces an earlier value of the same name. */
#ifndef SKIFF_ENV_H
#define SKIFF_ENV_H

#include "container.h"
#include "error.h"
#include "image.h"
#include "task.h"

int sk_env_build (const struct sk_container *def, const struct sk_task *task,
                  const struct sk_image *image, const char *home, const char *hostname,
                  const struct sk_run_overrides *ov, char ***envp, sk_err_t *err);

/* Set NAME=VALUE in a NULL-terminated list (replacing an existing NAME). */
void sk_env_set (char ***envp, size_t *n, const char *name, const char *value);

#endif
