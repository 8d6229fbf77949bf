// report.c — the worker's reporter thread and the outcome queue.
//
// The reporter sends the queued outcomes in batches (all that are queued,
// up to a cap): successes with Complete, failures with Fail, and jobs the
// worker hands back (not run, or interrupted by its stop) with Release.
// When the coordinator takes outcomes in Fetch and the fetch thread is
// about to fetch (sje__fetch_will_carry), the reporter leaves successes
// and failures to it: one call then reports them and brings more jobs. A
// coordinator that answers Release with UNIMPLEMENTED gets those as Fail
// "interrupted" instead, from then on. A success whose result the
// coordinator refuses (invalid, too large) is reported as a failure.
//
// An outcome is dropped only once the coordinator answered for it,
// accepted or refused, or when the worker is stopping and the coordinator
// stayed unreachable for RT_FLUSH_MS (runtime.c; the job then runs again
// when its lease expires).
#include "report.h"

#include "fetch.h"
#include "runtime_int.h"
#include "session.h"

#include "log.h"
#include "methods.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

// Consecutive re-registrations one report may trigger before the
// FAILED_PRECONDITION is taken as the coordinator's answer.
#define RT_MAX_RENEWALS 3

void
sje__outq_push(sje__outq *q, sje__outcome *o)
{
	o->next = NULL;
	if (q->tail != NULL) {
		q->tail->next = o;
	} else {
		q->head = o;
	}
	q->tail = o;
}

sje__outcome *
sje__outq_take(sje__outq *q, size_t max_n, size_t max_bytes, size_t *n)
{
	sje__outcome *batch;
	sje__outcome *last;
	size_t        count;
	size_t        bytes;

	if (q->head == NULL) {
		return NULL;
	}
	batch = last = q->head;
	count        = 1;
	bytes        = last->result != NULL ? strlen(last->result) : 0;
	while (last->next != NULL && count < max_n) {
		const sje__outcome *o = last->next;
		size_t ob = (o->result != NULL ? strlen(o->result) : 0) +
		    (o->error_msg != NULL ? strlen(o->error_msg) : 0);
		if (bytes + ob > max_bytes) {
			break;
		}
		bytes += ob;
		last = last->next;
		count++;
	}
	if ((q->head = last->next) == NULL) {
		q->tail = NULL;
	}
	last->next = NULL;
	*n         = count;
	return batch;
}

sje__outcome *
sje__outq_take_carried(sje__outq *q, size_t max_n, size_t max_bytes, size_t *n)
{
	sje__outcome  *head = NULL, **tail = &head;
	sje__outcome **at    = &q->head;
	sje__outcome  *prev  = NULL; // the last outcome left in q
	size_t         count = 0, bytes = 0;

	while (*at != NULL && count < max_n) {
		sje__outcome *o = *at;
		size_t ob       = (o->result != NULL ? strlen(o->result) : 0) +
		    (o->error_msg != NULL ? strlen(o->error_msg) : 0);
		if (o->release) {
			prev = o;
			at   = &o->next;
			continue;
		}
		if (count > 0 && bytes + ob > max_bytes) {
			break;
		}
		*at     = o->next; // unlink o
		o->next = NULL;
		*tail   = o;
		tail    = &o->next;
		bytes += ob;
		count++;
	}
	// The tail of q is the last outcome left, unless the walk stopped
	// early (then the tail did not move).
	if (*at == NULL) {
		q->tail = prev;
	}
	if (count == 0) {
		return NULL;
	}
	*n = count;
	return head;
}

void
sje__outq_requeue(sje__outq *q, sje__outcome *batch)
{
	sje__outcome *last = batch;

	if (batch == NULL) {
		return;
	}
	while (last->next != NULL) {
		last = last->next;
	}
	last->next = q->head;
	if (q->head == NULL) {
		q->tail = last;
	}
	q->head = batch;
}

bool
sje__outq_has_release(const sje__outq *q)
{
	for (const sje__outcome *o = q->head; o != NULL; o = o->next) {
		if (o->release) {
			return true;
		}
	}
	return false;
}

sje_err
sje__outcomes_pb_make(
    sje__outcomes_pb *pb, sje__outcome *const *outs, size_t n, bool ids_only)
{
	size_t i;

	memset(pb, 0, sizeof(*pb));
	pb->jo   = calloc(n + 1, sizeof(*pb->jo));
	pb->p    = calloc(n + 1, sizeof(*pb->p));
	pb->json = calloc(n + 1, sizeof(*pb->json));
	pb->errs = calloc(n + 1, sizeof(*pb->errs));
	if (pb->jo == NULL || pb->p == NULL || pb->json == NULL ||
	    pb->errs == NULL) {
		sje__outcomes_pb_free(pb);
		return SJE_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		Sje__V1__JobOutcome *jo = &pb->jo[i];

		sje__v1__job_outcome__init(jo);
		jo->task_id  = outs[i]->task_id;
		jo->lease_id = outs[i]->lease_id;
		if (ids_only) {
			// Release carries no result or error: the attempt
			// does not count.
		} else if (outs[i]->ok) {
			sje__v1__json__init(&pb->json[i]);
			pb->json[i].text = outs[i]->result;
			jo->result       = &pb->json[i];
		} else {
			sje__v1__job_error__init(&pb->errs[i]);
			pb->errs[i].type    = outs[i]->error_type;
			pb->errs[i].message = outs[i]->error_msg;
			jo->error           = &pb->errs[i];
		}
		pb->p[i] = jo;
	}
	return SJE_OK;
}

void
sje__outcomes_pb_free(sje__outcomes_pb *pb)
{
	free(pb->jo);
	free(pb->p);
	free(pb->json);
	free(pb->errs);
	memset(pb, 0, sizeof(*pb));
}

void
sje__report_sort(sje__outcome *batch, bool no_release, sje__outcome **oks,
    size_t *n_ok, sje__outcome **fails, size_t *n_fail, sje__outcome **rels,
    size_t *n_rel)
{
	sje__outcome *o;

	*n_ok = *n_fail = *n_rel = 0;
	for (o = batch; o != NULL; o = o->next) {
		if (o->ok) {
			oks[(*n_ok)++] = o;
		} else if (o->release && !no_release) {
			rels[(*n_rel)++] = o;
		} else {
			fails[(*n_fail)++] = o;
		}
	}
}

// report_result_refused is true for the per-outcome answers to Complete that
// mean the result itself broke a rule (invalid, too large).
static bool
report_result_refused(int code)
{
	return code == SJE__V1__STATUS_CODE__INVALID_ARGUMENT ||
	    code == SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED;
}

// report_drop logs outcomes given up on.
static void
report_drop(sje__outcome **outs, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		SJE_LOG_JOB(SJE_LOG_ERROR, outs[i]->task_id,
		    "outcome not reported: %s; the job runs again when "
		    "its lease expires",
		    why);
	}
}

void
sje__report_answered(sje__outcome **outs, size_t n,
    const Sje__V1__ReportReply *reply, sje__outcome **refused,
    size_t *n_refused)
{
	char   why[128];
	size_t i;

	for (i = 0; i < n; i++) {
		sje__outcome *o    = outs[i];
		int           code = i < reply->n_accepted
		              ? (int) reply->accepted[i]
		              : SJE__V1__STATUS_CODE__UNKNOWN;

		if (code == SJE__V1__STATUS_CODE__OK) {
			SJE_LOG_JOB(SJE_LOG_DEBUG, o->task_id, "reported");
			continue;
		}
		if (refused == NULL || !o->ok ||
		    !report_result_refused(code)) {
			SJE_LOG_JOB(SJE_LOG_INFO, o->task_id,
			    "outcome refused by the coordinator: %s",
			    sje_status_name(code));
			continue;
		}
		sje__snprintf(why, sizeof(why),
		    "the coordinator refused the result: %s",
		    sje_status_name(code));
		if (sje__outcome_fail(o, "invalid_result", why) != SJE_OK) {
			report_drop(&o, 1, "out of memory");
			continue;
		}
		SJE_LOG_JOB(SJE_LOG_WARN, o->task_id,
		    "%s; reporting a failure instead", why);
		refused[(*n_refused)++] = o;
	}
}

// report_timeout is how long one report call may take: RT_REPORT_TIMEOUT_MS,
// and once a stop has set the flush deadline (its last job ended, or its
// grace is over) no longer than that deadline has left (at least 100 ms),
// so that the reports end within RT_FLUSH_MS of it even while the
// coordinator does not answer.
static uint32_t
report_timeout(sje__runtime *rt)
{
	uint32_t t = RT_REPORT_TIMEOUT_MS;
	(void) pthread_mutex_lock(&rt->mtx);
	if (rt->flush_deadline_ms > 0) {
		sje_time_ms now  = sje_mono_ms();
		sje_time_ms left = rt->flush_deadline_ms > now
		    ? rt->flush_deadline_ms - now
		    : 0;
		if (left < t) {
			t = left > 100 ? (uint32_t) left : 100;
		}
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return t;
}

// report_send sends outs[0..n) with Complete (method SJE__HUB_COMPLETE, all
// ok), Fail (SJE__HUB_FAIL) or Release (SJE__HUB_RELEASE: task ids and leases
// only), retrying until the coordinator answers. Successes whose result the
// coordinator refuses as invalid or too large are turned into failures and
// appended to *refused (capacity n; may be NULL for Fail and Release).
// Returns SJE_EUNIMPL, having reported nothing, when the coordinator does
// not serve the method; SJE_OK otherwise (outcomes given up on are
// logged).
static sje_err
report_send(sje__runtime *rt, unsigned method, sje__outcome **outs, size_t n,
    sje__outcome **refused, size_t *n_refused)
{
	Sje__V1__ReportRequest req = SJE__V1__REPORT_REQUEST__INIT;
	sje__outcomes_pb       pb;
	sje__backoff           b;
	int                    renewals = 0;
	bool                   down     = false;
	char                   why[384];
	sje_err                result = SJE_OK;

	if (n == 0) {
		return SJE_OK;
	}
	if (sje__outcomes_pb_make(&pb, outs, n, method == SJE__HUB_RELEASE) !=
	    SJE_OK) {
		report_drop(outs, n, "out of memory");
		return SJE_OK;
	}
	req.outcomes   = pb.p;
	req.n_outcomes = n;

	sje__backoff_reset(&b);
	for (;;) {
		ProtobufCMessage *m = NULL;
		sje_status        st;
		sje_err           rv;
		bool              give_up;

		req.session = sje__session_id(rt);

		rv = sje__session_call(
		    rt, method, &req.base, &m, report_timeout(rt), &st);
		if (rv == SJE_OK) {
			sje__report_answered(outs, n,
			    (Sje__V1__ReportReply *) m, refused, n_refused);
			protobuf_c_message_free_unpacked(m, NULL);
			if (down) {
				SJE_INFO(
				    "reports reach the coordinator again");
			}
			goto out;
		}
		if (sje__session_lost(rv)) {
			sje_err rrv;
			if (renewals >= RT_MAX_RENEWALS) {
				// Registered afresh and still refused: that is
				// the coordinator's answer.
				report_drop(outs, n,
				    sje__session_why(
				        rv, &st, why, sizeof(why)));
				goto out;
			}
			if ((rrv = sje__session_renew(rt, req.session, &st)) ==
			    SJE_OK) {
				renewals++;
				continue;
			}
			rv =
			    rrv; // Register failed: judged below like any call
		}
		if (rv == SJE_EUNIMPL && method == SJE__HUB_RELEASE) {
			result = SJE_EUNIMPL; // the caller falls back to Fail
			goto out;
		}
		if (rv == SJE_ELIMIT && n > 1) {
			// Too much for one call: send it in halves. (A
			// Release refused as unimplemented is refused at
			// once, before any half is sent.)
			size_t half = n / 2;
			if ((result = report_send(rt, method, outs, half,
			         refused, n_refused)) == SJE_OK) {
				result = report_send(rt, method, outs + half,
				    n - half, refused, n_refused);
			}
			goto out;
		}
		if (rv == SJE_ELIMIT && refused != NULL && outs[0]->ok &&
		    sje__outcome_fail(outs[0], "invalid_result",
		        "the coordinator refused the result as too large") ==
		        SJE_OK) {
			SJE_LOG_JOB(SJE_LOG_WARN, outs[0]->task_id,
			    "the coordinator refused the result as too large; "
			    "reporting a failure instead");
			refused[(*n_refused)++] = outs[0];
			goto out;
		}
		if (!sje__session_transient(rv) && !sje__session_lost(rv) &&
		    rv != SJE_EINTERNAL && rv != SJE_EIO) {
			// The coordinator answered and refused the whole call.
			report_drop(outs, n,
			    sje__session_why(rv, &st, why, sizeof(why)));
			goto out;
		}
		(void) pthread_mutex_lock(&rt->mtx);
		give_up =
		    rt->report_stop && sje_mono_ms() >= rt->flush_deadline_ms;
		(void) pthread_mutex_unlock(&rt->mtx);
		if (give_up) {
			report_drop(outs, n,
			    sje__session_why(rv, &st, why, sizeof(why)));
			goto out;
		}
		if (!down) {
			SJE_WARN("reporting %zu outcomes to %s failed: %s; "
			         "retrying",
			    n, rt->server_url,
			    sje__session_why(rv, &st, why, sizeof(why)));
			down = true;
		}
		sje__rt_sleep(rt, sje__backoff_next(&b), NULL);
	}

out:
	sje__outcomes_pb_free(&pb);
	return result;
}

// report_batch reports one batch (a list linked by next): the jobs
// handed back first (with the failures when the coordinator has no
// Release), then successes, then failures, including successes the
// coordinator refused. Frees the batch. Runs on the reporter thread.
static void
report_batch(sje__runtime *rt, sje__outcome *batch, size_t n)
{
	sje__outcome **oks;
	sje__outcome **fails;
	sje__outcome **rels;
	sje__outcome  *o;
	sje__outcome  *next;
	size_t         n_ok   = 0;
	size_t         n_fail = 0;
	size_t         n_rel  = 0;
	size_t         i;

	oks   = calloc(n, sizeof(*oks));
	fails = calloc(n, sizeof(*fails));
	rels  = calloc(n, sizeof(*rels));
	if (oks == NULL || fails == NULL || rels == NULL) {
		for (o = batch; o != NULL; o = o->next) {
			report_drop(&o, 1, "out of memory");
		}
		goto out;
	}
	sje__report_sort(
	    batch, rt->no_release, oks, &n_ok, fails, &n_fail, rels, &n_rel);
	if (report_send(rt, SJE__HUB_RELEASE, rels, n_rel, NULL, NULL) ==
	    SJE_EUNIMPL) {
		SJE_INFO("the coordinator does not serve Release: reporting "
		         "jobs handed back as failures (interrupted)");
		rt->no_release = true;
		for (i = 0; i < n_rel; i++) {
			fails[n_fail++] = rels[i];
		}
	}
	(void) report_send(rt, SJE__HUB_COMPLETE, oks, n_ok, fails, &n_fail);
	(void) report_send(rt, SJE__HUB_FAIL, fails, n_fail, NULL, NULL);

out:
	for (o = batch; o != NULL; o = next) {
		next = o->next;
		sje__outcome_free(o);
	}
	free(oks);
	free(fails);
	free(rels);
}

void *
sje__report_main(void *arg)
{
	sje__runtime *rt = arg;
	sje__thread_name("sje:report");

	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		sje__outcome *batch;
		size_t        n;

		// Outcomes the fetch thread is about to carry are its own.
		while (!rt->report_stop &&
		    (rt->outq.head == NULL || sje__fetch_will_carry(rt))) {
			(void) pthread_cond_wait(&rt->report_cv, &rt->mtx);
		}
		if (rt->outq.head == NULL) {
			break; // stopping, and everything was reported
		}
		// Take everything queued, up to the caps.
		batch = sje__outq_take(&rt->outq, SJE__REPORT_BATCH_MAX,
		    SJE__REPORT_BATCH_MAX_BYTES, &n);
		(void) pthread_mutex_unlock(&rt->mtx);

		report_batch(rt, batch, n);
		(void) pthread_mutex_lock(&rt->mtx);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}
