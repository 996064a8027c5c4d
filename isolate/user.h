/* ECS `user` resolution against the image's /etc/passwd and /etc/group
 * (parent side). The files are opened relative to the rootfs directory and
 * never through a symlink that leaves it: the image is untrusted. */
#ifndef SKIFF_USER_H
#define SKIFF_USER_H

#include "caps.h"
#include "error.h"

/* spec: "user", "user:group", "uid", "uid:gid", "user:gid", "uid:group";
 * NULL or "" means root. Fills uid, gid and the groups (the primary group
 * plus every group of etc/group that lists the user's name); leaves caps
 * untouched. *home receives the passwd home directory, or "/" when there is
 * none (the caller frees it). A numeric uid absent from passwd is allowed and
 * gets gid 0, as Docker does. */
int sk_user_resolve (int rootfs_dirfd, const char *spec, struct sk_creds *out, char **home,
                     sk_err_t *err);

/* Free the groups and zero the ids. */
void sk_creds_clear (struct sk_creds *c);

#endif
