// config_test.c — unit tests of config.yaml loading (client/core/config.c).
//
// Each test writes the YAML it needs to a temporary file (mkstemps in
// $TMPDIR) and removes it again. The shipped sample, etc/config.yaml, is
// found from this source file's own path (__FILE__, which CMake makes
// absolute), so that no test depends on the working directory. Every test
// starts and ends with no SJE_* variable in the environment.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sje/client.h>

#include "config.h"

extern char **environ;

// Helpers. -------------------------------------------------------------------

// clear_sje_env unsets every SJE_* variable, so that the developer's own
// environment cannot change what the tests see.
static void
clear_sje_env(void)
{
	for (;;) {
		char  name[256];
		char *found = NULL;

		for (char **e = environ; *e != NULL; e++) {
			if (strncmp(*e, "SJE_", 4) == 0) {
				found = *e;
				break;
			}
		}
		if (found == NULL) {
			return;
		}
		size_t len = strcspn(found, "=");
		assert_true(len < sizeof name);
		memcpy(name, found, len);
		name[len] = '\0';
		assert_int_equal(unsetenv(name), 0);
	}
}

static int
env_setup(void **state)
{
	(void) state;
	clear_sje_env();
	return 0;
}

static int
env_teardown(void **state)
{
	(void) state;
	clear_sje_env();
	return 0;
}

// write_temp writes text to a new temporary file; the caller frees the
// returned path and removes the file.
static char *
write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char       *path;
	int         fd;
	size_t      len = strlen(text);

	if (dir == NULL || dir[0] == '\0') {
		dir = "/tmp";
	}
	path = malloc(strlen(dir) + 64);
	assert_non_null(path);
	sprintf(path, "%s/sje-config-test-XXXXXX.yaml", dir);
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t) len);
	assert_int_equal(close(fd), 0);
	return path;
}

// load_text loads text as a config file.
static sje_err
load_text(const char *text, sje_config **cfg, char *err, size_t errlen)
{
	char   *path = write_temp(text);
	sje_err rv   = sje_config_load(path, cfg, err, errlen);

	unlink(path);
	free(path);
	return rv;
}

// expect_error loads text and checks that it fails with SJE_ECONFIG and an
// error line holding want.
static void
expect_error(const char *text, const char *want)
{
	sje_config *cfg      = NULL;
	char        err[512] = "";
	sje_err     rv       = load_text(text, &cfg, err, sizeof err);

	if (rv == SJE_OK) {
		sje_config_free(cfg);
		fail_msg("loaded, but expected an error with \"%s\"", want);
	}
	assert_int_equal(rv, SJE_ECONFIG);
	assert_null(cfg);
	if (strstr(err, want) == NULL) {
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	}
	assert_null(strchr(err, '\n'));
}

// expect_env_error loads no file with the environment as set, and checks
// that it fails with an error line holding want.
static void
expect_env_error(const char *want)
{
	sje_config *cfg      = NULL;
	char        err[512] = "";

	assert_int_equal(
	    sje_config_load(NULL, &cfg, err, sizeof err), SJE_ECONFIG);
	assert_null(cfg);
	if (strstr(err, want) == NULL) {
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	}
}

// sample_path gives the path of etc/config.yaml in the source tree, found
// from this file's path; the caller frees it.
static char *
sample_path(void)
{
	const char *self = __FILE__;
	const char *tail = strstr(self, "tests/unit/config_test.c");
	size_t      dirlen;
	char       *path;

	assert_non_null(tail);
	dirlen = (size_t) (tail - self);
	path   = malloc(dirlen + sizeof "etc/config.yaml");
	assert_non_null(path);
	memcpy(path, self, dirlen);
	strcpy(path + dirlen, "etc/config.yaml");
	return path;
}

static bool
strlist_is(const sje_strlist *l, size_t n, const char *const *items)
{
	if (l->n != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(l->items[i], items[i]) != 0) {
			return false;
		}
	}
	return true;
}

// check_defaults checks every key that has a default.
static void
check_defaults(const sje_config *cfg)
{
	assert_string_equal(cfg->server.rpc_url, "tcp://127.0.0.1:7100");
	assert_string_equal(cfg->server.events_url, "tcp://127.0.0.1:7101");
	assert_string_equal(cfg->server.data_dir, "./sje-data");
	assert_int_equal(cfg->server.sync, SJE_SYNC_NORMAL);
	assert_int_equal(cfg->server.result_ttl_s, 604800);

	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_int_equal(cfg->http.max_body_bytes, 1048576);
	assert_true(cfg->http.dashboard);

	assert_string_equal(cfg->worker.server_url, "tcp://127.0.0.1:7100");
	assert_string_equal(cfg->worker.events_url, "tcp://127.0.0.1:7101");
	assert_string_equal(cfg->worker.name, "");
	assert_int_equal(cfg->worker.slots, 0);
	assert_int_equal(cfg->worker.n_labels, 0);

	assert_string_equal(cfg->client.server_url, "tcp://127.0.0.1:7100");
	assert_string_equal(cfg->client.events_url, "tcp://127.0.0.1:7101");

	assert_int_equal(cfg->executor.worker_nodes.n, 0);
	assert_int_equal(cfg->executor.max_concurrency, 4);
	assert_int_equal(cfg->executor.lease_s, 30);

	assert_int_equal(cfg->tasks.timeout_s, 300);
	assert_int_equal(cfg->tasks.retry.max_attempts, 3);
	assert_string_equal(cfg->tasks.retry.backoff, "exponential");
	assert_int_equal(cfg->tasks.retry.initial_delay_ms, 1000);
	assert_int_equal(cfg->tasks.retry.max_delay_ms, 60000);
	assert_int_equal(cfg->tasks.n_functions, 0);
	assert_int_equal(cfg->n_workflows, 0);

	assert_int_equal(cfg->n_plugins, 1);
	assert_string_equal(cfg->plugins[0].name, "core");
	assert_true(cfg->plugins[0].enabled);
	assert_null(cfg->plugins[0].path);
	assert_string_equal(cfg->plugins[0].options_json, "{}");

	assert_string_equal(cfg->security.tls.ca, "");
	assert_string_equal(cfg->security.tls.cert, "");
	assert_string_equal(cfg->security.tls.key, "");
	assert_true(cfg->security.tls.require_client_cert);
	assert_string_equal(cfg->security.tls.server_name, "");
	assert_int_equal(cfg->security.auth.n_api_keys, 0);
	assert_string_equal(cfg->security.auth.oauth.issuer, "");
	assert_string_equal(cfg->security.auth.oauth.audience, "");
	assert_string_equal(cfg->security.auth.oauth.hs256_secret_env, "");
	assert_string_equal(cfg->security.auth.oauth.rs256_public_key, "");

	assert_string_equal(cfg->logging.level, "info");
	assert_string_equal(cfg->logging.format, "text");
	assert_string_equal(cfg->logging.destination, "stderr");

	assert_true(cfg->monitoring.metrics);
	assert_int_equal(cfg->monitoring.n_alerts, 0);
}

// Where the file comes from. -------------------------------------------------

static void
test_config_without_file_gives_defaults(void **state)
{
	sje_config *cfg = NULL;
	char        err[256];

	(void) state;
	assert_int_equal(sje_config_load(NULL, &cfg, err, sizeof err), SJE_OK);
	assert_null(cfg->source);
	check_defaults(cfg);
	sje_config_free(cfg);
}

static void
test_config_with_empty_sje_config_gives_defaults(void **state)
{
	sje_config *cfg = NULL;
	char        err[256];

	(void) state;
	setenv("SJE_CONFIG", "", 1);
	assert_int_equal(sje_config_load(NULL, &cfg, err, sizeof err), SJE_OK);
	assert_null(cfg->source);
	check_defaults(cfg);
	sje_config_free(cfg);
}

static void
test_config_reads_the_file_named_by_sje_config(void **state)
{
	char       *path = write_temp("server:\n  sync: full\n");
	sje_config *cfg  = NULL;
	char        err[256];

	(void) state;
	setenv("SJE_CONFIG", path, 1);
	assert_int_equal(sje_config_load(NULL, &cfg, err, sizeof err), SJE_OK);
	assert_string_equal(cfg->source, path);
	assert_int_equal(cfg->server.sync, SJE_SYNC_FULL);
	sje_config_free(cfg);
	unlink(path);
	free(path);
}

static void
test_config_path_argument_wins_over_sje_config(void **state)
{
	char       *path = write_temp("logging:\n  level: debug\n");
	sje_config *cfg  = NULL;
	char        err[256];

	(void) state;
	setenv("SJE_CONFIG", "/nonexistent/sje.yaml", 1);
	assert_int_equal(sje_config_load(path, &cfg, err, sizeof err), SJE_OK);
	assert_string_equal(cfg->logging.level, "debug");
	sje_config_free(cfg);
	unlink(path);
	free(path);
}

static void
test_config_missing_file_error_names_the_path(void **state)
{
	sje_config *cfg = NULL;
	char        err[256];

	(void) state;
	assert_int_equal(sje_config_load("/nonexistent/dir/sje.yaml", &cfg,
	                     err, sizeof err),
	    SJE_ECONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err, "/nonexistent/dir/sje.yaml: cannot open"));
}

static void
test_config_empty_or_comment_only_file_gives_defaults(void **state)
{
	const char *texts[] = { "", "# nothing here\n\n   # nor here\n",
		"---\n", "server:\n", "server:\n  # all commented out\n" };
	(void) state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		sje_config *cfg      = NULL;
		char        err[256] = "";

		if (load_text(texts[i], &cfg, err, sizeof err) != SJE_OK) {
			fail_msg("text %zu: %s", i, err);
		}
		check_defaults(cfg);
		sje_config_free(cfg);
	}
}

static void
test_config_loads_the_sample_file(void **state)
{
	char                    *path     = sample_path();
	sje_config              *cfg      = NULL;
	char                     err[512] = "";
	const sje_function_cfg  *fn;
	static const char *const argv[]   = { "/opt/sje/tasks/resize",
		  "--quality", "85" };
	static const char *const scopes[] = { "submit", "read", "cancel" };

	(void) state;
	if (sje_config_load(path, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->source, path);
	assert_string_equal(cfg->server.rpc_url, "tcp://127.0.0.1:7100");
	assert_int_equal(cfg->server.result_ttl_s, 604800);
	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	assert_int_equal(cfg->worker.n_labels, 2);
	assert_string_equal(cfg->worker.labels[0].key, "zone");
	assert_string_equal(cfg->worker.labels[0].value, "local");

	fn = sje_config_function(cfg, "resize_image");
	assert_non_null(fn);
	assert_true(strlist_is(&fn->command, 3, argv));
	assert_int_equal(fn->timeout_s, 120);
	assert_true(fn->has_retry);
	assert_int_equal(fn->retry.max_attempts, 5);
	assert_string_equal(fn->retry.backoff, "fixed");
	assert_int_equal(fn->retry.max_delay_ms, 60000);
	fn = sje_config_function(cfg, "calculate_data");
	assert_non_null(fn);
	assert_false(fn->has_retry);
	assert_int_equal(fn->command.n, 0);

	assert_int_equal(cfg->n_workflows, 1);
	assert_string_equal(cfg->workflows[0].name, "nightly_etl");
	assert_int_equal(cfg->workflows[0].n_steps, 3);
	assert_string_equal(cfg->workflows[0].steps[0].params_json,
	    "{\"source\":\"s3://bucket/in\",\"days\":1}");
	assert_null(cfg->workflows[0].steps[1].params_json);
	assert_string_equal(
	    cfg->workflows[0].steps[2].after.items[0], "transform");

	assert_int_equal(cfg->n_plugins, 4);
	assert_string_equal(cfg->plugins[0].name, "core");
	assert_false(cfg->plugins[2].enabled);
	assert_string_equal(cfg->plugins[2].options_json,
	    "{\"path\":\"./sje-data/events.jsonl\"}");
	assert_false(cfg->plugins[3].enabled);
	assert_null(cfg->plugins[3].path);
	assert_string_equal(cfg->plugins[3].options_json,
	    "{\"url\":\"https://ops.example/hook\",\"on\":[\"FAILED\"],"
	    "\"timeout_ms\":5000}");

	assert_int_equal(cfg->security.auth.n_api_keys, 1);
	assert_string_equal(cfg->security.auth.api_keys[0].name, "web");
	assert_int_equal(strlen(cfg->security.auth.api_keys[0].sha256), 64);
	assert_true(
	    strlist_is(&cfg->security.auth.api_keys[0].scopes, 3, scopes));
	assert_int_equal(cfg->monitoring.n_alerts, 2);
	assert_string_equal(
	    cfg->monitoring.alerts[0].when, "queue_depth > 10000");
	assert_string_equal(cfg->monitoring.alerts[0].notify, "log");
	assert_int_equal(cfg->monitoring.alerts[1].for_s, 60);
	assert_int_equal(cfg->monitoring.check_interval_s, 15);
	assert_int_equal(cfg->monitoring.window_s, 300);
	sje_config_free(cfg);
	free(path);
}

// Errors in the file. --------------------------------------------------------

static void
test_config_unknown_key_error_names_line_and_key(void **state)
{
	(void) state;
	expect_error("server:\n  sync: full\n  foo: 1\n",
	    ":3: server.foo: unknown key");
	expect_error(
	    "# top\nservers:\n  sync: full\n", ":2: servers: unknown key");
	expect_error("tasks:\n  functions:\n    f:\n      timeout: 5\n",
	    ":4: tasks.functions.f.timeout: unknown key");
}

static void
test_config_wrong_type_error_names_line_and_key(void **state)
{
	(void) state;
	expect_error("executor:\n\n  lease_s: abc\n",
	    ":3: executor.lease_s: expected a non-negative integer, "
	    "got 'abc'");
	expect_error("monitoring:\n  metrics: yes\n",
	    ":2: monitoring.metrics: expected true or false, got 'yes'");
	expect_error("server: tcp://x:1\n",
	    ":1: server: expected a mapping, got 'tcp://x:1'");
	expect_error("executor:\n  worker_nodes: a,b\n",
	    ":2: executor.worker_nodes: expected a list of strings, "
	    "got 'a,b'");
	expect_error("http:\n  listen: [a]\n",
	    ":2: http.listen: expected host:port, got a list");
	expect_error("tasks:\n  functions:\n    f:\n      command: /bin/x\n",
	    ":4: tasks.functions.f.command: expected a list of strings");
}

static void
test_config_bad_enum_value_is_refused(void **state)
{
	(void) state;
	expect_error("server:\n  sync: fast\n",
	    ":2: server.sync: expected normal or full, got 'fast'");
	expect_error("logging:\n  level: verbose\n",
	    ":2: logging.level: expected error, warn, info or debug, "
	    "got 'verbose'");
	expect_error("logging:\n  format: xml\n",
	    ":2: logging.format: expected text or json, got 'xml'");
	expect_error("tasks:\n  defaults:\n    retry: {backoff: linear}\n",
	    ":3: tasks.defaults.retry.backoff: expected exponential or "
	    "fixed, got 'linear'");
}

static void
test_config_integer_out_of_range_is_refused(void **state)
{
	(void) state;
	expect_error("server:\n  result_ttl_s: 4294967296\n",
	    ":2: server.result_ttl_s: expected an integer <= 4294967295");
	expect_error("server:\n  result_ttl_s: -1\n",
	    ":2: server.result_ttl_s: expected a non-negative integer");
	expect_error("executor:\n  lease_s: 0\n",
	    ":2: executor.lease_s: expected an integer >= 1, got '0'");
	expect_error("executor:\n  max_concurrency: 0\n",
	    ":2: executor.max_concurrency: expected an integer >= 1");
	expect_error(
	    "tasks:\n  defaults:\n    retry:\n      max_attempts: 0\n",
	    ":4: tasks.defaults.retry.max_attempts: expected an integer >= 1");

	sje_config *cfg      = NULL;
	char        err[256] = "";
	if (load_text("server:\n  result_ttl_s: 4294967295\n", &cfg, err,
	        sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->server.result_ttl_s, UINT32_MAX);
	sje_config_free(cfg);
}

static void
test_config_bad_url_and_listen_address_are_refused(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	expect_error("server:\n  rpc_url: http://127.0.0.1:7100\n",
	    ":2: server.rpc_url: expected a URL");
	expect_error("client:\n  server_url: tcp://127.0.0.1\n",
	    ":2: client.server_url: expected a URL");
	expect_error("http:\n  listen: 8080\n",
	    ":2: http.listen: expected host:port, got '8080'");
	expect_error("http:\n  listen: \"localhost:99999\"\n",
	    ":2: http.listen: expected host:port");

	if (load_text("server:\n  rpc_url: tls+tcp://0.0.0.0:7100\n"
	              "  events_url: ipc:///tmp/sje-events\n"
	              "worker:\n  server_url: inproc://sje\n"
	              "http:\n  listen: \"[::1]:0\"\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->server.rpc_url, "tls+tcp://0.0.0.0:7100");
	assert_string_equal(cfg->server.events_url, "ipc:///tmp/sje-events");
	assert_string_equal(cfg->http.listen, "[::1]:0");
	sje_config_free(cfg);
}

static void
test_config_server_url_takes_a_list_in_failover_order(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	if (load_text("worker:\n  server_url: [tcp://a:7100, "
	              "tls+tcp://b:7100]\n"
	              "client:\n  server_url:\n    - tcp://c:7100\n"
	              "    - tcp://d:7100\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(
	    cfg->worker.server_url, "tcp://a:7100,tls+tcp://b:7100");
	assert_string_equal(
	    cfg->client.server_url, "tcp://c:7100,tcp://d:7100");
	sje_config_free(cfg);

	// From the environment, comma-separated.
	setenv("SJE_CLIENT_SERVER_URL", "tcp://e:1,tcp://f:2", 1);
	if (load_text("", &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->client.server_url, "tcp://e:1,tcp://f:2");
	sje_config_free(cfg);
	unsetenv("SJE_CLIENT_SERVER_URL");

	// Each item is checked where it stands; no empty list, no empty
	// item; the server's own URLs stay one URL each.
	expect_error("worker:\n  server_url:\n    - tcp://a:7100\n"
	             "    - http://b\n",
	    ":4: worker.server_url[1]: expected a URL");
	expect_error("worker:\n  server_url: []\n",
	    ":2: worker.server_url: expected at least one URL");
	expect_error("client:\n  server_url: \"tcp://a:1,,tcp://b:2\"\n",
	    ":2: client.server_url: expected a URL");
	expect_error("server:\n  rpc_url: \"tcp://a:1,tcp://b:2\"\n",
	    ":2: server.rpc_url: expected a URL");
}

static void
test_config_syntax_error_names_the_line(void **state)
{
	(void) state;
	expect_error("server:\n  sync: normal\n  data_dir: a: b\n",
	    ":3: YAML syntax error: mapping values are not allowed");
	expect_error(
	    "server:\n  rpc_url: \"tcp://x:1\n", ":3: YAML syntax error");
	expect_error(
	    "a: *nowhere\n", ":1: YAML syntax error: found undefined alias");
}

static void
test_config_top_level_must_be_a_mapping(void **state)
{
	(void) state;
	expect_error("- server\n- http\n",
	    ":1: expected a mapping at the top level, got a list");
	expect_error("just text\n",
	    ":1: expected a mapping at the top level, got 'just text'");
	expect_error("server: {}\n---\nhttp: {}\n",
	    ":2: expected one YAML document, found another");
}

static void
test_config_duplicate_key_is_refused(void **state)
{
	(void) state;
	expect_error("server:\n  sync: normal\n  sync: full\n",
	    ":3: server.sync: duplicate key");
	expect_error("worker:\n  labels: {a: x, a: y}\n",
	    ":2: worker.labels.a: duplicate key");
	expect_error("tasks:\n  functions:\n    f: {}\n    f: {}\n",
	    ":4: tasks.functions.f: duplicate function");
	expect_error("workflows:\n  w:\n    - {name: a, function: f}\n"
	             "  w:\n    - {name: a, function: f}\n",
	    ":4: workflows.w: duplicate workflow");
	expect_error("plugins:\n  - {name: a, options: {k: 1, k: 2}}\n",
	    ":2: plugins[0].options.k: duplicate key");
}

static void
test_config_missing_required_key_is_named(void **state)
{
	(void) state;
	expect_error("plugins:\n  - enabled: true\n",
	    ":2: plugins[0]: missing required key 'name'");
	expect_error("workflows:\n  w:\n    - {name: a}\n",
	    ":3: workflows.w[0]: missing required key 'function'");
	expect_error("monitoring:\n  alerts:\n    - {name: x, notify: y}\n",
	    ":3: monitoring.alerts[0]: missing required key 'when'");
}

static void
test_config_api_key_is_checked(void **state)
{
	sje_config              *cfg      = NULL;
	char                     err[256] = "";
	static const char *const scopes[] = { "read", "admin" };

	(void) state;
	expect_error("security:\n  auth:\n    api_keys:\n"
	             "      - {name: a, sha256: abc, scopes: [read]}\n",
	    ":4: security.auth.api_keys[0].sha256: expected 64 hex digits");
	expect_error("security:\n  auth:\n    api_keys:\n"
	             "      - {name: a, sha256: "
	             "0000000000000000000000000000000000000000000000000000000"
	             "000000000}\n",
	    ":4: security.auth.api_keys[0]: missing required key 'scopes'");
	expect_error("security:\n  auth:\n    api_keys:\n"
	             "      - {name: a, sha256: "
	             "0000000000000000000000000000000000000000000000000000000"
	             "000000000, scopes: [read, root]}\n",
	    ":4: security.auth.api_keys[0].scopes[1]: expected submit, "
	    "read, cancel, admin or worker, got 'root'");

	if (load_text("security:\n  auth:\n    api_keys:\n"
	              "      - name: ops\n"
	              "        sha256: 3EC2EF8CC0300F26F49FFE4791C68D753B82294"
	              "63145571A993E609CE3185F43\n"
	              "        scopes: [read, admin]\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->security.auth.n_api_keys, 1);
	assert_string_equal(cfg->security.auth.api_keys[0].sha256,
	    "3ec2ef8cc0300f26f49ffe4791c68d753b"
	    "8229463145571a993e609ce3185f43");
	assert_true(
	    strlist_is(&cfg->security.auth.api_keys[0].scopes, 2, scopes));
	sje_config_free(cfg);
}

static void
test_config_deep_or_recursive_alias_is_refused(void **state)
{
	(void) state;
	expect_error("plugins:\n  - name: x\n    options: &a {k: *a}\n",
	    "plugins[0].options");
	expect_error("plugins:\n  - name: x\n    options: &a {k: *a}\n",
	    "nested deeper than");
}

// The environment. -----------------------------------------------------------

static void
test_config_env_overrides_a_string(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	setenv("SJE_HTTP_LISTEN", "0.0.0.0:8443", 1);
	setenv("SJE_SERVER_SYNC", "full", 1);
	setenv("SJE_SECURITY_TLS_CA", "/etc/sje/ca.pem", 1);
	setenv("SJE_SECURITY_AUTH_OAUTH_ISSUER", "https://id.example", 1);
	setenv("SJE_WORKER_NAME", "", 1);
	setenv("SJE_LOGGING_LEVEL", "debug", 1);
	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->http.listen, "0.0.0.0:8443");
	assert_int_equal(cfg->server.sync, SJE_SYNC_FULL);
	assert_string_equal(cfg->security.tls.ca, "/etc/sje/ca.pem");
	assert_string_equal(
	    cfg->security.auth.oauth.issuer, "https://id.example");
	assert_string_equal(cfg->worker.name, "");
	assert_string_equal(cfg->logging.level, "debug");
	sje_config_free(cfg);
}

static void
test_config_env_overrides_a_bool(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	setenv("SJE_SECURITY_TLS_REQUIRE_CLIENT_CERT", "false", 1);
	setenv("SJE_MONITORING_METRICS", "False", 1);
	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_false(cfg->security.tls.require_client_cert);
	assert_false(cfg->monitoring.metrics);
	sje_config_free(cfg);
}

// security.tls.server_name: read from the file and the environment, and
// given to clients and workers by sje_client_opts_from_config ("" leaves
// the URL's host).
static void
test_config_tls_server_name_reaches_client_opts(void **state)
{
	sje_config     *cfg      = NULL;
	char            err[256] = "";
	sje_client_opts opts;

	(void) state;
	if (load_text("worker:\n  server_url: tls+tcp://198.18.0.1:7100\n"
	              "security:\n  tls:\n    ca: /etc/sje/ca.pem\n"
	              "    server_name: coord.example\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->security.tls.server_name, "coord.example");
	sje_client_opts_from_config(cfg, SJE_CLIENT_ROLE_WORKER, &opts);
	assert_string_equal(opts.server_url, "tls+tcp://198.18.0.1:7100");
	assert_string_equal(opts.ca_file, "/etc/sje/ca.pem");
	assert_string_equal(opts.server_name, "coord.example");
	sje_config_free(cfg);

	setenv("SJE_SECURITY_TLS_SERVER_NAME", "other.example", 1);
	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->security.tls.server_name, "other.example");
	sje_client_opts_from_config(cfg, SJE_CLIENT_ROLE_CLIENT, &opts);
	assert_string_equal(opts.server_name, "other.example");
	sje_config_free(cfg);

	unsetenv("SJE_SECURITY_TLS_SERVER_NAME");
	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	sje_client_opts_from_config(cfg, SJE_CLIENT_ROLE_CLIENT, &opts);
	assert_null(opts.server_name);
	sje_config_free(cfg);
}

// sje_config_client: the client's part of a config, for services that see
// only <sje/config.h>.
static void
test_config_client_gives_the_client_section_and_tls_files(void **state)
{
	sje_config       *cfg      = NULL;
	char              err[256] = "";
	sje_client_config cc;

	(void) state;
	if (load_text("client:\n  server_url: tls+tcp://coord:7100\n"
	              "  events_url: tls+tcp://coord:7101\n"
	              "worker:\n  server_url: tcp://127.0.0.1:7300\n"
	              "security:\n  tls:\n    ca: ca.pem\n"
	              "    cert: me.pem\n    key: me.key\n"
	              "    server_name: coord.example\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	sje_config_client(cfg, &cc);
	assert_string_equal(cc.server_url, "tls+tcp://coord:7100");
	assert_string_equal(cc.events_url, "tls+tcp://coord:7101");
	assert_string_equal(cc.tls_ca, "ca.pem");
	assert_string_equal(cc.tls_cert, "me.pem");
	assert_string_equal(cc.tls_key, "me.key");
	assert_string_equal(cc.tls_server_name, "coord.example");
	sje_config_free(cfg);

	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	sje_config_client(cfg, &cc);
	assert_string_equal(cc.server_url, "tcp://127.0.0.1:7100");
	assert_string_equal(cc.events_url, "tcp://127.0.0.1:7101");
	assert_string_equal(cc.tls_ca, "");
	assert_string_equal(cc.tls_server_name, "");
	sje_config_free(cfg);

	sje_config_client(NULL, &cc);
	assert_string_equal(cc.server_url, "");
	assert_string_equal(cc.tls_key, "");
}

static void
test_config_env_overrides_a_uint(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	setenv("SJE_HTTP_MAX_BODY_BYTES", "2048", 1);
	setenv("SJE_HTTP_DASHBOARD", "false", 1);
	setenv("SJE_WORKER_SLOTS", "16", 1);
	setenv("SJE_EXECUTOR_LEASE_S", "90", 1);
	setenv("SJE_TASKS_DEFAULTS_TIMEOUT_S", "600", 1);
	setenv("SJE_TASKS_DEFAULTS_RETRY_MAX_ATTEMPTS", "7", 1);
	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->http.max_body_bytes, 2048);
	assert_false(cfg->http.dashboard);
	assert_int_equal(cfg->worker.slots, 16);
	assert_int_equal(cfg->executor.lease_s, 90);
	assert_int_equal(cfg->tasks.timeout_s, 600);
	assert_int_equal(cfg->tasks.retry.max_attempts, 7);
	sje_config_free(cfg);
}

static void
test_config_env_overrides_a_list_and_labels(void **state)
{
	sje_config              *cfg      = NULL;
	char                     err[256] = "";
	static const char *const nodes[]  = { "a", "b", "worker-3" };

	(void) state;
	setenv("SJE_EXECUTOR_WORKER_NODES", "a,b, worker-3 ,", 1);
	setenv("SJE_WORKER_LABELS", "zone=eu-1, gpu = yes", 1);
	if (sje_config_load(NULL, &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_true(strlist_is(&cfg->executor.worker_nodes, 3, nodes));
	assert_int_equal(cfg->worker.n_labels, 2);
	assert_string_equal(cfg->worker.labels[0].key, "zone");
	assert_string_equal(cfg->worker.labels[0].value, "eu-1");
	assert_string_equal(cfg->worker.labels[1].key, "gpu");
	assert_string_equal(cfg->worker.labels[1].value, "yes");
	sje_config_free(cfg);

	// An empty value empties the list that the file gave.
	setenv("SJE_EXECUTOR_WORKER_NODES", "", 1);
	if (load_text("executor:\n  worker_nodes: [x, y]\n", &cfg, err,
	        sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->executor.worker_nodes.n, 0);
	sje_config_free(cfg);
}

static void
test_config_env_overrides_win_over_the_file(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	setenv("SJE_SERVER_RPC_URL", "tls+tcp://10.0.0.1:7100", 1);
	if (load_text("server:\n  rpc_url: tcp://127.0.0.1:9999\n"
	              "  data_dir: /var/lib/sje\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_string_equal(cfg->server.rpc_url, "tls+tcp://10.0.0.1:7100");
	assert_string_equal(cfg->server.data_dir, "/var/lib/sje");
	sje_config_free(cfg);
}

static void
test_config_bad_env_value_names_the_variable(void **state)
{
	(void) state;
	setenv("SJE_SERVER_SYNC", "x", 1);
	expect_env_error(
	    "environment: SJE_SERVER_SYNC: expected normal or full, got 'x'");
	clear_sje_env();
	setenv("SJE_EXECUTOR_LEASE_S", "soon", 1);
	expect_env_error("environment: SJE_EXECUTOR_LEASE_S: expected a "
	                 "non-negative integer, got 'soon'");
	clear_sje_env();
	setenv("SJE_MONITORING_METRICS", "1", 1);
	expect_env_error("environment: SJE_MONITORING_METRICS: expected "
	                 "true or false, got '1'");
	clear_sje_env();
	setenv("SJE_WORKER_LABELS", "zone", 1);
	expect_env_error("environment: SJE_WORKER_LABELS: expected "
	                 "comma-separated key=value items");
	clear_sje_env();
	setenv("SJE_HTTP_LISTEN", "", 1);
	expect_env_error("environment: SJE_HTTP_LISTEN: expected host:port");
}

// Workflows, plugins, functions. ---------------------------------------------

static void
test_config_after_naming_an_unknown_step_is_refused(void **state)
{
	(void) state;
	expect_error("workflows:\n"
	             "  etl:\n"
	             "    - name: extract\n"
	             "      function: fetch\n"
	             "    - name: load\n"
	             "      function: load\n"
	             "      after:\n"
	             "        - extract\n"
	             "        - transform\n",
	    ":9: workflows.etl[1].after: unknown step 'transform'");
}

static void
test_config_workflow_cycle_is_refused_naming_the_line(void **state)
{
	(void) state;
	expect_error("workflows:\n"
	             "  ok:\n"
	             "    - {name: a, function: f}\n"
	             "  loop:\n"
	             "    - {name: a, function: f, after: [c]}\n"
	             "    - {name: b, function: f, after: [a]}\n"
	             "    - {name: c, function: f, after: [b]}\n",
	    ":6: workflows.loop[1].after: the steps form a cycle: "
	    "a -> b -> c -> a");
	expect_error("workflows:\n  w:\n    - {name: a, function: f, "
	             "after: [a]}\n",
	    ":3: workflows.w[0].after: the steps form a cycle: a -> a");
}

static void
test_config_workflow_duplicate_or_missing_steps_are_refused(void **state)
{
	(void) state;
	expect_error("workflows:\n  w:\n    - {name: a, function: f}\n"
	             "    - {name: a, function: g}\n",
	    ":4: workflows.w[1].name: duplicate name 'a' (first at line 3)");
	expect_error("workflows:\n  w: []\n",
	    ":2: workflows.w: a workflow needs at least one step");
}

static void
test_config_workflow_steps_keep_order_params_and_lines(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	if (load_text("workflows:\n"
	              "  diamond:\n"
	              "    - {name: d, function: f, after: [b, c]}\n"
	              "    - {name: b, function: f, after: [a]}\n"
	              "    - {name: c, function: f, after: [a]}\n"
	              "    - name: a\n"
	              "      function: g\n"
	              "      params: [1, \"2\", 3.5, true, null, {x: ~}]\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->n_workflows, 1);
	assert_int_equal(cfg->workflows[0].line, 2);
	assert_int_equal(cfg->workflows[0].n_steps, 4);
	assert_string_equal(cfg->workflows[0].steps[0].name, "d");
	assert_int_equal(cfg->workflows[0].steps[0].after.n, 2);
	assert_int_equal(cfg->workflows[0].steps[3].line, 6);
	assert_string_equal(cfg->workflows[0].steps[3].params_json,
	    "[1,\"2\",3.5,true,null,{\"x\":null}]");
	sje_config_free(cfg);
}

static void
test_config_plugins_default_to_core_when_absent(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	if (load_text("logging:\n  level: warn\n", &cfg, err, sizeof err) !=
	    SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->n_plugins, 1);
	assert_string_equal(cfg->plugins[0].name, "core");
	assert_true(cfg->plugins[0].enabled);
	assert_null(cfg->plugins[0].path);
	assert_string_equal(cfg->plugins[0].options_json, "{}");
	sje_config_free(cfg);

	// Given, even empty, the list replaces the default.
	if (load_text("plugins: []\n", &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->n_plugins, 0);
	sje_config_free(cfg);
}

static void
test_config_plugin_options_become_json(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	if (load_text("plugins:\n"
	              "  - name: exec\n"
	              "    enabled: false\n"
	              "    path: /usr/lib/sje/exec.so\n"
	              "    options:\n"
	              "      n: 42\n"
	              "      neg: -7\n"
	              "      f: 0.25\n"
	              "      quoted: \"42\"\n"
	              "      single: 'true'\n"
	              "      yes_is_text: yes\n"
	              "      on: [FAILED, CANCELLED]\n"
	              "      nothing:\n"
	              "      big: 123456789012345678901234567890\n"
	              "  - name: other\n"
	              "    options:\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->n_plugins, 2);
	assert_false(cfg->plugins[0].enabled);
	assert_string_equal(cfg->plugins[0].path, "/usr/lib/sje/exec.so");
	assert_int_equal(cfg->plugins[0].line, 2);
	assert_string_equal(cfg->plugins[0].options_json,
	    "{\"n\":42,\"neg\":-7,\"f\":0.25,\"quoted\":\"42\","
	    "\"single\":\"true\",\"yes_is_text\":\"yes\","
	    "\"on\":[\"FAILED\",\"CANCELLED\"],\"nothing\":null,"
	    "\"big\":1.2345678901234568e29}");
	assert_string_equal(cfg->plugins[1].options_json, "{}");
	assert_int_equal(cfg->plugins[1].line, 15);
	sje_config_free(cfg);

	expect_error("plugins:\n  - {name: a, options: [1]}\n",
	    ":2: plugins[0].options: expected a mapping, got a list");
	expect_error("plugins:\n  - {name: a}\n  - {name: a}\n",
	    ":3: plugins[1].name: duplicate name 'a' (first at line 2)");
}

static void
test_config_function_lookup_gives_command_and_retry(void **state)
{
	sje_config              *cfg      = NULL;
	char                     err[256] = "";
	const sje_function_cfg  *fn;
	static const char *const argv[] = { "/usr/bin/convert", "-", "" };

	(void) state;
	// The function's retry takes the fields it leaves out from
	// tasks.defaults.retry, after the environment changed it.
	setenv("SJE_TASKS_DEFAULTS_RETRY_INITIAL_DELAY_MS", "250", 1);
	if (load_text("tasks:\n"
	              "  functions:\n"
	              "    convert:\n"
	              "      timeout_s: 45\n"
	              "      retry:\n"
	              "        max_attempts: 9\n"
	              "      command: [/usr/bin/convert, \"-\", \"\"]\n"
	              "    plain:\n"
	              "  defaults:\n"
	              "    retry: {backoff: fixed, max_delay_ms: 5000}\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	fn = sje_config_function(cfg, "convert");
	assert_non_null(fn);
	assert_string_equal(fn->name, "convert");
	assert_int_equal(fn->line, 3);
	assert_int_equal(fn->timeout_s, 45);
	assert_true(strlist_is(&fn->command, 3, argv));
	assert_true(fn->has_retry);
	assert_int_equal(fn->retry.max_attempts, 9);
	assert_string_equal(fn->retry.backoff, "fixed");
	assert_int_equal(fn->retry.initial_delay_ms, 250);
	assert_int_equal(fn->retry.max_delay_ms, 5000);

	fn = sje_config_function(cfg, "plain");
	assert_non_null(fn);
	assert_int_equal(fn->timeout_s, 0);
	assert_false(fn->has_retry);
	assert_int_equal(fn->retry.max_attempts, 3);
	assert_int_equal(fn->command.n, 0);

	assert_null(sje_config_function(cfg, "missing"));
	assert_null(sje_config_function(NULL, "convert"));
	assert_null(sje_config_function(cfg, NULL));
	sje_config_free(cfg);

	expect_error("tasks:\n  functions:\n    f:\n      command: [\"\"]\n",
	    ":4: tasks.functions.f.command: the program (the first item) "
	    "cannot be empty");
}

static void
test_config_labels_and_alerts_are_read(void **state)
{
	sje_config *cfg      = NULL;
	char        err[256] = "";

	(void) state;
	if (load_text("worker:\n  labels:\n    zone: eu\n    gpu: \"yes\"\n"
	              "    port: 8080\n"
	              "monitoring:\n  alerts:\n"
	              "    - {name: a, when: \"failures > 5\"}\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->worker.n_labels, 3);
	assert_string_equal(cfg->worker.labels[1].key, "gpu");
	assert_string_equal(cfg->worker.labels[1].value, "yes");
	assert_string_equal(cfg->worker.labels[2].value, "8080");
	assert_int_equal(cfg->monitoring.n_alerts, 1);
	assert_string_equal(cfg->monitoring.alerts[0].notify, "");
	sje_config_free(cfg);

	expect_error("worker:\n  labels: [a]\n",
	    ":2: worker.labels: expected a mapping of strings, got a list");
	expect_error("worker:\n  labels:\n    a: {b: c}\n",
	    ":3: worker.labels.a: expected a string, got a mapping");
}

// Memory and buffers. --------------------------------------------------------

static void
test_config_free_accepts_null(void **state)
{
	(void) state;
	sje_config_free(NULL);
}

static void
test_config_error_buffer_may_be_small_or_absent(void **state)
{
	sje_config *cfg = NULL;
	char        small[8];

	(void) state;
	setenv("SJE_SERVER_SYNC", "x", 1);
	assert_int_equal(sje_config_load(NULL, &cfg, NULL, 0), SJE_ECONFIG);
	assert_null(cfg);
	memset(small, 'z', sizeof small);
	assert_int_equal(
	    sje_config_load(NULL, &cfg, small, sizeof small), SJE_ECONFIG);
	assert_string_equal(small, "environ");
	assert_null(cfg);
}

// A failure deep in the walk leaves a partly built config, which must be
// freed without leaks: each case fails after lists and strings were made.
static void
test_config_failure_after_partial_build_frees_everything(void **state)
{
	(void) state;
	expect_error("worker:\n  labels: {a: b}\n"
	             "executor:\n  worker_nodes: [x, y]\n"
	             "plugins:\n  - {name: p, options: {a: [1, 2]}}\n"
	             "tasks:\n  functions:\n"
	             "    f: {command: [a, b], retry: {max_attempts: 2}}\n"
	             "    g: {timeout_s: nope}\n",
	    ":10: tasks.functions.g.timeout_s");
	expect_error("workflows:\n  w1:\n    - {name: a, function: f, "
	             "params: {x: 1}}\n  w2:\n    - {name: b, function: f, "
	             "after: [z]}\n",
	    ":5: workflows.w2[0].after: unknown step 'z'");
	setenv("SJE_WORKER_LABELS", "a=1,a=2", 1);
	expect_error("plugins:\n  - {name: p}\n",
	    "SJE_WORKER_LABELS: "
	    "duplicate key");
}

#define T(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)

static void
test_config_function_limits_and_requires_are_read(void **state)
{
	sje_config *cfg      = NULL;
	char        err[512] = "";

	(void) state;
	if (load_text("tasks:\n  functions:\n    resize:\n"
	              "      concurrency: 10\n      rate: 100/s\n"
	              "      requires: {gpu: \"true\", zone: eu}\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	const sje_function_cfg *fn = sje_config_function(cfg, "resize");
	assert_non_null(fn);
	assert_int_equal(fn->concurrency, 10);
	assert_string_equal(fn->rate, "100/s");
	assert_int_equal(fn->n_requires, 2);
	assert_string_equal(fn->requires[0].key, "gpu");
	assert_string_equal(fn->requires[0].value, "true");
	sje_config_free(cfg);
}

static void
test_config_a_bad_rate_names_its_line(void **state)
{
	(void) state;
	expect_error("tasks:\n  functions:\n    f:\n      rate: fast\n",
	    ":4: tasks.functions.f.rate: expected a rate such as 100/s");
	expect_error("tasks:\n  functions:\n    f:\n      rate: 0/s\n",
	    ":4: tasks.functions.f.rate: expected a rate");
	expect_error("tasks:\n  functions:\n    f:\n      rate: 10/d\n",
	    ":4: tasks.functions.f.rate: expected a rate");
	expect_error("tasks:\n  functions:\n    f:\n      concurrency: -1\n",
	    ":4: tasks.functions.f.concurrency:");
}

static void
test_rate_parse_reads_per_second_minute_and_hour(void **state)
{
	uint32_t n = 0, per = 0;

	(void) state;
	assert_true(sje_rate_parse("100/s", &n, &per));
	assert_int_equal(n, 100);
	assert_int_equal(per, 1000);
	assert_true(sje_rate_parse("20/m", &n, &per));
	assert_int_equal(per, 60000);
	assert_true(sje_rate_parse("1/h", &n, &per));
	assert_int_equal(n, 1);
	assert_int_equal(per, 3600000);
	assert_false(sje_rate_parse("", &n, &per));
	assert_false(sje_rate_parse("/s", &n, &per));
	assert_false(sje_rate_parse("5", &n, &per));
	assert_false(sje_rate_parse("05/s", &n, &per));
	assert_false(sje_rate_parse("1000001/s", &n, &per));
	assert_false(sje_rate_parse("99999999999999999999/s", &n, &per));
	assert_false(sje_rate_parse("5/s ", &n, &per));
	assert_int_equal(n, 1); // untouched
}

static void
test_config_schedules_are_read_with_their_defaults(void **state)
{
	sje_config *cfg      = NULL;
	char        err[512] = "";

	(void) state;
	if (load_text(
	        "schedules:\n"
	        "  - {name: nightly, cron: \"0 2 * * *\", workflow: etl}\n"
	        "  - {name: sweep, every_s: 300, function: cleanup, "
	        "params: {deep: true}, missed: run_once, overlap: allow}\n"
	        "workflows:\n  etl:\n    - {name: a, function: f}\n",
	        &cfg, err, sizeof err) != SJE_OK) {
		fail_msg("%s", err);
	}
	assert_int_equal(cfg->n_schedules, 2);
	assert_string_equal(cfg->schedules[0].cron, "0 2 * * *");
	assert_string_equal(cfg->schedules[0].workflow, "etl");
	assert_null(cfg->schedules[0].function);
	assert_string_equal(cfg->schedules[0].overlap, "skip");
	assert_string_equal(cfg->schedules[0].missed, "skip");
	assert_int_equal(cfg->schedules[1].every_s, 300);
	assert_null(cfg->schedules[1].cron);
	assert_string_equal(cfg->schedules[1].params_json, "{\"deep\":true}");
	assert_string_equal(cfg->schedules[1].missed, "run_once");
	assert_string_equal(cfg->schedules[1].overlap, "allow");
	sje_config_free(cfg);
}

static void
test_config_a_bad_schedule_names_its_line(void **state)
{
	(void) state;
	expect_error("schedules:\n  - {name: a, cron: \"61 * * * *\", "
	             "function: f}\n",
	    ":2: schedules[0].cron: minute: '61' is out of range 0-59");
	expect_error("\nschedules:\n  - {name: a, function: f}\n",
	    ":3: schedules[0]: schedule 'a' needs one of cron and every_s");
	expect_error(
	    "schedules:\n  - {name: a, every_s: 5, cron: \"* * * * *\", "
	    "function: f}\n",
	    "needs one of cron and every_s");
	expect_error("schedules:\n  - {name: a, every_s: 5}\n",
	    ":2: schedules[0]: schedule 'a' needs one of function and "
	    "workflow");
	expect_error("schedules:\n  - {name: a, every_s: 5, workflow: nope}\n",
	    ":2: schedules[0].workflow: no workflow 'nope' in workflows:");
	expect_error(
	    "schedules:\n  - {name: \"a b\", every_s: 5, function: f}\n",
	    ":2: schedules[0].name: a schedule's name is 1 to 64");
	expect_error("schedules:\n  - {name: a, every_s: 5, function: f, "
	             "overlap: never}\n",
	    "schedules[0].overlap: expected skip or allow");
	expect_error("schedules:\n  - {name: a, every_s: 5, function: f}\n"
	             "  - {name: a, every_s: 6, function: f}\n",
	    ":3: schedules[1]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_without_file_gives_defaults),
		T(test_config_with_empty_sje_config_gives_defaults),
		T(test_config_reads_the_file_named_by_sje_config),
		T(test_config_path_argument_wins_over_sje_config),
		T(test_config_missing_file_error_names_the_path),
		T(test_config_empty_or_comment_only_file_gives_defaults),
		T(test_config_loads_the_sample_file),
		T(test_config_unknown_key_error_names_line_and_key),
		T(test_config_wrong_type_error_names_line_and_key),
		T(test_config_bad_enum_value_is_refused),
		T(test_config_function_limits_and_requires_are_read),
		T(test_config_a_bad_rate_names_its_line),
		T(test_rate_parse_reads_per_second_minute_and_hour),
		T(test_config_schedules_are_read_with_their_defaults),
		T(test_config_a_bad_schedule_names_its_line),
		T(test_config_integer_out_of_range_is_refused),
		T(test_config_bad_url_and_listen_address_are_refused),
		T(test_config_server_url_takes_a_list_in_failover_order),
		T(test_config_syntax_error_names_the_line),
		T(test_config_top_level_must_be_a_mapping),
		T(test_config_duplicate_key_is_refused),
		T(test_config_missing_required_key_is_named),
		T(test_config_api_key_is_checked),
		T(test_config_deep_or_recursive_alias_is_refused),
		T(test_config_env_overrides_a_string),
		T(test_config_env_overrides_a_bool),
		T(test_config_tls_server_name_reaches_client_opts),
		T(test_config_client_gives_the_client_section_and_tls_files),
		T(test_config_env_overrides_a_uint),
		T(test_config_env_overrides_a_list_and_labels),
		T(test_config_env_overrides_win_over_the_file),
		T(test_config_bad_env_value_names_the_variable),
		T(test_config_after_naming_an_unknown_step_is_refused),
		T(test_config_workflow_cycle_is_refused_naming_the_line),
		T(test_config_workflow_duplicate_or_missing_steps_are_refused),
		T(test_config_workflow_steps_keep_order_params_and_lines),
		T(test_config_plugins_default_to_core_when_absent),
		T(test_config_plugin_options_become_json),
		T(test_config_function_lookup_gives_command_and_retry),
		T(test_config_labels_and_alerts_are_read),
		T(test_config_free_accepts_null),
		T(test_config_error_buffer_may_be_small_or_absent),
		T(test_config_failure_after_partial_build_frees_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
