// check.c — request checks shared by the handlers (check.h): ids, list
// counts, list limits, job filters. Scheduler thread only.
#include "sched/check.h"

#include "sched/reply.h"

#include "store/job.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

// sje__sched_check_count refuses a list (named field) of n entries unless
// min <= n <= SJE_MAX_JOBS_PER_CALL; returns whether it is within.
bool
sje__sched_check_count(
    sje__sched *s, sje__call *call, size_t n, size_t min, const char *field)
{
	if (n < min) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s: at least %zu entry is required", field, min);
		return false;
	}
	if (n > SJE_MAX_JOBS_PER_CALL) {
		sje__sched_reply_err(s, call, SJE_ELIMIT, field,
		    "%s: at most %u entries per call", field,
		    SJE_MAX_JOBS_PER_CALL);
		return false;
	}
	return true;
}

// sje__sched_check_id refuses a missing or malformed task_id.
bool
sje__sched_check_id(
    sje__sched *s, sje__call *call, const char *id, const char *field)
{
	if (id == NULL || id[0] == '\0') {
		sje__sched_reply_err(
		    s, call, SJE_EINVAL, field, "%s is required", field);
		return false;
	}
	if (!sje__job_id_valid(id)) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s must be 1 to %u characters of A-Z a-z 0-9 _ . : -",
		    field, SJE_MAX_ID_BYTES);
		return false;
	}
	return true;
}

// sched_check_limit refuses a list limit past max (0 asks for the
// default): the one rule of REST and RPC alike, never a silent clamp.
bool
sje__sched_check_limit(
    sje__sched *s, sje__call *call, uint32_t limit, uint32_t max)
{
	if (limit > max) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "limit",
		    "limit is %u; at most %u", limit, max);
		return false;
	}
	return true;
}

// check_time reads ts (NULL: none) into *ms (0: none), or answers naming
// field.
static bool
check_time(sje__sched *s, sje__call *call, const Sje__V1__Timestamp *ts,
    const char *field, sje_time_ms *ms)
{
	*ms = 0;
	if (ts == NULL) {
		return true;
	}
	if (ts->unix_ms <= 0) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s: expected a time after 1970-01-01T00:00:00Z", field);
		return false;
	}
	*ms = ts->unix_ms;
	return true;
}

// check_label splits in's label into sf->label, or answers naming "label".
static bool
check_label(
    sje__sched *s, sje__call *call, const char *label, sched_filter *sf)
{
	const char *eq = strchr(label, '=');
	if (eq == NULL || eq == label) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "label",
		    "label: expected KEY=VALUE, such as team=etl");
		return false;
	}
	size_t kl = (size_t) (eq - label);
	if (kl > SJE_JOB_MAX_LABEL_KEY_BYTES ||
	    strlen(eq + 1) > SJE_JOB_MAX_LABEL_VALUE_BYTES) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "label",
		    "label: a key has at most %u bytes, a value %u",
		    SJE_JOB_MAX_LABEL_KEY_BYTES,
		    SJE_JOB_MAX_LABEL_VALUE_BYTES);
		return false;
	}
	sf->label         = sje__sched_xstrdup(label);
	sf->label[kl]     = '\0';
	sf->f.label_key   = sf->label;
	sf->f.label_value = sf->label + kl + 1;
	return true;
}

// check_set is true when a request's string field is given.
static bool
check_set(const char *v)
{
	return v != NULL && v[0] != '\0';
}

bool
sje__sched_check_filter(sje__sched *s, sje__call *call,
    const sched_filter_in *in, sched_filter *out)
{
	sched_filter sf = { 0 };
	if (in->state < 0 ||
	    in->state > (int) SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
		sje__sched_reply_err(
		    s, call, SJE_EINVAL, "state", "unknown state");
		return false;
	}
	sf.f.state = in->state;
	if (check_set(in->function)) {
		if (strlen(in->function) > SJE_MAX_FUNCTION_BYTES) {
			sje__sched_reply_err(s, call, SJE_EINVAL, "function",
			    "function is too long");
			return false;
		}
		sf.f.function = in->function;
	}
	if (check_set(in->workflow_id)) {
		if (!sje__sched_check_id(
		        s, call, in->workflow_id, "workflow_id")) {
			return false;
		}
		sf.f.workflow_id = in->workflow_id;
	}
	if (check_set(in->worker)) {
		if (strlen(in->worker) > SJE_MAX_ID_BYTES) {
			sje__sched_reply_err(s, call, SJE_EINVAL, "worker",
			    "worker: a worker's name has at most %u bytes",
			    SJE_MAX_ID_BYTES);
			return false;
		}
		sf.f.worker = in->worker;
	}
	if (check_set(in->task_id_prefix)) {
		if (!sje__job_id_prefix_valid(in->task_id_prefix)) {
			sje__sched_reply_err(s, call, SJE_EINVAL,
			    "task_id_prefix",
			    "task_id_prefix: at most %u bytes of UTF-8",
			    SJE_MAX_ID_BYTES);
			return false;
		}
		sf.f.task_id_prefix = in->task_id_prefix;
	}
	if (check_set(in->parent)) {
		if (!sje__sched_check_id(s, call, in->parent, "parent")) {
			return false;
		}
		sf.f.parent = in->parent;
	}
	if (!check_time(s, call, in->after, "after", &sf.f.created_from_ms) ||
	    !check_time(
	        s, call, in->before, "before", &sf.f.created_before_ms)) {
		return false;
	}
	if (sf.f.created_from_ms != 0 && sf.f.created_before_ms != 0 &&
	    sf.f.created_from_ms >= sf.f.created_before_ms) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "after",
		    "after must be earlier than before");
		return false;
	}
	if (check_set(in->label) && !check_label(s, call, in->label, &sf)) {
		return false;
	}
	sf.any = sf.f.state != 0 || sf.f.function != NULL ||
	    sf.f.workflow_id != NULL || sf.f.worker != NULL ||
	    sf.f.created_from_ms != 0 || sf.f.created_before_ms != 0 ||
	    sf.label != NULL || sf.f.task_id_prefix != NULL ||
	    sf.f.parent != NULL;
	*out = sf;
	return true;
}

void
sje__sched_filter_fini(sched_filter *sf)
{
	free(sf->label);
	sf->label = NULL;
}
