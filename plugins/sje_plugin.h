// sje_plugin.h — the SJE plugin ABI, version 1.
//
// Version 1 was first released as 1.0; 1.1 added, at the ends of their
// structs as the rules below allow, sje_plugin.roles, sje_hooks.on_alert
// (with sje_alert) and sje_job_event.event_json. A 1.0 plugin loads
// unchanged in a 1.1 host.
//
// A plugin is a shared object that exports one symbol:
//
//     const sje_plugin *sje_plugin_entry(void);
//
// What a plugin can contribute:
//
//   - task functions, run by sje-worker: a fixed table (sje_plugin.tasks)
//     and/or functions registered from init with register_task, whose
//     names may come from config (the exec plugin registers one function
//     per tasks.functions entry that has a `command`);
//   - hooks on job events (sje_plugin.hooks): state transitions, submit
//     validation, a retry decision, alerts. See sje_hooks for which
//     program calls which hook.
//
// Hosts: sje-worker ("worker") and sje-server ("coordinator") read the
// same `plugins:` list; each loads the enabled plugins whose `roles`
// name it, and skips the others. Task functions matter to workers only;
// the coordinator calls hooks only.
//
// Life of a plugin in a host, all on the host's main thread before any job
// runs, in the order of config.yaml's `plugins:` list:
//
//   1. dlopen(path, RTLD_NOW | RTLD_LOCAL); a missing symbol fails here.
//   2. sje_plugin_entry() returns the plugin's description (static data).
//   3. The host refuses the plugin, and refuses to start, unless
//      abi_version == SJE_PLUGIN_ABI_VERSION and size covers at least the
//      fields of the first release of this version (up to hooks); the
//      error names both versions ("plugin x: ABI version 2, this worker
//      speaks 1"). A plugin whose roles do not name the host is skipped
//      here (a debug line says so).
//   4. init (if set) gets the plugin's `options` from config as JSON.
//   5. Jobs run; hooks are called.
//   6. At exit, fini (if set), in reverse load order, then dlclose. No
//      task function or hook runs during or after fini.
//
// Threads: task functions run in worker slots, one thread each, many at
// once, and hooks may be called from any thread, concurrently: everything
// a plugin exports must be thread-safe. No host lock is held while plugin
// code runs. A plugin never prints: it reports through the host API (log,
// set_error) so that every line reaches the configured log with its
// task_id.
//
// Processes: the host uses nng, which is not fork-safe. A plugin that
// starts programs uses posix_spawn (or fork followed at once by exec) and
// makes no other call in the child. The worker ignores SIGPIPE, so writing
// to a closed pipe fails with EPIPE instead of killing the process, and it
// blocks SIGINT and SIGTERM in every thread (reset them in a child).
//
// Compatibility rules: every struct the host and a plugin exchange starts
// with (or carries) a size. A field is never removed, moved or retyped;
// new fields are added at the end of a struct only, and the reader checks
// the writer's size before using one (sje_host_api.size,
// sje_plugin_init.size and sje_job_event.size are the host's;
// sje_plugin.size and sje_hooks.size are the plugin's; sje_alert.size is
// the host's). A change that
// cannot follow these rules bumps SJE_PLUGIN_ABI_VERSION, and hosts
// refuse plugins of another version.
//
// Strings are NUL-terminated UTF-8. JSON is passed as text; parse it with
// the library of your choice (SJE uses jansson).
//
// docs/plugins.md is the guide, with a complete example plugin in
// plugins/examples/hello/.
#ifndef SJE_PLUGIN_H
#define SJE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SJE_PLUGIN_ABI_VERSION 1u

// sje_task is the host's handle of one running job; opaque to plugins,
// valid only during the task function's call.
typedef struct sje_task sje_task;

// What a task function returns.
typedef enum sje_task_rc {
	SJE_TASK_OK     = 0, // succeeded; the result is what set_result stored
	SJE_TASK_FAILED = 1, // failed; the error is what set_error stored
} sje_task_rc;

typedef enum sje_log_level {
	SJE_LOG_ERROR = 0,
	SJE_LOG_WARN  = 1,
	SJE_LOG_INFO  = 2,
	SJE_LOG_DEBUG = 3,
} sje_log_level;

// sje_host_api is what the host offers a plugin: the same table is given
// to init (sje_plugin_init.host) and to every task function. Every
// function is thread-safe. The functions taking a task may only be called
// with the task given to a running task function, from any thread, until
// that function returns; strings they return are borrowed until then.
typedef struct sje_host_api {
	uint32_t abi_version; // SJE_PLUGIN_ABI_VERSION of the host
	uint32_t size;        // sizeof(sje_host_api) of the host

	// task_id returns the job's task_id.
	const char *(*task_id)(sje_task *task);
	// function returns the name the job was submitted for.
	const char *(*function)(sje_task *task);
	// params_json returns the job's params as JSON text, as submitted
	// ("null" if none).
	const char *(*params_json)(sje_task *task);
	// parents_json returns a JSON object of the parents' results keyed by
	// parent task_id ("{}" when the job has no parents).
	const char *(*parents_json)(sje_task *task);
	// attempt returns the attempt number, 1 for the first.
	uint32_t (*attempt)(sje_task *task);
	// cancelled is true once the job must stop: it was cancelled, it ran
	// past its timeout, its lease moved to another worker, or the worker
	// is stopping. Check it often (at least every second or so) and
	// return soon after it turns true; cancel_reason says why.
	bool (*cancelled)(sje_task *task);
	// progress reports percent (0..100) and an optional message (copied;
	// NULL for none). Sent with the next heartbeat.
	void (*progress)(sje_task *task, double percent, const char *message);
	// set_result stores the job's result as JSON text (copied); the last
	// call wins. Text that is not valid JSON, or larger than 1 MiB, makes
	// the job fail with type "invalid_result".
	void (*set_result)(sje_task *task, const char *json);
	// set_error stores the error of a failed attempt (both copied; the
	// message is cut at 4 KiB); type is a short word such as "error" or
	// "invalid_params". The last call wins.
	void (*set_error)(
	    sje_task *task, const char *type, const char *message);
	// log writes a line through the host's logger at level, tagged with
	// the task's task_id. task may be NULL (from init, fini or a hook):
	// then the line carries no task_id.
	void (*log)(sje_task *task, sje_log_level level, const char *message);
	// sleep_ms sleeps up to ms milliseconds, waking early on cancel;
	// returns false when woken by cancel.
	bool (*sleep_ms)(sje_task *task, uint32_t ms);
	// cancel_reason says why cancelled is true: "cancelled" (on request),
	// "timeout", "lost" (the lease moved to another worker) or "shutdown"
	// (the worker stops; the job is handed back to run again). NULL while
	// the job may go on. The string is static.
	const char *(*cancel_reason)(sje_task *task);
	// log_job is log for code that knows a job by its task_id only (a
	// hook): the line carries that task_id (NULL: none).
	void (*log_job)(
	    const char *task_id, sje_log_level level, const char *message);
} sje_host_api;

// sje_task_fn runs one job: it reads params through host and task, calls
// set_result or set_error, and returns SJE_TASK_OK or SJE_TASK_FAILED.
// arg is the plugin's state (what init stored; NULL without init) for a
// function of the static table, and fn_arg for one added with
// register_task.
typedef sje_task_rc (*sje_task_fn)(
    const sje_host_api *host, sje_task *task, void *arg);

// sje_task_def is one entry of a plugin's static table of task functions.
typedef struct sje_task_def {
	const char *name; // the function name jobs are submitted for
	sje_task_fn run;
	const char *summary; // one line for people
} sje_task_def;

// sje_register_task_fn adds a task function while init runs: jobs
// submitted for name run run(host, task, fn_arg). name and summary are
// copied (summary may be NULL); fn_arg is the plugin's, and must stay
// valid until fini. Function names are 1 to 128 characters of
// A-Z a-z 0-9 _ . : - (the coordinator's rule). Returns 0, or EINVAL (a
// bad name, run NULL, or called after init returned), EEXIST (this plugin
// registered name already) or ENOMEM. A name that another plugin also
// gives is refused later, when the host gathers all functions: it then
// refuses to start with a line naming both plugins.
typedef int (*sje_register_task_fn)(void *host_ctx, const char *name,
    sje_task_fn run, void *fn_arg, const char *summary);

// sje_plugin_init is what init gets. Borrowed: valid only while init
// runs (copy what you keep).
typedef struct sje_plugin_init {
	uint32_t            size; // sizeof(sje_plugin_init) of the host
	const sje_host_api *host; // the host API; valid until fini returns
	// role names the host: "worker" (sje-worker) or "coordinator"
	// (sje-server).
	const char *role;
	// options_json is the `options` mapping of the plugin's config entry,
	// as a JSON object ("{}" when none). A plugin should refuse keys it
	// does not know, so that typos do not go unnoticed.
	const char *options_json;
	// functions_json is config's tasks.functions as one JSON object: for
	// each function, {"timeout_s": N, "command": ["argv0", ...]} with
	// `command` present only when config gives one ("{}" when none).
	const char *functions_json;
	// register_task adds a task function (see sje_register_task_fn); pass
	// host_ctx as its first argument. NULL where the host runs no tasks
	// (the coordinator).
	sje_register_task_fn register_task;
	void                *host_ctx;
} sje_plugin_init;

// sje_job_event describes one state change of a job, for the on_event
// hook. Every pointer is borrowed for the duration of the call; any of the
// optional ones may be NULL.
typedef struct sje_job_event {
	uint32_t    size;   // sizeof(sje_job_event) of the host
	const char *source; // "worker" or "coordinator": who saw the change
	const char *task_id;
	const char *function;
	// state is the new state: "PENDING", "SCHEDULED", "QUEUED",
	// "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED" or "UPSTREAM_FAILED".
	// From a worker, the events of one attempt are "RUNNING" as the
	// function starts, then the attempt's end as the worker judged it:
	// "SUCCEEDED", "FAILED" (the coordinator may still retry the job; a
	// job handed back because the worker stopped is "FAILED" with
	// error_type "interrupted") or "CANCELLED".
	const char *state;
	const char *prev_state; // optional: NULL when the source cannot know
	uint32_t    attempt;    // 1 for the first
	uint64_t    seq;    // the coordinator's event number; 0 from a worker
	int64_t     at_ms;  // when, in Unix milliseconds (wall clock)
	const char *worker; // optional: the worker running the job
	const char *error_type;    // optional: set with FAILED and CANCELLED
	const char *error_message; // optional
	const char *result_json;   // optional: the result, with SUCCEEDED
	double      run_s; // the worker: how long the function ran; else 0

	// Added in 1.1 (check size first): event_json is the event as the
	// REST gateway's GET /events renders it, one line of JSON with no
	// newline
	// ({"seq":42,"task_id":"t1",...,"at":"2026-11-28T01:27:17.670Z",
	// "error":null,...}); from the coordinator only, NULL from a worker.
	const char *event_json;
} sje_job_event;

// sje_alert is one change of an alert rule of monitoring.alerts, for the
// on_alert hook: it fired, or it resolved. Borrowed for the call.
typedef struct sje_alert {
	uint32_t    size;   // sizeof(sje_alert) of the host
	const char *name;   // the rule's name
	const char *status; // "firing" or "resolved"
	const char *when;   // the rule's condition, as written in config
	const char *metric; // the metric the condition reads
	double      value;  // the metric's value at this check
	double      threshold;
	int64_t     at_ms; // when, in Unix milliseconds
	// alert_json is all of the above as one line of JSON, with the rule's
	// notify: {"alert":"backlog","status":"firing","when":"queue_depth >
	// 10000","metric":"queue_depth","value":12000.0,"threshold":10000.0,
	// "at_ms":1795829064716,"notify":"webhook"}.
	const char *alert_json;
} sje_alert;

// What decide_retry answers.
typedef enum sje_retry_verdict {
	SJE_RETRY_DEFAULT = 0, // leave it to the job's retry policy
	SJE_RETRY_AFTER   = 1, // retry after *delay_ms, if attempts remain
	SJE_RETRY_STOP    = 2, // no more attempts: the job ends FAILED now
} sje_retry_verdict;

// sje_hooks are a plugin's hooks on job events; any member may be NULL.
// Hooks may be called from any thread, concurrently, with no host lock
// held. They must return quickly (think microseconds: they sit on the
// path of every job) and must not block on I/O: a plugin that posts to a
// network service queues the work for a thread of its own, started in
// init and joined in fini. One exception: sje-server's on_event and
// on_alert run on its hook thread, off every job's path, and may write a
// local file there (log_jsonl does); they still delay the hooks of the
// plugins after them, so keep them short.
//
// Who calls what:
//
//   on_event          sje-worker: on the slot thread that runs the job,
//                     for RUNNING before the function starts and for the
//                     attempt's end after it returned (source "worker").
//                     sje-server: on its one hook thread, for every event
//                     it committed (source "coordinator"), in seq order,
//                     never on the scheduler's path: a slow hook delays
//                     later hooks, not jobs. Events are read back from the
//                     store, which keeps those not yet delivered (up to
//                     1,000,000), so none is skipped; after a crash the
//                     events of the last quarter second may come again
//                     (seq tells).
//   validate_submit   sje-server, on the scheduler thread, for each job of
//                     a submit or workflow run before anything is stored.
//   decide_retry      sje-server, on the scheduler thread.
//   on_alert          sje-server, on the hook thread, for the alerts of
//                     monitoring.alerts whose notify names this plugin.
typedef struct sje_hooks {
	uint32_t size; // sizeof(sje_hooks) as the plugin was built

	// on_event is told of a job's state change. state is the plugin's
	// state (what init stored).
	void (*on_event)(void *state, const sje_job_event *ev);

	// validate_submit may refuse a job before the coordinator stores it.
	// spec_json is the job spec as POST /submit takes it, with task_id
	// filled in. Return 0 to accept; anything else refuses the job and
	// the one-line reason written into reason (reason_len bytes) is what
	// the submitter sees (INVALID_ARGUMENT, HTTP 400; a workflow is
	// refused as a whole). Do not log the spec: it may hold secrets.
	int (*validate_submit)(void *state, const char *spec_json,
	    char *reason, size_t reason_len);

	// decide_retry is asked when an attempt failed (not when the job was
	// cancelled): failure is the FAILED event of that attempt, with its
	// error; max_attempts is the job's. *delay_ms holds the wait the
	// retry policy chose; return SJE_RETRY_AFTER with *delay_ms set to
	// retry after another wait (max_attempts still bounds the attempts),
	// SJE_RETRY_STOP to give up now, or SJE_RETRY_DEFAULT to let the
	// policy decide. The first plugin, in config order, that answers
	// other than SJE_RETRY_DEFAULT decides.
	sje_retry_verdict (*decide_retry)(void *state,
	    const sje_job_event *failure, uint32_t max_attempts,
	    uint32_t *delay_ms);

	// Added in 1.1 (the host checks size first): on_alert is told that an
	// alert rule naming this plugin as its notifier fired or resolved.
	void (*on_alert)(void *state, const sje_alert *alert);
} sje_hooks;

// sje_plugin describes a plugin: returned by sje_plugin_entry, static
// data that must stay valid until the plugin is unloaded.
typedef struct sje_plugin {
	uint32_t    abi_version; // must be SJE_PLUGIN_ABI_VERSION
	uint32_t    size;        // sizeof(sje_plugin) as the plugin was built
	const char *name;        // matches plugins[].name in config
	const char *version;     // the plugin's own version, for logs

	// init prepares the plugin (see sje_plugin_init) and may register task
	// functions. On success it returns 0 and may store a state in *state,
	// which the host passes back to the static table's task functions,
	// to the hooks and to fini. On failure it returns non-zero and writes
	// a one-line reason into err (errlen bytes); the host then refuses to
	// start, and does not call fini. May be NULL.
	int (*init)(const sje_plugin_init *init, void **state, char *err,
	    size_t errlen);
	// fini releases what init made. May be NULL.
	void (*fini)(void *state);

	const sje_task_def *tasks; // static task functions; may be NULL
	size_t              n_tasks;

	const sje_hooks *hooks; // may be NULL

	// Added in 1.1: the hosts that load this plugin, a mask of
	// SJE_PLUGIN_ROLE_*. A description too short to hold it (built
	// against 1.0) means SJE_PLUGIN_ROLE_WORKER, as does 0.
	uint32_t roles;
} sje_plugin;

#define SJE_PLUGIN_ROLE_WORKER 1u      // sje-worker
#define SJE_PLUGIN_ROLE_COORDINATOR 2u // sje-server

// SJE_PLUGIN_MIN_SIZE is the least sje_plugin.size a host accepts: the
// fields of version 1.0, up to hooks.
#define SJE_PLUGIN_MIN_SIZE \
	(offsetof(sje_plugin, hooks) + sizeof(const sje_hooks *))

#define SJE_PLUGIN_ENTRY_SYMBOL "sje_plugin_entry"
typedef const sje_plugin *(*sje_plugin_entry_fn)(void);

// SJE_PLUGIN_EXPORT marks sje_plugin_entry for export from a plugin
// built with -fvisibility=hidden (recommended: export nothing else).
#define SJE_PLUGIN_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
#endif // SJE_PLUGIN_H
