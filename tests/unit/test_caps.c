/* Capability names, ECS add/drop resolution, and the child privilege drop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "caps.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void
test_name_round_trip (void **state)
{
  (void)state;
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    {
      const char *name = sk_cap_name (cap);
      char prefixed[64];

      assert_non_null (name);
      assert_int_equal (sk_cap_from_name (name), cap);
      snprintf (prefixed, sizeof prefixed, "CAP_%s", name);
      assert_int_equal (sk_cap_from_name (prefixed), cap);
    }
  assert_int_equal (sk_cap_from_name ("chown"), CAP_CHOWN);
  assert_int_equal (sk_cap_from_name ("cap_net_raw"), CAP_NET_RAW);
  assert_int_equal (sk_cap_from_name ("Sys_Admin"), CAP_SYS_ADMIN);
  assert_int_equal (sk_cap_from_name ("BOGUS"), -1);
  assert_int_equal (sk_cap_from_name ("CAP_"), -1);
  assert_int_equal (sk_cap_from_name (""), -1);
  assert_null (sk_cap_name (-1));
  assert_null (sk_cap_name (64));
  assert_string_equal (sk_cap_name (CAP_CHOWN), "CHOWN");
}

static void
test_docker_default (void **state)
{
  static const char *const expected[] = {
    "CHOWN",  "DAC_OVERRIDE", "FSETID",  "FOWNER",           "MKNOD",      "NET_RAW", "SETGID",
    "SETUID", "SETFCAP",      "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",    "AUDIT_WRITE"
  };
  uint64_t mask = sk_caps_docker_default ();
  uint64_t want = 0;

  (void)state;
  for (size_t i = 0; i < SK_ARRAY_SIZE (expected); i++)
    want |= SK_CAP_BIT (sk_cap_from_name (expected[i]));
  assert_int_equal (__builtin_popcountll (mask), 14);
  assert_true (mask == want);
}

/* What resolve may hand out on this host. */
static uint64_t
held (void)
{
  return sk_caps_held ();
}

static void
test_resolve_default (void **state)
{
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *warning = NULL;
  uint64_t mask = 0;

  (void)state;
  assert_int_equal (sk_caps_resolve (NULL, 0, NULL, 0, false, &mask, &warning, &err), 0);
  assert_true (mask == (sk_caps_docker_default () & held ()));
}

static void
test_resolve_add_drop (void **state)
{
  const char *add[] = { "SYS_PTRACE", "cap_net_admin" };
  const char *drop[] = { "NET_RAW", "CAP_MKNOD" };
  _cleanup_err_ sk_err_t err = NULL;
  _cleanup_free_ char *warning = NULL;
  uint64_t mask = 0, want;

  (void)state;
  assert_int_equal (sk_caps_resolve (add, 2, drop, 2, false, &mask, &warning, &err), 0);
  want = (sk_caps_docker_default () & ~(SK_CAP_BIT (CAP_NET_RAW) | SK_CAP_BIT (CAP_MKNOD)))
         | SK_CAP_BIT (CAP_SYS_PTRACE) | SK_CAP_BIT (CAP_NET_ADMIN);
  assert_true (mask == (want & held ()));
  assert_null (warning);
}

static void
test_resolve_drop_then_add (void **state)
{
  const char *add[] = { "CHOWN" };
  const char *drop[] = { "CHOWN" };
  const char *drop_all[] = { "ALL" };
  _cleanup_err_ sk_err_t err = NULL;
  char *warning = NULL;
  uint64_t mask = 0;

  (void)state;
  /* Drop is applied first, so the same name in both lists ends up held. */
  assert_int_equal (sk_caps_resolve (add, 1, drop, 1, false, &mask, &warning, &err), 0);
  assert_true (mask & SK_CAP_BIT (CAP_CHOWN));
  free (warning);
  /* drop ALL keeps only what is added. */
  assert_int_equal (sk_caps_resolve (add, 1, drop_all, 1, false, &mask, &warning, &err), 0);
  assert_true (mask == SK_CAP_BIT (CAP_CHOWN));
  free (warning);
  /* drop ALL and nothing added: no capability at all. */
  assert_int_equal (sk_caps_resolve (NULL, 0, drop_all, 1, false, &mask, &warning, &err), 0);
  assert_true (mask == 0);
  assert_null (warning);
}

static void
test_resolve_add_all_and_privileged (void **state)
{
  const char *add_all[] = { "ALL" };
  _cleanup_err_ sk_err_t err = NULL;
  char *warning = NULL;
  uint64_t mask = 0;

  (void)state;
  assert_int_equal (sk_caps_resolve (add_all, 1, NULL, 0, false, &mask, &warning, &err), 0);
  assert_true (mask == (sk_caps_all () & held ()));
  if (sk_caps_all () & ~held ())
    {
      assert_non_null (warning);
      if (!(held () & SK_CAP_BIT (CAP_SYS_RESOURCE)))
        assert_non_null (strstr (warning, "SYS_RESOURCE"));
    }
  free (warning);

  assert_int_equal (sk_caps_resolve (NULL, 0, NULL, 0, true, &mask, &warning, &err), 0);
  assert_true (mask == (sk_caps_all () & held ()));
  assert_true ((sk_caps_all () & ~held ()) == 0 || warning != NULL);
  free (warning);
}

static void
test_resolve_unknown_name (void **state)
{
  const char *add[] = { "CHOWN", "BOGUS" };
  _cleanup_err_ sk_err_t err = NULL;
  char *warning = NULL;
  uint64_t mask = 0;

  (void)state;
  assert_int_equal (sk_caps_resolve (add, 2, NULL, 0, false, &mask, &warning, &err), -1);
  assert_non_null (err);
  assert_string_equal (err->msg, "capabilities.add: unknown capability `BOGUS`");
  assert_null (warning);
}

static void
test_resolve_not_held (void **state)
{
  const char *add[] = { "SYS_RESOURCE" };
  _cleanup_err_ sk_err_t err = NULL;
  char *warning = NULL;
  uint64_t mask = 0;

  (void)state;
  if (held () & SK_CAP_BIT (CAP_SYS_RESOURCE))
    skip (); /* this host gives skiff CAP_SYS_RESOURCE: nothing to refuse */
  assert_int_equal (sk_caps_resolve (add, 1, NULL, 0, false, &mask, &warning, &err), -1);
  assert_non_null (err);
  if (prctl (PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) != 1)
    assert_string_equal (err->msg, "capability SYS_RESOURCE requested but skiff itself does not "
                                   "hold it (the host's bounding set lacks it)");
  assert_null (warning);
}

static void
test_format (void **state)
{
  _cleanup_free_ char *s = sk_caps_format (SK_CAP_BIT (CAP_CHOWN) | SK_CAP_BIT (CAP_KILL));
  _cleanup_free_ char *empty = sk_caps_format (0);

  (void)state;
  assert_string_equal (s, "CHOWN,KILL");
  assert_string_equal (empty, "");
}

/* ---- the child half, in a forked child --------------------------------- */

/* Value of a "Key:\t..." line of /proc/self/status, copied into out. */
static int
status_field (const char *key, char *out, size_t len)
{
  FILE *fp = fopen ("/proc/self/status", "re");
  char line[512];
  size_t klen = strlen (key);
  int found = -1;

  if (fp == NULL)
    return -1;
  while (fgets (line, sizeof line, fp))
    if (strncmp (line, key, klen) == 0 && line[klen] == ':')
      {
        char *v = line + klen + 1;
        while (*v == ' ' || *v == '\t')
          v++;
        v[strcspn (v, "\n")] = '\0';
        /* Groups ends with a space. */
        for (size_t n = strlen (v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
          v[n - 1] = '\0';
        snprintf (out, len, "%s", v);
        found = 0;
        break;
      }
  fclose (fp);
  return found;
}

static int
status_hex (const char *key, uint64_t *v)
{
  char buf[64];
  if (status_field (key, buf, sizeof buf) < 0)
    return -1;
  *v = strtoull (buf, NULL, 16);
  return 0;
}

#define CHILD_CHECK(cond, code)                                                                    \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          fprintf (stderr, "child check failed: %s\n", #cond);                                     \
          _exit (code);                                                                            \
        }                                                                                          \
    }                                                                                              \
  while (0)

static void
child_apply_and_check (const struct sk_creds *c)
{
  struct sk_child_fail f = { 0 };
  uint64_t bnd, eff, prm, inh, amb;
  char buf[256], want[256];

  if (sk_creds_apply_in_child (c, &f) < 0)
    {
      fprintf (stderr, "apply failed at %s: %s: %s\n", sk_phase_name (f.phase), f.text,
               strerror (f.err));
      _exit (2);
    }
  CHILD_CHECK (status_hex ("CapBnd", &bnd) == 0 && bnd == c->caps, 3);
  CHILD_CHECK (status_hex ("CapEff", &eff) == 0 && eff == (c->uid == 0 ? c->caps : 0), 4);
  CHILD_CHECK (status_hex ("CapPrm", &prm) == 0 && prm == (c->uid == 0 ? c->caps : 0), 5);
  CHILD_CHECK (status_hex ("CapInh", &inh) == 0 && inh == 0, 6);
  CHILD_CHECK (status_hex ("CapAmb", &amb) == 0 && amb == 0, 7);
  CHILD_CHECK (status_field ("NoNewPrivs", buf, sizeof buf) == 0 && strcmp (buf, "1") == 0, 8);
  snprintf (want, sizeof want, "%u\t%u\t%u\t%u", c->uid, c->uid, c->uid, c->uid);
  CHILD_CHECK (status_field ("Uid", buf, sizeof buf) == 0 && strcmp (buf, want) == 0, 9);
  snprintf (want, sizeof want, "%u\t%u\t%u\t%u", c->gid, c->gid, c->gid, c->gid);
  CHILD_CHECK (status_field ("Gid", buf, sizeof buf) == 0 && strcmp (buf, want) == 0, 10);
  want[0] = '\0';
  for (size_t i = 0; i < c->n_groups; i++)
    snprintf (want + strlen (want), sizeof want - strlen (want), "%s%u", i ? " " : "",
              (unsigned)c->groups[i]);
  CHILD_CHECK (status_field ("Groups", buf, sizeof buf) == 0 && strcmp (buf, want) == 0, 11);
  _exit (0);
}

static int
run_in_child (const struct sk_creds *c)
{
  int status;
  pid_t pid = fork ();

  if (pid == 0)
    child_apply_and_check (c);
  assert_true (pid > 0);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static void
test_creds_non_root (void **state)
{
  gid_t groups[] = { 44, 1000 }; /* /proc lists them sorted */
  struct sk_creds c = { .uid = 1000, .gid = 1000, .n_groups = 2, .groups = groups };

  (void)state;
  if (geteuid () != 0)
    skip ();
  c.caps = sk_caps_docker_default () & held ();
  assert_int_equal (run_in_child (&c), 0);
}

static void
test_creds_root (void **state)
{
  gid_t groups[] = { 0, 10 };
  struct sk_creds c = { .uid = 0, .gid = 0, .n_groups = 2, .groups = groups };

  (void)state;
  if (geteuid () != 0)
    skip ();
  c.caps = (sk_caps_docker_default () | SK_CAP_BIT (CAP_SYS_PTRACE)) & held ();
  assert_int_equal (run_in_child (&c), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_name_round_trip),
    cmocka_unit_test (test_docker_default),
    cmocka_unit_test (test_resolve_default),
    cmocka_unit_test (test_resolve_add_drop),
    cmocka_unit_test (test_resolve_drop_then_add),
    cmocka_unit_test (test_resolve_add_all_and_privileged),
    cmocka_unit_test (test_resolve_unknown_name),
    cmocka_unit_test (test_resolve_not_held),
    cmocka_unit_test (test_format),
    cmocka_unit_test (test_creds_non_root),
    cmocka_unit_test (test_creds_root),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
