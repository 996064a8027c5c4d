/* spec/: cross-field rules (ecs.md section 14), each with its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "util.h"

static void
expect (const char *json, const char *expected)
{
  struct sk_diags d = { 0 };
  struct sk_task *t = NULL;
  sk_err_t err = NULL;
  char *got = NULL;
  size_t len = 0;
  FILE *m = open_memstream (&got, &len);

  int rc = sk_task_load_buffer (json, strlen (json), "task.json", NULL, &t, &d, &err);
  sk_diags_print (&d, m);
  fclose (m);
  assert_string_equal (got, expected);
  assert_int_equal (rc, d.n_errors ? -1 : 0);
  free (got);
  sk_task_free (t);
  sk_diags_clear (&d);
  sk_err_free (&err);
}

#define TASK(extra, containers)                                                                    \
  "{\"family\":\"f\",\"memory\":\"2048\"" extra ",\"containerDefinitions\":[" containers "]}"

static void
test_memory_rules (void **state)
{
  expect ("{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\"}]}",
          "error: task.json: containerDefinitions[0]: needs \"memory\" or \"memoryReservation\" "
          "when the task sets no memory\n");
  expect (TASK ("", "{\"name\":\"a\",\"image\":\"x\",\"memory\":128,\"memoryReservation\":256}"),
          "error: task.json: containerDefinitions[0].memory: must be greater than "
          "memoryReservation (256 MiB), got 128\n");
  expect (TASK ("", "{\"name\":\"a\",\"image\":\"x\",\"memory\":128,\"memoryReservation\":128}"),
          "warning: task.json: containerDefinitions[0].memoryReservation: equals memory; ECS "
          "documents memory > memoryReservation\n");
  expect (TASK ("", "{\"name\":\"a\",\"image\":\"x\",\"memory\":1500},{\"name\":\"b\",\"image\":"
                    "\"x\",\"memory\":1000}"),
          "error: task.json: memory: the containers' memory adds up to 2500 MiB, more than the "
          "task's 2048 MiB\n");
  expect (TASK (",\"cpu\":\"256\"", "{\"name\":\"a\",\"image\":\"x\",\"cpu\":512}"),
          "error: task.json: cpu: the containers' cpu adds up to 512 units, more than the task's "
          "256\n");
}

static void
test_network_rules (void **state)
{
  expect (TASK (",\"networkMode\":\"awsvpc\"",
                "{\"name\":\"a\",\"image\":\"x\",\"hostname\":\"h\",\"links\":[\"b\"]},"
                "{\"name\":\"b\",\"image\":\"x\"}"),
          "error: task.json: containerDefinitions[0].hostname: not supported with networkMode "
          "\"awsvpc\"\n"
          "error: task.json: containerDefinitions[0].links: only supported with networkMode "
          "\"bridge\", not \"awsvpc\"\n");
  expect (TASK (",\"networkMode\":\"host\"",
                "{\"name\":\"a\",\"image\":\"x\",\"systemControls\":[{\"namespace\":\"net.ipv4."
                "ip_forward\",\"value\":\"1\"}]}"),
          "error: task.json: containerDefinitions[0].systemControls[0].namespace: network sysctl "
          "\"net.ipv4.ip_forward\" is not allowed with networkMode \"host\"\n");
  expect (TASK ("", "{\"name\":\"a\",\"image\":\"x\",\"systemControls\":[{\"namespace\":"
                    "\"kernel.hostname\",\"value\":\"x\"}]}"),
          "error: task.json: containerDefinitions[0].systemControls[0].namespace: "
          "\"kernel.hostname\" is not a namespaced sysctl (net.*, fs.mqueue.* or the IPC kernel.* "
          "ones)\n");
  expect (TASK ("", "{\"name\":\"a\",\"image\":\"x\",\"portMappings\":[{\"containerPortRange\":"
                    "\"8000-8100\"},{\"containerPortRange\":\"8050-8200\"}]}"),
          "error: task.json: containerDefinitions[0].portMappings[1]: containerPortRange overlaps "
          "portMappings[0]\n");
}

static void
test_volume_rules (void **state)
{
  expect (TASK (",\"volumes\":[{\"name\":\"v\",\"host\":{\"sourcePath\":\"/srv\"},"
                "\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-1\"}},{\"name\":\"v\"}]",
                "{\"name\":\"a\",\"image\":\"x\",\"volumesFrom\":[{\"sourceContainer\":\"a\"}]}"),
          "error: task.json: volumes[0]: has both host and efsVolumeConfiguration; a volume takes "
          "at most one\n"
          "error: task.json: volumes[1].name: duplicate volume name \"v\"\n"
          "error: task.json: containerDefinitions[0].volumesFrom[0].sourceContainer: a container "
          "cannot take volumes from itself\n");
  expect (TASK (",\"volumes\":[{\"name\":\"e\",\"efsVolumeConfiguration\":{\"fileSystemId\":"
                "\"fs-1\",\"transitEncryption\":\"ENABLED\"}}]",
                "{\"name\":\"a\",\"image\":\"x\"}"),
          "warning: task.json: volumes[0].efsVolumeConfiguration: network file systems cannot be "
          "mounted locally; `skiff run` refuses this task\n");
  expect (TASK (",\"volumes\":[{\"name\":\"d\",\"dockerVolumeConfiguration\":{\"scope\":\"task\","
                "\"autoprovision\":true}}]",
                "{\"name\":\"a\",\"image\":\"x\"}"),
          "error: task.json: volumes[0].dockerVolumeConfiguration.autoprovision: only valid with "
          "scope \"shared\"\n");
}

static void
test_secrets_and_env (void **state)
{
  expect (TASK ("", "{\"name\":\"a\",\"image\":\"x\",\"environment\":[{\"name\":\"K\",\"value\":"
                    "\"1\"}],\"secrets\":[{\"name\":\"K\",\"valueFrom\":\"arn:aws:ssm:::p\"}]}"),
          "warning: task.json: containerDefinitions[0].secrets: valueFrom is not fetched: each "
          "secret is read at run time from --secret NAME=VALUE or the SKIFF_SECRET_<NAME> "
          "environment variable\n"
          "error: task.json: containerDefinitions[0].secrets[0].name: \"K\" is also an environment "
          "variable\n");
}

static void
test_fargate_table (void **state)
{
  static const char *ok[][2]
      = { { "256", "512" },    { "256", "2048" },   { "512", "4096" },    { "1024", "8192" },
          { "4096", "30720" }, { "8192", "20480" }, { "16384", "122880" } };
  for (size_t i = 0; i < SK_ARRAY_SIZE (ok); i++)
    {
      _cleanup_free_ char *json = xasprintf (
          "{\"family\":\"f\",\"requiresCompatibilities\":[\"FARGATE\"],\"networkMode\":"
          "\"awsvpc\",\"cpu\":\"%s\",\"memory\":\"%s\",\"containerDefinitions\":[{\"name\":\"a\","
          "\"image\":\"x\"}]}",
          ok[i][0], ok[i][1]);
      expect (json, "");
    }
  expect (
      "{\"family\":\"f\",\"requiresCompatibilities\":[\"EC2\",\"FARGATE\"],\"containerDefinitions\""
      ":[{\"name\":\"a\",\"image\":\"x\",\"memory\":512}]}",
      "error: task.json: Fargate needs networkMode \"awsvpc\"\n"
      "error: task.json: Fargate needs a task-level \"cpu\"\n"
      "error: task.json: Fargate needs a task-level \"memory\"\n");
  expect ("{\"family\":\"f\",\"requiresCompatibilities\":[\"FARGATE\"],\"networkMode\":\"awsvpc\","
          "\"cpu\":\"3 vCPU\",\"memory\":\"8 GB\",\"containerDefinitions\":[{\"name\":\"a\","
          "\"image\":\"x\"}]}",
          "error: task.json: cpu: Fargate has no task size with 3072 CPU units (valid: 256, 512, "
          "1024, 2048, 4096, 8192, 16384)\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_memory_rules),  cmocka_unit_test (test_network_rules),
    cmocka_unit_test (test_volume_rules),  cmocka_unit_test (test_secrets_and_env),
    cmocka_unit_test (test_fargate_table),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
