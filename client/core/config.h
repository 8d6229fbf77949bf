// config.h — the whole of config.yaml, as SJE's own programs read it
// (internal: not part of libsje's ABI).
//
// The config engine (config.c) knows every key of every program, so that
// one file serves them all and an unknown key is an error everywhere; the
// key tables of the server, the worker and the client sit side by side
// there. Services on libsje see only <sje/config.h>: an opaque sje_config,
// and the client's part of it (sje_config_client,
// sje_client_opts_from_config). A new server key changes this header, not
// the library's ABI.
#ifndef SJE_CORE_CONFIG_H
#define SJE_CORE_CONFIG_H

#include <sje/config.h>
#include <sje/sje.h>

// sje_kv is one entry of a string-to-string map (labels).
typedef struct sje_kv {
	char *key;
	char *value;
} sje_kv;

// sje_strlist is a list of strings.
typedef struct sje_strlist {
	char **items;
	size_t n;
} sje_strlist;

typedef enum sje_sync_mode {
	SJE_SYNC_NORMAL = 0, // WAL, synchronous=NORMAL
	SJE_SYNC_FULL,       // WAL, synchronous=FULL: fsync every commit
} sje_sync_mode;

typedef struct sje_retry_cfg {
	uint32_t max_attempts; // attempts in all, the first included (>= 1)
	char    *backoff;      // "exponential" or "fixed"
	uint32_t initial_delay_ms;
	uint32_t max_delay_ms;
} sje_retry_cfg;

// sje_function_cfg is one entry under tasks.functions.
typedef struct sje_function_cfg {
	char         *name;
	uint32_t      timeout_s;   // 0: tasks.defaults.timeout_s
	bool          has_retry;   // retry given for this function
	sje_retry_cfg retry;       // valid when has_retry
	sje_strlist   command;     // argv for the exec plugin; n == 0: none
	uint32_t      concurrency; // at most this many running; 0: no limit
	char         *rate;        // at most this many starts ("100/s"); NULL
	sje_kv *requires;          // worker labels every job of it needs
	size_t n_requires;
	int    line; // where it was defined, for later errors
} sje_function_cfg;

// sje_workflow_step is one step of a workflow.
typedef struct sje_workflow_step {
	char       *name;
	char       *function;
	char       *params_json; // the step's params as JSON text, or NULL
	sje_strlist after;       // names of steps of the same workflow
	int         line;
} sje_workflow_step;

typedef struct sje_workflow {
	char              *name;
	sje_workflow_step *steps;
	size_t             n_steps;
	int                line;
} sje_workflow;

// sje_plugin_cfg is one entry of the plugins list.
typedef struct sje_plugin_cfg {
	char *name;
	bool  enabled;
	char *path;         // explicit shared object path, or NULL
	char *options_json; // the options mapping as JSON text ("{}" if none)
	int   line;
} sje_plugin_cfg;

typedef struct sje_api_key_cfg {
	char       *name;
	char       *sha256; // lower-case hex of the key's SHA-256
	sje_strlist scopes; // submit, read, cancel, admin, worker
} sje_api_key_cfg;

typedef struct sje_alert_cfg {
	char    *name;
	char    *when;   // "queue_depth > 10000"
	char    *notify; // "" or "log": logged only; else a plugin's name
	uint32_t for_s;  // the condition must hold this long to fire
	int      line;
} sje_alert_cfg;

// sje_schedule_cfg is one entry of schedules: what starts when.
typedef struct sje_schedule_cfg {
	char    *name;
	char    *cron;        // a five-field expression; NULL: every_s
	uint32_t every_s;     // a fixed interval; 0: cron
	char    *function;    // a job of this function; NULL: workflow
	char    *workflow;    // or a run of this workflow; NULL: function
	char    *params_json; // the job's or run's params; NULL: none
	char    *overlap;     // "skip" (while the last run is unfinished)
	                      // or "allow"
	char *missed;         // "skip" or "run_once": ticks missed while
	                      // no coordinator ran
	int line;
} sje_schedule_cfg;

// struct sje_config is the whole file, with defaults filled in. Every
// string is non-NULL unless said otherwise. Owned by whoever loaded it.
struct sje_config {
	char *source; // the file read, or NULL when none

	struct {
		char         *rpc_url;      // tcp://127.0.0.1:7100
		char         *events_url;   // tcp://127.0.0.1:7101
		char         *data_dir;     // ./sje-data
		sje_sync_mode sync;         // normal (SQLite's)
		uint32_t      result_ttl_s; // 604800
		char         *store;        // sqlite | postgres
		struct {
			char *dsn_env; // SJE_POSTGRES_DSN: the variable
			               // holding the connection string
			char *dsn;     // "": the connection string itself
		} postgres;
		// Where the other coordinators on a shared database reach
		// this one's RPC door and event stream; "": the URL bound,
		// with a wildcard host replaced by this machine's name.
		char *advertise_rpc_url;
		char *advertise_events_url;
	} server;

	struct {
		char    *listen;            // 127.0.0.1:8080
		uint32_t max_body_bytes;    // 1048576
		uint32_t header_timeout_ms; // 10000: a request head arrives
		uint32_t body_timeout_ms;   // 30000: a body; a response out
		uint32_t idle_timeout_ms;   // 60000: kept alive, no request
		uint32_t max_connections;   // 1024 (and the descriptor limit)
		bool     dashboard; // true: serve the dashboard at /ui/
	} http;

	struct {
		char    *server_url; // tcp://127.0.0.1:7100
		char    *events_url; // tcp://127.0.0.1:7101
		char    *name;       // "": the host name
		uint32_t slots;      // 0: executor.max_concurrency
		sje_kv  *labels;
		size_t   n_labels;
	} worker;

	struct {
		char *server_url; // tcp://127.0.0.1:7100
		char *events_url; // tcp://127.0.0.1:7101
	} client;

	struct {
		sje_strlist worker_nodes;    // empty: any authenticated worker
		uint32_t    max_concurrency; // 4
		uint32_t    lease_s;         // 30
	} executor;

	struct {
		uint32_t      timeout_s; // tasks.defaults.timeout_s: 300
		sje_retry_cfg retry; // tasks.defaults.retry: 3, exponential,
		                     // 1000, 60000
		sje_function_cfg *functions;
		size_t            n_functions;
		// tasks.max_unserved_functions: 1000. Functions at once that
		// no worker serves and config does not name; a submit that
		// would make one more is refused.
		uint32_t max_unserved_functions;
		// tasks.unserved_warn_s: 60. How long jobs of a function may
		// wait with no live worker serving it before a warning (and
		// the gauge sje_functions_waiting_for_workers); 0: never.
		uint32_t unserved_warn_s;
	} tasks;

	sje_workflow *workflows;
	size_t        n_workflows;

	sje_schedule_cfg *schedules; // in file order
	size_t            n_schedules;

	// plugins: when the key is absent the list is [{name: core}].
	sje_plugin_cfg *plugins;
	size_t          n_plugins;

	struct {
		struct {
			char *ca; // "" = no TLS
			char *cert;
			char *key;
			bool  require_client_cert; // true
			char *server_name; // clients and workers: the name the
			                   // server's certificate must carry
			                   // ("" = the host of the URL dialed)
		} tls;
		struct {
			sje_api_key_cfg *api_keys;
			size_t           n_api_keys;
			struct {
				char *issuer;
				char *audience;
				char *hs256_secret_env;
				char *rs256_public_key;
			} oauth;
		} auth;
	} security;

	struct {
		char *level;       // error | warn | info | debug
		char *format;      // text | json
		char *destination; // stderr | syslog | a file path
	} logging;

	struct {
		bool           metrics; // true
		sje_alert_cfg *alerts;
		size_t         n_alerts;
		uint32_t check_interval_s; // 15: how often alerts are checked
		uint32_t window_s;         // 300: what succeeded, failed and
		                           // failure_rate look back over
	} monitoring;
};

// sje_rate_parse reads a rate limit, "N/s", "N/m" or "N/h" (N from 1 to
// SJE_RATE_MAX): at most *count starts every *per_ms milliseconds. False,
// leaving both untouched, for anything else. Pure.
#define SJE_RATE_MAX 1000000u
bool sje_rate_parse(const char *text, uint32_t *count, uint32_t *per_ms);

// sje_config_function finds tasks.functions.<name>, or returns NULL.
// The result is borrowed from cfg. Not exported by libsje.so.
const sje_function_cfg *sje_config_function(
    const sje_config *cfg, const char *name);

#endif // SJE_CORE_CONFIG_H
