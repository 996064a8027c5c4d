/* Child half of seccomp: read the prepared BPF bytes, load them last. Only
 * system calls on prepared data; libseccomp is not used here. */
#include "seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

int
sk_seccomp_read_in_child (int bpf_fd, struct sk_seccomp_program *prog, struct sk_child_fail *f)
{
  struct stat st;
  size_t size, done = 0;
  char *buf;

  prog->filter = NULL;
  prog->len = 0;
  if (fstat (bpf_fd, &st) < 0)
    return sk_child_fail (f, SK_PHASE_SECCOMP, errno, "fstat `seccomp program fd %d`", bpf_fd);
  size = (size_t)st.st_size;
  if (size == 0 || size % sizeof (struct sock_filter) != 0
      || size / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return sk_child_fail (f, SK_PHASE_SECCOMP, EINVAL, "seccomp program of %zu bytes", size);

  buf = malloc (size);
  if (buf == NULL)
    return sk_child_fail (f, SK_PHASE_SECCOMP, ENOMEM, "allocate `%zu` bytes", size);
  /* pread from offset 0: the parent's writes left the shared offset at the end. */
  while (done < size)
    {
      ssize_t n = pread (bpf_fd, buf + done, size - done, (off_t)done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int e = n < 0 ? errno : EIO;
          free (buf);
          return sk_child_fail (f, SK_PHASE_SECCOMP, e, "read `seccomp program fd %d`", bpf_fd);
        }
      done += (size_t)n;
    }
  prog->filter = (struct sock_filter *)buf;
  prog->len = (unsigned short)(size / sizeof (struct sock_filter));
  return 0;
}

int
sk_seccomp_load_in_child (const struct sk_seccomp_program *prog, struct sk_child_fail *f)
{
  struct sock_fprog fprog = { .len = prog->len, .filter = prog->filter };
  long rc;

  /* SPEC_ALLOW keeps the task's speculative-execution mitigations as the
   * host configured them instead of forcing SSBD on every filtered process
   * (the Docker/crun choice); older kernels reject the flag with EINVAL. */
  rc = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog);
  if (rc < 0 && errno == EINVAL)
    rc = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
  if (rc < 0 && errno == ENOSYS)
    rc = prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
  if (rc < 0)
    return sk_child_fail (f, SK_PHASE_SECCOMP, errno,
                          "seccomp `SECCOMP_SET_MODE_FILTER` (%u instructions)",
                          (unsigned)prog->len);
  return 0;
}

void
sk_seccomp_program_clear (struct sk_seccomp_program *prog)
{
  free (prog->filter);
  prog->filter = NULL;
  prog->len = 0;
}
