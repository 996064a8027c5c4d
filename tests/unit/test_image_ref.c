/* Image references as Docker parses them, transports, manifests, indexes,
 * platform choice and the image config. Pure: no I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "image.h"
#include "image_manifest.h"
#include "image_ref.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
expect_ref (const char *text, const char *domain, const char *path, const char *tag,
            const char *digest)
{
  struct sk_image_ref r;
  sk_err_t err = NULL;

  if (sk_image_ref_parse (text, &r, &err) < 0)
    fail_msg ("%s: %s", text, err->msg);
  assert_string_equal (r.domain, domain);
  assert_string_equal (r.path, path);
  if (tag == NULL)
    assert_null (r.tag);
  else
    assert_string_equal (r.tag, tag);
  if (digest == NULL)
    assert_null (r.digest);
  else
    assert_string_equal (r.digest, digest);
  sk_image_ref_clear (&r);
}

static void
expect_bad (const char *text, const char *fragment)
{
  struct sk_image_ref r;
  sk_err_t err = NULL;

  if (sk_image_ref_parse (text, &r, &err) == 0)
    fail_msg ("`%s` was accepted", text);
  if (strstr (err->msg, fragment) == NULL)
    fail_msg ("`%s`: message `%s` lacks `%s`", text, err->msg, fragment);
  sk_err_free (&err);
}

static void
test_docker_defaults (void **state)
{
  (void)state;
  expect_ref ("nginx", "docker.io", "library/nginx", "latest", NULL);
  expect_ref ("nginx:1.27", "docker.io", "library/nginx", "1.27", NULL);
  expect_ref ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", NULL);
  expect_ref ("docker.io/nginx", "docker.io", "library/nginx", "latest", NULL);
  expect_ref ("index.docker.io/library/nginx", "docker.io", "library/nginx", "latest", NULL);
  expect_ref ("nginx@sha256:" D64, "docker.io", "library/nginx", NULL, "sha256:" D64);
  expect_ref ("nginx:1.27@sha256:" D64, "docker.io", "library/nginx", "1.27", "sha256:" D64);
}

static void
test_registries (void **state)
{
  (void)state;
  expect_ref ("public.ecr.aws/nginx/nginx:stable", "public.ecr.aws", "nginx/nginx", "stable", NULL);
  expect_ref ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
              "123456789012.dkr.ecr.us-east-1.amazonaws.com", "app", "v1", NULL);
  expect_ref ("localhost/app", "localhost", "app", "latest", NULL);
  expect_ref ("localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", NULL);
  expect_ref ("127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", NULL);
  expect_ref ("[::1]:5000/x:y", "[::1]:5000", "x", "y", NULL);
  /* A port-less first component without '.' is a path, as in Docker. */
  expect_ref ("myorg/app", "docker.io", "myorg/app", "latest", NULL);
  expect_ref ("Registry/app", "Registry", "app", "latest", NULL);
  expect_ref ("a.b/c__d-e.f/g---h:tag_1.2-3", "a.b", "c__d-e.f/g---h", "tag_1.2-3", NULL);
}

static void
test_invalid (void **state)
{
  (void)state;
  expect_bad ("", "empty");
  expect_bad ("NGINX", "lowercase");
  expect_bad ("docker.io/Library/nginx", "lowercase");
  expect_bad ("nginx:", "invalid tag");
  expect_bad ("nginx:-x", "invalid tag");
  expect_bad ("nginx@sha256:abc", "invalid digest");
  expect_bad ("nginx@md5:" D64, "invalid digest");
  expect_bad ("a//b", "invalid repository name");
  expect_bad ("a_/b", "invalid repository name");
  expect_bad ("a___b", "invalid repository name");
  expect_bad ("host:port/x", "invalid registry host");
  expect_bad ("-bad.host/x", "invalid registry host");
}

static void
test_format_and_transports (void **state)
{
  struct sk_image_ref r;
  sk_err_t err = NULL;
  const char *rest;
  char *s, *path, *tag;

  (void)state;
  assert_int_equal (sk_image_ref_parse ("nginx", &r, &err), 0);
  s = sk_image_ref_format (&r);
  assert_string_equal (s, "docker.io/library/nginx:latest");
  assert_string_equal (sk_image_ref_api_host (&r), "registry-1.docker.io");
  free (s);
  sk_image_ref_clear (&r);

  assert_int_equal (sk_transport_of ("dir:/x", &rest), SK_TRANSPORT_DIR);
  assert_string_equal (rest, "/x");
  assert_int_equal (sk_transport_of ("oci:/l:t", &rest), SK_TRANSPORT_OCI);
  assert_int_equal (sk_transport_of ("docker-archive:a.tar", &rest), SK_TRANSPORT_DOCKER_ARCHIVE);
  assert_int_equal (sk_transport_of ("docker://nginx", &rest), SK_TRANSPORT_REGISTRY);
  assert_string_equal (rest, "nginx");
  assert_int_equal (sk_transport_of ("localhost:5000/x", &rest), SK_TRANSPORT_REGISTRY);

  sk_oci_ref_split ("/a/layout:v1", &path, &tag);
  assert_string_equal (path, "/a/layout");
  assert_string_equal (tag, "v1");
  free (path);
  free (tag);
  sk_oci_ref_split ("/a:b/layout", &path, &tag);
  assert_string_equal (path, "/a:b/layout");
  assert_null (tag);
  free (path);
  free (tag);
}

static const char index_doc[]
    = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
      "\"manifests\":["
      "{\"digest\":\"sha256:" D64 "\",\"size\":10,\"platform\":{\"os\":\"linux\","
      "\"architecture\":\"arm\",\"variant\":\"v6\"}},"
      "{\"digest\":\"sha256:1" D64 "\",\"size\":10}]}";

static void
test_index_and_platforms (void **state)
{
  static const char good[]
      = "{\"manifests\":["
        "{\"digest\":\"sha256:" D64 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"digest\":\"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"digest\":\"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
        "\"size\":3,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}}]}";
  struct sk_index idx;
  const struct sk_descriptor *pick;
  sk_err_t err = NULL;

  (void)state;
  assert_true (sk_manifest_is_index (good, strlen (good), NULL));
  assert_int_equal (sk_index_parse (good, strlen (good), &idx, &err), 0);
  assert_int_equal (sk_index_select (&idx, "amd64", NULL, &pick, &err), 0);
  assert_int_equal (pick->size, 2);
  assert_int_equal (sk_index_select (&idx, "arm64", "v8", &pick, &err), 0);
  assert_int_equal (pick->size, 1);
  assert_int_equal (sk_index_select (&idx, "s390x", NULL, &pick, &err), -1);
  assert_non_null (strstr (err->msg, "linux/arm64/v8, linux/amd64, windows/amd64"));
  sk_err_free (&err);
  sk_index_clear (&idx);
  assert_string_equal (sk_ecs_arch_to_oci ("X86_64"), "amd64");
  assert_string_equal (sk_ecs_arch_to_oci ("ARM64"), "arm64");

  /* A digest that is not sha256:<64 hex> refuses the whole index. */
  assert_int_equal (sk_index_parse (index_doc, strlen (index_doc), &idx, &err), -1);
  assert_non_null (strstr (err->msg, "manifests[1]"));
  sk_err_free (&err);
}

static void
test_manifest_and_config (void **state)
{
  static const char manifest[]
      = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+"
        "json\",\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:" D64 "\",\"size\":7},"
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
        "\"digest\":\"sha256:" D64 "\",\"size\":99}]}";
  static const char schema1[] = "{\"schemaVersion\":1,\"fsLayers\":[]}";
  static const char config[]
      = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Entrypoint\":[\"/e\"],"
        "\"Cmd\":[\"a\",\"b\"],\"Env\":[\"A=1\"],\"WorkingDir\":\"\",\"User\":\"app\","
        "\"StopSignal\":\"SIGQUIT\",\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}}}";
  struct sk_manifest m;
  struct sk_image_config c;
  sk_err_t err = NULL;

  (void)state;
  assert_false (sk_manifest_is_index (manifest, strlen (manifest), NULL));
  assert_int_equal (sk_manifest_parse (manifest, strlen (manifest), &m, &err), 0);
  assert_int_equal (m.n_layers, 1);
  assert_int_equal (m.layers[0].size, 99);
  sk_manifest_clear (&m);
  assert_int_equal (sk_manifest_parse (schema1, strlen (schema1), &m, &err), -1);
  assert_non_null (strstr (err->msg, "schema 1"));
  sk_err_free (&err);

  assert_int_equal (sk_image_config_parse (config, strlen (config), &c, &err), 0);
  assert_string_equal (c.entrypoint[0], "/e");
  assert_string_equal (c.cmd[1], "b");
  assert_string_equal (c.env[0], "A=1");
  assert_null (c.working_dir); /* "" means unset */
  assert_string_equal (c.user, "app");
  assert_string_equal (c.healthcheck[1], "true");
  assert_int_equal (sk_image_stop_signal (c.stop_signal), SIGQUIT);
  sk_image_config_clear (&c);
  assert_int_equal (sk_image_stop_signal ("QUIT"), SIGQUIT);
  assert_int_equal (sk_image_stop_signal ("9"), 9);
  assert_int_equal (sk_image_stop_signal ("SIGNOPE"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_docker_defaults),
    cmocka_unit_test (test_registries),
    cmocka_unit_test (test_invalid),
    cmocka_unit_test (test_format_and_transports),
    cmocka_unit_test (test_index_and_platforms),
    cmocka_unit_test (test_manifest_and_config),
  };
  return cmocka_run_group_tests_name ("image_ref", tests, NULL, NULL);
}
