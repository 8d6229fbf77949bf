// reply.c — the out queue and the event queue (reply.h). Replies are
// packed when queued (so they may borrow anything) and sent by round.c
// after the commit, as the events are published; so nothing is answered
// before it is durable. Also the replies that several handlers and the
// timers make from the store. Scheduler thread only.
#include "sched/reply.h"

#include "sched/txn.h"

#include "log.h"
#include "methods.h"
#include "pbjson.h"
#include "store/job.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

// sched_attempts_pb adds rows[0..n) to job's attempts (malloc'd, freed
// with the job by protobuf_c_message_free_unpacked).
static void
sched_attempts_pb(Sje__V1__Job *job, const sje__attempt_row *rows, size_t n)
{
	if (n == 0) {
		return;
	}
	job->attempts = sje__sched_xalloc(sizeof(*job->attempts) * n);
	for (size_t i = 0; i < n; i++) {
		Sje__V1__Attempt *a = sje__sched_xalloc(sizeof(*a));
		sje__v1__attempt__init(a);
		a->number  = rows[i].number;
		a->worker  = sje__sched_xstrdup(rows[i].worker);
		a->outcome = rows[i].outcome;
		if (rows[i].started_ms != 0) {
			a->started_at =
			    sje__sched_xalloc(sizeof(*a->started_at));
			sje__v1__timestamp__init(a->started_at);
			a->started_at->unix_ms = rows[i].started_ms;
		}
		if (rows[i].finished_ms != 0) {
			a->finished_at =
			    sje__sched_xalloc(sizeof(*a->finished_at));
			sje__v1__timestamp__init(a->finished_at);
			a->finished_at->unix_ms = rows[i].finished_ms;
		}
		if (rows[i].error_type != NULL ||
		    rows[i].error_message != NULL) {
			a->error = sje__sched_xalloc(sizeof(*a->error));
			sje__v1__job_error__init(a->error);
			a->error->type =
			    sje__sched_xstrdup(rows[i].error_type);
			a->error->message =
			    sje__sched_xstrdup(rows[i].error_message);
		}
		job->attempts[job->n_attempts++] = a;
	}
}

void
sje__sched_attach_attempts(sje__sched *s, Sje__V1__Job *job, int64_t id)
{
	sje__sched_attach_attempts_all(s, &job, &id, 1);
}

void
sje__sched_attach_attempts_all(
    sje__sched *s, Sje__V1__Job **jobs, const int64_t *ids, size_t n)
{
	if (n == 0) {
		return;
	}
	sje__attempt_row *rows;
	size_t           *counts = sje__sched_xalloc(sizeof(*counts) * n);
	sje_err           err =
	    sje__store_list_attempts_of(s->store, ids, n, &rows, counts);
	if (err != SJE_OK) {
		sje__sched_fatal("store attempts", err);
	}
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		sched_attempts_pb(jobs[i], rows + at, counts[i]);
		at += counts[i];
	}
	sje__attempt_rows_free(rows, at);
	free(counts);
}

// sched_records reads the current record of each of ids[0..n) that the
// store has into jobs (capacity n), in order; returns how many. With
// results (one per id), each result's state becomes its record's. With
// missing, the index of the first id the store has no job for is written
// there and the count so far returned (SIZE_MAX when none is missing).
// Two reads for them all: the rows, then their attempts.
static size_t
sched_records(sje__sched *s, const char *const *ids, size_t n,
    Sje__V1__Job **jobs, Sje__V1__SubmitResult **results, size_t *missing)
{
	size_t         k    = 0;
	sje__job_row **rows = sje__sched_xalloc(sizeof(*rows) * (n + 1));
	int64_t       *rids = sje__sched_xalloc(sizeof(*rids) * (n + 1));
	if (missing != NULL) {
		*missing = SIZE_MAX;
	}
	sje_err err = sje__store_get_jobs(s->store, ids, n, rows);
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i] == NULL && missing != NULL) {
			*missing = i;
			break;
		}
		if (rows[i] == NULL) {
			continue;
		}
		if (sje__job_row_to_pb(rows[i], &jobs[k]) == SJE_OK) {
			rids[k] = rows[i]->id;
			if (results != NULL) {
				results[i]->state = jobs[k]->state;
			}
			k++;
		}
	}
	sje__sched_attach_attempts_all(s, jobs, rids, k);
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rids);
	free(rows);
	return k;
}

static void
sched_records_free(Sje__V1__Job **jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sje__v1__job__free_unpacked(jobs[i], NULL);
	}
	free(jobs);
}

void
sje__sched_wait_reply(sje__sched *s, sje__call *call, const char *const *ids,
    size_t n, bool done, const char *field)
{
	Sje__V1__WaitReply reply = SJE__V1__WAIT_REPLY__INIT;
	size_t             missing;
	reply.jobs   = sje__sched_xalloc(sizeof(*reply.jobs) * (n + 1));
	reply.n_jobs = sched_records(
	    s, ids, n, reply.jobs, NULL, field != NULL ? &missing : NULL);
	if (field != NULL && missing != SIZE_MAX) {
		sje__sched_reply_err(s, call, SJE_ENOTFOUND, field,
		    "no job '%s'", ids[missing]);
	} else {
		reply.done = done;
		sje__sched_reply_ok(s, call, &reply.base);
	}
	sched_records_free(reply.jobs, reply.n_jobs);
}

void
sje__sched_submit_reply(sje__sched *s, sje__call *call,
    Sje__V1__SubmitResult **results, size_t n, bool with_jobs, bool done)
{
	Sje__V1__SubmitReply reply = SJE__V1__SUBMIT_REPLY__INIT;
	reply.results              = results;
	reply.n_results            = n;
	if (with_jobs) {
		const char **ids = sje__sched_xalloc(sizeof(*ids) * (n + 1));
		for (size_t i = 0; i < n; i++) {
			ids[i] = results[i]->task_id;
		}
		reply.jobs = sje__sched_xalloc(sizeof(*reply.jobs) * (n + 1));
		reply.n_jobs =
		    sched_records(s, ids, n, reply.jobs, results, NULL);
		reply.done = done;
		free(ids);
	}
	sje__sched_reply_ok(s, call, &reply.base);
	if (with_jobs) {
		sched_records_free(reply.jobs, reply.n_jobs);
	}
}

void
sje__sched_fetch_reply(
    sje__sched *s, sched_hold *h, Sje__V1__Assignment **jobs, size_t n)
{
	Sje__V1__FetchReply reply = SJE__V1__FETCH_REPLY__INIT;
	reply.jobs                = jobs;
	reply.n_jobs              = n;
	reply.accepted            = h->accepted;
	reply.n_accepted          = h->n_accepted;
	sje__sched_reply_ok(s, h->call, &reply.base);
}

void
sje__sched_wait_answer(sje__sched *s, sched_hold *h, bool done)
{
	if (sje__call_method(h->call) != SJE__COORD_SUBMIT ||
	    sje__call_service(h->call) != &sje__v1__coordinator__descriptor) {
		sje__sched_wait_reply(s, h->call, (const char *const *) h->ids,
		    h->n_ids, done, NULL);
		return;
	}
	// A Submit that waited: its results again, each with the state
	// its job is in now (sched_records sets it).
	Sje__V1__SubmitResult *v =
	    sje__sched_xalloc(sizeof(*v) * (h->n_ids + 1));
	Sje__V1__SubmitResult **p =
	    sje__sched_xalloc(sizeof(*p) * (h->n_ids + 1));
	for (size_t i = 0; i < h->n_ids; i++) {
		sje__v1__submit_result__init(&v[i]);
		v[i].task_id = h->ids[i];
		v[i].created = h->created != NULL && h->created[i];
		p[i]         = &v[i];
	}
	sje__sched_submit_reply(s, h->call, p, h->n_ids, true, done);
	free(p);
	free(v);
}

// events_acc collects kept events for a ListEvents reply.
typedef struct events_acc {
	Sje__V1__JobEvent **v;
	size_t              n;
	uint64_t            last;
} events_acc;

static sje_err
events_collect(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
	events_acc        *acc = arg;
	Sje__V1__JobEvent *ev  = sje__v1__job_event__unpack(NULL, len, data);
	acc->last              = seq;
	if (ev != NULL) {
		acc->v[acc->n++] = ev;
	}
	return SJE_OK;
}

// sje__sched_events_reply answers a ListEvents call with the kept events it
// asks for; with none to give it answers only when force is set. Returns
// whether it answered.
bool
sje__sched_events_reply(sje__sched *s, sje__call *call, bool force)
{
	const Sje__V1__ListEventsRequest *req =
	    (const Sje__V1__ListEventsRequest *) sje__call_input(call);
	// sje__sched_list_events refused a limit past SCHED_EVENTS_MAX.
	uint32_t limit = req->limit == 0 ? SCHED_EVENTS_DEFAULT : req->limit;
	if (!force && req->after >= s->event_seq) {
		return false;
	}
	events_acc acc = { .v = sje__sched_xalloc(sizeof(*acc.v) * limit) };
	sje_err    err = sje__store_list_events(
	       s->store, req->after, req->task_id, limit, events_collect, &acc);
	if (err != SJE_OK) {
		sje__sched_fatal("store events", err);
	}
	bool answered = false;
	if (acc.n > 0 || force) {
		Sje__V1__ListEventsReply reply =
		    SJE__V1__LIST_EVENTS_REPLY__INIT;
		reply.events   = acc.v;
		reply.n_events = acc.n;
		reply.next     = acc.n > 0 ? acc.last : req->after;
		sje__sched_reply_ok(s, call, &reply.base);
		answered = true;
	}
	for (size_t i = 0; i < acc.n; i++) {
		sje__v1__job_event__free_unpacked(acc.v[i], NULL);
	}
	free(acc.v);
	return answered;
}
