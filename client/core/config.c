// config.c — loads config.yaml into an sje_config.
//
// A load runs in four steps, each over one description of the file: the
// key tables below. (1) Every key gets its default. The default is written
// in the table as text and parsed like a value from the file, so the same
// code checks both. (2) The file, if there is one, is parsed with libyaml's
// document API (yaml_parser_load) and walked against the tables: each key
// of a mapping must be in that mapping's table, and each value must have
// the type of its entry and pass its checks. (3) Every scalar key and list
// of strings in the tables can then be overridden from the environment as
// SJE_<SECTION>_<KEY>: the dotted path in upper case, with '_' for '.'.
// These values go through the same parser as values from the file. (4) A
// function's retry policy takes any fields it left out from
// tasks.defaults.retry.
//
// A key's entry gives its name, its type, where the value lives (an offset
// from the start of the struct that the table describes), its default and
// its checks. Sections nest tables. Lists of mappings (plugins, API keys,
// alerts, workflow steps) become arrays of structs, and each struct has a
// table of its own. Users choose the keys of two mappings, tasks.functions
// and workflows, so those two are read by their own functions. Freeing
// walks the same tables, so no field in a table can leak. A partly built
// config also frees cleanly, because arrays are zeroed when they are
// allocated and counted before they are filled.
//
// An error is one line in the caller's buffer, either "<file>:<line>:
// <dotted.key>: <what is wrong>" or "environment: <VARIABLE>: <what is
// wrong>". The load then returns SJE_ECONFIG, or SJE_ENOMEM when out of
// memory. A key inside a list has an index: plugins[1].name.
//
// libyaml is included only here. jansson turns plugin options and step
// params into JSON text. Plain scalars that look like numbers, booleans or
// null become those JSON types, and quoted scalars stay strings. Aliases
// can make a small file expand into a huge value, so the conversion has a
// limit on depth and on the number of values.
//
// There is no global state. A load only reads the environment, so it is
// thread-safe.

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <yaml.h>

#include "config.h"
#include "cron.h"
#include "dag.h"
#include "util.h" // limits only: SJE_MAX_*

#define CONFIG_PATH_MAX 256 // bytes of a dotted key kept for messages
#define CONFIG_ENV_MAX 128  // bytes of an environment variable's name
#define CONFIG_SHOW_MAX 60  // bytes of a bad value quoted in a message
#define CONFIG_MSG_MAX 512  // bytes of the part after "file:line: key: "
#define CONFIG_JSON_BUDGET 1000000u // YAML values turned to JSON per load

// config_type says how a key's value is read, stored and freed.
typedef enum config_type {
	CONFIG_SECTION,  // a mapping of further keys (sub)
	CONFIG_STR,      // char *: any string
	CONFIG_URL,      // char *: tcp://, tls+tcp://, ipc:// or inproc://
	CONFIG_HOSTPORT, // char *: host:port
	CONFIG_CHOICE,   // char *: one of choices
	CONFIG_SYNC,     // sje_sync_mode: the index into choices
	CONFIG_U32,      // uint32_t, at least min
	CONFIG_BOOL,     // bool: true or false
	CONFIG_SHA256,   // char *: 64 hex digits, stored in lower case
	CONFIG_STRLIST,  // sje_strlist; environment: comma-separated
	CONFIG_LABELS,   // sje_kv array and count; environment: k=v,k=v
	CONFIG_JSON,     // char *: any YAML value as JSON text
	CONFIG_LIST,     // array of structs (sub) and count, from mappings
	CONFIG_CUSTOM,   // read by walk and freed by fini
} config_type;

enum config_flag {
	CONFIG_REQUIRED = 1u << 0, // the key must be given
	CONFIG_NONEMPTY = 1u << 1, // strings (or list items) must not be ""
	CONFIG_OBJECT   = 1u << 2, // JSON: a mapping, "{}" when not given
	CONFIG_UNIQUE   = 1u << 3, // LIST: the elements' names differ
	CONFIG_HAS_LINE = 1u << 4, // LIST: elements have an int at line_offset
	CONFIG_NULLABLE = 1u << 5, // STR: NULL when not given or ""
	CONFIG_MULTI    = 1u << 6, // URL: a list of URLs, from a YAML
	                           // sequence or comma-separated, kept
	                           // joined by commas (failover order)
	CONFIG_UNSET_OK = 1u << 7, // URL: "" (the default) is allowed
};

typedef struct config_ctx config_ctx;
typedef struct config_key config_key;

// config_walk_fn reads node, the value of key k at path, into the struct at
// base. It returns SJE_OK, or an error already written by config_fail.
typedef sje_err (*config_walk_fn)(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);

// config_fini_fn frees what a CUSTOM key k holds in the struct at base.
typedef void (*config_fini_fn)(const config_key *k, char *base);

// config_key describes one key of a mapping. Offsets are measured from the
// start of the struct that the table describes, the "base". Entries of a
// section of sje_config measure theirs from the sje_config itself, so such
// a section has offset 0.
struct config_key {
	const char        *name;
	config_type        type;
	unsigned           flags;        // config_flag bits
	const char        *def;          // default as text; NULL: "" or none
	size_t             offset;       // of the value
	size_t             count_offset; // LABELS, LIST: of the size_t count
	size_t             elem_size;    // LIST: bytes of one element
	size_t             line_offset;  // LIST with CONFIG_HAS_LINE
	uint32_t           min;          // U32: the least value allowed
	const char *const *choices;      // CHOICE, SYNC, STRLIST: NULL-ended
	const config_key  *sub;          // SECTION, LIST: NULL name at the end
	config_walk_fn     check;        // runs after the value was read
	config_walk_fn     walk;         // CUSTOM: reads the value
	config_fini_fn     fini;         // CUSTOM: frees the value
};

// config_ctx is the state of one load.
struct config_ctx {
	sje_config      *cfg;
	const char      *file;          // the file as named, for messages
	char            *err;           // the caller's buffer
	size_t           errlen;        // its size in bytes, maybe 0
	yaml_document_t *doc;           // the document being walked
	uint32_t         last_seen;     // keys given in the mapping read last
	uint32_t        *fn_retry_seen; // per function: the retry keys given
	size_t           fn_index;      // the function being read
	size_t           json_budget;   // YAML values still allowed in JSON
};

// Key tables. ---------------------------------------------------------------

static const char *const config_sync_choices[]    = { "normal", "full", NULL };
static const char *const config_level_choices[]   = { "error", "warn", "info",
	  "debug", NULL };
static const char *const config_format_choices[]  = { "text", "json", NULL };
static const char *const config_backoff_choices[] = { "exponential", "fixed",
	NULL };
static const char *const config_scope_choices[] = { "submit", "read", "cancel",
	"admin", "worker", NULL };

static sje_err config_walk_functions(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);
static void    config_fini_functions(const config_key *k, char *base);
static sje_err config_walk_workflows(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);
static void    config_fini_workflows(const config_key *k, char *base);
static sje_err config_check_fn_retry(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);
static sje_err config_check_command(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);
static sje_err config_check_schedules(config_ctx *c);
static sje_err config_check_rate(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);
static sje_err config_check_steps(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);

// CONFIG_KEY declares key n of type t, stored in field f of struct T.
#define CONFIG_KEY(n, t, T, f, ...)                                 \
	{                                                           \
		.name = (n), .type = (t), .offset = offsetof(T, f), \
		__VA_ARGS__                                         \
	}

// CONFIG_SECTION_KEY declares section n of sje_config, with keys s.
#define CONFIG_SECTION_KEY(n, s)                                \
	{                                                       \
		.name = (n), .type = CONFIG_SECTION, .sub = (s) \
	}

#define CONFIG_END           \
	{                    \
		.name = NULL \
	}

#define CONFIG_DEFAULT_SERVER_URL "tcp://127.0.0.1:7100"
#define CONFIG_DEFAULT_EVENTS_URL "tcp://127.0.0.1:7101"

static const char *const config_store_choices[] = { "sqlite", "postgres",
	NULL };

static const config_key config_server_postgres_keys[] = {
	CONFIG_KEY("dsn_env", CONFIG_STR, sje_config, server.postgres.dsn_env,
	    .def = "SJE_POSTGRES_DSN", .flags = CONFIG_NONEMPTY),
	CONFIG_KEY("dsn", CONFIG_STR, sje_config, server.postgres.dsn),
	CONFIG_END,
};

static const config_key config_server_keys[] = {
	CONFIG_KEY("rpc_url", CONFIG_URL, sje_config, server.rpc_url,
	    .def = CONFIG_DEFAULT_SERVER_URL),
	CONFIG_KEY("events_url", CONFIG_URL, sje_config, server.events_url,
	    .def = CONFIG_DEFAULT_EVENTS_URL),
	CONFIG_KEY("data_dir", CONFIG_STR, sje_config, server.data_dir,
	    .def = "./sje-data", .flags = CONFIG_NONEMPTY),
	CONFIG_KEY("sync", CONFIG_SYNC, sje_config, server.sync,
	    .def = "normal", .choices = config_sync_choices),
	CONFIG_KEY("result_ttl_s", CONFIG_U32, sje_config, server.result_ttl_s,
	    .def = "604800"),
	CONFIG_KEY("store", CONFIG_CHOICE, sje_config, server.store,
	    .def = "sqlite", .choices = config_store_choices),
	CONFIG_SECTION_KEY("postgres", config_server_postgres_keys),
	CONFIG_KEY("advertise_rpc_url", CONFIG_URL, sje_config,
	    server.advertise_rpc_url, .flags = CONFIG_UNSET_OK),
	CONFIG_KEY("advertise_events_url", CONFIG_URL, sje_config,
	    server.advertise_events_url, .flags = CONFIG_UNSET_OK),
	CONFIG_END,
};

static const config_key config_http_keys[] = {
	CONFIG_KEY("listen", CONFIG_HOSTPORT, sje_config, http.listen,
	    .def = "127.0.0.1:8080"),
	CONFIG_KEY("max_body_bytes", CONFIG_U32, sje_config,
	    http.max_body_bytes, .def = "1048576", .min = 1),
	CONFIG_KEY("header_timeout_ms", CONFIG_U32, sje_config,
	    http.header_timeout_ms, .def = "10000", .min = 1),
	CONFIG_KEY("body_timeout_ms", CONFIG_U32, sje_config,
	    http.body_timeout_ms, .def = "30000", .min = 1),
	CONFIG_KEY("idle_timeout_ms", CONFIG_U32, sje_config,
	    http.idle_timeout_ms, .def = "60000", .min = 1),
	CONFIG_KEY("max_connections", CONFIG_U32, sje_config,
	    http.max_connections, .def = "1024", .min = 1),
	CONFIG_KEY("dashboard", CONFIG_BOOL, sje_config, http.dashboard,
	    .def = "true"),
	CONFIG_END,
};

static const config_key config_worker_keys[] = {
	CONFIG_KEY("server_url", CONFIG_URL, sje_config, worker.server_url,
	    .def = CONFIG_DEFAULT_SERVER_URL, .flags = CONFIG_MULTI),
	CONFIG_KEY("events_url", CONFIG_URL, sje_config, worker.events_url,
	    .def = CONFIG_DEFAULT_EVENTS_URL),
	CONFIG_KEY("name", CONFIG_STR, sje_config, worker.name),
	CONFIG_KEY("slots", CONFIG_U32, sje_config, worker.slots, .def = "0"),
	CONFIG_KEY("labels", CONFIG_LABELS, sje_config, worker.labels,
	    .count_offset = offsetof(sje_config, worker.n_labels)),
	CONFIG_END,
};

static const config_key config_client_keys[] = {
	CONFIG_KEY("server_url", CONFIG_URL, sje_config, client.server_url,
	    .def = CONFIG_DEFAULT_SERVER_URL, .flags = CONFIG_MULTI),
	CONFIG_KEY("events_url", CONFIG_URL, sje_config, client.events_url,
	    .def = CONFIG_DEFAULT_EVENTS_URL),
	CONFIG_END,
};

static const config_key config_executor_keys[] = {
	CONFIG_KEY("worker_nodes", CONFIG_STRLIST, sje_config,
	    executor.worker_nodes, .flags = CONFIG_NONEMPTY),
	CONFIG_KEY("max_concurrency", CONFIG_U32, sje_config,
	    executor.max_concurrency, .def = "4", .min = 1),
	CONFIG_KEY("lease_s", CONFIG_U32, sje_config, executor.lease_s,
	    .def = "30", .min = 1),
	CONFIG_END,
};

// config_retry_keys describes an sje_retry_cfg. config_inherit_retry relies
// on it having at most 32 entries, one bit each in a mask.
static const config_key config_retry_keys[] = {
	CONFIG_KEY("max_attempts", CONFIG_U32, sje_retry_cfg, max_attempts,
	    .def = "3", .min = 1),
	CONFIG_KEY("backoff", CONFIG_CHOICE, sje_retry_cfg, backoff,
	    .def = "exponential", .choices = config_backoff_choices),
	CONFIG_KEY("initial_delay_ms", CONFIG_U32, sje_retry_cfg,
	    initial_delay_ms, .def = "1000"),
	CONFIG_KEY("max_delay_ms", CONFIG_U32, sje_retry_cfg, max_delay_ms,
	    .def = "60000"),
	CONFIG_END,
};

static const config_key config_tasks_defaults_keys[] = {
	CONFIG_KEY("timeout_s", CONFIG_U32, sje_config, tasks.timeout_s,
	    .def = "300", .min = 1),
	CONFIG_KEY("retry", CONFIG_SECTION, sje_config, tasks.retry,
	    .sub = config_retry_keys),
	CONFIG_END,
};

// config_function_keys describes the value of tasks.functions.<name>; the
// name and line are set by config_walk_functions.
static const config_key config_function_keys[] = {
	CONFIG_KEY(
	    "timeout_s", CONFIG_U32, sje_function_cfg, timeout_s, .def = "0"),
	CONFIG_KEY("retry", CONFIG_SECTION, sje_function_cfg, retry,
	    .sub = config_retry_keys, .check = config_check_fn_retry),
	CONFIG_KEY("command", CONFIG_STRLIST, sje_function_cfg, command,
	    .check = config_check_command),
	CONFIG_KEY("concurrency", CONFIG_U32, sje_function_cfg, concurrency,
	    .def = "0"),
	CONFIG_KEY("rate", CONFIG_STR, sje_function_cfg, rate,
	    .check = config_check_rate),
	CONFIG_KEY("requires", CONFIG_LABELS, sje_function_cfg, requires,
	    .count_offset = offsetof(sje_function_cfg, n_requires)),
	CONFIG_END,
};

static const config_key config_tasks_keys[] = {
	CONFIG_SECTION_KEY("defaults", config_tasks_defaults_keys),
	CONFIG_KEY("max_unserved_functions", CONFIG_U32, sje_config,
	    tasks.max_unserved_functions, .def = "1000"),
	CONFIG_KEY("unserved_warn_s", CONFIG_U32, sje_config,
	    tasks.unserved_warn_s, .def = "60"),
	{ .name   = "functions",
	    .type = CONFIG_CUSTOM,
	    .walk = config_walk_functions,
	    .fini = config_fini_functions },
	CONFIG_END,
};

static const config_key config_step_keys[] = {
	CONFIG_KEY("name", CONFIG_STR, sje_workflow_step, name,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY("function", CONFIG_STR, sje_workflow_step, function,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY("params", CONFIG_JSON, sje_workflow_step, params_json),
	CONFIG_KEY("after", CONFIG_STRLIST, sje_workflow_step, after,
	    .flags = CONFIG_NONEMPTY),
	CONFIG_END,
};

// config_steps_key reads the value of workflows.<name>, a list of steps,
// into an sje_workflow.
static const config_key config_steps_key = CONFIG_KEY("steps", CONFIG_LIST,
    sje_workflow, steps, .flags = CONFIG_UNIQUE | CONFIG_HAS_LINE,
    .count_offset = offsetof(sje_workflow, n_steps),
    .elem_size    = sizeof(sje_workflow_step),
    .line_offset = offsetof(sje_workflow_step, line), .sub = config_step_keys,
    .check = config_check_steps);

static const config_key config_plugin_keys[] = {
	CONFIG_KEY("name", CONFIG_STR, sje_plugin_cfg, name,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY(
	    "enabled", CONFIG_BOOL, sje_plugin_cfg, enabled, .def = "true"),
	CONFIG_KEY("path", CONFIG_STR, sje_plugin_cfg, path,
	    .flags = CONFIG_NULLABLE),
	CONFIG_KEY("options", CONFIG_JSON, sje_plugin_cfg, options_json,
	    .flags = CONFIG_OBJECT),
	CONFIG_END,
};

static const config_key config_tls_keys[] = {
	CONFIG_KEY("ca", CONFIG_STR, sje_config, security.tls.ca),
	CONFIG_KEY("cert", CONFIG_STR, sje_config, security.tls.cert),
	CONFIG_KEY("key", CONFIG_STR, sje_config, security.tls.key),
	CONFIG_KEY("require_client_cert", CONFIG_BOOL, sje_config,
	    security.tls.require_client_cert, .def = "true"),
	CONFIG_KEY(
	    "server_name", CONFIG_STR, sje_config, security.tls.server_name),
	CONFIG_END,
};

static const config_key config_api_key_keys[] = {
	CONFIG_KEY("name", CONFIG_STR, sje_api_key_cfg, name,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY("sha256", CONFIG_SHA256, sje_api_key_cfg, sha256,
	    .flags = CONFIG_REQUIRED),
	CONFIG_KEY("scopes", CONFIG_STRLIST, sje_api_key_cfg, scopes,
	    .flags = CONFIG_REQUIRED, .choices = config_scope_choices),
	CONFIG_END,
};

static const config_key config_oauth_keys[] = {
	CONFIG_KEY(
	    "issuer", CONFIG_STR, sje_config, security.auth.oauth.issuer),
	CONFIG_KEY(
	    "audience", CONFIG_STR, sje_config, security.auth.oauth.audience),
	CONFIG_KEY("hs256_secret_env", CONFIG_STR, sje_config,
	    security.auth.oauth.hs256_secret_env),
	CONFIG_KEY("rs256_public_key", CONFIG_STR, sje_config,
	    security.auth.oauth.rs256_public_key),
	CONFIG_END,
};

static const config_key config_auth_keys[] = {
	CONFIG_KEY("api_keys", CONFIG_LIST, sje_config, security.auth.api_keys,
	    .flags        = CONFIG_UNIQUE,
	    .count_offset = offsetof(sje_config, security.auth.n_api_keys),
	    .elem_size = sizeof(sje_api_key_cfg), .sub = config_api_key_keys),
	CONFIG_SECTION_KEY("oauth", config_oauth_keys),
	CONFIG_END,
};

static const config_key config_security_keys[] = {
	CONFIG_SECTION_KEY("tls", config_tls_keys),
	CONFIG_SECTION_KEY("auth", config_auth_keys),
	CONFIG_END,
};

static const config_key config_logging_keys[] = {
	CONFIG_KEY("level", CONFIG_CHOICE, sje_config, logging.level,
	    .def = "info", .choices = config_level_choices),
	CONFIG_KEY("format", CONFIG_CHOICE, sje_config, logging.format,
	    .def = "text", .choices = config_format_choices),
	CONFIG_KEY("destination", CONFIG_STR, sje_config, logging.destination,
	    .def = "stderr", .flags = CONFIG_NONEMPTY),
	CONFIG_END,
};

static const char *const config_overlap_choices[] = { "skip", "allow", NULL };
static const char *const config_missed_choices[]  = { "skip", "run_once",
	 NULL };

static const config_key config_schedule_keys[] = {
	CONFIG_KEY("name", CONFIG_STR, sje_schedule_cfg, name,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY("cron", CONFIG_STR, sje_schedule_cfg, cron,
	    .flags = CONFIG_NULLABLE),
	CONFIG_KEY(
	    "every_s", CONFIG_U32, sje_schedule_cfg, every_s, .def = "0"),
	CONFIG_KEY("function", CONFIG_STR, sje_schedule_cfg, function,
	    .flags = CONFIG_NULLABLE),
	CONFIG_KEY("workflow", CONFIG_STR, sje_schedule_cfg, workflow,
	    .flags = CONFIG_NULLABLE),
	CONFIG_KEY("params", CONFIG_JSON, sje_schedule_cfg, params_json),
	CONFIG_KEY("overlap", CONFIG_CHOICE, sje_schedule_cfg, overlap,
	    .def = "skip", .choices = config_overlap_choices),
	CONFIG_KEY("missed", CONFIG_CHOICE, sje_schedule_cfg, missed,
	    .def = "skip", .choices = config_missed_choices),
	CONFIG_END,
};

static const config_key config_alert_keys[] = {
	CONFIG_KEY("name", CONFIG_STR, sje_alert_cfg, name,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY("when", CONFIG_STR, sje_alert_cfg, when,
	    .flags = CONFIG_REQUIRED | CONFIG_NONEMPTY),
	CONFIG_KEY("notify", CONFIG_STR, sje_alert_cfg, notify),
	CONFIG_KEY("for_s", CONFIG_U32, sje_alert_cfg, for_s, .def = "0"),
	CONFIG_END,
};

static const config_key config_monitoring_keys[] = {
	CONFIG_KEY("metrics", CONFIG_BOOL, sje_config, monitoring.metrics,
	    .def = "true"),
	CONFIG_KEY("alerts", CONFIG_LIST, sje_config, monitoring.alerts,
	    .flags        = CONFIG_UNIQUE | CONFIG_HAS_LINE,
	    .count_offset = offsetof(sje_config, monitoring.n_alerts),
	    .elem_size    = sizeof(sje_alert_cfg),
	    .line_offset  = offsetof(sje_alert_cfg, line),
	    .sub          = config_alert_keys),
	CONFIG_KEY("check_interval_s", CONFIG_U32, sje_config,
	    monitoring.check_interval_s, .def = "15", .min = 1),
	CONFIG_KEY("window_s", CONFIG_U32, sje_config, monitoring.window_s,
	    .def = "300", .min = 1),
	CONFIG_END,
};

// config_keys is the top level of config.yaml.
static const config_key config_keys[] = {
	CONFIG_SECTION_KEY("server", config_server_keys),
	CONFIG_SECTION_KEY("http", config_http_keys),
	CONFIG_SECTION_KEY("worker", config_worker_keys),
	CONFIG_SECTION_KEY("client", config_client_keys),
	CONFIG_SECTION_KEY("executor", config_executor_keys),
	CONFIG_SECTION_KEY("tasks", config_tasks_keys),
	{ .name   = "workflows",
	    .type = CONFIG_CUSTOM,
	    .walk = config_walk_workflows,
	    .fini = config_fini_workflows },
	CONFIG_KEY("plugins", CONFIG_LIST, sje_config, plugins,
	    .flags        = CONFIG_UNIQUE | CONFIG_HAS_LINE,
	    .count_offset = offsetof(sje_config, n_plugins),
	    .elem_size    = sizeof(sje_plugin_cfg),
	    .line_offset  = offsetof(sje_plugin_cfg, line),
	    .sub          = config_plugin_keys),
	CONFIG_KEY("schedules", CONFIG_LIST, sje_config, schedules,
	    .flags        = CONFIG_UNIQUE | CONFIG_HAS_LINE,
	    .count_offset = offsetof(sje_config, n_schedules),
	    .elem_size    = sizeof(sje_schedule_cfg),
	    .line_offset  = offsetof(sje_schedule_cfg, line),
	    .sub          = config_schedule_keys),
	CONFIG_SECTION_KEY("security", config_security_keys),
	CONFIG_SECTION_KEY("logging", config_logging_keys),
	CONFIG_SECTION_KEY("monitoring", config_monitoring_keys),
	CONFIG_END,
};

// The duplicate-name check of CONFIG_UNIQUE reads a char * at offset 0.
_Static_assert(offsetof(sje_plugin_cfg, name) == 0, "name first");
_Static_assert(offsetof(sje_api_key_cfg, name) == 0, "name first");
_Static_assert(offsetof(sje_alert_cfg, name) == 0, "name first");
_Static_assert(offsetof(sje_schedule_cfg, name) == 0, "name first");
_Static_assert(offsetof(sje_workflow_step, name) == 0, "name first");

// Errors. -------------------------------------------------------------------

// config_failf writes a whole error line. Returns SJE_ECONFIG.
static sje_err config_failf(config_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sje_err
config_failf(config_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return SJE_ECONFIG;
}

// config_fail writes "<file>:<line>: <key>: <message>", or, when line is 0,
// "environment: <key>: <message>" with the variable's name as key. Returns
// SJE_ECONFIG.
static sje_err config_fail(config_ctx *c, int line, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static sje_err
config_fail(config_ctx *c, int line, const char *key, const char *fmt, ...)
{
	char    msg[CONFIG_MSG_MAX];
	va_list ap;

	if (c->errlen == 0) {
		return SJE_ECONFIG;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line == 0) {
		return config_failf(c, "environment: %s: %s", key, msg);
	}
	if (c->file == NULL) {
		// Only a built-in default could fail here: our own bug.
		return config_failf(c, "default of %s: %s", key, msg);
	}
	if (key[0] == '\0') {
		return config_failf(c, "%s:%d: %s", c->file, line, msg);
	}
	return config_failf(c, "%s:%d: %s: %s", c->file, line, key, msg);
}

// config_oom reports that memory ran out. Returns SJE_ENOMEM.
static sje_err
config_oom(config_ctx *c)
{
	config_failf(c, "out of memory while loading the configuration");
	return SJE_ENOMEM;
}

// config_show copies text into buf (len bytes) for a message: control
// characters become '?' and a long text is cut short with "...".
static const char *
config_show(const char *text, char *buf, size_t len)
{
	size_t i;
	size_t max = len - 4; // room for "..." and the terminator

	if (max > CONFIG_SHOW_MAX) {
		max = CONFIG_SHOW_MAX;
	}
	for (i = 0; text[i] != '\0' && i < max; i++) {
		unsigned char ch = (unsigned char) text[i];
		buf[i]           = (ch < 0x20 || ch == 0x7f) ? '?' : (char) ch;
	}
	if (text[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

// config_choices writes "a, b or c" into buf.
static const char *
config_choices(const char *const *choices, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; choices[i] != NULL; i++) {
		const char *sep = i == 0     ? ""
		    : choices[i + 1] == NULL ? " or "
		                             : ", ";
		int         n =
		    snprintf(buf + used, len - used, "%s%s", sep, choices[i]);
		if (n < 0 || (size_t) n >= len - used) {
			break;
		}
		used += (size_t) n;
	}
	return buf;
}

// YAML nodes. ----------------------------------------------------------------

static int
config_line(const yaml_node_t *node)
{
	return (int) node->start_mark.line + 1;
}

static const char *
config_text(const yaml_node_t *node)
{
	return (const char *) node->data.scalar.value;
}

static bool
config_is_null_text(const char *s)
{
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

// config_null tells whether node is YAML's null: an empty value, ~ or null,
// unquoted. A section, list or map given as null is taken as empty.
static bool
config_null(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE &&
	    node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    config_is_null_text(config_text(node));
}

// config_describe says what node is, for "got ..." in messages.
static const char *
config_describe(const yaml_node_t *node, char *buf, size_t len)
{
	char shown[CONFIG_SHOW_MAX + 4];

	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		snprintf(buf, len, "'%s'",
		    config_show(config_text(node), shown, sizeof shown));
		return buf;
	}
}

static yaml_node_t *
config_node(config_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

// config_join writes "path.name" (or name alone at the top) into buf.
static const char *
config_join(char *buf, size_t len, const char *path, const char *name)
{
	// A key path longer than buf is cut short; it only names a key in an
	// error.
	sje__snprintf(
	    buf, len, "%s%s%s", path, path[0] == '\0' ? "" : ".", name);
	return buf;
}

// config_index writes "path[i]" into buf.
static const char *
config_index(char *buf, size_t len, const char *path, size_t i)
{
	snprintf(buf, len, "%s[%zu]", path, i);
	return buf;
}

// config_scalar checks that node is a scalar without NUL characters, as
// every string of the config must be.
static sje_err
config_scalar(
    config_ctx *c, yaml_node_t *node, const char *path, const char *expected)
{
	char got[CONFIG_SHOW_MAX + 8];

	if (node->type != YAML_SCALAR_NODE) {
		return config_fail(c, config_line(node), path,
		    "expected %s, got %s", expected,
		    config_describe(node, got, sizeof got));
	}
	if (strlen(config_text(node)) != node->data.scalar.length) {
		return config_fail(
		    c, config_line(node), path, "contains a NUL character");
	}
	return SJE_OK;
}

// Scalars. -------------------------------------------------------------------

// config_set_str replaces the string at *field with a copy of text.
static sje_err
config_set_str(char **field, const char *text)
{
	char *s = strdup(text);

	if (s == NULL) {
		return SJE_ENOMEM;
	}
	free(*field);
	*field = s;
	return SJE_OK;
}

// config_port_ok tells whether s is a port number, 0 to 65535.
static bool
config_port_ok(const char *s)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5) {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return false;
		}
		v = v * 10 + (unsigned long) (*s - '0');
	}
	return v <= 65535;
}

// config_hostport_ok tells whether s is host:port. The host may be a name,
// an IPv4 address, an IPv6 address in brackets or '*'; it may be empty
// only when empty_host is true (nng's listeners accept "tcp://:7100").
static bool
config_hostport_ok(const char *s, bool empty_host)
{
	const char *colon = strrchr(s, ':');
	size_t      hostlen;

	if (colon == NULL || !config_port_ok(colon + 1)) {
		return false;
	}
	hostlen = (size_t) (colon - s);
	if (hostlen == 0) {
		return empty_host;
	}
	if (s[0] == '[') {
		return hostlen > 2 && s[hostlen - 1] == ']';
	}
	for (const char *p = s; p < colon; p++) {
		unsigned char ch = (unsigned char) *p;
		if (ch <= ' ' || ch == '/' || ch == '[' || ch == ']' ||
		    ch == ':' || ch == 0x7f) {
			return false;
		}
	}
	return true;
}

// config_url_ok tells whether s is an nng URL of a transport SJE uses.
static bool
config_url_ok(const char *s)
{
	static const char *const net[]   = { "tcp://", "tls+tcp://", NULL };
	static const char *const local[] = { "ipc://", "inproc://", NULL };

	for (size_t i = 0; net[i] != NULL; i++) {
		size_t n = strlen(net[i]);
		if (strncmp(s, net[i], n) == 0) {
			return config_hostport_ok(s + n, true);
		}
	}
	for (size_t i = 0; local[i] != NULL; i++) {
		size_t n = strlen(local[i]);
		if (strncmp(s, local[i], n) == 0) {
			return s[n] != '\0';
		}
	}
	return false;
}

// config_urls_ok tells whether s is one URL or several joined by commas
// (no spaces, none empty).
static bool
config_urls_ok(const char *s)
{
	char one[1024];

	for (;;) {
		size_t n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(one)) {
			return false;
		}
		memcpy(one, s, n);
		one[n] = '\0';
		if (!config_url_ok(one)) {
			return false;
		}
		if (s[n] == '\0') {
			return true;
		}
		s += n + 1;
	}
}

static int
config_choice_index(const char *const *choices, const char *text)
{
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], text) == 0) {
			return i;
		}
	}
	return -1;
}

// config_parse_scalar checks text as the value of scalar key k and stores
// it in the struct at base. A bad value is reported at line (0: the
// environment) and key.
static sje_err
config_parse_scalar(config_ctx *c, const config_key *k, char *base,
    const char *text, int line, const char *key)
{
	char   *field = base + k->offset;
	char    shown[CONFIG_SHOW_MAX + 4];
	char    list[128];
	int     idx;
	sje_err rv = SJE_OK;

	config_show(text, shown, sizeof shown);
	switch (k->type) {
	case CONFIG_STR:
		if ((k->flags & CONFIG_NONEMPTY) && text[0] == '\0') {
			return config_fail(c, line, key,
			    "expected a non-empty string, got ''");
		}
		if ((k->flags & CONFIG_NULLABLE) && text[0] == '\0') {
			free(*(char **) field);
			*(char **) field = NULL;
			return SJE_OK;
		}
		rv = config_set_str((char **) field, text);
		break;
	case CONFIG_URL:
		if (!((k->flags & CONFIG_UNSET_OK) && text[0] == '\0') &&
		    !((k->flags & CONFIG_MULTI) ? config_urls_ok(text)
		                                : config_url_ok(text))) {
			return config_fail(c, line, key,
			    "expected a URL (tcp://HOST:PORT, "
			    "tls+tcp://HOST:PORT, ipc://PATH or "
			    "inproc://NAME)%s, got '%s'",
			    (k->flags & CONFIG_MULTI) ? " or a list of them"
			                              : "",
			    shown);
		}
		rv = config_set_str((char **) field, text);
		break;
	case CONFIG_HOSTPORT:
		if (!config_hostport_ok(text, false)) {
			return config_fail(c, line, key,
			    "expected host:port, got '%s'", shown);
		}
		rv = config_set_str((char **) field, text);
		break;
	case CONFIG_CHOICE:
	case CONFIG_SYNC:
		if ((idx = config_choice_index(k->choices, text)) < 0) {
			return config_fail(c, line, key,
			    "expected %s, got '%s'",
			    config_choices(k->choices, list, sizeof list),
			    shown);
		}
		if (k->type == CONFIG_SYNC) {
			*(sje_sync_mode *) field = (sje_sync_mode) idx;
		} else {
			rv = config_set_str((char **) field, text);
		}
		break;
	case CONFIG_U32: {
		uint64_t v = 0;

		if (text[0] == '\0') {
			return config_fail(c, line, key,
			    "expected a non-negative integer, got ''");
		}
		for (const char *p = text; *p != '\0'; p++) {
			if (*p < '0' || *p > '9') {
				return config_fail(c, line, key,
				    "expected a non-negative integer, "
				    "got '%s'",
				    shown);
			}
			v = v * 10 + (uint64_t) (*p - '0');
			if (v > UINT32_MAX) {
				return config_fail(c, line, key,
				    "expected an integer <= %lu, got '%s'",
				    (unsigned long) UINT32_MAX, shown);
			}
		}
		if (v < k->min) {
			return config_fail(c, line, key,
			    "expected an integer >= %lu, got '%s'",
			    (unsigned long) k->min, shown);
		}
		*(uint32_t *) field = (uint32_t) v;
		break;
	}
	case CONFIG_BOOL:
		// YAML 1.2's core schema: no yes/no/on/off.
		if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0 ||
		    strcmp(text, "TRUE") == 0) {
			*(bool *) field = true;
		} else if (strcmp(text, "false") == 0 ||
		    strcmp(text, "False") == 0 || strcmp(text, "FALSE") == 0) {
			*(bool *) field = false;
		} else {
			return config_fail(c, line, key,
			    "expected true or false, got '%s'", shown);
		}
		break;
	case CONFIG_SHA256: {
		char   hex[65];
		size_t i;

		for (i = 0; i < 64 && text[i] != '\0'; i++) {
			char ch = text[i];
			if (ch >= 'A' && ch <= 'F') {
				ch = (char) (ch - 'A' + 'a');
			} else if (!((ch >= '0' && ch <= '9') ||
			               (ch >= 'a' && ch <= 'f'))) {
				break;
			}
			hex[i] = ch;
		}
		if (i != 64 || text[64] != '\0') {
			return config_fail(c, line, key,
			    "expected 64 hex digits (a SHA-256), got '%s'",
			    shown);
		}
		hex[64] = '\0';
		rv      = config_set_str((char **) field, hex);
		break;
	}
	default:
		return config_fail(c, line, key, "not a scalar key");
	}
	return rv == SJE_OK ? SJE_OK : config_oom(c);
}

// Lists of strings and labels. -----------------------------------------------

static void
config_strlist_fini(sje_strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i]);
	}
	free(l->items);
	l->items = NULL;
	l->n     = 0;
}

// config_strlist_push appends a copy of the len bytes at s to l.
static sje_err
config_strlist_push(sje_strlist *l, const char *s, size_t len)
{
	char  *copy = malloc(len + 1);
	char **items;

	if (copy == NULL) {
		return SJE_ENOMEM;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	if ((items = realloc(l->items, (l->n + 1) * sizeof *items)) == NULL) {
		free(copy);
		return SJE_ENOMEM;
	}
	items[l->n++] = copy;
	l->items      = items;
	return SJE_OK;
}

// config_check_item checks one string of list key k.
static sje_err
config_check_item(config_ctx *c, const config_key *k, const char *text,
    int line, const char *key)
{
	char shown[CONFIG_SHOW_MAX + 4];
	char list[128];

	if ((k->flags & CONFIG_NONEMPTY) && text[0] == '\0') {
		return config_fail(
		    c, line, key, "expected a non-empty string, got ''");
	}
	if (k->choices != NULL && config_choice_index(k->choices, text) < 0) {
		return config_fail(c, line, key, "expected %s, got '%s'",
		    config_choices(k->choices, list, sizeof list),
		    config_show(text, shown, sizeof shown));
	}
	return SJE_OK;
}

static sje_kv **
config_labels_at(const config_key *k, char *base)
{
	return (sje_kv **) (base + k->offset);
}

static size_t *
config_count_at(const config_key *k, char *base)
{
	return (size_t *) (base + k->count_offset);
}

static void
config_labels_fini(const config_key *k, char *base)
{
	sje_kv **kv = config_labels_at(k, base);
	size_t  *n  = config_count_at(k, base);

	for (size_t i = 0; i < *n; i++) {
		free((*kv)[i].key);
		free((*kv)[i].value);
	}
	free(*kv);
	*kv = NULL;
	*n  = 0;
}

// config_labels_add appends key=value to the labels of k. The array has
// room: it was allocated for the most labels the input can hold.
static sje_err
config_labels_add(const config_key *k, char *base, const char *key,
    size_t keylen, const char *value, size_t valuelen)
{
	sje_kv *kv = *config_labels_at(k, base) + *config_count_at(k, base);

	(*config_count_at(k, base))++;
	if ((kv->key = malloc(keylen + 1)) == NULL ||
	    (kv->value = malloc(valuelen + 1)) == NULL) {
		return SJE_ENOMEM;
	}
	memcpy(kv->key, key, keylen);
	kv->key[keylen] = '\0';
	memcpy(kv->value, value, valuelen);
	kv->value[valuelen] = '\0';
	return SJE_OK;
}

// config_labels_find tells whether the labels of k already have key.
static bool
config_labels_find(
    const config_key *k, char *base, const char *key, size_t keylen)
{
	sje_kv *kv = *config_labels_at(k, base);

	for (size_t i = 0; i < *config_count_at(k, base); i++) {
		if (strlen(kv[i].key) == keylen &&
		    memcmp(kv[i].key, key, keylen) == 0) {
			return true;
		}
	}
	return false;
}

// JSON. ----------------------------------------------------------------------

static bool
config_is_int(const char *s)
{
	if (*s == '-' || *s == '+') {
		s++;
	}
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return false;
		}
	}
	return true;
}

// config_is_float tells whether s is a decimal number with a fraction or
// an exponent (1.5, .5, 1e3, -2.5E-3).
static bool
config_is_float(const char *s)
{
	size_t digits = 0;

	if (*s == '-' || *s == '+') {
		s++;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		digits++;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			digits++;
		}
	}
	if (digits == 0) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+') {
			s++;
		}
		if (*s < '0' || *s > '9') {
			return false;
		}
		while (*s >= '0' && *s <= '9') {
			s++;
		}
	}
	return *s == '\0';
}

// config_json_scalar converts a scalar: unquoted null, booleans and numbers
// become those JSON types; everything else is a string. NULL: no memory.
static json_t *
config_json_scalar(const yaml_node_t *node)
{
	const char *s = config_text(node);
	double      d;

	if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (config_is_null_text(s)) {
			return json_null();
		}
		if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
		    strcmp(s, "TRUE") == 0) {
			return json_true();
		}
		if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
		    strcmp(s, "FALSE") == 0) {
			return json_false();
		}
		if (config_is_int(s)) {
			long long v;
			errno = 0;
			v     = strtoll(s, NULL, 10);
			if (errno == 0) {
				return json_integer((json_int_t) v);
			}
		}
		// Integers too large for JSON's integers become reals.
		if (config_is_int(s) || config_is_float(s)) {
			d = strtod(s, NULL);
			if (isfinite(d)) {
				return json_real(d);
			}
		}
	}
	return json_stringn(s, node->data.scalar.length);
}

// config_to_json converts node and what it holds into *out (caller owns).
static sje_err
config_to_json(config_ctx *c, yaml_node_t *node, unsigned depth,
    const char *path, json_t **out)
{
	json_t *j;
	sje_err rv;

	if (depth > SJE_MAX_JSON_DEPTH) {
		return config_fail(c, config_line(node), path,
		    "nested deeper than %u levels", SJE_MAX_JSON_DEPTH);
	}
	if (c->json_budget == 0) {
		return config_fail(c, config_line(node), path,
		    "more than %u values (do aliases expand too far?)",
		    CONFIG_JSON_BUDGET);
	}
	c->json_budget--;

	switch (node->type) {
	case YAML_SCALAR_NODE:
		if ((j = config_json_scalar(node)) == NULL) {
			return config_oom(c);
		}
		*out = j;
		return SJE_OK;

	case YAML_SEQUENCE_NODE:
		if ((j = json_array()) == NULL) {
			return config_oom(c);
		}
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top; it++) {
			json_t *v;
			if ((rv = config_to_json(c, config_node(c, *it),
			         depth + 1, path, &v)) != SJE_OK) {
				json_decref(j);
				return rv;
			}
			if (json_array_append_new(j, v) != 0) {
				json_decref(j);
				return config_oom(c);
			}
		}
		*out = j;
		return SJE_OK;

	case YAML_MAPPING_NODE:
		if ((j = json_object()) == NULL) {
			return config_oom(c);
		}
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = config_node(c, p->key);
			json_t      *v;
			char         sub[CONFIG_PATH_MAX];

			rv = config_scalar(c, kn, path, "a string key");
			if (rv != SJE_OK) {
				json_decref(j);
				return rv;
			}
			config_join(sub, sizeof sub, path, config_text(kn));
			if (json_object_get(j, config_text(kn)) != NULL) {
				json_decref(j);
				return config_fail(
				    c, config_line(kn), sub, "duplicate key");
			}
			if ((rv = config_to_json(c, config_node(c, p->value),
			         depth + 1, sub, &v)) != SJE_OK) {
				json_decref(j);
				return rv;
			}
			if (json_object_set_new(j, config_text(kn), v) != 0) {
				json_decref(j);
				return config_oom(c);
			}
		}
		*out = j;
		return SJE_OK;

	default:
		return config_fail(
		    c, config_line(node), path, "unexpected YAML node");
	}
}

// config_walk_json stores node as JSON text in the char * of key k.
static sje_err
config_walk_json(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	char  **field = (char **) (base + k->offset);
	char    got[CONFIG_SHOW_MAX + 8];
	json_t *j;
	char   *text;
	sje_err rv;

	if (config_null(node)) {
		// Given as null: the same as not given.
		free(*field);
		*field = NULL;
		if ((k->flags & CONFIG_OBJECT) &&
		    config_set_str(field, "{}") != SJE_OK) {
			return config_oom(c);
		}
		return SJE_OK;
	}
	if ((k->flags & CONFIG_OBJECT) && node->type != YAML_MAPPING_NODE) {
		return config_fail(c, config_line(node), path,
		    "expected a mapping, got %s",
		    config_describe(node, got, sizeof got));
	}
	if ((rv = config_to_json(c, node, 1, path, &j)) != SJE_OK) {
		return rv;
	}
	text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (text == NULL) {
		return config_oom(c);
	}
	if (strlen(text) > SJE_MAX_PARAMS_BYTES) {
		free(text);
		return config_fail(c, config_line(node), path,
		    "larger than %u bytes as JSON", SJE_MAX_PARAMS_BYTES);
	}
	free(*field);
	*field = text;
	return SJE_OK;
}

// Defaults and freeing, over the tables. -------------------------------------

static void config_free_keys(const config_key *keys, char *base);

static void *
config_list_get(const config_key *k, char *base)
{
	void *arr;

	memcpy(&arr, base + k->offset, sizeof arr);
	return arr;
}

static void
config_list_set(const config_key *k, char *base, void *arr)
{
	memcpy(base + k->offset, &arr, sizeof arr);
}

// config_free_list frees the elements and the array of LIST key k.
static void
config_free_list(const config_key *k, char *base)
{
	char   *arr = config_list_get(k, base);
	size_t *n   = config_count_at(k, base);

	for (size_t i = 0; i < *n; i++) {
		config_free_keys(k->sub, arr + i * k->elem_size);
	}
	free(arr);
	config_list_set(k, base, NULL);
	*n = 0;
}

// config_free_key frees what key k holds in the struct at base and leaves
// the fields empty.
static void
config_free_key(const config_key *k, char *base)
{
	char *field = base + k->offset;

	switch (k->type) {
	case CONFIG_SECTION:
		config_free_keys(k->sub, field);
		break;
	case CONFIG_STR:
	case CONFIG_URL:
	case CONFIG_HOSTPORT:
	case CONFIG_CHOICE:
	case CONFIG_SHA256:
	case CONFIG_JSON:
		free(*(char **) field);
		*(char **) field = NULL;
		break;
	case CONFIG_STRLIST:
		config_strlist_fini((sje_strlist *) field);
		break;
	case CONFIG_LABELS:
		config_labels_fini(k, base);
		break;
	case CONFIG_LIST:
		config_free_list(k, base);
		break;
	case CONFIG_CUSTOM:
		k->fini(k, base);
		break;
	case CONFIG_SYNC:
	case CONFIG_U32:
	case CONFIG_BOOL:
		break;
	}
}

static void
config_free_keys(const config_key *keys, char *base)
{
	for (const config_key *k = keys; k->name != NULL; k++) {
		config_free_key(k, base);
	}
}

// config_defaults sets every key of keys in the struct at base to its
// default. Lists, maps and custom keys start empty (the struct is zeroed).
static sje_err
config_defaults(config_ctx *c, const config_key *keys, char *base)
{
	sje_err rv;

	for (const config_key *k = keys; k->name != NULL; k++) {
		char **field = (char **) (base + k->offset);

		switch (k->type) {
		case CONFIG_SECTION:
			rv = config_defaults(c, k->sub, base + k->offset);
			break;
		case CONFIG_STR:
		case CONFIG_URL:
		case CONFIG_HOSTPORT:
		case CONFIG_CHOICE:
		case CONFIG_SHA256:
			if (k->def != NULL) {
				rv = config_parse_scalar(
				    c, k, base, k->def, 1, k->name);
			} else if (k->flags & CONFIG_NULLABLE) {
				rv = SJE_OK;
			} else {
				rv = config_set_str(field, "") == SJE_OK
				    ? SJE_OK
				    : config_oom(c);
			}
			break;
		case CONFIG_SYNC:
		case CONFIG_U32:
		case CONFIG_BOOL:
			rv = config_parse_scalar(
			    c, k, base, k->def, 1, k->name);
			break;
		case CONFIG_JSON:
			rv = SJE_OK;
			if ((k->flags & CONFIG_OBJECT) &&
			    config_set_str(field, "{}") != SJE_OK) {
				rv = config_oom(c);
			}
			break;
		default:
			rv = SJE_OK;
			break;
		}
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

// The walk over the file. ----------------------------------------------------

static sje_err config_walk_value(config_ctx *c, const config_key *k,
    char *base, yaml_node_t *node, const char *path);

// config_walk_map reads mapping node (null: empty) with the keys of table
// keys into the struct at base. c->last_seen gets a bit for each key of the
// table that was given.
static sje_err
config_walk_map(config_ctx *c, const config_key *keys, char *base,
    yaml_node_t *node, const char *path)
{
	uint32_t seen = 0;
	char     got[CONFIG_SHOW_MAX + 8];
	sje_err  rv;

	if (!config_null(node)) {
		if (node->type != YAML_MAPPING_NODE) {
			return config_fail(c, config_line(node), path,
			    "expected a mapping, got %s",
			    config_describe(node, got, sizeof got));
		}
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t      *kn = config_node(c, p->key);
			const config_key *k;
			char              sub[CONFIG_PATH_MAX];
			size_t            idx;

			if ((rv = config_scalar(c, kn, path, "a key")) !=
			    SJE_OK) {
				return rv;
			}
			config_join(sub, sizeof sub, path, config_text(kn));
			for (k = keys; k->name != NULL; k++) {
				if (strcmp(k->name, config_text(kn)) == 0) {
					break;
				}
			}
			if (k->name == NULL) {
				return config_fail(
				    c, config_line(kn), sub, "unknown key");
			}
			idx = (size_t) (k - keys);
			if (seen & (1u << idx)) {
				return config_fail(
				    c, config_line(kn), sub, "duplicate key");
			}
			seen |= 1u << idx;
			if ((rv = config_walk_value(c, k, base,
			         config_node(c, p->value), sub)) != SJE_OK) {
				return rv;
			}
		}
	}
	for (const config_key *k = keys; k->name != NULL; k++) {
		if ((k->flags & CONFIG_REQUIRED) &&
		    !(seen & (1u << (k - keys)))) {
			return config_fail(c, config_line(node), path,
			    "missing required key '%s'", k->name);
		}
	}
	c->last_seen = seen;
	return SJE_OK;
}

// config_walk_strlist reads a list of strings (null: empty) into key k.
static sje_err
config_walk_strlist(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	sje_strlist *l = (sje_strlist *) (base + k->offset);
	char         got[CONFIG_SHOW_MAX + 8];
	size_t       i = 0;
	sje_err      rv;

	config_strlist_fini(l);
	if (config_null(node)) {
		return SJE_OK;
	}
	if (node->type != YAML_SEQUENCE_NODE) {
		return config_fail(c, config_line(node), path,
		    "expected a list of strings, got %s",
		    config_describe(node, got, sizeof got));
	}
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = config_node(c, *it);
		char         sub[CONFIG_PATH_MAX];

		config_index(sub, sizeof sub, path, i);
		if ((rv = config_scalar(c, item, sub, "a string")) != SJE_OK ||
		    (rv = config_check_item(c, k, config_text(item),
		         config_line(item), sub)) != SJE_OK) {
			return rv;
		}
		if (config_strlist_push(l, config_text(item),
		        item->data.scalar.length) != SJE_OK) {
			return config_oom(c);
		}
	}
	return SJE_OK;
}

// config_walk_labels reads a mapping of strings (null: empty) into key k.
static sje_err
config_walk_labels(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	char    got[CONFIG_SHOW_MAX + 8];
	size_t  n;
	sje_err rv;

	config_labels_fini(k, base);
	if (config_null(node)) {
		return SJE_OK;
	}
	if (node->type != YAML_MAPPING_NODE) {
		return config_fail(c, config_line(node), path,
		    "expected a mapping of strings, got %s",
		    config_describe(node, got, sizeof got));
	}
	n = (size_t) (node->data.mapping.pairs.top -
	    node->data.mapping.pairs.start);
	if (n > SJE_MAX_LABELS) {
		return config_fail(c, config_line(node), path,
		    "more than %u labels", SJE_MAX_LABELS);
	}
	if (n == 0) {
		return SJE_OK;
	}
	if ((*config_labels_at(k, base) = calloc(n, sizeof(sje_kv))) == NULL) {
		return config_oom(c);
	}
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
	     p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = config_node(c, p->key);
		yaml_node_t *vn = config_node(c, p->value);
		const char  *value;
		char         sub[CONFIG_PATH_MAX];

		if ((rv = config_scalar(c, kn, path, "a string key")) !=
		    SJE_OK) {
			return rv;
		}
		config_join(sub, sizeof sub, path, config_text(kn));
		if (kn->data.scalar.length == 0) {
			return config_fail(c, config_line(kn), path,
			    "a label's name cannot be empty");
		}
		if (config_labels_find(
		        k, base, config_text(kn), kn->data.scalar.length)) {
			return config_fail(
			    c, config_line(kn), sub, "duplicate key");
		}
		if ((rv = config_scalar(c, vn, sub, "a string")) != SJE_OK) {
			return rv;
		}
		value = config_null(vn) ? "" : config_text(vn);
		if (config_labels_add(k, base, config_text(kn),
		        kn->data.scalar.length, value,
		        strlen(value)) != SJE_OK) {
			return config_oom(c);
		}
	}
	return SJE_OK;
}

// config_walk_list reads a list of mappings (null: empty) into the array of
// LIST key k, replacing what it held. Each element starts from the
// defaults of its table.
static sje_err
config_walk_list(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	size_t *n = config_count_at(k, base);
	char    got[CONFIG_SHOW_MAX + 8];
	char   *arr;
	size_t  count;
	sje_err rv;

	config_free_list(k, base);
	if (config_null(node)) {
		return SJE_OK;
	}
	if (node->type != YAML_SEQUENCE_NODE) {
		return config_fail(c, config_line(node), path,
		    "expected a list, got %s",
		    config_describe(node, got, sizeof got));
	}
	count = (size_t) (node->data.sequence.items.top -
	    node->data.sequence.items.start);
	if (count == 0) {
		return SJE_OK;
	}
	if ((arr = calloc(count, k->elem_size)) == NULL) {
		return config_oom(c);
	}
	config_list_set(k, base, arr);
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item =
		    config_node(c, node->data.sequence.items.start[i]);
		char *elem = arr + i * k->elem_size;
		char  sub[CONFIG_PATH_MAX];

		(*n)++;
		config_index(sub, sizeof sub, path, i);
		if (k->flags & CONFIG_HAS_LINE) {
			*(int *) (elem + k->line_offset) = config_line(item);
		}
		if ((rv = config_defaults(c, k->sub, elem)) != SJE_OK ||
		    (rv = config_walk_map(c, k->sub, elem, item, sub)) !=
		        SJE_OK) {
			return rv;
		}
		if (!(k->flags & CONFIG_UNIQUE)) {
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const char *name = *(char **) elem;
			char        at[CONFIG_PATH_MAX];

			if (strcmp(*(char **) (arr + j * k->elem_size),
			        name) != 0) {
				continue;
			}
			config_join(at, sizeof at, sub, "name");
			return config_fail(c, config_line(item), at,
			    "duplicate name '%s' (first at line %d)", name,
			    config_line(config_node(
			        c, node->data.sequence.items.start[j])));
		}
	}
	return SJE_OK;
}

// config_expected says what a scalar key k takes, for "expected ...".
static const char *
config_expected(const config_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case CONFIG_URL:
		return "a URL";
	case CONFIG_HOSTPORT:
		return "host:port";
	case CONFIG_CHOICE:
	case CONFIG_SYNC:
		return config_choices(k->choices, buf, len);
	case CONFIG_U32:
		return "a non-negative integer";
	case CONFIG_BOOL:
		return "true or false";
	case CONFIG_SHA256:
		return "64 hex digits (a SHA-256)";
	default:
		return "a string";
	}
}

// config_walk_urls reads a sequence of URLs, the value of a CONFIG_MULTI
// URL key k: each item is checked where it stands, and the list is kept
// joined by commas.
static sje_err
config_walk_urls(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	char    joined[4096];
	size_t  at = 0, i = 0;
	sje_err rv;

	joined[0] = '\0';
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *item = config_node(c, *it);
		char         sub[CONFIG_PATH_MAX];
		char         shown[CONFIG_SHOW_MAX + 4];

		config_index(sub, sizeof sub, path, i);
		if ((rv = config_scalar(c, item, sub, "a URL")) != SJE_OK) {
			return rv;
		}
		const char *text = config_text(item);
		config_show(text, shown, sizeof shown);
		if (!config_url_ok(text)) {
			return config_fail(c, config_line(item), sub,
			    "expected a URL (tcp://HOST:PORT, "
			    "tls+tcp://HOST:PORT, ipc://PATH or "
			    "inproc://NAME), got '%s'",
			    shown);
		}
		size_t n = strlen(text);
		if (at + n + 2 > sizeof(joined)) {
			return config_fail(c, config_line(item), sub,
			    "the list of URLs is longer than %zu bytes",
			    sizeof(joined) - 1);
		}
		if (at > 0) {
			joined[at++] = ',';
		}
		memcpy(joined + at, text, n + 1);
		at += n;
	}
	if (at == 0) {
		return config_fail(c, config_line(node), path,
		    "expected at least one URL, got an empty list");
	}
	return config_set_str((char **) (base + k->offset), joined) == SJE_OK
	    ? SJE_OK
	    : config_oom(c);
}

// config_walk_value reads node as the value of key k into the struct at
// base, then runs the key's check.
static sje_err
config_walk_value(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	char    expected[128];
	sje_err rv;

	if (k->type == CONFIG_URL && (k->flags & CONFIG_MULTI) &&
	    node->type == YAML_SEQUENCE_NODE) {
		rv = config_walk_urls(c, k, base, node, path);
		if (rv == SJE_OK && k->check != NULL) {
			rv = k->check(c, k, base, node, path);
		}
		return rv;
	}
	switch (k->type) {
	case CONFIG_SECTION:
		rv = config_walk_map(c, k->sub, base + k->offset, node, path);
		break;
	case CONFIG_STR:
	case CONFIG_URL:
	case CONFIG_HOSTPORT:
	case CONFIG_CHOICE:
	case CONFIG_SYNC:
	case CONFIG_U32:
	case CONFIG_BOOL:
	case CONFIG_SHA256:
		if ((rv = config_scalar(c, node, path,
		         config_expected(k, expected, sizeof expected))) !=
		    SJE_OK) {
			break;
		}
		// An empty or null value is the empty string for string keys;
		// other types then report what they expected.
		rv = config_parse_scalar(c, k, base,
		    config_null(node) && k->type != CONFIG_U32 &&
		            k->type != CONFIG_BOOL
		        ? ""
		        : config_text(node),
		    config_line(node), path);
		break;
	case CONFIG_STRLIST:
		rv = config_walk_strlist(c, k, base, node, path);
		break;
	case CONFIG_LABELS:
		rv = config_walk_labels(c, k, base, node, path);
		break;
	case CONFIG_JSON:
		rv = config_walk_json(c, k, base, node, path);
		break;
	case CONFIG_LIST:
		rv = config_walk_list(c, k, base, node, path);
		break;
	case CONFIG_CUSTOM:
		rv = k->walk(c, k, base, node, path);
		break;
	default:
		rv = config_fail(c, config_line(node), path, "unknown type");
		break;
	}
	if (rv == SJE_OK && k->check != NULL) {
		rv = k->check(c, k, base, node, path);
	}
	return rv;
}

// config_name_key checks kn, a key naming a function or a workflow.
static sje_err
config_name_key(config_ctx *c, yaml_node_t *kn, const char *path)
{
	sje_err rv;

	if ((rv = config_scalar(c, kn, path, "a name")) != SJE_OK) {
		return rv;
	}
	if (kn->data.scalar.length == 0) {
		return config_fail(
		    c, config_line(kn), path, "a name cannot be empty");
	}
	return SJE_OK;
}

// config_walk_named reads node, a mapping from names to entries (the
// form of tasks.functions and workflows): null or an empty mapping gives
// none. Else begin(c, count) makes room for count entries (zeroed), each
// key must be a name (config_name_key) that no key before it gave (else
// "duplicate <what>"), and entry(c, i, key, value, sub) reads entry i,
// whose dotted path is sub. *n counts the entries begun, so that the
// caller's fini frees a partly read array. expected says what node must
// be.
static sje_err
config_walk_named(config_ctx *c, yaml_node_t *node, const char *path,
    const char *expected, const char *what, size_t *n,
    sje_err (*begin)(config_ctx *c, size_t count),
    sje_err (*entry)(config_ctx *c, size_t i, yaml_node_t *kn, yaml_node_t *vn,
        const char *sub))
{
	char    got[CONFIG_SHOW_MAX + 8];
	size_t  count;
	sje_err rv;

	if (config_null(node)) {
		return SJE_OK;
	}
	if (node->type != YAML_MAPPING_NODE) {
		return config_fail(c, config_line(node), path,
		    "expected %s, got %s", expected,
		    config_describe(node, got, sizeof got));
	}
	count = (size_t) (node->data.mapping.pairs.top -
	    node->data.mapping.pairs.start);
	if (count == 0) {
		return SJE_OK;
	}
	if ((rv = begin(c, count)) != SJE_OK) {
		return rv;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_pair_t *p  = node->data.mapping.pairs.start + i;
		yaml_node_t      *kn = config_node(c, p->key);
		char              sub[CONFIG_PATH_MAX];

		(*n)++;
		if ((rv = config_name_key(c, kn, path)) != SJE_OK) {
			return rv;
		}
		config_join(sub, sizeof sub, path, config_text(kn));
		for (size_t j = 0; j < i; j++) {
			yaml_node_t *before = config_node(
			    c, node->data.mapping.pairs.start[j].key);
			if (strcmp(config_text(before), config_text(kn)) ==
			    0) {
				return config_fail(c, config_line(kn), sub,
				    "duplicate %s", what);
			}
		}
		if ((rv = entry(c, i, kn, config_node(c, p->value), sub)) !=
		    SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

// tasks.functions. -----------------------------------------------------------

// config_function_begin makes room for count functions, and for what each
// one's retry gave.
static sje_err
config_function_begin(config_ctx *c, size_t count)
{
	sje_config *cfg = c->cfg;

	free(c->fn_retry_seen);
	if ((cfg->tasks.functions = calloc(count, sizeof(sje_function_cfg))) ==
	        NULL ||
	    (c->fn_retry_seen = calloc(count, sizeof(uint32_t))) == NULL) {
		return config_oom(c);
	}
	return SJE_OK;
}

// config_function_entry reads function i, named by kn, from vn.
static sje_err
config_function_entry(
    config_ctx *c, size_t i, yaml_node_t *kn, yaml_node_t *vn, const char *sub)
{
	sje_function_cfg *fn = &c->cfg->tasks.functions[i];
	sje_err           rv;

	fn->line = config_line(kn);
	if ((rv = config_defaults(c, config_function_keys, (char *) fn)) !=
	    SJE_OK) {
		return rv;
	}
	if ((fn->name = strdup(config_text(kn))) == NULL) {
		return config_oom(c);
	}
	c->fn_index = i;
	return config_walk_map(c, config_function_keys, (char *) fn, vn, sub);
}

// config_walk_functions reads tasks.functions, a mapping from a function's
// name to its settings, into c->cfg->tasks.functions.
static sje_err
config_walk_functions(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	sje_config *cfg = c->cfg;

	(void) base;
	config_fini_functions(k, (char *) cfg);
	return config_walk_named(c, node, path,
	    "a mapping from names to functions", "function",
	    &cfg->tasks.n_functions, config_function_begin,
	    config_function_entry);
}

static void
config_fini_functions(const config_key *k, char *base)
{
	sje_config *cfg = (sje_config *) base;

	(void) k;
	for (size_t i = 0; i < cfg->tasks.n_functions; i++) {
		sje_function_cfg *fn = &cfg->tasks.functions[i];
		free(fn->name);
		config_free_keys(config_function_keys, (char *) fn);
	}
	free(cfg->tasks.functions);
	cfg->tasks.functions   = NULL;
	cfg->tasks.n_functions = 0;
}

// config_check_fn_retry notes which retry keys a function gave, so that
// config_inherit_retry fills in the others.
static sje_err
config_check_fn_retry(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	(void) k;
	(void) node;
	(void) path;
	((sje_function_cfg *) base)->has_retry = true;
	c->fn_retry_seen[c->fn_index]          = c->last_seen;
	return SJE_OK;
}

// config_check_command refuses an argv whose program is "".
static sje_err
config_check_command(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	sje_strlist *argv = (sje_strlist *) (base + k->offset);

	if (argv->n > 0 && argv->items[0][0] == '\0') {
		return config_fail(c, config_line(node), path,
		    "the program (the first item) cannot be empty");
	}
	return SJE_OK;
}

bool
sje_rate_parse(const char *text, uint32_t *count, uint32_t *per_ms)
{
	if (text == NULL || text[0] < '1' || text[0] > '9') {
		return false;
	}
	uint64_t    n = 0;
	const char *p = text;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (uint64_t) (*p++ - '0');
		if (n > SJE_RATE_MAX) {
			return false;
		}
	}
	uint32_t per;
	if (strcmp(p, "/s") == 0) {
		per = 1000;
	} else if (strcmp(p, "/m") == 0) {
		per = 60000;
	} else if (strcmp(p, "/h") == 0) {
		per = 3600000;
	} else {
		return false;
	}
	*count  = (uint32_t) n;
	*per_ms = per;
	return true;
}

// config_check_rate refuses a rate that sje_rate_parse does not read.
static sje_err
config_check_rate(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	const char *rate = *(char **) (base + k->offset);
	uint32_t    n, per;

	if (rate != NULL && rate[0] != '\0' &&
	    !sje_rate_parse(rate, &n, &per)) {
		return config_fail(c, config_line(node), path,
		    "expected a rate such as 100/s, 20/m or 500/h (a whole "
		    "number from 1 to %u, per second, minute or hour)",
		    SJE_RATE_MAX);
	}
	return SJE_OK;
}

// config_check_schedules checks each schedule once the whole file is read
// (its workflow may come after it): one of cron and every_s, a cron
// expression that parses, one of function and workflow, and a workflow
// that config defines. Errors name the schedule's line.
static sje_err
config_check_schedules(config_ctx *c)
{
	const sje_config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->n_schedules; i++) {
		const sje_schedule_cfg *sc = &cfg->schedules[i];
		char                    path[96], why[160];
		sje_cron                cron;

		snprintf(path, sizeof(path), "schedules[%zu]", i);
		size_t nl = strspn(sc->name,
		    "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-");
		if (sc->name[nl] != '\0' || nl > 64) {
			snprintf(path, sizeof(path), "schedules[%zu].name", i);
			return config_fail(c, sc->line, path,
			    "a schedule's name is 1 to 64 of A-Z a-z 0-9 _ . - "
			    "(it names the jobs it starts)");
		}
		if ((sc->cron != NULL) == (sc->every_s != 0)) {
			return config_fail(c, sc->line, path,
			    "schedule '%s' needs one of cron and every_s",
			    sc->name);
		}
		if (sc->cron != NULL &&
		    !sje_cron_parse(sc->cron, &cron, why, sizeof(why))) {
			snprintf(path, sizeof(path), "schedules[%zu].cron", i);
			return config_fail(c, sc->line, path, "%s", why);
		}
		if ((sc->function != NULL) == (sc->workflow != NULL)) {
			return config_fail(c, sc->line, path,
			    "schedule '%s' needs one of function and workflow",
			    sc->name);
		}
		if (sc->workflow != NULL) {
			bool found = false;
			for (size_t k = 0; k < cfg->n_workflows && !found;
			     k++) {
				found = strcmp(cfg->workflows[k].name,
				            sc->workflow) == 0;
			}
			if (!found) {
				snprintf(path, sizeof(path),
				    "schedules[%zu].workflow", i);
				return config_fail(c, sc->line, path,
				    "no workflow '%s' in workflows:",
				    sc->workflow);
			}
		}
	}
	return SJE_OK;
}

// config_inherit_retry gives each function the retry keys it left out from
// tasks.defaults.retry, once the file and the environment are read.
static sje_err
config_inherit_retry(config_ctx *c)
{
	sje_config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->tasks.n_functions; i++) {
		char    *dst  = (char *) &cfg->tasks.functions[i].retry;
		char    *src  = (char *) &cfg->tasks.retry;
		uint32_t seen = c->fn_retry_seen[i];

		for (const config_key *k = config_retry_keys; k->name != NULL;
		     k++) {
			if (seen & (1u << (k - config_retry_keys))) {
				continue;
			}
			if (k->type == CONFIG_U32) {
				memcpy(dst + k->offset, src + k->offset,
				    sizeof(uint32_t));
			} else if (config_set_str((char **) (dst + k->offset),
			               *(char **) (src + k->offset)) !=
			    SJE_OK) {
				return config_oom(c);
			}
		}
	}
	return SJE_OK;
}

// Workflows. -----------------------------------------------------------------

// config_workflow_begin makes room for count workflows.
static sje_err
config_workflow_begin(config_ctx *c, size_t count)
{
	if ((c->cfg->workflows = calloc(count, sizeof(sje_workflow))) ==
	    NULL) {
		return config_oom(c);
	}
	return SJE_OK;
}

// config_workflow_entry reads workflow i, named by kn, from vn.
static sje_err
config_workflow_entry(
    config_ctx *c, size_t i, yaml_node_t *kn, yaml_node_t *vn, const char *sub)
{
	sje_workflow *wf = &c->cfg->workflows[i];

	wf->line = config_line(kn);
	if ((wf->name = strdup(config_text(kn))) == NULL) {
		return config_oom(c);
	}
	return config_walk_value(c, &config_steps_key, (char *) wf, vn, sub);
}

// config_walk_workflows reads workflows, a mapping from a workflow's name
// to its list of steps, into c->cfg->workflows.
static sje_err
config_walk_workflows(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	sje_config *cfg = c->cfg;

	(void) base;
	config_fini_workflows(k, (char *) cfg);
	return config_walk_named(c, node, path,
	    "a mapping from names to lists of steps", "workflow",
	    &cfg->n_workflows, config_workflow_begin, config_workflow_entry);
}

static void
config_fini_workflows(const config_key *k, char *base)
{
	sje_config *cfg = (sje_config *) base;

	(void) k;
	for (size_t i = 0; i < cfg->n_workflows; i++) {
		free(cfg->workflows[i].name);
		config_free_key(
		    &config_steps_key, (char *) &cfg->workflows[i]);
	}
	free(cfg->workflows);
	cfg->workflows   = NULL;
	cfg->n_workflows = 0;
}

// config_after_line finds the line of item j of the `after` list of step
// node, for messages; the step's own line when it cannot.
static int
config_after_line(config_ctx *c, yaml_node_t *step, size_t j)
{
	for (yaml_node_pair_t *p = step->data.mapping.pairs.start;
	     p < step->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = config_node(c, p->key);
		yaml_node_t *vn = config_node(c, p->value);

		if (kn->type == YAML_SCALAR_NODE &&
		    strcmp(config_text(kn), "after") == 0 &&
		    vn->type == YAML_SEQUENCE_NODE &&
		    j < (size_t) (vn->data.sequence.items.top -
		            vn->data.sequence.items.start)) {
			return config_line(
			    config_node(c, vn->data.sequence.items.start[j]));
		}
	}
	return config_line(step);
}

// config_step_index finds the step called name, or returns n.
static size_t
config_step_index(const sje_workflow *wf, const char *name)
{
	size_t i;

	for (i = 0; i < wf->n_steps; i++) {
		if (strcmp(wf->steps[i].name, name) == 0) {
			break;
		}
	}
	return i;
}

// config_cycle_text writes cycle[0..n) (as sje__dag_order names it: each
// step comes after the next) as "a -> b -> a", in the order the steps
// would run.
static void
config_cycle_text(const sje_workflow *wf, const size_t *cycle, size_t n,
    char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i <= n; i++) {
		size_t step = cycle[i == 0 || i == n ? 0 : n - i];
		int    m    = snprintf(buf + used, len - used, "%s%s",
                    i == 0 ? "" : " -> ", wf->steps[step].name);
		if (m < 0 || (size_t) m >= len - used) {
			break;
		}
		used += (size_t) m;
	}
}

// config_deps is the graph of a workflow's steps for sje__dag_order.
typedef struct config_deps {
	const size_t *deps;  // the steps each step comes after...
	const size_t *first; // ...are deps[first[i] .. first[i+1]-1]
} config_deps;

static const size_t *
config_deps_of(void *ctx, size_t i, size_t *n)
{
	const config_deps *g = ctx;
	*n                   = g->first[i + 1] - g->first[i];
	return g->deps + g->first[i];
}

// config_check_steps checks the steps of a workflow once all are read:
// there is at least one, every `after` names a step, and there is no
// cycle (sje__dag_order finds and names it). Names are found by linear search,
// which is quick enough for the workflows people write by hand.
static sje_err
config_check_steps(config_ctx *c, const config_key *k, char *base,
    yaml_node_t *node, const char *path)
{
	sje_workflow *wf      = (sje_workflow *) base;
	size_t        n       = wf->n_steps;
	size_t       *deps    = NULL; // the steps each step comes after...
	size_t       *first   = NULL; // ...are deps[first[i] .. first[i+1]-1]
	size_t       *order   = NULL; // for sje__dag_order
	size_t       *cycle   = NULL;
	size_t        n_cycle = 0;
	size_t        edges   = 0;
	sje_err       rv      = SJE_OK;

	(void) k;
	if (n == 0) {
		return config_fail(c, config_line(node), path,
		    "a workflow needs at least one step");
	}
	for (size_t i = 0; i < n; i++) {
		edges += wf->steps[i].after.n;
	}
	if ((deps = calloc(edges + 1, sizeof *deps)) == NULL ||
	    (first = calloc(n + 1, sizeof *first)) == NULL ||
	    (order = calloc(n, sizeof *order)) == NULL ||
	    (cycle = calloc(n, sizeof *cycle)) == NULL) {
		rv = config_oom(c);
		goto out;
	}
	edges = 0;
	for (size_t i = 0; i < n; i++) {
		const sje_strlist *after = &wf->steps[i].after;

		first[i] = edges;
		for (size_t j = 0; j < after->n; j++) {
			size_t d = config_step_index(wf, after->items[j]);
			char   sub[CONFIG_PATH_MAX];
			char   at[CONFIG_PATH_MAX];
			char   shown[CONFIG_SHOW_MAX + 4];

			if (d == n) {
				yaml_node_t *step = config_node(
				    c, node->data.sequence.items.start[i]);

				config_index(sub, sizeof sub, path, i);
				config_join(at, sizeof at, sub, "after");
				rv = config_fail(c,
				    config_after_line(c, step, j), at,
				    "unknown step '%s'",
				    config_show(
				        after->items[j], shown, sizeof shown));
				goto out;
			}
			deps[edges++] = d;
		}
	}
	first[n] = edges;

	config_deps g = { deps, first };
	rv = sje__dag_order(n, config_deps_of, &g, order, cycle, &n_cycle);
	if (rv == SJE_ENOMEM) {
		rv = config_oom(c);
	} else if (rv != SJE_OK) {
		// The step whose after closes the cycle: cycle[0] is its
		// parent.
		size_t v = cycle[n_cycle - 1];
		char   text[CONFIG_MSG_MAX - 64];
		char   sub[CONFIG_PATH_MAX];
		char   at[CONFIG_PATH_MAX];

		config_cycle_text(wf, cycle, n_cycle, text, sizeof text);
		config_index(sub, sizeof sub, path, v);
		config_join(at, sizeof at, sub, "after");
		rv = config_fail(c, wf->steps[v].line, at,
		    "the steps form a cycle: %s", text);
	}
out:
	free(deps);
	free(first);
	free(order);
	free(cycle);
	return rv;
}

// The environment. -----------------------------------------------------------

// config_env_item finds the next comma-separated item of *sp, trimmed of
// blanks, and moves *sp past it. Returns false at the end.
static bool
config_env_item(const char **sp, const char **item, size_t *len)
{
	const char *s = *sp;
	const char *end;

	if (*s == '\0') {
		return false;
	}
	end = strchr(s, ',');
	if (end == NULL) {
		end = s + strlen(s);
	}
	*sp = *end == ',' ? end + 1 : end;
	while (s < end && (*s == ' ' || *s == '\t')) {
		s++;
	}
	while (end > s && (end[-1] == ' ' || end[-1] == '\t')) {
		end--;
	}
	*item = s;
	*len  = (size_t) (end - s);
	return true;
}

// config_env_strlist replaces list key k with the comma-separated items of
// value; empty items are skipped, so "" gives an empty list.
static sje_err
config_env_strlist(config_ctx *c, const config_key *k, char *base,
    const char *value, const char *var)
{
	sje_strlist *l = (sje_strlist *) (base + k->offset);
	const char  *item;
	size_t       len;
	sje_err      rv;

	config_strlist_fini(l);
	while (config_env_item(&value, &item, &len)) {
		if (len == 0) {
			continue;
		}
		if (config_strlist_push(l, item, len) != SJE_OK) {
			return config_oom(c);
		}
		if ((rv = config_check_item(
		         c, k, l->items[l->n - 1], 0, var)) != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

// config_env_labels replaces labels key k with the comma-separated
// key=value items of value.
static sje_err
config_env_labels(config_ctx *c, const config_key *k, char *base,
    const char *value, const char *var)
{
	size_t      max = 1;
	const char *item;
	const char *eq;
	size_t      len;
	char        shown[CONFIG_SHOW_MAX + 4];

	config_labels_fini(k, base);
	for (const char *s = value; *s != '\0'; s++) {
		max += *s == ',';
	}
	if ((*config_labels_at(k, base) = calloc(max, sizeof(sje_kv))) ==
	    NULL) {
		return config_oom(c);
	}
	while (config_env_item(&value, &item, &len)) {
		size_t keylen;

		if (len == 0) {
			continue;
		}
		eq     = memchr(item, '=', len);
		keylen = eq == NULL ? 0 : (size_t) (eq - item);
		while (keylen > 0 &&
		    (item[keylen - 1] == ' ' || item[keylen - 1] == '\t')) {
			keylen--;
		}
		if (eq == NULL || keylen == 0) {
			char   copy[CONFIG_SHOW_MAX + 1];
			size_t n =
			    len < CONFIG_SHOW_MAX ? len : CONFIG_SHOW_MAX;
			memcpy(copy, item, n);
			copy[n] = '\0';
			return config_fail(c, 0, var,
			    "expected comma-separated key=value items, "
			    "got '%s'",
			    config_show(copy, shown, sizeof shown));
		}
		if (config_labels_find(k, base, item, keylen)) {
			return config_fail(c, 0, var, "duplicate key");
		}
		if (*config_count_at(k, base) == SJE_MAX_LABELS) {
			return config_fail(
			    c, 0, var, "more than %u labels", SJE_MAX_LABELS);
		}
		eq++;
		while (eq < item + len && (*eq == ' ' || *eq == '\t')) {
			eq++;
		}
		if (config_labels_add(k, base, item, keylen, eq,
		        (size_t) (item + len - eq)) != SJE_OK) {
			return config_oom(c);
		}
	}
	return SJE_OK;
}

// config_env_keys applies SJE_<PATH>_<KEY> for every scalar key and list of
// strings in keys; prefix is the variable name of the section so far.
static sje_err
config_env_keys(
    config_ctx *c, const config_key *keys, char *base, const char *prefix)
{
	sje_err rv = SJE_OK;

	for (const config_key *k = keys; k->name != NULL; k++) {
		char        var[CONFIG_ENV_MAX];
		size_t      plen = strlen(prefix);
		const char *value;

		snprintf(var, sizeof var, "%s_%s", prefix, k->name);
		for (size_t i = plen + 1; var[i] != '\0'; i++) {
			if (var[i] >= 'a' && var[i] <= 'z') {
				var[i] = (char) (var[i] - 'a' + 'A');
			}
		}
		if (k->type == CONFIG_SECTION) {
			rv = config_env_keys(c, k->sub, base + k->offset, var);
		} else if (k->type == CONFIG_LIST || k->type == CONFIG_JSON ||
		    k->type == CONFIG_CUSTOM) {
			// Not a scalar: only the file sets it.
			continue;
		} else if ((value = getenv(var)) == NULL) {
			continue;
		} else if (k->type == CONFIG_STRLIST) {
			rv = config_env_strlist(c, k, base, value, var);
		} else if (k->type == CONFIG_LABELS) {
			rv = config_env_labels(c, k, base, value, var);
		} else {
			rv = config_parse_scalar(c, k, base, value, 0, var);
		}
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

// The file. ------------------------------------------------------------------

// config_offset_line counts the lines of f up to byte offset, for libyaml's
// reader errors, which give only an offset.
static int
config_offset_line(FILE *f, size_t offset)
{
	int line = 1;
	int ch;

	rewind(f);
	for (size_t i = 0; i < offset && (ch = getc(f)) != EOF; i++) {
		line += ch == '\n';
	}
	return line;
}

// config_yaml_error reports why libyaml could not parse the file.
static sje_err
config_yaml_error(config_ctx *c, const yaml_parser_t *parser, FILE *f)
{
	const char *problem = parser->problem ? parser->problem : "unknown";

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return config_oom(c);
	case YAML_READER_ERROR:
		return config_failf(c, "%s:%d: cannot read: %s", c->file,
		    config_offset_line(f, parser->problem_offset), problem);
	default:
		if (parser->context != NULL) {
			return config_failf(c,
			    "%s:%d: YAML syntax error: %s (%s at line %d)",
			    c->file, (int) parser->problem_mark.line + 1,
			    problem, parser->context,
			    (int) parser->context_mark.line + 1);
		}
		return config_failf(c, "%s:%d: YAML syntax error: %s", c->file,
		    (int) parser->problem_mark.line + 1, problem);
	}
}

// config_walk_root reads the document's root node, if any, into c->cfg.
static sje_err
config_walk_root(config_ctx *c, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	char         got[CONFIG_SHOW_MAX + 8];

	// An empty file, or one of comments only, has no root node.
	if (root == NULL || config_null(root)) {
		return SJE_OK;
	}
	if (root->type != YAML_MAPPING_NODE) {
		return config_fail(c, config_line(root), "",
		    "expected a mapping at the top level, got %s",
		    config_describe(root, got, sizeof got));
	}
	c->doc = doc;
	return config_walk_map(c, config_keys, (char *) c->cfg, root, "");
}

// config_read_file reads path over the defaults in c->cfg.
static sje_err
config_read_file(config_ctx *c, const char *path)
{
	FILE           *f;
	struct stat     st;
	yaml_parser_t   parser;
	yaml_document_t doc;
	char            why[128];
	sje_err         rv;

	if ((f = fopen(path, "rb")) == NULL) {
		int e = errno;
		if (strerror_r(e, why, sizeof why) != 0) {
			snprintf(why, sizeof why, "error %d", e);
		}
		return config_failf(c, "%s: cannot open: %s", path, why);
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return config_failf(
		    c, "%s: cannot read: is a directory", path);
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return config_oom(c);
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rv = config_yaml_error(c, &parser, f);
		goto out;
	}
	rv     = config_walk_root(c, &doc);
	c->doc = NULL;
	yaml_document_delete(&doc);
	if (rv != SJE_OK) {
		goto out;
	}
	// One document per file: a second one is a mistake, not ignored.
	if (!yaml_parser_load(&parser, &doc)) {
		rv = config_yaml_error(c, &parser, f);
		goto out;
	}
	if (yaml_document_get_root_node(&doc) != NULL) {
		rv = config_failf(c,
		    "%s:%d: expected one YAML document, "
		    "found another",
		    path, (int) doc.start_mark.line + 1);
	}
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
	fclose(f);
	return rv;
}

// The API. -------------------------------------------------------------------

// config_default_plugins makes the list that stands when `plugins` is not
// given: the core plugin alone.
static sje_err
config_default_plugins(config_ctx *c, sje_config *cfg)
{
	sje_err rv;

	if ((cfg->plugins = calloc(1, sizeof(sje_plugin_cfg))) == NULL) {
		return config_oom(c);
	}
	cfg->n_plugins = 1;
	if ((rv = config_defaults(
	         c, config_plugin_keys, (char *) cfg->plugins)) != SJE_OK) {
		return rv;
	}
	return config_set_str(&cfg->plugins[0].name, "core") == SJE_OK
	    ? SJE_OK
	    : config_oom(c);
}

sje_err
sje_config_load(
    const char *path, sje_config **out, char *errbuf, size_t errlen)
{
	config_ctx  c   = { .err = errbuf };
	const char *env = getenv("SJE_CONFIG");
	sje_err     rv;

	c.errlen      = errbuf != NULL ? errlen : 0;
	c.json_budget = CONFIG_JSON_BUDGET;
	if (c.errlen > 0) {
		errbuf[0] = '\0';
	}
	if (out == NULL) {
		config_failf(&c, "sje_config_load: out is NULL");
		return SJE_EINVAL;
	}
	if (path == NULL && env != NULL && env[0] != '\0') {
		path = env;
	}
	if ((c.cfg = calloc(1, sizeof *c.cfg)) == NULL) {
		return config_oom(&c);
	}
	// c.file stays NULL while the defaults are set, so that a bad
	// default (our bug) is not blamed on the file.
	if ((rv = config_defaults(&c, config_keys, (char *) c.cfg)) !=
	        SJE_OK ||
	    (rv = config_default_plugins(&c, c.cfg)) != SJE_OK) {
		goto fail;
	}
	c.file = path;
	if (path != NULL) {
		if ((c.cfg->source = strdup(path)) == NULL) {
			rv = config_oom(&c);
			goto fail;
		}
		if ((rv = config_read_file(&c, path)) != SJE_OK) {
			goto fail;
		}
	}
	if ((rv = config_env_keys(&c, config_keys, (char *) c.cfg, "SJE")) !=
	        SJE_OK ||
	    (rv = config_inherit_retry(&c)) != SJE_OK ||
	    (rv = config_check_schedules(&c)) != SJE_OK) {
		goto fail;
	}
	free(c.fn_retry_seen);
	*out = c.cfg;
	return SJE_OK;

fail:
	free(c.fn_retry_seen);
	sje_config_free(c.cfg);
	return rv;
}

void
sje_config_free(sje_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	config_free_keys(config_keys, (char *) cfg);
	free(cfg->source);
	free(cfg);
}

void
sje_config_client(const sje_config *cfg, sje_client_config *out)
{
	if (cfg == NULL) {
		*out = (sje_client_config) { "", "", "", "", "", "" };
		return;
	}
	out->server_url      = cfg->client.server_url;
	out->events_url      = cfg->client.events_url;
	out->tls_ca          = cfg->security.tls.ca;
	out->tls_cert        = cfg->security.tls.cert;
	out->tls_key         = cfg->security.tls.key;
	out->tls_server_name = cfg->security.tls.server_name;
}

const sje_function_cfg *
sje_config_function(const sje_config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < cfg->tasks.n_functions; i++) {
		// A function being read has no name yet.
		if (cfg->tasks.functions[i].name != NULL &&
		    strcmp(cfg->tasks.functions[i].name, name) == 0) {
			return &cfg->tasks.functions[i];
		}
	}
	return NULL;
}
