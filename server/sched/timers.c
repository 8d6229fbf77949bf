// timers.c — what the clock makes due (timers.h): delayed jobs becoming
// ready, held calls out of time, and the tick: leases or timeouts run
// out (the top of the lease heap), events pruned, finished jobs purged,
// silent workers forgotten; and the alert rules every
// monitoring.check_interval_s. Every instant is the round's monotonic
// one; see round.c for the design. Scheduler thread only.
#include "sched/timers.h"

#include "sched/heap.h"
#include "sched/jobs.h"
#include "sched/reply.h"
#include "sched/table.h"
#include "sched/txn.h"

#include "log.h"
#include "store/job.h"
#include "util.h"

#include <string.h>

// sched_unserved_check finds the functions whose jobs wait QUEUED with no
// live worker able to take them (paused functions aside): none serves the
// function, or none that serves it has the labels a route needs. Once
// that has lasted tasks.unserved_warn_s, it is logged as a warning, once,
// and counted in s->unserved_waiting (the gauge
// sje_functions_waiting_for_workers, and the alert metric
// functions_waiting_for_workers) until a worker can take them or nothing
// of it waits.
static void
sched_unserved_check(sje__sched *s)
{
	// Which routes some live worker can take.
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		for (size_t i = 0; i < f->n_routes; i++) {
			f->routes[i]->matched = false;
		}
	}
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		for (size_t k = 0; k < w->n_fns; k++) {
			sched_fn *f = w->fns[k];
			for (size_t i = 0; i < f->n_routes; i++) {
				sched_route *r = f->routes[i];
				if (!r->matched &&
				    sje__sched_route_matches(r, w)) {
					r->matched = true;
				}
			}
		}
	}
	sje_dur_ms warn_ms = (sje_dur_ms) s->cfg->tasks.unserved_warn_s * 1000;
	s->unserved_waiting = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		size_t             stuck = f->n_workers == 0 ? f->ready.n : 0;
		const sched_route *need  = NULL;
		for (size_t i = 0; i < f->n_routes; i++) {
			const sched_route *r = f->routes[i];
			if (r->ready.n > 0 && !r->matched) {
				stuck += r->ready.n;
				need = need != NULL ? need : r;
			}
		}
		if (stuck == 0 || f->paused) {
			if (f->unserved_warned) {
				SJE_INFO("function %s: its queued jobs have "
				         "workers again, or none waits",
				    f->name);
			}
			f->unserved_waits  = false;
			f->unserved_warned = false;
			continue;
		}
		if (!f->unserved_waits) {
			f->unserved_waits    = true;
			f->unserved_since_ms = s->now_ms;
		}
		sje_dur_ms waited = s->now_ms - f->unserved_since_ms;
		if (warn_ms == 0 || waited < warn_ms) {
			continue;
		}
		s->unserved_waiting++;
		if (f->unserved_warned) {
			continue;
		}
		f->unserved_warned = true;
		if (f->n_workers == 0) {
			SJE_WARN("function %s: %zu job(s) queued and no live "
			         "worker has served it for %lld s",
			    f->name, stuck, (long long) (waited / 1000));
		} else {
			// The route's signature, "k=v\n...", on one line.
			char labels[256];
			sje__snprintf(labels, sizeof(labels), "%s", need->sig);
			for (char *c = labels; *c != '\0'; c++) {
				*c = *c == '\n' ? ' ' : *c;
			}
			SJE_WARN(
			    "function %s: %zu job(s) queued that need labels "
			    "no live worker of it has (%s) for %lld s",
			    f->name, stuck, labels,
			    (long long) (waited / 1000));
		}
	}
}

// sched_tick expires leases and forgets workers long silent.
static void
sched_tick(sje__sched *s)
{
	// The jobs whose lease ran out, or that ran past their timeout and
	// a lease of grace (their worker should have stopped them and
	// reported a timeout), come off the top of the lease heap.
	sched_job *j;
	while ((j = sje__sched_lease_next(s)) != NULL) {
		sje__job_row *row = sje__sched_load(s, j);
		char          msg[256];
		if (j->lease_expires_ms <= s->now_ms) {
			sje__snprintf(msg, sizeof(msg),
			    "lease expired: worker '%s' stopped heartbeating",
			    row->worker != NULL ? row->worker : "?");
			sje__sched_attempt_failed(s, j, row, "lost", msg);
		} else {
			// The worker still heartbeats but did not stop the
			// job: the attempt ends here, and its late report is
			// refused.
			sje__snprintf(msg, sizeof(msg),
			    "timed out after %u s (worker '%s' did not stop it)",
			    j->timeout_s,
			    row->worker != NULL ? row->worker : "?");
			sje__sched_attempt_failed(s, j, row, "timeout", msg);
		}
		sje__job_row_free(row);
	}

	// Keep the last SCHED_EVENT_RETENTION events for catch-up readers,
	// and those the hooks have not seen yet, within a bound.
	uint64_t upto = s->event_seq > SCHED_EVENT_RETENTION
	    ? s->event_seq - SCHED_EVENT_RETENTION
	    : 0;
	uint64_t seen = sje__hooks_delivered(s->hooks);
	if (seen < upto) {
		uint64_t bound = s->event_seq > SCHED_EVENT_RETENTION_HOOKS
		    ? s->event_seq - SCHED_EVENT_RETENTION_HOOKS
		    : 0;
		upto           = seen > bound ? seen : bound;
	}
	if (upto > s->pruned_seq) {
		sje__sched_txn(s);
		sje_err err = sje__store_prune_events(s->store, upto);
		if (err != SJE_OK) {
			sje__sched_fatal("store prune", err);
		}
		s->pruned_seq = upto;
	}

	// Finished jobs older than server.result_ttl_s are forgotten, a
	// bounded batch at a time so that no round takes long.
	if (s->cfg->server.result_ttl_s != 0 &&
	    s->now_ms >= s->next_purge_ms) {
		uint32_t n = 0;
		sje__sched_txn(s);
		sje_err err = sje__store_purge_finished(s->store,
		    s->now_unix_ms -
		        (sje_time_ms) s->cfg->server.result_ttl_s * 1000,
		    SCHED_PURGE_BATCH, &n);
		if (err != SJE_OK) {
			sje__sched_fatal("store purge", err);
		}
		if (n > 0) {
			SJE_INFO("purged %u finished jobs older than %u s", n,
			    s->cfg->server.result_ttl_s);
		}
		s->next_purge_ms = s->now_ms +
		    (n == SCHED_PURGE_BATCH ? SCHED_TICK_MS
		                            : SCHED_PURGE_EVERY_MS);
	}

	sje_dur_ms     forget = (sje_dur_ms) s->lease_ms * SCHED_FORGET_LEASES;
	sched_worker **pp     = &s->workers;
	while (*pp != NULL) {
		sched_worker *w = *pp;
		if (w->busy == 0 && w->n_holds == 0 &&
		    w->last_seen_ms + forget < s->now_ms) {
			SJE_INFO("worker %s forgotten: silent for %lld ms",
			    w->name,
			    (long long) (s->now_ms - w->last_seen_ms));
			*pp     = w->next;
			w->next = NULL;
			sje__sched_worker_drop(s, w);
		} else {
			pp = &w->next;
		}
	}
	sched_unserved_check(s);
	sje__sched_fn_sweep(s);
}

// alerts_count_each tallies the unfinished jobs by state.
static bool
alerts_count_each(void *arg, const char *key, void *value)
{
	sje__alert_input *in = arg;
	const sched_job  *j  = value;

	(void) key;
	switch (j->state) {
	case ST_QUEUED:
		in->queued++;
		break;
	case ST_RUNNING:
		in->running++;
		break;
	case ST_SCHEDULED:
		in->scheduled++;
		break;
	case ST_PENDING:
		in->pending++;
		break;
	default:
		break;
	}
	return true;
}

// alerts_changed passes an alert that fired or resolved to the hook
// thread.
static void
alerts_changed(void *arg, const sje_alert *alert, const char *notify)
{
	sje__sched *s = arg;
	sje__hooks_alert(s->hooks, alert, notify);
}

// sched_check_alerts counts what monitoring.alerts read and checks the
// rules; changes go to the hook thread.
static void
sched_check_alerts(sje__sched *s)
{
	sje__alert_input in;

	memset(&in, 0, sizeof(in));
	sje__hmap_each(&s->jobs, alerts_count_each, &in);
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		in.workers++;
		in.slots += w->slots;
		in.slots_busy += w->busy;
	}
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		in.succeeded_total += f->succeeded;
		in.failed_total += f->failed;
	}
	in.unserved_waiting = s->unserved_waiting;
	in.succeeded_total += s->forgotten.succeeded;
	in.failed_total += s->forgotten.failed;
	// The alert rules read the wall clock: an alert's at_ms is shown.
	sje__alerts_check(s->alerts, &in, s->now_unix_ms, alerts_changed, s);
}

// sje__sched_timers runs what is due: delayed jobs, held calls out of time,
// and the periodic tick.
void
sje__sched_timers(sje__sched *s)
{
	while (s->delayed.n > 0 && s->delayed.v[0]->ready_at_ms <= s->now_ms) {
		sched_job *j = s->delayed.v[0];
		sje__sched_heap_remove(&s->delayed, j);
		sje__job_row *row = sje__sched_load(s, j);
		sje__sched_set_state(j, row, ST_QUEUED);
		row->ready_at_ms = 0;
		sje__sched_save(s, row, ST_SCHEDULED, 0);
		sje__job_row_free(row);
		sje__sched_ready(s, j);
		sje__sched_event_push(s, j, NULL, NULL, NULL);
	}
	// Held calls out of time come off the top of the deadline heap.
	while (s->hold_heap.n > 0 &&
	    s->hold_heap.v[0]->deadline_ms <= s->now_ms) {
		sched_hold *h = s->hold_heap.v[0];
		if (h->kind == HOLD_FETCH) {
			sje__sched_fetch_reply(s, h, NULL, 0);
		} else if (h->kind == HOLD_EVENTS) {
			sje__sched_events_reply(s, h->call, true);
		} else {
			sje__sched_hold_detach(s, h);
			sje__sched_wait_answer(s, h, false);
		}
		sje__sched_hold_remove(s, h);
	}
	if (s->now_ms >= s->next_tick_ms) {
		sched_tick(s);
		s->next_tick_ms = s->now_ms + SCHED_TICK_MS;
	}
	if (s->alerts != NULL && s->now_ms >= s->next_alert_ms) {
		sched_check_alerts(s);
		s->next_alert_ms = s->now_ms +
		    (sje_time_ms) s->cfg->monitoring.check_interval_s * 1000;
	}
}
