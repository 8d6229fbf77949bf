// jobs.c — state changes of the scheduler's jobs (jobs.h): retries and
// back-off, finishing, dependencies (release and cascade), the Wait
// holds a finished job answers, and the moves that an operator's call
// makes on one job and that its single and bulk forms share (cancel,
// re-run). See round.c for the design; the round's holder only.
#include "sched/jobs.h"

#include "sched/heap.h"
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
	if (j->state == ST_RUNNING && state != ST_RUNNING) {
		j->fn->n_running--;
	} else if (state == ST_RUNNING && j->state != ST_RUNNING) {
		j->fn->n_running++;
	}
	j->state = state;
	if (row != NULL) {
		row->state = state;
	}
	sje__sched_count(j->fn, state);
}

// sje__sched_defaults works out the effective timeout and attempts of spec.
void
sje__sched_defaults(sje__sched *s, const Sje__V1__JobSpec *spec,
    uint32_t *timeout_s, uint32_t *max_attempts)
{
	const sje_function_cfg *fc =
	    sje_config_function(s->cfg, spec->function);
	*timeout_s    = spec->timeout_s != 0      ? spec->timeout_s
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

// sched_attempt_count counts j's attempt, ended now with outcome, in the
// run-time histogram and the minute totals.
static void
sched_attempt_count(sje__sched *s, const sched_job *j, int outcome)
{
	sje__sched_hist_add(&j->fn->run, s->now_ms - j->started_ms);
	sje__minutes_note(&s->minutes, s->now_unix_ms, outcome == ST_SUCCEEDED,
	    s->now_ms - j->started_ms);
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
	sched_attempt_count(s, j, outcome);
}

static void sched_hold_job_done(sje__sched *s, sched_hold *h);
static void sched_finished(sje__sched *s, sched_job *j, const char *worker,
    const char *error_type, const char *error_message);

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
	sched_finished(s, j, row->worker, row->error_type, row->error_message);
}

void
sje__sched_succeed(
    sje__sched *s, sched_job *j, const char *worker, const char *result)
{
	sje__job_success ok = { .lease_id = j->lease_id,
		.result_json              = result,
		.finished_ms              = s->now_unix_ms };
	sje__sched_txn(s);
	sje_err err = sje__store_succeed_job(s->store, j->id, &ok);
	if (err == SJE_EPRECOND) {
		// As in sje__sched_save: memory and the store disagree.
		SJE_LOG_JOB(SJE_LOG_ERROR, j->task_id,
		    "bug: the store's job is not running under the lease "
		    "memory has");
	}
	if (err != SJE_OK) {
		sje__sched_fatal("store update", err);
	}
	sched_attempt_count(s, j, ST_SUCCEEDED);
	sje__sched_set_state(j, NULL, ST_SUCCEEDED);
	SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id, "succeeded");
	sched_finished(s, j, worker, NULL, NULL);
}

// sched_finished ends j, whose row the store holds in its terminal state:
// the event queued (worker and the error as the row has them), waiters
// told, children released or failed, and j forgotten.
static void
sched_finished(sje__sched *s, sched_job *j, const char *worker,
    const char *error_type, const char *error_message)
{
	sje__sched_event_push(s, j, worker, error_type, error_message);
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

// sched_hold_job_done tells a Wait hold that one of its jobs finished.
static void
sched_hold_job_done(sje__sched *s, sched_hold *h)
{
	if (h->remaining > 0 && --h->remaining == 0) {
		sje__sched_hold_detach(s, h);
		sje__sched_wait_answer(s, h, true);
		sje__sched_hold_remove(s, h);
	}
}

Sje__V1__JobSpec *
sje__sched_job_spec(sje__sched *s, const sched_job *j)
{
	if (j->spec != NULL) {
		return sje__v1__job_spec__unpack(NULL, j->spec_len, j->spec);
	}
	sje__job_row     *row = sje__sched_load(s, j);
	Sje__V1__JobSpec *spec =
	    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
	sje__job_row_free(row);
	return spec;
}

bool
sje__sched_cancel_job(sje__sched *s, sched_job *j)
{
	sje__job_row *row = sje__sched_load(s, j);
	if (j->state == ST_RUNNING) {
		j->cancel_requested   = true;
		row->cancel_requested = true;
		sje__sched_save(s, row, ST_RUNNING, j->lease_id);
		sje__sched_event_full(
		    s, j, row->worker, NULL, NULL, NULL, true);
		SJE_LOG_JOB(SJE_LOG_INFO, j->task_id,
		    "cancel requested while running");
		sje__job_row_free(row);
		return false;
	}
	row->cancel_requested = true;
	j->cancel_requested   = true;
	sje__sched_unqueue(s, j);
	sje__sched_set_state(j, row, ST_CANCELLED);
	SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "cancelled");
	sje__sched_finish(s, j, row);
	sje__job_row_free(row);
	return true;
}

sched_job *
sje__sched_rerun(
    sje__sched *s, sje__job_row *row, const Sje__V1__JobSpec *spec, bool waits)
{
	int      from = row->state;
	uint32_t timeout_s, allowance;
	if (spec != NULL) {
		sje__sched_defaults(s, spec, &timeout_s, &allowance);
	} else {
		allowance = 1;
	}
	row->state            = waits ? ST_PENDING : ST_QUEUED;
	row->max_attempts     = row->attempt + allowance;
	row->lease_expires_ms = 0;
	row->ready_at_ms      = 0;
	sje__sched_row_set_str(&row->result_json, NULL);
	sje__sched_row_set_str(&row->error_type, NULL);
	sje__sched_row_set_str(&row->error_message, NULL);
	row->progress_pct = 0;
	sje__sched_row_set_str(&row->progress_msg, NULL);
	row->cancel_requested = false;
	row->started_ms       = 0;
	row->finished_ms      = 0;
	sje__sched_save(s, row, from, 0);
	sched_job *j = sje__sched_job_of_row(s, row);
	if (j->state == ST_QUEUED) {
		sje__sched_ready(s, j);
	}
	sje__sched_event_push(s, j, NULL, NULL, NULL);
	SJE_LOG_JOB(SJE_LOG_INFO, j->task_id,
	    "re-run after %s: %s, attempt %u next, up to %u",
	    sje_job_state_name(from), sje_job_state_name(j->state),
	    row->attempt + 1, row->max_attempts);
	return j;
}

void
sje__sched_rerun_link(
    sje__sched *s, sched_job *j, char *const *parents, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		sched_job *par = sje__hmap_get(&s->jobs, parents[k]);
		if (par != NULL) {
			sje__sched_link(par, j);
		}
	}
	if (j->n_waiting == 0) {
		sje__sched_wake_child(s, j); // cannot happen: it waits
	}
}
