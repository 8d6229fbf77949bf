// sje_plugin.h — the SJE plugin ABI, version 1.
//
// A plugin is a shared object that exports one symbol:
//
//     const sje_plugin *sje_plugin_entry(void);
//
// The host (sje-worker, later sje-server) calls it once after dlopen,
// refuses the plugin unless abi_version == SJE_PLUGIN_ABI_VERSION, then
// calls init (if set) with the plugin's `options` from config.yaml as JSON
// text, and fini (if set) before unloading.
//
// Task functions run in worker slots, one thread each, many at once: a
// task function must be thread-safe. It reads its inputs and reports its
// outcome only through the sje_host_api it is given, with the sje_task it
// is given; it never prints, and it returns promptly once
// host->cancelled(task) is true.
//
// The ABI is C only, plain data and function pointers. Version rules: a
// field is never removed, moved or retyped; new fields are added at the end
// of sje_host_api only, and a plugin checks host->size before using one.
// A change that cannot follow these rules bumps SJE_PLUGIN_ABI_VERSION.
#ifndef SJE_PLUGIN_H
#define SJE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SJE_PLUGIN_ABI_VERSION 1u

// sje_task is the host's handle of one running job; opaque to plugins,
// valid only during the task function's call.
typedef struct sje_task sje_task;

// What a task function returns.
typedef enum sje_task_rc {
	SJE_TASK_OK = 0,   // succeeded; the result is what set_result stored
	SJE_TASK_FAILED = 1, // failed; the error is what set_error stored
} sje_task_rc;

typedef enum sje_log_level {
	SJE_LOG_ERROR = 0,
	SJE_LOG_WARN = 1,
	SJE_LOG_INFO = 2,
	SJE_LOG_DEBUG = 3,
} sje_log_level;

// sje_host_api is what the host offers a plugin. Every function is
// thread-safe. Strings returned are borrowed from the host until the task
// function returns.
typedef struct sje_host_api {
	uint32_t abi_version; // SJE_PLUGIN_ABI_VERSION of the host
	uint32_t size;        // sizeof(sje_host_api) of the host

	// task_id returns the job's task_id.
	const char *(*task_id)(sje_task *task);
	// function returns the name the job was submitted for.
	const char *(*function)(sje_task *task);
	// params_json returns the job's params as JSON text ("null" if none).
	const char *(*params_json)(sje_task *task);
	// parents_json returns a JSON object of the parents' results keyed by
	// parent task_id ("{}" when the job has no parents).
	const char *(*parents_json)(sje_task *task);
	// attempt returns the attempt number, 1 for the first.
	uint32_t (*attempt)(sje_task *task);
	// cancelled is true once the job was cancelled or timed out: return.
	bool (*cancelled)(sje_task *task);
	// progress reports percent (0..100) and an optional message.
	void (*progress)(sje_task *task, double percent, const char *message);
	// set_result stores the job's result as JSON text (copied). Text that is
	// not valid JSON makes the job fail with an error saying so.
	void (*set_result)(sje_task *task, const char *json);
	// set_error stores the error of a failed attempt (both copied); type is
	// a short word such as "error" or "invalid_params".
	void (*set_error)(sje_task *task, const char *type, const char *message);
	// log writes a line through the host's logger, tagged with the task_id
	// when task is not NULL.
	void (*log)(sje_task *task, sje_log_level level, const char *message);
	// sleep_ms sleeps up to ms milliseconds, waking early on cancel;
	// returns false when woken by cancel.
	bool (*sleep_ms)(sje_task *task, uint32_t ms);
} sje_host_api;

// sje_task_fn runs one job: it reads params through host and task, calls
// set_result or set_error, and returns SJE_TASK_OK or SJE_TASK_FAILED.
// plugin_state is what init stored (NULL when the plugin has no init).
typedef sje_task_rc (*sje_task_fn)(const sje_host_api *host, sje_task *task,
    void *plugin_state);

typedef struct sje_task_def {
	const char *name;     // the function name jobs are submitted for
	sje_task_fn run;
	const char *summary;  // one line for people
} sje_task_def;

typedef struct sje_plugin {
	uint32_t    abi_version; // must be SJE_PLUGIN_ABI_VERSION
	const char *name;        // matches plugins[].name in config
	const char *version;     // the plugin's own version, for logs

	// init prepares the plugin; options_json is the `options` mapping of
	// its config entry ("{}" if none). On failure it returns non-zero and
	// writes a reason into err (errlen bytes); the host refuses to start.
	int (*init)(const sje_host_api *host, const char *options_json,
	    void **plugin_state, char *err, size_t errlen);
	// fini releases what init made. May be NULL.
	void (*fini)(void *plugin_state);

	const sje_task_def *tasks; // task functions; may be NULL
	size_t              n_tasks;
} sje_plugin;

#define SJE_PLUGIN_ENTRY_SYMBOL "sje_plugin_entry"
typedef const sje_plugin *(*sje_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif // SJE_PLUGIN_H
