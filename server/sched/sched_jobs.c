// sched_jobs.c — state changes of the scheduler's jobs: retries and
// back-off, finishing, dependencies (release and cascade), held calls.
// See sched.c for the design; scheduler thread only.
#include "sched/sched_int.h"

#include "log.h"
#include "pbjson.h"
#include "sched/workflow.h"
#include "store/job.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- state changes ----------------------------------------------------

// sje__sched_count updates fn's counters for a job entering state.
void
sje__sched_count(sched_fn *f, int state)
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

// sje__sched_hist_add records one duration.
void
sje__sched_hist_add(sched_hist *h, sje_time_ms ms)
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

// sje__sched_set_state moves j (and its row) to state, logging a bug if the
// state machine does not allow it.
void
sje__sched_set_state(sched_job *j, sje__job_row *row, int state)
{
	if (!sje__job_transition_allowed(j->state, state)) {
		SJE_LOG_JOB(SJE_LOG_ERROR, j->task_id,
		    "bug: transition %s -> %s", sje_job_state_name(j->state),
		    sje_job_state_name(state));
	}
	j->state   = state;
	row->state = state;
	sje__sched_count(j->fn, state);
}

// sje__sched_attempt_end records how j's current attempt ended.
void
sje__sched_attempt_end(sje__sched *s, sched_job *j, const sje__job_row *row,
    int outcome, const char *error_type, const char *error_message)
{
	sje__attempt_row a = {
		.number        = j->attempt,
		.worker        = row->worker,
		.started_ms    = row->started_ms, // wall clock, as stored
		.finished_ms   = s->now_unix_ms,
		.outcome       = outcome,
		.error_type    = (char *) error_type,
		.error_message = (char *) error_message,
	};
	sje__sched_txn(s);
	sje_err err = sje__store_put_attempt(s->store, j->id, &a);
	if (err != SJE_OK) {
		sje__sched_fatal("store attempt", err);
	}
	sje__sched_hist_add(&j->fn->run, s->now_ms - j->started_ms);
}

static void sched_hold_job_done(sje__sched *s, sched_hold *h);

// sje__sched_wake_child moves a PENDING job whose last parent succeeded to
// QUEUED, or SCHEDULED while its delay runs.
void
sje__sched_wake_child(sje__sched *s, sched_job *c)
{
	sje__job_row *row = sje__sched_load(s, c);
	// c->ready_at_ms is the monotonic instant of row->ready_at_ms.
	if (row->ready_at_ms != 0 && c->ready_at_ms > s->now_ms) {
		sje__sched_set_state(c, row, ST_SCHEDULED);
		sje__sched_heap_push(&s->delayed, c);
	} else {
		sje__sched_set_state(c, row, ST_QUEUED);
		row->ready_at_ms = 0;
		sje__sched_ready(s, c);
	}
	sje__sched_save(s, row, ST_PENDING, 0);
	sje__sched_event_push(s, c, NULL, NULL, NULL);
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
				sje__sched_wake_child(s, c);
			}
			continue;
		}
		if (!sje__sched_grow((void **) &s->cascade, &s->cap_cascade,
		        s->n_cascade, sizeof(*s->cascade))) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
		s->cascade[s->n_cascade++] = (struct cascade) {
			.task_id      = sje__sched_xstrdup(c->task_id),
			.parent       = sje__sched_xstrdup(j->task_id),
			.parent_state = j->state,
		};
	}
}

// sje__sched_cascade ends the queued children UPSTREAM_FAILED, and theirs in
// turn, iteratively.
void
sje__sched_cascade(sje__sched *s)
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
			sje__job_row *row = sje__sched_load(s, c);
			sje__sched_row_set_str(
			    &row->error_type, "upstream_failed");
			sje__sched_row_set_str(&row->error_message, why);
			sje__sched_set_state(c, row,
			    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);
			sje__sched_finish(s, c, row);
			sje__job_row_free(row);
		}
		free(e.task_id);
		free(e.parent);
	}
	s->cascading = false;
}

// sje__sched_finish ends j: its row (already in its terminal state) is saved,
// the event queued, waiters told, and j forgotten.
void
sje__sched_finish(sje__sched *s, sched_job *j, sje__job_row *row)
{
	row->finished_ms      = s->now_unix_ms;
	row->lease_expires_ms = 0;
	sje__sched_save(s, row, 0, j->lease_id); // from any unfinished state
	sje__sched_event_push(
	    s, j, row->worker, row->error_type, row->error_message);
	sje__sched_unqueue(s, j);
	sje__sched_release_lease(s, j);
	sje__hmap_del(&s->jobs, j->task_id);
	for (size_t i = 0; i < j->n_waiters; i++) {
		sched_hold_job_done(s, j->waiters[i]);
	}
	SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id, "%s after %u attempt(s)",
	    sje_job_state_name(j->state), j->attempt);
	sched_children_done(s, j);
	sje__sched_job_free(j);
	sje__sched_cascade(s);
}

// sched_retry_delay_ms is the back-off before attempt number attempt + 1:
// exponential with full jitter (a random delay up to the exponential
// ceiling), or the initial delay when the policy says "fixed".
static uint32_t
sched_retry_delay_ms(sje__sched *s, const sje__job_row *row, uint32_t attempt)
{
	const sje_retry_cfg    *def = &s->cfg->tasks.retry;
	const sje_function_cfg *fc =
	    sje_config_function(s->cfg, row->function);
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

// sched_plugins_retry asks the plugins' decide_retry hooks about a failed
// attempt that the policy would retry after *delay_ms: false when one
// says stop; *delay_ms changed when one names another wait.
static bool
sched_plugins_retry(sje__sched *s, const sched_job *j, const sje__job_row *row,
    const char *type, const char *message, uint32_t *delay_ms)
{
	sje_job_event     ev;
	const char       *who = NULL;
	sje_retry_verdict v;

	if (!sje__hooks_deciding_retry(s->hooks)) {
		return true;
	}
	memset(&ev, 0, sizeof(ev));
	ev.size          = sizeof(ev);
	ev.source        = "coordinator";
	ev.task_id       = j->task_id;
	ev.function      = j->fn->name;
	ev.state         = "FAILED";
	ev.prev_state    = "RUNNING";
	ev.attempt       = j->attempt;
	ev.at_ms         = s->now_unix_ms;
	ev.worker        = row->worker;
	ev.error_type    = type;
	ev.error_message = message;
	v                = sje__hooks_decide_retry(
	                   s->hooks, &ev, j->max_attempts, delay_ms, &who);
	if (v == SJE_RETRY_STOP) {
		SJE_LOG_JOB(SJE_LOG_INFO, j->task_id,
		    "plugin %s: no more attempts after attempt %u", who,
		    j->attempt);
		return false;
	}
	if (v == SJE_RETRY_AFTER) {
		SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id,
		    "plugin %s: next attempt in %u ms", who, *delay_ms);
	}
	return true;
}

// sje__sched_attempt_failed ends j's current attempt (RUNNING) with an error:
// cancelled when a cancel was asked for, else again after the back-off
// while attempts remain, else FAILED. row is j's, loaded by the caller.
void
sje__sched_attempt_failed(sje__sched *s, sched_job *j, sje__job_row *row,
    const char *type, const char *message)
{
	sje__sched_row_set_str(&row->error_type, type);
	sje__sched_row_set_str(&row->error_message, message);
	sje__sched_release_lease(s, j);
	row->lease_expires_ms = 0;
	SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "attempt %u failed: %s: %s",
	    j->attempt, type, message);
	sje__sched_attempt_end(s, j, row,
	    j->cancel_requested ? ST_CANCELLED : ST_FAILED, type, message);
	if (j->cancel_requested) {
		sje__sched_set_state(j, row, ST_CANCELLED);
		sje__sched_finish(s, j, row);
		return;
	}
	if (j->attempt >= j->max_attempts) {
		sje__sched_set_state(j, row, ST_FAILED);
		sje__sched_finish(s, j, row);
		return;
	}
	uint32_t delay = sched_retry_delay_ms(s, row, j->attempt);
	if (!sched_plugins_retry(s, j, row, type, message, &delay)) {
		sje__sched_set_state(j, row, ST_FAILED);
		sje__sched_finish(s, j, row);
		return;
	}
	j->fn->retried++;
	if (delay == 0) {
		sje__sched_set_state(j, row, ST_QUEUED);
		sje__sched_ready(s, j);
	} else {
		sje__sched_set_state(j, row, ST_SCHEDULED);
		j->ready_at_ms   = s->now_ms + delay;
		row->ready_at_ms = s->now_unix_ms + delay;
		sje__sched_heap_push(&s->delayed, j);
	}
	sje__sched_save(s, row, ST_RUNNING, j->lease_id);
	sje__sched_event_push(s, j, row->worker, type, message);
}

// ---- held calls ----------------------------------------------------------

// The deadline heap of held calls, earliest deadline first (a hold's
// deadline never changes). Ties come out in no particular order: each is
// answered in the same round either way.

static void
hold_heap_set(sched_hheap *q, size_t i, sched_hold *h)
{
	q->v[i]     = h;
	h->heap_idx = i;
}

static void
hold_heap_up(sched_hheap *q, size_t i)
{
	sched_hold *h = q->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (q->v[p]->deadline_ms <= h->deadline_ms) {
			break;
		}
		hold_heap_set(q, i, q->v[p]);
		i = p;
	}
	hold_heap_set(q, i, h);
}

static void
hold_heap_down(sched_hheap *q, size_t i)
{
	sched_hold *h = q->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n) {
			break;
		}
		if (c + 1 < q->n &&
		    q->v[c + 1]->deadline_ms < q->v[c]->deadline_ms) {
			c++;
		}
		if (h->deadline_ms <= q->v[c]->deadline_ms) {
			break;
		}
		hold_heap_set(q, i, q->v[c]);
		i = c;
	}
	hold_heap_set(q, i, h);
}

static void
hold_heap_remove(sched_hheap *q, sched_hold *h)
{
	size_t i = h->heap_idx;
	if (i >= q->n || q->v[i] != h) {
		return;
	}
	sched_hold *last = q->v[--q->n];
	if (i < q->n) {
		hold_heap_set(q, i, last);
		hold_heap_up(q, i);
		hold_heap_down(q, last->heap_idx);
	}
}

sched_hold *
sje__sched_hold_add(
    sje__sched *s, hold_kind kind, sje__call *call, uint32_t wait_ms)
{
	sched_hheap *q = &s->hold_heap;
	if (!sje__sched_grow((void **) &q->v, &q->cap, q->n, sizeof(*q->v))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	sched_hold  *h = sje__sched_xalloc(sizeof(*h));
	sched_holds *l = &s->holds[kind];
	h->kind        = kind;
	h->call        = call;
	h->deadline_ms = s->now_ms + wait_ms;
	h->prev        = l->tail;
	if (l->tail != NULL) {
		l->tail->next = h;
	} else {
		l->head = h;
	}
	l->tail = h;
	l->n++;
	size_t i = q->n++;
	hold_heap_set(q, i, h);
	hold_heap_up(q, i);
	return h;
}

void
sje__sched_hold_remove(sje__sched *s, sched_hold *h)
{
	sched_holds *l = &s->holds[h->kind];
	if (h->prev != NULL) {
		h->prev->next = h->next;
	} else {
		l->head = h->next;
	}
	if (h->next != NULL) {
		h->next->prev = h->prev;
	} else {
		l->tail = h->prev;
	}
	l->n--;
	hold_heap_remove(&s->hold_heap, h);
	if (h->kind == HOLD_FETCH && h->worker != NULL) {
		h->worker->n_holds--;
	}
	free(h);
}

// sje__sched_wait_reply answers a Wait call with the current record of every
// job it names.
void
sje__sched_wait_reply(sje__sched *s, sje__call *call, bool done)
{
	const Sje__V1__WaitRequest *req =
	    (const Sje__V1__WaitRequest *) sje__call_input(call);
	Sje__V1__WaitReply reply = SJE__V1__WAIT_REPLY__INIT;
	reply.jobs =
	    sje__sched_xalloc(sizeof(*reply.jobs) * (req->n_task_ids + 1));
	for (size_t i = 0; i < req->n_task_ids; i++) {
		sje__job_row *row;
		if (sje__store_get_job(s->store, req->task_ids[i], &row) !=
		    SJE_OK) {
			continue;
		}
		sje_err err =
		    sje__job_row_to_pb(row, &reply.jobs[reply.n_jobs]);
		if (err == SJE_OK) {
			sje__sched_attach_attempts(
			    s, reply.jobs[reply.n_jobs], row->id);
			reply.n_jobs++;
		}
		sje__job_row_free(row);
	}
	reply.done = done;
	sje__sched_reply_ok(s, call, &reply.base);
	for (size_t i = 0; i < reply.n_jobs; i++) {
		sje__v1__job__free_unpacked(reply.jobs[i], NULL);
	}
	free(reply.jobs);
}

// sje__sched_hold_detach takes a Wait hold off the jobs it waits on.
void
sje__sched_hold_detach(sje__sched *s, sched_hold *h)
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
		sje__sched_hold_detach(s, h);
		sje__sched_wait_reply(s, h->call, true);
		sje__sched_hold_remove(s, h);
	}
}
