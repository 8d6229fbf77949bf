// clients.c — the Coordinator's handlers but Submit and RunWorkflow
// (clients.h): status, wait, cancel, lists, events, stats. See round.c
// for the design; the round's holder only.
#include "sched/clients.h"

#include "sched/check.h"
#include "sched/jobs.h"
#include "sched/reply.h"
#include "sched/table.h"
#include "sched/txn.h"

#include "events/alerts.h"
#include "log.h"
#include "pbjson.h"
#include "store/job.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// sched_row_or_not_found reads the job id from the store into *row; when
// there is none it queues NOT_FOUND naming field and returns false.
static bool
sched_row_or_not_found(sje__sched *s, sje__call *call, const char *id,
    const char *field, sje__job_row **row)
{
	sje_err err = sje__store_get_job(s->store, id, row);
	if (err == SJE_ENOTFOUND) {
		sje__sched_reply_err(
		    s, call, SJE_ENOTFOUND, field, "no job '%s'", id);
		return false;
	}
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	return true;
}

void
sje__sched_get_status(sje__sched *s, sje__call *call)
{
	const Sje__V1__GetStatusRequest *req =
	    (const Sje__V1__GetStatusRequest *) sje__call_input(call);
	if (!sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	sje__job_row *row;
	if (!sched_row_or_not_found(s, call, req->task_id, "task_id", &row)) {
		return;
	}
	Sje__V1__Job *job;
	sje_err       err = sje__job_row_to_pb(row, &job);
	if (err != SJE_OK) {
		sje__job_row_free(row);
		sje__sched_reply_err(s, call, SJE_EINTERNAL, NULL,
		    "cannot read job '%s'", req->task_id);
		return;
	}
	sje__sched_attach_attempts(s, job, row->id);
	sje__job_row_free(row);
	sje__sched_reply_ok(s, call, &job->base);
	sje__v1__job__free_unpacked(job, NULL);
}

// sched_all_stored is true when every job of req that memory does not
// hold (a finished one) is in the store, looked up at once; else it
// queues NOT_FOUND naming the first that is not.
static bool
sched_all_stored(
    sje__sched *s, sje__call *call, const Sje__V1__WaitRequest *req)
{
	size_t       n     = req->n_task_ids;
	const char **ids   = sje__sched_xalloc(sizeof(*ids) * (n + 1));
	bool        *found = sje__sched_xalloc(sizeof(*found) * (n + 1));
	size_t       k     = 0;
	for (size_t i = 0; i < n; i++) {
		if (sje__hmap_get(&s->jobs, req->task_ids[i]) == NULL) {
			ids[k++] = req->task_ids[i];
		}
	}
	sje_err err = sje__store_find_jobs(s->store, ids, k, found);
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	bool all = true;
	for (size_t i = 0; i < k && all; i++) {
		if (!found[i]) {
			sje__sched_reply_err(s, call, SJE_ENOTFOUND,
			    "task_ids", "no job '%s'", ids[i]);
			all = false;
		}
	}
	free(ids);
	free(found);
	return all;
}

void
sje__sched_wait(sje__sched *s, sje__call *call)
{
	const Sje__V1__WaitRequest *req =
	    (const Sje__V1__WaitRequest *) sje__call_input(call);
	if (!sje__sched_check_count(s, call, req->n_task_ids, 1, "task_ids")) {
		return;
	}
	size_t open = 0;
	for (size_t i = 0; i < req->n_task_ids; i++) {
		const char *id = req->task_ids[i];
		if (!sje__sched_check_id(s, call, id, "task_ids")) {
			return;
		}
		open += sje__hmap_get(&s->jobs, id) != NULL;
	}
	const char *const *ids = (const char *const *) req->task_ids;
	if (open == 0 || req->timeout_ms == 0) {
		// Answered now: the records read for the reply also say
		// whether every job exists.
		sje__sched_wait_reply(
		    s, call, ids, req->n_task_ids, open == 0, "task_ids");
		return;
	}
	if (open < req->n_task_ids && !sched_all_stored(s, call, req)) {
		return;
	}
	uint32_t    wait_ms = req->timeout_ms < SCHED_MAX_HOLD_MS
	       ? req->timeout_ms
	       : SCHED_MAX_HOLD_MS;
	sched_hold *h       = sje__sched_hold_add(s, HOLD_WAIT, call, wait_ms);
	sje__sched_hold_wait_on(s, h, ids, req->n_task_ids);
}

void
sje__sched_cancel(sje__sched *s, sje__call *call)
{
	const Sje__V1__CancelRequest *req =
	    (const Sje__V1__CancelRequest *) sje__call_input(call);
	if (!sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	Sje__V1__CancelReply reply = SJE__V1__CANCEL_REPLY__INIT;
	sched_job           *j     = sje__hmap_get(&s->jobs, req->task_id);
	if (j == NULL) {
		sje__job_row *row;
		if (!sched_row_or_not_found(
		        s, call, req->task_id, "task_id", &row)) {
			return;
		}
		sje__sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "job '%s' has already finished: %s", req->task_id,
		    sje_job_state_name(row->state));
		sje__job_row_free(row);
		return;
	}
	if (sje__sched_cancel_job(s, j)) {
		reply.state            = (Sje__V1__JobState) ST_CANCELLED;
		reply.cancel_requested = false; // nothing left to stop
	} else {
		reply.state            = (Sje__V1__JobState) ST_RUNNING;
		reply.cancel_requested = true;
	}
	sje__sched_reply_ok(s, call, &reply.base);
}

void
sje__sched_list_jobs(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListJobsRequest *req =
	    (const Sje__V1__ListJobsRequest *) sje__call_input(call);
	sched_filter_in in = { .state = (int) req->state,
		.function             = req->function,
		.label                = req->label,
		.workflow_id          = req->workflow_id,
		.worker               = req->worker,
		.after                = req->after,
		.before               = req->before,
		.task_id_prefix       = req->task_id_prefix,
		.parent               = req->parent };
	sched_filter    sf;
	if (!sje__sched_check_limit(s, call, req->limit, SCHED_LIST_MAX) ||
	    !sje__sched_check_filter(s, call, &in, &sf)) {
		return;
	}
	sje__job_filter f      = sf.f;
	int64_t         resume = 0;
	uint32_t limit = req->limit == 0 ? SCHED_LIST_DEFAULT : req->limit;
	// One row more than asked for tells whether another page follows:
	// the last page carries no cursor. A label filter reads a bounded
	// number of rows (store.h): a page it cut short carries the cursor
	// where it stopped, even with no job on it.
	f.limit     = limit + 1;
	f.resume_id = &resume;
	if (req->cursor != NULL && req->cursor[0] != '\0') {
		char     *end;
		long long v = strtoll(req->cursor, &end, 10);
		if (*end != '\0' || v <= 0 || strlen(req->cursor) > 20) {
			sje__sched_reply_err(s, call, SJE_EINVAL, "cursor",
			    "cursor is not one this server gave");
			sje__sched_filter_fini(&sf);
			return;
		}
		f.before_id = v;
	}
	sje__job_row **rows;
	size_t         n;
	sje_err        err = sje__store_list_jobs(s->store, &f, &rows, &n);
	sje__sched_filter_fini(&sf);
	if (err != SJE_OK) {
		sje__sched_fatal("store list", err);
	}
	Sje__V1__ListJobsReply reply      = SJE__V1__LIST_JOBS_REPLY__INIT;
	char                   cursor[32] = "";
	bool                   more       = n > limit;
	size_t                 shown      = more ? limit : n;
	reply.jobs   = sje__sched_xalloc(sizeof(*reply.jobs) * (n + 1));
	int64_t *ids = sje__sched_xalloc(sizeof(*ids) * (n + 1));
	for (size_t i = 0; i < shown; i++) {
		if (sje__job_row_to_pb(rows[i], &reply.jobs[reply.n_jobs]) ==
		    SJE_OK) {
			ids[reply.n_jobs++] = rows[i]->id;
		}
	}
	// Each job as GetStatus shows it, attempts included: one read of
	// the attempts for the page (at most SCHED_LIST_MAX jobs).
	sje__sched_attach_attempts_all(s, reply.jobs, ids, reply.n_jobs);
	free(ids);
	if (more) {
		sje__snprintf(cursor, sizeof(cursor), "%lld",
		    (long long) rows[shown - 1]->id);
	} else if (resume != 0) {
		sje__snprintf(
		    cursor, sizeof(cursor), "%lld", (long long) resume);
	}
	reply.next_cursor = cursor;
	sje__sched_reply_ok(s, call, &reply.base);
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rows);
	for (size_t i = 0; i < reply.n_jobs; i++) {
		sje__v1__job__free_unpacked(reply.jobs[i], NULL);
	}
	free(reply.jobs);
}

void
sje__sched_list_workers(sje__sched *s, sje__call *call)
{
	size_t n = 0;
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		n++;
	}
	Sje__V1__ListWorkersReply reply = SJE__V1__LIST_WORKERS_REPLY__INIT;
	Sje__V1__WorkerInfo      *infos =
	    sje__sched_xalloc(sizeof(*infos) * (n + 1));
	Sje__V1__WorkerInfo **ptrs =
	    sje__sched_xalloc(sizeof(*ptrs) * (n + 1));
	Sje__V1__Timestamp *seen = sje__sched_xalloc(sizeof(*seen) * (n + 1));
	size_t              i    = 0;
	for (sched_worker *w = s->workers; w != NULL; w = w->next, i++) {
		Sje__V1__WorkerInfo *wi = &infos[i];
		sje__v1__worker_info__init(wi);
		sje__v1__timestamp__init(&seen[i]);
		wi->name        = w->name;
		wi->slots       = w->slots;
		wi->busy        = w->busy;
		wi->n_functions = w->n_fns;
		wi->functions =
		    sje__sched_xalloc(sizeof(char *) * (w->n_fns + 1));
		for (size_t k = 0; k < w->n_fns; k++) {
			wi->functions[k] = w->fns[k]->name;
		}
		wi->n_labels = w->n_labels;
		wi->labels =
		    sje__sched_xalloc(sizeof(*wi->labels) * (w->n_labels + 1));
		for (size_t k = 0; k < w->n_labels; k++) {
			Sje__V1__WorkerInfo__LabelsEntry *e =
			    sje__sched_xalloc(sizeof(*e));
			sje__v1__worker_info__labels_entry__init(e);
			e->key        = w->labels[k].key;
			e->value      = w->labels[k].value;
			wi->labels[k] = e;
		}
		seen[i].unix_ms = w->last_seen_unix_ms;
		wi->last_seen   = &seen[i];
		ptrs[i]         = wi;
	}
	reply.workers   = ptrs;
	reply.n_workers = n;
	sje__sched_reply_ok(s, call, &reply.base);
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

void
sje__sched_list_events(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListEventsRequest *req =
	    (const Sje__V1__ListEventsRequest *) sje__call_input(call);
	if (req->task_id != NULL && req->task_id[0] != '\0' &&
	    !sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	if (!sje__sched_check_limit(s, call, req->limit, SCHED_EVENTS_MAX)) {
		return;
	}
	if (req->from_now) {
		// The request is the call's own copy: from here on it reads
		// as "after the newest event now", held or not.
		((Sje__V1__ListEventsRequest *) call->input)->after =
		    s->event_seq;
	}
	if (req->wait_ms == 0 || sje__sched_events_reply(s, call, false)) {
		if (req->wait_ms == 0) {
			sje__sched_events_reply(s, call, true);
		}
		return;
	}
	uint32_t wait_ms = req->wait_ms < SCHED_MAX_HOLD_MS
	    ? req->wait_ms
	    : SCHED_MAX_HOLD_MS;
	sje__sched_hold_add(s, HOLD_EVENTS, call, wait_ms);
}

// sje__sched_events_wake answers the held ListEvents calls that the events
// just committed satisfy. Called after the commit.
void
sje__sched_events_wake(sje__sched *s)
{
	sched_hold *h = s->holds[HOLD_EVENTS].head;
	while (h != NULL) {
		sched_hold *next = h->next;
		if (sje__sched_events_reply(s, h->call, false)) {
			sje__sched_hold_remove(s, h);
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
	stats_scan  *sc = arg;
	sched_job   *j  = value;
	stats_gauge *g  = &sc->g[j->fn->stats_idx];
	switch (j->state) {
	case ST_QUEUED:
		g->queued++;
		break;
	case ST_RUNNING:
		g->running++;
		break;
	case ST_SCHEDULED:
		g->scheduled++;
		break;
	default:
		g->pending++;
		break;
	}
	return true;
}

void
sje__sched_stats(sje__sched *s, sje__call *call)
{
	// Forgotten first, so that the unserved gauge and the per-function
	// series show live state, not what the last sweep left.
	sje__sched_fn_sweep(s);

	// The live functions, then the sum of those forgotten (when any).
	size_t n = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		n++;
	}
	bool       forgotten = s->forgotten.submitted != 0;
	stats_scan sc = { .g = sje__sched_xalloc(sizeof(*sc.g) * (n + 2)),
		.n           = n };
	size_t     i  = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		f->stats_idx = i;
		sc.g[i++].fn = f;
	}
	if (forgotten) {
		s->forgotten.name = (char *) "(forgotten)";
		sc.g[n++].fn      = &s->forgotten;
	}
	sje__hmap_each(&s->jobs, stats_each, &sc);

	Sje__V1__StatsReply      reply = SJE__V1__STATS_REPLY__INIT;
	Sje__V1__FunctionStats  *fs = sje__sched_xalloc(sizeof(*fs) * (n + 1));
	Sje__V1__FunctionStats **fp = sje__sched_xalloc(sizeof(*fp) * (n + 1));
	Sje__V1__Histogram      *hist =
	    sje__sched_xalloc(sizeof(*hist) * 2 * (n + 1));
	double *bounds =
	    sje__sched_xalloc(sizeof(double) * SCHED_HIST_N * 2 * (n + 1));
	uint64_t *counts = sje__sched_xalloc(
	    sizeof(uint64_t) * (SCHED_HIST_N + 1) * 2 * (n + 1));
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
		fs[i].served =
		    f != &s->forgotten && !sje__sched_fn_unserved(f);
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
	started.unix_ms            = s->started_unix_ms;
	reply.functions            = fp;
	reply.n_functions          = n;
	reply.event_seq            = s->event_seq;
	reply.started_at           = &started;
	reply.pending              = pending;
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		reply.workers++;
		// Sums saturate: many workers of many slots do not wrap.
		reply.worker_slots = w->slots > UINT32_MAX - reply.worker_slots
		    ? UINT32_MAX
		    : reply.worker_slots + w->slots;
		reply.workers_busy_slots += w->busy;
	}
	static const char *const reasons[REFUSED_N] = { "session", "lease",
		"holder", "register" };
	Sje__V1__ReasonCount     rc[REFUSED_N];
	Sje__V1__ReasonCount    *rcp[REFUSED_N];
	for (size_t r = 0; r < REFUSED_N; r++) {
		sje__v1__reason_count__init(&rc[r]);
		rc[r].reason = (char *) reasons[r];
		rc[r].count  = s->refused[r];
		rcp[r]       = &rc[r];
	}
	reply.worker_refusals               = rcp;
	reply.n_worker_refusals             = REFUSED_N;
	reply.worker_sessions_replaced      = s->sessions_replaced;
	reply.unserved_functions            = s->n_unserved;
	reply.functions_waiting_for_workers = s->unserved_waiting;
	reply.unserved_refused              = s->unserved_refused;
	sje__minute           hour[SJE__MINUTES_N];
	Sje__V1__MinuteStats  ms[SJE__MINUTES_N];
	Sje__V1__MinuteStats *msp[SJE__MINUTES_N];
	Sje__V1__Timestamp    mat[SJE__MINUTES_N];
	sje__minutes_hour(&s->minutes, s->now_unix_ms, hour);
	for (size_t m = 0; m < SJE__MINUTES_N; m++) {
		sje__v1__minute_stats__init(&ms[m]);
		sje__v1__timestamp__init(&mat[m]);
		mat[m].unix_ms   = hour[m].minute * 60000;
		ms[m].at         = &mat[m];
		ms[m].succeeded  = hour[m].succeeded;
		ms[m].failed     = hour[m].failed;
		ms[m].run_ms_sum = hour[m].run_ms_sum;
		ms[m].run_ms_max = hour[m].run_ms_max;
		msp[m]           = &ms[m];
	}
	reply.last_hour               = msp;
	reply.n_last_hour             = SJE__MINUTES_N;
	size_t                n_rules = sje__alerts_count(s->alerts);
	Sje__V1__AlertFiring *af =
	    sje__sched_xalloc(sizeof(*af) * (n_rules + 1));
	Sje__V1__AlertFiring **afp =
	    sje__sched_xalloc(sizeof(*afp) * (n_rules + 1));
	for (size_t r = 0; r < n_rules; r++) {
		const char *when = NULL;
		const char *name = sje__alerts_firing(s->alerts, r, &when);
		if (name != NULL) {
			sje__v1__alert_firing__init(
			    &af[reply.n_alerts_firing]);
			af[reply.n_alerts_firing].name = (char *) name;
			af[reply.n_alerts_firing].when =
			    (char *) (when != NULL ? when : "");
			afp[reply.n_alerts_firing] =
			    &af[reply.n_alerts_firing];
			reply.n_alerts_firing++;
		}
	}
	reply.alerts_firing = afp;
	// Calls by method, in each service's order.
	static const ProtobufCServiceDescriptor *const svcs[2] = {
		&sje__v1__coordinator__descriptor,
		&sje__v1__worker_hub__descriptor
	};
	// (s->calls holds SJE__COORD_N methods of each: round.c asserts that
	// the hub has no more.)
	Sje__V1__MethodCount  mc[2 * SJE__COORD_N];
	Sje__V1__MethodCount *mcp[2 * SJE__COORD_N];
	size_t                n_mc = 0;
	for (size_t k = 0; k < 2; k++) {
		for (unsigned m = 0;
		     m < svcs[k]->n_methods && m < SJE__COORD_N; m++) {
			if (s->calls[k][m] == 0) {
				continue;
			}
			sje__v1__method_count__init(&mc[n_mc]);
			mc[n_mc].method = (char *) svcs[k]->methods[m].name;
			mc[n_mc].count  = s->calls[k][m];
			mcp[n_mc]       = &mc[n_mc];
			n_mc++;
		}
	}
	reply.calls   = mcp;
	reply.n_calls = n_mc;
	sje__sched_reply_ok(s, call, &reply.base);
	free(afp);
	free(af);
	free(counts);
	free(bounds);
	free(hist);
	free(fp);
	free(fs);
	free(sc.g);
}
