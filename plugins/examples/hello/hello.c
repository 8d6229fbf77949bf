// hello.c — a complete SJE plugin, built outside SJE's tree: the template
// to copy for your own (see docs/plugins.md).
//
// It contributes
//
//   - a task function `hello`: params {"name": "Ada"} give the result
//     {"greeting": "hello, Ada"} (the word comes from the `greeting`
//     option); a missing or non-string name fails the job with type
//     "invalid_params";
//   - an on_event hook that counts the job events its host reports and
//     logs each one at debug level, with the job's task_id;
//   - a validate_submit hook (run by sje-server) that refuses a `hello`
//     job whose params.name is not a string before it is stored, so the
//     submitter hears of the mistake at once.
//
// It declares both roles: sje-worker loads it for the task and the hook,
// sje-server for the hooks.
//
// What it shows: the entry symbol and the description, options read in
// init and refused when unknown, plugin state shared by every thread
// (read-only after init, counters atomic), a task function that reports
// through the host API only, and fini.
#include <sje_plugin.h>

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_VERSION "0.1.0"

// hello_state is made by init, read by every slot thread, freed by fini.
typedef struct hello_state {
	const sje_host_api *host;
	char               *greeting; // read-only after init
	atomic_ulong        events;   // on_event calls so far
} hello_state;

// hello_init reads the options: {"greeting": "hello"} (the default).
static int
hello_init(const sje_plugin_init *in, void **state, char *err, size_t errlen)
{
	hello_state *st;
	json_t      *opts;
	json_error_t jerr;
	const char  *key;
	json_t      *v;
	const char  *greeting = "hello";

	opts = json_loads(in->options_json, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(opts)) {
		(void) snprintf(err, errlen, "options: expected a mapping");
		json_decref(opts);
		return -1;
	}
	json_object_foreach (opts, key, v) {
		if (strcmp(key, "greeting") == 0 && json_is_string(v)) {
			greeting = json_string_value(v);
		} else {
			(void) snprintf(err, errlen,
			    "options.%s: unknown key, or not a string (known: "
			    "greeting)",
			    key);
			json_decref(opts);
			return -1;
		}
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->greeting = strdup(greeting)) == NULL) {
		free(st);
		json_decref(opts);
		(void) snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_decref(opts);
	st->host = in->host;
	atomic_init(&st->events, 0);
	*state = st;
	return 0;
}

static void
hello_fini(void *state)
{
	hello_state *st = state;
	char         line[128];

	if (st == NULL) {
		return;
	}
	(void) snprintf(line, sizeof(line), "hello: saw %lu job events",
	    (unsigned long) atomic_load(&st->events));
	st->host->log(NULL, SJE_LOG_INFO, line);
	free(st->greeting);
	free(st);
}

// hello_task greets params.name.
static sje_task_rc
hello_task(const sje_host_api *host, sje_task *task, void *arg)
{
	const hello_state *st = arg; // the plugin's state (static table)
	json_t            *params;
	json_t            *name;
	json_t            *result;
	json_error_t       jerr;
	char              *text;
	sje_task_rc        rc = SJE_TASK_FAILED;

	params = json_loads(host->params_json(task), JSON_DECODE_ANY, &jerr);
	name   = json_object_get(params, "name"); // NULL unless an object
	if (!json_is_string(name)) {
		host->set_error(task, "invalid_params",
		    "params.name is required: a string, as in "
		    "{\"name\": \"Ada\"}");
		json_decref(params);
		return SJE_TASK_FAILED;
	}
	// A long task would check host->cancelled(task) as it goes, and
	// report host->progress; this one is done at once.
	result = json_pack("{s:s++}", "greeting", st->greeting, ", ",
	    json_string_value(name));
	if (result != NULL &&
	    (text = json_dumps(result, JSON_COMPACT)) != NULL) {
		host->set_result(task, text);
		free(text);
		rc = SJE_TASK_OK;
	} else {
		host->set_error(task, "error", "out of memory");
	}
	host->progress(task, 100.0, NULL);
	json_decref(result);
	json_decref(params);
	return rc;
}

// hello_on_event is called on the worker's slot threads, many at once, and
// on the coordinator's hook thread: it only bumps an atomic counter and
// logs.
static void
hello_on_event(void *state, const sje_job_event *ev)
{
	hello_state *st = state;
	char         line[256];

	atomic_fetch_add(&st->events, 1);
	(void) snprintf(line, sizeof(line), "hello: event %s %s (attempt %u)",
	    ev->function, ev->state, (unsigned) ev->attempt);
	st->host->log_job(ev->task_id, SJE_LOG_DEBUG, line);
}

// hello_validate_submit refuses, in sje-server, a hello job whose
// params.name is not a string. Other functions' jobs pass.
static int
hello_validate_submit(
    void *state, const char *spec_json, char *reason, size_t reason_len)
{
	json_t      *spec;
	json_t      *name;
	const char  *fn;
	json_error_t jerr;
	int          rv = 0;

	(void) state;
	if ((spec = json_loads(spec_json, 0, &jerr)) == NULL) {
		return 0; // the coordinator checks specs itself
	}
	fn = json_string_value(json_object_get(spec, "function"));
	if (fn != NULL && strcmp(fn, "hello") == 0) {
		name =
		    json_object_get(json_object_get(spec, "params"), "name");
		if (!json_is_string(name)) {
			(void) snprintf(reason, reason_len,
			    "hello needs params.name, a string");
			rv = 1;
		}
	}
	json_decref(spec);
	return rv;
}

static const sje_task_def hello_tasks[] = {
	{ "hello", hello_task, "greets params.name" },
};

static const sje_hooks hello_hooks = {
	.size            = sizeof(sje_hooks),
	.on_event        = hello_on_event,
	.validate_submit = hello_validate_submit,
};

static const sje_plugin hello_plugin = {
	.abi_version = SJE_PLUGIN_ABI_VERSION,
	.size        = sizeof(sje_plugin),
	.name        = "hello",
	.version     = HELLO_VERSION,
	.init        = hello_init,
	.fini        = hello_fini,
	.tasks       = hello_tasks,
	.n_tasks     = sizeof(hello_tasks) / sizeof(hello_tasks[0]),
	.hooks       = &hello_hooks,
	.roles       = SJE_PLUGIN_ROLE_WORKER | SJE_PLUGIN_ROLE_COORDINATOR,
};

// sje_plugin_entry is the one symbol the worker looks up.
SJE_PLUGIN_EXPORT const sje_plugin *sje_plugin_entry(void);

const sje_plugin *
sje_plugin_entry(void)
{
	return &hello_plugin;
}
