// core.c — the `core` plugin: SJE's built-in task functions.
//
//   noop            result null
//   echo            result = params, byte for byte
//   sleep           {"seconds": n} (default 1): sleeps, reporting progress,
//                   stops early on cancel; result {"slept_s": n}
//   fail            always fails, type "error", message params.message
//   collect         result = the parents' results, keyed by task_id
//   calculate_data  {"input_data": [numbers]} -> count, sum, mean, min,
//                   max, stddev (the seed's example)
//
// Design: every function reads its inputs and reports its outcome only
// through the host API (sje_plugin.h) and keeps no state of its own, so all
// are thread-safe and the plugin needs neither init nor fini. Params are
// parsed with jansson. A problem with the params is a failure of type
// "invalid_params" whose message names the offending field, so that the
// submitter can fix the job without reading worker logs.
//
// Built with -fvisibility=hidden: sje_plugin_entry is the only export.
#include <sje_plugin.h>

#include "clock.h"
#include "jsonkind.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORE_VERSION "0.1.0"
#define CORE_EXPORT __attribute__((visibility("default")))

// sleep: how long one step lasts, between progress reports (ms).
#define CORE_SLEEP_STEP_MS 100u
// sleep: the longest sleep accepted (s), one year.
#define CORE_SLEEP_MAX_S 31536000.0
// 2^53: integral doubles below this are exact and printed as integers.
#define CORE_EXACT_INT_LIMIT 9007199254740992.0

// core_fail sets an error of the given type, formatted, and returns
// SJE_TASK_FAILED, so that a task function can `return core_fail(...)`.
static sje_task_rc core_fail(const sje_host_api *host, sje_task *task,
    const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sje_task_rc
core_fail(const sje_host_api *host, sje_task *task, const char *type,
    const char *fmt, ...)
{
	char    msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	host->set_error(task, type, msg);
	return SJE_TASK_FAILED;
}

// core_params parses the job's params. On failure it sets the job's error
// and returns NULL; otherwise the caller owns the value (json_decref).
static json_t *
core_params(const sje_host_api *host, sje_task *task)
{
	const char  *text = host->params_json(task);
	json_error_t jerr;
	json_t      *v;

	v = json_loads(text != NULL ? text : "null",
	    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		(void) core_fail(host, task, "invalid_params",
		    "params are not valid JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
	}
	return v;
}

// core_set_json stores v (any JSON value) as the job's result and returns
// SJE_TASK_OK, or fails the job when it cannot be encoded. Borrows v.
static sje_task_rc
core_set_json(const sje_host_api *host, sje_task *task, const json_t *v)
{
	char *text;

	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL) {
		return core_fail(host, task, "error",
		    "cannot encode the result (out of memory?)");
	}
	host->set_result(task, text);
	free(text);
	return SJE_TASK_OK;
}

// ---- noop, echo, fail, collect ----

static sje_task_rc
core_noop(const sje_host_api *host, sje_task *task, void *state)
{
	(void) state;
	host->set_result(task, "null");
	return SJE_TASK_OK;
}

// echo returns the params text itself, not a re-encoding of it, so the
// result is exactly what was submitted.
static sje_task_rc
core_echo(const sje_host_api *host, sje_task *task, void *state)
{
	const char *text = host->params_json(task);

	(void) state;
	host->set_result(task, text != NULL ? text : "null");
	return SJE_TASK_OK;
}

static sje_task_rc
core_fail_task(const sje_host_api *host, sje_task *task, void *state)
{
	const char *message = "failed on purpose";
	json_t     *p;
	json_t     *m;

	(void) state;
	if ((p = core_params(host, task)) == NULL) {
		return SJE_TASK_FAILED;
	}
	if (json_is_object(p) && (m = json_object_get(p, "message")) != NULL &&
	    json_is_string(m)) {
		message = json_string_value(m);
	}
	host->set_error(task, "error", message); // copied by the host
	json_decref(p);
	return SJE_TASK_FAILED;
}

static sje_task_rc
core_collect(const sje_host_api *host, sje_task *task, void *state)
{
	const char *parents = host->parents_json(task);

	(void) state;
	host->set_result(task, parents != NULL ? parents : "{}");
	return SJE_TASK_OK;
}

// ---- sleep ----

static sje_task_rc
core_sleep(const sje_host_api *host, sje_task *task, void *state)
{
	json_t     *p;
	json_t     *secs = NULL; // borrowed from p; NULL: the default
	json_t     *result;
	double      seconds = 1.0;
	int64_t     start_ms;
	int64_t     total_ms;
	int64_t     left_ms;
	sje_task_rc rc;

	(void) state;
	if ((p = core_params(host, task)) == NULL) {
		return SJE_TASK_FAILED;
	}
	if (json_is_object(p)) {
		secs = json_object_get(p, "seconds");
	} else if (!json_is_null(p)) {
		rc = core_fail(host, task, "invalid_params",
		    "params must be an object such as "
		    "{\"seconds\": 2}, got %s",
		    sje__json_kind(p));
		json_decref(p);
		return rc;
	}
	if (secs != NULL) {
		if (!json_is_number(secs)) {
			rc = core_fail(host, task, "invalid_params",
			    "params.seconds must be a number, got %s",
			    sje__json_kind(secs));
			json_decref(p);
			return rc;
		}
		seconds = json_number_value(secs);
		if (!(seconds >= 0.0 && seconds <= CORE_SLEEP_MAX_S)) {
			rc = core_fail(host, task, "invalid_params",
			    "params.seconds must be between 0 and %.0f",
			    CORE_SLEEP_MAX_S);
			json_decref(p);
			return rc;
		}
	}

	// Sleep against a deadline rather than adding up steps, so that the
	// time asked for is the time slept however the steps are scheduled.
	start_ms = sje_mono_ms();
	total_ms = (int64_t) llround(seconds * 1000.0);
	while ((left_ms = start_ms + total_ms - sje_mono_ms()) > 0) {
		uint32_t step_ms = left_ms < CORE_SLEEP_STEP_MS
		    ? (uint32_t) left_ms
		    : CORE_SLEEP_STEP_MS;
		int64_t  done_ms;
		if (!host->sleep_ms(task, step_ms)) {
			break;
		}
		done_ms = sje_mono_ms() - start_ms;
		host->progress(task,
		    done_ms >= total_ms
		        ? 100.0
		        : 100.0 * (double) done_ms / (double) total_ms,
		    NULL);
	}
	if (host->cancelled(task)) {
		rc = core_fail(host, task, "cancelled",
		    "cancelled after %.1f s of %g s",
		    (double) (sje_mono_ms() - start_ms) / 1000.0, seconds);
		json_decref(p);
		return rc;
	}

	result = json_object();
	if (result == NULL ||
	    json_object_set_new(result, "slept_s",
	        secs != NULL ? json_copy(secs) : json_integer(1)) != 0) {
		rc = core_fail(host, task, "error", "out of memory");
	} else {
		rc = core_set_json(host, task, result);
	}
	json_decref(result);
	json_decref(p);
	return rc;
}

// ---- calculate_data ----

// core_number makes a JSON number of v: an integer when v is integral and
// exact in a double (|v| < 2^53), so that a sum of 10 reads 10 and a mean
// of 2.5 reads 2.5. NULL when v is not finite or memory is short.
static json_t *
core_number(double v)
{
	if (!isfinite(v)) {
		return NULL;
	}
	if (v == trunc(v) && fabs(v) < CORE_EXACT_INT_LIMIT) {
		return json_integer((json_int_t) v);
	}
	return json_real(v);
}

// core_number_of copies the JSON number v by the rule of core_number; an
// integer input stays the exact integer it was.
static json_t *
core_number_of(const json_t *v)
{
	if (json_is_integer(v)) {
		return json_integer(json_integer_value(v));
	}
	return core_number(json_real_value(v));
}

// core_less is a < b for two JSON numbers, exact when both are integers.
static int
core_less(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		return json_integer_value(a) < json_integer_value(b);
	}
	return json_number_value(a) < json_number_value(b);
}

// calculate_data computes statistics over params.input_data:
//
//   count   the number of elements (an integer)
//   sum     exact when every element is an integer and the sum fits in
//           64 bits; a double otherwise
//   mean    sum / count
//   min     the smallest element, max the largest
//   stddev  the population standard deviation (divided by count, not by
//           count - 1)
//
// Numbers follow core_number: integral values print as integers. An empty
// input_data is not an error: count is 0 and the others are null, since
// they have no value.
static sje_task_rc
core_calculate_data(const sje_host_api *host, sje_task *task, void *state)
{
	json_t     *p;
	json_t     *data;
	json_t     *result = NULL;
	json_t     *minv   = NULL; // borrowed from data
	json_t     *maxv   = NULL; // borrowed from data
	size_t      n;
	size_t      i;
	json_int_t  isum      = 0; // exact sum while all_int && !ioverflow
	bool        all_int   = true;
	bool        ioverflow = false;
	double      dsum      = 0.0;
	double      mean;
	double      sq = 0.0;
	sje_task_rc rc;

	(void) state;
	if ((p = core_params(host, task)) == NULL) {
		return SJE_TASK_FAILED;
	}
	if (!json_is_object(p)) {
		rc = core_fail(host, task, "invalid_params",
		    "params must be an object such as "
		    "{\"input_data\": [1, 2, 3]}, got %s",
		    sje__json_kind(p));
		goto out;
	}
	if ((data = json_object_get(p, "input_data")) == NULL) {
		rc = core_fail(host, task, "invalid_params",
		    "params.input_data is required: an array of numbers");
		goto out;
	}
	if (!json_is_array(data)) {
		rc = core_fail(host, task, "invalid_params",
		    "params.input_data must be an array of numbers, got %s",
		    sje__json_kind(data));
		goto out;
	}

	n = json_array_size(data);
	for (i = 0; i < n; i++) {
		json_t *v = json_array_get(data, i);
		if (!json_is_number(v)) {
			rc = core_fail(host, task, "invalid_params",
			    "params.input_data[%zu] is not a number "
			    "(it is %s)",
			    i, sje__json_kind(v));
			goto out;
		}
		if (json_is_integer(v)) {
			if (all_int && !ioverflow &&
			    __builtin_add_overflow(
			        isum, json_integer_value(v), &isum)) {
				ioverflow = true;
			}
		} else {
			all_int = false;
		}
		dsum += json_number_value(v);
		if (minv == NULL || core_less(v, minv)) {
			minv = v;
		}
		if (maxv == NULL || core_less(maxv, v)) {
			maxv = v;
		}
	}

	if ((result = json_object()) == NULL ||
	    json_object_set_new(
	        result, "count", json_integer((json_int_t) n))) {
		goto oom;
	}
	if (n == 0) {
		if (json_object_set_new(result, "sum", json_null()) ||
		    json_object_set_new(result, "mean", json_null()) ||
		    json_object_set_new(result, "min", json_null()) ||
		    json_object_set_new(result, "max", json_null()) ||
		    json_object_set_new(result, "stddev", json_null())) {
			goto oom;
		}
		rc = core_set_json(host, task, result);
		goto out;
	}

	if (all_int && !ioverflow) {
		mean = (double) isum / (double) n;
	} else {
		mean = dsum / (double) n;
	}
	for (i = 0; i < n; i++) {
		double d = json_number_value(json_array_get(data, i)) - mean;
		sq += d * d;
	}
	if (!isfinite(dsum) || !isfinite(mean) || !isfinite(sq)) {
		rc = core_fail(host, task, "invalid_params",
		    "params.input_data: the numbers are too large to "
		    "sum in a double");
		goto out;
	}

	if (json_object_set_new(result, "sum",
	        all_int && !ioverflow ? json_integer(isum)
	                              : core_number(dsum)) ||
	    json_object_set_new(result, "mean", core_number(mean)) ||
	    json_object_set_new(result, "min", core_number_of(minv)) ||
	    json_object_set_new(result, "max", core_number_of(maxv)) ||
	    json_object_set_new(
	        result, "stddev", core_number(sqrt(sq / (double) n)))) {
		goto oom;
	}
	rc = core_set_json(host, task, result);
	goto out;

oom:
	rc = core_fail(host, task, "error", "out of memory");
out:
	json_decref(result);
	json_decref(p);
	return rc;
}

// ---- the entry point ----

static const sje_task_def core_tasks[] = {
	{ "noop", core_noop, "does nothing; result null" },
	{ "echo", core_echo, "returns its params as its result" },
	{ "sleep", core_sleep,
	    "sleeps params.seconds (default 1), reporting progress" },
	{ "fail", core_fail_task,
	    "always fails, with params.message as the error message" },
	{ "collect", core_collect,
	    "returns its parents' results, keyed by task_id" },
	{ "calculate_data", core_calculate_data,
	    "count, sum, mean, min, max and stddev of params.input_data" },
};

static const sje_plugin core_plugin = {
	.abi_version = SJE_PLUGIN_ABI_VERSION,
	.size        = sizeof(sje_plugin),
	.name        = "core",
	.version     = CORE_VERSION,
	.init        = NULL,
	.fini        = NULL,
	.tasks       = core_tasks,
	.n_tasks     = sizeof(core_tasks) / sizeof(core_tasks[0]),
	.hooks       = NULL,
	.roles       = SJE_PLUGIN_ROLE_WORKER,
};

// sje_plugin_entry returns the core plugin's description (static data).
CORE_EXPORT const sje_plugin *sje_plugin_entry(void);

const sje_plugin *
sje_plugin_entry(void)
{
	return &core_plugin;
}
