/* skiff run: run a task definition in the foreground. */
#include "cli.h"
#include "error.h"
#include "image_pull.h"
#include "run.h"
#include "spec.h"
#include "task_userns.h"
#include "userns.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
run_help (FILE *out)
{
  fprintf (
      out,
      "Usage: skiff run [OPTIONS] FILE [-- COMMAND [ARG...]]\n"
      "\n"
      "Run the task definition FILE in the foreground. Container output goes to this\n"
      "terminal; skiff exits with the essential container's exit code.\n"
      "\n"
      "Options:\n"
      "  -e, --env KEY=VALUE      set an environment variable (last wins; repeatable)\n"
      "      --secret NAME=VALUE  value of the task's secret NAME (else $SKIFF_SECRET_NAME)\n"
      "  -c, --container NAME     the container `-- COMMAND` replaces the command of\n"
      "                           (default: the only container)\n"
      "      --timeout DURATION   stop the task after DURATION (e.g. 90s, 5m, 1h30m);\n"
      "                           exit code 124\n"
      "      --pids-limit N       maximum processes per container (default 4096)\n"
      "      --init               run skiff's init as pid 1 (initProcessEnabled)\n"
      "      --userns             run the task in its own user namespace: container\n"
      "                           ids 0-65535 are host ids from /etc/subuid, else\n"
      "                           100000-165535 (also SKIFF_USERNS=1)\n"
      "      --userns-base N      with --userns: host id of the container's root\n"
      "      --retry N            run the task again up to N times when it fails\n"
      "      --retry-on RULE      Batch evaluateOnExit rule, e.g. 'exitCode=1*:RETRY',\n"
      "                           'reason=OutOfMemory*:EXIT' (repeatable, first match wins;\n"
      "                           no match retries)\n"
      "      --prefix, --no-prefix  prefix each output line with `name | ` (default:\n"
      "                           only when the task has several containers)\n"
      "  -q, --quiet              no supervisor event lines on stderr\n"
      "      --events-file FILE   append every supervisor decision as JSON lines\n"
      "      --result-file FILE   write the stopped task (stopCode, reason, exit code) as JSON\n"
      "      --allow-unknown-keys unknown task definition keys are warnings, not errors\n"
      "      --pull POLICY        registry images: missing (default), always or never\n"
      "      --insecure-registry HOST  plain HTTP for the registry HOST[:PORT]\n"
      "  -d, --detach             run in the background; print the task id and exit\n"
      "                           (then: skiff ps, logs, stop, wait, ...; docs/cli.md)\n"
      "      --name NAME          a name for the detached task, usable as its id\n"
      "  -h, --help               this text\n"
      "\n"
      "Ctrl-C or SIGTERM stops the task: SIGTERM to each container, SIGKILL to its cgroup\n"
      "after its stopTimeout (default 30 s); a second Ctrl-C kills at once.\n"
      "A container with pseudoTerminal runs on a terminal of its own (docker -t) whose\n"
      "size follows this one's; with interactive too (docker -it) this terminal is raw\n"
      "while it runs, so Ctrl-C goes to the container, which decides.\n"
      "Exit codes: the container's, 128+n if signal n killed it, 124 timeout, 125 skiff\n"
      "could not set up the task, 126 cannot execute, 127 command not found,\n"
      "130/143 stopped by SIGINT/SIGTERM.\n");
}

/* "90", "90s", "1500ms", "5m", "1h30m" -> milliseconds. */
static int
parse_duration_ms (const char *text, uint64_t *out)
{
  const char *p = text;
  uint64_t total = 0;

  if (*p == '\0')
    return -1;
  while (*p != '\0')
    {
      char *end;
      unsigned long long n;
      uint64_t unit;

      if (!isdigit ((unsigned char)*p))
        return -1;
      errno = 0;
      n = strtoull (p, &end, 10);
      if (errno != 0 || n > 1000000000ULL)
        return -1;
      p = end;
      if (strncmp (p, "ms", 2) == 0)
        unit = 1, p += 2;
      else if (*p == 's' || *p == '\0')
        unit = 1000, p += (*p == 's');
      else if (*p == 'm')
        unit = 60000, p++;
      else if (*p == 'h')
        unit = 3600000, p++;
      else
        return -1;
      total += n * unit;
    }
  if (total == 0)
    return -1;
  *out = total;
  return 0;
}

static void
push (char ***list, size_t *n, const char *value)
{
  *list = xreallocarray (*list, *n + 2, sizeof **list);
  (*list)[(*n)++] = (char *)value;
  (*list)[*n] = NULL;
}

int
cmd_run (struct sk_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "env", required_argument, NULL, 'e' },
    { "secret", required_argument, NULL, 'S' },
    { "container", required_argument, NULL, 'c' },
    { "timeout", required_argument, NULL, 'T' },
    { "pids-limit", required_argument, NULL, 'P' },
    { "init", no_argument, NULL, 'I' },
    { "userns", no_argument, NULL, 0x101 },
    { "userns-base", required_argument, NULL, 0x102 },
    { "allow-unknown-keys", no_argument, NULL, 'U' },
    { "retry", required_argument, NULL, 'R' },
    { "retry-on", required_argument, NULL, 'O' },
    { "no-prefix", no_argument, NULL, 'N' },
    { "prefix", no_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "events-file", required_argument, NULL, 'E' },
    { "result-file", required_argument, NULL, 'F' },
    { "pull", required_argument, NULL, 'L' },
    { "insecure-registry", required_argument, NULL, 'K' },
    { "detach", no_argument, NULL, 'd' },
    { "name", required_argument, NULL, 'n' },
    { "__task", required_argument, NULL, 0x100 }, /* the supervisor of a detached task */
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct sk_run_request req;
  struct sk_load_opts load = { 0 };
  struct sk_diags diags = { 0 };
  _cleanup_free_ char **env = NULL;
  _cleanup_free_ char **secrets = NULL;
  sk_err_t err = NULL;
  const char *file;
  bool detach = false;
  const char *name = NULL;
  const char *detached_id = NULL;
  _cleanup_free_ char *spec_path = NULL;
  int c, code = SK_EXIT_SKIFF;

  memset (&req, 0, sizeof req);
  req.root = g->root;
  req.overrides.userns = sk_userns_env_enabled ();
  while ((c = getopt_long (argc, argv, "+:e:c:qdh", opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'e':
          if (strchr (optarg, '=') == NULL || optarg[0] == '=')
            return sk_usage_error ("run", "--env expects KEY=VALUE, got '%s'", optarg);
          push (&env, &req.overrides.n_env, optarg);
          break;
        case 'S':
          if (strchr (optarg, '=') == NULL || optarg[0] == '=')
            return sk_usage_error ("run", "--secret expects NAME=VALUE");
          push (&secrets, &req.overrides.n_secrets, optarg);
          break;
        case 'c':
          req.overrides.command_container = optarg;
          break;
        case 'L':
          {
            enum sk_pull_policy policy;
            if (sk_pull_policy_parse (optarg, &policy) < 0)
              return sk_usage_error ("run", "--pull expects always, missing or never, got '%s'",
                                     optarg);
            req.overrides.pull_policy = (int)policy;
            break;
          }
        case 'K':
          sk_insecure_registry_add (optarg);
          break;
        case 'T':
          if (parse_duration_ms (optarg, &req.timeout_ms) < 0)
            return sk_usage_error (
                "run", "--timeout expects a duration such as 30s, 5m or 1h30m, got '%s'", optarg);
          break;
        case 'P':
          {
            char *end;
            errno = 0;
            long long n = strtoll (optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > 4194304)
              return sk_usage_error (
                  "run", "--pids-limit expects a number from 1 to 4194304, got '%s'", optarg);
            req.overrides.pids_limit = n;
            break;
          }
        case 'I':
          req.overrides.init = true;
          break;
        case 0x101:
          req.overrides.userns = true;
          break;
        case 0x102:
          {
            char *end;
            errno = 0;
            long long n = strtoll (optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > (long long)(UINT32_MAX - SK_USERNS_SIZE))
              return sk_usage_error ("run",
                                     "--userns-base expects a host id from 1 to %lu, got '%s'",
                                     (unsigned long)(UINT32_MAX - SK_USERNS_SIZE), optarg);
            req.overrides.userns_base = n;
            req.overrides.userns = true;
            break;
          }
        case 'U':
          load.unknown_keys_are_warnings = true;
          break;
        case 'R':
          if (sk_retry_count_parse (optarg, &req.retry, &err) < 0)
            {
              _cleanup_free_ char *text = sk_err_text (&err);
              sk_err_free (&err);
              return sk_usage_error ("run", "--retry: %s", text);
            }
          break;
        case 'O':
          if (sk_retry_strategy_add_rule (&req.retry, optarg, &err) < 0)
            {
              _cleanup_free_ char *text = sk_err_text (&err);
              sk_err_free (&err);
              return sk_usage_error ("run", "--retry-on: %s", text);
            }
          break;
        case 'N':
          req.prefix = -1;
          break;
        case 'p':
          req.prefix = 1;
          break;
        case 'q':
          req.quiet = true;
          break;
        case 'E':
          req.events_file = optarg;
          break;
        case 'd':
          detach = true;
          break;
        case 'n':
          name = optarg;
          break;
        case 0x100:
          detached_id = optarg;
          break;
        case 'F':
          req.result_file = optarg;
          break;
        case 'h':
          run_help (stdout);
          return SK_EXIT_OK;
        case ':':
          return sk_usage_error ("run", "option '%s' needs an argument", argv[optind - 1]);
        default:
          return sk_usage_error ("run", "unknown option '%s'", argv[optind - 1]);
        }
    }
  if (optind >= argc)
    return sk_usage_error ("run", "missing the task definition FILE");
  file = argv[optind++];
  if (detached_id != NULL)
    file = spec_path = sk_detached_spec_path (g, detached_id);
  if (optind < argc)
    {
      if (strcmp (argv[optind - 1], "--") != 0 && strcmp (argv[optind], "--") == 0)
        optind++;
      if (optind < argc)
        req.overrides.command = &argv[optind];
    }
  req.overrides.env = env;
  req.overrides.secrets = secrets;

  if (sk_task_load_file (file, &load, &req.task, &diags, &err) < 0)
    {
      sk_diags_print (&diags, stderr);
      sk_err_print (&err);
      sk_err_free (&err);
      sk_diags_clear (&diags);
      return SK_EXIT_SKIFF;
    }
  sk_diags_print (&diags, stderr);
  sk_diags_clear (&diags);

  if (req.overrides.command_container != NULL
      && sk_task_find_container (req.task, req.overrides.command_container) == NULL)
    {
      sk_task_free (req.task);
      return sk_usage_error ("run", "--container: the task has no container '%s'",
                             req.overrides.command_container);
    }
  if (req.overrides.command != NULL && req.overrides.command_container == NULL
      && req.task->n_containers != 1)
    {
      sk_task_free (req.task);
      return sk_usage_error ("run", "the task has several containers: say which one the command "
                                    "replaces with --container NAME");
    }

  if (detached_id != NULL)
    {
      code = sk_supervise_detached (g, detached_id, &req);
      sk_task_free (req.task);
      return code;
    }
  if (detach)
    {
      code = sk_run_detach (g, argc, argv, name, &req);
      sk_task_free (req.task);
      return code;
    }
  if (name != NULL)
    {
      sk_task_free (req.task);
      return sk_usage_error ("run", "--name is for detached tasks (-d)");
    }
  if (sk_run_task (&req, &code, &err) < 0)
    {
      code = err != NULL && err->exitcode != 0 ? err->exitcode : SK_EXIT_SKIFF;
      sk_err_print (&err);
      sk_err_free (&err);
    }
  sk_task_free (req.task);
  return code;
}
