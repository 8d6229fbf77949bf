// workers.c — the WorkerHub's handlers (challenge, register, fetch,
// heartbeat, reports) and dispatch of ready jobs to held fetches
// (workers.h). See round.c for the design; the round's holder only.
//
// Who may report. Every call but RegisterWorker and GetChallenge names a
// session, which must be live (issued by RegisterWorker, not replaced,
// not forgotten): else the whole call is refused FAILED_PRECONDITION and
// the worker registers again. A report or heartbeat entry counts only for
// a RUNNING job whose current lease it names (else FAILED_PRECONDITION
// for that outcome, "lost" in a heartbeat reply) and whose lease the
// session holds (else PERMISSION_DENIED, "lost"). A lease whose holder is
// unknown (coordinator restart, replaced session) goes to the first
// session of the recorded worker name that names it. Refusals change
// nothing and are counted by reason for Stats and /metrics.
//
// A registration under the name of a live session replaces it: the old
// session ends (its held Fetch calls are answered FAILED_PRECONDITION, its
// later calls refused), and its leases stay where they are, with their
// holder unknown, for the new session to claim by lease id — a worker that
// re-registers goes on with its running jobs; one that restarted has lost
// them, and they run again once their lease expires.
#include "sched/workers.h"

#include "sched/check.h"
#include "sched/heap.h"
#include "sched/jobs.h"
#include "sched/reply.h"
#include "sched/table.h"
#include "sched/txn.h"

#include "log.h"
#include "pbjson.h"
#include "store/job.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// sched_replace ends session old, which a new registration of the same
// name replaces: its held Fetch calls are answered, its leases left for the
// new session to claim, and its later calls refused.
static void
sched_replace(sje__sched *s, sched_worker *old)
{
	SJE_WARN("worker %s registered again: its session before is replaced "
	         "(%u jobs running under it wait for the new session to "
	         "claim them)",
	    old->name, old->busy);
	for (sched_hold *h = s->holds[HOLD_FETCH].head; h != NULL;) {
		sched_hold *next = h->next;
		if (h->worker == old) {
			sje__sched_reply_err(s, h->call, SJE_EPRECOND,
			    "session",
			    "session replaced by a newer registration of "
			    "worker '%s'",
			    old->name);
			sje__sched_hold_remove(s, h);
		}
		h = next;
	}
	// Its leases stay, for a session of the same name to claim: only
	// RUNNING jobs (those in the lease heap) can name it.
	for (size_t i = 0; old->busy > 0 && i < s->lease_heap.n; i++) {
		if (s->lease_heap.v[i]->worker == old) {
			s->lease_heap.v[i]->worker = NULL;
		}
	}
	old->busy    = 0;
	old->n_holds = 0;
	s->sessions_replaced++;
	sje__sched_worker_drop(s, old);
}

void
sje__sched_register(sje__sched *s, sje__call *call)
{
	const Sje__V1__RegisterRequest *req =
	    (const Sje__V1__RegisterRequest *) sje__call_input(call);
	if (!sje__sched_check_id(s, call, req->name, "name")) {
		return;
	}
	if (req->slots < 1 || req->slots > SCHED_MAX_WORKER_SLOTS) {
		s->refused[REFUSED_REGISTER]++;
		sje__sched_reply_err(s, call, SJE_EINVAL, "slots",
		    "slots must be 1 to %u, not %u", SCHED_MAX_WORKER_SLOTS,
		    req->slots);
		return;
	}
	if (req->n_functions > SCHED_MAX_WORKER_FUNCTIONS) {
		s->refused[REFUSED_REGISTER]++;
		sje__sched_reply_err(s, call, SJE_ELIMIT, "functions",
		    "at most %u functions per worker, not %zu",
		    SCHED_MAX_WORKER_FUNCTIONS, req->n_functions);
		return;
	}
	if (req->n_labels > SJE_MAX_LABELS) {
		s->refused[REFUSED_REGISTER]++;
		sje__sched_reply_err(s, call, SJE_ELIMIT, "labels",
		    "at most %u labels", SJE_MAX_LABELS);
		return;
	}
	for (size_t i = 0; i < req->n_functions; i++) {
		if (!sje__job_id_valid(req->functions[i])) {
			s->refused[REFUSED_REGISTER]++;
			sje__sched_reply_err(s, call, SJE_EINVAL, "functions",
			    "function names are 1 to %u characters of "
			    "A-Z a-z 0-9 _ . : -",
			    SJE_MAX_FUNCTION_BYTES);
			return;
		}
	}
	for (size_t i = 0; i < req->n_labels; i++) {
		if (strlen(req->labels[i]->key) > SJE_MAX_ID_BYTES ||
		    strlen(req->labels[i]->value) > SJE_MAX_ID_BYTES * 8) {
			s->refused[REFUSED_REGISTER]++;
			sje__sched_reply_err(
			    s, call, SJE_ELIMIT, "labels", "label too long");
			return;
		}
	}
	char why[300];
	if (sje__workerid_verify(s->workerid, s->now_ms, req->name,
	        req->certificate.data, req->certificate.len, req->nonce.data,
	        req->nonce.len, req->signature.data, req->signature.len, why,
	        sizeof(why)) != SJE_OK) {
		s->refused[REFUSED_REGISTER]++;
		SJE_WARN("worker %s refused: %s", req->name, why);
		sje__sched_reply_err(s, call, SJE_EPERM, "name", "%s", why);
		return;
	}
	for (sched_worker *old = s->workers; old != NULL; old = old->next) {
		if (strcmp(old->name, req->name) == 0) {
			sched_replace(s, old);
			break;
		}
	}
	sched_worker *w = sje__sched_xalloc(sizeof(*w));
	do {
		w->session = sje__random_u64();
	} while (
	    w->session == 0 || sje__sched_worker_find(s, w->session) != NULL);
	if (sje__umap_put(&s->sessions, w->session, w) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	w->name  = sje__sched_xstrdup(req->name);
	w->slots = req->slots;
	w->fns   = sje__sched_xalloc(sizeof(*w->fns) * (req->n_functions + 1));
	for (size_t i = 0; i < req->n_functions; i++) {
		sched_fn *f = sje__sched_fn_get(s, req->functions[i]);
		if (f->n_workers++ == 0 && !f->configured) {
			s->n_unserved--;
		}
		w->fns[w->n_fns++] = f;
	}
	w->labels =
	    sje__sched_xalloc(sizeof(*w->labels) * (req->n_labels + 1));
	for (size_t i = 0; i < req->n_labels; i++) {
		w->labels[i].key   = sje__sched_xstrdup(req->labels[i]->key);
		w->labels[i].value = sje__sched_xstrdup(req->labels[i]->value);
		w->n_labels++;
	}
	w->last_seen_ms      = s->now_ms;
	w->last_seen_unix_ms = s->now_unix_ms;
	w->next              = s->workers;
	s->workers           = w;
	SJE_INFO("worker %s registered: %u slots, %zu functions", w->name,
	    w->slots, w->n_fns);

	Sje__V1__RegisterReply reply = SJE__V1__REGISTER_REPLY__INIT;
	reply.session                = w->session;
	reply.lease_s                = s->cfg->executor.lease_s;
	reply.heartbeat_ms           = s->lease_ms / 3 < SCHED_HEARTBEAT_MAX_MS
	              ? s->lease_ms / 3
	              : SCHED_HEARTBEAT_MAX_MS;
	reply.fetch_reports          = true;
	sje__sched_reply_ok(s, call, &reply.base);
}

void
sje__sched_challenge(sje__sched *s, sje__call *call)
{
	uint8_t                 nonce[SJE_WORKERID_NONCE_BYTES];
	Sje__V1__ChallengeReply reply = SJE__V1__CHALLENGE_REPLY__INIT;
	sje__workerid_challenge(s->workerid, s->now_ms, nonce);
	reply.nonce.data = nonce;
	reply.nonce.len  = sizeof(nonce);
	reply.ttl_s      = SJE_WORKERID_TTL_S;
	sje__sched_reply_ok(s, call, &reply.base);
}

// sched_session finds the caller's registration, or answers that it must
// register again (after a coordinator restart, for instance).
static sched_worker *
sched_session(sje__sched *s, sje__call *call, uint64_t session)
{
	sched_worker *w = sje__sched_worker_find(s, session);
	if (w == NULL) {
		s->refused[REFUSED_SESSION]++;
		sje__sched_reply_err(s, call, SJE_EPRECOND, "session",
		    "unknown session: register again");
		return NULL;
	}
	w->last_seen_ms      = s->now_ms;
	w->last_seen_unix_ms = s->now_unix_ms;
	return w;
}

// sched_lease_check says whether w may report on j under lease_id:
// SJE__V1__STATUS_CODE__OK when j is RUNNING under that lease and w holds
// it (or its holder is unknown and w carries the worker name j's row
// records: w then claims it), else the refusal's code, counted. Changes
// nothing but the claim.
static int
sched_lease_check(
    sje__sched *s, sched_worker *w, sched_job *j, uint64_t lease_id)
{
	if (j == NULL || j->state != ST_RUNNING || lease_id == 0 ||
	    j->lease_id != lease_id) {
		s->refused[REFUSED_LEASE]++;
		return SJE__V1__STATUS_CODE__FAILED_PRECONDITION;
	}
	if (j->worker == w) {
		return SJE__V1__STATUS_CODE__OK;
	}
	if (j->worker == NULL) {
		// Its holder is unknown (after a restart, or a replaced
		// session): the session of the worker it was leased to may
		// claim it by its lease id.
		sje__job_row *row = sje__sched_load(s, j);
		bool          same =
		    row->worker != NULL && strcmp(row->worker, w->name) == 0;
		sje__job_row_free(row);
		if (same) {
			j->worker = w;
			w->busy++;
			SJE_LOG_JOB(SJE_LOG_INFO, j->task_id,
			    "lease claimed by worker %s's new session",
			    w->name);
			return SJE__V1__STATUS_CODE__OK;
		}
	}
	s->refused[REFUSED_HOLDER]++;
	SJE_LOG_JOB(SJE_LOG_WARN, j->task_id,
	    "refused a report from worker %s on a lease it does not hold",
	    w->name);
	return SJE__V1__STATUS_CODE__PERMISSION_DENIED;
}

static void sched_outcomes(sje__sched *s, sched_worker *w,
    Sje__V1__JobOutcome *const *outcomes, size_t n, report_kind kind,
    bool checked, Sje__V1__StatusCode *accepted);

void
sje__sched_fetch(sje__sched *s, sje__call *call)
{
	const Sje__V1__FetchRequest *req =
	    (const Sje__V1__FetchRequest *) sje__call_input(call);
	if (!sje__sched_check_count(s, call, req->n_outcomes, 0, "outcomes")) {
		return;
	}
	sched_worker *w = sched_session(s, call, req->session);
	if (w == NULL) {
		return;
	}
	uint32_t    wait_ms = req->wait_ms < SCHED_MAX_HOLD_MS
	       ? req->wait_ms
	       : SCHED_MAX_HOLD_MS;
	sched_hold *h       = sje__sched_hold_add(
	          s, HOLD_FETCH, call, req->max_jobs == 0 ? 0 : wait_ms);
	h->worker = w;
	w->n_holds++;
	if (req->n_outcomes > 0) {
		// The outcomes first: the slots they free may take a job at
		// once, and the reply (jobs or none) carries their answers.
		h->accepted =
		    sje__sched_xalloc(sizeof(*h->accepted) * req->n_outcomes);
		h->n_accepted = req->n_outcomes;
		sched_outcomes(s, w, req->outcomes, req->n_outcomes,
		    REPORT_BY_ERROR, call->checked, h->accepted);
	}
	if (req->max_jobs == 0) {
		sje__sched_fetch_reply(s, h, NULL, 0);
		sje__sched_hold_remove(s, h);
		return;
	}
	h->max_jobs = req->max_jobs < SCHED_MAX_FETCH_JOBS
	    ? req->max_jobs
	    : SCHED_MAX_FETCH_JOBS;
	SJE_DEBUG("worker %s: fetch held for up to %u ms (%d held)", w->name,
	    wait_ms, w->n_holds);
}

// progress_hash fingerprints a progress message, to skip unchanged writes.
static uint32_t
progress_hash(const char *m)
{
	uint32_t h = 2166136261u;
	for (; m != NULL && *m != '\0'; m++) {
		h = (h ^ (unsigned char) *m) * 16777619u;
	}
	return h;
}

void
sje__sched_heartbeat(sje__sched *s, sje__call *call)
{
	const Sje__V1__HeartbeatRequest *req =
	    (const Sje__V1__HeartbeatRequest *) sje__call_input(call);
	sched_worker *w = sched_session(s, call, req->session);
	if (w == NULL) {
		return;
	}
	if (!sje__sched_check_count(s, call, req->n_running, 0, "running")) {
		return;
	}
	Sje__V1__HeartbeatReply reply = SJE__V1__HEARTBEAT_REPLY__INIT;
	reply.cancel =
	    sje__sched_xalloc(sizeof(char *) * (req->n_running + 1));
	reply.lost = sje__sched_xalloc(sizeof(char *) * (req->n_running + 1));
	for (size_t i = 0; i < req->n_running; i++) {
		const Sje__V1__RunningJob *r = req->running[i];
		sched_job                 *j = r->task_id != NULL
		                    ? sje__hmap_get(&s->jobs, r->task_id)
		                    : NULL;
		if (sched_lease_check(s, w, j, r->lease_id) !=
		    SJE__V1__STATUS_CODE__OK) {
			reply.lost[reply.n_lost++] = r->task_id;
			continue;
		}
		j->lease_expires_ms = s->now_ms + s->lease_ms;
		if (j->cancel_requested) {
			reply.cancel[reply.n_cancel++] = r->task_id;
		}
		const Sje__V1__Progress *p = r->progress;
		if (p != NULL &&
		    (p->percent != j->progress_pct ||
		        progress_hash(p->message) != j->progress_hash)) {
			j->progress_pct   = p->percent;
			j->progress_hash  = progress_hash(p->message);
			sje__job_row *row = sje__sched_load(s, j);
			row->progress_pct = p->percent;
			char msg[256];
			sje__snprintf(msg, sizeof(msg), "%s",
			    p->message != NULL ? p->message : "");
			sje__sched_row_set_str(&row->progress_msg, msg);
			sje__sched_save(s, row, ST_RUNNING, j->lease_id);
			Sje__V1__Progress prog = SJE__V1__PROGRESS__INIT;
			prog.percent           = p->percent;
			prog.message           = msg;
			sje__sched_event_full(
			    s, j, w->name, NULL, NULL, &prog, false);
			sje__job_row_free(row);
		}
	}
	sje__sched_reply_ok(s, call, &reply.base);
	free(reply.cancel);
	free(reply.lost);
}

// sched_release hands a leased job back unrun: queued again at once, and
// the attempt does not count.
static void
sched_release(sje__sched *s, sched_job *j, sje__job_row *row)
{
	if (j->cancel_requested) {
		// Handed back after a cancel: nothing left to run.
		sje__sched_attempt_failed(s, j, row, "cancelled", "cancelled");
		return;
	}
	// The attempt's record says so until a new lease reuses its number.
	sje__sched_attempt_end(s, j, row, ST_QUEUED, "released",
	    "handed back unrun by its worker");
	sje__sched_release_lease(s, j);
	j->attempt--;
	row->attempt          = j->attempt;
	row->lease_expires_ms = 0;
	sje__sched_set_state(j, row, ST_QUEUED);
	sje__sched_ready(s, j);
	sje__sched_save(s, row, ST_RUNNING, j->lease_id);
	sje__sched_event_push(s, j, NULL, NULL, NULL);
	SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "handed back by worker %s",
	    row->worker != NULL ? row->worker : "?");
}

// sched_outcome takes one outcome from w, as kind (checked: the door
// found its result valid), and says how: OK, or the refusal's code (an
// expired, moved or unknown lease, or another worker's), having changed
// nothing.
static Sje__V1__StatusCode
sched_outcome(sje__sched *s, sched_worker *w, const Sje__V1__JobOutcome *o,
    report_kind kind, bool checked)
{
	bool       ok = kind == REPORT_COMPLETE;
	sched_job *j =
	    o->task_id != NULL ? sje__hmap_get(&s->jobs, o->task_id) : NULL;
	int code = sched_lease_check(s, w, j, o->lease_id);
	if (code != SJE__V1__STATUS_CODE__OK) {
		return code;
	}
	const char *result = o->result != NULL && o->result->text != NULL &&
	        o->result->text[0] != '\0'
	    ? o->result->text
	    : "null";
	size_t      rlen   = strlen(result);
	bool        valid  = ok &&
	    (checked ||
	        (rlen <= SJE_MAX_PARAMS_BYTES &&
	            sje__json_valid(result, rlen)));
	if (valid) {
		// The common case reads no row: the store ends it as is.
		sje__sched_succeed(s, j, w->name, result);
		return SJE__V1__STATUS_CODE__OK;
	}
	sje__job_row *row = sje__sched_load(s, j);
	if (kind == REPORT_RELEASE) {
		sched_release(s, j, row);
	} else if (ok) {
		sje__sched_attempt_failed(s, j, row, "invalid_result",
		    rlen > SJE_MAX_PARAMS_BYTES
		        ? "the result is larger than the limit"
		        : "the result is not valid JSON");
	} else {
		const Sje__V1__JobError *e = o->error;
		char                     type[64], msg[SCHED_MAX_ERROR_BYTES];
		sje__snprintf(type, sizeof(type), "%s",
		    e != NULL && e->type != NULL && e->type[0] != 0 ? e->type
		                                                    : "error");
		sje__snprintf(msg, sizeof(msg), "%s",
		    e != NULL && e->message != NULL ? e->message : "");
		sje__sched_attempt_failed(s, j, row, type, msg);
	}
	sje__job_row_free(row);
	return SJE__V1__STATUS_CODE__OK;
}

// sched_outcomes takes outcomes[0..n) from w into accepted[0..n): as kind,
// or, for REPORT_BY_ERROR, each as a Fail when it carries an error and as
// a Complete when not.
static void
sched_outcomes(sje__sched *s, sched_worker *w,
    Sje__V1__JobOutcome *const *outcomes, size_t n, report_kind kind,
    bool checked, Sje__V1__StatusCode *accepted)
{
	for (size_t i = 0; i < n; i++) {
		report_kind k = kind;
		if (k == REPORT_BY_ERROR) {
			k = outcomes[i]->error != NULL ? REPORT_FAIL
			                               : REPORT_COMPLETE;
		}
		accepted[i] = sched_outcome(s, w, outcomes[i], k, checked);
	}
}

// sje__sched_report handles Complete, Fail and Release. A Complete the
// doors marked checked has every result valid (door/validate.h), so its
// results are not parsed again here.
void
sje__sched_report(sje__sched *s, sje__call *call, report_kind kind)
{
	const Sje__V1__ReportRequest *req =
	    (const Sje__V1__ReportRequest *) sje__call_input(call);
	if (!sje__sched_check_count(s, call, req->n_outcomes, 0, "outcomes")) {
		return;
	}
	sched_worker *w = sched_session(s, call, req->session);
	if (w == NULL) {
		return;
	}
	Sje__V1__ReportReply reply = SJE__V1__REPORT_REPLY__INIT;
	reply.accepted =
	    sje__sched_xalloc(sizeof(*reply.accepted) * (req->n_outcomes + 1));
	reply.n_accepted = req->n_outcomes;
	sched_outcomes(s, w, req->outcomes, req->n_outcomes, kind,
	    call->checked, reply.accepted);
	sje__sched_reply_ok(s, call, &reply.base);
	free(reply.accepted);
}

// parents_pb is the parents' results given with one assignment; its
// strings are borrowed from rows until the reply is packed.
typedef struct parents_pb {
	Sje__V1__ParentResult  *v;
	Sje__V1__ParentResult **p;
	Sje__V1__Json          *json;
	sje__job_row          **rows;
	size_t                  n;
} parents_pb;

// sched_parents reads the results of spec's parents (every one SUCCEEDED,
// or the job would not be ready) into a.
static void
sched_parents(sje__sched *s, const Sje__V1__JobSpec *spec, parents_pb *pp,
    Sje__V1__Assignment *a)
{
	size_t n = spec->n_depends_on;
	pp->v    = sje__sched_xalloc(sizeof(*pp->v) * n);
	pp->p    = sje__sched_xalloc(sizeof(*pp->p) * n);
	pp->json = sje__sched_xalloc(sizeof(*pp->json) * n);
	pp->rows = sje__sched_xalloc(sizeof(*pp->rows) * n);
	for (size_t k = 0; k < n; k++) {
		sje__job_row *row;
		if (sje__store_get_job(s->store, spec->depends_on[k], &row) !=
		    SJE_OK) {
			continue; // cannot happen: parents are never deleted
		}
		size_t i    = pp->n++;
		pp->rows[i] = row;
		sje__v1__parent_result__init(&pp->v[i]);
		sje__v1__json__init(&pp->json[i]);
		pp->json[i].text =
		    row->result_json != NULL ? row->result_json : "null";
		pp->v[i].task_id = row->task_id;
		pp->v[i].result  = &pp->json[i];
		pp->p[i]         = &pp->v[i];
	}
	a->parents   = pp->p;
	a->n_parents = pp->n;
}

static void
parents_pb_free(parents_pb *pp)
{
	for (size_t i = 0; i < pp->n; i++) {
		sje__job_row_free(pp->rows[i]);
	}
	free(pp->rows);
	free(pp->json);
	free(pp->p);
	free(pp->v);
}

// sched_fn_top is the ready heap of f whose top w should take first: f's
// own (jobs that need no labels) or a route whose labels w has; NULL when
// none holds a job for w.
static sched_heap *
sched_fn_top(sched_fn *f, const sched_worker *w)
{
	sched_heap *h = f->ready.n > 0 ? &f->ready : NULL;
	for (size_t i = 0; i < f->n_routes; i++) {
		sched_route *r = f->routes[i];
		if (r->ready.n == 0 || !sje__sched_route_matches(r, w)) {
			continue;
		}
		if (h == NULL ||
		    sje__sched_heap_before(
		        &r->ready, r->ready.v[0], h->v[0])) {
			h = &r->ready;
		}
	}
	return h;
}

// sched_best pops the best ready job w may take among its functions: not
// paused, under their concurrency and rate limits, and needing no labels
// w lacks; or NULL.
static sched_job *
sched_best(sje__sched *s, sched_worker *w)
{
	sched_fn   *best_f = NULL;
	sched_heap *best   = NULL;
	for (size_t i = 0; i < w->n_fns; i++) {
		sched_fn   *f = w->fns[i];
		sched_heap *h;
		if (f->paused ||
		    (f->concurrency != 0 && f->n_running >= f->concurrency) ||
		    (h = sched_fn_top(f, w)) == NULL) {
			continue;
		}
		if (!sje__sched_fn_rate_take(s, f, false)) {
			// Wake up when the bucket lets the next one start.
			sje_dur_ms at =
			    s->now_ms + sje__sched_fn_rate_wait(s, f);
			if (at < s->rate_wake_ms) {
				s->rate_wake_ms = at;
			}
			continue;
		}
		if (best == NULL ||
		    sje__sched_heap_before(h, h->v[0], best->v[0])) {
			best   = h;
			best_f = f;
		}
	}
	if (best == NULL) {
		return NULL;
	}
	(void) sje__sched_fn_rate_take(s, best_f, true);
	sched_job *j = best->v[0];
	sje__sched_heap_remove(best, j);
	s->n_ready--;
	return j;
}

// sje__sched_dispatch answers held Fetch calls, oldest first, with ready jobs.
void
sje__sched_dispatch(sje__sched *s)
{
	sched_hold *h   = s->holds[HOLD_FETCH].head;
	s->rate_wake_ms = INT64_MAX;
	while (h != NULL && s->n_ready > 0) {
		sched_hold          *next = h->next;
		size_t               max  = h->max_jobs;
		Sje__V1__Assignment *as = sje__sched_xalloc(sizeof(*as) * max);
		Sje__V1__Assignment **ap =
		    sje__sched_xalloc(sizeof(*ap) * max);
		Sje__V1__JobSpec **spec =
		    sje__sched_xalloc(sizeof(*spec) * max);
		parents_pb *pars = sje__sched_xalloc(sizeof(*pars) * max);
		size_t      n    = 0;
		sched_job  *j;
		while (n < max && (j = sched_best(s, h->worker)) != NULL) {
			// The spec: kept in memory when small, else read
			// from the job's row. Nothing else of the row is
			// needed: the claim below writes what changes.
			sje__job_row *row = NULL;
			if (j->spec != NULL) {
				spec[n] = sje__v1__job_spec__unpack(
				    NULL, j->spec_len, j->spec);
			} else {
				row     = sje__sched_load(s, j);
				spec[n] = sje__v1__job_spec__unpack(
				    NULL, row->spec_len, row->spec);
			}
			j->attempt++;
			j->started_ms = s->now_ms;
			sje__sched_hist_add(
			    &j->fn->wait, s->now_ms - j->queued_ms);
			sje__sched_lease_new(s, j);
			j->lease_expires_ms = s->now_ms + s->lease_ms;
			j->worker           = h->worker;
			j->progress_pct     = 0;
			j->progress_hash    = progress_hash(NULL);
			h->worker->busy++;
			sje__sched_lease_track(s, j);
			sje__sched_set_state(j, NULL, ST_RUNNING);
			// QUEUED -> RUNNING under the new lease, and the
			// attempt's record, in one verb.
			sje__sched_txn(s);
			// The row keeps wall times; j's are monotonic.
			sje__job_claim cl = { .lease_id = j->lease_id,
				.lease_expires_ms =
				    s->now_unix_ms + s->lease_ms,
				.worker     = h->worker->name,
				.attempt    = j->attempt,
				.started_ms = s->now_unix_ms };
			sje_err        cerr =
			    sje__store_claim_job(s->store, j->id, &cl);
			if (cerr != SJE_OK) {
				sje__sched_fatal("store claim", cerr);
			}
			sje__sched_event_push(
			    s, j, h->worker->name, NULL, NULL);

			Sje__V1__Assignment *a = &as[n];
			sje__v1__assignment__init(a);
			a->task_id  = j->task_id;
			a->function = j->fn->name;
			a->params   = spec[n] != NULL ? spec[n]->params : NULL;
			a->lease_id = j->lease_id;
			a->attempt  = j->attempt;
			a->timeout_s = j->timeout_s;
			if (spec[n] != NULL && spec[n]->n_depends_on > 0) {
				sched_parents(s, spec[n], &pars[n], a);
			}
			ap[n] = a;
			n++;
			if (row != NULL) {
				sje__job_row_free(row);
			}
		}
		if (n > 0) {
			sje__sched_fetch_reply(s, h, ap, n);
			sje__sched_hold_remove(s, h);
		}
		for (size_t i = 0; i < n; i++) {
			parents_pb_free(&pars[i]);
			if (spec[i] != NULL) {
				sje__v1__job_spec__free_unpacked(
				    spec[i], NULL);
			}
		}
		free(pars);
		free(spec);
		free(ap);
		free(as);
		h = next;
	}
}
