// runtime.c — the worker's threads and the WorkerHub calls they make.
//
// Threads, each with one job:
//
//   fetch      registers, then long-polls Fetch for as many jobs as there
//              are free slots and queues what it gets for the slots.
//   slot x N   takes a queued task, runs its function (sje__task_run),
//              turns it into an outcome and queues that for the reporter.
//   heartbeat  every heartbeat_ms sends the leased jobs and their progress;
//              the reply's `cancel` and `lost` set those jobs' cancel flags.
//   reporter   sends the queued outcomes in batches (all that are queued,
//              up to a cap): successes with Complete, failures with Fail,
//              and jobs the worker hands back (not run, or interrupted by
//              its stop) with Release. A coordinator that answers Release
//              with UNIMPLEMENTED gets those as Fail "interrupted" instead,
//              from then on.
//              An outcome is dropped only once the coordinator answered
//              for it, accepted or refused, or when the worker is stopping
//              and the coordinator stayed unreachable for RT_FLUSH_MS (the
//              job then runs again when its lease expires).
//
// Every call is retried: on UNAVAILABLE or DEADLINE_EXCEEDED (SJE_EUNAVAIL,
// SJE_ETIMEDOUT) after a back-off of 100 ms doubling to 2 s; on
// FAILED_PRECONDITION or NOT_FOUND (the coordinator no longer knows the
// session, say after a restart) after registering again. Running jobs go
// on across a re-registration: their reports carry their lease ids, which
// the coordinator checks. Registration is done by one thread at a time
// (rt_renew); the others wait for its result.
//
// Stopping (sje__runtime_stop): fetching stops, the jobs get a grace period
// to finish, then their cancel flags are set; the slots, heartbeat and
// reporter are stopped in that order so that leases stay alive while jobs
// run and every outcome is flushed. Jobs that did not start, or stopped
// because of the shutdown, are released: they run again at once elsewhere
// without the attempt counting.
//
// Plugins' on_event hooks are called on the slot thread: RUNNING before a
// job's function starts, and the attempt's end once its outcome is known.
//
// Locking: rt->mtx guards the fields marked so below, including the task
// lists and the runtime-owned link fields of each task. A task's own mutex
// (task.c) may be taken while holding rt->mtx, never the other way round.
// No lock is held while a task function runs or an RPC is in flight.
#include "runtime.h"

#include "log.h"
#include "methods.h"
#include "task.h"
#include "tls.h"
#include "util.h"

#include <sje/client.h>

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
// Call timeouts (ms). Kept short: a call that times out is retried (every
// call is idempotent), and a call in flight cannot be interrupted, so
// these also bound how long a stop waits for a thread that is stuck
// calling an unreachable coordinator. A Fetch may take what the server
// may hold it for plus RT_CALL_SLACK_MS.
#define RT_CALL_SLACK_MS 3000u
#define RT_REGISTER_TIMEOUT_MS 3000u
#define RT_HEARTBEAT_TIMEOUT_MS 5000u
#define RT_REPORT_TIMEOUT_MS 10000u
// Retry back-off: from RT_BACKOFF_MIN_MS doubling to RT_BACKOFF_MAX_MS.
#define RT_BACKOFF_MIN_MS 100u
#define RT_BACKOFF_MAX_MS 2000u
// Heartbeat period when the coordinator names none (ms).
#define RT_DEFAULT_HEARTBEAT_MS 5000u
// While stopping, how long unanswered reports are retried (ms).
#define RT_FLUSH_MS 15000u
// Most outcomes in one report, and most result bytes (well under the
// 16 MiB frame limit).
#define RT_BATCH_MAX 1000u
#define RT_BATCH_MAX_BYTES (8u * 1024u * 1024u)
// Consecutive re-registrations one report may trigger before the
// FAILED_PRECONDITION is taken as the coordinator's answer.
#define RT_MAX_RENEWALS 3

struct sje__runtime {
	// Immutable after sje__runtime_start; read by any thread.
	sje_client         *client;
	const sje__plugins *plugins;
	char               *server_url;
	char               *cert_file; // our certificate, to prove our name;
	char               *key_file;  // NULL: none (no proof is sent)
	char               *name;
	uint32_t            slots;
	char              **functions; // names borrowed from plugins
	size_t              n_functions;
	char               *functions_text; // "a, b, c" for the log
	Sje__V1__RegisterRequest__LabelsEntry  *labels; // strings owned
	Sje__V1__RegisterRequest__LabelsEntry **label_ptrs;
	size_t                                  n_labels;

	// Threads; written by start and stop only (the main thread).
	pthread_t  fetch_thr;
	pthread_t  hb_thr;
	pthread_t  report_thr;
	pthread_t *slot_thrs;
	bool       fetch_started;
	bool       hb_started;
	bool       report_started;
	uint32_t   n_slot_thrs; // started

	pthread_mutex_t mtx;
	bool            mtx_ok;    // mtx and the condvars are initialised
	pthread_cond_t  cv;        // any change of busy, session or stop flags
	pthread_cond_t  slot_cv;   // a task queued, or fetch_done
	pthread_cond_t  report_cv; // an outcome queued, or report_stop

	// Guarded by mtx:
	uint64_t      session;     // 0: not registered yet
	bool          registering; // a Register call is in flight
	bool          registered_once;
	uint32_t      heartbeat_ms;
	bool          failed; // cannot go on: fail_msg says why
	char          fail_msg[512];
	bool          stopping;   // fetch no more, start no more jobs
	bool          fetch_done; // the fetch thread has ended
	bool          hb_stop;
	bool          report_stop;
	int64_t       flush_deadline_ms; // valid when report_stop
	sje_task     *jobs;              // every leased task (prev/next links)
	uint32_t      busy;              // tasks in jobs
	sje_task     *q_head;            // tasks waiting for a slot (qnext)
	sje_task     *q_tail;
	sje__outcome *out_head; // outcomes waiting for the reporter
	sje__outcome *out_tail;

	// The reporter thread's own:
	bool no_release; // the coordinator answered Release UNIMPLEMENTED
};

// rt_backoff is a retry delay: 100 ms doubling to 2 s.
typedef struct rt_backoff {
	uint32_t ms;
} rt_backoff;

static uint32_t
rt_backoff_next(rt_backoff *b)
{
	uint32_t ms = b->ms < RT_BACKOFF_MIN_MS ? RT_BACKOFF_MIN_MS : b->ms;

	b->ms = ms * 2 > RT_BACKOFF_MAX_MS ? RT_BACKOFF_MAX_MS : ms * 2;
	return ms;
}

static void
rt_backoff_reset(rt_backoff *b)
{
	b->ms = RT_BACKOFF_MIN_MS;
}

// rt_sleep waits ms milliseconds on rt->cv, ending early when *flag (read
// under rt->mtx; may be NULL) becomes true.
static void
rt_sleep(sje__runtime *rt, uint32_t ms, const bool *flag)
{
	int64_t deadline = sje_mono_ms() + ms;

	(void) pthread_mutex_lock(&rt->mtx);
	while ((flag == NULL || !*flag) && sje_mono_ms() < deadline) {
		sje__cond_wait_until(&rt->cv, &rt->mtx, deadline);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
}

// rt_transient is true for errors worth retrying after a back-off: the
// coordinator could not be reached or did not answer in time.
static bool
rt_transient(sje_err rv)
{
	return rv == SJE_EUNAVAIL || rv == SJE_ETIMEDOUT;
}

// rt_session_lost is true for the answers that mean "register again".
static bool
rt_session_lost(sje_err rv)
{
	return rv == SJE_EPRECOND || rv == SJE_ENOTFOUND;
}

static uint64_t
rt_session(sje__runtime *rt)
{
	uint64_t s;

	(void) pthread_mutex_lock(&rt->mtx);
	s = rt->session;
	(void) pthread_mutex_unlock(&rt->mtx);
	return s;
}

static bool
rt_flag(sje__runtime *rt, const bool *flag)
{
	bool v;

	(void) pthread_mutex_lock(&rt->mtx);
	v = *flag;
	(void) pthread_mutex_unlock(&rt->mtx);
	return v;
}

// rt_call is sje_client_call on the WorkerHub service.
static sje_err
rt_call(sje__runtime *rt, unsigned method, const ProtobufCMessage *in,
    ProtobufCMessage **out, uint32_t timeout_ms, sje_status *st)
{
	memset(st, 0, sizeof(*st));
	return sje_client_call(rt->client, &sje__v1__worker_hub__descriptor,
	    method, in, out, timeout_ms, st);
}

// rt_why formats an error for the log: "what sje says (what the server
// said)".
static const char *
rt_why(sje_err rv, const sje_status *st, char *buf, size_t len)
{
	if (st->message[0] != '\0') {
		sje__snprintf(
		    buf, len, "%s (%s)", sje_strerror(rv), st->message);
	} else {
		sje__snprintf(buf, len, "%s", sje_strerror(rv));
	}
	return buf;
}

// ---- registration ----

// rt_proof adds to req the proof of our name, when we have a certificate:
// a nonce from GetChallenge (copied into nonce, 64 bytes) signed with our
// key (*cert and *sig: caller frees). A coordinator that does not know
// GetChallenge gets no proof. Returns the error of the call otherwise.
static sje_err
rt_proof(sje__runtime *rt, Sje__V1__RegisterRequest *req, char **cert,
    uint8_t **sig, uint8_t *nonce, sje_status *st)
{
	if (rt->cert_file == NULL) {
		return SJE_OK;
	}
	Sje__V1__ChallengeRequest creq = SJE__V1__CHALLENGE_REQUEST__INIT;
	ProtobufCMessage         *m    = NULL;
	sje_err rv = rt_call(rt, SJE__HUB_CHALLENGE, &creq.base, &m,
	    RT_REGISTER_TIMEOUT_MS, st);
	if (rv == SJE_EUNIMPL) {
		memset(st, 0, sizeof(*st));
		return SJE_OK;
	}
	if (rv != SJE_OK) {
		return rv;
	}
	Sje__V1__ChallengeReply *ch = (Sje__V1__ChallengeReply *) m;
	size_t                   nl = ch->nonce.len <= 64 ? ch->nonce.len : 0;
	memcpy(nonce, ch->nonce.data, nl);
	protobuf_c_message_free_unpacked(m, NULL);
	uint8_t        data[SJE_WORKER_PROOF_MAX];
	size_t         dlen = sje__worker_proof(nonce, nl, rt->name, data);
	sje__tls_files f    = { .cert = rt->cert_file, .key = rt->key_file };
	size_t         clen, slen;
	if (nl == 0 || dlen == 0 ||
	    sje__tls_sign_proof(&f, data, dlen, cert, &clen, sig, &slen,
	        st->message, sizeof(st->message)) != SJE_OK) {
		if (st->message[0] == '\0') {
			sje__snprintf(st->message, sizeof(st->message),
			    "the coordinator's challenge is malformed");
		}
		return SJE_ECONFIG;
	}
	req->certificate.data = (uint8_t *) *cert;
	req->certificate.len  = clen;
	req->nonce.data       = nonce;
	req->nonce.len        = nl;
	req->signature.data   = *sig;
	req->signature.len    = slen;
	return SJE_OK;
}

// rt_renew registers again, unless another thread already did since the
// caller read session stale (0: the first registration). Returns SJE_OK
// when a session other than stale is in place; otherwise the error of
// the Register call, described in st. Takes rt->mtx; call without it.
static sje_err
rt_renew(sje__runtime *rt, uint64_t stale, sje_status *st)
{
	Sje__V1__RegisterRequest req = SJE__V1__REGISTER_REQUEST__INIT;
	Sje__V1__RegisterReply  *reply;
	ProtobufCMessage        *m = NULL;
	sje_err                  rv;
	bool                     first = false;

	memset(st, 0, sizeof(*st));
	(void) pthread_mutex_lock(&rt->mtx);
	while (rt->registering) {
		(void) pthread_cond_wait(&rt->cv, &rt->mtx);
	}
	if (rt->session != stale) {
		(void) pthread_mutex_unlock(&rt->mtx);
		return SJE_OK;
	}
	rt->registering = true;
	(void) pthread_mutex_unlock(&rt->mtx);

	req.name        = rt->name;
	req.functions   = rt->functions;
	req.n_functions = rt->n_functions;
	req.slots       = rt->slots;
	req.labels      = rt->label_ptrs;
	req.n_labels    = rt->n_labels;

	char    *cert = NULL;
	uint8_t *sig  = NULL;
	uint8_t  nonce[64];
	rv = rt_proof(rt, &req, &cert, &sig, nonce, st);
	if (rv == SJE_OK) {
		rv = rt_call(rt, SJE__HUB_REGISTER, &req.base, &m,
		    RT_REGISTER_TIMEOUT_MS, st);
	}
	free(cert);
	free(sig);
	reply = (Sje__V1__RegisterReply *) m;
	if (rv == SJE_OK && reply->session == 0) {
		sje__snprintf(st->message, sizeof(st->message),
		    "the coordinator answered with session 0");
		rv = SJE_EPROTO;
	}

	(void) pthread_mutex_lock(&rt->mtx);
	rt->registering = false;
	if (rv == SJE_OK) {
		rt->session         = reply->session;
		rt->heartbeat_ms    = reply->heartbeat_ms != 0
		       ? reply->heartbeat_ms
		       : RT_DEFAULT_HEARTBEAT_MS;
		first               = !rt->registered_once;
		rt->registered_once = true;
	}
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);

	if (rv == SJE_OK) {
		if (first) {
			SJE_INFO(
			    "worker %s registered: %u slots, functions: %s",
			    rt->name, (unsigned) rt->slots,
			    rt->functions_text);
		} else {
			SJE_INFO(
			    "worker %s registered again (the coordinator no "
			    "longer knew its session); running jobs go on",
			    rt->name);
		}
		SJE_DEBUG("session %llu, lease %u s, heartbeat every %u ms",
		    (unsigned long long) reply->session,
		    (unsigned) reply->lease_s,
		    (unsigned) (reply->heartbeat_ms != 0
		            ? reply->heartbeat_ms
		            : RT_DEFAULT_HEARTBEAT_MS));
	}
	if (m != NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return rv;
}

// rt_first_register registers for the first time, retrying while the
// coordinator cannot be reached or is briefly unable to answer. Returns
// false when the worker is stopping or the coordinator refused it (then
// rt->failed is set).
static bool
rt_first_register(sje__runtime *rt)
{
	rt_backoff b;
	sje_status st;
	sje_err    rv;
	char       why[384];
	unsigned   failures = 0;

	rt_backoff_reset(&b);
	while (!rt_flag(rt, &rt->stopping)) {
		rv = rt_renew(rt, 0, &st);
		if (rv == SJE_OK) {
			return true;
		}
		if (!rt_transient(rv) && rv != SJE_EINTERNAL &&
		    rv != SJE_ELIMIT && rv != SJE_EIO) {
			(void) pthread_mutex_lock(&rt->mtx);
			rt->failed = true;
			sje__snprintf(rt->fail_msg, sizeof(rt->fail_msg),
			    "the coordinator at %s refused to register worker "
			    "%s: %s",
			    rt->server_url, rt->name,
			    rt_why(rv, &st, why, sizeof(why)));
			(void) pthread_cond_broadcast(&rt->cv);
			(void) pthread_mutex_unlock(&rt->mtx);
			return false;
		}
		if (failures++ == 0) {
			SJE_WARN(
			    "cannot register with the coordinator at %s: %s; "
			    "retrying",
			    rt->server_url, rt_why(rv, &st, why, sizeof(why)));
		}
		rt_sleep(rt, rt_backoff_next(&b), &rt->stopping);
	}
	return false;
}

// ---- fetch ----

// rt_has_lease is true when a task with a's task_id and lease_id is leased
// already (a repeated reply). Caller holds rt->mtx.
static bool
rt_has_lease(sje__runtime *rt, const Sje__V1__Assignment *a)
{
	const sje_task *t;

	for (t = rt->jobs; t != NULL; t = t->next) {
		if (t->lease_id == a->lease_id &&
		    strcmp(t->task_id, a->task_id) == 0) {
			return true;
		}
	}
	return false;
}

// rt_enqueue makes a task of a and queues it for the slots.
static void
rt_enqueue(sje__runtime *rt, const Sje__V1__Assignment *a)
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
	if (rt_has_lease(rt, a)) {
		(void) pthread_mutex_unlock(&rt->mtx);
		SJE_LOG_JOB(SJE_LOG_DEBUG, a->task_id,
		    "lease %llu received twice: ignored",
		    (unsigned long long) a->lease_id);
		sje__task_free(t);
		return;
	}
	t->prev = NULL;
	t->next = rt->jobs;
	if (rt->jobs != NULL) {
		rt->jobs->prev = t;
	}
	rt->jobs = t;
	rt->busy++;
	t->qnext = NULL;
	if (rt->q_tail != NULL) {
		rt->q_tail->qnext = t;
	} else {
		rt->q_head = t;
	}
	rt->q_tail = t;
	(void) pthread_cond_signal(&rt->slot_cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	SJE_LOG_JOB(SJE_LOG_DEBUG, a->task_id,
	    "leased: %s, attempt %u, timeout %u s, lease %llu", a->function,
	    (unsigned) a->attempt, (unsigned) a->timeout_s,
	    (unsigned long long) a->lease_id);
}

// rt_fetch_once asks for up to max_jobs jobs and queues what comes.
static sje_err
rt_fetch_once(
    sje__runtime *rt, uint64_t session, uint32_t max_jobs, sje_status *st)
{
	Sje__V1__FetchRequest req = SJE__V1__FETCH_REQUEST__INIT;
	Sje__V1__FetchReply  *reply;
	ProtobufCMessage     *m = NULL;
	sje_err               rv;
	size_t                i;
	size_t                n_jobs;
	int64_t               start_ms;

	req.session  = session;
	req.max_jobs = max_jobs;
	req.wait_ms  = RT_FETCH_WAIT_MS;
	start_ms     = sje_mono_ms();
	rv           = rt_call(rt, SJE__HUB_FETCH, &req.base, &m,
	              RT_FETCH_WAIT_MS + RT_CALL_SLACK_MS, st);
	if (rv != SJE_OK) {
		return rv;
	}
	reply = (Sje__V1__FetchReply *) m;
	for (i = 0; i < reply->n_jobs; i++) {
		rt_enqueue(rt, reply->jobs[i]);
	}
	n_jobs = reply->n_jobs;
	protobuf_c_message_free_unpacked(m, NULL);
	// A coordinator that answers "nothing" at once instead of holding
	// the call must not make this loop spin.
	if (n_jobs == 0 &&
	    sje_mono_ms() - start_ms < RT_FETCH_EMPTY_PAUSE_MS) {
		rt_sleep(rt, RT_FETCH_EMPTY_PAUSE_MS, &rt->stopping);
	}
	return SJE_OK;
}

static void *
rt_fetch_main(void *arg)
{
	sje__runtime *rt = arg;
	rt_backoff    b;
	sje_status    st;
	sje_err       rv;
	char          why[384];
	bool          down = false;

	if (!rt_first_register(rt)) {
		goto done;
	}
	rt_backoff_reset(&b);
	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		uint32_t free_slots;
		uint64_t session;

		while (!rt->stopping && rt->busy >= rt->slots) {
			(void) pthread_cond_wait(&rt->cv, &rt->mtx);
		}
		if (rt->stopping) {
			break;
		}
		if (rt->busy > 0 && (rt->slots - rt->busy) * 2 < rt->slots) {
			int64_t until = sje_mono_ms() + RT_FETCH_GATHER_MS;
			while (!rt->stopping && rt->busy > 0 &&
			    (rt->slots - rt->busy) * 2 < rt->slots &&
			    sje_mono_ms() < until) {
				sje__cond_wait_until(&rt->cv, &rt->mtx, until);
			}
		}
		free_slots = rt->slots - rt->busy;
		if (free_slots > SJE_MAX_JOBS_PER_CALL) {
			free_slots = SJE_MAX_JOBS_PER_CALL;
		}
		session = rt->session;
		(void) pthread_mutex_unlock(&rt->mtx);

		rv = rt_fetch_once(rt, session, free_slots, &st);
		if (rv == SJE_OK) {
			if (down) {
				SJE_INFO("the coordinator at %s answers again",
				    rt->server_url);
				down = false;
			}
			rt_backoff_reset(&b);
		} else if (rt_session_lost(rv)) {
			if ((rv = rt_renew(rt, session, &st)) != SJE_OK) {
				SJE_WARN("cannot register again: %s",
				    rt_why(rv, &st, why, sizeof(why)));
				rt_sleep(
				    rt, rt_backoff_next(&b), &rt->stopping);
			}
		} else {
			// Unreachable (retried) or an unexpected answer
			// (logged, then retried too: a worker has nothing
			// better to do).
			if (!down) {
				SJE_WARN("fetching jobs from %s failed: %s; "
				         "retrying",
				    rt->server_url,
				    rt_why(rv, &st, why, sizeof(why)));
				down = true;
			}
			rt_sleep(rt, rt_backoff_next(&b), &rt->stopping);
		}
		(void) pthread_mutex_lock(&rt->mtx);
	}
	(void) pthread_mutex_unlock(&rt->mtx);

done:
	(void) pthread_mutex_lock(&rt->mtx);
	rt->fetch_done = true;
	(void) pthread_cond_broadcast(&rt->slot_cv);
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}

// ---- slots ----

// rt_log_outcome logs how a job ended, once, with its details.
static void
rt_log_outcome(const sje_task *t, const sje__outcome *o)
{
	if (o->release) {
		SJE_LOG_JOB(SJE_LOG_INFO, t->task_id,
		    "%s handed back (attempt %u): %s", t->function,
		    (unsigned) t->attempt, o->error_msg);
	} else if (o->ok) {
		SJE_LOG_JOB(SJE_LOG_DEBUG, t->task_id,
		    "%s succeeded in %.3f s (attempt %u)", t->function,
		    o->run_s, (unsigned) t->attempt);
	} else {
		SJE_LOG_JOB(SJE_LOG_INFO, t->task_id,
		    "%s failed after %.3f s (attempt %u): %s: %s", t->function,
		    o->run_s, (unsigned) t->attempt, o->error_type,
		    o->error_msg);
	}
}

// rt_event tells the plugins' on_event hooks that t starts (o NULL) or
// ended with outcome o. Called on t's slot thread with no lock held.
static void
rt_event(sje__runtime *rt, sje_task *t, const sje__outcome *o)
{
	sje_job_event ev;

	if (!sje__plugins_has_event_hooks(rt->plugins)) {
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.size     = sizeof(ev);
	ev.source   = "worker";
	ev.task_id  = t->task_id;
	ev.function = t->function;
	ev.attempt  = t->attempt;
	ev.at_ms    = sje_now_ms();
	ev.worker   = rt->name;
	if (o == NULL) {
		ev.state = "RUNNING";
	} else {
		ev.state      = o->state;
		ev.prev_state = "RUNNING";
		ev.run_s      = o->run_s;
		if (o->ok) {
			ev.result_json = o->result;
		} else {
			ev.error_type    = o->error_type;
			ev.error_message = o->error_msg;
		}
	}
	sje__plugins_event(rt->plugins, &ev);
}

static void *
rt_slot_main(void *arg)
{
	sje__runtime *rt = arg;
	sje_task     *t;
	sje__outcome *o;
	sje_err       rv;
	bool          skip;

	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		while (rt->q_head == NULL && !rt->fetch_done) {
			(void) pthread_cond_wait(&rt->slot_cv, &rt->mtx);
		}
		if ((t = rt->q_head) == NULL) {
			break; // no fetch will come, and nothing is queued
		}
		if ((rt->q_head = t->qnext) == NULL) {
			rt->q_tail = NULL;
		}
		t->qnext   = NULL;
		t->started = true;
		// A stopping worker starts nothing more: it hands the job
		// back (sje__task_outcome: not run -> release).
		skip = rt->stopping || t->fn == NULL;
		(void) pthread_mutex_unlock(&rt->mtx);

		if (!skip) {
			SJE_LOG_JOB(SJE_LOG_DEBUG, t->task_id, "running %s",
			    t->function);
			rt_event(rt, t, NULL);
			sje__task_run(t);
		}
		o = NULL;
		if ((rv = sje__task_outcome(t, &o)) == SJE_OK) {
			rt_log_outcome(t, o);
			if (!skip) {
				rt_event(rt, t, o);
			}
		} else {
			SJE_LOG_JOB(SJE_LOG_ERROR, t->task_id,
			    "cannot report the job: %s; it runs again when "
			    "its lease expires",
			    sje_strerror(rv));
		}

		(void) pthread_mutex_lock(&rt->mtx);
		if (t->prev != NULL) {
			t->prev->next = t->next;
		} else {
			rt->jobs = t->next;
		}
		if (t->next != NULL) {
			t->next->prev = t->prev;
		}
		rt->busy--;
		if (o != NULL) {
			if (rt->out_tail != NULL) {
				rt->out_tail->next = o;
			} else {
				rt->out_head = o;
			}
			rt->out_tail = o;
			(void) pthread_cond_signal(&rt->report_cv);
		}
		(void) pthread_cond_broadcast(&rt->cv);
		(void) pthread_mutex_unlock(&rt->mtx);

		sje__task_free(t); // unlinked: no other thread can reach it
		(void) pthread_mutex_lock(&rt->mtx);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}

// ---- heartbeat ----

// rt_hb_snapshot is a heartbeat request built from the leased jobs, with
// its own copies of their strings.
typedef struct rt_hb_snapshot {
	Sje__V1__HeartbeatRequest req;
	Sje__V1__RunningJob      *jobs;     // n
	Sje__V1__RunningJob     **job_ptrs; // n
	Sje__V1__Progress        *progress; // n
	size_t                    n;
} rt_hb_snapshot;

static void
rt_hb_snapshot_fini(rt_hb_snapshot *s)
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

// rt_hb_snapshot_init copies the leased jobs. Caller holds rt->mtx. On
// failure (out of memory) s is empty and the heartbeat goes without jobs.
static void
rt_hb_snapshot_init(sje__runtime *rt, rt_hb_snapshot *s, uint64_t session)
{
	Sje__V1__HeartbeatRequest init = SJE__V1__HEARTBEAT_REQUEST__INIT;
	sje_task                 *t;
	size_t                    n = rt->busy;
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
	for (t = rt->jobs; t != NULL && i < n; t = t->next, i++) {
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
	rt_hb_snapshot_fini(s);
	s->req         = init;
	s->req.session = session;
}

// rt_hb_cancel sets the cancel flag of every leased task called task_id.
// (Should one worker hold two leases of one job, both are stopped: the
// reply names task ids only.)
static void
rt_hb_cancel(sje__runtime *rt, const char *task_id, sje__cancel why)
{
	sje_task *t;

	(void) pthread_mutex_lock(&rt->mtx);
	for (t = rt->jobs; t != NULL; t = t->next) {
		if (strcmp(t->task_id, task_id) == 0 &&
		    sje__task_cancel(t, why)) {
			if (why == SJE__CANCEL_SERVER) {
				SJE_LOG_JOB(SJE_LOG_INFO, t->task_id,
				    "cancel requested: stopping %s",
				    t->function);
			} else {
				SJE_LOG_JOB(SJE_LOG_WARN, t->task_id,
				    "lease %llu lost: stopping %s (its "
				    "outcome will be refused)",
				    (unsigned long long) t->lease_id,
				    t->function);
			}
		}
	}
	(void) pthread_mutex_unlock(&rt->mtx);
}

static void *
rt_hb_main(void *arg)
{
	sje__runtime *rt      = arg;
	int64_t       next_ms = 0; // when the next heartbeat is due
	rt_backoff    b;
	bool          down = false;

	rt_backoff_reset(&b);
	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		rt_hb_snapshot           snap;
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
		rt_hb_snapshot_init(rt, &snap, session);
		(void) pthread_mutex_unlock(&rt->mtx);

		rv = rt_call(rt, SJE__HUB_HEARTBEAT, &snap.req.base, &m,
		    RT_HEARTBEAT_TIMEOUT_MS, &st);
		rt_hb_snapshot_fini(&snap);
		if (rv == SJE_OK) {
			reply = (Sje__V1__HeartbeatReply *) m;
			for (i = 0; i < reply->n_cancel; i++) {
				rt_hb_cancel(
				    rt, reply->cancel[i], SJE__CANCEL_SERVER);
			}
			for (i = 0; i < reply->n_lost; i++) {
				rt_hb_cancel(
				    rt, reply->lost[i], SJE__CANCEL_LOST);
			}
			protobuf_c_message_free_unpacked(m, NULL);
			rt_backoff_reset(&b);
			down    = false;
			next_ms = sje_mono_ms() + period_ms;
		} else if (rt_session_lost(rv)) {
			rv      = rt_renew(rt, session, &st);
			next_ms = sje_mono_ms() +
			    (rv == SJE_OK ? 0 : rt_backoff_next(&b));
		} else {
			uint32_t wait_ms = rt_backoff_next(&b);
			if (!down) {
				SJE_DEBUG("heartbeat failed: %s; retrying",
				    rt_why(rv, &st, why, sizeof(why)));
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

// ---- reports ----

// rt_result_refused is true for the per-outcome answers to Complete that
// mean the result itself broke a rule (invalid, too large).
static bool
rt_result_refused(int code)
{
	return code == SJE__V1__STATUS_CODE__INVALID_ARGUMENT ||
	    code == SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED;
}

// rt_drop logs outcomes given up on.
static void
rt_drop(sje__outcome **outs, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		SJE_LOG_JOB(SJE_LOG_ERROR, outs[i]->task_id,
		    "outcome not reported: %s; the job runs again when "
		    "its lease expires",
		    why);
	}
}

// rt_report_answered handles the coordinator's answer to a report, per
// outcome: accepted; refused because the result broke its rules (then,
// for Complete, turned into a failure and appended to refused); or
// refused for good (a lease that expired or moved, a job cancelled or
// unknown: the coordinator decided, nothing to retry).
static void
rt_report_answered(sje__outcome **outs, size_t n,
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
		if (refused == NULL || !o->ok || !rt_result_refused(code)) {
			SJE_LOG_JOB(SJE_LOG_INFO, o->task_id,
			    "outcome refused by the coordinator: %s",
			    sje_status_name(code));
			continue;
		}
		sje__snprintf(why, sizeof(why),
		    "the coordinator refused the result: %s",
		    sje_status_name(code));
		if (sje__outcome_fail(o, "invalid_result", why) != SJE_OK) {
			rt_drop(&o, 1, "out of memory");
			continue;
		}
		SJE_LOG_JOB(SJE_LOG_WARN, o->task_id,
		    "%s; reporting a failure instead", why);
		refused[(*n_refused)++] = o;
	}
}

// rt_report sends outs[0..n) with Complete (method SJE__HUB_COMPLETE, all ok),
// Fail (SJE__HUB_FAIL) or Release (SJE__HUB_RELEASE: task ids and leases
// only), retrying until the coordinator answers. Successes whose result the
// coordinator refuses as invalid or too large are turned into failures and
// appended to *refused (capacity n; may be NULL for Fail and Release).
// Returns SJE_EUNIMPL, having reported nothing, when the coordinator does
// not serve the method; SJE_OK otherwise (outcomes given up on are
// logged).
static sje_err
rt_report(sje__runtime *rt, unsigned method, sje__outcome **outs, size_t n,
    sje__outcome **refused, size_t *n_refused)
{
	Sje__V1__ReportRequest req     = SJE__V1__REPORT_REQUEST__INIT;
	Sje__V1__JobOutcome   *jo      = NULL;
	Sje__V1__JobOutcome  **jo_ptrs = NULL;
	Sje__V1__Json         *json    = NULL;
	Sje__V1__JobError     *errs    = NULL;
	rt_backoff             b;
	int                    renewals = 0;
	bool                   down     = false;
	char                   why[384];
	size_t                 i;
	sje_err                result = SJE_OK;

	if (n == 0) {
		return SJE_OK;
	}
	jo      = calloc(n, sizeof(*jo));
	jo_ptrs = calloc(n, sizeof(*jo_ptrs));
	json    = calloc(n, sizeof(*json));
	errs    = calloc(n, sizeof(*errs));
	if (jo == NULL || jo_ptrs == NULL || json == NULL || errs == NULL) {
		rt_drop(outs, n, "out of memory");
		goto out;
	}
	// The request points into the outcomes' strings; it is never freed
	// by protobuf-c.
	for (i = 0; i < n; i++) {
		Sje__V1__JobOutcome o_init = SJE__V1__JOB_OUTCOME__INIT;
		Sje__V1__Json       j_init = SJE__V1__JSON__INIT;
		Sje__V1__JobError   e_init = SJE__V1__JOB_ERROR__INIT;

		jo[i]          = o_init;
		jo[i].task_id  = outs[i]->task_id;
		jo[i].lease_id = outs[i]->lease_id;
		if (method == SJE__HUB_RELEASE) {
			// Release carries no result or error: the attempt
			// does not count.
		} else if (outs[i]->ok) {
			json[i]      = j_init;
			json[i].text = outs[i]->result;
			jo[i].result = &json[i];
		} else {
			errs[i]         = e_init;
			errs[i].type    = outs[i]->error_type;
			errs[i].message = outs[i]->error_msg;
			jo[i].error     = &errs[i];
		}
		jo_ptrs[i] = &jo[i];
	}
	req.outcomes   = jo_ptrs;
	req.n_outcomes = n;

	rt_backoff_reset(&b);
	for (;;) {
		ProtobufCMessage *m = NULL;
		sje_status        st;
		sje_err           rv;
		bool              give_up;

		req.session = rt_session(rt);

		rv = rt_call(
		    rt, method, &req.base, &m, RT_REPORT_TIMEOUT_MS, &st);
		if (rv == SJE_OK) {
			rt_report_answered(outs, n, (Sje__V1__ReportReply *) m,
			    refused, n_refused);
			protobuf_c_message_free_unpacked(m, NULL);
			if (down) {
				SJE_INFO(
				    "reports reach the coordinator again");
			}
			goto out;
		}
		if (rt_session_lost(rv)) {
			sje_err rrv;
			if (renewals >= RT_MAX_RENEWALS) {
				// Registered afresh and still refused: that is
				// the coordinator's answer.
				rt_drop(outs, n,
				    rt_why(rv, &st, why, sizeof(why)));
				goto out;
			}
			if ((rrv = rt_renew(rt, req.session, &st)) == SJE_OK) {
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
			if ((result = rt_report(rt, method, outs, half,
			         refused, n_refused)) == SJE_OK) {
				result = rt_report(rt, method, outs + half,
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
		if (!rt_transient(rv) && !rt_session_lost(rv) &&
		    rv != SJE_EINTERNAL && rv != SJE_EIO) {
			// The coordinator answered and refused the whole call.
			rt_drop(outs, n, rt_why(rv, &st, why, sizeof(why)));
			goto out;
		}
		(void) pthread_mutex_lock(&rt->mtx);
		give_up =
		    rt->report_stop && sje_mono_ms() >= rt->flush_deadline_ms;
		(void) pthread_mutex_unlock(&rt->mtx);
		if (give_up) {
			rt_drop(outs, n, rt_why(rv, &st, why, sizeof(why)));
			goto out;
		}
		if (!down) {
			SJE_WARN("reporting %zu outcomes to %s failed: %s; "
			         "retrying",
			    n, rt->server_url,
			    rt_why(rv, &st, why, sizeof(why)));
			down = true;
		}
		rt_sleep(rt, rt_backoff_next(&b), NULL);
	}

out:
	free(jo);
	free(jo_ptrs);
	free(json);
	free(errs);
	return result;
}

// rt_report_batch reports one batch (a list linked by next): the jobs
// handed back first (with the failures when the coordinator has no
// Release), then successes, then failures, including successes the
// coordinator refused. Frees the batch. Runs on the reporter thread.
static void
rt_report_batch(sje__runtime *rt, sje__outcome *batch, size_t n)
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
			rt_drop(&o, 1, "out of memory");
		}
		goto out;
	}
	for (o = batch; o != NULL; o = o->next) {
		if (o->ok) {
			oks[n_ok++] = o;
		} else if (o->release && !rt->no_release) {
			rels[n_rel++] = o;
		} else {
			fails[n_fail++] = o;
		}
	}
	if (rt_report(rt, SJE__HUB_RELEASE, rels, n_rel, NULL, NULL) ==
	    SJE_EUNIMPL) {
		SJE_INFO("the coordinator does not serve Release: reporting "
		         "jobs handed back as failures (interrupted)");
		rt->no_release = true;
		for (i = 0; i < n_rel; i++) {
			fails[n_fail++] = rels[i];
		}
	}
	(void) rt_report(rt, SJE__HUB_COMPLETE, oks, n_ok, fails, &n_fail);
	(void) rt_report(rt, SJE__HUB_FAIL, fails, n_fail, NULL, NULL);

out:
	for (o = batch; o != NULL; o = next) {
		next = o->next;
		sje__outcome_free(o);
	}
	free(oks);
	free(fails);
	free(rels);
}

static void *
rt_report_main(void *arg)
{
	sje__runtime *rt = arg;

	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		sje__outcome *batch;
		sje__outcome *last;
		size_t        n;
		size_t        bytes;

		while (rt->out_head == NULL && !rt->report_stop) {
			(void) pthread_cond_wait(&rt->report_cv, &rt->mtx);
		}
		if (rt->out_head == NULL) {
			break; // stopping, and everything was reported
		}
		// Take everything queued, up to the caps.
		batch = last = rt->out_head;
		n            = 1;
		bytes        = last->result != NULL ? strlen(last->result) : 0;
		while (last->next != NULL && n < RT_BATCH_MAX) {
			const sje__outcome *o = last->next;
			size_t              ob =
			    (o->result != NULL ? strlen(o->result) : 0) +
			    (o->error_msg != NULL ? strlen(o->error_msg) : 0);
			if (bytes + ob > RT_BATCH_MAX_BYTES) {
				break;
			}
			bytes += ob;
			last = last->next;
			n++;
		}
		if ((rt->out_head = last->next) == NULL) {
			rt->out_tail = NULL;
		}
		last->next = NULL;
		(void) pthread_mutex_unlock(&rt->mtx);

		rt_report_batch(rt, batch, n);
		(void) pthread_mutex_lock(&rt->mtx);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}

// ---- start and stop ----

// rt_free frees what start built. The threads must have ended.
static void
rt_free(sje__runtime *rt)
{
	size_t        i;
	sje_task     *t;
	sje__outcome *o;

	while ((t = rt->jobs) != NULL) { // only after a failed start
		rt->jobs = t->next;
		sje__task_free(t);
	}
	while ((o = rt->out_head) != NULL) {
		rt->out_head = o->next;
		sje__outcome_free(o);
	}
	sje_client_close(rt->client);
	if (rt->mtx_ok) {
		(void) pthread_cond_destroy(&rt->report_cv);
		(void) pthread_cond_destroy(&rt->slot_cv);
		(void) pthread_cond_destroy(&rt->cv);
		(void) pthread_mutex_destroy(&rt->mtx);
	}
	for (i = 0; i < rt->n_labels; i++) {
		free(rt->labels[i].key);
		free(rt->labels[i].value);
	}
	free(rt->labels);
	free(rt->label_ptrs);
	free(rt->functions);
	free(rt->functions_text);
	free(rt->slot_thrs);
	free(rt->name);
	free(rt->server_url);
	free(rt->cert_file);
	free(rt->key_file);
	free(rt);
}

// rt_init_sync initialises the lock and the condition variables.
static sje_err
rt_init_sync(sje__runtime *rt)
{
	if (pthread_mutex_init(&rt->mtx, NULL) != 0) {
		return SJE_ENOMEM;
	}
	if (sje__cond_init_mono(&rt->cv) != SJE_OK) {
		goto fail_cv;
	}
	if (sje__cond_init_mono(&rt->slot_cv) != SJE_OK) {
		goto fail_slot;
	}
	if (sje__cond_init_mono(&rt->report_cv) != SJE_OK) {
		goto fail_report;
	}
	rt->mtx_ok = true;
	return SJE_OK;

fail_report:
	(void) pthread_cond_destroy(&rt->slot_cv);
fail_slot:
	(void) pthread_cond_destroy(&rt->cv);
fail_cv:
	(void) pthread_mutex_destroy(&rt->mtx);
	return SJE_ENOMEM;
}

// rt_init_lists copies the function names and labels for Register.
static sje_err
rt_init_lists(sje__runtime *rt, const sje__runtime_opts *opts)
{
	size_t i;
	size_t len = 1;

	rt->n_functions = sje__plugins_count(rt->plugins);
	if (rt->n_functions > 0 &&
	    (rt->functions = calloc(rt->n_functions, sizeof(char *))) ==
	        NULL) {
		return SJE_ENOMEM;
	}
	for (i = 0; i < rt->n_functions; i++) {
		// protobuf-c wants char *; Register only reads it.
		rt->functions[i] =
		    (char *) sje__plugins_at(rt->plugins, i)->name;
		len += strlen(rt->functions[i]) + 2;
	}
	if ((rt->functions_text = calloc(1, len)) == NULL) {
		return SJE_ENOMEM;
	}
	for (i = 0; i < rt->n_functions; i++) {
		if (i > 0) {
			strcat(rt->functions_text, ", ");
		}
		strcat(rt->functions_text, rt->functions[i]);
	}

	if (opts->n_labels == 0) {
		return SJE_OK;
	}
	rt->labels     = calloc(opts->n_labels, sizeof(*rt->labels));
	rt->label_ptrs = calloc(opts->n_labels, sizeof(*rt->label_ptrs));
	if (rt->labels == NULL || rt->label_ptrs == NULL) {
		return SJE_ENOMEM;
	}
	for (i = 0; i < opts->n_labels; i++) {
		Sje__V1__RegisterRequest__LabelsEntry e =
		    SJE__V1__REGISTER_REQUEST__LABELS_ENTRY__INIT;
		rt->labels[i]       = e;
		rt->labels[i].key   = NULL;
		rt->labels[i].value = NULL;
		rt->n_labels        = i + 1;
		if ((rt->labels[i].key = sje__strdup(opts->labels[i].key)) ==
		        NULL ||
		    (rt->labels[i].value =
		            sje__strdup(opts->labels[i].value)) == NULL) {
			return SJE_ENOMEM;
		}
		rt->label_ptrs[i] = &rt->labels[i];
	}
	return SJE_OK;
}

sje_err
sje__runtime_start(const sje__runtime_opts *opts, const sje__plugins *plugins,
    sje__runtime **out, char *errbuf, size_t errlen)
{
	sje__runtime   *rt;
	sje_client_opts copts;
	sje_err         rv;
	uint32_t        i;
	int             prv;

	if (!sje__methods_check()) {
		sje__snprintf(errbuf, errlen,
		    "internal error: the services' methods are not in "
		    "the order this worker was written for");
		return SJE_EINTERNAL;
	}
	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		sje__snprintf(errbuf, errlen, "out of memory");
		return SJE_ENOMEM;
	}
	rt->plugins = plugins;
	rt->slots   = opts->slots;
	if ((rv = rt_init_sync(rt)) != SJE_OK ||
	    (rt->name = sje__strdup(opts->name)) == NULL ||
	    (rt->server_url = sje__strdup(opts->server_url)) == NULL ||
	    (rt->slot_thrs = calloc(opts->slots, sizeof(pthread_t))) == NULL ||
	    (rv = rt_init_lists(rt, opts)) != SJE_OK) {
		sje__snprintf(errbuf, errlen, "out of memory");
		rt_free(rt);
		return SJE_ENOMEM;
	}

	memset(&copts, 0, sizeof(copts));
	if (opts->conn != NULL) {
		copts            = *opts->conn; // TLS files and credentials
		const char *cert = opts->conn->cert_file;
		const char *key  = opts->conn->key_file;
		if (cert != NULL && cert[0] != '\0' &&
		    ((rt->cert_file = sje__strdup(cert)) == NULL ||
		        (key != NULL && key[0] != '\0' &&
		            (rt->key_file = sje__strdup(key)) == NULL))) {
			sje__snprintf(errbuf, errlen, "out of memory");
			rt_free(rt);
			return SJE_ENOMEM;
		}
	}
	copts.server_url = opts->server_url;
	copts.timeout_ms = RT_REPORT_TIMEOUT_MS; // every call names its own
	if ((rv = sje_client_open(&copts, &rt->client)) != SJE_OK) {
		sje__snprintf(errbuf, errlen, "cannot use server URL %s: %s",
		    opts->server_url, sje_strerror(rv));
		rt_free(rt);
		return rv;
	}

	// Start consumers before producers: reporter, slots, heartbeat, fetch.
	if ((prv = pthread_create(
	         &rt->report_thr, NULL, rt_report_main, rt)) != 0) {
		goto fail_thread;
	}
	rt->report_started = true;
	for (i = 0; i < rt->slots; i++) {
		if ((prv = pthread_create(
		         &rt->slot_thrs[i], NULL, rt_slot_main, rt)) != 0) {
			goto fail_thread;
		}
		rt->n_slot_thrs++;
	}
	if ((prv = pthread_create(&rt->hb_thr, NULL, rt_hb_main, rt)) != 0) {
		goto fail_thread;
	}
	rt->hb_started = true;
	if ((prv = pthread_create(&rt->fetch_thr, NULL, rt_fetch_main, rt)) !=
	    0) {
		goto fail_thread;
	}
	rt->fetch_started = true;
	*out              = rt;
	return SJE_OK;

fail_thread:
	sje__snprintf(errbuf, errlen, "cannot start a thread: %s",
	    sje_strerror(sje__errno_err(prv)));
	// No fetch thread: no job was taken. Mark fetching as done so that
	// the slots end.
	(void) pthread_mutex_lock(&rt->mtx);
	rt->fetch_done = true;
	(void) pthread_mutex_unlock(&rt->mtx);
	sje__runtime_stop(rt, 0);
	return SJE_EIO;
}

bool
sje__runtime_failed(sje__runtime *rt, char *buf, size_t len)
{
	bool failed;

	(void) pthread_mutex_lock(&rt->mtx);
	failed = rt->failed;
	if (failed) {
		sje__snprintf(buf, len, "%s", rt->fail_msg);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return failed;
}

void
sje__runtime_stop(sje__runtime *rt, uint32_t grace_ms)
{
	int64_t   deadline;
	sje_task *t;
	uint32_t  i;

	if (rt == NULL) {
		return;
	}

	// 1. Fetch no more and start nothing more (the slots hand queued
	//    jobs back); give the running jobs the grace period, then
	//    cancel what still runs.
	(void) pthread_mutex_lock(&rt->mtx);
	rt->stopping = true;
	(void) pthread_cond_broadcast(&rt->cv);
	if (rt->busy > 0) {
		SJE_INFO("stopping: waiting up to %u ms for %u running jobs",
		    (unsigned) grace_ms, (unsigned) rt->busy);
	}
	deadline = sje_mono_ms() + grace_ms;
	while ((rt->busy > 0 || !rt->fetch_done) && sje_mono_ms() < deadline) {
		sje__cond_wait_until(&rt->cv, &rt->mtx, deadline);
	}
	for (t = rt->jobs; t != NULL; t = t->next) {
		if (sje__task_cancel(t, SJE__CANCEL_SHUTDOWN) && t->started) {
			SJE_LOG_JOB(SJE_LOG_WARN, t->task_id,
			    "grace period over: cancelling %s", t->function);
		}
	}
	(void) pthread_mutex_unlock(&rt->mtx);

	// 2. Wait for the fetch (at most its long poll) and the slots (their
	//    tasks were told to stop).
	if (rt->fetch_started) {
		(void) pthread_join(rt->fetch_thr, NULL);
	}
	for (i = 0; i < rt->n_slot_thrs; i++) {
		(void) pthread_join(rt->slot_thrs[i], NULL);
	}

	// 3. No job runs any more: stop the heartbeat, then flush the
	//    reports.
	(void) pthread_mutex_lock(&rt->mtx);
	rt->hb_stop = true;
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	if (rt->hb_started) {
		(void) pthread_join(rt->hb_thr, NULL);
	}
	(void) pthread_mutex_lock(&rt->mtx);
	rt->report_stop       = true;
	rt->flush_deadline_ms = sje_mono_ms() + RT_FLUSH_MS;
	(void) pthread_cond_broadcast(&rt->report_cv);
	(void) pthread_cond_broadcast(&rt->cv);
	(void) pthread_mutex_unlock(&rt->mtx);
	if (rt->report_started) {
		(void) pthread_join(rt->report_thr, NULL);
	}

	SJE_INFO("worker %s stopped", rt->name);
	rt_free(rt);
}
