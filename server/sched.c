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
// high first, then oldest first); delayed jobs in one heap by due time.
//
// Leases: a job leased to a worker carries a lease_id unique across
// restarts (a persisted counter). Reports must name the current lease_id,
// so a report on an expired or moved lease changes nothing. Heartbeats
// extend leases; a lease not extended for lease_s expires and the attempt
// counts as failed ("lost"). After a restart, RUNNING jobs get lease_s from
// the restart to be heard of again.
//
// Threads: everything below the inbox belongs to the scheduler thread.
// s->mtx guards only the inbox and the stopping flag.
#include "sched.h"

#include <sje/client.h>

#include "hmap.h"
#include "job.h"
#include "log.h"
#include "pbjson.h"
#include "util.h"
#include "workflow.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHED_TICK_MS 1000          // lease and worker checks
#define SCHED_MAX_FETCH_JOBS 1000u  // jobs per Fetch reply
#define SCHED_MAX_HOLD_MS 600000u   // longest Fetch or Wait hold
#define SCHED_LIST_DEFAULT 100u
#define SCHED_LIST_MAX 1000u
#define SCHED_MAX_WORKER_FUNCTIONS 1024u
#define SCHED_MAX_ERROR_BYTES 4096u // an attempt's error message, kept
#define SCHED_FORGET_LEASES 3       // forget a silent worker after 3 leases
#define SCHED_HEARTBEAT_MAX_MS 1000u // cancels reach workers this fast
#define SCHED_EVENT_RETENTION 100000u // events kept for catch-up
#define SCHED_EVENTS_DEFAULT 1000u
#define SCHED_EVENTS_MAX 10000u
#define SCHED_HIST_N 12             // histogram bounds (see sched_hist_ms)
#define SJE_MAX_EDGES_PER_CALL 100000u // depends_on entries in one submit
#define SCHED_PURGE_EVERY_MS 10000   // how often finished jobs are purged
#define SCHED_PURGE_BATCH 10000u     // at most this many per round

enum {
	ST_PENDING   = SJE__V1__JOB_STATE__JOB_STATE_PENDING,
	ST_SCHEDULED = SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED,
	ST_QUEUED    = SJE__V1__JOB_STATE__JOB_STATE_QUEUED,
	ST_RUNNING   = SJE__V1__JOB_STATE__JOB_STATE_RUNNING,
	ST_SUCCEEDED = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED,
	ST_FAILED    = SJE__V1__JOB_STATE__JOB_STATE_FAILED,
	ST_CANCELLED = SJE__V1__JOB_STATE__JOB_STATE_CANCELLED,
};

// Method indexes, in the order of the services in the .proto files.
enum {
	M_SUBMIT,
	M_GET_STATUS,
	M_WAIT,
	M_CANCEL,
	M_LIST_JOBS,
	M_WORKERS,
	M_LIST_EVENTS,
	M_STATS,
	M_RUN_WORKFLOW,
};
enum { W_REGISTER, W_FETCH, W_HEARTBEAT, W_COMPLETE, W_FAIL, W_RELEASE };

// Histogram bounds, in milliseconds, for wait and run times.
static const double sched_hist_ms[SCHED_HIST_N] = { 1, 5, 10, 50, 100, 500,
	1000, 5000, 10000, 60000, 300000, 3600000 };

// sched_hist is a latency histogram: counts[i] for <= sched_hist_ms[i],
// counts[SCHED_HIST_N] for longer.
typedef struct sched_hist {
	uint64_t counts[SCHED_HIST_N + 1];
	double   sum_ms;
	uint64_t n;
} sched_hist;

typedef struct sched_job    sched_job;
typedef struct sched_fn     sched_fn;
typedef struct sched_worker sched_worker;
typedef struct sched_hold   sched_hold;

// sched_heap is a binary heap of jobs; each job knows its index in it.
typedef struct sched_heap {
	sched_job **v;
	size_t      n, cap;
	bool        by_time; // order by ready_at_ms, else by priority
} sched_heap;

// sched_job is a job that has not finished. Size matters: one per job in
// the backlog.
struct sched_job {
	int64_t       id;        // store rowid: submit order
	char         *task_id;   // owned; the key in s->jobs
	sched_fn     *fn;
	int           state;     // PENDING .. RUNNING
	int32_t       priority;
	uint32_t      attempt;   // attempts started
	uint32_t      max_attempts;
	uint32_t      timeout_s; // of one attempt
	uint64_t      lease_id;  // current lease when RUNNING
	sje_time_ms   lease_expires_ms; // when RUNNING
	sje_time_ms   ready_at_ms;      // when SCHEDULED
	sje_time_ms   queued_ms; // when it last became QUEUED (wait histogram)
	sje_time_ms   started_ms; // when its current attempt started
	sched_worker *worker;    // lease holder when known, else NULL
	size_t        heap_idx;  // in fn->ready or s->delayed; SIZE_MAX: none
	bool          cancel_requested;
	double        progress_pct; // last reported, to skip unchanged writes
	uint32_t      progress_hash;
	sched_hold  **waiters;   // Wait calls held on this job
	size_t        n_waiters;
	char        **children;  // task_ids of jobs waiting for this one
	uint32_t      n_children, cap_children;
	uint32_t      n_waiting; // parents not finished yet (PENDING)
};

// sched_fn is a function name with its ready queue. Never freed before
// the scheduler, so its name may be borrowed freely.
struct sched_fn {
	char      *name;
	sched_heap ready;
	sched_fn  *next;
	// Counters since the server started, for Stats.
	uint64_t   submitted, succeeded, failed, cancelled, retried;
	uint64_t   upstream_failed;
	sched_hist wait; // ready to started
	sched_hist run;  // started to finished, per attempt
};

struct sched_worker {
	uint64_t      session;
	char         *name;
	sched_fn    **fns;
	size_t        n_fns;
	uint32_t      slots;
	uint32_t      busy;     // leases it holds
	sje_kv       *labels;
	size_t        n_labels;
	sje_time_ms   last_seen_ms;
	int           n_holds;  // Fetch calls held for it
	sched_worker *next;
};

typedef enum hold_kind { HOLD_FETCH, HOLD_WAIT, HOLD_EVENTS } hold_kind;

// sched_hold is a held call: a Fetch waiting for work, a Wait waiting
// for jobs to finish, or a ListEvents waiting for events.
struct sched_hold {
	hold_kind     kind;
	sje__call    *call;
	sje_time_ms   deadline_ms;
	sched_worker *worker;    // FETCH
	uint32_t      max_jobs;  // FETCH
	size_t        remaining; // WAIT: job waits still open
	sched_hold   *prev, *next;
};

// sched_reply is a reply ready to send after the commit.
typedef struct sched_reply {
	sje__call *call;
	int        code;
	char      *message; // NULL when OK
	char      *field;
	uint8_t   *body;
	size_t     len;
} sched_reply;

// sched_event is an event, packed and kept in the store, ready to publish
// after the commit.
typedef struct sched_event {
	char     topic[SJE_MAX_FUNCTION_BYTES + 32];
	uint8_t *data; // packed sje.v1.JobEvent
	size_t   len;
} sched_event;

struct sje__sched {
	const sje_config *cfg;
	sje__store       *store;
	sje__events      *events;
	pthread_t         thread;

	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	sje__call     **inbox;    // (mtx)
	size_t          n_inbox;  // (mtx)
	size_t          cap_inbox; // (mtx)
	bool            stopping; // (mtx)

	// The rest belongs to the scheduler thread.
	sje__hmap     jobs; // task_id -> sched_job, unfinished jobs only
	sched_fn     *fns;
	sched_heap    delayed;
	size_t        n_ready; // jobs in all ready heaps
	sched_worker *workers;
	sched_hold   *holds_head, *holds_tail;
	uint64_t      lease_seq;
	uint64_t      event_seq;
	bool          seq_dirty;
	bool          in_txn;
	sje_time_ms   now_ms;
	sje_time_ms   next_tick_ms;
	uint32_t      lease_ms;
	// Jobs to end UPSTREAM_FAILED: a worklist, so that a long chain
	// cascades in a loop, not in a deep recursion.
	struct cascade {
		char *task_id; // the child
		char *parent;
		int   parent_state;
	}       *cascade;
	size_t   n_cascade, cap_cascade;
	bool     cascading;
	char   **wake;  // recovered PENDING jobs with no parent left to wait
	size_t   n_wake, cap_wake;
	sje_time_ms   started_ms; // of the server, for Stats
	sje_time_ms   next_purge_ms;
	uint64_t      pruned_seq; // events up to this one are forgotten

	sched_reply *out;
	size_t       n_out, cap_out;
	sched_event *evq;
	size_t       n_ev, cap_ev;
};

// ---- growing arrays ----------------------------------------------------

// sched_grow makes room for one more element of size sz in *v.
static bool
sched_grow(void **v, size_t *cap, size_t n, size_t sz)
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

// sched_fatal stops the process: the store and memory may now disagree,
// and only a restart (which rebuilds memory from the store) is safe.
static void
sched_fatal(const char *what, sje_err err)
{
	SJE_ERROR("scheduler: %s: %s; exiting so that a restart recovers "
	          "from the store",
	    what, sje_strerror(err));
	_exit(70);
}

static void *
sched_xalloc(size_t n)
{
	void *p = calloc(1, n);
	if (p == NULL) {
		sched_fatal("allocation", SJE_ENOMEM);
	}
	return p;
}

static char *
sched_xstrdup(const char *s)
{
	char *d = sje__strdup(s != NULL ? s : "");
	if (d == NULL) {
		sched_fatal("allocation", SJE_ENOMEM);
	}
	return d;
}

// ---- heaps -------------------------------------------------------------

static bool
heap_before(const sched_heap *h, const sched_job *a, const sched_job *b)
{
	if (h->by_time) {
		if (a->ready_at_ms != b->ready_at_ms) {
			return a->ready_at_ms < b->ready_at_ms;
		}
	} else if (a->priority != b->priority) {
		return a->priority > b->priority;
	}
	return a->id < b->id;
}

static void
heap_set(sched_heap *h, size_t i, sched_job *j)
{
	h->v[i]     = j;
	j->heap_idx = i;
}

static void
heap_up(sched_heap *h, size_t i)
{
	sched_job *j = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!heap_before(h, j, h->v[p])) {
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
		if (c + 1 < h->n && heap_before(h, h->v[c + 1], h->v[c])) {
			c++;
		}
		if (!heap_before(h, h->v[c], j)) {
			break;
		}
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, j);
}

static void
heap_push(sched_heap *h, sched_job *j)
{
	if (!sched_grow((void **) &h->v, &h->cap, h->n, sizeof(*h->v))) {
		sched_fatal("allocation", SJE_ENOMEM);
	}
	h->v[h->n] = j;
	j->heap_idx = h->n++;
	heap_up(h, j->heap_idx);
}

static void
heap_remove(sched_heap *h, sched_job *j)
{
	size_t i    = j->heap_idx;
	j->heap_idx = SIZE_MAX;
	if (i >= h->n || h->v[i] != j) {
		return;
	}
	sched_job *last = h->v[--h->n];
	if (i < h->n) {
		heap_set(h, i, last);
		heap_up(h, i);
		heap_down(h, last->heap_idx);
	}
}

// ---- functions, workers, jobs ------------------------------------------

static sched_fn *
sched_fn_get(sje__sched *s, const char *name)
{
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		if (strcmp(f->name, name) == 0) {
			return f;
		}
	}
	sched_fn *f = sched_xalloc(sizeof(*f));
	f->name     = sched_xstrdup(name);
	f->next     = s->fns;
	s->fns      = f;
	return f;
}

static sched_worker *
sched_worker_find(sje__sched *s, uint64_t session)
{
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		if (w->session == session) {
			return w;
		}
	}
	return NULL;
}

static void
sched_worker_free(sched_worker *w)
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

static void
sched_job_free(sched_job *j)
{
	for (uint32_t i = 0; i < j->n_children; i++) {
		free(j->children[i]);
	}
	free(j->children);
	free(j->waiters);
	free(j->task_id);
	free(j);
}

// sched_ready puts a QUEUED job on its function's heap.
static void
sched_ready(sje__sched *s, sched_job *j)
{
	j->queued_ms = s->now_ms;
	heap_push(&j->fn->ready, j);
	s->n_ready++;
}

// sched_unqueue takes a job off whichever heap holds it.
static void
sched_unqueue(sje__sched *s, sched_job *j)
{
	if (j->heap_idx == SIZE_MAX) {
		return;
	}
	if (j->state == ST_SCHEDULED) {
		heap_remove(&s->delayed, j);
	} else {
		heap_remove(&j->fn->ready, j);
		s->n_ready--;
	}
}

// sched_release_lease forgets the worker holding j's lease.
static void
sched_release_lease(sched_job *j)
{
	if (j->worker != NULL && j->worker->busy > 0) {
		j->worker->busy--;
	}
	j->worker           = NULL;
	j->lease_expires_ms = 0;
}

// ---- store access (fatal on failure: see the design note) -------------

static void
sched_txn(sje__sched *s)
{
	if (!s->in_txn) {
		sje_err err = sje__store_begin(s->store);
		if (err != SJE_OK) {
			sched_fatal("store begin", err);
		}
		s->in_txn = true;
	}
}

static sje__job_row *
sched_load(sje__sched *s, const sched_job *j)
{
	sje__job_row *row;
	sje_err       err = sje__store_get_job_by_id(s->store, j->id, &row);
	if (err != SJE_OK) {
		sched_fatal("store read", err);
	}
	return row;
}

static void
sched_save(sje__sched *s, const sje__job_row *row)
{
	sched_txn(s);
	sje_err err = sje__store_update_job(s->store, row);
	if (err != SJE_OK) {
		sched_fatal("store update", err);
	}
}

static void
row_set_str(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? sched_xstrdup(value) : NULL;
}

// ---- replies and events --------------------------------------------------

static void
sched_out_push(sje__sched *s, sched_reply r)
{
	if (!sched_grow((void **) &s->out, &s->cap_out, s->n_out,
	        sizeof(*s->out))) {
		sched_fatal("allocation", SJE_ENOMEM);
	}
	s->out[s->n_out++] = r;
}

// sched_reply_ok packs msg now (it may borrow anything) and sends it after
// the round's commit.
static void
sched_reply_ok(sje__sched *s, sje__call *call, const ProtobufCMessage *msg)
{
	size_t   n    = protobuf_c_message_get_packed_size(msg);
	uint8_t *body = sched_xalloc(n > 0 ? n : 1);
	protobuf_c_message_pack(msg, body);
	sched_out_push(s, (sched_reply) { .call = call, .code = 0,
	                      .body = body, .len = n });
}

// sched_reply_err queues an error reply: err's status, field, message.
static void
sched_reply_err(sje__sched *s, sje__call *call, sje_err err,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
sched_reply_err(sje__sched *s, sje__call *call, sje_err err,
    const char *field, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sched_out_push(s, (sched_reply) { .call = call,
	                      .code = sje_err_to_status(err),
	                      .message = sched_xstrdup(msg),
	                      .field = field != NULL ? sched_xstrdup(field)
	                                             : NULL });
}

// sched_event_full makes the event of j entering (or, for progress and
// cancel, being in) its current state: numbered, packed, kept in the store
// within the round's transaction, and queued for publishing after commit.
static void
sched_event_full(sje__sched *s, const sched_job *j, const char *worker,
    const char *error_type, const char *error_message,
    const Sje__V1__Progress *progress, bool cancel_requested)
{
	if (!sched_grow((void **) &s->evq, &s->cap_ev, s->n_ev,
	        sizeof(*s->evq))) {
		sched_fatal("allocation", SJE_ENOMEM);
	}
	Sje__V1__JobEvent  ev = SJE__V1__JOB_EVENT__INIT;
	Sje__V1__Timestamp at = SJE__V1__TIMESTAMP__INIT;
	Sje__V1__JobError  er = SJE__V1__JOB_ERROR__INIT;
	at.unix_ms            = s->now_ms;
	ev.seq                = ++s->event_seq;
	ev.task_id            = j->task_id;
	ev.function           = j->fn->name;
	ev.state              = j->state;
	ev.attempt            = j->attempt;
	ev.worker             = (char *) (worker != NULL ? worker : "");
	ev.at                 = &at;
	ev.progress           = (Sje__V1__Progress *) progress;
	ev.cancel_requested   = cancel_requested;
	if (error_type != NULL || error_message != NULL) {
		er.type    = (char *) (error_type != NULL ? error_type : "");
		er.message = (char *) (error_message != NULL ? error_message : "");
		ev.error   = &er;
	}
	sched_event *e = &s->evq[s->n_ev];
	sje__events_topic(&ev, e->topic, sizeof(e->topic));
	e->len  = sje__v1__job_event__get_packed_size(&ev);
	e->data = sched_xalloc(e->len + 1);
	sje__v1__job_event__pack(&ev, e->data);
	sched_txn(s);
	sje_err err = sje__store_add_event(
	    s->store, ev.seq, j->task_id, e->data, e->len);
	if (err != SJE_OK) {
		sched_fatal("store event", err);
	}
	s->n_ev++;
	s->seq_dirty = true;
}

// sched_event_push queues the event of j entering its current state.
static void
sched_event_push(sje__sched *s, const sched_job *j, const char *worker,
    const char *error_type, const char *error_message)
{
	sched_event_full(
	    s, j, worker, error_type, error_message, NULL, false);
}

// ---- state changes ----------------------------------------------------

// sched_count updates fn's counters for a job entering state.
static void
sched_count(sched_fn *f, int state)
{
	switch (state) {
	case ST_SUCCEEDED:
		f->succeeded++;
		break;
	case ST_FAILED:
		f->failed++;
		break;
	case ST_CANCELLED:
		f->cancelled++;
		break;
	case SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED:
		f->upstream_failed++;
		break;
	default:
		break;
	}
}

// sched_hist_add records one duration.
static void
sched_hist_add(sched_hist *h, sje_time_ms ms)
{
	double v = ms < 0 ? 0 : (double) ms;
	int    i = 0;
	while (i < SCHED_HIST_N && v > sched_hist_ms[i]) {
		i++;
	}
	h->counts[i]++;
	h->sum_ms += v;
	h->n++;
}

// sched_set_state moves j (and its row) to state, logging a bug if the
// state machine does not allow it.
static void
sched_set_state(sched_job *j, sje__job_row *row, int state)
{
	if (!sje__job_transition_allowed(j->state, state)) {
		SJE_LOG_JOB(SJE_LOG_ERROR, j->task_id,
		    "bug: transition %s -> %s", sje_job_state_name(j->state),
		    sje_job_state_name(state));
	}
	j->state   = state;
	row->state = state;
	sched_count(j->fn, state);
}

// sched_attempt_end records how j's current attempt ended.
static void
sched_attempt_end(sje__sched *s, sched_job *j, const sje__job_row *row,
    int outcome, const char *error_type, const char *error_message)
{
	sje__attempt_row a = {
		.number        = j->attempt,
		.worker        = row->worker,
		.started_ms    = j->started_ms,
		.finished_ms   = s->now_ms,
		.outcome       = outcome,
		.error_type    = (char *) error_type,
		.error_message = (char *) error_message,
	};
	sched_txn(s);
	sje_err err = sje__store_put_attempt(s->store, j->id, &a);
	if (err != SJE_OK) {
		sched_fatal("store attempt", err);
	}
	sched_hist_add(&j->fn->run, s->now_ms - j->started_ms);
}

static void sched_hold_job_done(sje__sched *s, sched_hold *h);

// sched_wake_child moves a PENDING job whose last parent succeeded to
// QUEUED, or SCHEDULED while its delay runs.
static void
sched_wake_child(sje__sched *s, sched_job *c)
{
	sje__job_row *row = sched_load(s, c);
	if (row->ready_at_ms > s->now_ms) {
		sched_set_state(c, row, ST_SCHEDULED);
		c->ready_at_ms = row->ready_at_ms;
		heap_push(&s->delayed, c);
	} else {
		sched_set_state(c, row, ST_QUEUED);
		row->ready_at_ms = 0;
		sched_ready(s, c);
	}
	sched_save(s, row);
	sched_event_push(s, c, NULL, NULL, NULL);
	sje__job_row_free(row);
}

// sched_children_done tells j's children that j finished: after a success
// each loses one parent to wait for; after any other end each is queued to
// end UPSTREAM_FAILED. Work is proportional to j's children.
static void
sched_children_done(sje__sched *s, sched_job *j)
{
	for (uint32_t i = 0; i < j->n_children; i++) {
		sched_job *c = sje__hmap_get(&s->jobs, j->children[i]);
		if (c == NULL || c->state != ST_PENDING) {
			continue; // finished already (another parent failed)
		}
		if (j->state == ST_SUCCEEDED) {
			if (c->n_waiting > 0 && --c->n_waiting == 0) {
				sched_wake_child(s, c);
			}
			continue;
		}
		if (!sched_grow((void **) &s->cascade, &s->cap_cascade,
		        s->n_cascade, sizeof(*s->cascade))) {
			sched_fatal("allocation", SJE_ENOMEM);
		}
		s->cascade[s->n_cascade++] = (struct cascade) {
			.task_id      = sched_xstrdup(c->task_id),
			.parent       = sched_xstrdup(j->task_id),
			.parent_state = j->state,
		};
	}
}

static void sched_finish(sje__sched *s, sched_job *j, sje__job_row *row);

// sched_cascade ends the queued children UPSTREAM_FAILED, and theirs in
// turn, iteratively.
static void
sched_cascade(sje__sched *s)
{
	if (s->cascading) {
		return; // the outer call's loop takes what was queued
	}
	s->cascading = true;
	while (s->n_cascade > 0) {
		struct cascade e = s->cascade[--s->n_cascade];
		sched_job     *c = sje__hmap_get(&s->jobs, e.task_id);
		if (c != NULL && c->state == ST_PENDING) {
			char why[300];
			sje__snprintf(why, sizeof(why), "parent '%s' ended %s",
			    e.parent, sje_job_state_name(e.parent_state));
			sje__job_row *row = sched_load(s, c);
			row_set_str(&row->error_type, "upstream_failed");
			row_set_str(&row->error_message, why);
			sched_set_state(c, row,
			    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);
			sched_finish(s, c, row);
			sje__job_row_free(row);
		}
		free(e.task_id);
		free(e.parent);
	}
	s->cascading = false;
}

// sched_finish ends j: its row (already in its terminal state) is saved,
// the event queued, waiters told, and j forgotten.
static void
sched_finish(sje__sched *s, sched_job *j, sje__job_row *row)
{
	row->finished_ms      = s->now_ms;
	row->lease_expires_ms = 0;
	sched_save(s, row);
	sched_event_push(
	    s, j, row->worker, row->error_type, row->error_message);
	sched_unqueue(s, j);
	sched_release_lease(j);
	sje__hmap_del(&s->jobs, j->task_id);
	for (size_t i = 0; i < j->n_waiters; i++) {
		sched_hold_job_done(s, j->waiters[i]);
	}
	SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id, "%s after %u attempt(s)",
	    sje_job_state_name(j->state), j->attempt);
	sched_children_done(s, j);
	sched_job_free(j);
	sched_cascade(s);
}

// sched_retry_delay_ms is the back-off before attempt number attempt + 1:
// exponential with full jitter (a random delay up to the exponential
// ceiling), or the initial delay when the policy says "fixed".
static uint32_t
sched_retry_delay_ms(sje__sched *s, const sje__job_row *row, uint32_t attempt)
{
	const sje_retry_cfg    *def = &s->cfg->tasks.retry;
	const sje_function_cfg *fc  = sje_config_function(s->cfg, row->function);
	if (fc != NULL && fc->has_retry) {
		def = &fc->retry;
	}
	uint32_t    initial = def->initial_delay_ms;
	uint32_t    ceiling = def->max_delay_ms;
	const char *backoff = def->backoff;

	Sje__V1__JobSpec *spec =
	    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
	if (spec != NULL && spec->retry != NULL) {
		if (spec->retry->initial_delay_ms != 0) {
			initial = spec->retry->initial_delay_ms;
		}
		if (spec->retry->max_delay_ms != 0) {
			ceiling = spec->retry->max_delay_ms;
		}
		if (spec->retry->backoff != NULL &&
		    spec->retry->backoff[0] != '\0') {
			backoff = strcmp(spec->retry->backoff, "fixed") == 0
			    ? "fixed"
			    : "exponential";
		}
	}
	bool fixed = backoff != NULL && strcmp(backoff, "fixed") == 0;
	if (spec != NULL) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
	if (fixed) {
		return initial;
	}
	uint64_t d = initial;
	for (uint32_t i = 1; i < attempt && d < ceiling; i++) {
		d *= 2;
	}
	if (d > ceiling) {
		d = ceiling;
	}
	return d == 0 ? 0 : (uint32_t) (sje__random_u64() % (d + 1));
}

// sched_attempt_failed ends j's current attempt (RUNNING) with an error:
// cancelled when a cancel was asked for, else again after the back-off
// while attempts remain, else FAILED. row is j's, loaded by the caller.
static void
sched_attempt_failed(sje__sched *s, sched_job *j, sje__job_row *row,
    const char *type, const char *message)
{
	row_set_str(&row->error_type, type);
	row_set_str(&row->error_message, message);
	sched_release_lease(j);
	row->lease_expires_ms = 0;
	SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "attempt %u failed: %s: %s",
	    j->attempt, type, message);
	sched_attempt_end(s, j, row,
	    j->cancel_requested ? ST_CANCELLED : ST_FAILED, type, message);
	if (j->cancel_requested) {
		sched_set_state(j, row, ST_CANCELLED);
		sched_finish(s, j, row);
		return;
	}
	if (j->attempt >= j->max_attempts) {
		sched_set_state(j, row, ST_FAILED);
		sched_finish(s, j, row);
		return;
	}
	uint32_t delay = sched_retry_delay_ms(s, row, j->attempt);
	j->fn->retried++;
	if (delay == 0) {
		sched_set_state(j, row, ST_QUEUED);
		sched_ready(s, j);
	} else {
		sched_set_state(j, row, ST_SCHEDULED);
		j->ready_at_ms   = s->now_ms + delay;
		row->ready_at_ms = j->ready_at_ms;
		heap_push(&s->delayed, j);
	}
	sched_save(s, row);
	sched_event_push(s, j, row->worker, type, message);
}

// ---- held calls ----------------------------------------------------------

static void sched_attach_attempts(sje__sched *s, Sje__V1__Job *job, int64_t id);
static bool sched_events_reply(sje__sched *s, sje__call *call, bool force);

static sched_hold *
sched_hold_add(sje__sched *s, hold_kind kind, sje__call *call,
    uint32_t wait_ms)
{
	sched_hold *h  = sched_xalloc(sizeof(*h));
	h->kind        = kind;
	h->call        = call;
	h->deadline_ms = s->now_ms + wait_ms;
	h->prev        = s->holds_tail;
	if (s->holds_tail != NULL) {
		s->holds_tail->next = h;
	} else {
		s->holds_head = h;
	}
	s->holds_tail = h;
	return h;
}

static void
sched_hold_remove(sje__sched *s, sched_hold *h)
{
	if (h->prev != NULL) {
		h->prev->next = h->next;
	} else {
		s->holds_head = h->next;
	}
	if (h->next != NULL) {
		h->next->prev = h->prev;
	} else {
		s->holds_tail = h->prev;
	}
	if (h->kind == HOLD_FETCH && h->worker != NULL) {
		h->worker->n_holds--;
	}
	free(h);
}

// sched_wait_reply answers a Wait call with the current record of every
// job it names.
static void
sched_wait_reply(sje__sched *s, sje__call *call, bool done)
{
	const Sje__V1__WaitRequest *req =
	    (const Sje__V1__WaitRequest *) sje__call_input(call);
	Sje__V1__WaitReply reply = SJE__V1__WAIT_REPLY__INIT;
	reply.jobs = sched_xalloc(sizeof(*reply.jobs) * (req->n_task_ids + 1));
	for (size_t i = 0; i < req->n_task_ids; i++) {
		sje__job_row *row;
		if (sje__store_get_job(s->store, req->task_ids[i], &row) !=
		    SJE_OK) {
			continue;
		}
		sje_err err = sje__job_row_to_pb(row, &reply.jobs[reply.n_jobs]);
		if (err == SJE_OK) {
			sched_attach_attempts(s, reply.jobs[reply.n_jobs], row->id);
			reply.n_jobs++;
		}
		sje__job_row_free(row);
	}
	reply.done = done;
	sched_reply_ok(s, call, &reply.base);
	for (size_t i = 0; i < reply.n_jobs; i++) {
		sje__v1__job__free_unpacked(reply.jobs[i], NULL);
	}
	free(reply.jobs);
}

// sched_hold_detach takes a Wait hold off the jobs it waits on.
static void
sched_hold_detach(sje__sched *s, sched_hold *h)
{
	const Sje__V1__WaitRequest *req =
	    (const Sje__V1__WaitRequest *) sje__call_input(h->call);
	for (size_t i = 0; i < req->n_task_ids; i++) {
		sched_job *j = sje__hmap_get(&s->jobs, req->task_ids[i]);
		if (j == NULL) {
			continue;
		}
		for (size_t k = 0; k < j->n_waiters; k++) {
			if (j->waiters[k] == h) {
				j->waiters[k] = j->waiters[--j->n_waiters];
				break;
			}
		}
	}
}

// sched_hold_job_done tells a Wait hold that one of its jobs finished.
static void
sched_hold_job_done(sje__sched *s, sched_hold *h)
{
	if (h->remaining > 0 && --h->remaining == 0) {
		sched_hold_detach(s, h);
		sched_wait_reply(s, h->call, true);
		sched_hold_remove(s, h);
	}
}

// ---- Coordinator handlers --------------------------------------------

// sched_defaults works out the effective timeout and attempts of spec.
static void
sched_defaults(sje__sched *s, const Sje__V1__JobSpec *spec,
    uint32_t *timeout_s, uint32_t *max_attempts)
{
	const sje_function_cfg *fc = sje_config_function(s->cfg, spec->function);
	*timeout_s = spec->timeout_s != 0   ? spec->timeout_s
	    : fc != NULL && fc->timeout_s != 0 ? fc->timeout_s
	                                       : s->cfg->tasks.timeout_s;
	*max_attempts = spec->retry != NULL && spec->retry->max_attempts != 0
	    ? spec->retry->max_attempts
	    : fc != NULL && fc->has_retry ? fc->retry.max_attempts
	                                  : s->cfg->tasks.retry.max_attempts;
	if (*max_attempts == 0) {
		*max_attempts = 1;
	}
}

// submit_item is the scratch state of one job of a Submit.
typedef struct submit_item {
	const Sje__V1__JobSpec *spec;
	char                   *task_id; // owned until the job takes it
	uint8_t                *packed;  // the spec as it will be stored
	size_t                  len;
	bool                    exists;  // stored before, with this spec
	int                     state;   // existing: its state; new: planned
	size_t                 *batch_parents; // new parents in this batch
	size_t                  n_batch_parents;
	size_t                  n_children_in_batch; // for the cycle check
	const char             *failed_parent; // why UPSTREAM_FAILED
	int                     failed_parent_state;
	bool                    waits;   // has a parent not yet finished
} submit_item;

static void
submit_items_free(submit_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].task_id);
		free(items[i].packed);
		free(items[i].batch_parents);
	}
	free(items);
}

// submit_fail queues an INVALID_ARGUMENT-like reply naming
// "<prefix>[i].<field>".
static void
submit_fail(sje__sched *s, sje__call *call, sje_err err, const char *prefix,
    size_t i, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void
submit_fail(sje__sched *s, sje__call *call, sje_err err, const char *prefix,
    size_t i, const char *field, const char *fmt, ...)
{
	char    where[160], msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sje__snprintf(where, sizeof(where), "%s[%zu].%s", prefix, i, field);
	sched_reply_err(s, call, err, where, "%s", msg);
}

// submit_check validates every spec, names the generated task_ids and
// looks each one up. On failure it queues the error reply and returns
// false; nothing was written.
static bool
submit_check(sje__sched *s, sje__call *call, const char *prefix,
    submit_item *items, size_t n, sje__hmap *seen)
{
	char   field[96], msg[256];
	size_t edges = 0;
	for (size_t i = 0; i < n; i++) {
		const Sje__V1__JobSpec *spec = items[i].spec;
		if (sje__job_spec_check(spec, field, sizeof(field), msg,
		        sizeof(msg)) != SJE_OK) {
			submit_fail(s, call, SJE_EINVAL, prefix, i, field, "%s",
			    msg);
			return false;
		}
		if ((edges += spec->n_depends_on) > SJE_MAX_EDGES_PER_CALL) {
			submit_fail(s, call, SJE_ELIMIT, prefix, i, "depends_on",
			    "at most %u dependencies in one request",
			    SJE_MAX_EDGES_PER_CALL);
			return false;
		}
		if (spec->task_id != NULL && spec->task_id[0] != '\0') {
			items[i].task_id = sched_xstrdup(spec->task_id);
		} else {
			char id[64];
			sje__gen_id("j", id, sizeof(id));
			items[i].task_id = sched_xstrdup(id);
		}
		if (sje__hmap_get(seen, items[i].task_id) != NULL) {
			submit_fail(s, call, SJE_EINVAL, prefix, i, "task_id",
			    "task_id '%s' appears twice in the request",
			    items[i].task_id);
			return false;
		}
		if (sje__hmap_put(seen, items[i].task_id, &items[i]) != SJE_OK) {
			sched_fatal("allocation", SJE_ENOMEM);
		}
		Sje__V1__JobSpec stored = *spec;
		stored.task_id          = items[i].task_id;
		items[i].len    = sje__v1__job_spec__get_packed_size(&stored);
		items[i].packed = sched_xalloc(items[i].len + 1);
		sje__v1__job_spec__pack(&stored, items[i].packed);

		sje__job_row *row;
		sje_err err = sje__store_get_job(s->store, items[i].task_id, &row);
		if (err == SJE_ENOTFOUND) {
			continue;
		}
		if (err != SJE_OK) {
			sched_fatal("store read", err);
		}
		bool same = row->spec_len == items[i].len &&
		    memcmp(row->spec, items[i].packed, items[i].len) == 0;
		items[i].exists = true;
		items[i].state  = row->state;
		sje__job_row_free(row);
		if (!same) {
			submit_fail(s, call, SJE_EEXIST, prefix, i, "task_id",
			    "task_id '%s' exists with another spec",
			    items[i].task_id);
			return false;
		}
	}
	return true;
}

// submit_resolve finds every new job's parents: in the batch, unfinished,
// or finished (then SUCCEEDED is no wait, and any other end means the job
// starts UPSTREAM_FAILED). An unknown parent refuses the whole request.
static bool
submit_resolve(sje__sched *s, sje__call *call, const char *prefix,
    submit_item *items, size_t n, sje__hmap *seen)
{
	for (size_t i = 0; i < n; i++) {
		submit_item *it = &items[i];
		if (it->exists || it->spec->n_depends_on == 0) {
			continue;
		}
		it->batch_parents = sched_xalloc(
		    sizeof(size_t) * it->spec->n_depends_on);
		for (size_t k = 0; k < it->spec->n_depends_on; k++) {
			const char  *p  = it->spec->depends_on[k];
			submit_item *pi = sje__hmap_get(seen, p);
			if (pi != NULL && !pi->exists) {
				it->batch_parents[it->n_batch_parents++] =
				    (size_t) (pi - items);
				pi->n_children_in_batch++;
				continue;
			}
			if (sje__hmap_get(&s->jobs, p) != NULL) {
				it->waits = true;
				continue;
			}
			sje__job_row *row;
			sje_err       err = sje__store_get_job(s->store, p, &row);
			if (err == SJE_ENOTFOUND) {
				char f[48];
				sje__snprintf(f, sizeof(f), "depends_on[%zu]", k);
				submit_fail(s, call, SJE_EINVAL, prefix, i, f,
				    "unknown parent '%s'", p);
				return false;
			}
			if (err != SJE_OK) {
				sched_fatal("store read", err);
			}
			if (row->state != ST_SUCCEEDED &&
			    it->failed_parent == NULL) {
				it->failed_parent       = it->spec->depends_on[k];
				it->failed_parent_state = row->state;
			}
			sje__job_row_free(row);
		}
	}
	return true;
}

// submit_plan orders the new jobs so that parents come before children
// (refusing a cycle, which it names) and plans each one's first state.
static bool
submit_plan(sje__sched *s, sje__call *call, const char *prefix,
    submit_item *items, size_t n)
{
	// Kahn's algorithm over the edges inside the batch.
	size_t *order = sched_xalloc(sizeof(size_t) * (n + 1));
	size_t *left  = sched_xalloc(sizeof(size_t) * (n + 1));
	size_t  head = 0, tail = 0, n_new = 0;
	for (size_t i = 0; i < n; i++) {
		left[i] = items[i].exists ? 0 : items[i].n_batch_parents;
		if (!items[i].exists) {
			n_new++;
			if (left[i] == 0) {
				order[tail++] = i;
			}
		}
	}
	// Children of each job, to walk forward: built from parent lists.
	size_t *first = sched_xalloc(sizeof(size_t) * (n + 1));
	size_t  n_edges = 0;
	for (size_t i = 0; i < n; i++) {
		first[i] = n_edges;
		n_edges += items[i].n_children_in_batch;
	}
	first[n]       = n_edges;
	size_t *child  = sched_xalloc(sizeof(size_t) * (n_edges + 1));
	size_t *filled = sched_xalloc(sizeof(size_t) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < items[i].n_batch_parents; k++) {
			size_t p = items[i].batch_parents[k];
			child[first[p] + filled[p]++] = i;
		}
	}
	while (head < tail) {
		size_t v = order[head++];
		for (size_t e = first[v]; e < first[v + 1]; e++) {
			if (--left[child[e]] == 0) {
				order[tail++] = child[e];
			}
		}
	}
	bool ok = tail == n_new;
	if (!ok) {
		// Every job left has a parent left: walk parents until one
		// repeats, then name that cycle.
		size_t v = 0;
		while (items[v].exists || left[v] == 0) {
			v++;
		}
		size_t *mark = filled; // reuse: step at which v was visited
		memset(mark, 0, sizeof(size_t) * (n + 1));
		size_t step = 1;
		while (mark[v] == 0) {
			mark[v] = step++;
			for (size_t k = 0; k < items[v].n_batch_parents; k++) {
				size_t p = items[v].batch_parents[k];
				if (left[p] > 0) {
					v = p;
					break;
				}
			}
		}
		char   path[400] = "";
		size_t u = v, len = 0;
		do {
			len += (size_t) snprintf(path + len,
			    len < sizeof(path) ? sizeof(path) - len : 0,
			    "'%s' <- ", items[u].task_id);
			for (size_t k = 0; k < items[u].n_batch_parents; k++) {
				size_t p = items[u].batch_parents[k];
				if (left[p] > 0 && mark[p] != 0) {
					u = p;
					break;
				}
			}
		} while (u != v && len < sizeof(path));
		submit_fail(s, call, SJE_EINVAL, prefix, v, "depends_on",
		    "dependency cycle: %s'%s'", path, items[v].task_id);
	} else {
		for (size_t o = 0; o < tail; o++) {
			submit_item *it = &items[order[o]];
			for (size_t k = 0; k < it->n_batch_parents &&
			     it->failed_parent == NULL; k++) {
				submit_item *p = &items[it->batch_parents[k]];
				if (p->state == SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
					it->failed_parent = p->task_id;
					it->failed_parent_state = p->state;
				}
			}
			if (it->failed_parent != NULL) {
				it->state =
				    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED;
			} else if (it->waits || it->n_batch_parents > 0) {
				it->state = ST_PENDING;
			} else {
				it->state = it->spec->delay_s > 0 ? ST_SCHEDULED
				                                  : ST_QUEUED;
			}
		}
	}
	free(filled);
	free(child);
	free(first);
	free(left);
	free(order);
	return ok;
}

// sched_link makes child wait for parent (both unfinished).
static void
sched_link(sched_job *parent, sched_job *child)
{
	if (parent->n_children == parent->cap_children) {
		uint32_t nc = parent->cap_children != 0 ? parent->cap_children * 2
		                                        : 2;
		char   **nv = realloc(parent->children, sizeof(*nv) * nc);
		if (nv == NULL) {
			sched_fatal("allocation", SJE_ENOMEM);
		}
		parent->children     = nv;
		parent->cap_children = nc;
	}
	parent->children[parent->n_children++] = sched_xstrdup(child->task_id);
	child->n_waiting++;
}

// submit_insert stores one new job in its planned state and, unless it
// starts finished, keeps it in memory.
static void
submit_insert(sje__sched *s, submit_item *it)
{
	const Sje__V1__JobSpec *spec = it->spec;
	sje__job_row            row  = { 0 };
	char                    why[300];
	row.task_id    = it->task_id;
	row.function   = spec->function;
	row.spec       = it->packed;
	row.spec_len   = it->len;
	row.priority   = spec->priority;
	row.created_ms = s->now_ms;
	row.state      = it->state;
	sched_defaults(s, spec, &row.timeout_s, &row.max_attempts);
	if (spec->delay_s > 0) {
		row.ready_at_ms = s->now_ms + (sje_time_ms) spec->delay_s * 1000;
	}
	bool finished = it->state == SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED;
	if (finished) {
		sje__snprintf(why, sizeof(why), "parent '%s' ended %s",
		    it->failed_parent,
		    sje_job_state_name(it->failed_parent_state));
		row.error_type    = "upstream_failed";
		row.error_message = why;
		row.finished_ms   = s->now_ms;
	}
	sched_txn(s);
	int64_t id;
	sje_err err = sje__store_insert_job(s->store, &row, &id);
	if (err != SJE_OK) {
		sched_fatal("store insert", err);
	}

	sched_fn *fn = sched_fn_get(s, spec->function);
	fn->submitted++;
	if (finished) {
		// Born finished: an event, a count, nothing kept in memory.
		sched_job tmp = { .id = id, .task_id = it->task_id, .fn = fn,
			.state = row.state, .heap_idx = SIZE_MAX };
		sched_count(fn, tmp.state);
		sched_event_push(s, &tmp, NULL, row.error_type, row.error_message);
		SJE_LOG_JOB(SJE_LOG_DEBUG, tmp.task_id, "submitted: %s", why);
		return;
	}
	sched_job *j    = sched_xalloc(sizeof(*j));
	j->id           = id;
	j->task_id      = sched_xstrdup(it->task_id);
	j->fn           = fn;
	j->state        = row.state;
	j->priority     = row.priority;
	j->max_attempts = row.max_attempts;
	j->timeout_s    = row.timeout_s;
	j->ready_at_ms  = row.ready_at_ms;
	j->heap_idx     = SIZE_MAX;
	if (sje__hmap_put(&s->jobs, j->task_id, j) != SJE_OK) {
		sched_fatal("allocation", SJE_ENOMEM);
	}
	if (j->state == ST_SCHEDULED) {
		heap_push(&s->delayed, j);
	} else if (j->state == ST_QUEUED) {
		sched_ready(s, j);
	}
	sched_event_push(s, j, NULL, NULL, NULL);
	SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id, "submitted: %s, %s",
	    spec->function, sje_job_state_name(j->state));
}

// sched_submit_specs submits specs[0..n) atomically: every one is checked,
// its parents found, cycles refused, and then all are stored, or none (the
// error reply, naming "<prefix>[i].<field>", is then queued). It returns
// the scratch items (caller frees them with submit_items_free once its
// reply is packed) and sets *ok; on success res[i] holds each job's
// task_id (borrowed from the items) and state.
static submit_item *
sched_submit_specs(sje__sched *s, sje__call *call, const char *prefix,
    const Sje__V1__JobSpec *const *specs, size_t n,
    Sje__V1__SubmitResult *res, bool *ok)
{
	submit_item *items = sched_xalloc(sizeof(*items) * (n + 1));
	sje__hmap    seen;
	sje__hmap_init(&seen);
	for (size_t i = 0; i < n; i++) {
		items[i].spec = specs[i];
	}
	*ok = submit_check(s, call, prefix, items, n, &seen) &&
	    submit_resolve(s, call, prefix, items, n, &seen) &&
	    submit_plan(s, call, prefix, items, n);
	sje__hmap_fini(&seen);
	if (!*ok) {
		return items;
	}
	for (size_t i = 0; i < n; i++) {
		if (!items[i].exists) {
			submit_insert(s, &items[i]);
		}
	}
	// Link every new waiting job to its unfinished parents, existing or
	// new (all in memory by now).
	for (size_t i = 0; i < n; i++) {
		sched_job *j = items[i].exists
		    ? NULL
		    : sje__hmap_get(&s->jobs, items[i].task_id);
		if (j == NULL || j->state != ST_PENDING) {
			continue;
		}
		for (size_t k = 0; k < specs[i]->n_depends_on; k++) {
			sched_job *p = sje__hmap_get(&s->jobs, specs[i]->depends_on[k]);
			if (p != NULL) {
				sched_link(p, j);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		sje__v1__submit_result__init(&res[i]);
		res[i].task_id = items[i].task_id;
		res[i].state   = items[i].state;
		res[i].created = !items[i].exists;
	}
	return items;
}

static void
sched_submit(sje__sched *s, sje__call *call)
{
	const Sje__V1__SubmitRequest *req =
	    (const Sje__V1__SubmitRequest *) sje__call_input(call);
	if (req->n_jobs == 0) {
		sched_reply_err(s, call, SJE_EINVAL, "jobs",
		    "at least one job is required");
		return;
	}
	if (req->n_jobs > SJE_MAX_JOBS_PER_CALL) {
		sched_reply_err(s, call, SJE_ELIMIT, "jobs",
		    "at most %u jobs per submit", SJE_MAX_JOBS_PER_CALL);
		return;
	}
	Sje__V1__SubmitResult *res = sched_xalloc(sizeof(*res) * req->n_jobs);
	bool                   ok;
	submit_item *items = sched_submit_specs(s, call, "jobs",
	    (const Sje__V1__JobSpec *const *) req->jobs, req->n_jobs, res, &ok);
	if (ok) {
		Sje__V1__SubmitResult **resp =
		    sched_xalloc(sizeof(*resp) * req->n_jobs);
		for (size_t i = 0; i < req->n_jobs; i++) {
			resp[i] = &res[i];
		}
		Sje__V1__SubmitReply reply = SJE__V1__SUBMIT_REPLY__INIT;
		reply.results              = resp;
		reply.n_results            = req->n_jobs;
		sched_reply_ok(s, call, &reply.base);
		free(resp);
	}
	submit_items_free(items, req->n_jobs);
	free(res);
}

// sched_check_id refuses a missing or malformed task_id.
static bool
sched_check_id(sje__sched *s, sje__call *call, const char *id,
    const char *field)
{
	if (id == NULL || id[0] == '\0') {
		sched_reply_err(s, call, SJE_EINVAL, field, "%s is required",
		    field);
		return false;
	}
	if (!sje__job_id_valid(id)) {
		sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s must be 1 to %u characters of A-Z a-z 0-9 _ . : -",
		    field, SJE_MAX_ID_BYTES);
		return false;
	}
	return true;
}

static void
sched_get_status(sje__sched *s, sje__call *call)
{
	const Sje__V1__GetStatusRequest *req =
	    (const Sje__V1__GetStatusRequest *) sje__call_input(call);
	if (!sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	sje__job_row *row;
	sje_err       err = sje__store_get_job(s->store, req->task_id, &row);
	if (err == SJE_ENOTFOUND) {
		sched_reply_err(s, call, SJE_ENOTFOUND, "task_id",
		    "no job '%s'", req->task_id);
		return;
	}
	if (err != SJE_OK) {
		sched_fatal("store read", err);
	}
	Sje__V1__Job *job;
	err = sje__job_row_to_pb(row, &job);
	if (err != SJE_OK) {
		sje__job_row_free(row);
		sched_reply_err(s, call, SJE_EINTERNAL, NULL,
		    "cannot read job '%s'", req->task_id);
		return;
	}
	sched_attach_attempts(s, job, row->id);
	sje__job_row_free(row);
	sched_reply_ok(s, call, &job->base);
	sje__v1__job__free_unpacked(job, NULL);
}

static void
sched_wait(sje__sched *s, sje__call *call)
{
	const Sje__V1__WaitRequest *req =
	    (const Sje__V1__WaitRequest *) sje__call_input(call);
	if (req->n_task_ids == 0) {
		sched_reply_err(s, call, SJE_EINVAL, "task_ids",
		    "at least one task_id is required");
		return;
	}
	if (req->n_task_ids > SJE_MAX_JOBS_PER_CALL) {
		sched_reply_err(s, call, SJE_ELIMIT, "task_ids",
		    "at most %u task_ids per wait", SJE_MAX_JOBS_PER_CALL);
		return;
	}
	size_t open = 0;
	for (size_t i = 0; i < req->n_task_ids; i++) {
		const char *id = req->task_ids[i];
		if (!sched_check_id(s, call, id, "task_ids")) {
			return;
		}
		if (sje__hmap_get(&s->jobs, id) != NULL) {
			open++;
			continue;
		}
		sje__job_row *row;
		sje_err       err = sje__store_get_job(s->store, id, &row);
		if (err == SJE_ENOTFOUND) {
			sched_reply_err(s, call, SJE_ENOTFOUND, "task_ids",
			    "no job '%s'", id);
			return;
		}
		if (err != SJE_OK) {
			sched_fatal("store read", err);
		}
		sje__job_row_free(row);
	}
	if (open == 0 || req->timeout_ms == 0) {
		sched_wait_reply(s, call, open == 0);
		return;
	}
	uint32_t wait_ms = req->timeout_ms < SCHED_MAX_HOLD_MS
	    ? req->timeout_ms
	    : SCHED_MAX_HOLD_MS;
	sched_hold *h = sched_hold_add(s, HOLD_WAIT, call, wait_ms);
	h->remaining  = open;
	for (size_t i = 0; i < req->n_task_ids; i++) {
		sched_job *j = sje__hmap_get(&s->jobs, req->task_ids[i]);
		if (j == NULL) {
			continue;
		}
		sched_hold **nw = realloc(
		    j->waiters, sizeof(*nw) * (j->n_waiters + 1));
		if (nw == NULL) {
			sched_fatal("allocation", SJE_ENOMEM);
		}
		j->waiters                 = nw;
		j->waiters[j->n_waiters++] = h;
	}
}

static void
sched_cancel(sje__sched *s, sje__call *call)
{
	const Sje__V1__CancelRequest *req =
	    (const Sje__V1__CancelRequest *) sje__call_input(call);
	if (!sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	Sje__V1__CancelReply reply = SJE__V1__CANCEL_REPLY__INIT;
	sched_job           *j     = sje__hmap_get(&s->jobs, req->task_id);
	if (j == NULL) {
		sje__job_row *row;
		sje_err err = sje__store_get_job(s->store, req->task_id, &row);
		if (err == SJE_ENOTFOUND) {
			sched_reply_err(s, call, SJE_ENOTFOUND, "task_id",
			    "no job '%s'", req->task_id);
			return;
		}
		if (err != SJE_OK) {
			sched_fatal("store read", err);
		}
		sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "job '%s' has already finished: %s", req->task_id,
		    sje_job_state_name(row->state));
		sje__job_row_free(row);
		return;
	}
	sje__job_row *row = sched_load(s, j);
	if (j->state == ST_RUNNING) {
		j->cancel_requested   = true;
		row->cancel_requested = true;
		sched_save(s, row);
		reply.state            = (Sje__V1__JobState) ST_RUNNING;
		reply.cancel_requested = true;
		sched_event_full(s, j, row->worker, NULL, NULL, NULL, true);
		SJE_LOG_JOB(SJE_LOG_INFO, j->task_id,
		    "cancel requested while running");
		sje__job_row_free(row);
	} else {
		row->cancel_requested = true;
		j->cancel_requested   = true;
		sched_unqueue(s, j);
		sched_set_state(j, row, ST_CANCELLED);
		reply.state            = (Sje__V1__JobState) ST_CANCELLED;
		reply.cancel_requested = false; // nothing left to stop
		SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "cancelled");
		sched_finish(s, j, row);
		sje__job_row_free(row);
	}
	sched_reply_ok(s, call, &reply.base);
}

static void
sched_list_jobs(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListJobsRequest *req =
	    (const Sje__V1__ListJobsRequest *) sje__call_input(call);
	sje__job_filter f = { 0 };
	f.state           = (int) req->state;
	if (f.state < 0 || f.state > (int) SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
		sched_reply_err(s, call, SJE_EINVAL, "state", "unknown state");
		return;
	}
	if (req->function != NULL && req->function[0] != '\0') {
		if (strlen(req->function) > SJE_MAX_FUNCTION_BYTES) {
			sched_reply_err(s, call, SJE_EINVAL, "function",
			    "function is too long");
			return;
		}
		f.function = req->function;
	}
	char prefix[SJE_MAX_ID_BYTES + 2];
	if (req->workflow_id != NULL && req->workflow_id[0] != '\0') {
		if (!sched_check_id(s, call, req->workflow_id, "workflow_id")) {
			return;
		}
		sje__snprintf(prefix, sizeof(prefix), "%s.", req->workflow_id);
		f.task_prefix = prefix;
	}
	f.limit = req->limit == 0 ? SCHED_LIST_DEFAULT
	    : req->limit > SCHED_LIST_MAX ? SCHED_LIST_MAX
	                                  : req->limit;
	if (req->cursor != NULL && req->cursor[0] != '\0') {
		char *end;
		long long v = strtoll(req->cursor, &end, 10);
		if (*end != '\0' || v <= 0 || strlen(req->cursor) > 20) {
			sched_reply_err(s, call, SJE_EINVAL, "cursor",
			    "cursor is not one this server gave");
			return;
		}
		f.before_id = v;
	}
	sje__job_row **rows;
	size_t         n;
	sje_err        err = sje__store_list_jobs(s->store, &f, &rows, &n);
	if (err != SJE_OK) {
		sched_fatal("store list", err);
	}
	Sje__V1__ListJobsReply reply = SJE__V1__LIST_JOBS_REPLY__INIT;
	char                   cursor[32] = "";
	reply.jobs = sched_xalloc(sizeof(*reply.jobs) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		if (sje__job_row_to_pb(rows[i], &reply.jobs[reply.n_jobs]) ==
		    SJE_OK) {
			reply.n_jobs++;
		}
	}
	if (n == f.limit && n > 0) {
		sje__snprintf(cursor, sizeof(cursor), "%lld",
		    (long long) rows[n - 1]->id);
	}
	reply.next_cursor = cursor;
	sched_reply_ok(s, call, &reply.base);
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rows);
	for (size_t i = 0; i < reply.n_jobs; i++) {
		sje__v1__job__free_unpacked(reply.jobs[i], NULL);
	}
	free(reply.jobs);
}

static void
sched_run_workflow(sje__sched *s, sje__call *call)
{
	const Sje__V1__RunWorkflowRequest *req =
	    (const Sje__V1__RunWorkflowRequest *) sje__call_input(call);
	const sje_workflow *wf =
	    req->name != NULL ? sje__workflow_find(s->cfg, req->name) : NULL;
	if (wf == NULL) {
		sched_reply_err(s, call, SJE_ENOTFOUND, "name",
		    "no workflow '%s' in the server's config",
		    req->name != NULL ? req->name : "");
		return;
	}
	char wid[SJE_MAX_ID_BYTES + 1];
	if (req->workflow_id != NULL && req->workflow_id[0] != '\0') {
		if (!sched_check_id(s, call, req->workflow_id, "workflow_id")) {
			return;
		}
		sje__snprintf(wid, sizeof(wid), "%s", req->workflow_id);
	} else {
		sje__gen_id("w", wid, sizeof(wid));
	}
	if (req->params != NULL && req->params->text != NULL &&
	    (strlen(req->params->text) > SJE_MAX_PARAMS_BYTES ||
	        !sje__json_valid(req->params->text,
	            strlen(req->params->text)))) {
		sched_reply_err(s, call, SJE_EINVAL, "params",
		    "params must be one JSON value of at most %u bytes",
		    SJE_MAX_PARAMS_BYTES);
		return;
	}
	sje__workflow_run run = { 0 };
	char              msg[256];
	sje_err           err = sje__workflow_expand(wf, wid,
	              req->params != NULL ? req->params->text : NULL, &run, msg,
	              sizeof(msg));
	if (err != SJE_OK) {
		sched_reply_err(s, call, err, "params", "%s",
		    err == SJE_EINVAL ? msg : sje_strerror(err));
		return;
	}
	Sje__V1__SubmitResult *res = sched_xalloc(sizeof(*res) * (run.n + 1));
	bool                   ok;
	submit_item *items = sched_submit_specs(s, call, "steps",
	    (const Sje__V1__JobSpec *const *) run.specs, run.n, res, &ok);
	if (ok) {
		Sje__V1__SubmitResult **resp =
		    sched_xalloc(sizeof(*resp) * (run.n + 1));
		for (size_t i = 0; i < run.n; i++) {
			resp[i] = &res[i];
		}
		Sje__V1__RunWorkflowReply reply =
		    SJE__V1__RUN_WORKFLOW_REPLY__INIT;
		reply.workflow_id = wid;
		reply.tasks       = resp;
		reply.n_tasks     = run.n;
		sched_reply_ok(s, call, &reply.base);
		free(resp);
		SJE_INFO("workflow %s run %s: %zu steps", wf->name, wid, run.n);
	}
	submit_items_free(items, run.n);
	free(res);
	sje__workflow_run_fini(&run);
}

static void
sched_list_workers(sje__sched *s, sje__call *call)
{
	size_t n = 0;
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		n++;
	}
	Sje__V1__ListWorkersReply reply = SJE__V1__LIST_WORKERS_REPLY__INIT;
	Sje__V1__WorkerInfo      *infos = sched_xalloc(sizeof(*infos) * (n + 1));
	Sje__V1__WorkerInfo     **ptrs  = sched_xalloc(sizeof(*ptrs) * (n + 1));
	Sje__V1__Timestamp       *seen  = sched_xalloc(sizeof(*seen) * (n + 1));
	size_t                    i     = 0;
	for (sched_worker *w = s->workers; w != NULL; w = w->next, i++) {
		Sje__V1__WorkerInfo *wi = &infos[i];
		sje__v1__worker_info__init(wi);
		sje__v1__timestamp__init(&seen[i]);
		wi->name  = w->name;
		wi->slots = w->slots;
		wi->busy  = w->busy;
		wi->n_functions = w->n_fns;
		wi->functions   = sched_xalloc(sizeof(char *) * (w->n_fns + 1));
		for (size_t k = 0; k < w->n_fns; k++) {
			wi->functions[k] = w->fns[k]->name;
		}
		wi->n_labels = w->n_labels;
		wi->labels   = sched_xalloc(
                    sizeof(*wi->labels) * (w->n_labels + 1));
		for (size_t k = 0; k < w->n_labels; k++) {
			Sje__V1__WorkerInfo__LabelsEntry *e =
			    sched_xalloc(sizeof(*e));
			sje__v1__worker_info__labels_entry__init(e);
			e->key        = w->labels[k].key;
			e->value      = w->labels[k].value;
			wi->labels[k] = e;
		}
		seen[i].unix_ms = w->last_seen_ms;
		wi->last_seen   = &seen[i];
		ptrs[i]         = wi;
	}
	reply.workers   = ptrs;
	reply.n_workers = n;
	sched_reply_ok(s, call, &reply.base);
	for (i = 0; i < n; i++) {
		for (size_t k = 0; k < infos[i].n_labels; k++) {
			free(infos[i].labels[k]);
		}
		free(infos[i].labels);
		free(infos[i].functions);
	}
	free(seen);
	free(ptrs);
	free(infos);
}

// ---- events and stats ---------------------------------------------------

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

// sched_events_reply answers a ListEvents call with the kept events it
// asks for; with none to give it answers only when force is set. Returns
// whether it answered.
static bool
sched_events_reply(sje__sched *s, sje__call *call, bool force)
{
	const Sje__V1__ListEventsRequest *req =
	    (const Sje__V1__ListEventsRequest *) sje__call_input(call);
	uint32_t limit = req->limit == 0 ? SCHED_EVENTS_DEFAULT
	    : req->limit > SCHED_EVENTS_MAX ? SCHED_EVENTS_MAX
	                                    : req->limit;
	if (!force && req->after >= s->event_seq) {
		return false;
	}
	events_acc acc = { .v = sched_xalloc(sizeof(*acc.v) * limit) };
	sje_err    err = sje__store_list_events(
            s->store, req->after, req->task_id, limit, events_collect, &acc);
	if (err != SJE_OK) {
		sched_fatal("store events", err);
	}
	bool answered = false;
	if (acc.n > 0 || force) {
		Sje__V1__ListEventsReply reply = SJE__V1__LIST_EVENTS_REPLY__INIT;
		reply.events                   = acc.v;
		reply.n_events                 = acc.n;
		reply.next = acc.n > 0 ? acc.last : req->after;
		sched_reply_ok(s, call, &reply.base);
		answered = true;
	}
	for (size_t i = 0; i < acc.n; i++) {
		sje__v1__job_event__free_unpacked(acc.v[i], NULL);
	}
	free(acc.v);
	return answered;
}

static void
sched_list_events(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListEventsRequest *req =
	    (const Sje__V1__ListEventsRequest *) sje__call_input(call);
	if (req->task_id != NULL && req->task_id[0] != '\0' &&
	    !sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	if (req->wait_ms == 0 || sched_events_reply(s, call, false)) {
		if (req->wait_ms == 0) {
			sched_events_reply(s, call, true);
		}
		return;
	}
	uint32_t wait_ms = req->wait_ms < SCHED_MAX_HOLD_MS ? req->wait_ms
	                                                    : SCHED_MAX_HOLD_MS;
	sched_hold_add(s, HOLD_EVENTS, call, wait_ms);
}

// sched_events_wake answers the held ListEvents calls that the events
// just committed satisfy. Called after the commit.
static void
sched_events_wake(sje__sched *s)
{
	sched_hold *h = s->holds_head;
	while (h != NULL) {
		sched_hold *next = h->next;
		if (h->kind == HOLD_EVENTS &&
		    sched_events_reply(s, h->call, false)) {
			sched_hold_remove(s, h);
		}
		h = next;
	}
}

// sched_hist_pb renders h into a Histogram whose arrays are caller-owned
// storage (bounds and counts of SCHED_HIST_N and + 1 entries).
static void
sched_hist_pb(const sched_hist *h, Sje__V1__Histogram *pb, double *bounds,
    uint64_t *counts)
{
	sje__v1__histogram__init(pb);
	for (int i = 0; i < SCHED_HIST_N; i++) {
		bounds[i] = sched_hist_ms[i];
	}
	memcpy(counts, h->counts, sizeof(h->counts));
	pb->bounds_ms   = bounds;
	pb->n_bounds_ms = SCHED_HIST_N;
	pb->counts      = counts;
	pb->n_counts    = SCHED_HIST_N + 1;
	pb->sum_ms      = h->sum_ms;
	pb->count       = h->n;
}

// stats_gauge counts unfinished jobs by function and state.
typedef struct stats_gauge {
	sched_fn *fn;
	uint64_t  queued, running, scheduled, pending;
} stats_gauge;

typedef struct stats_scan {
	stats_gauge *g;
	size_t       n;
} stats_scan;

static bool
stats_each(void *arg, const char *key, void *value)
{
	(void) key;
	stats_scan *sc = arg;
	sched_job  *j  = value;
	for (size_t i = 0; i < sc->n; i++) {
		if (sc->g[i].fn != j->fn) {
			continue;
		}
		switch (j->state) {
		case ST_QUEUED:
			sc->g[i].queued++;
			break;
		case ST_RUNNING:
			sc->g[i].running++;
			break;
		case ST_SCHEDULED:
			sc->g[i].scheduled++;
			break;
		default:
			sc->g[i].pending++;
			break;
		}
		break;
	}
	return true;
}

static void
sched_stats(sje__sched *s, sje__call *call)
{
	size_t n = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		n++;
	}
	stats_scan sc = { .g = sched_xalloc(sizeof(*sc.g) * (n + 1)), .n = n };
	size_t     i  = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		sc.g[i++].fn = f;
	}
	sje__hmap_each(&s->jobs, stats_each, &sc);

	Sje__V1__StatsReply     reply = SJE__V1__STATS_REPLY__INIT;
	Sje__V1__FunctionStats *fs    = sched_xalloc(sizeof(*fs) * (n + 1));
	Sje__V1__FunctionStats **fp   = sched_xalloc(sizeof(*fp) * (n + 1));
	Sje__V1__Histogram     *hist  = sched_xalloc(sizeof(*hist) * 2 * (n + 1));
	double   *bounds = sched_xalloc(sizeof(double) * SCHED_HIST_N * 2 * (n + 1));
	uint64_t *counts =
	    sched_xalloc(sizeof(uint64_t) * (SCHED_HIST_N + 1) * 2 * (n + 1));
	uint64_t pending = 0;
	for (i = 0; i < n; i++) {
		sched_fn *f = sc.g[i].fn;
		sje__v1__function_stats__init(&fs[i]);
		fs[i].function        = f->name;
		fs[i].queued          = sc.g[i].queued;
		fs[i].running         = sc.g[i].running;
		fs[i].scheduled       = sc.g[i].scheduled;
		fs[i].submitted       = f->submitted;
		fs[i].succeeded       = f->succeeded;
		fs[i].failed          = f->failed;
		fs[i].cancelled       = f->cancelled;
		fs[i].retried         = f->retried;
		fs[i].upstream_failed = f->upstream_failed;
		pending += sc.g[i].pending;
		sched_hist_pb(&f->wait, &hist[2 * i],
		    &bounds[SCHED_HIST_N * 2 * i],
		    &counts[(SCHED_HIST_N + 1) * 2 * i]);
		sched_hist_pb(&f->run, &hist[2 * i + 1],
		    &bounds[SCHED_HIST_N * (2 * i + 1)],
		    &counts[(SCHED_HIST_N + 1) * (2 * i + 1)]);
		fs[i].wait = &hist[2 * i];
		fs[i].run  = &hist[2 * i + 1];
		fp[i]      = &fs[i];
	}
	Sje__V1__Timestamp started = SJE__V1__TIMESTAMP__INIT;
	started.unix_ms            = s->started_ms;
	reply.functions            = fp;
	reply.n_functions          = n;
	reply.event_seq            = s->event_seq;
	reply.started_at           = &started;
	reply.pending              = pending;
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		reply.workers++;
		reply.worker_slots += w->slots;
		reply.workers_busy_slots += w->busy;
	}
	sched_reply_ok(s, call, &reply.base);
	free(counts);
	free(bounds);
	free(hist);
	free(fp);
	free(fs);
	free(sc.g);
}

// sched_attach_attempts adds job's attempt history (malloc'd, freed with
// the job by protobuf_c_message_free_unpacked).
static void
sched_attach_attempts(sje__sched *s, Sje__V1__Job *job, int64_t id)
{
	sje__attempt_row *rows;
	size_t            n;
	sje_err           err = sje__store_list_attempts(s->store, id, &rows, &n);
	if (err != SJE_OK) {
		sched_fatal("store attempts", err);
	}
	if (n == 0) {
		sje__attempt_rows_free(rows, n);
		return;
	}
	job->attempts = sched_xalloc(sizeof(*job->attempts) * n);
	for (size_t i = 0; i < n; i++) {
		Sje__V1__Attempt *a = sched_xalloc(sizeof(*a));
		sje__v1__attempt__init(a);
		a->number  = rows[i].number;
		a->worker  = sched_xstrdup(rows[i].worker);
		a->outcome = rows[i].outcome;
		if (rows[i].started_ms != 0) {
			a->started_at = sched_xalloc(sizeof(*a->started_at));
			sje__v1__timestamp__init(a->started_at);
			a->started_at->unix_ms = rows[i].started_ms;
		}
		if (rows[i].finished_ms != 0) {
			a->finished_at = sched_xalloc(sizeof(*a->finished_at));
			sje__v1__timestamp__init(a->finished_at);
			a->finished_at->unix_ms = rows[i].finished_ms;
		}
		if (rows[i].error_type != NULL || rows[i].error_message != NULL) {
			a->error = sched_xalloc(sizeof(*a->error));
			sje__v1__job_error__init(a->error);
			a->error->type    = sched_xstrdup(rows[i].error_type);
			a->error->message = sched_xstrdup(rows[i].error_message);
		}
		job->attempts[job->n_attempts++] = a;
	}
	sje__attempt_rows_free(rows, n);
}

// ---- WorkerHub handlers ----------------------------------------------

static void
sched_register(sje__sched *s, sje__call *call)
{
	const Sje__V1__RegisterRequest *req =
	    (const Sje__V1__RegisterRequest *) sje__call_input(call);
	if (!sched_check_id(s, call, req->name, "name")) {
		return;
	}
	if (req->n_functions > SCHED_MAX_WORKER_FUNCTIONS) {
		sched_reply_err(s, call, SJE_ELIMIT, "functions",
		    "at most %u functions", SCHED_MAX_WORKER_FUNCTIONS);
		return;
	}
	if (req->n_labels > SJE_MAX_LABELS) {
		sched_reply_err(s, call, SJE_ELIMIT, "labels",
		    "at most %u labels", SJE_MAX_LABELS);
		return;
	}
	for (size_t i = 0; i < req->n_functions; i++) {
		if (!sje__job_id_valid(req->functions[i])) {
			sched_reply_err(s, call, SJE_EINVAL, "functions",
			    "function names are 1 to %u characters of "
			    "A-Z a-z 0-9 _ . : -",
			    SJE_MAX_FUNCTION_BYTES);
			return;
		}
	}
	for (size_t i = 0; i < req->n_labels; i++) {
		if (strlen(req->labels[i]->key) > SJE_MAX_ID_BYTES ||
		    strlen(req->labels[i]->value) > SJE_MAX_ID_BYTES * 8) {
			sched_reply_err(s, call, SJE_ELIMIT, "labels",
			    "label too long");
			return;
		}
	}
	sched_worker *w = sched_xalloc(sizeof(*w));
	do {
		w->session = sje__random_u64();
	} while (w->session == 0 || sched_worker_find(s, w->session) != NULL);
	w->name  = sched_xstrdup(req->name);
	w->slots = req->slots != 0 ? req->slots : 1;
	w->fns   = sched_xalloc(sizeof(*w->fns) * (req->n_functions + 1));
	for (size_t i = 0; i < req->n_functions; i++) {
		w->fns[w->n_fns++] = sched_fn_get(s, req->functions[i]);
	}
	w->labels = sched_xalloc(sizeof(*w->labels) * (req->n_labels + 1));
	for (size_t i = 0; i < req->n_labels; i++) {
		w->labels[i].key   = sched_xstrdup(req->labels[i]->key);
		w->labels[i].value = sched_xstrdup(req->labels[i]->value);
		w->n_labels++;
	}
	w->last_seen_ms = s->now_ms;
	w->next         = s->workers;
	s->workers      = w;
	SJE_INFO("worker %s registered: %u slots, %zu functions", w->name,
	    w->slots, w->n_fns);

	Sje__V1__RegisterReply reply = SJE__V1__REGISTER_REPLY__INIT;
	reply.session                = w->session;
	reply.lease_s                = s->cfg->executor.lease_s;
	reply.heartbeat_ms = s->lease_ms / 3 < SCHED_HEARTBEAT_MAX_MS
	    ? s->lease_ms / 3
	    : SCHED_HEARTBEAT_MAX_MS;
	sched_reply_ok(s, call, &reply.base);
}

// sched_session finds the caller's registration, or answers that it must
// register again (after a coordinator restart, for instance).
static sched_worker *
sched_session(sje__sched *s, sje__call *call, uint64_t session)
{
	sched_worker *w = sched_worker_find(s, session);
	if (w == NULL) {
		sched_reply_err(s, call, SJE_EPRECOND, "session",
		    "unknown session: register again");
		return NULL;
	}
	w->last_seen_ms = s->now_ms;
	return w;
}

static void
sched_fetch(sje__sched *s, sje__call *call)
{
	const Sje__V1__FetchRequest *req =
	    (const Sje__V1__FetchRequest *) sje__call_input(call);
	sched_worker *w = sched_session(s, call, req->session);
	if (w == NULL) {
		return;
	}
	if (req->max_jobs == 0) {
		Sje__V1__FetchReply reply = SJE__V1__FETCH_REPLY__INIT;
		sched_reply_ok(s, call, &reply.base);
		return;
	}
	uint32_t wait_ms = req->wait_ms < SCHED_MAX_HOLD_MS ? req->wait_ms
	                                                    : SCHED_MAX_HOLD_MS;
	sched_hold *h = sched_hold_add(s, HOLD_FETCH, call, wait_ms);
	h->worker     = w;
	h->max_jobs   = req->max_jobs < SCHED_MAX_FETCH_JOBS
	      ? req->max_jobs
	      : SCHED_MAX_FETCH_JOBS;
	w->n_holds++;
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

static void
sched_heartbeat(sje__sched *s, sje__call *call)
{
	const Sje__V1__HeartbeatRequest *req =
	    (const Sje__V1__HeartbeatRequest *) sje__call_input(call);
	sched_worker *w = sched_session(s, call, req->session);
	if (w == NULL) {
		return;
	}
	if (req->n_running > SJE_MAX_JOBS_PER_CALL) {
		sched_reply_err(s, call, SJE_ELIMIT, "running", "too many jobs");
		return;
	}
	Sje__V1__HeartbeatReply reply = SJE__V1__HEARTBEAT_REPLY__INIT;
	reply.cancel = sched_xalloc(sizeof(char *) * (req->n_running + 1));
	reply.lost   = sched_xalloc(sizeof(char *) * (req->n_running + 1));
	for (size_t i = 0; i < req->n_running; i++) {
		const Sje__V1__RunningJob *r = req->running[i];
		sched_job *j = r->task_id != NULL
		    ? sje__hmap_get(&s->jobs, r->task_id)
		    : NULL;
		if (j == NULL || j->state != ST_RUNNING ||
		    j->lease_id != r->lease_id) {
			reply.lost[reply.n_lost++] = r->task_id;
			continue;
		}
		j->lease_expires_ms = s->now_ms + s->lease_ms;
		if (j->worker == NULL) {
			// Its holder is known again (after a restart).
			j->worker = w;
			w->busy++;
		}
		if (j->cancel_requested) {
			reply.cancel[reply.n_cancel++] = r->task_id;
		}
		const Sje__V1__Progress *p = r->progress;
		if (p != NULL && (p->percent != j->progress_pct ||
		                     progress_hash(p->message) !=
		                         j->progress_hash)) {
			j->progress_pct    = p->percent;
			j->progress_hash   = progress_hash(p->message);
			sje__job_row *row  = sched_load(s, j);
			row->progress_pct  = p->percent;
			char msg[256];
			sje__snprintf(msg, sizeof(msg), "%s",
			    p->message != NULL ? p->message : "");
			row_set_str(&row->progress_msg, msg);
			sched_save(s, row);
			Sje__V1__Progress prog = SJE__V1__PROGRESS__INIT;
			prog.percent           = p->percent;
			prog.message           = msg;
			sched_event_full(s, j, w->name, NULL, NULL, &prog, false);
			sje__job_row_free(row);
		}
	}
	sched_reply_ok(s, call, &reply.base);
	free(reply.cancel);
	free(reply.lost);
}

typedef enum report_kind { REPORT_COMPLETE, REPORT_FAIL, REPORT_RELEASE } report_kind;

// sched_release hands a leased job back unrun: queued again at once, and
// the attempt does not count.
static void
sched_release(sje__sched *s, sched_job *j, sje__job_row *row)
{
	if (j->cancel_requested) {
		// Handed back after a cancel: nothing left to run.
		sched_attempt_failed(s, j, row, "cancelled", "cancelled");
		return;
	}
	sched_release_lease(j);
	j->attempt--;
	row->attempt          = j->attempt;
	row->lease_expires_ms = 0;
	sched_set_state(j, row, ST_QUEUED);
	sched_ready(s, j);
	sched_save(s, row);
	sched_event_push(s, j, NULL, NULL, NULL);
	SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "handed back by worker %s",
	    row->worker != NULL ? row->worker : "?");
}

// sched_report handles Complete, Fail and Release.
static void
sched_report(sje__sched *s, sje__call *call, report_kind kind)
{
	bool ok = kind == REPORT_COMPLETE;
	const Sje__V1__ReportRequest *req =
	    (const Sje__V1__ReportRequest *) sje__call_input(call);
	if (req->n_outcomes > SJE_MAX_JOBS_PER_CALL) {
		sched_reply_err(s, call, SJE_ELIMIT, "outcomes",
		    "at most %u outcomes", SJE_MAX_JOBS_PER_CALL);
		return;
	}
	sched_worker *w = sched_worker_find(s, req->session);
	if (w != NULL) {
		w->last_seen_ms = s->now_ms;
	}
	Sje__V1__ReportReply reply = SJE__V1__REPORT_REPLY__INIT;
	reply.accepted =
	    sched_xalloc(sizeof(*reply.accepted) * (req->n_outcomes + 1));
	reply.n_accepted = req->n_outcomes;
	for (size_t i = 0; i < req->n_outcomes; i++) {
		const Sje__V1__JobOutcome *o = req->outcomes[i];
		sched_job *j = o->task_id != NULL
		    ? sje__hmap_get(&s->jobs, o->task_id)
		    : NULL;
		if (j == NULL || j->state != ST_RUNNING ||
		    j->lease_id != o->lease_id) {
			// Expired, moved or unknown lease: refused, no change.
			reply.accepted[i] =
			    SJE__V1__STATUS_CODE__FAILED_PRECONDITION;
			continue;
		}
		reply.accepted[i] = SJE__V1__STATUS_CODE__OK;
		sje__job_row *row = sched_load(s, j);
		const char   *result =
                    o->result != NULL && o->result->text != NULL &&
                    o->result->text[0] != '\0'
                    ? o->result->text
                    : "null";
		size_t rlen = strlen(result);
		if (kind == REPORT_RELEASE) {
			sched_release(s, j, row);
		} else if (ok && (rlen > SJE_MAX_PARAMS_BYTES ||
		              !sje__json_valid(result, rlen))) {
			sched_attempt_failed(s, j, row, "invalid_result",
			    rlen > SJE_MAX_PARAMS_BYTES
			        ? "the result is larger than the limit"
			        : "the result is not valid JSON");
		} else if (ok) {
			row_set_str(&row->result_json, result);
			row_set_str(&row->error_type, NULL);
			row_set_str(&row->error_message, NULL);
			row->progress_pct = 100;
			sched_attempt_end(s, j, row, ST_SUCCEEDED, NULL, NULL);
			sched_set_state(j, row, ST_SUCCEEDED);
			SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id, "succeeded");
			sched_finish(s, j, row);
		} else {
			const Sje__V1__JobError *e = o->error;
			char type[64], msg[SCHED_MAX_ERROR_BYTES];
			sje__snprintf(type, sizeof(type), "%s",
			    e != NULL && e->type != NULL && e->type[0] != 0
			        ? e->type
			        : "error");
			sje__snprintf(msg, sizeof(msg), "%s",
			    e != NULL && e->message != NULL ? e->message : "");
			sched_attempt_failed(s, j, row, type, msg);
		}
		sje__job_row_free(row);
	}
	sched_reply_ok(s, call, &reply.base);
	free(reply.accepted);
}

// ---- timers and dispatch ---------------------------------------------

typedef struct expired_scan {
	sje_time_ms now_ms;
	sje_dur_ms  grace_ms; // past a job's timeout before the server acts
	sched_job **v;
	size_t      n, cap;
} expired_scan;

// sched_overdue is true when j has run past its timeout and a lease of
// grace: its worker should have stopped it and reported a timeout.
static bool
sched_overdue(const sched_job *j, sje_time_ms now, sje_dur_ms grace)
{
	return j->timeout_s != 0 && j->started_ms != 0 &&
	    j->started_ms + (sje_time_ms) j->timeout_s * 1000 + grace <= now;
}

static bool
sched_expired_each(void *arg, const char *key, void *value)
{
	(void) key;
	expired_scan *e = arg;
	sched_job    *j = value;
	if (j->state == ST_RUNNING && (j->lease_expires_ms <= e->now_ms ||
	                                  sched_overdue(j, e->now_ms, e->grace_ms))) {
		if (!sched_grow((void **) &e->v, &e->cap, e->n, sizeof(*e->v))) {
			sched_fatal("allocation", SJE_ENOMEM);
		}
		e->v[e->n++] = j;
	}
	return true;
}

// sched_tick expires leases and forgets workers long silent.
static void
sched_tick(sje__sched *s)
{
	expired_scan e = { .now_ms = s->now_ms, .grace_ms = s->lease_ms };
	sje__hmap_each(&s->jobs, sched_expired_each, &e);
	for (size_t i = 0; i < e.n; i++) {
		sched_job    *j   = e.v[i];
		sje__job_row *row = sched_load(s, j);
		char          msg[256];
		if (j->lease_expires_ms <= s->now_ms) {
			sje__snprintf(msg, sizeof(msg),
			    "lease expired: worker '%s' stopped heartbeating",
			    row->worker != NULL ? row->worker : "?");
			sched_attempt_failed(s, j, row, "lost", msg);
		} else {
			// The worker still heartbeats but did not stop the job:
			// the attempt ends here, and its late report is refused.
			sje__snprintf(msg, sizeof(msg),
			    "timed out after %u s (worker '%s' did not stop it)",
			    j->timeout_s, row->worker != NULL ? row->worker : "?");
			sched_attempt_failed(s, j, row, "timeout", msg);
		}
		sje__job_row_free(row);
	}
	free(e.v);

	if (s->event_seq > SCHED_EVENT_RETENTION &&
	    s->event_seq - SCHED_EVENT_RETENTION > s->pruned_seq) {
		uint64_t upto = s->event_seq - SCHED_EVENT_RETENTION;
		sched_txn(s);
		sje_err err = sje__store_prune_events(s->store, upto);
		if (err != SJE_OK) {
			sched_fatal("store prune", err);
		}
		s->pruned_seq = upto;
	}

	// Finished jobs older than server.result_ttl_s are forgotten, a
	// bounded batch at a time so that no round takes long.
	if (s->cfg->server.result_ttl_s != 0 && s->now_ms >= s->next_purge_ms) {
		uint32_t n = 0;
		sched_txn(s);
		sje_err err = sje__store_purge_finished(s->store,
		    s->now_ms - (sje_time_ms) s->cfg->server.result_ttl_s * 1000,
		    SCHED_PURGE_BATCH, &n);
		if (err != SJE_OK) {
			sched_fatal("store purge", err);
		}
		if (n > 0) {
			SJE_INFO("purged %u finished jobs older than %u s", n,
			    s->cfg->server.result_ttl_s);
		}
		s->next_purge_ms = s->now_ms +
		    (n == SCHED_PURGE_BATCH ? SCHED_TICK_MS : SCHED_PURGE_EVERY_MS);
	}

	sje_time_ms    forget = (sje_time_ms) s->lease_ms * SCHED_FORGET_LEASES;
	sched_worker **pp     = &s->workers;
	while (*pp != NULL) {
		sched_worker *w = *pp;
		if (w->busy == 0 && w->n_holds == 0 &&
		    w->last_seen_ms + forget < s->now_ms) {
			SJE_INFO("worker %s forgotten: silent for %lld ms",
			    w->name, (long long) (s->now_ms - w->last_seen_ms));
			*pp = w->next;
			sched_worker_free(w);
		} else {
			pp = &w->next;
		}
	}
}

// sched_timers runs what is due: delayed jobs, held calls out of time,
// and the periodic tick.
static void
sched_timers(sje__sched *s)
{
	while (s->delayed.n > 0 && s->delayed.v[0]->ready_at_ms <= s->now_ms) {
		sched_job *j = s->delayed.v[0];
		heap_remove(&s->delayed, j);
		sje__job_row *row = sched_load(s, j);
		sched_set_state(j, row, ST_QUEUED);
		row->ready_at_ms = 0;
		sched_save(s, row);
		sje__job_row_free(row);
		sched_ready(s, j);
		sched_event_push(s, j, NULL, NULL, NULL);
	}
	sched_hold *h = s->holds_head;
	while (h != NULL) {
		sched_hold *next = h->next;
		if (h->deadline_ms <= s->now_ms) {
			if (h->kind == HOLD_FETCH) {
				Sje__V1__FetchReply r = SJE__V1__FETCH_REPLY__INIT;
				sched_reply_ok(s, h->call, &r.base);
			} else if (h->kind == HOLD_EVENTS) {
				sched_events_reply(s, h->call, true);
			} else {
				sched_hold_detach(s, h);
				sched_wait_reply(s, h->call, false);
			}
			sched_hold_remove(s, h);
		}
		h = next;
	}
	if (s->now_ms >= s->next_tick_ms) {
		sched_tick(s);
		s->next_tick_ms = s->now_ms + SCHED_TICK_MS;
	}
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
	pp->v    = sched_xalloc(sizeof(*pp->v) * n);
	pp->p    = sched_xalloc(sizeof(*pp->p) * n);
	pp->json = sched_xalloc(sizeof(*pp->json) * n);
	pp->rows = sched_xalloc(sizeof(*pp->rows) * n);
	for (size_t k = 0; k < n; k++) {
		sje__job_row *row;
		if (sje__store_get_job(s->store, spec->depends_on[k], &row) !=
		    SJE_OK) {
			continue; // cannot happen: parents are never deleted
		}
		size_t i = pp->n++;
		pp->rows[i] = row;
		sje__v1__parent_result__init(&pp->v[i]);
		sje__v1__json__init(&pp->json[i]);
		pp->json[i].text  = row->result_json != NULL ? row->result_json
		                                             : "null";
		pp->v[i].task_id  = row->task_id;
		pp->v[i].result   = &pp->json[i];
		pp->p[i]          = &pp->v[i];
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

// sched_best pops the best ready job among w's functions, or NULL.
static sched_job *
sched_best(sje__sched *s, sched_worker *w)
{
	sched_fn *best = NULL;
	for (size_t i = 0; i < w->n_fns; i++) {
		sched_fn *f = w->fns[i];
		if (f->ready.n == 0) {
			continue;
		}
		if (best == NULL ||
		    heap_before(&f->ready, f->ready.v[0], best->ready.v[0])) {
			best = f;
		}
	}
	if (best == NULL) {
		return NULL;
	}
	sched_job *j = best->ready.v[0];
	heap_remove(&best->ready, j);
	s->n_ready--;
	return j;
}

// sched_dispatch answers held Fetch calls, oldest first, with ready jobs.
static void
sched_dispatch(sje__sched *s)
{
	sched_hold *h = s->holds_head;
	while (h != NULL && s->n_ready > 0) {
		sched_hold *next = h->next;
		if (h->kind != HOLD_FETCH) {
			h = next;
			continue;
		}
		size_t                max  = h->max_jobs;
		Sje__V1__Assignment  *as   = sched_xalloc(sizeof(*as) * max);
		Sje__V1__Assignment **ap   = sched_xalloc(sizeof(*ap) * max);
		Sje__V1__JobSpec    **spec = sched_xalloc(sizeof(*spec) * max);
		parents_pb           *pars = sched_xalloc(sizeof(*pars) * max);
		size_t                n    = 0;
		sched_job            *j;
		while (n < max && (j = sched_best(s, h->worker)) != NULL) {
			sje__job_row *row = sched_load(s, j);
			spec[n] = sje__v1__job_spec__unpack(
			    NULL, row->spec_len, row->spec);
			j->attempt++;
			j->started_ms         = s->now_ms;
			sched_hist_add(&j->fn->wait, s->now_ms - j->queued_ms);
			j->lease_id           = ++s->lease_seq;
			j->lease_expires_ms   = s->now_ms + s->lease_ms;
			j->worker             = h->worker;
			j->progress_pct       = 0;
			j->progress_hash      = progress_hash(NULL);
			h->worker->busy++;
			sched_set_state(j, row, ST_RUNNING);
			row->attempt          = j->attempt;
			row->lease_id         = j->lease_id;
			row->lease_expires_ms = j->lease_expires_ms;
			row->started_ms       = s->now_ms;
			row->progress_pct     = 0;
			row_set_str(&row->progress_msg, NULL);
			row_set_str(&row->worker, h->worker->name);
			sched_save(s, row);
			sje__attempt_row at = { .number = j->attempt,
				.worker = h->worker->name, .started_ms = s->now_ms,
				.outcome = ST_RUNNING };
			if (sje__store_put_attempt(s->store, j->id, &at) !=
			    SJE_OK) {
				sched_fatal("store attempt", SJE_EIO);
			}
			sched_event_push(s, j, h->worker->name, NULL, NULL);

			Sje__V1__Assignment *a = &as[n];
			sje__v1__assignment__init(a);
			a->task_id   = j->task_id;
			a->function  = j->fn->name;
			a->params    = spec[n] != NULL ? spec[n]->params : NULL;
			a->lease_id  = j->lease_id;
			a->attempt   = j->attempt;
			a->timeout_s = row->timeout_s;
			if (spec[n] != NULL && spec[n]->n_depends_on > 0) {
				sched_parents(s, spec[n], &pars[n], a);
			}
			ap[n]        = a;
			n++;
			sje__job_row_free(row);
		}
		if (n > 0) {
			Sje__V1__FetchReply reply = SJE__V1__FETCH_REPLY__INIT;
			reply.jobs                = ap;
			reply.n_jobs              = n;
			sched_reply_ok(s, h->call, &reply.base);
			sched_hold_remove(s, h);
		}
		for (size_t i = 0; i < n; i++) {
			parents_pb_free(&pars[i]);
			if (spec[i] != NULL) {
				sje__v1__job_spec__free_unpacked(spec[i], NULL);
			}
		}
		free(pars);
		free(spec);
		free(ap);
		free(as);
		h = next;
	}
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
			sched_submit(s, call);
			return;
		case M_GET_STATUS:
			sched_get_status(s, call);
			return;
		case M_WAIT:
			sched_wait(s, call);
			return;
		case M_CANCEL:
			sched_cancel(s, call);
			return;
		case M_LIST_JOBS:
			sched_list_jobs(s, call);
			return;
		case M_WORKERS:
			sched_list_workers(s, call);
			return;
		case M_LIST_EVENTS:
			sched_list_events(s, call);
			return;
		case M_STATS:
			sched_stats(s, call);
			return;
		case M_RUN_WORKFLOW:
			sched_run_workflow(s, call);
			return;
		}
	} else if (svc == &sje__v1__worker_hub__descriptor) {
		switch (m) {
		case W_REGISTER:
			sched_register(s, call);
			return;
		case W_FETCH:
			sched_fetch(s, call);
			return;
		case W_HEARTBEAT:
			sched_heartbeat(s, call);
			return;
		case W_COMPLETE:
			sched_report(s, call, REPORT_COMPLETE);
			return;
		case W_FAIL:
			sched_report(s, call, REPORT_FAIL);
			return;
		case W_RELEASE:
			sched_report(s, call, REPORT_RELEASE);
			return;
		}
	}
	sched_reply_err(s, call, SJE_EUNIMPL, "method", "unknown method");
}

// sched_flush commits the round, then answers ListEvents calls waiting
// for the round's events, sends every reply and publishes the events.
static void
sched_flush(sje__sched *s)
{
	if (s->in_txn) {
		sje_err err = SJE_OK;
		if (s->seq_dirty) {
			if ((err = sje__store_meta_set(s->store, "lease_seq",
			         s->lease_seq)) == SJE_OK) {
				err = sje__store_meta_set(
				    s->store, "event_seq", s->event_seq);
			}
			if (err != SJE_OK) {
				sched_fatal("store meta", err);
			}
			s->seq_dirty = false;
		}
		if ((err = sje__store_commit(s->store)) != SJE_OK) {
			sched_fatal("store commit", err);
		}
		s->in_txn = false;
	}
	if (s->n_ev > 0) {
		sched_events_wake(s);
	}
	for (size_t i = 0; i < s->n_out; i++) {
		sched_reply *r = &s->out[i];
		sje__call_send(r->call, r->code, r->message, r->field, r->body,
		    r->len);
		free(r->message);
		free(r->field);
		free(r->body);
	}
	s->n_out = 0;
	for (size_t i = 0; i < s->n_ev; i++) {
		sched_event *e = &s->evq[i];
		sje__events_publish_packed(s->events, e->topic, e->data, e->len);
		free(e->data);
	}
	s->n_ev = 0;
}

// sched_next_wake is the absolute time the thread must wake by.
static sje_time_ms
sched_next_wake(sje__sched *s)
{
	sje_time_ms t = s->next_tick_ms;
	if (s->delayed.n > 0 && s->delayed.v[0]->ready_at_ms < t) {
		t = s->delayed.v[0]->ready_at_ms;
	}
	for (sched_hold *h = s->holds_head; h != NULL; h = h->next) {
		if (h->deadline_ms < t) {
			t = h->deadline_ms;
		}
	}
	return t;
}

static void sched_recover_fixups(sje__sched *s);

static void *
sched_main(void *arg)
{
	sje__sched *s     = arg;
	sje__call **batch = NULL;
	size_t      cap   = 0;
	for (;;) {
		pthread_mutex_lock(&s->mtx);
		sje_time_ms wake = sched_next_wake(s);
		while (s->n_inbox == 0 && !s->stopping) {
			sje_time_ms now = sje_now_ms();
			if (now >= wake) {
				break;
			}
			struct timespec ts = { .tv_sec = (time_t) (wake / 1000),
				.tv_nsec = (long) (wake % 1000) * 1000000L };
			pthread_cond_timedwait(&s->cv, &s->mtx, &ts);
		}
		// Swap the inbox for our spare array: handlers keep posting.
		sje__call **in     = s->inbox;
		size_t      n      = s->n_inbox;
		size_t      in_cap = s->cap_inbox;
		s->inbox           = batch;
		s->cap_inbox       = cap;
		s->n_inbox         = 0;
		bool stopping      = s->stopping;
		pthread_mutex_unlock(&s->mtx);
		batch = in;
		cap   = in_cap;

		s->now_ms = sje_now_ms();
		if (s->n_wake > 0 || s->n_cascade > 0) {
			sched_recover_fixups(s);
		}
		for (size_t i = 0; i < n; i++) {
			if (stopping) {
				sched_reply_err(s, batch[i], SJE_EUNAVAIL, NULL,
				    "the server is shutting down");
			} else {
				sched_handle(s, batch[i]);
			}
		}
		if (stopping) {
			while (s->holds_head != NULL) {
				sched_hold *h = s->holds_head;
				if (h->kind == HOLD_WAIT) {
					sched_hold_detach(s, h);
				}
				sched_reply_err(s, h->call, SJE_EUNAVAIL, NULL,
				    "the server is shutting down");
				sched_hold_remove(s, h);
			}
			sched_flush(s);
			break;
		}
		sched_timers(s);
		sched_dispatch(s);
		sched_flush(s);
	}
	free(batch);
	return NULL;
}

// ---- recovery, open, close --------------------------------------------

static sje_err
sched_recover_row(void *arg, const sje__job_row *row)
{
	sje__sched *s   = arg;
	sched_job  *j   = calloc(1, sizeof(*j));
	if (j == NULL || (j->task_id = sje__strdup(row->task_id)) == NULL) {
		free(j);
		return SJE_ENOMEM;
	}
	j->id               = row->id;
	j->fn               = sched_fn_get(s, row->function);
	j->state            = row->state;
	j->priority         = row->priority;
	j->attempt          = row->attempt;
	j->max_attempts     = row->max_attempts != 0 ? row->max_attempts : 1;
	j->timeout_s        = row->timeout_s;
	j->lease_id         = row->lease_id;
	j->ready_at_ms      = row->ready_at_ms;
	j->started_ms       = row->started_ms;
	j->cancel_requested = row->cancel_requested;
	j->heap_idx         = SIZE_MAX;
	if (sje__hmap_put(&s->jobs, j->task_id, j) != SJE_OK) {
		sched_job_free(j);
		return SJE_ENOMEM;
	}
	switch (j->state) {
	case ST_SCHEDULED:
		heap_push(&s->delayed, j);
		break;
	case ST_QUEUED:
		sched_ready(s, j);
		break;
	case ST_RUNNING:
		// Its worker may still be running it: give it a lease's time
		// from now to be heard of again.
		j->lease_expires_ms = s->now_ms + s->lease_ms;
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
		if (!sched_grow((void **) &r->pending, &r->cap, r->n,
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
				sched_link(p, j);
				continue;
			}
			sje__job_row *prow;
			if ((err = sje__store_get_job(s->store, pid, &prow)) !=
			    SJE_OK) {
				break;
			}
			if (prow->state != ST_SUCCEEDED) {
				failed = true;
				if (!sched_grow((void **) &s->cascade,
				        &s->cap_cascade, s->n_cascade,
				        sizeof(*s->cascade))) {
					err = SJE_ENOMEM;
				} else {
					s->cascade[s->n_cascade++] =
					    (struct cascade) {
						    .task_id = sched_xstrdup(j->task_id),
						    .parent  = sched_xstrdup(pid),
						    .parent_state = prow->state,
					    };
				}
			}
			sje__job_row_free(prow);
		}
		if (err == SJE_OK && !failed && j->n_waiting == 0) {
			if (!sched_grow((void **) &s->wake, &s->cap_wake, s->n_wake,
			        sizeof(*s->wake))) {
				err = SJE_ENOMEM;
			} else {
				s->wake[s->n_wake++] = sched_xstrdup(j->task_id);
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
			sched_wake_child(s, j);
		}
		free(s->wake[i]);
	}
	s->n_wake = 0;
	sched_cascade(s);
}

static bool
sched_free_job_each(void *arg, const char *key, void *value)
{
	(void) arg;
	(void) key;
	sched_job_free(value);
	return true;
}

static void
sched_free_state(sje__sched *s)
{
	sje__hmap_each(&s->jobs, sched_free_job_each, NULL);
	sje__hmap_fini(&s->jobs);
	while (s->fns != NULL) {
		sched_fn *f = s->fns;
		s->fns      = f->next;
		free(f->ready.v);
		free(f->name);
		free(f);
	}
	free(s->delayed.v);
	while (s->workers != NULL) {
		sched_worker *w = s->workers;
		s->workers      = w->next;
		sched_worker_free(w);
	}
	for (size_t i = 0; i < s->n_cascade; i++) {
		free(s->cascade[i].task_id);
		free(s->cascade[i].parent);
	}
	free(s->cascade);
	for (size_t i = 0; i < s->n_wake; i++) {
		free(s->wake[i]);
	}
	free(s->wake);
	free(s->out);
	free(s->evq);
	free(s->inbox);
}

sje_err
sje__sched_open(const sje_config *cfg, sje__store *store,
    sje__events *events, sje__sched **out)
{
	sje__sched *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return SJE_ENOMEM;
	}
	s->cfg            = cfg;
	s->store          = store;
	s->events         = events;
	s->lease_ms       = cfg->executor.lease_s * 1000u;
	s->delayed.by_time = true;
	s->now_ms         = sje_now_ms();
	s->started_ms     = s->now_ms;
	s->next_tick_ms   = s->now_ms + SCHED_TICK_MS;
	sje__hmap_init(&s->jobs);

	sje_err err;
	if ((err = sje__store_meta_get(store, "lease_seq", &s->lease_seq)) !=
	        SJE_OK ||
	    (err = sje__store_meta_get(store, "event_seq", &s->event_seq)) !=
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
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
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
	    !sched_grow((void **) &s->inbox, &s->cap_inbox, s->n_inbox,
	        sizeof(*s->inbox))) {
		pthread_mutex_unlock(&s->mtx);
		sje__call_error(call, SJE_EUNAVAIL, NULL,
		    "the server is shutting down");
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
	pthread_join(s->thread, NULL);
	// Calls posted while the thread stopped are answered by it or by
	// sje__sched_post; none remain.
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	sched_free_state(s);
	free(s);
}
