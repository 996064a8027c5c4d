/* Seccomp confinement of a container process.
 *
 * The parent resolves skiff's default profile (equivalent in effect to
 * Docker's) against the container's capabilities, compiles it with
 * libseccomp, and hands the child a memfd holding the BPF program; the
 * compiled program is cached on disk. The child only reads those bytes and
 * loads them with seccomp(2) as its very last step before execve:
 * libseccomp never runs in the child. */
#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

/* This header shares its name with libseccomp's, and -Iisolate puts it first
 * for <seccomp.h>. seccomp.c, the one file that uses the library, defines
 * SK_SECCOMP_WANT_LIBSECCOMP and includes <seccomp.h>: that finds this file
 * through -Iisolate, and include_next then continues the search after
 * isolate/ and reaches the library's header. */
#ifdef SK_SECCOMP_WANT_LIBSECCOMP
#include_next <seccomp.h>
#endif

#include "child.h"
#include "error.h"

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the profile, resolved (seccomp_profile.c) ------------------------- */

enum sk_seccomp_op
{
  SK_SC_NE = 1, /* values match libseccomp's enum scmp_compare */
  SK_SC_LT,
  SK_SC_LE,
  SK_SC_EQ,
  SK_SC_GE,
  SK_SC_GT,
  SK_SC_MASKED_EQ, /* (arg & value) == value_two */
};

struct sk_seccomp_arg
{
  unsigned index;
  enum sk_seccomp_op op;
  uint64_t value;
  uint64_t value_two;
};

#define SK_SECCOMP_MAX_ARGS 2

/* One rule of the resolved profile; several rules for one name are ORed. */
struct sk_seccomp_rule
{
  const char *name; /* syscall name, static storage */
  int errno_ret;    /* 0 = allow, otherwise fail with this errno */
  unsigned n_args;
  struct sk_seccomp_arg args[SK_SECCOMP_MAX_ARGS];
};

struct sk_seccomp_ruleset
{
  size_t n;
  struct sk_seccomp_rule *rules;
};

/* The default profile for a container holding caps on this machine's
 * architecture and kernel. Everything not listed fails with EPERM. */
void sk_seccomp_default_rules (uint64_t caps, struct sk_seccomp_ruleset *out);
void sk_seccomp_ruleset_clear (struct sk_seccomp_ruleset *rs);
/* The first unconditional-or-conditional rule for name, NULL when none. */
const struct sk_seccomp_rule *sk_seccomp_ruleset_find (const struct sk_seccomp_ruleset *rs,
                                                       const char *name);

/* ---- parent (seccomp.c) ------------------------------------------------ */

/* caps = the container's final capability mask (bit n = capability n).
 * Stores in *bpf_fd a memfd (CLOEXEC) holding the BPF program. cache_dir may
 * be NULL (no cache); otherwise the program is looked up in, and written to,
 * "<cache_dir>/<hash>.bpf". Privileged containers get no filter: the caller
 * skips this call. */
int sk_seccomp_prepare (uint64_t caps, const char *cache_dir, int *bpf_fd, sk_err_t *err);

/* The cache file name prepare uses for caps, without the directory
 * ("0123456789abcdef.bpf"); the caller frees it. For tests and `skiff debug`. */
char *sk_seccomp_cache_name (uint64_t caps);

/* ---- child (seccomp_child.c) ------------------------------------------- */

struct sk_seccomp_program
{
  struct sock_filter *filter;
  unsigned short len;
};

/* Read the program from the memfd (pread from offset 0) into *prog. Done
 * before the privilege drop; malloc is fine in the single-threaded child. */
int sk_seccomp_read_in_child (int bpf_fd, struct sk_seccomp_program *prog, struct sk_child_fail *f);
/* Install the filter; no_new_privs must already be set. */
int sk_seccomp_load_in_child (const struct sk_seccomp_program *prog, struct sk_child_fail *f);
void sk_seccomp_program_clear (struct sk_seccomp_program *prog);

#endif
