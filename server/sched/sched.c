// sched.c — the scheduler: one thread that owns every job's life.
//
// Design. RPC handlers (on nng's threads) only append calls to the inbox
// and signal. The scheduler thread works in rounds:
//
//   1. take the whole inbox;
//   2. handle each call: reads answer from the store, writes go into the
//      round's single transaction, replies and events are only queued;
//   3. timers: delayed jobs that are due, expired leases, held calls whose
//      time is up, workers long gone;
//   4. dispatch: ready jobs go to held Fetch calls, best first;
//   5. commit, then send the queued replies and publish the queued events.
//
// So nothing is acknowledged before it is durable, and every submit,
// report and lease that arrive together share one commit (group commit).
// If a commit fails the process exits: the in-memory state is then ahead
// of the store, and a restart rebuilds it from the store (crash-only).
//
// In memory the scheduler keeps only the jobs that are not finished, each
// a small sched_job (ids, state, lease, queue position), indexed by task_id;
// params and results stay in the store and are read when a job is leased or
// a status is asked for. Ready jobs wait in one heap per function (priority
// high first, then oldest first); delayed jobs in one heap by due time;
// RUNNING jobs in the lease heap, by when their lease or timeout runs out
// (a heartbeat only moves the lease's end: the heap re-files the job when
// its old key comes up). Held calls are on one list per kind (oldest
// first: dispatch walks only the Fetch list, a commit only the ListEvents
// list) and in one heap by deadline. So the per-second tick looks only at
// what is due, and the thread's next wake-up is the heaps' tops.
//
// Time: every deadline runs on a monotonic clock, passed in (clock.h), and
// timed waits on CLOCK_MONOTONIC, so a step of the wall clock expires
// nothing; the wall clock gives only the times stored and shown. A test
// opens the scheduler manual, with a fake clock, and runs each round with
// sje__sched_round: the same code as the thread's rounds.
//
// Leases: a job leased to a worker carries a lease_id of 64 random bits
// (never 0, never the job's previous one, unique among live leases:
// s->leases), kept in the job's row. A report or heartbeat counts only
// when it names the job's current lease_id and comes from the session
// that holds the lease; anything else is refused, changes nothing, and is
// counted (s->refused). Heartbeats extend leases; a lease not extended for
// lease_s expires and the attempt counts as failed ("lost").
//
// A lease whose holder is unknown — after a coordinator restart, or after
// its worker's session was replaced by a new registration of the same
// name — is claimed by the first live session that names it (heartbeat or
// report) under the worker name the row records: the unguessable lease id
// is then the capability, and with executor.worker_nodes the name is
// proven. After a restart, RUNNING jobs get lease_s from the restart to
// be heard of again.
//
// Functions and sessions are found by hash (s->fn_map, s->sessions).
// Functions no worker serves and config does not name are bounded by
// tasks.max_unserved_functions, and forgotten once nothing uses them.
//
// Threads: everything below the inbox belongs to the scheduler thread.
// s->mtx guards only the inbox and the stopping flag.
#include "sched/sched_int.h"

#include "log.h"
#include "pbjson.h"
#include "sched/workflow.h"
#include "store/job.h"
#include "util.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const double sched_hist_ms[SCHED_HIST_N] = { 1, 5, 10, 50, 100, 500, 1000,
	5000, 10000, 60000, 300000, 3600000 };

// ---- growing arrays ----------------------------------------------------

// sje__sched_grow makes room for one more element of size sz in *v.
bool
sje__sched_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap) {
		return true;
	}
	size_t nc = *cap != 0 ? *cap * 2 : 16;
	void  *nv = realloc(*v, nc * sz);
	if (nv == NULL) {
		return false;
	}
	*v   = nv;
	*cap = nc;
	return true;
}

// sje__sched_fatal stops the process: the store and memory may now disagree,
// and only a restart (which rebuilds memory from the store) is safe.
void
sje__sched_fatal(const char *what, sje_err err)
{
	SJE_ERROR("scheduler: %s: %s; exiting so that a restart recovers "
	          "from the store",
	    what, sje_strerror(err));
	_exit(70);
}

void *
sje__sched_xalloc(size_t n)
{
	void *p = calloc(1, n);
	if (p == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	return p;
}

char *
sje__sched_xstrdup(const char *s)
{
	char *d = sje__strdup(s != NULL ? s : "");
	if (d == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	return d;
}

// ---- heaps -------------------------------------------------------------

bool
sje__sched_heap_before(
    const sched_heap *h, const sched_job *a, const sched_job *b)
{
	switch (h->kind) {
	case HEAP_READY:
		if (a->priority != b->priority) {
			return a->priority > b->priority;
		}
		break;
	case HEAP_DELAYED:
		if (a->ready_at_ms != b->ready_at_ms) {
			return a->ready_at_ms < b->ready_at_ms;
		}
		break;
	case HEAP_LEASES:
		if (a->lease_due_ms != b->lease_due_ms) {
			return a->lease_due_ms < b->lease_due_ms;
		}
		break;
	}
	return a->id < b->id;
}

// heap_idx is where h keeps j's index in it.
static size_t *
heap_idx(const sched_heap *h, sched_job *j)
{
	return h->kind == HEAP_LEASES ? &j->lease_idx : &j->heap_idx;
}

static void
heap_set(sched_heap *h, size_t i, sched_job *j)
{
	h->v[i]         = j;
	*heap_idx(h, j) = i;
}

static void
heap_up(sched_heap *h, size_t i)
{
	sched_job *j = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!sje__sched_heap_before(h, j, h->v[p])) {
			break;
		}
		heap_set(h, i, h->v[p]);
		i = p;
	}
	heap_set(h, i, j);
}

static void
heap_down(sched_heap *h, size_t i)
{
	sched_job *j = h->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n) {
			break;
		}
		if (c + 1 < h->n &&
		    sje__sched_heap_before(h, h->v[c + 1], h->v[c])) {
			c++;
		}
		if (!sje__sched_heap_before(h, h->v[c], j)) {
			break;
		}
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, j);
}

void
sje__sched_heap_push(sched_heap *h, sched_job *j)
{
	if (!sje__sched_grow((void **) &h->v, &h->cap, h->n, sizeof(*h->v))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	size_t i = h->n++;
	heap_set(h, i, j);
	heap_up(h, i);
}

void
sje__sched_heap_remove(sched_heap *h, sched_job *j)
{
	size_t *idx = heap_idx(h, j);
	size_t  i   = *idx;
	*idx        = SIZE_MAX;
	if (i >= h->n || h->v[i] != j) {
		return;
	}
	sched_job *last = h->v[--h->n];
	if (i < h->n) {
		heap_set(h, i, last);
		heap_up(h, i);
		heap_down(h, *heap_idx(h, last));
	}
}

void
sje__sched_heap_fix(sched_heap *h, sched_job *j)
{
	size_t i = *heap_idx(h, j);
	heap_up(h, i);
	heap_down(h, *heap_idx(h, j));
}

// ---- functions, workers, jobs ------------------------------------------

sched_fn *
sje__sched_fn_find(sje__sched *s, const char *name)
{
	return sje__hmap_get(&s->fn_map, name);
}

bool
sje__sched_fn_unserved(const sched_fn *f)
{
	return f->n_workers == 0 && !f->configured;
}

sched_fn *
sje__sched_fn_get(sje__sched *s, const char *name)
{
	sched_fn *f = sje__hmap_get(&s->fn_map, name);
	if (f != NULL) {
		return f;
	}
	f       = sje__sched_xalloc(sizeof(*f));
	f->name = sje__sched_xstrdup(name);
	if (sje__hmap_put(&s->fn_map, f->name, f) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	f->next = s->fns;
	if (s->fns != NULL) {
		s->fns->prev = f;
	}
	s->fns = f;
	s->n_unserved++;
	return f;
}

// sched_hist_merge adds the durations of from to into.
static void
sched_hist_merge(sched_hist *into, const sched_hist *from)
{
	for (size_t i = 0; i <= SCHED_HIST_N; i++) {
		into->counts[i] += from->counts[i];
	}
	into->sum_ms += from->sum_ms;
	into->n += from->n;
}

void
sje__sched_fn_sweep(sje__sched *s)
{
	sched_fn *f = s->fns;
	while (f != NULL) {
		sched_fn *next = f->next;
		if (f->n_jobs == 0 && f->n_workers == 0 && !f->configured) {
			// Its counters go on in the forgotten functions'
			// sum, so that totals never go down.
			sched_fn *g = &s->forgotten;
			g->submitted += f->submitted;
			g->succeeded += f->succeeded;
			g->failed += f->failed;
			g->cancelled += f->cancelled;
			g->retried += f->retried;
			g->upstream_failed += f->upstream_failed;
			sched_hist_merge(&g->wait, &f->wait);
			sched_hist_merge(&g->run, &f->run);
			sje__hmap_del(&s->fn_map, f->name);
			if (f->prev != NULL) {
				f->prev->next = f->next;
			} else {
				s->fns = f->next;
			}
			if (f->next != NULL) {
				f->next->prev = f->prev;
			}
			s->n_unserved--;
			free(f->ready.v);
			free(f->name);
			free(f);
		}
		f = next;
	}
}

sched_worker *
sje__sched_worker_find(sje__sched *s, uint64_t session)
{
	return session != 0 ? sje__umap_get(&s->sessions, session) : NULL;
}

void
sje__sched_worker_drop(sje__sched *s, sched_worker *w)
{
	for (sched_worker **pp = &s->workers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	sje__umap_del(&s->sessions, w->session);
	for (size_t i = 0; i < w->n_fns; i++) {
		sched_fn *f = w->fns[i];
		if (--f->n_workers == 0 && !f->configured) {
			s->n_unserved++;
		}
	}
	sje__sched_worker_free(w);
}

void
sje__sched_worker_free(sched_worker *w)
{
	for (size_t i = 0; i < w->n_labels; i++) {
		free(w->labels[i].key);
		free(w->labels[i].value);
	}
	free(w->labels);
	free(w->fns);
	free(w->name);
	free(w);
}

void
sje__sched_job_free(sched_job *j)
{
	if (j->fn != NULL) {
		j->fn->n_jobs--;
	}
	for (uint32_t i = 0; i < j->n_children; i++) {
		free(j->children[i]);
	}
	free(j->children);
	free(j->waiters);
	free(j->task_id);
	free(j);
}

// sje__sched_ready puts a QUEUED job on its function's heap.
void
sje__sched_ready(sje__sched *s, sched_job *j)
{
	j->queued_ms = s->now_ms;
	sje__sched_heap_push(&j->fn->ready, j);
	s->n_ready++;
}

// sje__sched_unqueue takes a job off whichever heap holds it.
void
sje__sched_unqueue(sje__sched *s, sched_job *j)
{
	if (j->heap_idx == SIZE_MAX) {
		return;
	}
	if (j->state == ST_SCHEDULED) {
		sje__sched_heap_remove(&s->delayed, j);
	} else {
		sje__sched_heap_remove(&j->fn->ready, j);
		s->n_ready--;
	}
}

void
sje__sched_lease_new(sje__sched *s, sched_job *j)
{
	uint64_t id;
	do {
		id = sje__random_u64();
	} while (id == 0 || id == j->lease_id ||
	    sje__umap_get(&s->leases, id) != NULL);
	j->lease_id = id;
	if (sje__umap_put(&s->leases, id, j) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
}

// lease_due is when j's lease or its timeout (with grace_ms) runs out,
// whichever is first.
static sje_dur_ms
lease_due(const sched_job *j, sje_dur_ms grace_ms)
{
	sje_dur_ms due = j->lease_expires_ms;
	if (j->timeout_s != 0) {
		sje_dur_ms t = j->started_ms +
		    (sje_dur_ms) j->timeout_s * 1000 + grace_ms;
		if (t < due) {
			due = t;
		}
	}
	return due;
}

void
sje__sched_lease_track(sje__sched *s, sched_job *j)
{
	j->lease_due_ms = lease_due(j, s->lease_ms);
	sje__sched_heap_push(&s->lease_heap, j);
}

sched_job *
sje__sched_lease_next(sje__sched *s)
{
	sje_dur_ms grace_ms = s->lease_ms;
	while (s->lease_heap.n > 0 &&
	    s->lease_heap.v[0]->lease_due_ms <= s->now_ms) {
		sched_job *j   = s->lease_heap.v[0];
		sje_dur_ms due = lease_due(j, grace_ms);
		if (due <= s->now_ms) {
			sje__sched_heap_remove(&s->lease_heap, j);
			return j;
		}
		// Heartbeats extended its lease: file it under the new end.
		j->lease_due_ms = due;
		sje__sched_heap_fix(&s->lease_heap, j);
	}
	return NULL;
}

sje_dur_ms
sje__sched_mono_of(const sje__sched *s, sje_time_ms unix_ms)
{
	return unix_ms != 0 ? s->now_ms + (unix_ms - s->now_unix_ms) : 0;
}

void
sje__sched_release_lease(sje__sched *s, sched_job *j)
{
	if (j->lease_id != 0 && sje__umap_get(&s->leases, j->lease_id) == j) {
		sje__umap_del(&s->leases, j->lease_id);
	}
	sje__sched_heap_remove(&s->lease_heap, j);
	if (j->worker != NULL && j->worker->busy > 0) {
		j->worker->busy--;
	}
	j->worker           = NULL;
	j->lease_expires_ms = 0;
}

// ---- store access (fatal on failure: see the design note) -------------

void
sje__sched_txn(sje__sched *s)
{
	if (!s->in_txn) {
		sje_err err = sje__store_begin(s->store);
		if (err != SJE_OK) {
			sje__sched_fatal("store begin", err);
		}
		s->in_txn = true;
	}
}

sje__job_row *
sje__sched_load(sje__sched *s, const sched_job *j)
{
	sje__job_row *row;
	sje_err       err = sje__store_get_job_by_id(s->store, j->id, &row);
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	return row;
}

void
sje__sched_save(
    sje__sched *s, const sje__job_row *row, int from, uint64_t lease_id)
{
	sje__sched_txn(s);
	sje__job_expect expect = { .state = from, .lease_id = lease_id };
	sje_err         err    = sje__store_update_job(s->store, row, &expect);
	if (err == SJE_EPRECOND) {
		// Memory said the job was in that state under that lease: a
		// store that disagrees means a bug, or another writer.
		// (The lease id is not logged: it is the report's fence.)
		SJE_LOG_JOB(SJE_LOG_ERROR, row->task_id,
		    "bug: the store's job is not %s under the lease memory has",
		    from != 0 ? sje_job_state_name(from) : "unfinished");
	}
	if (err != SJE_OK) {
		sje__sched_fatal("store update", err);
	}
}

void
sje__sched_row_set_str(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? sje__sched_xstrdup(value) : NULL;
}

// ---- replies and events --------------------------------------------------

static void
sched_out_push(sje__sched *s, sched_reply r)
{
	if (!sje__sched_grow(
	        (void **) &s->out, &s->cap_out, s->n_out, sizeof(*s->out))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	s->out[s->n_out++] = r;
}

// sje__sched_reply_ok packs msg now (it may borrow anything) and sends it
// after the round's commit.
void
sje__sched_reply_ok(
    sje__sched *s, sje__call *call, const ProtobufCMessage *msg)
{
	size_t   n    = protobuf_c_message_get_packed_size(msg);
	uint8_t *body = sje__sched_xalloc(n > 0 ? n : 1);
	protobuf_c_message_pack(msg, body);
	sched_out_push(s,
	    (sched_reply) { .call = call, .code = 0, .body = body, .len = n });
}

// sje__sched_reply_err queues an error reply: err's status, field, message.
void
sje__sched_reply_err(sje__sched *s, sje__call *call, sje_err err,
    const char *field, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sched_out_push(s,
	    (sched_reply) { .call = call,
	        .code             = sje_err_to_status(err),
	        .message          = sje__sched_xstrdup(msg),
	        .field = field != NULL ? sje__sched_xstrdup(field) : NULL });
}

// sje__sched_event_full makes the event of j entering (or, for progress and
// cancel, being in) its current state: numbered, packed, kept in the store
// within the round's transaction, and queued for publishing after commit.
void
sje__sched_event_full(sje__sched *s, const sched_job *j, const char *worker,
    const char *error_type, const char *error_message,
    const Sje__V1__Progress *progress, bool cancel_requested)
{
	if (!sje__sched_grow(
	        (void **) &s->evq, &s->cap_ev, s->n_ev, sizeof(*s->evq))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	Sje__V1__JobEvent  ev = SJE__V1__JOB_EVENT__INIT;
	Sje__V1__Timestamp at = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__JobError  er = SJE__V1__JOB_ERROR__INIT;
	at.unix_ms            = s->now_unix_ms;
	ev.task_id            = j->task_id;
	ev.function           = j->fn->name;
	ev.state              = j->state;
	ev.attempt            = j->attempt;
	ev.worker             = (char *) (worker != NULL ? worker : "");
	ev.at                 = &at;
	ev.progress           = (Sje__V1__Progress *) progress;
	ev.cancel_requested   = cancel_requested;
	if (error_type != NULL || error_message != NULL) {
		er.type = (char *) (error_type != NULL ? error_type : "");
		er.message =
		    (char *) (error_message != NULL ? error_message : "");
		ev.error = &er;
	}
	// The store numbers the event, in the round's transaction.
	sje__sched_txn(s);
	sje_err err = sje__store_next_event_seq(s->store, &ev.seq);
	if (err != SJE_OK) {
		sje__sched_fatal("store event seq", err);
	}
	s->event_seq   = ev.seq;
	sched_event *e = &s->evq[s->n_ev];
	sje__events_topic(&ev, e->topic, sizeof(e->topic));
	e->len  = sje__v1__job_event__get_packed_size(&ev);
	e->data = sje__sched_xalloc(e->len + 1);
	sje__v1__job_event__pack(&ev, e->data);
	err = sje__store_add_event(
	    s->store, ev.seq, j->task_id, e->data, e->len);
	if (err != SJE_OK) {
		sje__sched_fatal("store event", err);
	}
	s->n_ev++;
}

// sje__sched_event_push queues the event of j entering its current state.
void
sje__sched_event_push(sje__sched *s, const sched_job *j, const char *worker,
    const char *error_type, const char *error_message)
{
	sje__sched_event_full(
	    s, j, worker, error_type, error_message, NULL, false);
}

// ---- rounds -----------------------------------------------------------

static void
sched_handle(sje__sched *s, sje__call *call)
{
	const ProtobufCServiceDescriptor *svc = sje__call_service(call);
	unsigned                          m   = sje__call_method(call);
	if (svc == &sje__v1__coordinator__descriptor) {
		switch (m) {
		case M_SUBMIT:
			sje__sched_submit(s, call);
			return;
		case M_GET_STATUS:
			sje__sched_get_status(s, call);
			return;
		case M_WAIT:
			sje__sched_wait(s, call);
			return;
		case M_CANCEL:
			sje__sched_cancel(s, call);
			return;
		case M_LIST_JOBS:
			sje__sched_list_jobs(s, call);
			return;
		case M_WORKERS:
			sje__sched_list_workers(s, call);
			return;
		case M_LIST_EVENTS:
			sje__sched_list_events(s, call);
			return;
		case M_STATS:
			sje__sched_stats(s, call);
			return;
		case M_RUN_WORKFLOW:
			sje__sched_run_workflow(s, call);
			return;
		}
	} else if (svc == &sje__v1__worker_hub__descriptor) {
		switch (m) {
		case W_REGISTER:
			sje__sched_register(s, call);
			return;
		case W_FETCH:
			sje__sched_fetch(s, call);
			return;
		case W_HEARTBEAT:
			sje__sched_heartbeat(s, call);
			return;
		case W_COMPLETE:
			sje__sched_report(s, call, REPORT_COMPLETE);
			return;
		case W_FAIL:
			sje__sched_report(s, call, REPORT_FAIL);
			return;
		case W_RELEASE:
			sje__sched_report(s, call, REPORT_RELEASE);
			return;
		case W_CHALLENGE:
			sje__sched_challenge(s, call);
			return;
		}
	}
	sje__sched_reply_err(s, call, SJE_EUNIMPL, "method", "unknown method");
}

// sched_flush commits the round, then answers ListEvents calls waiting
// for the round's events, sends every reply and publishes the events.
static void
sched_flush(sje__sched *s)
{
	if (s->in_txn) {
		// The store saves its event seq counter with the commit.
		sje_err err;
		if ((err = sje__store_commit(s->store)) != SJE_OK) {
			sje__sched_fatal("store commit", err);
		}
		s->in_txn = false;
	}
	if (s->n_ev > 0) {
		sje__sched_events_wake(s);
		sje__hooks_committed(s->hooks, s->event_seq);
	}
	for (size_t i = 0; i < s->n_out; i++) {
		sched_reply *r = &s->out[i];
		sje__call_send(
		    r->call, r->code, r->message, r->field, r->body, r->len);
		free(r->message);
		free(r->field);
		free(r->body);
	}
	s->n_out = 0;
	for (size_t i = 0; i < s->n_ev; i++) {
		sched_event *e = &s->evq[i];
		sje__events_publish_packed(
		    s->events, e->topic, e->data, e->len);
		free(e->data);
	}
	s->n_ev = 0;
}

// sched_next_wake is the monotonic instant the thread must wake by: the
// tops of the heaps, no walk.
static sje_dur_ms
sched_next_wake(sje__sched *s)
{
	sje_dur_ms t = s->next_tick_ms;
	if (s->delayed.n > 0 && s->delayed.v[0]->ready_at_ms < t) {
		t = s->delayed.v[0]->ready_at_ms;
	}
	if (s->hold_heap.n > 0 && s->hold_heap.v[0]->deadline_ms < t) {
		t = s->hold_heap.v[0]->deadline_ms;
	}
	return t;
}

// sched_clock_now samples the round's time from the clock. The round's
// wall-clock time is its monotonic time plus the wall clock's offset from
// it, and that offset follows the wall clock only when it moves by more
// than a millisecond: reading two clocks, each truncated to milliseconds,
// differs by up to one from one reading to the next, and a stored
// duration (a retry's back-off, from one attempt's end to the next one's
// start) must not come out shorter than the monotonic wait it was.
static void
sched_clock_now(sje__sched *s)
{
	s->now_ms          = s->clock.mono_ms(s->clock.arg);
	sje_time_ms offset = s->clock.unix_ms(s->clock.arg) - s->now_ms;
	if (!s->wall_offset_set || offset > s->wall_offset_ms + 1 ||
	    offset < s->wall_offset_ms - 1) {
		s->wall_offset_ms  = offset;
		s->wall_offset_set = true;
	}
	s->now_unix_ms = s->now_ms + s->wall_offset_ms;
}

// sched_take swaps the inbox for the spare array *batch (of *cap): the
// calls posted so far are then in *batch, *n of them, and handlers go on
// posting into the spare. Returns whether the scheduler is stopping.
// Called with s->mtx held.
static bool
sched_take(sje__sched *s, sje__call ***batch, size_t *cap, size_t *n)
{
	sje__call **in     = s->inbox;
	size_t      in_cap = s->cap_inbox;
	*n                 = s->n_inbox;
	s->inbox           = *batch;
	s->cap_inbox       = *cap;
	s->n_inbox         = 0;
	*batch             = in;
	*cap               = in_cap;
	return s->stopping;
}

static void sched_recover_fixups(sje__sched *s);

// sched_run is one round over the n calls of batch (see the design note);
// when stopping, it answers them and every held call UNAVAILABLE instead.
static void
sched_run(sje__sched *s, sje__call **batch, size_t n, bool stopping)
{
	sched_clock_now(s);
	if (s->n_wake > 0 || s->n_cascade > 0) {
		sched_recover_fixups(s);
	}
	for (size_t i = 0; i < n; i++) {
		if (stopping) {
			sje__sched_reply_err(s, batch[i], SJE_EUNAVAIL, NULL,
			    "the server is shutting down");
		} else {
			sched_handle(s, batch[i]);
		}
	}
	if (stopping) {
		while (s->hold_heap.n > 0) {
			sched_hold *h = s->hold_heap.v[s->hold_heap.n - 1];
			if (h->kind == HOLD_WAIT) {
				sje__sched_hold_detach(s, h);
			}
			sje__sched_reply_err(s, h->call, SJE_EUNAVAIL, NULL,
			    "the server is shutting down");
			sje__sched_hold_remove(s, h);
		}
		sched_flush(s);
		return;
	}
	sje__sched_timers(s);
	sje__sched_dispatch(s);
	sched_flush(s);
}

// sched_wait_until waits on s->cv, with s->mtx held, until a call is
// posted, the scheduler stops, or the clock reaches wake. The timed wait
// runs on CLOCK_MONOTONIC (s->cv is made so), for the time left on the
// scheduler's clock: a step of the wall clock neither ends it early nor
// makes it late.
static void
sched_wait_until(sje__sched *s, sje_dur_ms wake)
{
	while (s->n_inbox == 0 && !s->stopping) {
		sje_dur_ms left = wake - s->clock.mono_ms(s->clock.arg);
		if (left <= 0) {
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t) (left / 1000);
		ts.tv_nsec += (long) (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mtx, &ts);
	}
}

static void *
sched_main(void *arg)
{
	sje__sched *s     = arg;
	sje__call **batch = NULL;
	size_t      cap   = 0;
	for (;;) {
		size_t n;
		pthread_mutex_lock(&s->mtx);
		sched_wait_until(s, sched_next_wake(s));
		bool stopping = sched_take(s, &batch, &cap, &n);
		pthread_mutex_unlock(&s->mtx);
		sched_run(s, batch, n, stopping);
		if (stopping) {
			break;
		}
	}
	free(batch);
	return NULL;
}

// sched_round_now takes the inbox and runs one round on the caller's
// thread (a manual scheduler's).
static void
sched_round_now(sje__sched *s)
{
	sje__call **batch = NULL;
	size_t      cap   = 0;
	size_t      n;
	pthread_mutex_lock(&s->mtx);
	bool stopping = sched_take(s, &batch, &cap, &n);
	pthread_mutex_unlock(&s->mtx);
	sched_run(s, batch, n, stopping);
	free(batch);
}

void
sje__sched_round(sje__sched *s)
{
	assert(s->manual);
	sched_round_now(s);
}

// ---- recovery, open, close --------------------------------------------

static sje_err
sched_recover_row(void *arg, const sje__job_row *row)
{
	sje__sched *s = arg;
	sched_job  *j = calloc(1, sizeof(*j));
	if (j == NULL || (j->task_id = sje__strdup(row->task_id)) == NULL) {
		free(j);
		return SJE_ENOMEM;
	}
	j->id = row->id;
	j->fn = sje__sched_fn_get(s, row->function);
	j->fn->n_jobs++;
	j->state        = row->state;
	j->priority     = row->priority;
	j->attempt      = row->attempt;
	j->max_attempts = row->max_attempts != 0 ? row->max_attempts : 1;
	j->timeout_s    = row->timeout_s;
	j->lease_id     = row->lease_id;
	// The row's times are wall-clock ones: from here on they count on
	// the monotonic clock, from what they are now.
	j->ready_at_ms      = sje__sched_mono_of(s, row->ready_at_ms);
	j->started_ms       = row->started_ms != 0
	          ? sje__sched_mono_of(s, row->started_ms)
	          : s->now_ms;
	j->cancel_requested = row->cancel_requested;
	j->heap_idx         = SIZE_MAX;
	j->lease_idx        = SIZE_MAX;
	if (sje__hmap_put(&s->jobs, j->task_id, j) != SJE_OK) {
		sje__sched_job_free(j);
		return SJE_ENOMEM;
	}
	switch (j->state) {
	case ST_SCHEDULED:
		sje__sched_heap_push(&s->delayed, j);
		break;
	case ST_QUEUED:
		sje__sched_ready(s, j);
		break;
	case ST_RUNNING:
		// Its worker may still be running it: give it a lease's time
		// from now to be heard of again. (A lease id from a store of
		// an earlier version is a small counter: guessable, but it
		// lives only until this lease ends.)
		j->lease_expires_ms = s->now_ms + s->lease_ms;
		if (j->lease_id != 0 &&
		    sje__umap_put(&s->leases, j->lease_id, j) != SJE_OK) {
			return SJE_ENOMEM;
		}
		sje__sched_lease_track(s, j);
		break;
	default:
		break; // PENDING: linked to its parents by sched_recover_links
	}
	return SJE_OK;
}

typedef struct recover_scan {
	sched_job **pending;
	size_t      n, cap;
} recover_scan;

static bool
recover_pending_each(void *arg, const char *key, void *value)
{
	(void) key;
	recover_scan *r = arg;
	sched_job    *j = value;
	if (j->state == ST_PENDING) {
		if (!sje__sched_grow((void **) &r->pending, &r->cap, r->n,
		        sizeof(*r->pending))) {
			return false;
		}
		r->pending[r->n++] = j;
	}
	return true;
}

// sched_recover_links links every recovered PENDING job to its unfinished
// parents. A job whose parents all finished meanwhile (it cannot happen,
// since a parent's end and its children's changes share a commit, but the
// store is the truth) is queued to wake or to cascade in the first round.
static sje_err
sched_recover_links(sje__sched *s)
{
	recover_scan r = { 0 };
	sje__hmap_each(&s->jobs, recover_pending_each, &r);
	sje_err err = SJE_OK;
	for (size_t i = 0; i < r.n && err == SJE_OK; i++) {
		sched_job    *j = r.pending[i];
		sje__job_row *row;
		if ((err = sje__store_get_job_by_id(s->store, j->id, &row)) !=
		    SJE_OK) {
			break;
		}
		Sje__V1__JobSpec *spec =
		    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
		sje__job_row_free(row);
		if (spec == NULL) {
			err = SJE_EIO;
			break;
		}
		bool failed = false;
		for (size_t k = 0; k < spec->n_depends_on && !failed; k++) {
			const char *pid = spec->depends_on[k];
			sched_job  *p   = sje__hmap_get(&s->jobs, pid);
			if (p != NULL) {
				sje__sched_link(p, j);
				continue;
			}
			sje__job_row *prow;
			if ((err = sje__store_get_job(s->store, pid, &prow)) !=
			    SJE_OK) {
				break;
			}
			if (prow->state != ST_SUCCEEDED) {
				failed = true;
				if (!sje__sched_grow((void **) &s->cascade,
				        &s->cap_cascade, s->n_cascade,
				        sizeof(*s->cascade))) {
					err = SJE_ENOMEM;
				} else {
					s->cascade[s->n_cascade++] =
					    (struct cascade) {
						    .task_id =
						        sje__sched_xstrdup(
						            j->task_id),
						    .parent =
						        sje__sched_xstrdup(
						            pid),
						    .parent_state =
						        prow->state,
					    };
				}
			}
			sje__job_row_free(prow);
		}
		if (err == SJE_OK && !failed && j->n_waiting == 0) {
			if (!sje__sched_grow((void **) &s->wake, &s->cap_wake,
			        s->n_wake, sizeof(*s->wake))) {
				err = SJE_ENOMEM;
			} else {
				s->wake[s->n_wake++] =
				    sje__sched_xstrdup(j->task_id);
			}
		}
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
	free(r.pending);
	return err;
}

// sched_recover_fixups runs, in the first round, what recovery found to
// do: wake PENDING jobs with nothing to wait for, cascade failures.
static void
sched_recover_fixups(sje__sched *s)
{
	for (size_t i = 0; i < s->n_wake; i++) {
		sched_job *j = sje__hmap_get(&s->jobs, s->wake[i]);
		if (j != NULL && j->state == ST_PENDING && j->n_waiting == 0) {
			sje__sched_wake_child(s, j);
		}
		free(s->wake[i]);
	}
	s->n_wake = 0;
	sje__sched_cascade(s);
}

// sched_configured makes the functions config names (tasks.functions and
// workflow steps): they are never forgotten and never count as unserved.
static void
sched_configured(sje__sched *s)
{
	const sje_config *cfg = s->cfg;
	for (size_t i = 0; i < cfg->tasks.n_functions; i++) {
		if (cfg->tasks.functions[i].name != NULL) {
			sched_fn *f =
			    sje__sched_fn_get(s, cfg->tasks.functions[i].name);
			if (!f->configured) {
				f->configured = true;
				s->n_unserved--;
			}
		}
	}
	for (size_t w = 0; w < cfg->n_workflows; w++) {
		for (size_t i = 0; i < cfg->workflows[w].n_steps; i++) {
			const char *fn = cfg->workflows[w].steps[i].function;
			if (fn == NULL) {
				continue;
			}
			sched_fn *f = sje__sched_fn_get(s, fn);
			if (!f->configured) {
				f->configured = true;
				s->n_unserved--;
			}
		}
	}
}

static bool
sched_free_job_each(void *arg, const char *key, void *value)
{
	(void) arg;
	(void) key;
	sje__sched_job_free(value);
	return true;
}

static void
sched_free_state(sje__sched *s)
{
	sje__hmap_each(&s->jobs, sched_free_job_each, NULL);
	sje__hmap_fini(&s->jobs);
	while (s->workers != NULL) {
		sched_worker *w = s->workers;
		s->workers      = w->next;
		sje__sched_worker_free(w);
	}
	sje__umap_fini(&s->sessions);
	sje__umap_fini(&s->leases);
	sje__hmap_fini(&s->fn_map);
	while (s->fns != NULL) {
		sched_fn *f = s->fns;
		s->fns      = f->next;
		free(f->ready.v);
		free(f->name);
		free(f);
	}
	free(s->delayed.v);
	free(s->lease_heap.v);
	free(s->hold_heap.v);
	for (size_t i = 0; i < s->n_cascade; i++) {
		free(s->cascade[i].task_id);
		free(s->cascade[i].parent);
	}
	free(s->cascade);
	for (size_t i = 0; i < s->n_wake; i++) {
		free(s->wake[i]);
	}
	free(s->wake);
	sje__workerid_close(s->workerid);
	free(s->out);
	free(s->evq);
	free(s->inbox);
	sje__alerts_free(s->alerts);
}

// sched_sync_init makes the inbox's mutex and a condition variable whose
// timed waits run on CLOCK_MONOTONIC.
static sje_err
sched_sync_init(sje__sched *s)
{
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0) {
		return SJE_ENOMEM;
	}
	int rv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rv == 0) {
		rv = pthread_cond_init(&s->cv, &ca);
	}
	pthread_condattr_destroy(&ca);
	if (rv != 0) {
		return SJE_ENOMEM;
	}
	pthread_mutex_init(&s->mtx, NULL);
	return SJE_OK;
}

sje_err
sje__sched_open(const sje_config *cfg, sje__store *store, sje__events *events,
    sje__hooks *hooks, sje__alerts *alerts, const sje__sched_opts *opts,
    sje__sched **out)
{
	sje__sched *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		sje__alerts_free(alerts);
		return SJE_ENOMEM;
	}
	s->cfg             = cfg;
	s->store           = store;
	s->events          = events;
	s->hooks           = hooks;
	s->alerts          = alerts;
	s->clock           = opts != NULL && opts->clock != NULL ? *opts->clock
	                                                         : SJE__CLOCK_SYSTEM;
	s->manual          = opts != NULL && opts->manual;
	s->lease_ms        = cfg->executor.lease_s * 1000u;
	s->delayed.kind    = HEAP_DELAYED;
	s->lease_heap.kind = HEAP_LEASES;
	sched_clock_now(s);
	s->started_unix_ms = s->now_unix_ms;
	s->next_tick_ms    = s->now_ms + SCHED_TICK_MS;
	s->next_alert_ms =
	    s->now_ms + (sje_time_ms) cfg->monitoring.check_interval_s * 1000;
	sje__hmap_init(&s->jobs);
	sje__hmap_init(&s->fn_map);
	sje__umap_init(&s->sessions);
	sje__umap_init(&s->leases);
	sched_configured(s);

	sje_err err;
	char    why[512];
	if ((err = sje__workerid_open(cfg, &s->workerid, why, sizeof(why))) !=
	    SJE_OK) {
		SJE_ERROR("%s", why);
		goto fail;
	}
	if ((err = sje__store_last_event_seq(store, &s->event_seq)) !=
	    SJE_OK) {
		goto fail;
	}
	if ((err = sje__store_scan_active(store, sched_recover_row, s)) !=
	        SJE_OK ||
	    (err = sched_recover_links(s)) != SJE_OK) {
		goto fail;
	}
	SJE_INFO("recovered %zu unfinished jobs (%zu ready, %zu delayed)",
	    s->jobs.n, s->n_ready, s->delayed.n);
	if ((err = sched_sync_init(s)) != SJE_OK) {
		goto fail;
	}
	if (!s->manual &&
	    pthread_create(&s->thread, NULL, sched_main, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mtx);
		err = SJE_ENOMEM;
		goto fail;
	}
	*out = s;
	return SJE_OK;

fail:
	sched_free_state(s);
	free(s);
	return err;
}

void
sje__sched_post(void *arg, sje__call *call)
{
	sje__sched *s = arg;
	pthread_mutex_lock(&s->mtx);
	if (s->stopping ||
	    !sje__sched_grow((void **) &s->inbox, &s->cap_inbox, s->n_inbox,
	        sizeof(*s->inbox))) {
		pthread_mutex_unlock(&s->mtx);
		sje__call_error(
		    call, SJE_EUNAVAIL, NULL, "the server is shutting down");
		return;
	}
	s->inbox[s->n_inbox++] = call;
	if (s->n_inbox == 1) {
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mtx);
}

void
sje__sched_close(sje__sched *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->mtx);
	s->stopping = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mtx);
	if (s->manual) {
		sched_round_now(s); // the last round, which answers all
	} else {
		pthread_join(s->thread, NULL);
	}
	// Calls posted while the thread stopped are answered by it or by
	// sje__sched_post; none remain.
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	sched_free_state(s);
	free(s);
}
