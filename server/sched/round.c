// round.c — the scheduler: one round at a time owns every job's life. This
// file is its top: the thread, the inbox, who runs a round, one round, the
// method switch, open and close (scheduler.h). The layers below are listed
// in base.h.
//
// Design. RPC handlers (on nng's threads) only append calls to the inbox;
// the scheduler works in rounds, each run by one thread (below: the
// scheduler thread, or the poster of a call):
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
// Who runs a round: whoever holds it (s->running, under s->mtx), and
// everything below the inbox belongs to that thread while it does. A
// thread that posts a call when nobody holds the round takes it and
// runs it itself, at once, up to SCHED_COMBINE_ROUNDS rounds while calls
// keep coming, instead of waking the scheduler thread and going to sleep
// (a combining lock): one job at a time then costs no hand-off between
// threads, which on a busy machine is a wait for a core each. A poster
// that finds the round held only appends its call, which the holder
// takes before it lets go. The scheduler thread runs the rounds that
// nobody posts for (timers), and every round while more calls come than
// posters run. The handing over is under s->mtx, so a round sees what
// the one before it did. Posters run rounds only when the store answers
// from this machine (SQLite): a round of a remote store waits on the
// network, and the posters are nng's few task threads.
//
// Threads: s->mtx guards the inbox, the stopping flag and who holds the
// round; the rest belongs to the round's holder.
#include "sched/scheduler.h"

#include "sched/base.h"
#include "sched/bulk.h"
#include "sched/clients.h"
#include "sched/manage.h"
#include "sched/recover.h"
#include "sched/reply.h"
#include "sched/schedules.h"
#include "sched/state.h"
#include "sched/submit.h"
#include "sched/table.h"
#include "sched/timers.h"
#include "sched/workers.h"

#include "log.h"
#include "methods.h"
#include "util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert((int) SJE__HUB_N <= (int) SJE__COORD_N,
    "s->calls holds the methods of both services");

static void
sched_handle(sje__sched *s, sje__call *call)
{
	const ProtobufCServiceDescriptor *svc = sje__call_service(call);
	unsigned                          m   = sje__call_method(call);
	size_t kind = svc == &sje__v1__coordinator__descriptor ? 0 : 1;
	if (m < sizeof(s->calls[0]) / sizeof(s->calls[0][0])) {
		s->calls[kind][m]++;
	}
	if (svc == &sje__v1__coordinator__descriptor) {
		switch (m) {
		case SJE__COORD_SUBMIT:
			sje__sched_submit(s, call);
			return;
		case SJE__COORD_GET_STATUS:
			sje__sched_get_status(s, call);
			return;
		case SJE__COORD_WAIT:
			sje__sched_wait(s, call);
			return;
		case SJE__COORD_CANCEL:
			sje__sched_cancel(s, call);
			return;
		case SJE__COORD_LIST_JOBS:
			sje__sched_list_jobs(s, call);
			return;
		case SJE__COORD_LIST_WORKERS:
			sje__sched_list_workers(s, call);
			return;
		case SJE__COORD_LIST_EVENTS:
			sje__sched_list_events(s, call);
			return;
		case SJE__COORD_STATS:
			sje__sched_stats(s, call);
			return;
		case SJE__COORD_RUN_WORKFLOW:
			sje__sched_run_workflow(s, call);
			return;
		case SJE__COORD_RETRY:
			sje__sched_retry(s, call);
			return;
		case SJE__COORD_DELETE_JOB:
			sje__sched_delete_job(s, call);
			return;
		case SJE__COORD_EXPLAIN:
			sje__sched_explain(s, call);
			return;
		case SJE__COORD_LIST_FUNCTIONS:
			sje__sched_list_functions(s, call);
			return;
		case SJE__COORD_SET_FUNCTION:
			sje__sched_set_function(s, call);
			return;
		case SJE__COORD_LIST_SCHEDULES:
			sje__sched_list_schedules(s, call);
			return;
		case SJE__COORD_BULK_CANCEL:
			sje__sched_bulk(s, call, BULK_CANCEL);
			return;
		case SJE__COORD_BULK_RETRY:
			sje__sched_bulk(s, call, BULK_RETRY);
			return;
		case SJE__COORD_BULK_DELETE:
			sje__sched_bulk(s, call, BULK_DELETE);
			return;
		case SJE__COORD_GET_WORKFLOW_RUN:
			sje__sched_get_workflow_run(s, call);
			return;
		case SJE__COORD_CANCEL_WORKFLOW_RUN:
			sje__sched_cancel_workflow_run(s, call);
			return;
		case SJE__COORD_LIST_WORKFLOW_RUNS:
			sje__sched_list_workflow_runs(s, call);
			return;
		}
	} else if (svc == &sje__v1__worker_hub__descriptor) {
		switch (m) {
		case SJE__HUB_REGISTER:
			sje__sched_register(s, call);
			return;
		case SJE__HUB_FETCH:
			sje__sched_fetch(s, call);
			return;
		case SJE__HUB_HEARTBEAT:
			sje__sched_heartbeat(s, call);
			return;
		case SJE__HUB_COMPLETE:
			sje__sched_report(s, call, REPORT_COMPLETE);
			return;
		case SJE__HUB_FAIL:
			sje__sched_report(s, call, REPORT_FAIL);
			return;
		case SJE__HUB_RELEASE:
			sje__sched_report(s, call, REPORT_RELEASE);
			return;
		case SJE__HUB_CHALLENGE:
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
	if (s->rate_wake_ms < t) {
		t = s->rate_wake_ms;
	}
	if (s->schedule_wake_ms < t) {
		t = s->schedule_wake_ms;
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

// sched_take swaps the inbox for the spare s->batch: the calls posted so
// far are then in s->batch, *n of them, and handlers go on posting into
// the spare. Returns whether the scheduler is stopping. Called with s->mtx
// held, by the round's holder.
static bool
sched_take(sje__sched *s, size_t *n)
{
	sje__call **in     = s->inbox;
	size_t      in_cap = s->cap_inbox;
	*n                 = s->n_inbox;
	s->inbox           = s->batch;
	s->cap_inbox       = s->cap_batch;
	s->n_inbox         = 0;
	s->batch           = in;
	s->cap_batch       = in_cap;
	return s->stopping;
}

// sched_run is one round over the n calls of batch (see the design note);
// when stopping, it answers them and every held call UNAVAILABLE instead.
static void
sched_run(sje__sched *s, sje__call **batch, size_t n, bool stopping)
{
	sched_clock_now(s);
	if (s->n_wake > 0 || s->n_cascade > 0) {
		sje__sched_recover_fixups(s);
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
	sje__sched_schedules_fire(s);
	sje__sched_dispatch(s);
	sched_flush(s);
}

// sched_let_go gives the round up, with s->mtx held: the scheduler thread
// is woken when calls wait, when it waited for the holder, or when the
// round moved the next wake-up before the one it waits for.
static void
sched_let_go(sje__sched *s)
{
	sje_dur_ms wake  = sched_next_wake(s); // the holder's still
	bool wake_thread = s->n_inbox > 0 || s->stopping || s->thread_waits ||
	    wake < s->thread_wake;
	s->thread_wake = wake;
	s->running     = false;
	if (wake_thread) {
		pthread_cond_signal(&s->cv);
	}
}

// sched_wait_round waits on s->cv, with s->mtx held, until nobody holds
// the round and a call is posted, the scheduler stops, or the clock
// reaches s->thread_wake. The timed wait runs on CLOCK_MONOTONIC (s->cv
// is made so), for the time left on the scheduler's clock: a step of the
// wall clock neither ends it early nor makes it late.
static void
sched_wait_round(sje__sched *s)
{
	for (;;) {
		if (s->running) {
			s->thread_waits = true;
			pthread_cond_wait(&s->cv, &s->mtx);
			s->thread_waits = false;
			continue;
		}
		if (s->n_inbox > 0 || s->stopping) {
			return;
		}
		sje_dur_ms left =
		    s->thread_wake - s->clock.mono_ms(s->clock.arg);
		if (left <= 0) {
			return;
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
	sje__sched *s = arg;
	sje__thread_name("sje:sched");
	pthread_mutex_lock(&s->mtx);
	for (;;) {
		size_t n;
		sched_wait_round(s);
		s->running    = true;
		bool stopping = sched_take(s, &n);
		pthread_mutex_unlock(&s->mtx);
		sched_run(s, s->batch, n, stopping);
		pthread_mutex_lock(&s->mtx);
		if (stopping) {
			s->running = false;
			break;
		}
		s->thread_wake = sched_next_wake(s);
		s->running     = false;
	}
	pthread_mutex_unlock(&s->mtx);
	return NULL;
}

// sched_round_now takes the inbox and runs one round on the caller's
// thread (a manual scheduler's).
static void
sched_round_now(sje__sched *s)
{
	size_t n;
	pthread_mutex_lock(&s->mtx);
	bool stopping = sched_take(s, &n);
	pthread_mutex_unlock(&s->mtx);
	sched_run(s, s->batch, n, stopping);
}

void
sje__sched_round(sje__sched *s)
{
	assert(s->manual);
	sched_round_now(s);
}

// sched_configured makes the functions config names (tasks.functions,
// workflow steps and schedules): they are never forgotten and never count
// as unserved.
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
	for (size_t i = 0; i < cfg->n_schedules; i++) {
		if (cfg->schedules[i].function == NULL) {
			continue;
		}
		sched_fn *f = sje__sched_fn_get(s, cfg->schedules[i].function);
		if (!f->configured) {
			f->configured = true;
			s->n_unserved--;
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
		free(f->routes); // empty: the jobs are freed
		free(f->op_rate);
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
	sje__sched_schedules_free(s);
	free(s->out);
	free(s->evq);
	free(s->inbox);
	free(s->batch);
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
	s->cfg     = cfg;
	s->store   = store;
	s->events  = events;
	s->hooks   = hooks;
	s->alerts  = alerts;
	s->clock   = opts != NULL && opts->clock != NULL ? *opts->clock
	                                                 : SJE__CLOCK_SYSTEM;
	s->manual  = opts != NULL && opts->manual;
	s->combine = !s->manual &&
	    (cfg->server.store == NULL ||
	        strcmp(cfg->server.store, "sqlite") == 0);
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
	if ((err = sje__sched_recover(s)) != SJE_OK ||
	    (err = sje__sched_schedules_open(s)) != SJE_OK) {
		goto fail;
	}
	SJE_INFO("recovered %zu unfinished jobs (%zu ready, %zu delayed)",
	    sje__hmap_count(&s->jobs), s->n_ready, s->delayed.n);
	if ((err = sched_sync_init(s)) != SJE_OK) {
		goto fail;
	}
	s->thread_wake = sched_next_wake(s);
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
	if (s->running) {
		pthread_mutex_unlock(&s->mtx); // its holder takes the call
		return;
	}
	if (!s->combine) {
		if (s->n_inbox == 1) {
			pthread_cond_signal(&s->cv);
		}
		pthread_mutex_unlock(&s->mtx);
		return;
	}
	// Nobody holds the round: run it here (see the design note).
	s->running = true;
	for (int r = 0;
	     r < SCHED_COMBINE_ROUNDS && s->n_inbox > 0 && !s->stopping; r++) {
		size_t n;
		(void) sched_take(s, &n);
		pthread_mutex_unlock(&s->mtx);
		sched_run(s, s->batch, n, false);
		pthread_mutex_lock(&s->mtx);
	}
	sched_let_go(s);
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
