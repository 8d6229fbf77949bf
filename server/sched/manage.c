// manage.c — the operator's handlers (manage.h): Retry, DeleteJob,
// Explain, ListFunctions and SetFunction. See round.c for the design;
// the round's holder only.
//
// Re-run. A job that did not succeed (FAILED, CANCELLED, UPSTREAM_FAILED)
// becomes unfinished again under its task_id: its row goes back to QUEUED
// (PENDING while a parent it names is unfinished) with its attempts kept
// and numbered on, a fresh allowance of attempts (max_attempts = the
// attempts so far + what its spec or config allows), and the result,
// error, progress and times of its last run cleared. With descendants,
// the UPSTREAM_FAILED jobs that depend on it, directly or not, run again
// with it, each waiting for its parents. A parent that did not succeed and
// is not re-run with a job holds that job back: the job asked for is then
// refused (FAILED_PRECONDITION, naming the parent), a descendant so held
// stays UPSTREAM_FAILED. A parent no longer stored (deleted, or purged
// after server.result_ttl_s) holds nothing back.
//
// Descendants are found among the UPSTREAM_FAILED jobs created no earlier
// than the job (a child is submitted with its parents or after them): at
// most SCHED_RETRY_MAX_SCAN of them are read, newest first; a re-run that
// would need more is refused (RESOURCE_EXHAUSTED) and changes nothing.
//
// Delete. Only a finished job is deleted, with its attempts. A job whose
// result an unfinished, not yet started job still needs (it names it in
// depends_on) is refused: that child would start without it. Finding
// such a child walks the unfinished jobs that name parents.
//
// Functions. A pause is kept in the store (sje__store_put_function) and
// read back at open (recover.c); a paused function's jobs stay QUEUED and
// dispatch passes over them (workers.c), while submits go on.
#include "sched/manage.h"

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

#define SCHED_RETRY_MAX_SCAN 100000u // UPSTREAM_FAILED rows one re-run reads

enum {
	ST_UPSTREAM_FAILED = SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED,
};

// manage_row_or_not_found reads the job id into *row, or answers
// NOT_FOUND naming field and returns false.
static bool
manage_row_or_not_found(sje__sched *s, sje__call *call, const char *id,
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

// manage_wall is the wall-clock time of the monotonic instant mono.
static sje_time_ms
manage_wall(const sje__sched *s, sje_dur_ms mono)
{
	return s->now_unix_ms - (s->now_ms - mono);
}

// ---- Retry -------------------------------------------------------------

static bool
rerun_allowed(int state)
{
	return state == ST_FAILED || state == ST_CANCELLED ||
	    state == ST_UPSTREAM_FAILED;
}

// rerun is one job of a re-run's plan.
typedef struct rerun {
	sje__job_row     *row;
	Sje__V1__JobSpec *spec;
	bool              in;   // reached from the job asked for
	bool              held; // a parent holds it back: not re-run
	// The first parent outside the plan that did not succeed, if any.
	char *bad_parent;
	int   bad_state;
} rerun;

// rerun_plan is a re-run's jobs: v[0] the job asked for, then the
// UPSTREAM_FAILED candidates; by task_id in map; edges from parent to
// child within v, sorted by parent.
typedef struct rerun_plan {
	rerun    *v;
	size_t    n, cap;
	sje__hmap map; // task_id -> rerun (pointers into v, once v is whole)
	struct rerun_edge {
		size_t parent, child;
	} * edges;
	size_t n_edges, cap_edges;
} rerun_plan;

static void
rerun_plan_free(rerun_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		sje__job_row_free(p->v[i].row);
		if (p->v[i].spec != NULL) {
			sje__v1__job_spec__free_unpacked(p->v[i].spec, NULL);
		}
		free(p->v[i].bad_parent);
	}
	free(p->v);
	free(p->edges);
	sje__hmap_fini(&p->map);
}

// rerun_add appends row (taken) to p.
static void
rerun_add(rerun_plan *p, sje__job_row *row)
{
	if (!sje__sched_grow((void **) &p->v, &p->cap, p->n, sizeof(*p->v))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	rerun *r = &p->v[p->n++];
	memset(r, 0, sizeof(*r));
	r->row  = row;
	r->spec = sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
}

// rerun_candidates adds to p the UPSTREAM_FAILED jobs created no earlier
// than root, newest first; false when there are more than
// SCHED_RETRY_MAX_SCAN of them.
static bool
rerun_candidates(sje__sched *s, rerun_plan *p, const sje__job_row *root)
{
	sje__job_filter f    = { .state = ST_UPSTREAM_FAILED,
		   .limit               = SCHED_LIST_MAX };
	size_t          seen = 0;
	for (;;) {
		sje__job_row **rows;
		size_t         n;
		sje_err err = sje__store_list_jobs(s->store, &f, &rows, &n);
		if (err != SJE_OK) {
			sje__sched_fatal("store list", err);
		}
		bool older = false, too_many = false;
		for (size_t i = 0; i < n; i++) {
			sje__job_row *row = rows[i];
			f.before_id       = row->id;
			older = older || row->created_ms < root->created_ms;
			if (older || row->id == root->id) {
				sje__job_row_free(row);
			} else if (seen >= SCHED_RETRY_MAX_SCAN) {
				too_many = true;
				sje__job_row_free(row);
			} else {
				seen++;
				rerun_add(p, row);
			}
		}
		free(rows);
		if (too_many) {
			return false;
		}
		if (older || n < f.limit) {
			return true;
		}
	}
}

static int
rerun_edge_cmp(const void *a, const void *b)
{
	const struct rerun_edge *x = a, *y = b;
	return x->parent < y->parent ? -1 : x->parent > y->parent;
}

// rerun_reach indexes p by task_id, links parents to children within p
// and marks what the job asked for (v[0]) reaches.
static void
rerun_reach(rerun_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (sje__hmap_put(&p->map, p->v[i].row->task_id, &p->v[i]) !=
		    SJE_OK) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
	}
	for (size_t i = 1; i < p->n; i++) {
		const Sje__V1__JobSpec *spec = p->v[i].spec;
		for (size_t k = 0; spec != NULL && k < spec->n_depends_on;
		     k++) {
			rerun *par =
			    sje__hmap_get(&p->map, spec->depends_on[k]);
			if (par == NULL) {
				continue;
			}
			if (!sje__sched_grow((void **) &p->edges,
			        &p->cap_edges, p->n_edges,
			        sizeof(*p->edges))) {
				sje__sched_fatal("allocation", SJE_ENOMEM);
			}
			p->edges[p->n_edges++] = (struct rerun_edge) {
				.parent = (size_t) (par - p->v), .child = i
			};
		}
	}
	if (p->n_edges > 1) {
		qsort(p->edges, p->n_edges, sizeof(*p->edges), rerun_edge_cmp);
	}
	// Breadth first from v[0], over a queue of indexes.
	size_t *queue = sje__sched_xalloc(sizeof(*queue) * (p->n + 1));
	size_t  head = 0, tail = 0;
	p->v[0].in    = true;
	queue[tail++] = 0;
	while (head < tail) {
		size_t u = queue[head++];
		// The first edge from u (edges are sorted by parent).
		size_t lo = 0, hi = p->n_edges;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (p->edges[mid].parent < u) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		for (size_t e = lo; e < p->n_edges && p->edges[e].parent == u;
		     e++) {
			rerun *c = &p->v[p->edges[e].child];
			if (!c->in) {
				c->in         = true;
				queue[tail++] = p->edges[e].child;
			}
		}
	}
	free(queue);
}

// rerun_outside notes, for r, the first parent outside the plan that
// neither is unfinished nor succeeded nor is gone from the store.
static void
rerun_outside(sje__sched *s, rerun_plan *p, rerun *r)
{
	const Sje__V1__JobSpec *spec = r->spec;
	for (size_t k = 0; spec != NULL && k < spec->n_depends_on; k++) {
		const char *d = spec->depends_on[k];
		if (sje__hmap_get(&p->map, d) != NULL ||
		    sje__hmap_get(&s->jobs, d) != NULL) {
			continue;
		}
		sje__job_row *prow;
		sje_err       err = sje__store_get_job(s->store, d, &prow);
		if (err == SJE_ENOTFOUND) {
			continue;
		}
		if (err != SJE_OK) {
			sje__sched_fatal("store read", err);
		}
		int st = prow->state;
		sje__job_row_free(prow);
		if (st != ST_SUCCEEDED) {
			r->bad_parent = sje__sched_xstrdup(d);
			r->bad_state  = st;
			return;
		}
	}
}

// rerun_holds settles which jobs of the plan parents hold back: those with
// a bad parent outside the plan, and, repeatedly, those with a parent in
// the plan that is not re-run. v[0]'s own bad parent is its caller's.
static void
rerun_holds(rerun_plan *p)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 1; i < p->n; i++) {
			rerun *r = &p->v[i];
			if (!r->in || r->held) {
				continue;
			}
			bool held = r->bad_parent != NULL;
			for (size_t k = 0; !held && r->spec != NULL &&
			     k < r->spec->n_depends_on;
			     k++) {
				rerun *par = sje__hmap_get(
				    &p->map, r->spec->depends_on[k]);
				held = par != NULL && (!par->in || par->held);
			}
			if (held) {
				r->held = true;
				changed = true;
			}
		}
	}
}

// rerun_waits is true when r has a parent to wait for: unfinished, or
// re-run with it.
static bool
rerun_waits(sje__sched *s, rerun_plan *p, const rerun *r)
{
	for (size_t k = 0; r->spec != NULL && k < r->spec->n_depends_on; k++) {
		const char *d   = r->spec->depends_on[k];
		rerun      *par = sje__hmap_get(&p->map, d);
		if ((par != NULL && par->in && !par->held) ||
		    sje__hmap_get(&s->jobs, d) != NULL) {
			return true;
		}
	}
	return false;
}

void
sje__sched_retry(sje__sched *s, sje__call *call)
{
	const Sje__V1__RetryRequest *req =
	    (const Sje__V1__RetryRequest *) sje__call_input(call);
	if (!sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	sched_job *live = sje__hmap_get(&s->jobs, req->task_id);
	if (live != NULL) {
		sje__sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "job '%s' is %s: only a FAILED, CANCELLED or "
		    "UPSTREAM_FAILED job can be re-run",
		    req->task_id, sje_job_state_name(live->state));
		return;
	}
	sje__job_row *root;
	if (!manage_row_or_not_found(
	        s, call, req->task_id, "task_id", &root)) {
		return;
	}
	if (!rerun_allowed(root->state)) {
		sje__sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "job '%s' is %s: only a FAILED, CANCELLED or "
		    "UPSTREAM_FAILED job can be re-run",
		    req->task_id, sje_job_state_name(root->state));
		sje__job_row_free(root);
		return;
	}
	rerun_plan p = { 0 };
	sje__hmap_init(&p.map);
	rerun_add(&p, root);
	if (req->descendants && !rerun_candidates(s, &p, root)) {
		sje__sched_reply_err(s, call, SJE_ELIMIT, "descendants",
		    "more than %u UPSTREAM_FAILED jobs are newer than '%s': "
		    "re-run its descendants in parts",
		    SCHED_RETRY_MAX_SCAN, req->task_id);
		rerun_plan_free(&p);
		return;
	}
	rerun_reach(&p);
	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i].in) {
			rerun_outside(s, &p, &p.v[i]);
		}
	}
	if (p.v[0].bad_parent != NULL) {
		sje__sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "its parent '%s' is %s: re-run that one first (with "
		    "its descendants, to re-run this one too)",
		    p.v[0].bad_parent, sje_job_state_name(p.v[0].bad_state));
		rerun_plan_free(&p);
		return;
	}
	rerun_holds(&p);

	// Apply: the job asked for, then its descendants oldest first (the
	// candidates are newest first), each parent before its children in
	// the events.
	Sje__V1__RetryReply    reply = SJE__V1__RETRY_REPLY__INIT;
	Sje__V1__SubmitResult *res =
	    sje__sched_xalloc(sizeof(*res) * (p.n + 1));
	Sje__V1__SubmitResult **resp =
	    sje__sched_xalloc(sizeof(*resp) * (p.n + 1));
	sched_job **made = sje__sched_xalloc(sizeof(*made) * (p.n + 1));
	for (size_t k = 0; k < p.n; k++) {
		size_t i = k == 0 ? 0 : p.n - k;
		rerun *r = &p.v[i];
		made[i]  = NULL;
		if (!r->in || r->held) {
			continue;
		}
		// Its parents are linked afterwards (all in memory by then).
		made[i] = sje__sched_rerun(
		    s, r->row, r->spec, rerun_waits(s, &p, r));
	}
	for (size_t k = 0; k < p.n; k++) {
		size_t i = k == 0 ? 0 : p.n - k;
		if (made[i] == NULL) {
			continue;
		}
		if (made[i]->state == ST_PENDING) {
			const Sje__V1__JobSpec *sp = p.v[i].spec;
			sje__sched_rerun_link(s, made[i],
			    sp != NULL ? sp->depends_on : NULL,
			    sp != NULL ? sp->n_depends_on : 0);
		}
		if (i == 0) {
			continue;
		}
		Sje__V1__SubmitResult *e = &res[reply.n_descendants];
		sje__v1__submit_result__init(e);
		e->task_id = made[i]->task_id;
		e->state   = (Sje__V1__JobState) made[i]->state;
		resp[reply.n_descendants++] = e;
	}
	reply.task_id     = made[0]->task_id;
	reply.state       = (Sje__V1__JobState) made[0]->state;
	reply.descendants = resp;
	sje__sched_reply_ok(s, call, &reply.base);
	free(made);
	free(resp);
	free(res);
	rerun_plan_free(&p);
}

// ---- DeleteJob ---------------------------------------------------------

// delete_scan looks for an unfinished job, not started, that names id as
// a parent.
typedef struct delete_scan {
	sje__sched *s;
	const char *id;
	sched_job  *child; // found
} delete_scan;

static bool
delete_each(void *arg, const char *key, void *value)
{
	(void) key;
	delete_scan *d = arg;
	sched_job   *j = value;
	if (!j->has_parents || j->state == ST_RUNNING) {
		return true;
	}
	Sje__V1__JobSpec *spec = sje__sched_job_spec(d->s, j);
	for (size_t k = 0; spec != NULL && k < spec->n_depends_on; k++) {
		if (strcmp(spec->depends_on[k], d->id) == 0) {
			d->child = j;
			break;
		}
	}
	if (spec != NULL) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
	return d->child == NULL;
}

void
sje__sched_delete_job(sje__sched *s, sje__call *call)
{
	const Sje__V1__DeleteJobRequest *req =
	    (const Sje__V1__DeleteJobRequest *) sje__call_input(call);
	if (!sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	sched_job *live = sje__hmap_get(&s->jobs, req->task_id);
	if (live != NULL) {
		sje__sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "job '%s' is %s: only a finished job can be deleted "
		    "(cancel it first)",
		    req->task_id, sje_job_state_name(live->state));
		return;
	}
	delete_scan d = { .s = s, .id = req->task_id };
	sje__hmap_each(&s->jobs, delete_each, &d);
	if (d.child != NULL) {
		sje__sched_reply_err(s, call, SJE_EPRECOND, "task_id",
		    "job '%s' (%s) depends on '%s' and has not started: "
		    "delete it once that one has run",
		    d.child->task_id, sje_job_state_name(d.child->state),
		    req->task_id);
		return;
	}
	sje__sched_txn(s);
	sje_err err = sje__store_delete_job(s->store, req->task_id);
	if (err == SJE_ENOTFOUND) {
		sje__sched_reply_err(s, call, SJE_ENOTFOUND, "task_id",
		    "no job '%s'", req->task_id);
		return;
	}
	if (err != SJE_OK) {
		// Not in memory means finished: the store disagreeing is a
		// bug, or another writer.
		sje__sched_fatal("store delete", err);
	}
	SJE_LOG_JOB(SJE_LOG_INFO, req->task_id, "deleted");
	Sje__V1__DeleteJobReply reply = SJE__V1__DELETE_JOB_REPLY__INIT;
	reply.deleted                 = 1;
	sje__sched_reply_ok(s, call, &reply.base);
}

// ---- Explain -----------------------------------------------------------

// explain is the reply being built: reasons, and the storage they borrow.
typedef struct explain {
	Sje__V1__ExplainReply           reply;
	Sje__V1__Reason                *v[4];
	Sje__V1__Reason                 r[4];
	Sje__V1__Timestamp              t[4][3];
	char                            msg[4][512];
	Sje__V1__ParentState           *pp; // WAITING_ON_PARENTS' parents
	Sje__V1__ParentState          **ppp;
	sje__job_row                   *row; // the job's, when read; NULL: not
	Sje__V1__Reason__RequiresEntry *req; // NO_MATCHING_WORKER's labels
	Sje__V1__Reason__RequiresEntry **reqp;
} explain;

// explain_add appends a reason with code and a message (printf-style).
static Sje__V1__Reason *explain_add(explain *e, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static Sje__V1__Reason *
explain_add(explain *e, const char *code, const char *fmt, ...)
{
	size_t i = e->reply.n_reasons;
	if (i >= sizeof(e->r) / sizeof(e->r[0])) {
		i = sizeof(e->r) / sizeof(e->r[0]) - 1; // cannot happen
	}
	Sje__V1__Reason *r = &e->r[i];
	sje__v1__reason__init(r);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg[i], sizeof(e->msg[i]), fmt, ap);
	va_end(ap);
	r->code            = (char *) code;
	r->message         = e->msg[i];
	e->v[i]            = r;
	e->reply.n_reasons = i + 1;
	e->reply.reasons   = e->v;
	return r;
}

// explain_time sets the k-th Timestamp of reason r's storage to t.
static Sje__V1__Timestamp *
explain_time(explain *e, const Sje__V1__Reason *r, int k, sje_time_ms t)
{
	Sje__V1__Timestamp *ts = &e->t[r - e->r][k];
	sje__v1__timestamp__init(ts);
	ts->unix_ms = t;
	return ts;
}

// explain_finished explains a finished job from its row.
static void
explain_finished(explain *e, const sje__job_row *row)
{
	char at[40];
	sje__rfc3339(row->finished_ms, at, sizeof(at));
	Sje__V1__Reason *r;
	switch (row->state) {
	case ST_SUCCEEDED:
		r = explain_add(e, "FINISHED", "succeeded at %s, attempt %u",
		    at, row->attempt);
		break;
	case ST_FAILED:
		r = explain_add(e, "FINISHED",
		    "failed at %s after %u of %u attempts: %s: %s", at,
		    row->attempt, row->max_attempts,
		    row->error_type != NULL ? row->error_type : "error",
		    row->error_message != NULL ? row->error_message : "");
		break;
	case ST_CANCELLED:
		r = explain_add(e, "FINISHED", "cancelled at %s", at);
		break;
	default:
		r = explain_add(e, "FINISHED", "ended %s at %s: %s",
		    sje_job_state_name(row->state), at,
		    row->error_message != NULL ? row->error_message : "");
		break;
	}
	r->attempt = row->attempt;
	if (row->state != ST_SUCCEEDED) {
		explain_add(e, "CAN_RETRY",
		    "it can be re-run: sje-client retry %s (or POST "
		    "/retry/%s)",
		    row->task_id, row->task_id);
	}
}

// explain_pending names the unfinished parents j waits on.
static void
explain_pending(sje__sched *s, explain *e, const sched_job *j)
{
	Sje__V1__JobSpec *spec = sje__sched_job_spec(s, j);
	size_t            n    = spec != NULL ? spec->n_depends_on : 0;
	e->pp                  = sje__sched_xalloc(sizeof(*e->pp) * (n + 1));
	e->ppp                 = sje__sched_xalloc(sizeof(*e->ppp) * (n + 1));
	size_t open            = 0;
	char   names[256]      = "";
	for (size_t k = 0; k < n; k++) {
		sched_job *p = sje__hmap_get(&s->jobs, spec->depends_on[k]);
		if (p == NULL) {
			continue;
		}
		Sje__V1__ParentState *ps = &e->pp[open];
		sje__v1__parent_state__init(ps);
		ps->task_id    = p->task_id;
		ps->state      = (Sje__V1__JobState) p->state;
		e->ppp[open++] = ps;
		size_t used    = strlen(names);
		if (used + 4 < sizeof(names)) {
			sje__snprintf(names + used, sizeof(names) - used,
			    "%s%s (%s)", used > 0 ? ", " : "", p->task_id,
			    sje_job_state_name(p->state));
		}
	}
	Sje__V1__Reason *r = explain_add(e, "WAITING_ON_PARENTS",
	    "waiting on %zu of its %zu parents: %s", open, n, names);
	r->parents         = e->ppp;
	r->n_parents       = open;
	if (spec != NULL) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
}

// explain_queued says why a QUEUED job has not started.
static void
explain_queued(sje__sched *s, explain *e, const sched_job *j)
{
	sched_fn *f = j->fn;
	if (f->paused) {
		explain_add(e, "FUNCTION_PAUSED",
		    "function '%s' is paused: nothing of it starts until it "
		    "is resumed",
		    f->name);
	}
	uint32_t workers = 0, matching = 0, slots = 0, busy = 0;
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		for (size_t i = 0; i < w->n_fns; i++) {
			if (w->fns[i] != f) {
				continue;
			}
			workers++;
			if (j->route == NULL ||
			    sje__sched_route_matches(j->route, w)) {
				matching++;
				slots += w->slots;
				busy += w->busy;
			}
			break;
		}
	}
	if (workers == 0) {
		explain_add(e, "NO_WORKER",
		    "no live worker serves function '%s'", f->name);
		return;
	}
	if (matching == 0) {
		const sched_route *rt        = j->route;
		char               need[256] = "";
		for (size_t i = 0; i < rt->n_req; i++) {
			size_t used = strlen(need);
			sje__snprintf(need + used, sizeof(need) - used,
			    "%s%s=%s", i > 0 ? ", " : "", rt->req[i].key,
			    rt->req[i].value);
		}
		Sje__V1__Reason *r = explain_add(e, "NO_MATCHING_WORKER",
		    "%u live worker(s) serve function '%s', none with the "
		    "labels it requires: %s",
		    workers, f->name, need);
		e->req = sje__sched_xalloc(sizeof(*e->req) * (rt->n_req + 1));
		e->reqp =
		    sje__sched_xalloc(sizeof(*e->reqp) * (rt->n_req + 1));
		for (size_t i = 0; i < rt->n_req; i++) {
			sje__v1__reason__requires_entry__init(&e->req[i]);
			e->req[i].key   = rt->req[i].key;
			e->req[i].value = rt->req[i].value;
			e->reqp[i]      = &e->req[i];
		}
		r->requires   = e->reqp;
		r->n_requires = rt->n_req;
		return;
	}
	if (f->paused) {
		return;
	}
	if (f->concurrency != 0 && f->n_running >= f->concurrency) {
		Sje__V1__Reason *r = explain_add(e, "CONCURRENCY_LIMIT",
		    "function '%s' runs %u job(s), its limit: at most %u at "
		    "once",
		    f->name, f->n_running, f->concurrency);
		r->limit           = f->concurrency;
		r->current         = f->n_running;
		return;
	}
	if (!sje__sched_fn_rate_take(s, f, false)) {
		Sje__V1__Reason *r = explain_add(e, "RATE_LIMIT",
		    "function '%s' starts at most %s: the next start is "
		    "allowed in %lld ms",
		    f->name, f->rate,
		    (long long) sje__sched_fn_rate_wait(s, f));
		r->rate            = (char *) f->rate;
		return;
	}
	// Ahead of it: the jobs before it on its own heap (those of other
	// routes may go to other workers).
	const sched_heap *h = j->route != NULL ? &j->route->ready : &f->ready;
	uint64_t          ahead = 0;
	for (size_t i = 0; i < h->n; i++) {
		const sched_job *o = h->v[i];
		ahead += o != j && sje__sched_heap_before(h, o, j);
	}
	Sje__V1__Reason *r = explain_add(e, "WAITING_FOR_SLOT",
	    "%llu job(s) of '%s' are ahead of it; %u worker(s) that can "
	    "take it have %u slot(s), %u busy",
	    (unsigned long long) ahead, f->name, matching, slots, busy);
	r->ahead           = ahead;
}

// explain_running says who holds a RUNNING job's lease. The reason
// borrows from e->row, which the caller frees after the reply.
static void
explain_running(sje__sched *s, explain *e, const sched_job *j)
{
	e->row               = sje__sched_load(s, j);
	const char      *who = j->worker != NULL ? j->worker->name
	         : e->row->worker != NULL        ? e->row->worker
	                                         : "?";
	Sje__V1__Reason *r   = j->worker != NULL
	      ? explain_add(e, "LEASED",
	            "running on worker '%s', attempt %u of %u", who, j->attempt,
	            j->max_attempts)
	      : explain_add(e, "LEASED",
	            "leased to worker '%s', attempt %u of %u, not heard of "
	              "since this coordinator started: its lease runs out "
	              "unless it reports",
	            who, j->attempt, j->max_attempts);
	r->worker            = (char *) who;
	r->attempt           = j->attempt;
	if (e->row->started_ms != 0) {
		r->since = explain_time(e, r, 0, e->row->started_ms);
	}
	r->last_heartbeat = explain_time(e, r, 1,
	    manage_wall(s, j->lease_expires_ms - (sje_dur_ms) s->lease_ms));
	if (j->cancel_requested) {
		explain_add(e, "CANCEL_REQUESTED",
		    "a cancel was asked for: the worker stops it at its "
		    "next heartbeat");
	}
}

void
sje__sched_explain(sje__sched *s, sje__call *call)
{
	const Sje__V1__ExplainRequest *req =
	    (const Sje__V1__ExplainRequest *) sje__call_input(call);
	if (!sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	explain e;
	memset(&e, 0, sizeof(e));
	sje__v1__explain_reply__init(&e.reply);
	sched_job *j = sje__hmap_get(&s->jobs, req->task_id);
	if (j == NULL) {
		if (!manage_row_or_not_found(
		        s, call, req->task_id, "task_id", &e.row)) {
			return;
		}
		e.reply.task_id = e.row->task_id;
		e.reply.state   = (Sje__V1__JobState) e.row->state;
		explain_finished(&e, e.row);
	} else {
		e.reply.task_id = j->task_id;
		e.reply.state   = (Sje__V1__JobState) j->state;
		switch (j->state) {
		case ST_PENDING:
			explain_pending(s, &e, j);
			break;
		case ST_SCHEDULED: {
			char        at[40];
			sje_time_ms due = manage_wall(s, j->ready_at_ms);
			sje__rfc3339(due, at, sizeof(at));
			Sje__V1__Reason *r = j->attempt > 0
			    ? explain_add(&e, "SCHEDULED",
			          "attempt %u failed; attempt %u is due at "
			          "%s, after a back-off",
			          j->attempt, j->attempt + 1, at)
			    : explain_add(
			          &e, "SCHEDULED", "delayed: due at %s", at);
			r->until           = explain_time(&e, r, 0, due);
			break;
		}
		case ST_QUEUED:
			explain_queued(s, &e, j);
			break;
		default:
			explain_running(s, &e, j);
			break;
		}
	}
	sje__sched_reply_ok(s, call, &e.reply.base);
	sje__job_row_free(e.row);
	free(e.pp);
	free(e.ppp);
	free(e.req);
	free(e.reqp);
}

// ---- Functions ---------------------------------------------------------

// fn_gauge counts one function's unfinished jobs by state.
typedef struct fn_gauge {
	uint64_t queued, running, scheduled, pending;
} fn_gauge;

typedef struct fn_scan {
	sje__hmap      *index; // name -> fn_gauge
	const sched_fn *only;  // count only this function's; NULL: all
	fn_gauge       *one;
} fn_scan;

static bool
fn_each(void *arg, const char *key, void *value)
{
	(void) key;
	fn_scan   *sc = arg;
	sched_job *j  = value;
	fn_gauge  *g  = sc->only != NULL ? (j->fn == sc->only ? sc->one : NULL)
	                                 : sje__hmap_get(sc->index, j->fn->name);
	if (g == NULL) {
		return true;
	}
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

// fn_info fills info (and its workers array, caller-freed) for f with g.
static void
fn_info(sje__sched *s, const sched_fn *f, const fn_gauge *g,
    Sje__V1__FunctionInfo *info)
{
	sje__v1__function_info__init(info);
	info->name         = f->name;
	info->queued       = g->queued;
	info->running      = g->running;
	info->scheduled    = g->scheduled;
	info->pending      = g->pending;
	info->paused       = f->paused;
	info->concurrency  = f->concurrency;
	info->rate         = (char *) (f->rate != NULL ? f->rate : "");
	info->rate_wait_ms = (uint32_t) sje__sched_fn_rate_wait(s, f);
	size_t n           = 0;
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		n++;
	}
	info->workers = sje__sched_xalloc(sizeof(*info->workers) * (n + 1));
	for (sched_worker *w = s->workers; w != NULL; w = w->next) {
		for (size_t i = 0; i < w->n_fns; i++) {
			if (w->fns[i] == f) {
				info->workers[info->n_workers++] = w->name;
				break;
			}
		}
	}
}

static int
fn_name_cmp(const void *a, const void *b)
{
	const sched_fn *const *x = a;
	const sched_fn *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

void
sje__sched_list_functions(sje__sched *s, sje__call *call)
{
	sje__sched_fn_sweep(s);
	size_t n = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		n++;
	}
	sched_fn **fns = sje__sched_xalloc(sizeof(*fns) * (n + 1));
	fn_gauge  *g   = sje__sched_xalloc(sizeof(*g) * (n + 1));
	sje__hmap  index;
	sje__hmap_init(&index);
	size_t i = 0;
	for (sched_fn *f = s->fns; f != NULL; f = f->next) {
		fns[i++] = f;
	}
	qsort(fns, n, sizeof(*fns), fn_name_cmp);
	for (i = 0; i < n; i++) {
		if (sje__hmap_put(&index, fns[i]->name, &g[i]) != SJE_OK) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
	}
	fn_scan sc = { .index = &index };
	sje__hmap_each(&s->jobs, fn_each, &sc);

	Sje__V1__ListFunctionsReply reply =
	    SJE__V1__LIST_FUNCTIONS_REPLY__INIT;
	Sje__V1__FunctionInfo *info =
	    sje__sched_xalloc(sizeof(*info) * (n + 1));
	Sje__V1__FunctionInfo **ip = sje__sched_xalloc(sizeof(*ip) * (n + 1));
	for (i = 0; i < n; i++) {
		fn_info(s, fns[i], &g[i], &info[i]);
		ip[i] = &info[i];
	}
	reply.functions   = ip;
	reply.n_functions = n;
	sje__sched_reply_ok(s, call, &reply.base);
	for (i = 0; i < n; i++) {
		free(info[i].workers);
	}
	free(ip);
	free(info);
	sje__hmap_fini(&index);
	free(g);
	free(fns);
}

void
sje__sched_set_function(sje__sched *s, sje__call *call)
{
	const Sje__V1__SetFunctionRequest *req =
	    (const Sje__V1__SetFunctionRequest *) sje__call_input(call);
	if (!sje__job_function_valid(req->name)) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "name",
		    "a function name is 1 to %u bytes of A-Z a-z 0-9 _ . : -",
		    SJE_MAX_FUNCTION_BYTES);
		return;
	}
	if (req->pause != SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_UNCHANGED &&
	    req->pause != SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_PAUSE &&
	    req->pause != SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_RESUME) {
		sje__sched_reply_err(
		    s, call, SJE_EINVAL, "pause", "unknown pause change");
		return;
	}
	uint32_t rn, rper;
	if (req->set_rate && req->rate != NULL && req->rate[0] != '\0' &&
	    !sje_rate_parse(req->rate, &rn, &rper)) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "rate",
		    "expected a rate such as 100/s, 20/m or 500/h (a whole "
		    "number from 1 to %u, per second, minute or hour)",
		    SJE_RATE_MAX);
		return;
	}
	sched_fn *f   = sje__sched_fn_get(s, req->name);
	bool      was = f->paused;
	bool    want  = req->pause == SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_PAUSE
	        ? true
	        : req->pause == SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_RESUME ? false
	                                                                   : was;
	int64_t conc  = req->set_concurrency ? (int64_t) req->concurrency
	                                     : f->op_concurrency;
	const char *rate =
	    req->set_rate ? (req->rate != NULL ? req->rate : "") : f->op_rate;
	bool same_rate = (rate == NULL && f->op_rate == NULL) ||
	    (rate != NULL && f->op_rate != NULL &&
	        strcmp(rate, f->op_rate) == 0);
	if (want != was || !f->kept || conc != f->op_concurrency ||
	    !same_rate) {
		sje__fn_row row = { .name = f->name,
			.paused           = want,
			.concurrency      = conc,
			.rate             = (char *) rate,
			.updated_ms       = s->now_unix_ms };
		sje__sched_txn(s);
		sje_err err = sje__store_put_function(s->store, &row);
		if (err != SJE_OK) {
			sje__sched_fatal("store function", err);
		}
		char *copy = rate != NULL ? sje__sched_xstrdup(rate) : NULL;
		f->kept    = true;
		f->paused  = want;
		f->op_concurrency = conc;
		free(f->op_rate);
		f->op_rate = copy;
		sje__sched_fn_limits(s, f);
	}
	if (want != was) {
		SJE_INFO("function %s: %s", f->name,
		    want ? "paused: nothing of it starts until it is resumed"
		         : "resumed");
	}
	if (req->set_concurrency || req->set_rate) {
		char conc_s[16] = "none";
		if (f->concurrency != 0) {
			sje__snprintf(
			    conc_s, sizeof(conc_s), "%u", f->concurrency);
		}
		SJE_INFO("function %s: limits now concurrency %s, rate %s",
		    f->name, conc_s, f->rate != NULL ? f->rate : "none");
	}
	fn_gauge g  = { 0 };
	fn_scan  sc = { .only = f, .one = &g };
	sje__hmap_each(&s->jobs, fn_each, &sc);
	Sje__V1__FunctionInfo info;
	fn_info(s, f, &g, &info);
	sje__sched_reply_ok(s, call, &info.base);
	free(info.workers);
}
