/* Parent half of seccomp: compile the resolved profile with libseccomp,
 * export the BPF into a sealed memfd, and cache the exported program.
 *
 * Building and exporting a Docker-sized allow-list costs ~13 ms, about half
 * of the launch budget (launch-path.md section 9), so the program is cached
 * under a key covering everything that changes its bytes: the resolved rules,
 * the libseccomp version, the kernel release and the architecture. */
/* Ours and libseccomp's header have the same name: see seccomp.h. */
#define SK_SECCOMP_WANT_LIBSECCOMP
#include <seccomp.h>

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Bump when the cache file layout or the meaning of the rule bytes changes. */
#define CACHE_FORMAT "skiff-seccomp-cache-1"
#define CACHE_MAGIC "SKBPF001"

/* Cache file: this header, then n_insns struct sock_filter. The checksum
 * catches truncated or corrupted files (the key alone cannot). */
struct cache_header
{
  char magic[8];
  uint32_t n_insns;
  uint32_t reserved;
  uint64_t checksum; /* FNV-1a 64 of the instructions */
};

/* ---- hashing ------------------------------------------------------------ */

/* FNV-1a 64: a cache key, not a security boundary (the cache lives in the
 * root-owned skiff root, and files are checked before use). */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t
fnv1a (uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    {
      h ^= p[i];
      h *= FNV_PRIME;
    }
  return h;
}

static uint64_t
fnv1a_u64 (uint64_t h, uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(v >> (8 * i)); /* fixed byte order */
  return fnv1a (h, b, sizeof b);
}

static uint64_t
fnv1a_str (uint64_t h, const char *s)
{
  return fnv1a (h, s, strlen (s) + 1); /* the NUL separates fields */
}

static uint64_t
ruleset_key (const struct sk_seccomp_ruleset *rs)
{
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;
  uint64_t h = FNV_OFFSET;

  h = fnv1a_str (h, CACHE_FORMAT);
  h = fnv1a_u64 (h, v ? v->major : 0);
  h = fnv1a_u64 (h, v ? v->minor : 0);
  h = fnv1a_u64 (h, v ? v->micro : 0);
  h = fnv1a_str (h, uname (&u) == 0 ? u.release : "?");
  h = fnv1a_u64 (h, seccomp_arch_native ());
  for (size_t i = 0; i < rs->n; i++)
    {
      const struct sk_seccomp_rule *r = &rs->rules[i];
      h = fnv1a_str (h, r->name);
      h = fnv1a_u64 (h, (uint64_t)r->errno_ret);
      h = fnv1a_u64 (h, r->n_args);
      for (unsigned a = 0; a < r->n_args; a++)
        {
          h = fnv1a_u64 (h, r->args[a].index);
          h = fnv1a_u64 (h, (uint64_t)r->args[a].op);
          h = fnv1a_u64 (h, r->args[a].value);
          h = fnv1a_u64 (h, r->args[a].value_two);
        }
    }
  return h;
}

char *
sk_seccomp_cache_name (uint64_t caps)
{
  struct sk_seccomp_ruleset rs;
  uint64_t key;

  sk_seccomp_default_rules (caps, &rs);
  key = ruleset_key (&rs);
  sk_seccomp_ruleset_clear (&rs);
  return xasprintf ("%016llx.bpf", (unsigned long long)key);
}

/* ---- compiling ---------------------------------------------------------- */

/* The sub-architectures a process of the native one can switch to: a 64-bit
 * x86 process can issue 32-bit (int 0x80) and x32 system calls, which use
 * other numbers and must be filtered too. */
static int
add_sub_arches (scmp_filter_ctx ctx, sk_err_t *err)
{
  uint32_t subs[2] = { 0, 0 };
  size_t n = 0;

  switch (seccomp_arch_native ())
    {
    case SCMP_ARCH_X86_64:
      subs[n++] = SCMP_ARCH_X86;
      subs[n++] = SCMP_ARCH_X32;
      break;
    case SCMP_ARCH_AARCH64:
      subs[n++] = SCMP_ARCH_ARM;
      break;
    case SCMP_ARCH_S390X:
      subs[n++] = SCMP_ARCH_S390;
      break;
    default:
      break;
    }
  for (size_t i = 0; i < n; i++)
    {
      int rc = seccomp_arch_add (ctx, subs[i]);
      if (rc < 0 && rc != -EEXIST)
        return sk_err_set (err, -rc, "seccomp_arch_add `%#x`", subs[i]);
    }
  return 0;
}

static int
add_rules (scmp_filter_ctx ctx, const struct sk_seccomp_ruleset *rs, sk_err_t *err)
{
  for (size_t i = 0; i < rs->n; i++)
    {
      const struct sk_seccomp_rule *r = &rs->rules[i];
      struct scmp_arg_cmp cmp[SK_SECCOMP_MAX_ARGS];
      uint32_t action = r->errno_ret ? SCMP_ACT_ERRNO ((uint32_t)r->errno_ret) : SCMP_ACT_ALLOW;
      int nr = seccomp_syscall_resolve_name (r->name);
      int rc;

      /* A name this libseccomp does not know cannot be allowed; denying it
       * is the safe outcome, so skip it quietly. */
      if (nr == __NR_SCMP_ERROR)
        {
          if (getenv ("SKIFF_DEBUG") != NULL)
            fprintf (stderr,
                     "skiff: debug: seccomp: syscall `%s` unknown to libseccomp, left denied\n",
                     r->name);
          continue;
        }
      for (unsigned a = 0; a < r->n_args; a++)
        {
          cmp[a].arg = r->args[a].index;
          cmp[a].op = (enum scmp_compare)r->args[a].op;
          cmp[a].datum_a = r->args[a].value;
          cmp[a].datum_b = r->args[a].value_two;
        }
      rc = seccomp_rule_add_array (ctx, action, nr, r->n_args, cmp);
      if (rc < 0)
        return sk_err_set (err, -rc, "seccomp_rule_add `%s`", r->name);
    }
  return 0;
}

/* Compile rs and export the BPF into fd. */
static int
compile_into (const struct sk_seccomp_ruleset *rs, int fd, sk_err_t *err)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
  int rc = 0;

  if (ctx == NULL)
    return sk_err_set (err, ENOMEM, "seccomp_init");
  /* A binary tree of syscall numbers: fewer instructions run per call for a
   * ~350-entry list. Older libseccomp lacks it; the linear filter still works. */
  (void)seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (add_sub_arches (ctx, err) < 0 || add_rules (ctx, rs, err) < 0)
    rc = -1;
  else if ((rc = seccomp_export_bpf (ctx, fd)) < 0)
    rc = sk_err_set (err, -rc, "seccomp_export_bpf");
  seccomp_release (ctx);
  return rc;
}

/* ---- memfd and cache files ---------------------------------------------- */

static int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

static int
read_all_at (int fd, void *buf, size_t len, off_t off)
{
  char *p = buf;
  while (len > 0)
    {
      ssize_t n = pread (fd, p, len, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return -1;
        }
      p += n;
      len -= (size_t)n;
      off += n;
    }
  return 0;
}

static int
new_memfd (sk_err_t *err)
{
  int fd = memfd_create ("skiff-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return sk_err_set (err, errno, "memfd_create `skiff-seccomp`");
  return fd;
}

/* Seal the program so nothing can change it between here and the child's
 * read. Best effort: the fd never leaves skiff anyway. */
static void
seal_memfd (int fd)
{
  (void)fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
}

/* Load a cached program; NULL when absent, foreign, short or corrupt, in
 * which case the caller rebuilds it. */
static struct sock_filter *
cache_load (const char *path, size_t *n_insns)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  _cleanup_free_ struct sock_filter *prog = NULL;
  struct cache_header h;
  struct stat st;
  size_t bytes;

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return NULL;
  /* Only trust files we wrote: same owner, not writable by others. */
  if (st.st_uid != geteuid () || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return NULL;
  if ((size_t)st.st_size < sizeof h || read_all_at (fd, &h, sizeof h, 0) < 0)
    return NULL;
  if (memcmp (h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.n_insns == 0
      || h.n_insns > BPF_MAXINSNS)
    return NULL;
  bytes = (size_t)h.n_insns * sizeof (struct sock_filter);
  if ((size_t)st.st_size != sizeof h + bytes)
    return NULL;
  prog = xmalloc (bytes);
  if (read_all_at (fd, prog, bytes, sizeof h) < 0 || fnv1a (FNV_OFFSET, prog, bytes) != h.checksum)
    return NULL;
  *n_insns = h.n_insns;
  return steal_pointer (&prog);
}

static int
mkdir_p (const char *dir)
{
  _cleanup_free_ char *copy = xstrdup (dir);

  for (char *p = copy + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (copy, 0700) < 0 && errno != EEXIST)
          return -1;
        *p = '/';
      }
  if (mkdir (copy, 0700) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

/* Write tmp + rename so a reader sees the old file, no file, or the whole
 * new one; a crash mid-write leaves only a stray temporary. */
static int
cache_store (const char *dir, const char *path, const struct sock_filter *prog, size_t n_insns,
             sk_err_t *err)
{
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int fd = -1;
  struct cache_header h = { .n_insns = (uint32_t)n_insns };
  size_t bytes = n_insns * sizeof *prog;

  memcpy (h.magic, CACHE_MAGIC, sizeof h.magic);
  h.checksum = fnv1a (FNV_OFFSET, prog, bytes);
  if (mkdir_p (dir) < 0)
    return sk_err_set (err, errno, "mkdir `%s`", dir);
  tmp = xasprintf ("%s.tmp.%ld", path, (long)getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return sk_err_set (err, errno, "open `%s`", tmp);
  if (write_all (fd, &h, sizeof h) < 0 || write_all (fd, prog, bytes) < 0)
    {
      int e = errno;
      unlink (tmp);
      return sk_err_set (err, e, "write `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return sk_err_set (err, e, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

/* Build the program into a fresh memfd and, when wanted, copy it to the cache. */
static int
build_fresh (const struct sk_seccomp_ruleset *rs, const char *cache_dir, const char *path,
             sk_err_t *err)
{
  _cleanup_close_ int fd = new_memfd (err);
  _cleanup_free_ struct sock_filter *prog = NULL;
  struct stat st;
  size_t n_insns;

  if (fd < 0)
    return -1;
  if (compile_into (rs, fd, err) < 0)
    return -1;
  if (cache_dir == NULL)
    {
      seal_memfd (fd);
      return steal_fd (&fd);
    }
  if (fstat (fd, &st) < 0)
    return sk_err_set (err, errno, "fstat `skiff-seccomp` memfd");
  n_insns = (size_t)st.st_size / sizeof *prog;
  if (n_insns == 0 || n_insns > BPF_MAXINSNS)
    return sk_err_set (err, E2BIG, "seccomp program of %zu instructions", n_insns);
  prog = xmalloc ((size_t)st.st_size);
  if (read_all_at (fd, prog, (size_t)st.st_size, 0) < 0)
    return sk_err_set (err, errno, "read `skiff-seccomp` memfd");
  {
    /* The cache only saves time: failing to write it is not a launch error. */
    _cleanup_err_ sk_err_t cache_err = NULL;
    (void)cache_store (cache_dir, path, prog, n_insns, &cache_err);
  }
  seal_memfd (fd);
  return steal_fd (&fd);
}

int
sk_seccomp_prepare (uint64_t caps, const char *cache_dir, int *bpf_fd, sk_err_t *err)
{
  struct sk_seccomp_ruleset rs;
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ struct sock_filter *cached = NULL;
  size_t n_insns = 0;
  int fd;

  *bpf_fd = -1;
  sk_seccomp_default_rules (caps, &rs);
  if (cache_dir != NULL)
    {
      path = xasprintf ("%s/%016llx.bpf", cache_dir, (unsigned long long)ruleset_key (&rs));
      cached = cache_load (path, &n_insns);
    }
  if (cached != NULL)
    {
      _cleanup_close_ int mfd = new_memfd (err);
      if (mfd < 0)
        goto fail;
      if (write_all (mfd, cached, n_insns * sizeof *cached) < 0)
        {
          sk_err_set (err, errno, "write `skiff-seccomp` memfd");
          goto fail;
        }
      seal_memfd (mfd);
      fd = steal_fd (&mfd);
    }
  else if ((fd = build_fresh (&rs, cache_dir, path, err)) < 0)
    goto fail;
  sk_seccomp_ruleset_clear (&rs);
  *bpf_fd = fd;
  return 0;

fail:
  sk_seccomp_ruleset_clear (&rs);
  return sk_err_wrap (err, "seccomp profile");
}
