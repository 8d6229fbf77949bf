// validate.c — the doors' checks before posting (validate.h).
//
// The checks and their messages are the scheduler's own, in the same
// order for each job (its spec, the dependencies so far, its task_id
// against those before it, then the encoding), so that a request is
// refused the same way whichever side refuses it. Runs on the door's
// thread (nng's), on a call that no other thread touches yet.
#include "door/validate.h"

#include "methods.h"
#include "pbjson.h"
#include "sched/hmap.h"
#include "sched/scheduler.h"
#include "store/job.h"
#include "util.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// validate_fail answers call with err and the message, naming field of
// the i-th job as the scheduler does: plainly for a request of one job
// (prefix NULL), as "jobs[i].field" in a batch.
static void validate_fail(sje__call *call, sje_err err, const char *prefix,
    size_t i, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
validate_fail(sje__call *call, sje_err err, const char *prefix, size_t i,
    const char *field, const char *fmt, ...)
{
	char    where[160], msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sje__job_field(where, sizeof(where), prefix, i, field);
	sje__call_error(call, err, where, "%s", msg);
}

// validate_spec_encodes is true when spec packs into bytes that unpack
// again: protobuf-c keeps unknown fields and packs them back, and some it
// accepts (a field number 0 under a non-minimal tag) do not decode once
// packed. The scheduler stores only specs that read back.
static bool
validate_spec_encodes(const Sje__V1__JobSpec *spec)
{
	uint8_t  small[2048]; // most specs: no allocation
	size_t   len = sje__v1__job_spec__get_packed_size(spec);
	uint8_t *buf = len <= sizeof(small) ? small : malloc(len);
	if (buf == NULL) {
		return true; // the scheduler packs it again, and decides
	}
	sje__v1__job_spec__pack(spec, buf);
	Sje__V1__JobSpec *back = sje__v1__job_spec__unpack(NULL, len, buf);
	if (buf != small) {
		free(buf);
	}
	if (back == NULL) {
		return false;
	}
	sje__v1__job_spec__free_unpacked(back, NULL);
	return true;
}

// validate_submit checks a SubmitRequest (see validate.h): 1 when it
// passes, 0 when it was refused (and answered), -1 when memory ran short
// before every check was made (the scheduler then checks it all).
static int
validate_submit(sje__call *call, const Sje__V1__SubmitRequest *req)
{
	size_t n = req->n_jobs;
	if (n < 1) {
		sje__call_error(call, SJE_EINVAL, "jobs",
		    "jobs: at least 1 entry is required");
		return 0;
	}
	if (n > SJE_MAX_JOBS_PER_CALL) {
		sje__call_error(call, SJE_ELIMIT, "jobs",
		    "jobs: at most %u entries per call",
		    SJE_MAX_JOBS_PER_CALL);
		return 0;
	}
	// One job: its fields are named plainly ("task_id"); a batch's as
	// "jobs[i].task_id".
	const char *prefix = n == 1 ? NULL : "jobs";
	char        field[96], msg[256];
	size_t      edges = 0;
	int         ok    = 1;
	sje__hmap   seen;
	sje__hmap_init(&seen);
	for (size_t i = 0; i < n && ok; i++) {
		const Sje__V1__JobSpec *spec = req->jobs[i];
		const char             *id   = spec->task_id;
		if (sje__job_spec_check(spec, field, sizeof(field), msg,
		        sizeof(msg)) != SJE_OK) {
			validate_fail(
			    call, SJE_EINVAL, prefix, i, field, "%s", msg);
			ok = 0;
		} else if ((edges += spec->n_depends_on) >
		    SJE_MAX_EDGES_PER_CALL) {
			validate_fail(call, SJE_ELIMIT, prefix, i,
			    "depends_on",
			    "at most %u dependencies in one request",
			    SJE_MAX_EDGES_PER_CALL);
			ok = 0;
		} else if (n > 1 && id != NULL && id[0] != '\0' &&
		    sje__hmap_get(&seen, id) != NULL) {
			validate_fail(call, SJE_EINVAL, prefix, i, "task_id",
			    "task_id '%s' appears twice in the request", id);
			ok = 0;
		} else if (n > 1 && id != NULL && id[0] != '\0' &&
		    sje__hmap_put(&seen, id, (void *) spec) != SJE_OK) {
			ok = -1; // no memory for the set: the scheduler checks
			break;
		} else if (!validate_spec_encodes(spec)) {
			validate_fail(call, SJE_EINVAL, prefix, i, "task_id",
			    "the job spec holds malformed unknown fields");
			ok = 0;
		}
	}
	sje__hmap_fini(&seen);
	return ok;
}

// validate_results is true when every result of a Complete (or of the
// outcomes a Fetch carries) is JSON of
// at most SJE_MAX_PARAMS_BYTES (an empty or missing one stands for null).
// A result that is not fails its attempt as "invalid_result", which takes
// the job's state: that stays with the scheduler, which checks a call
// that is not marked.
static bool
validate_results(Sje__V1__JobOutcome *const *outcomes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const Sje__V1__JobOutcome *o = outcomes[i];
		if (o->result == NULL || o->result->text == NULL ||
		    o->result->text[0] == '\0') {
			continue;
		}
		size_t len = strlen(o->result->text);
		if (len > SJE_MAX_PARAMS_BYTES ||
		    !sje__json_valid(o->result->text, len)) {
			return false;
		}
	}
	return true;
}

bool
sje__validate_call(sje__call *call)
{
	if (sje__call_service(call) == &sje__v1__worker_hub__descriptor &&
	    sje__call_input(call) != NULL) {
		if (sje__call_method(call) == SJE__HUB_COMPLETE) {
			const Sje__V1__ReportRequest *r =
			    (const Sje__V1__ReportRequest *) sje__call_input(
			        call);
			call->checked =
			    validate_results(r->outcomes, r->n_outcomes);
		} else if (sje__call_method(call) == SJE__HUB_FETCH) {
			const Sje__V1__FetchRequest *r =
			    (const Sje__V1__FetchRequest *) sje__call_input(
			        call);
			call->checked =
			    validate_results(r->outcomes, r->n_outcomes);
		}
		return true;
	}
	if (sje__call_service(call) == &sje__v1__coordinator__descriptor &&
	    sje__call_method(call) == SJE__COORD_LIST_JOBS &&
	    sje__call_input(call) != NULL) {
		// The scheduler checks the rest of the filter, as it does
		// BulkRequest's; the prefix, which no other call has, here.
		const Sje__V1__ListJobsRequest *r =
		    (const Sje__V1__ListJobsRequest *) sje__call_input(call);
		if (r->task_id_prefix != NULL &&
		    r->task_id_prefix[0] != '\0' &&
		    !sje__job_id_prefix_valid(r->task_id_prefix)) {
			validate_fail(call, SJE_EINVAL, NULL, 0,
			    "task_id_prefix",
			    "task_id_prefix: at most %u bytes of UTF-8",
			    SJE_MAX_ID_BYTES);
			return false;
		}
		return true;
	}
	if (sje__call_service(call) == &sje__v1__coordinator__descriptor &&
	    sje__call_method(call) == SJE__COORD_SUBMIT &&
	    sje__call_input(call) != NULL) {
		int rc = validate_submit(call,
		    (const Sje__V1__SubmitRequest *) sje__call_input(call));
		if (rc == 0) {
			return false;
		}
		call->checked = rc == 1;
	}
	return true;
}

void
sje__validate_post(void *sched, sje__call *call)
{
	if (sje__validate_call(call)) {
		sje__sched_post(sched, call);
	}
}
