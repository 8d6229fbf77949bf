// heartbeat.c — the worker's heartbeat thread.
//
// Every heartbeat_ms (named by the coordinator at registration) it sends
// a snapshot of the leased jobs and their progress, taken under rt->mtx
// and sent without it; the reply's `cancel` (jobs cancelled) and `lost`
// (leases no longer ours) set those jobs' cancel flags (task.c). A failed
// heartbeat is retried after a back-off no longer than the period; one
// that finds the session unknown registers again at once.
#include "heartbeat.h"

#include "runtime_int.h"
#include "session.h"

#include "log.h"
#include "methods.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

// Call timeout of a heartbeat (ms).
#define RT_HEARTBEAT_TIMEOUT_MS 5000u

void
sje__hb_snapshot_fini(sje__hb_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->jobs[i].task_id);
		if (s->progress[i].message != protobuf_c_empty_string) {
			free(s->progress[i].message);
		}
	}
	free(s->jobs);
	free(s->job_ptrs);
	free(s->progress);
	memset(s, 0, sizeof(*s));
}

void
sje__hb_snapshot_init(
    const sje__slots *ledger, sje__hb_snapshot *s, uint64_t session)
{
	Sje__V1__HeartbeatRequest init = SJE__V1__HEARTBEAT_REQUEST__INIT;
	sje_task                 *t;
	size_t                    n = ledger->busy;
	size_t                    i = 0;

	memset(s, 0, sizeof(*s));
	s->req         = init;
	s->req.session = session;
	if (n == 0) {
		return;
	}
	s->jobs     = calloc(n, sizeof(*s->jobs));
	s->job_ptrs = calloc(n, sizeof(*s->job_ptrs));
	s->progress = calloc(n, sizeof(*s->progress));
	if (s->jobs == NULL || s->job_ptrs == NULL || s->progress == NULL) {
		goto fail;
	}
	for (t = ledger->jobs; t != NULL && i < n; t = t->next, i++) {
		Sje__V1__RunningJob rj = SJE__V1__RUNNING_JOB__INIT;
		Sje__V1__Progress   pg = SJE__V1__PROGRESS__INIT;
		char               *msg;

		s->jobs[i]     = rj;
		s->progress[i] = pg;
		s->n           = i + 1;
		if ((s->jobs[i].task_id = sje__strdup(t->task_id)) == NULL ||
		    sje__task_progress(t, &s->progress[i].percent, &msg) !=
		        SJE_OK) {
			goto fail;
		}
		if (msg != NULL) {
			s->progress[i].message = msg;
		}
		s->jobs[i].lease_id = t->lease_id;
		s->jobs[i].progress = &s->progress[i];
		s->job_ptrs[i]      = &s->jobs[i];
	}
	s->req.running   = s->job_ptrs;
	s->req.n_running = s->n;
	return;

fail:
	SJE_WARN(
	    "out of memory building a heartbeat: sending it without jobs");
	sje__hb_snapshot_fini(s);
	s->req         = init;
	s->req.session = session;
}

void *
sje__heartbeat_main(void *arg)
{
	sje__runtime *rt      = arg;
	int64_t       next_ms = 0; // when the next heartbeat is due
	sje__backoff  b;
	bool          down = false;

	sje__thread_name("sje:heartbeat");
	sje__backoff_reset(&b);
	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		sje__hb_snapshot         snap;
		Sje__V1__HeartbeatReply *reply;
		ProtobufCMessage        *m = NULL;
		sje_status               st;
		sje_err                  rv;
		uint64_t                 session;
		uint32_t                 period_ms;
		char                     why[384];
		size_t                   i;

		while (!rt->hb_stop &&
		    (rt->session == 0 || sje_mono_ms() < next_ms)) {
			if (rt->session == 0) {
				(void) pthread_cond_wait(&rt->cv, &rt->mtx);
			} else {
				sje__cond_wait_until(
				    &rt->cv, &rt->mtx, next_ms);
			}
		}
		if (rt->hb_stop) {
			break;
		}
		session   = rt->session;
		period_ms = rt->heartbeat_ms;
		sje__hb_snapshot_init(&rt->ledger, &snap, session);
		(void) pthread_mutex_unlock(&rt->mtx);

		rv = sje__session_call(rt, SJE__HUB_HEARTBEAT, &snap.req.base,
		    &m, RT_HEARTBEAT_TIMEOUT_MS, &st);
		sje__hb_snapshot_fini(&snap);
		if (rv == SJE_OK) {
			reply = (Sje__V1__HeartbeatReply *) m;
			(void) pthread_mutex_lock(&rt->mtx);
			for (i = 0; i < reply->n_cancel; i++) {
				(void) sje__slots_cancel(&rt->ledger,
				    reply->cancel[i], SJE__CANCEL_SERVER);
			}
			for (i = 0; i < reply->n_lost; i++) {
				(void) sje__slots_cancel(&rt->ledger,
				    reply->lost[i], SJE__CANCEL_LOST);
			}
			(void) pthread_mutex_unlock(&rt->mtx);
			protobuf_c_message_free_unpacked(m, NULL);
			sje__backoff_reset(&b);
			down    = false;
			next_ms = sje_mono_ms() + period_ms;
		} else if (sje__session_lost(rv)) {
			rv      = sje__session_renew(rt, session, &st);
			next_ms = sje_mono_ms() +
			    (rv == SJE_OK ? 0 : sje__backoff_next(&b));
		} else {
			uint32_t wait_ms = sje__backoff_next(&b);
			if (!down) {
				SJE_DEBUG("heartbeat failed: %s; retrying",
				    sje__session_why(
				        rv, &st, why, sizeof(why)));
				down = true;
			}
			next_ms = sje_mono_ms() +
			    (wait_ms < period_ms ? wait_ms : period_ms);
		}
		(void) pthread_mutex_lock(&rt->mtx);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}
