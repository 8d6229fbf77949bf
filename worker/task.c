// task.c — a job on a worker: its host context, its run, its outcome.
//
// The host API (sje_plugin.h) is implemented here over struct sje_task.
// What a task function reads (ids, params, parents) is copied at
// sje__task_alloc and never changes, so those calls take no lock. What it
// writes (progress, result, error) and what other threads write into it
// (the cancel reason) is guarded by the task's own mutex, so slots never
// contend with each other and a plugin may call the host from threads of
// its own. sleep_ms waits on the task's condition variable, which
// sje__task_cancel broadcasts: a cancelled or timed-out task wakes at
// once. A timeout is noticed lazily, by cancelled() and sleep_ms() (which
// never sleeps past the deadline) and by sje__task_outcome, so no thread
// has to watch the clock.
//
// Outcomes are decided in one place, sje__task_outcome:
//   - no such function                 -> Fail "unknown_function"
//   - never ran (the worker stopped)   -> Release ("interrupted")
//   - returned after its deadline      -> Fail "timeout" (with the
//                                         plugin's message when it set an
//                                         error of type "timeout")
//   - SJE_TASK_OK                      -> Complete with the result ("null"
//                                         if none), or Fail
//                                         "invalid_result" when it is not
//                                         valid JSON or breaks a limit
//   - SJE_TASK_FAILED, worker stopping -> Release ("interrupted")
//   - SJE_TASK_FAILED                  -> Fail with the error set (or a
//                                         default that says none was set)
// Release hands the job back unrun; the runtime falls back to Fail with
// the "interrupted" error when the coordinator does not serve Release.
#include "task.h"

#include <sje/client.h>

#include "log.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Longest strings taken from a plugin (bytes); longer ones are cut at a
// character boundary.
#define TASK_MAX_TYPE_BYTES 64u
#define TASK_MAX_MESSAGE_BYTES 4096u
#define TASK_MAX_PROGRESS_BYTES 1024u

// ---- strings from plugins ----

// task_copy_text copies s, cut to at most max bytes at a UTF-8 character
// boundary, with bytes that are not valid UTF-8 replaced by '?' (the wire
// carries protobuf strings, which must be UTF-8). NULL s gives "". NULL
// when memory is short.
static char *
task_copy_text(const char *s, size_t max)
{
	size_t         len;
	size_t         i = 0;
	size_t         o = 0;
	char          *out;
	const uint8_t *u;

	if (s == NULL) {
		s = "";
	}
	len = strnlen(s, max);
	if ((out = malloc(len + 1)) == NULL) {
		return NULL;
	}
	u = (const uint8_t *) s;
	while (i < len) {
		size_t n = 0;
		size_t k;
		if (u[i] < 0x80) {
			n = 1;
		} else if (u[i] >= 0xc2 && u[i] <= 0xdf) {
			n = 2;
		} else if (u[i] >= 0xe0 && u[i] <= 0xef) {
			n = 3;
		} else if (u[i] >= 0xf0 && u[i] <= 0xf4) {
			n = 4;
		}
		if (n > 1 && i + n > len) {
			break; // a character cut by the limit: drop it
		}
		for (k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
		}
		if (n == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

// ---- the host API ----

// task_check_deadline_locked marks t timed out once its deadline passed.
// Caller holds t->mtx.
static void
task_check_deadline_locked(sje_task *t, int64_t now_ms)
{
	if (t->cancel == SJE__CANCEL_NONE && t->deadline_ms != 0 &&
	    now_ms >= t->deadline_ms) {
		t->cancel = SJE__CANCEL_TIMEOUT;
		(void) pthread_cond_broadcast(&t->cv);
	}
}

static const char *
host_task_id(sje_task *t)
{
	return t->task_id;
}

static const char *
host_function(sje_task *t)
{
	return t->function;
}

static const char *
host_params_json(sje_task *t)
{
	return t->params_json;
}

static const char *
host_parents_json(sje_task *t)
{
	return t->parents_json;
}

static uint32_t
host_attempt(sje_task *t)
{
	return t->attempt;
}

static bool
host_cancelled(sje_task *t)
{
	bool c;

	(void) pthread_mutex_lock(&t->mtx);
	task_check_deadline_locked(t, sje_mono_ms());
	c = t->cancel != SJE__CANCEL_NONE;
	(void) pthread_mutex_unlock(&t->mtx);
	return c;
}

static void
host_progress(sje_task *t, double percent, const char *message)
{
	char *msg = NULL;

	if (!(percent >= 0.0)) { // also NaN
		percent = 0.0;
	} else if (percent > 100.0) {
		percent = 100.0;
	}
	if (message != NULL && message[0] != '\0' &&
	    (msg = task_copy_text(message, TASK_MAX_PROGRESS_BYTES)) == NULL) {
		return; // out of memory: progress is best effort
	}
	(void) pthread_mutex_lock(&t->mtx);
	t->percent = percent;
	free(t->progress_msg);
	t->progress_msg = msg;
	(void) pthread_mutex_unlock(&t->mtx);
}

// set_result keeps the text as given; it is validated once, when the
// outcome is made (a task may call set_result many times).
static void
host_set_result(sje_task *t, const char *json)
{
	char *copy = sje__strdup(json != NULL ? json : "null");

	(void) pthread_mutex_lock(&t->mtx);
	free(t->result);
	t->result      = copy;
	t->result_lost = copy == NULL; // out of memory: the outcome says so
	(void) pthread_mutex_unlock(&t->mtx);
}

static void
host_set_error(sje_task *t, const char *type, const char *message)
{
	char *ty =
	    task_copy_text(type != NULL && type[0] != '\0' ? type : "error",
	        TASK_MAX_TYPE_BYTES);
	char *msg = task_copy_text(message, TASK_MAX_MESSAGE_BYTES);

	(void) pthread_mutex_lock(&t->mtx);
	free(t->error_type);
	free(t->error_msg);
	t->error_type = ty;  // either may be NULL when memory is short;
	t->error_msg  = msg; // the outcome then uses defaults
	t->has_error  = true;
	(void) pthread_mutex_unlock(&t->mtx);
}

static void
host_log_job(const char *task_id, sje_log_level level, const char *message)
{
	sje__log_plugin(task_id, level, message);
}

static void
host_log(sje_task *t, sje_log_level level, const char *message)
{
	host_log_job(t != NULL ? t->task_id : NULL, level, message);
}

static bool
host_sleep_ms(sje_task *t, uint32_t ms)
{
	int64_t end_ms = sje_mono_ms() + ms;
	bool    awake;

	(void) pthread_mutex_lock(&t->mtx);
	for (;;) {
		int64_t now_ms   = sje_mono_ms();
		int64_t until_ms = end_ms;

		task_check_deadline_locked(t, now_ms);
		if (t->cancel != SJE__CANCEL_NONE || now_ms >= end_ms) {
			break;
		}
		if (t->deadline_ms != 0 && t->deadline_ms < until_ms) {
			until_ms = t->deadline_ms;
		}
		sje__cond_wait_until(&t->cv, &t->mtx, until_ms);
	}
	awake = t->cancel == SJE__CANCEL_NONE;
	(void) pthread_mutex_unlock(&t->mtx);
	return awake;
}

static const char *
host_cancel_reason(sje_task *t)
{
	sje__cancel c;

	(void) pthread_mutex_lock(&t->mtx);
	task_check_deadline_locked(t, sje_mono_ms());
	c = t->cancel;
	(void) pthread_mutex_unlock(&t->mtx);
	switch (c) {
	case SJE__CANCEL_NONE:
		return NULL;
	case SJE__CANCEL_SERVER:
		return "cancelled";
	case SJE__CANCEL_LOST:
		return "lost";
	case SJE__CANCEL_TIMEOUT:
		return "timeout";
	case SJE__CANCEL_SHUTDOWN:
		return "shutdown";
	}
	return "cancelled";
}

static const sje_host_api task_host_api = {
	.abi_version   = SJE_PLUGIN_ABI_VERSION,
	.size          = sizeof(sje_host_api),
	.task_id       = host_task_id,
	.function      = host_function,
	.params_json   = host_params_json,
	.parents_json  = host_parents_json,
	.attempt       = host_attempt,
	.cancelled     = host_cancelled,
	.progress      = host_progress,
	.set_result    = host_set_result,
	.set_error     = host_set_error,
	.log           = host_log,
	.sleep_ms      = host_sleep_ms,
	.cancel_reason = host_cancel_reason,
	.log_job       = host_log_job,
};

const sje_host_api *
sje__task_host_api(void)
{
	return &task_host_api;
}

// ---- life of a task ----

// task_parents_json makes {"<task_id>": result, ...} of a's parents. A
// parent whose result is absent or not valid JSON maps to null. NULL when
// memory is short.
static char *
task_parents_json(const Sje__V1__Assignment *a)
{
	json_t *obj;
	char   *text;
	size_t  i;

	if (a->n_parents == 0) {
		return sje__strdup("{}");
	}
	if ((obj = json_object()) == NULL) {
		return NULL;
	}
	for (i = 0; i < a->n_parents; i++) {
		const Sje__V1__ParentResult *p = a->parents[i];
		const char                  *rtext;
		json_t                      *v;
		json_error_t                 jerr;

		if (p == NULL || p->task_id == NULL || p->task_id[0] == '\0') {
			continue;
		}
		rtext = p->result != NULL && p->result->text != NULL &&
		        p->result->text[0] != '\0'
		    ? p->result->text
		    : "null";
		if ((v = json_loads(rtext, JSON_DECODE_ANY, &jerr)) == NULL) {
			SJE_LOG_JOB(SJE_LOG_WARN, a->task_id,
			    "result of parent %s is not valid JSON (%s): "
			    "using null",
			    p->task_id, jerr.text);
			v = json_null();
		}
		if (json_object_set_new(obj, p->task_id, v) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return text;
}

sje_err
sje__task_alloc(
    const Sje__V1__Assignment *a, const sje__fn *fn, sje_task **out)
{
	sje_task   *t;
	const char *params;
	sje_err     rv;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return SJE_ENOMEM;
	}
	if (pthread_mutex_init(&t->mtx, NULL) != 0) {
		free(t);
		return SJE_ENOMEM;
	}
	if ((rv = sje__cond_init_mono(&t->cv)) != SJE_OK) {
		(void) pthread_mutex_destroy(&t->mtx);
		free(t);
		return rv;
	}
	params          = a->params != NULL && a->params->text != NULL &&
                a->params->text[0] != '\0'
	             ? a->params->text
	             : "null";
	t->task_id      = sje__strdup(a->task_id);
	t->function     = sje__strdup(a->function);
	t->params_json  = sje__strdup(params);
	t->parents_json = task_parents_json(a);
	t->lease_id     = a->lease_id;
	t->attempt      = a->attempt;
	t->timeout_s    = a->timeout_s;
	t->fn           = fn;
	if (t->task_id == NULL || t->function == NULL ||
	    t->params_json == NULL || t->parents_json == NULL) {
		sje__task_free(t);
		return SJE_ENOMEM;
	}
	*out = t;
	return SJE_OK;
}

void
sje__task_free(sje_task *t)
{
	if (t == NULL) {
		return;
	}
	free(t->task_id);
	free(t->function);
	free(t->params_json);
	free(t->parents_json);
	free(t->progress_msg);
	free(t->result);
	free(t->error_type);
	free(t->error_msg);
	(void) pthread_cond_destroy(&t->cv);
	(void) pthread_mutex_destroy(&t->mtx);
	free(t);
}

void
sje__task_run(sje_task *t)
{
	sje_task_rc rc;

	t->start_ms    = sje_mono_ms();
	t->deadline_ms = t->timeout_s != 0
	    ? t->start_ms + (int64_t) t->timeout_s * 1000
	    : 0;
	t->ran         = true;
	rc             = t->fn->run(sje__task_host_api(), t, t->fn->arg);
	t->end_ms      = sje_mono_ms();
	t->rc          = rc;
}

bool
sje__task_cancel(sje_task *t, sje__cancel why)
{
	bool done = false;

	(void) pthread_mutex_lock(&t->mtx);
	if (t->cancel == SJE__CANCEL_NONE) {
		t->cancel = why;
		done      = true;
		(void) pthread_cond_broadcast(&t->cv);
	}
	(void) pthread_mutex_unlock(&t->mtx);
	return done;
}

sje_err
sje__task_progress(sje_task *t, double *percent, char **message)
{
	char   *msg = NULL;
	sje_err rv  = SJE_OK;

	(void) pthread_mutex_lock(&t->mtx);
	if (t->progress_msg != NULL &&
	    (msg = sje__strdup(t->progress_msg)) == NULL) {
		rv = SJE_ENOMEM;
	} else {
		*percent = t->percent;
		*message = msg;
	}
	(void) pthread_mutex_unlock(&t->mtx);
	return rv;
}

// task_json_depth returns the nesting depth of v (a scalar is 1).
static size_t
task_json_depth(const json_t *v)
{
	size_t      d = 0;
	size_t      i;
	const char *key;
	json_t     *e;

	if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			size_t de = task_json_depth(e);
			d         = de > d ? de : d;
		}
	} else if (json_is_object(v)) {
		// json_object_foreach wants a non-const object; it does not
		// change it.
		json_object_foreach ((json_t *) v, key, e) {
			size_t de = task_json_depth(e);
			d         = de > d ? de : d;
		}
	}
	return d + 1;
}

// task_check_result validates a result's JSON text; on failure writes why
// into why (len bytes) and returns false.
static bool
task_check_result(const char *text, char *why, size_t len)
{
	size_t       n = strlen(text);
	json_t      *v;
	json_error_t jerr;
	bool         ok = true;

	if (n > SJE_MAX_PARAMS_BYTES) {
		sje__snprintf(why, len,
		    "the result is %zu bytes; the limit is %u", n,
		    SJE_MAX_PARAMS_BYTES);
		return false;
	}
	// jansson stops at its own depth limit (2048) before ours is checked.
	v = json_loadb(
	    text, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		sje__snprintf(why, len,
		    "the result is not valid JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return false;
	}
	if (task_json_depth(v) > SJE_MAX_JSON_DEPTH) {
		sje__snprintf(why, len,
		    "the result nests deeper than %u levels",
		    SJE_MAX_JSON_DEPTH);
		ok = false;
	}
	json_decref(v);
	return ok;
}

// task_outcome_set fills o as a failure (copying type and msg) or, when
// type is NULL, as a success with result text msg.
static sje_err
task_outcome_set(sje__outcome *o, const char *type, const char *msg)
{
	if (type == NULL) {
		o->ok     = true;
		o->result = sje__strdup(msg);
		return o->result != NULL ? SJE_OK : SJE_ENOMEM;
	}
	return sje__outcome_fail(o, type, msg);
}

sje_err
sje__task_outcome(sje_task *t, sje__outcome **out)
{
	sje__outcome *o;
	char          buf[512];
	const char   *type = NULL; // NULL: success, msg is the result
	const char   *msg  = NULL;
	sje_err       rv;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->task_id = sje__strdup(t->task_id)) == NULL) {
		free(o);
		return SJE_ENOMEM;
	}
	o->lease_id = t->lease_id;
	o->run_s    = t->ran ? (double) (t->end_ms - t->start_ms) / 1000.0 : 0;

	(void) pthread_mutex_lock(&t->mtx);
	if (t->fn == NULL) {
		type = "unknown_function";
		sje__snprintf(buf, sizeof(buf),
		    "this worker has no function '%s'", t->function);
		msg = buf;
	} else if (!t->ran) {
		type       = "interrupted";
		msg        = "the worker stopped before the job started";
		o->release = true;
	} else if (t->deadline_ms != 0 && t->end_ms >= t->deadline_ms) {
		// Late is late, even when the function then succeeded: the
		// coordinator holds the job to the same limit. A plugin that
		// noticed the timeout may have said more (what it killed, the
		// last output): keep its message then.
		type = "timeout";
		if (t->rc == SJE_TASK_FAILED && t->has_error &&
		    t->error_type != NULL && t->error_msg != NULL &&
		    strcmp(t->error_type, "timeout") == 0) {
			msg = t->error_msg;
		} else {
			sje__snprintf(buf, sizeof(buf), "timed out after %u s",
			    (unsigned) t->timeout_s);
			msg = buf;
		}
	} else if (t->rc == SJE_TASK_OK && t->result_lost) {
		type = "error";
		msg  = "the worker ran out of memory storing the result";
	} else if (t->rc == SJE_TASK_OK) {
		msg = t->result != NULL ? t->result : "null";
		if (!task_check_result(msg, buf, sizeof(buf))) {
			type = "invalid_result";
			msg  = buf;
		}
	} else if (t->rc == SJE_TASK_FAILED) {
		if (t->cancel == SJE__CANCEL_SHUTDOWN) {
			type = "interrupted";
			msg  = "the worker stopped before the job finished";
			o->release = true;
		} else if (t->has_error) {
			type = t->error_type != NULL ? t->error_type : "error";
			msg  = t->error_msg != NULL ? t->error_msg : "";
		} else if (t->cancel == SJE__CANCEL_SERVER) {
			type = "cancelled";
			msg  = "cancelled on request";
		} else {
			type = "error";
			msg  = "the task failed without giving an error";
		}
	} else {
		type = "error";
		sje__snprintf(buf, sizeof(buf),
		    "the task function returned %d, which is neither "
		    "SJE_TASK_OK nor SJE_TASK_FAILED",
		    (int) t->rc);
		msg = buf;
	}
	rv       = task_outcome_set(o, type, msg);
	o->state = sje_job_state_name(type == NULL
	        ? SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED
	        : t->cancel == SJE__CANCEL_SERVER && !o->release
	        ? SJE__V1__JOB_STATE__JOB_STATE_CANCELLED
	        : SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	(void) pthread_mutex_unlock(&t->mtx);

	if (rv != SJE_OK) {
		sje__outcome_free(o);
		return rv;
	}
	*out = o;
	return SJE_OK;
}

sje_err
sje__outcome_fail(sje__outcome *o, const char *type, const char *msg)
{
	char *ty = sje__strdup(type);
	char *m  = sje__strdup(msg != NULL ? msg : "");

	if (ty == NULL || m == NULL) {
		free(ty);
		free(m);
		return SJE_ENOMEM;
	}
	free(o->result);
	free(o->error_type);
	free(o->error_msg);
	o->ok     = false;
	o->state  = sje_job_state_name(SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	o->result = NULL;
	o->error_type = ty;
	o->error_msg  = m;
	return SJE_OK;
}

void
sje__outcome_free(sje__outcome *o)
{
	if (o == NULL) {
		return;
	}
	free(o->task_id);
	free(o->result);
	free(o->error_type);
	free(o->error_msg);
	free(o);
}
