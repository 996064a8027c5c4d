/* skiff's default seccomp profile: an allow-list equivalent in effect to
 * Docker's default (moby/profiles seccomp), written as our own table.
 *
 * Everything not allowed fails with EPERM. Groups below are conditional the
 * way Docker's are: on the container's capabilities (a syscall the kernel
 * would refuse anyway without the capability is only reachable when the
 * capability is held), on the native architecture, and on the kernel
 * version. Deviations from moby's current profile, both taken from
 * docs/isolation-security.md: keyctl/add_key/request_key stay denied (the
 * keyring is not namespaced) and socket(AF_ALG) is denied as well as
 * socket(AF_VSOCK). */
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "caps.h"

/* Architecture families a group may be limited to. */
#define ARCH_X86 1u     /* x86_64, x86, x32 */
#define ARCH_ARM 2u     /* aarch64, arm */
#define ARCH_PPC 4u     /* ppc64le */
#define ARCH_S390 8u    /* s390x, s390 */
#define ARCH_RISCV 16u  /* riscv64 */
#define ARCH_X86_64 32u /* x86_64 and x32 only (arch_prctl) */

/* The part of the allow-list every container gets, by subject. */
static const char *const allow_files[] = {
  "access",
  "chdir",
  "chmod",
  "chown",
  "chown32",
  "close",
  "close_range",
  "copy_file_range",
  "creat",
  "dup",
  "dup2",
  "dup3",
  "faccessat",
  "faccessat2",
  "fadvise64",
  "fadvise64_64",
  "fallocate",
  "fchdir",
  "fchmod",
  "fchmodat",
  "fchmodat2",
  "fchown",
  "fchown32",
  "fchownat",
  "fcntl",
  "fcntl64",
  "fdatasync",
  "flock",
  "fstat",
  "fstat64",
  "fstatat64",
  "fstatfs",
  "fstatfs64",
  "fsync",
  "ftruncate",
  "ftruncate64",
  "futimesat",
  "getcwd",
  "getdents",
  "getdents64",
  "lchown",
  "lchown32",
  "link",
  "linkat",
  "_llseek",
  "lseek",
  "lstat",
  "lstat64",
  "mkdir",
  "mkdirat",
  "mknod",
  "mknodat",
  "name_to_handle_at",
  "newfstatat",
  "open",
  "openat",
  "openat2",
  "pread64",
  "preadv",
  "preadv2",
  "pwrite64",
  "pwritev",
  "pwritev2",
  "read",
  "readahead",
  "readlink",
  "readlinkat",
  "readv",
  "rename",
  "renameat",
  "renameat2",
  "rmdir",
  "sendfile",
  "sendfile64",
  "splice",
  "stat",
  "stat64",
  "statfs",
  "statfs64",
  "statx",
  "symlink",
  "symlinkat",
  "sync",
  "sync_file_range",
  "syncfs",
  "tee",
  "truncate",
  "truncate64",
  "umask",
  "unlink",
  "unlinkat",
  "utime",
  "utimensat",
  "utimensat_time64",
  "utimes",
  "vmsplice",
  "write",
  "writev",
  "cachestat",
  "statmount",
  "listmount",
  /* extended attributes */
  "fgetxattr",
  "flistxattr",
  "fremovexattr",
  "fsetxattr",
  "getxattr",
  "getxattrat",
  "lgetxattr",
  "listxattr",
  "listxattrat",
  "llistxattr",
  "lremovexattr",
  "lsetxattr",
  "removexattr",
  "removexattrat",
  "setxattr",
  "setxattrat",
  /* notification and asynchronous I/O (io_uring is not here: see security.md) */
  "fanotify_mark",
  "inotify_add_watch",
  "inotify_init",
  "inotify_init1",
  "inotify_rm_watch",
  "io_cancel",
  "io_destroy",
  "io_getevents",
  "io_pgetevents",
  "io_pgetevents_time64",
  "io_setup",
  "io_submit",
  "ioctl",
  "epoll_create",
  "epoll_create1",
  "epoll_ctl",
  "epoll_ctl_old",
  "epoll_pwait",
  "epoll_pwait2",
  "epoll_wait",
  "epoll_wait_old",
  "eventfd",
  "eventfd2",
  "poll",
  "ppoll",
  "ppoll_time64",
  "pselect6",
  "pselect6_time64",
  "select",
  "_newselect",
  "pipe",
  "pipe2",
  "signalfd",
  "signalfd4",
  "timerfd_create",
  "timerfd_gettime",
  "timerfd_gettime64",
  "timerfd_settime",
  "timerfd_settime64",
  "memfd_create",
  "memfd_secret",
};

static const char *const allow_process[] = {
  "execve",
  "execveat",
  "exit",
  "exit_group",
  "fork",
  "vfork",
  "wait4",
  "waitid",
  "waitpid",
  "kill",
  "tkill",
  "tgkill",
  "pidfd_open",
  "pidfd_send_signal",
  "process_mrelease",
  "getpid",
  "getppid",
  "gettid",
  "getpgid",
  "getpgrp",
  "getsid",
  "setpgid",
  "setsid",
  "prctl",
  "seccomp",
  "capget",
  "capset",
  "getrlimit",
  "ugetrlimit",
  "setrlimit",
  "prlimit64",
  "getrusage",
  "times",
  "getpriority",
  "setpriority",
  "ioprio_get",
  "ioprio_set",
  "getcpu",
  "sched_getaffinity",
  "sched_getattr",
  "sched_getparam",
  "sched_get_priority_max",
  "sched_get_priority_min",
  "sched_getscheduler",
  "sched_rr_get_interval",
  "sched_rr_get_interval_time64",
  "sched_setaffinity",
  "sched_setattr",
  "sched_setparam",
  "sched_setscheduler",
  "sched_yield",
  "get_robust_list",
  "set_robust_list",
  "get_thread_area",
  "set_thread_area",
  "set_tid_address",
  "rseq",
  "restart_syscall",
  "uname",
  "sysinfo",
  "getrandom",
  "membarrier",
  "uretprobe",
  "landlock_add_rule",
  "landlock_create_ruleset",
  "landlock_restrict_self",
  "riscv_hwprobe",
  /* identities: changing them is policed by the kernel through capabilities */
  "getegid",
  "getegid32",
  "geteuid",
  "geteuid32",
  "getgid",
  "getgid32",
  "getgroups",
  "getgroups32",
  "getresgid",
  "getresgid32",
  "getresuid",
  "getresuid32",
  "getuid",
  "getuid32",
  "setfsgid",
  "setfsgid32",
  "setfsuid",
  "setfsuid32",
  "setgid",
  "setgid32",
  "setgroups",
  "setgroups32",
  "setregid",
  "setregid32",
  "setresgid",
  "setresgid32",
  "setresuid",
  "setresuid32",
  "setreuid",
  "setreuid32",
  "setuid",
  "setuid32",
  /* signals */
  "pause",
  "rt_sigaction",
  "rt_sigpending",
  "rt_sigprocmask",
  "rt_sigqueueinfo",
  "rt_sigreturn",
  "rt_sigsuspend",
  "rt_sigtimedwait",
  "rt_sigtimedwait_time64",
  "rt_tgsigqueueinfo",
  "sigaltstack",
  "sigprocmask",
  "sigreturn",
  /* time (reading it; setting it is gated on CAP_SYS_TIME below) */
  "adjtimex",
  "alarm",
  "clock_adjtime",
  "clock_adjtime64",
  "clock_getres",
  "clock_getres_time64",
  "clock_gettime",
  "clock_gettime64",
  "clock_nanosleep",
  "clock_nanosleep_time64",
  "getitimer",
  "setitimer",
  "gettimeofday",
  "nanosleep",
  "time",
  "timer_create",
  "timer_delete",
  "timer_getoverrun",
  "timer_gettime",
  "timer_gettime64",
  "timer_settime",
  "timer_settime64",
  /* futexes */
  "futex",
  "futex_requeue",
  "futex_time64",
  "futex_wait",
  "futex_waitv",
  "futex_wake",
};

static const char *const allow_memory_ipc_net[] = {
  "brk",
  "madvise",
  "map_shadow_stack",
  "mincore",
  "mlock",
  "mlock2",
  "mlockall",
  "mmap",
  "mmap2",
  "mprotect",
  "mremap",
  "mseal",
  "msync",
  "munlock",
  "munlockall",
  "munmap",
  "pkey_alloc",
  "pkey_free",
  "pkey_mprotect",
  "remap_file_pages",
  /* System V and POSIX IPC are namespaced by the IPC namespace */
  "ipc",
  "msgctl",
  "msgget",
  "msgrcv",
  "msgsnd",
  "semctl",
  "semget",
  "semop",
  "semtimedop",
  "semtimedop_time64",
  "shmat",
  "shmctl",
  "shmdt",
  "shmget",
  "mq_getsetattr",
  "mq_notify",
  "mq_open",
  "mq_timedreceive",
  "mq_timedreceive_time64",
  "mq_timedsend",
  "mq_timedsend_time64",
  "mq_unlink",
  /* sockets (socket itself has argument rules below) */
  "accept",
  "accept4",
  "bind",
  "connect",
  "getpeername",
  "getsockname",
  "getsockopt",
  "listen",
  "recv",
  "recvfrom",
  "recvmmsg",
  "recvmmsg_time64",
  "recvmsg",
  "send",
  "sendmmsg",
  "sendmsg",
  "sendto",
  "setsockopt",
  "shutdown",
  "socketcall",
  "socketpair",
};

/* A conditional group. Docker's semantics: the group applies when the
 * container holds every capability of caps_all (none = no condition), none of
 * caps_none, the native arch is in arches (0 = any) and not in
 * arches_none, and the kernel is at least min_kernel. */
struct group
{
  const char *const *names;
  size_t n_names;
  int errno_ret;
  uint64_t caps_all;
  uint64_t caps_none;
  unsigned arches;
  unsigned arches_none;
  unsigned min_kernel_major, min_kernel_minor;
  unsigned n_args;
  struct sk_seccomp_arg args[SK_SECCOMP_MAX_ARGS];
};

#define NAMES(...)                                                                                 \
  .names = (const char *const[]){ __VA_ARGS__ },                                                   \
  .n_names = sizeof ((const char *const[]){ __VA_ARGS__ }) / sizeof (const char *)
#define CAP(c) SK_CAP_BIT (CAP_##c)
#define ARG(i, o, v, v2)                                                                           \
  {                                                                                                \
    .index = (i), .op = (o), .value = (v), .value_two = (v2)                                       \
  }

/* clone flags that create namespaces: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
#define CLONE_NS_FLAGS 0x7E020000ull
#define AF_ALG_FAMILY 38
#define AF_VSOCK_FAMILY 40

static const struct group groups[] = {
  /* Before 4.8 a tracer could rewrite a syscall after seccomp checked it. */
  { NAMES ("ptrace", "process_vm_readv", "process_vm_writev"), .min_kernel_major = 4,
    .min_kernel_minor = 8 },
  /* Every address family but AF_ALG (kernel crypto API) and AF_VSOCK (host
   * and hypervisor agents). */
  { NAMES ("socket"), .n_args = 1, .args = { ARG (0, SK_SC_LT, AF_ALG_FAMILY, 0) } },
  { NAMES ("socket"), .n_args = 1, .args = { ARG (0, SK_SC_EQ, AF_ALG_FAMILY + 1, 0) } },
  { NAMES ("socket"), .n_args = 1, .args = { ARG (0, SK_SC_GT, AF_VSOCK_FAMILY, 0) } },
  /* Only the personalities that do not weaken the process (e.g. no
   * ADDR_NO_RANDOMIZE): PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32,
   * and the query value. */
  { NAMES ("personality"), .n_args = 1, .args = { ARG (0, SK_SC_EQ, 0x0, 0) } },
  { NAMES ("personality"), .n_args = 1, .args = { ARG (0, SK_SC_EQ, 0x8, 0) } },
  { NAMES ("personality"), .n_args = 1, .args = { ARG (0, SK_SC_EQ, 0x20000, 0) } },
  { NAMES ("personality"), .n_args = 1, .args = { ARG (0, SK_SC_EQ, 0x20008, 0) } },
  { NAMES ("personality"), .n_args = 1, .args = { ARG (0, SK_SC_EQ, 0xffffffff, 0) } },
  /* Architecture specific helpers. */
  { NAMES ("sync_file_range2", "swapcontext"), .arches = ARCH_PPC },
  { NAMES ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
           "cacheflush", "set_tls"),
    .arches = ARCH_ARM },
  { NAMES ("arch_prctl"), .arches = ARCH_X86_64 },
  { NAMES ("modify_ldt"), .arches = ARCH_X86 },
  { NAMES ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    .arches = ARCH_S390 },
  { NAMES ("riscv_flush_icache"), .arches = ARCH_RISCV },
  /* Capability gates. */
  { NAMES ("open_by_handle_at"), .caps_all = CAP (DAC_READ_SEARCH) },
  { NAMES ("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
           "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
           "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
           "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
    .caps_all = CAP (SYS_ADMIN) },
  /* Without CAP_SYS_ADMIN: clone only without namespace flags (s390 passes
   * the flags second). */
  { NAMES ("clone"), .caps_none = CAP (SYS_ADMIN), .arches_none = ARCH_S390, .n_args = 1,
    .args = { ARG (0, SK_SC_MASKED_EQ, CLONE_NS_FLAGS, 0) } },
  { NAMES ("clone"), .caps_none = CAP (SYS_ADMIN), .arches = ARCH_S390, .n_args = 1,
    .args = { ARG (1, SK_SC_MASKED_EQ, CLONE_NS_FLAGS, 0) } },
  /* clone3's flags live in memory seccomp cannot read: pretend the call does
   * not exist so libc falls back to clone, which the rule above filters. */
  { NAMES ("clone3"), .caps_none = CAP (SYS_ADMIN), .errno_ret = ENOSYS },
  { NAMES ("reboot"), .caps_all = CAP (SYS_BOOT) },
  { NAMES ("chroot"), .caps_all = CAP (SYS_CHROOT) },
  { NAMES ("delete_module", "init_module", "finit_module"), .caps_all = CAP (SYS_MODULE) },
  { NAMES ("acct"), .caps_all = CAP (SYS_PACCT) },
  { NAMES ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
           "ptrace"),
    .caps_all = CAP (SYS_PTRACE) },
  { NAMES ("iopl", "ioperm"), .caps_all = CAP (SYS_RAWIO) },
  { NAMES ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    .caps_all = CAP (SYS_TIME) },
  { NAMES ("vhangup"), .caps_all = CAP (SYS_TTY_CONFIG) },
  { NAMES ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
    .caps_all = CAP (SYS_NICE) },
  { NAMES ("syslog"), .caps_all = CAP (SYSLOG) },
  { NAMES ("bpf"), .caps_all = CAP (BPF) },
  { NAMES ("perf_event_open"), .caps_all = CAP (PERFMON) },
};

static unsigned
native_arch_family (void)
{
#if defined(__x86_64__) && defined(__ILP32__)
  return ARCH_X86 | ARCH_X86_64;
#elif defined(__x86_64__)
  return ARCH_X86 | ARCH_X86_64;
#elif defined(__i386__)
  return ARCH_X86;
#elif defined(__aarch64__) || defined(__arm__)
  return ARCH_ARM;
#elif defined(__powerpc64__)
  return ARCH_PPC;
#elif defined(__s390x__) || defined(__s390__)
  return ARCH_S390;
#elif defined(__riscv)
  return ARCH_RISCV;
#else
  return 0;
#endif
}

static bool
kernel_at_least (unsigned major, unsigned minor)
{
  struct utsname u;
  unsigned kmaj = 0, kmin = 0;

  if (major == 0)
    return true;
  if (uname (&u) < 0 || sscanf (u.release, "%u.%u", &kmaj, &kmin) != 2)
    return false; /* unknown kernel: keep the call denied */
  return kmaj > major || (kmaj == major && kmin >= minor);
}

static bool
group_applies (const struct group *g, uint64_t caps, unsigned arch)
{
  if ((caps & g->caps_all) != g->caps_all)
    return false;
  if ((caps & g->caps_none) != 0)
    return false;
  if (g->arches != 0 && (g->arches & arch) == 0)
    return false;
  if ((g->arches_none & arch) != 0)
    return false;
  return kernel_at_least (g->min_kernel_major, g->min_kernel_minor);
}

const struct sk_seccomp_rule *
sk_seccomp_ruleset_find (const struct sk_seccomp_ruleset *rs, const char *name)
{
  for (size_t i = 0; i < rs->n; i++)
    if (strcmp (rs->rules[i].name, name) == 0)
      return &rs->rules[i];
  return NULL;
}

/* Names allowed unconditionally so far: an unconditional allow makes any
 * other rule for the name redundant (and libseccomp would reject the
 * conflicting duplicate). A small open-addressing set on the name's text:
 * the profile is rebuilt on every start to find its cache key, and a linear
 * scan per rule made that quadratic. */
#define ALLOWED_SLOTS 1024 /* a power of two, > 2 × the names of the profile */
struct allowed_set
{
  const char *slot[ALLOWED_SLOTS];
};

static size_t
name_hash (const char *name)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 0x100000001b3ULL;
  return (size_t)h;
}

/* True when name is in the set; else adds it when `add`. */
static bool
allowed_lookup (struct allowed_set *set, const char *name, bool add)
{
  size_t i = name_hash (name) & (ALLOWED_SLOTS - 1);

  for (size_t probes = 0; probes < ALLOWED_SLOTS; probes++, i = (i + 1) & (ALLOWED_SLOTS - 1))
    {
      if (set->slot[i] == NULL)
        {
          if (add)
            set->slot[i] = name;
          return false;
        }
      if (strcmp (set->slot[i], name) == 0)
        return true;
    }
  return false; /* full: cannot happen with the sizes above */
}

static void
push_rule (struct sk_seccomp_ruleset *rs, size_t *cap, struct allowed_set *allowed,
           const char *name, int errno_ret, unsigned n_args, const struct sk_seccomp_arg *args)
{
  struct sk_seccomp_rule *r;

  if (allowed_lookup (allowed, name, n_args == 0 && errno_ret == 0))
    return;
  if (rs->n == *cap)
    {
      *cap = *cap ? *cap * 2 : 512;
      rs->rules = xreallocarray (rs->rules, *cap, sizeof *rs->rules);
    }
  r = &rs->rules[rs->n++];
  memset (r, 0, sizeof *r);
  r->name = name;
  r->errno_ret = errno_ret;
  r->n_args = n_args;
  if (n_args)
    memcpy (r->args, args, n_args * sizeof *args);
}

static void
push_names (struct sk_seccomp_ruleset *rs, size_t *cap, struct allowed_set *allowed,
            const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    push_rule (rs, cap, allowed, names[i], 0, 0, NULL);
}

void
sk_seccomp_default_rules (uint64_t caps, struct sk_seccomp_ruleset *out)
{
  unsigned arch = native_arch_family ();
  struct allowed_set allowed = { { NULL } };
  size_t cap = 0;

  out->n = 0;
  out->rules = NULL;
  push_names (out, &cap, &allowed, allow_files, SK_ARRAY_SIZE (allow_files));
  push_names (out, &cap, &allowed, allow_process, SK_ARRAY_SIZE (allow_process));
  push_names (out, &cap, &allowed, allow_memory_ipc_net, SK_ARRAY_SIZE (allow_memory_ipc_net));
  for (size_t g = 0; g < SK_ARRAY_SIZE (groups); g++)
    {
      if (!group_applies (&groups[g], caps, arch))
        continue;
      for (size_t i = 0; i < groups[g].n_names; i++)
        push_rule (out, &cap, &allowed, groups[g].names[i], groups[g].errno_ret, groups[g].n_args,
                   groups[g].args);
    }
}

void
sk_seccomp_ruleset_clear (struct sk_seccomp_ruleset *rs)
{
  free (rs->rules);
  rs->rules = NULL;
  rs->n = 0;
}
