// bulk.c — the operator's calls on many jobs at once (bulk.h):
// BulkCancel, BulkRetry and BulkDelete, by a filter; and a workflow run's
// status and cancel (GetWorkflowRun, CancelWorkflowRun), which read and
// cancel its steps by its id. See round.c for the design; scheduler
// thread only.
//
// A bulk call is the one-job call (Cancel, Retry, DeleteJob) applied to
// every job that a filter selects, in one round and so in one commit:
// all of it becomes durable, or none (a failed commit ends the process).
// The filter is ListJobs's (check.c), with at least one field set, so
// that no call touches every job by accident. Each operation selects
// only the jobs it can apply to:
//
//   cancel  PENDING, SCHEDULED, QUEUED, RUNNING
//   retry   FAILED, CANCELLED, UPSTREAM_FAILED
//   delete  SUCCEEDED, FAILED, CANCELLED, UPSTREAM_FAILED
//
// and a state in the filter outside its set selects nothing (matched 0,
// nothing changed). The jobs are found in the store one state at a time,
// each by its (state, id) index, newest first; only their ids (and, for a
// re-run, their parents) are kept, never their rows.
//
// Bounds. One call applies its operation to at most SCHED_BULK_MAX jobs
// and reads at most about SCHED_BULK_SCAN rows to find them (a label is
// matched in the store over pages, store.h); past either it stops, having
// applied what it found, and answers more = true. The jobs it did are
// selected no more (cancelled, re-run or deleted), so a caller that
// repeats the call until more is false does them all, in calls that each
// hold the scheduler's thread for a bounded time.
//
// Each job gets what its one-job call would do, and is not counted where
// that call would refuse or do nothing:
//
//   cancel  newest first, so that a PENDING child is cancelled itself
//           before its parent's cancel would end it UPSTREAM_FAILED; a
//           job that has not started ends CANCELLED, a RUNNING one gets
//           cancel_requested (one that has it already is not counted
//           again);
//   retry   oldest first, so that a parent runs again before its
//           children: a job whose parent is re-run by the same call waits
//           for it (PENDING); a job held back by a parent that did not
//           succeed and is not re-run with it (nor gone from the store)
//           stays as it is, as do, in turn, its children in the call;
//   delete  a job that an unfinished job not yet started names as a
//           parent is kept (that child still needs its result); they are
//           found with one walk of the unfinished jobs per call.
//
// Workflow runs. A run is its steps: the jobs stored with its
// workflow_id (RunWorkflow), each labelled with the workflow's name
// (workflow.h), which is where the name is read from. Its state is
// derived from theirs (run_state); cancelling it is a bulk cancel of
// its unfinished steps. An id no step has is NOT_FOUND.
#include "sched/bulk.h"

#include "sched/check.h"
#include "sched/jobs.h"
#include "sched/reply.h"
#include "sched/table.h"
#include "sched/txn.h"

#include "log.h"
#include "store/job.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

enum {
	ST_UPSTREAM_FAILED = SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED,
};

static const char *const bulk_names[] = {
	[BULK_CANCEL] = "cancel",
	[BULK_RETRY]  = "retry",
	[BULK_DELETE] = "delete",
};

// bulk_job is one job a bulk call selected: its id, task_id and, for a
// re-run, its parents (all owned).
typedef struct bulk_job {
	int64_t id;
	char   *task_id;
	char  **parents;
	size_t  n_parents;
	bool    held; // retry: a parent holds it back
} bulk_job;

// bulk is one call's work: the jobs selected, and how the search ended.
typedef struct bulk {
	sje__sched   *s;
	sched_bulk_op op;
	bulk_job     *v;
	size_t        n, cap;
	uint32_t      read; // rows read (a label's: as the store bounds them)
	bool          more; // stopped at a bound
	sje__hmap     needed;     // delete: task_ids unstarted jobs depend on
	Sje__V1__JobSpec **specs; // the specs those keys point into
	size_t             n_specs, cap_specs;
} bulk;

static void
bulk_fini(bulk *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].task_id);
		for (size_t k = 0; k < b->v[i].n_parents; k++) {
			free(b->v[i].parents[k]);
		}
		free(b->v[i].parents);
	}
	free(b->v);
	sje__hmap_fini(&b->needed);
	for (size_t i = 0; i < b->n_specs; i++) {
		sje__v1__job_spec__free_unpacked(b->specs[i], NULL);
	}
	free(b->specs);
}

// bulk_applies is true when op applies to jobs in state.
static bool
bulk_applies(sched_bulk_op op, int state)
{
	switch (op) {
	case BULK_CANCEL:
		return state >= ST_PENDING && state <= ST_RUNNING;
	case BULK_RETRY:
		return state == ST_FAILED || state == ST_CANCELLED ||
		    state == ST_UPSTREAM_FAILED;
	default:
		return state >= ST_SUCCEEDED && state <= ST_UPSTREAM_FAILED;
	}
}

// bulk_need_each notes the parents that an unfinished job not yet started
// names: a delete keeps them.
static bool
bulk_need_each(void *arg, const char *key, void *value)
{
	(void) key;
	bulk      *b = arg;
	sched_job *j = value;
	if (!j->has_parents || j->state == ST_RUNNING) {
		return true;
	}
	Sje__V1__JobSpec *spec = sje__sched_job_spec(b->s, j);
	if (spec == NULL) {
		return true;
	}
	if (!sje__sched_grow((void **) &b->specs, &b->cap_specs, b->n_specs,
	        sizeof(*b->specs))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	b->specs[b->n_specs++] = spec;
	for (size_t k = 0; k < spec->n_depends_on; k++) {
		if (sje__hmap_put(&b->needed, spec->depends_on[k], spec) !=
		    SJE_OK) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
	}
	return true;
}

// bulk_select_row is true when op would act on row (of a state op
// applies to): not when it would refuse or do nothing.
static bool
bulk_select_row(bulk *b, const sje__job_row *row)
{
	switch (b->op) {
	case BULK_CANCEL: {
		sched_job *j = sje__hmap_get(&b->s->jobs, row->task_id);
		return j != NULL && !j->cancel_requested;
	}
	case BULK_RETRY:
		return sje__hmap_get(&b->s->jobs, row->task_id) == NULL;
	default:
		return sje__hmap_get(&b->s->jobs, row->task_id) == NULL &&
		    sje__hmap_get(&b->needed, row->task_id) == NULL;
	}
}

// bulk_add keeps row as selected; false when the call is full (more).
static bool
bulk_add(bulk *b, const sje__job_row *row)
{
	if (b->n >= SCHED_BULK_MAX) {
		b->more = true;
		return false;
	}
	if (!sje__sched_grow((void **) &b->v, &b->cap, b->n, sizeof(*b->v))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	bulk_job *e = &b->v[b->n++];
	memset(e, 0, sizeof(*e));
	e->id      = row->id;
	e->task_id = sje__sched_xstrdup(row->task_id);
	if (b->op == BULK_RETRY) {
		Sje__V1__JobSpec *spec =
		    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
		size_t n   = spec != NULL ? spec->n_depends_on : 0;
		e->parents = sje__sched_xalloc(sizeof(*e->parents) * (n + 1));
		e->n_parents = n;
		for (size_t k = 0; k < n; k++) {
			e->parents[k] =
			    sje__sched_xstrdup(spec->depends_on[k]);
		}
		if (spec != NULL) {
			sje__v1__job_spec__free_unpacked(spec, NULL);
		}
	}
	return true;
}

// bulk_search selects the jobs of state (one op applies to) that match
// f, newest first, until the end, or a bound (b->more); false when it
// stopped at a bound.
static bool
bulk_search(bulk *b, const sje__job_filter *base, int state)
{
	sje__job_filter f      = *base;
	int64_t         resume = 0;
	f.state                = state;
	f.before_id            = 0;
	f.resume_id            = &resume;
	f.limit                = SCHED_LIST_MAX;
	for (;;) {
		if (b->read >= SCHED_BULK_SCAN) {
			b->more = true;
			return false;
		}
		if (f.label_key != NULL) {
			uint32_t left = SCHED_BULK_SCAN - b->read;
			f.max_scan    = left < SJE_STORE_LABEL_SCAN
			       ? left
			       : SJE_STORE_LABEL_SCAN;
		}
		sje__job_row **rows;
		size_t         n;
		sje_err err = sje__store_list_jobs(b->s->store, &f, &rows, &n);
		if (err != SJE_OK) {
			sje__sched_fatal("store list", err);
		}
		// A label's call read max_scan rows when it says where to go
		// on, else at least the rows it found.
		b->read += resume != 0 ? f.max_scan : (uint32_t) n;
		int64_t next = n == f.limit ? rows[n - 1]->id : resume;
		bool    full = false;
		for (size_t i = 0; i < n; i++) {
			if (!full && bulk_select_row(b, rows[i])) {
				full = !bulk_add(b, rows[i]);
			}
			sje__job_row_free(rows[i]);
		}
		free(rows);
		if (full) {
			return false;
		}
		if (next == 0) {
			return true;
		}
		f.before_id = next;
	}
}

static int
bulk_newest_first(const void *a, const void *b)
{
	const bulk_job *x = a, *y = b;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

static int
bulk_oldest_first(const void *a, const void *b)
{
	return bulk_newest_first(b, a);
}

// bulk_cancel cancels the selected jobs, newest first.
static uint32_t
bulk_cancel(bulk *b)
{
	uint32_t n = 0;
	if (b->n > 1) {
		qsort(b->v, b->n, sizeof(*b->v), bulk_newest_first);
	}
	for (size_t i = 0; i < b->n; i++) {
		sched_job *j = sje__hmap_get(&b->s->jobs, b->v[i].task_id);
		if (j == NULL || j->cancel_requested) {
			continue; // ended by an earlier cancel's cascade
		}
		sje__sched_cancel_job(b->s, j);
		n++;
	}
	return n;
}

// bulk_delete deletes the selected jobs.
static uint32_t
bulk_delete(bulk *b)
{
	uint32_t n = 0;
	for (size_t i = 0; i < b->n; i++) {
		sje__sched_txn(b->s);
		sje_err err =
		    sje__store_delete_job(b->s->store, b->v[i].task_id);
		if (err == SJE_ENOTFOUND) {
			continue;
		}
		if (err != SJE_OK) {
			// Not in memory means finished: the store disagreeing
			// is a bug, or another writer.
			sje__sched_fatal("store delete", err);
		}
		SJE_LOG_JOB(SJE_LOG_INFO, b->v[i].task_id, "deleted (bulk)");
		n++;
	}
	return n;
}

// bulk_parent_ok is true when parent p of a job being re-run does not
// hold it back: unfinished, succeeded, gone from the store, or re-run by
// this call (in index, not held). *waits is set when the job waits for p.
static bool
bulk_parent_ok(bulk *b, sje__hmap *index, const char *p, bool *waits)
{
	bulk_job *in = sje__hmap_get(index, p);
	if (in != NULL) {
		*waits = *waits || !in->held;
		return !in->held;
	}
	if (sje__hmap_get(&b->s->jobs, p) != NULL) {
		*waits = true;
		return true;
	}
	sje__job_row *row;
	sje_err       err = sje__store_get_job(b->s->store, p, &row);
	if (err == SJE_ENOTFOUND) {
		return true;
	}
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	bool ok = row->state == ST_SUCCEEDED;
	sje__job_row_free(row);
	return ok;
}

// bulk_retry re-runs the selected jobs that no parent holds back, oldest
// first, then links those that wait to their parents (all in memory by
// then).
static uint32_t
bulk_retry(bulk *b)
{
	sje__hmap index;
	sje__hmap_init(&index);
	if (b->n > 1) {
		qsort(b->v, b->n, sizeof(*b->v), bulk_oldest_first);
	}
	for (size_t i = 0; i < b->n; i++) {
		if (sje__hmap_put(&index, b->v[i].task_id, &b->v[i]) !=
		    SJE_OK) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
	}
	// Held back: by a parent outside the call, then, until nothing
	// changes, by a parent in the call that is held.
	bool changed = true;
	for (int pass = 0; changed; pass++) {
		changed = false;
		for (size_t i = 0; i < b->n; i++) {
			bulk_job *e = &b->v[i];
			for (size_t k = 0; !e->held && k < e->n_parents; k++) {
				const char *p     = e->parents[k];
				bulk_job   *in    = sje__hmap_get(&index, p);
				bool        waits = false;
				if ((pass == 0 && in == NULL &&
				        !bulk_parent_ok(
				            b, &index, p, &waits)) ||
				    (in != NULL && in->held)) {
					e->held = changed = true;
				}
			}
		}
	}
	sched_job **made = sje__sched_xalloc(sizeof(*made) * (b->n + 1));
	uint32_t    n    = 0;
	for (size_t i = 0; i < b->n; i++) {
		bulk_job     *e = &b->v[i];
		sje__job_row *row;
		made[i] = NULL;
		if (e->held ||
		    sje__hmap_get(&b->s->jobs, e->task_id) != NULL) {
			continue;
		}
		sje_err err =
		    sje__store_get_job_by_id(b->s->store, e->id, &row);
		if (err == SJE_ENOTFOUND) {
			continue;
		}
		if (err != SJE_OK) {
			sje__sched_fatal("store read", err);
		}
		if (!bulk_applies(BULK_RETRY, row->state)) {
			sje__job_row_free(row);
			continue;
		}
		bool waits = false;
		for (size_t k = 0; k < e->n_parents; k++) {
			(void) bulk_parent_ok(
			    b, &index, e->parents[k], &waits);
		}
		Sje__V1__JobSpec *spec =
		    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
		made[i] = sje__sched_rerun(b->s, row, spec, waits);
		if (spec != NULL) {
			sje__v1__job_spec__free_unpacked(spec, NULL);
		}
		sje__job_row_free(row);
		n++;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (made[i] != NULL && made[i]->state == ST_PENDING) {
			sje__sched_rerun_link(
			    b->s, made[i], b->v[i].parents, b->v[i].n_parents);
		}
	}
	free(made);
	sje__hmap_fini(&index);
	return n;
}

// bulk_apply applies b->op to the jobs that f (checked) selects, within
// the bounds; returns how many it applied it to (b->more: stopped at a
// bound).
static uint32_t
bulk_apply(bulk *b, const sje__job_filter *f)
{
	sje__hmap_init(&b->needed);
	if (b->op == BULK_DELETE) {
		sje__hmap_each(&b->s->jobs, bulk_need_each, b);
	}
	for (int st = ST_PENDING; st <= ST_UPSTREAM_FAILED; st++) {
		if (bulk_applies(b->op, st) &&
		    (f->state == 0 || f->state == st) &&
		    !bulk_search(b, f, st)) {
			break;
		}
	}
	return b->op == BULK_CANCEL ? bulk_cancel(b)
	    : b->op == BULK_RETRY   ? bulk_retry(b)
	                            : bulk_delete(b);
}

void
sje__sched_bulk(sje__sched *s, sje__call *call, sched_bulk_op op)
{
	const Sje__V1__BulkRequest *req =
	    (const Sje__V1__BulkRequest *) sje__call_input(call);
	sched_filter_in in = { .state = (int) req->state,
		.function             = req->function,
		.label                = req->label,
		.workflow_id          = req->workflow_id,
		.worker               = req->worker,
		.after                = req->after,
		.before               = req->before };
	sched_filter    sf;
	if (!sje__sched_check_filter(s, call, &in, &sf)) {
		return;
	}
	if (!sf.any) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "",
		    "a bulk %s needs a filter: at least one of state, "
		    "function, label, workflow_id, worker, before and after",
		    bulk_names[op]);
		sje__sched_filter_fini(&sf);
		return;
	}
	bulk     b       = { .s = s, .op = op };
	uint32_t matched = bulk_apply(&b, &sf.f);
	sje__sched_filter_fini(&sf);
	if (matched > 0 || b.more) {
		SJE_INFO("bulk %s: %u job(s)%s", bulk_names[op], matched,
		    b.more ? "; more may match: the caller calls again" : "");
	}
	Sje__V1__BulkReply reply = SJE__V1__BULK_REPLY__INIT;
	reply.matched            = matched;
	reply.more               = b.more;
	sje__sched_reply_ok(s, call, &reply.base);
	bulk_fini(&b);
}

// ---- workflow runs -------------------------------------------------------

// run_steps reads the steps of run id, newest first, into *rows (a new
// array of *n, caller frees each and it); *n is 0 for no such run. A run
// is submitted in one call, so it has at most SJE_MAX_JOBS_PER_CALL
// steps.
static void
run_steps(sje__sched *s, const char *id, sje__job_row ***rows, size_t *n)
{
	sje__job_filter f   = { .workflow_id = id, .limit = SCHED_LIST_MAX };
	sje__job_row  **all = NULL;
	size_t          cnt = 0, cap = 0;
	while (cnt < SJE_MAX_JOBS_PER_CALL) {
		sje__job_row **page;
		size_t         k;
		sje_err err = sje__store_list_jobs(s->store, &f, &page, &k);
		if (err != SJE_OK) {
			sje__sched_fatal("store list", err);
		}
		for (size_t i = 0; i < k; i++) {
			if (!sje__sched_grow(
			        (void **) &all, &cap, cnt, sizeof(*all))) {
				sje__sched_fatal("allocation", SJE_ENOMEM);
			}
			all[cnt++] = page[i];
		}
		free(page);
		if (k < f.limit) {
			break;
		}
		f.before_id = all[cnt - 1]->id;
	}
	*rows = all;
	*n    = cnt;
}

// run_state is a run's state from its steps': RUNNING while one is
// unfinished; then SUCCEEDED when all succeeded, FAILED when one failed,
// CANCELLED when one was cancelled (and none failed), else FAILED (steps
// UPSTREAM_FAILED by a parent no longer stored).
// run_fold is run_state's sum of the steps seen so far.
typedef struct run_fold {
	bool open, all_ok, failed, cancelled;
} run_fold;

static void
run_fold_add(run_fold *f, int st)
{
	f->open      = f->open || !sje_job_state_is_terminal(st);
	f->all_ok    = f->all_ok && st == ST_SUCCEEDED;
	f->failed    = f->failed || st == ST_FAILED;
	f->cancelled = f->cancelled || st == ST_CANCELLED;
}

static int
run_fold_state(const run_fold *f)
{
	return f->open     ? ST_RUNNING
	    : f->all_ok    ? ST_SUCCEEDED
	    : f->failed    ? ST_FAILED
	    : f->cancelled ? ST_CANCELLED
	                   : ST_FAILED;
}

static int
run_state(Sje__V1__Job *const *steps, size_t n)
{
	run_fold f = { .all_ok = true };
	for (size_t i = 0; i < n; i++) {
		run_fold_add(&f, steps[i]->state);
	}
	return run_fold_state(&f);
}

// run_name is the workflow a step belongs to: its label "workflow"
// (workflow.h), or "".
static char *
run_name(const Sje__V1__Job *step)
{
	for (size_t i = 0; i < step->n_labels; i++) {
		if (strcmp(step->labels[i]->key, "workflow") == 0) {
			return step->labels[i]->value;
		}
	}
	return (char *) "";
}

// run_id_or_reply checks a WorkflowRunRequest's id, or answers.
static bool
run_id_or_reply(sje__sched *s, sje__call *call, const char **id)
{
	const Sje__V1__WorkflowRunRequest *req =
	    (const Sje__V1__WorkflowRunRequest *) sje__call_input(call);
	*id = req->workflow_id;
	return sje__sched_check_id(s, call, req->workflow_id, "workflow_id");
}

void
sje__sched_get_workflow_run(sje__sched *s, sje__call *call)
{
	const char *id;
	if (!run_id_or_reply(s, call, &id)) {
		return;
	}
	sje__job_row **rows;
	size_t         n;
	run_steps(s, id, &rows, &n);
	if (n == 0) {
		sje__sched_reply_err(s, call, SJE_ENOTFOUND, "workflow_id",
		    "no workflow run '%s'", id);
		free(rows);
		return;
	}
	Sje__V1__WorkflowRun run = SJE__V1__WORKFLOW_RUN__INIT;
	run.steps = sje__sched_xalloc(sizeof(*run.steps) * (n + 1));
	// Oldest first: the steps in the order they were submitted.
	int64_t *ids = sje__sched_xalloc(sizeof(*ids) * (n + 1));
	for (size_t i = n; i-- > 0;) {
		Sje__V1__Job *job;
		if (sje__job_row_to_pb(rows[i], &job) == SJE_OK) {
			ids[run.n_steps]         = rows[i]->id;
			run.steps[run.n_steps++] = job;
		}
	}
	sje__sched_attach_attempts_all(s, run.steps, ids, run.n_steps);
	free(ids);
	run.workflow_id = (char *) id;
	run.workflow    = run.n_steps > 0 ? run_name(run.steps[0]) : "";
	run.state = (Sje__V1__JobState) run_state(run.steps, run.n_steps);
	// As ListWorkflowRuns shows it: when its first step was stored, and
	// its steps' counts.
	Sje__V1__Timestamp at = SJE__V1__TIMESTAMP__INIT;
	at.unix_ms            = rows[n - 1]->created_ms;
	run.created_at        = &at;
	run.step_count        = (uint32_t) run.n_steps;
	for (size_t i = 0; i < run.n_steps; i++) {
		run.steps_finished +=
		    sje_job_state_is_terminal(run.steps[i]->state);
	}
	sje__sched_reply_ok(s, call, &run.base);
	for (size_t i = 0; i < run.n_steps; i++) {
		sje__v1__job__free_unpacked(run.steps[i], NULL);
	}
	free(run.steps);
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rows);
}

// A page of ListWorkflowRuns: by default, and at most.
#define SCHED_RUNS_DEFAULT 50u
#define SCHED_RUNS_MAX 200u

void
sje__sched_list_workflow_runs(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListWorkflowRunsRequest *req =
	    (const Sje__V1__ListWorkflowRunsRequest *) sje__call_input(call);
	if (!sje__sched_check_limit(s, call, req->limit, SCHED_RUNS_MAX)) {
		return;
	}
	uint32_t limit = req->limit == 0 ? SCHED_RUNS_DEFAULT : req->limit;
	// One run more than asked for tells whether another page follows.
	sje__job_filter f = { .runs = true, .limit = limit + 1 };
	if (req->cursor != NULL && req->cursor[0] != '\0') {
		char     *end;
		long long v = strtoll(req->cursor, &end, 10);
		if (*end != '\0' || v <= 0 || strlen(req->cursor) > 20) {
			sje__sched_reply_err(s, call, SJE_EINVAL, "cursor",
			    "cursor is not one this server gave");
			return;
		}
		f.before_id = v;
	}
	sje__job_row **heads;
	size_t         n;
	sje_err        err = sje__store_list_jobs(s->store, &f, &heads, &n);
	if (err != SJE_OK) {
		sje__sched_fatal("store list", err);
	}
	bool                           more  = n > limit;
	size_t                         shown = more ? limit : n;
	Sje__V1__ListWorkflowRunsReply reply =
	    SJE__V1__LIST_WORKFLOW_RUNS_REPLY__INIT;
	Sje__V1__WorkflowRun *runs =
	    sje__sched_xalloc(sizeof(*runs) * (shown + 1));
	Sje__V1__Timestamp *at = sje__sched_xalloc(sizeof(*at) * (shown + 1));
	Sje__V1__Job      **firsts =
	    sje__sched_xalloc(sizeof(*firsts) * (shown + 1));
	reply.runs = sje__sched_xalloc(sizeof(*reply.runs) * (shown + 1));
	for (size_t i = 0; i < shown; i++) {
		Sje__V1__WorkflowRun *r = &runs[i];
		sje__v1__workflow_run__init(r);
		sje__v1__timestamp__init(&at[i]);
		firsts[i] = NULL;
		if (heads[i]->workflow_id == NULL) {
			continue; // not a step (a store written by hand)
		}
		// The state from every step's (rows, not their attempts).
		sje__job_row **steps;
		size_t         k;
		run_steps(s, heads[i]->workflow_id, &steps, &k);
		run_fold fold = { .all_ok = true };
		for (size_t j = 0; j < k; j++) {
			run_fold_add(&fold, steps[j]->state);
			r->steps_finished +=
			    sje_job_state_is_terminal(steps[j]->state);
			sje__job_row_free(steps[j]);
		}
		free(steps);
		r->workflow_id = heads[i]->workflow_id;
		r->state       = (Sje__V1__JobState) run_fold_state(&fold);
		r->step_count  = (uint32_t) k;
		at[i].unix_ms  = heads[i]->created_ms;
		r->created_at  = &at[i];
		// The workflow's name is the first step's label.
		r->workflow = "";
		if (sje__job_row_to_pb(heads[i], &firsts[i]) == SJE_OK) {
			r->workflow = run_name(firsts[i]);
		}
		reply.runs[reply.n_runs++] = r;
	}
	char cursor[32] = "";
	if (more) {
		sje__snprintf(cursor, sizeof(cursor), "%lld",
		    (long long) heads[shown - 1]->id);
	}
	reply.next_cursor = cursor;
	sje__sched_reply_ok(s, call, &reply.base);
	for (size_t i = 0; i < shown; i++) {
		if (firsts[i] != NULL) {
			sje__v1__job__free_unpacked(firsts[i], NULL);
		}
	}
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(heads[i]);
	}
	free(heads);
	free(firsts);
	free(at);
	free(runs);
	free(reply.runs);
}

void
sje__sched_cancel_workflow_run(sje__sched *s, sje__call *call)
{
	const char *id;
	if (!run_id_or_reply(s, call, &id)) {
		return;
	}
	sje__job_filter one = { .workflow_id = id, .limit = 1 };
	sje__job_row  **rows;
	size_t          n;
	sje_err         err = sje__store_list_jobs(s->store, &one, &rows, &n);
	if (err != SJE_OK) {
		sje__sched_fatal("store list", err);
	}
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rows);
	if (n == 0) {
		sje__sched_reply_err(s, call, SJE_ENOTFOUND, "workflow_id",
		    "no workflow run '%s'", id);
		return;
	}
	// Its unfinished steps, as a bulk cancel by its id would (a run has
	// fewer steps than a bulk call's bound).
	sje__job_filter f       = { .workflow_id = id };
	bulk            b       = { .s = s, .op = BULK_CANCEL };
	uint32_t        matched = bulk_apply(&b, &f);
	SJE_INFO(
	    "workflow run %s: cancelled %u unfinished step(s)", id, matched);
	Sje__V1__BulkReply reply = SJE__V1__BULK_REPLY__INIT;
	reply.matched            = matched;
	reply.more               = b.more;
	sje__sched_reply_ok(s, call, &reply.base);
	bulk_fini(&b);
}
