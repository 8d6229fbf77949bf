// fetch.c — the worker's fetch thread.
//
// It registers (session.c), then long-polls Fetch for as many jobs as
// there are free slots, makes a task of each assignment (task.c) and
// queues it in the ledger for the slots (slots.c). It waits while every
// slot is busy. A repeated assignment (same task and lease) is ignored.
// A Fetch that fails is retried after a back-off; one that finds the
// session unknown registers again first.
//
// One call per batch, not two: when the coordinator takes outcomes in
// Fetch, each Fetch carries the successes and failures queued since the
// last one (the reporter leaves them while this thread is about to
// fetch), and its reply answers them. Outcomes a failed call leaves
// unanswered go back to the queue, for the reporter or the next Fetch; a
// repeat of one already taken is refused as stale and changes nothing.
//
// Awaiting short jobs: when the last Fetch emptied the coordinator's
// queue, the next one will likely be held there until a job comes, and an
// outcome that ends meanwhile goes with a call of its own (Complete).
// So while the jobs that run are short (sje__fetch_should_await), the
// thread first waits for them, up to RT_FETCH_GATHER_MS, and the next
// Fetch carries their outcomes: one job, one call of its worker.
//
// Prefetch: while jobs are short, the worker holds more than its slots
// (sje__fetch_extra: what its slots would run in 10 ms, at most 64), so
// that a 1-slot worker of quick jobs fetches and reports them many at a
// time rather than one per round trip. A job fetched ahead waits at most
// about that window for a slot; its lease is kept by the heartbeats like
// a running one's. Once jobs run longer than the window there is no
// prefetch, and a worker takes only what its free slots can start.
#include "fetch.h"

#include "report.h"
#include "runtime_int.h"
#include "session.h"

#include "log.h"
#include "methods.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

// How long a Fetch may be held by the coordinator when no job is ready
// (ms). sje_client_call cannot be interrupted, so this bounds how long a
// stopping worker waits for its fetch thread: kept short (an idle worker
// polls every 2 s, a negligible load) until libsje can abort a call.
#define RT_FETCH_WAIT_MS 2000u
// An empty Fetch reply faster than this (ms) is followed by a pause as
// long.
#define RT_FETCH_EMPTY_PAUSE_MS 100u
// While jobs run and fewer than half the slots are free, the fetch thread
// waits up to this long (ms) for more of them to free, so that one Fetch
// brings several jobs rather than one: a call costs far more than a job of
// a few microseconds. An idle worker fetches at once.
#define RT_FETCH_GATHER_MS 2
// A Fetch may take what the server may hold it for plus this (ms).
#define RT_CALL_SLACK_MS 3000u

uint32_t
sje__fetch_extra(uint32_t slots, double run_ms, uint32_t seen)
{
	// A run shorter than this counts as this long: noop jobs measure 0.
	const double floor_ms = 0.05;
	double       extra;

	if (seen < SJE__FETCH_RUNS_SEEN || slots == 0) {
		return 0;
	}
	extra = SJE__FETCH_PREFETCH_WINDOW_MS * (double) slots /
	    (run_ms > floor_ms ? run_ms : floor_ms);
	return extra >= (double) SJE__FETCH_PREFETCH_MAX
	    ? SJE__FETCH_PREFETCH_MAX
	    : (uint32_t) extra;
}

double
sje__fetch_average(double avg, uint32_t seen, double ms)
{
	if (seen < SJE__FETCH_RUNS_SEEN) {
		return (avg * seen + ms) / (seen + 1); // the plain mean so far
	}
	return avg + (ms - avg) / 8.0;
}

void
sje__fetch_note_run(sje__runtime *rt, double ms)
{
	rt->run_ewma_ms =
	    sje__fetch_average(rt->run_ewma_ms, rt->run_seen, ms);
	if (rt->run_seen < SJE__FETCH_RUNS_SEEN) {
		rt->run_seen++;
	}
}

uint32_t
sje__fetch_cap(const sje__runtime *rt)
{
	return rt->slots +
	    sje__fetch_extra(rt->slots, rt->run_ewma_ms, rt->run_seen);
}

bool
sje__fetch_will_carry(const sje__runtime *rt)
{
	return rt->fetch_reports && rt->fetch_waiting && !rt->stopping &&
	    rt->ledger.busy < sje__fetch_cap(rt) &&
	    !sje__outq_has_release(&rt->outq);
}

bool
sje__fetch_should_gather(uint32_t slots, uint32_t busy)
{
	return busy > 0 && (slots - busy) * 2 < slots;
}

bool
sje__fetch_should_await(
    bool drained, uint32_t busy, double run_ms, uint32_t seen)
{
	return drained && busy > 0 && seen >= SJE__FETCH_RUNS_SEEN &&
	    run_ms < SJE__FETCH_AWAIT_MS;
}

uint32_t
sje__fetch_max_jobs(uint32_t slots, uint32_t busy)
{
	uint32_t free_slots = busy < slots ? slots - busy : 0;

	return free_slots > SJE_MAX_JOBS_PER_CALL ? SJE_MAX_JOBS_PER_CALL
	                                          : free_slots;
}

// fetch_enqueue makes a task of a and queues it for the slots.
static void
fetch_enqueue(sje__runtime *rt, const Sje__V1__Assignment *a)
{
	const sje__fn *fn;
	sje_task      *t;
	sje_err        rv;

	if (a == NULL || a->task_id == NULL || a->task_id[0] == '\0' ||
	    strlen(a->task_id) > SJE_MAX_ID_BYTES || a->function == NULL) {
		SJE_WARN("the coordinator sent a job without a valid task_id: "
		         "ignored");
		return;
	}
	fn = sje__plugins_find(rt->plugins, a->function);
	if ((rv = sje__task_alloc(a, fn, &t)) != SJE_OK) {
		SJE_LOG_JOB(SJE_LOG_ERROR, a->task_id,
		    "cannot take the job: %s; it runs again when its lease "
		    "expires",
		    sje_strerror(rv));
		return;
	}

	(void) pthread_mutex_lock(&rt->mtx);
	if (!sje__slots_add(&rt->ledger, t)) {
		(void) pthread_mutex_unlock(&rt->mtx);
		SJE_LOG_JOB(SJE_LOG_DEBUG, a->task_id,
		    "lease %llu received twice: ignored",
		    (unsigned long long) a->lease_id);
		sje__task_free(t);
		return;
	}
	(void) pthread_cond_signal(&rt->slot_cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	SJE_LOG_JOB(SJE_LOG_DEBUG, a->task_id,
	    "leased: %s, attempt %u, timeout %u s, lease %llu", a->function,
	    (unsigned) a->attempt, (unsigned) a->timeout_s,
	    (unsigned long long) a->lease_id);
}

// fetch_answered reads the coordinator's answers to the n outcomes the
// Fetch carried (the list carried): those it refused for their result go
// back to the queue as failures; the rest are done with.
static void
fetch_answered(sje__runtime *rt, sje__outcome **outs, size_t n,
    const Sje__V1__FetchReply *reply)
{
	Sje__V1__ReportReply rr = SJE__V1__REPORT_REPLY__INIT;
	sje__outcome       **refused;
	size_t               n_refused = 0;
	size_t               i, k;

	rr.accepted   = reply->accepted;
	rr.n_accepted = reply->n_accepted;
	refused       = calloc(n + 1, sizeof(*refused));
	sje__report_answered(
	    outs, n, &rr, refused, refused != NULL ? &n_refused : NULL);
	(void) pthread_mutex_lock(&rt->mtx);
	for (i = 0; i < n; i++) {
		bool again = false;
		for (k = 0; k < n_refused; k++) {
			again = again || refused[k] == outs[i];
		}
		if (again) {
			sje__outq_push(&rt->outq, outs[i]);
		} else {
			sje__outcome_free(outs[i]);
		}
	}
	if (n_refused > 0) {
		(void) pthread_cond_signal(&rt->report_cv);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	free(refused);
}

// fetch_once asks for up to max_jobs jobs, carrying the n outcomes outs
// (which it owns: answered, they are freed or queued again; unanswered,
// they go back to the head of the queue), and queues what comes; *drained
// says whether fewer came than it asked for.
static sje_err
fetch_once(sje__runtime *rt, uint64_t session, uint32_t max_jobs,
    sje__outcome **outs, size_t n_outs, bool *drained, sje_status *st)
{
	Sje__V1__FetchRequest req = SJE__V1__FETCH_REQUEST__INIT;
	Sje__V1__FetchReply  *reply;
	ProtobufCMessage     *m = NULL;
	sje__outcomes_pb      pb;
	sje_err               rv;
	size_t                i, kept;
	size_t                n_jobs;
	int64_t               start_ms;

	req.session  = session;
	req.max_jobs = max_jobs;
	req.wait_ms  = RT_FETCH_WAIT_MS;
	if (n_outs > 0 &&
	    sje__outcomes_pb_make(&pb, outs, n_outs, false) == SJE_OK) {
		req.outcomes   = pb.p;
		req.n_outcomes = n_outs;
	}
	start_ms = sje_mono_ms();
	rv       = sje__session_call(rt, SJE__HUB_FETCH, &req.base, &m,
	          RT_FETCH_WAIT_MS + RT_CALL_SLACK_MS, st);
	if (req.n_outcomes > 0) {
		sje__outcomes_pb_free(&pb);
	}
	// Outcomes not carried, or not answered, go back to the head of the
	// queue in their order, for the reporter or the next Fetch.
	kept = rv == SJE_OK ? req.n_outcomes : 0;
	if (kept < n_outs) {
		(void) pthread_mutex_lock(&rt->mtx);
		for (i = n_outs; i > kept; i--) {
			outs[i - 1]->next = NULL;
			sje__outq_requeue(&rt->outq, outs[i - 1]);
		}
		(void) pthread_cond_signal(&rt->report_cv);
		(void) pthread_mutex_unlock(&rt->mtx);
	}
	if (rv != SJE_OK) {
		return rv;
	}
	reply = (Sje__V1__FetchReply *) m;
	if (kept > 0) {
		fetch_answered(rt, outs, kept, reply);
	}
	for (i = 0; i < reply->n_jobs; i++) {
		fetch_enqueue(rt, reply->jobs[i]);
	}
	n_jobs   = reply->n_jobs;
	*drained = n_jobs < max_jobs;
	protobuf_c_message_free_unpacked(m, NULL);
	// A coordinator that answers "nothing" at once instead of holding
	// the call must not make this loop spin.
	if (n_jobs == 0 &&
	    sje_mono_ms() - start_ms < RT_FETCH_EMPTY_PAUSE_MS) {
		sje__rt_sleep(rt, RT_FETCH_EMPTY_PAUSE_MS, &rt->stopping);
	}
	return SJE_OK;
}

void *
sje__fetch_main(void *arg)
{
	sje__runtime *rt = arg;
	sje__backoff  b;
	sje_status    st;
	sje_err       rv;
	char          why[384];
	bool          down = false;

	sje__thread_name("sje:fetch");
	if (!sje__session_first_register(rt)) {
		goto done;
	}
	sje__backoff_reset(&b);
	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		uint32_t      free_slots;
		uint64_t      session;
		sje__outcome *carried   = NULL;
		size_t        n_carried = 0;
		sje__outcome *outs[SJE__REPORT_BATCH_MAX];

		rt->fetch_waiting = true;
		while (
		    !rt->stopping && rt->ledger.busy >= sje__fetch_cap(rt)) {
			(void) pthread_cond_wait(&rt->cv, &rt->mtx);
		}
		if (rt->stopping) {
			break;
		}
		if (sje__fetch_should_gather(
		        sje__fetch_cap(rt), rt->ledger.busy)) {
			int64_t until = sje_mono_ms() + RT_FETCH_GATHER_MS;
			while (!rt->stopping &&
			    sje__fetch_should_gather(
			        sje__fetch_cap(rt), rt->ledger.busy) &&
			    sje_mono_ms() < until) {
				sje__cond_wait_until(&rt->cv, &rt->mtx, until);
			}
		}
		if (sje__fetch_should_await(rt->fetch_drained, rt->ledger.busy,
		        rt->run_ewma_ms, rt->run_seen)) {
			int64_t until = sje_mono_ms() + RT_FETCH_GATHER_MS;
			while (!rt->stopping && rt->ledger.busy > 0 &&
			    sje_mono_ms() < until) {
				sje__cond_wait_until(&rt->cv, &rt->mtx, until);
			}
		}
		free_slots =
		    sje__fetch_max_jobs(sje__fetch_cap(rt), rt->ledger.busy);
		if (rt->stopping || free_slots == 0) {
			continue; // stopped, or the prefetch shrank meanwhile
		}
		if (rt->fetch_reports) {
			carried = sje__outq_take_carried(&rt->outq,
			    SJE__REPORT_BATCH_MAX, SJE__REPORT_BATCH_MAX_BYTES,
			    &n_carried);
		}
		rt->fetch_waiting = false;
		if (rt->outq.head != NULL) {
			(void) pthread_cond_signal(&rt->report_cv);
		}
		session = rt->session;
		(void) pthread_mutex_unlock(&rt->mtx);

		for (size_t i = 0; i < n_carried; i++) {
			outs[i] = carried;
			carried = carried->next;
		}
		bool drained = false;
		rv           = fetch_once(
		              rt, session, free_slots, outs, n_carried, &drained, &st);
		if (rv == SJE_OK) {
			if (down) {
				SJE_INFO("the coordinator at %s answers again",
				    rt->server_url);
				down = false;
			}
			sje__backoff_reset(&b);
		} else if (sje__session_lost(rv)) {
			if ((rv = sje__session_renew(rt, session, &st)) !=
			    SJE_OK) {
				SJE_WARN("cannot register again: %s",
				    sje__session_why(
				        rv, &st, why, sizeof(why)));
				sje__rt_sleep(
				    rt, sje__backoff_next(&b), &rt->stopping);
			}
		} else {
			// Unreachable (retried) or an unexpected answer
			// (logged, then retried too: a worker has nothing
			// better to do).
			if (!down) {
				SJE_WARN("fetching jobs from %s failed: %s; "
				         "retrying",
				    rt->server_url,
				    sje__session_why(
				        rv, &st, why, sizeof(why)));
				down = true;
			}
			sje__rt_sleep(
			    rt, sje__backoff_next(&b), &rt->stopping);
		}
		(void) pthread_mutex_lock(&rt->mtx);
		rt->fetch_drained = drained;
	}
	(void) pthread_mutex_unlock(&rt->mtx);

done:
	(void) pthread_mutex_lock(&rt->mtx);
	rt->fetch_done    = true;
	rt->fetch_waiting = false;
	(void) pthread_cond_broadcast(&rt->report_cv);
	(void) pthread_cond_broadcast(&rt->slot_cv);
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}
