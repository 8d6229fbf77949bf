// submit.c — Coordinator.Submit and RunWorkflow (submit.h): a batch of
// specs (or a workflow's steps) is checked, its parents found, its cycles
// refused, its first states planned, and then stored in the round's
// transaction, all or none. See round.c for the design; scheduler thread
// only.
#include "sched/submit.h"

#include "sched/check.h"
#include "sched/heap.h"
#include "sched/jobs.h"
#include "sched/reply.h"
#include "sched/table.h"
#include "sched/txn.h"

#include "dag.h"
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

// submit_item is the scratch state of one job of a Submit.
typedef struct submit_item {
	const Sje__V1__JobSpec *spec;
	char                   *task_id; // owned until the job takes it
	uint8_t                *packed;  // the spec as it will be stored
	size_t                  len;
	bool                    exists; // stored before, with this spec
	int                     state;  // existing: its state; new: planned
	size_t                 *batch_parents; // new parents in this batch
	size_t                  n_batch_parents;
	size_t                  n_children_in_batch; // for the cycle check
	const char             *failed_parent;       // why UPSTREAM_FAILED
	int                     failed_parent_state;
	bool                    waits; // has a parent not yet finished
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
// "<prefix>[i].<field>" (or "<prefix>[i]" when field is NULL). A NULL
// prefix stands for a request of one spec, whose fields are named as in
// the spec alone ("task_id"), as the REST door names a one-spec body's.
static void submit_fail(sje__sched *s, sje__call *call, sje_err err,
    const char *prefix, size_t i, const char *field, const char *fmt, ...)
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
	sje__job_field(where, sizeof(where), prefix, i, field);
	sje__sched_reply_err(s, call, err, where, "%s", msg);
}

// submit_plugins_accept asks the plugins' validate_submit hooks about
// spec (the i-th of the request, task_id filled in); on refusal queues the
// INVALID_ARGUMENT reply with their reason and returns false.
static bool
submit_plugins_accept(sje__sched *s, sje__call *call, const char *prefix,
    size_t i, const Sje__V1__JobSpec *spec)
{
	char    reason[600];
	char   *text;
	json_t *j;
	int     rv;

	if (!sje__hooks_validating(s->hooks)) {
		return true;
	}
	if ((j = sje__pb_to_json(&spec->base)) == NULL ||
	    (text = sje__json_dumps(j, JSON_COMPACT)) == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	json_decref(j);
	rv = sje__hooks_validate(s->hooks, text, reason, sizeof(reason));
	free(text);
	if (rv != 0) {
		submit_fail(
		    s, call, SJE_EINVAL, prefix, i, NULL, "%s", reason);
		return false;
	}
	return true;
}

// submit_check validates every spec, names the generated task_ids and
// looks each one up. A stored job answers for a spec only when both are
// steps of the same workflow run (workflow_id; NULL: not a run). On
// failure it queues the error reply and returns false; nothing was
// written.
static bool
submit_check(sje__sched *s, sje__call *call, const char *prefix,
    const char *workflow_id, submit_item *items, size_t n, sje__hmap *seen)
{
	char field[96], msg[256];
	// A call the doors checked (door/validate.h) has its specs within
	// the limits and reads back once packed; others (a workflow's steps,
	// tests that post directly) are checked here, the same way.
	bool   checked = call->checked;
	size_t edges   = 0;
	for (size_t i = 0; i < n; i++) {
		const Sje__V1__JobSpec *spec = items[i].spec;
		if (!checked &&
		    sje__job_spec_check(spec, field, sizeof(field), msg,
		        sizeof(msg)) != SJE_OK) {
			submit_fail(
			    s, call, SJE_EINVAL, prefix, i, field, "%s", msg);
			return false;
		}
		if (!checked &&
		    (edges += spec->n_depends_on) > SJE_MAX_EDGES_PER_CALL) {
			submit_fail(s, call, SJE_ELIMIT, prefix, i,
			    "depends_on",
			    "at most %u dependencies in one request",
			    SJE_MAX_EDGES_PER_CALL);
			return false;
		}
		if (spec->task_id != NULL && spec->task_id[0] != '\0') {
			items[i].task_id = sje__sched_xstrdup(spec->task_id);
		} else {
			char id[64];
			sje__gen_id("j", id, sizeof(id));
			items[i].task_id = sje__sched_xstrdup(id);
		}
		if (sje__hmap_get(seen, items[i].task_id) != NULL) {
			submit_fail(s, call, SJE_EINVAL, prefix, i, "task_id",
			    "task_id '%s' appears twice in the request",
			    items[i].task_id);
			return false;
		}
		if (sje__hmap_put(seen, items[i].task_id, &items[i]) !=
		    SJE_OK) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
		Sje__V1__JobSpec stored = *spec;
		stored.task_id          = items[i].task_id;
		items[i].len    = sje__v1__job_spec__get_packed_size(&stored);
		items[i].packed = sje__sched_xalloc(items[i].len + 1);
		sje__v1__job_spec__pack(&stored, items[i].packed);
		// protobuf-c keeps unknown fields and packs them again, and
		// some it accepts (a field number 0 under a non-minimal tag)
		// do not decode once packed: store only a spec that reads
		// back.
		if (!checked) {
			Sje__V1__JobSpec *back = sje__v1__job_spec__unpack(
			    NULL, items[i].len, items[i].packed);
			if (back == NULL) {
				submit_fail(s, call, SJE_EINVAL, prefix, i,
				    "task_id",
				    "the job spec holds malformed unknown "
				    "fields");
				return false;
			}
			sje__v1__job_spec__free_unpacked(back, NULL);
		}
	}

	// Which task_ids are stored already: one look-up for the request.
	const char **ids   = sje__sched_xalloc(sizeof(*ids) * (n + 1));
	bool        *found = sje__sched_xalloc(sizeof(*found) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		ids[i] = items[i].task_id;
	}
	sje_err err = sje__store_find_jobs(s->store, ids, n, found);
	free(ids);
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	for (size_t i = 0; i < n; i++) {
		Sje__V1__JobSpec stored = *items[i].spec;
		stored.task_id          = items[i].task_id;
		sje__job_row *row       = NULL;
		err                     = found[i]
		                        ? sje__store_get_job(s->store, items[i].task_id, &row)
		                        : SJE_ENOTFOUND;
		if (err == SJE_ENOTFOUND) {
			// A new job: the plugins may refuse it. (A resubmit of
			// a stored job is answered as before, unasked.)
			if (!submit_plugins_accept(
			        s, call, prefix, i, &stored)) {
				free(found);
				return false;
			}
			continue;
		}
		if (err != SJE_OK) {
			sje__sched_fatal("store read", err);
		}
		bool same = row->spec_len == items[i].len &&
		    memcmp(row->spec, items[i].packed, items[i].len) == 0;
		bool other_run = workflow_id != NULL &&
		    (row->workflow_id == NULL ||
		        strcmp(row->workflow_id, workflow_id) != 0);
		items[i].exists = true;
		items[i].state  = row->state;
		sje__job_row_free(row);
		if (other_run) {
			sje__sched_reply_err(s, call, SJE_EEXIST,
			    "workflow_id",
			    "workflow run id '%s' collides with job '%s', "
			    "which is not a step of that run",
			    workflow_id, items[i].task_id);
			free(found);
			return false;
		}
		if (!same) {
			submit_fail(s, call, SJE_EEXIST, prefix, i, "task_id",
			    "task_id '%s' exists with another spec",
			    items[i].task_id);
			free(found);
			return false;
		}
	}
	free(found);
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
		it->batch_parents =
		    sje__sched_xalloc(sizeof(size_t) * it->spec->n_depends_on);
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
			sje_err err = sje__store_get_job(s->store, p, &row);
			if (err == SJE_ENOTFOUND) {
				char f[48];
				sje__snprintf(
				    f, sizeof(f), "depends_on[%zu]", k);
				submit_fail(s, call, SJE_EINVAL, prefix, i, f,
				    "unknown parent '%s'", p);
				return false;
			}
			if (err != SJE_OK) {
				sje__sched_fatal("store read", err);
			}
			if (row->state != ST_SUCCEEDED &&
			    it->failed_parent == NULL) {
				it->failed_parent = it->spec->depends_on[k];
				it->failed_parent_state = row->state;
			}
			sje__job_row_free(row);
		}
	}
	return true;
}

// submit_parents_of gives a job's parents in the batch (sje__dag_order).
static const size_t *
submit_parents_of(void *ctx, size_t i, size_t *n)
{
	const submit_item *items = ctx;
	*n                       = items[i].n_batch_parents;
	return items[i].batch_parents;
}

// submit_plan orders the new jobs so that parents come before children
// (refusing a cycle, which it names) and plans each one's first state.
static bool
submit_plan(sje__sched *s, sje__call *call, const char *prefix,
    submit_item *items, size_t n)
{
	// The jobs stored before have no parents in the batch and are no
	// one's: they fall in the order anywhere, and are skipped.
	size_t *order   = sje__sched_xalloc(sizeof(size_t) * (n + 1));
	size_t *cycle   = sje__sched_xalloc(sizeof(size_t) * (n + 1));
	size_t  n_cycle = 0;
	sje_err rv      = sje__dag_order(
	         n, submit_parents_of, items, order, cycle, &n_cycle);
	if (rv == SJE_ENOMEM) {
		sje__sched_fatal("allocation", rv);
	}
	bool ok = rv == SJE_OK;
	if (!ok) {
		size_t v         = cycle[0];
		char   path[400] = "";
		size_t len       = 0;
		for (size_t k = 0; k < n_cycle && len < sizeof(path); k++) {
			len += (size_t) snprintf(path + len,
			    len < sizeof(path) ? sizeof(path) - len : 0,
			    "'%s' <- ", items[cycle[k]].task_id);
		}
		submit_fail(s, call, SJE_EINVAL, prefix, v, "depends_on",
		    "dependency cycle: %s'%s'", path, items[v].task_id);
	} else {
		for (size_t o = 0; o < n; o++) {
			submit_item *it = &items[order[o]];
			if (it->exists) {
				continue;
			}
			for (size_t k = 0; k < it->n_batch_parents &&
			     it->failed_parent == NULL;
			     k++) {
				submit_item *p = &items[it->batch_parents[k]];
				if (p->state ==
				    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
					it->failed_parent       = p->task_id;
					it->failed_parent_state = p->state;
				}
			}
			if (it->failed_parent != NULL) {
				it->state =
				    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED;
			} else if (it->waits || it->n_batch_parents > 0) {
				it->state = ST_PENDING;
			} else {
				it->state = it->spec->delay_s > 0
				    ? ST_SCHEDULED
				    : ST_QUEUED;
			}
		}
	}
	free(cycle);
	free(order);
	return ok;
}

// SUBMIT_WHY_BYTES holds the error message of a job born finished.
#define SUBMIT_WHY_BYTES 300

// submit_row fills row with the new job it plans, borrowing from it;
// why (SUBMIT_WHY_BYTES) receives the error message of one born
// finished.
static void
submit_row(sje__sched *s, const char *workflow_id, const submit_item *it,
    sje__job_row *row, char *why)
{
	const Sje__V1__JobSpec *spec = it->spec;
	*row                         = (sje__job_row) { 0 };
	row->task_id                 = it->task_id;
	row->workflow_id = (char *) workflow_id; // borrowed for the insert
	row->function    = spec->function;
	row->spec        = it->packed;
	row->spec_len    = it->len;
	row->priority    = spec->priority;
	row->created_ms  = s->now_unix_ms;
	row->state       = it->state;
	sje__sched_defaults(s, spec, &row->timeout_s, &row->max_attempts);
	if (spec->delay_s > 0) {
		row->ready_at_ms =
		    s->now_unix_ms + (sje_time_ms) spec->delay_s * 1000;
	}
	if (it->state == SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
		sje__snprintf(why, SUBMIT_WHY_BYTES, "parent '%s' ended %s",
		    it->failed_parent,
		    sje_job_state_name(it->failed_parent_state));
		row->error_type    = "upstream_failed";
		row->error_message = why;
		row->finished_ms   = s->now_unix_ms;
	}
}

// submit_keep takes in a new job stored as row under id: unless it starts
// finished, it is kept in memory, on the heap its state says.
static void
submit_keep(
    sje__sched *s, submit_item *it, const sje__job_row *row, int64_t id)
{
	const Sje__V1__JobSpec *spec = it->spec;
	sched_fn               *fn   = sje__sched_fn_get(s, spec->function);
	fn->submitted++;
	if (row->state == SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
		// Born finished: an event, a count, nothing kept in memory.
		sched_job tmp = { .id = id,
			.task_id      = it->task_id,
			.fn           = fn,
			.state        = row->state,
			.heap_idx     = SIZE_MAX,
			.lease_idx    = SIZE_MAX };
		sje__sched_count(fn, tmp.state);
		sje__sched_event_push(
		    s, &tmp, NULL, row->error_type, row->error_message);
		SJE_LOG_JOB(SJE_LOG_DEBUG, tmp.task_id, "submitted: %s",
		    row->error_message);
		return;
	}
	sched_job *j = sje__sched_xalloc(sizeof(*j));
	j->id        = id;
	j->task_id   = sje__sched_xstrdup(it->task_id);
	j->fn        = fn;
	fn->n_jobs++;
	j->state        = row->state;
	j->priority     = row->priority;
	j->max_attempts = row->max_attempts;
	j->timeout_s    = row->timeout_s;
	j->has_parents  = spec->n_depends_on > 0;
	j->route        = sje__sched_route_get(s, fn, spec);
	j->ready_at_ms  = spec->delay_s > 0
	     ? s->now_ms + (sje_dur_ms) spec->delay_s * 1000
	     : 0;
	j->heap_idx     = SIZE_MAX;
	j->lease_idx    = SIZE_MAX;
	if (it->len <= SCHED_SPEC_KEEP_BYTES) {
		j->spec = sje__sched_xalloc(it->len + 1);
		memcpy(j->spec, it->packed, it->len);
		j->spec_len = (uint32_t) it->len;
	}
	if (sje__hmap_put(&s->jobs, j->task_id, j) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	if (j->state == ST_SCHEDULED) {
		sje__sched_heap_push(&s->delayed, j);
	} else if (j->state == ST_QUEUED) {
		sje__sched_ready(s, j);
	}
	sje__sched_event_push(s, j, NULL, NULL, NULL);
	SJE_LOG_JOB(SJE_LOG_DEBUG, j->task_id, "submitted: %s, %s",
	    spec->function, sje_job_state_name(j->state));
}

// submit_insert stores the new jobs of items[0..n) in their planned
// states, in one insert (one statement per 200 rows in PostgreSQL), with
// the parents each names (the index of their children, in one call too)
// and, when they are a whole new workflow run, the first of them as the
// run's first step (sje__job_filter.runs); then it takes them in
// (submit_keep), in request order.
static void
submit_insert(
    sje__sched *s, const char *workflow_id, submit_item *items, size_t n)
{
	sje__job_row *rows = sje__sched_xalloc(sizeof(*rows) * (n + 1));
	size_t       *at   = sje__sched_xalloc(sizeof(*at) * (n + 1));
	char         *why  = sje__sched_xalloc(SUBMIT_WHY_BYTES * (n + 1));
	size_t        k    = 0;
	for (size_t i = 0; i < n; i++) {
		if (!items[i].exists) {
			submit_row(s, workflow_id, &items[i], &rows[k],
			    why + k * SUBMIT_WHY_BYTES);
			at[k++] = i;
		}
	}
	// A run submitted again (some of its steps stored already) keeps
	// the first step it had: it is not listed twice.
	if (workflow_id != NULL && k == n && k > 0) {
		rows[0].run_first = true;
	}
	if (k > 0) {
		int64_t *ids = sje__sched_xalloc(sizeof(*ids) * k);
		sje__sched_txn(s);
		sje_err err = sje__store_insert_jobs(s->store, rows, k, ids);
		if (err != SJE_OK) {
			sje__sched_fatal("store insert", err);
		}
		sje__parent_edge *edges   = NULL;
		size_t            n_edges = 0, cap_edges = 0;
		for (size_t j = 0; j < k; j++) {
			const Sje__V1__JobSpec *spec = items[at[j]].spec;
			for (size_t d = 0; d < spec->n_depends_on; d++) {
				if (!sje__sched_grow((void **) &edges,
				        &cap_edges, n_edges, sizeof(*edges))) {
					sje__sched_fatal(
					    "allocation", SJE_ENOMEM);
				}
				edges[n_edges++] =
				    (sje__parent_edge) { spec->depends_on[d],
					    ids[j] };
			}
		}
		if (n_edges > 0 &&
		    (err = sje__store_add_parents(s->store, edges, n_edges)) !=
		        SJE_OK) {
			sje__sched_fatal("store insert", err);
		}
		free(edges);
		for (size_t j = 0; j < k; j++) {
			submit_keep(s, &items[at[j]], &rows[j], ids[j]);
		}
		free(ids);
	}
	free(why);
	free(at);
	free(rows);
}

// submit_out is what sched_submit_specs leaves its caller: the results,
// ready for a reply (res[i] points into v), and the scratch they borrow
// their task_ids from. Free with submit_out_free once the reply is packed.
typedef struct submit_out {
	submit_item            *items;
	Sje__V1__SubmitResult  *v;
	Sje__V1__SubmitResult **res;
	size_t                  n;
} submit_out;

// submit_bound makes the functions the new jobs name, refusing the
// request (RESOURCE_EXHAUSTED, naming "<prefix>[i].function") when one
// would be a function beyond tasks.max_unserved_functions. At the limit
// it first forgets the unused functions, then counts again from the start
// (what the first pass made may have been forgotten).
static bool
submit_bound(sje__sched *s, sje__call *call, const char *prefix,
    submit_item *items, size_t n)
{
	uint32_t max = s->cfg->tasks.max_unserved_functions;
	for (int pass = 0; pass < 2; pass++) {
		bool full = false;
		for (size_t i = 0; i < n && !full; i++) {
			const char *name = items[i].spec->function;
			if (items[i].exists ||
			    sje__sched_fn_find(s, name) != NULL) {
				continue;
			}
			if (s->n_unserved >= max) {
				full = true;
				if (pass == 0) {
					break;
				}
				s->unserved_refused++;
				SJE_WARN("submit refused: function '%s' would "
				         "be unserved function %zu, over "
				         "tasks.max_unserved_functions (%u)",
				    name, s->n_unserved + 1, max);
				submit_fail(s, call, SJE_ELIMIT, prefix, i,
				    "function",
				    "no worker serves function '%s', and %zu "
				    "functions no worker serves are in use "
				    "already (tasks.max_unserved_functions "
				    "is %u)",
				    name, s->n_unserved, max);
				return false;
			}
			(void) sje__sched_fn_get(s, name);
		}
		if (!full) {
			return true;
		}
		sje__sched_fn_sweep(s);
	}
	return true;
}

static void
submit_out_free(submit_out *o)
{
	submit_items_free(o->items, o->n);
	free(o->res);
	free(o->v);
}

// sched_submit_specs submits specs[0..n) atomically: every one is checked,
// its parents found, cycles refused, and then all are stored, or none (the
// error reply, naming "<prefix>[i].<field>", is then queued). They are
// the steps of workflow run workflow_id, or of none when it is NULL.
// Returns whether they were stored; either way *out is to be freed, and
// on success out->res[i] holds each job's task_id and state.
static bool
sched_submit_specs(sje__sched *s, sje__call *call, const char *prefix,
    const char *workflow_id, const Sje__V1__JobSpec *const *specs, size_t n,
    submit_out *out)
{
	submit_item *items = sje__sched_xalloc(sizeof(*items) * (n + 1));
	*out               = (submit_out) { .items = items, .n = n };
	sje__hmap seen;
	sje__hmap_init(&seen);
	for (size_t i = 0; i < n; i++) {
		items[i].spec = specs[i];
	}
	bool ok =
	    submit_check(s, call, prefix, workflow_id, items, n, &seen) &&
	    submit_resolve(s, call, prefix, items, n, &seen) &&
	    submit_plan(s, call, prefix, items, n) &&
	    submit_bound(s, call, prefix, items, n);
	sje__hmap_fini(&seen);
	if (!ok) {
		return false;
	}
	submit_insert(s, workflow_id, items, n);
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
			sched_job *p =
			    sje__hmap_get(&s->jobs, specs[i]->depends_on[k]);
			if (p != NULL) {
				sje__sched_link(p, j);
			}
		}
	}
	out->v   = sje__sched_xalloc(sizeof(*out->v) * (n + 1));
	out->res = sje__sched_xalloc(sizeof(*out->res) * (n + 1));
	for (size_t i = 0; i < n; i++) {
		sje__v1__submit_result__init(&out->v[i]);
		out->v[i].task_id = items[i].task_id;
		out->v[i].state   = items[i].state;
		out->v[i].created = !items[i].exists;
		out->res[i]       = &out->v[i];
	}
	return true;
}

// sched_submit_answer answers a Submit whose jobs are planned: at once,
// or, with wait_ms and a job unfinished, once they are all terminal or
// wait_ms has passed (a WAIT hold, answered by sje__sched_wait_answer).
static void
sched_submit_answer(
    sje__sched *s, sje__call *call, uint32_t wait_ms, const submit_out *out)
{
	size_t open = 0;
	for (size_t i = 0; i < out->n; i++) {
		open += sje__hmap_get(&s->jobs, out->v[i].task_id) != NULL;
	}
	if (wait_ms == 0 || open == 0) {
		sje__sched_submit_reply(
		    s, call, out->res, out->n, wait_ms > 0, open == 0);
		return;
	}
	const char **ids = sje__sched_xalloc(sizeof(*ids) * (out->n + 1));
	for (size_t i = 0; i < out->n; i++) {
		ids[i] = out->v[i].task_id;
	}
	sched_hold *h = sje__sched_hold_add(s, HOLD_WAIT, call,
	    wait_ms < SCHED_MAX_HOLD_MS ? wait_ms : SCHED_MAX_HOLD_MS);
	sje__sched_hold_wait_on(s, h, ids, out->n);
	free(ids);
	h->created = sje__sched_xalloc(sizeof(*h->created) * (out->n + 1));
	for (size_t i = 0; i < out->n; i++) {
		h->created[i] = out->v[i].created;
	}
}

void
sje__sched_submit(sje__sched *s, sje__call *call)
{
	const Sje__V1__SubmitRequest *req =
	    (const Sje__V1__SubmitRequest *) sje__call_input(call);
	if (!sje__sched_check_count(s, call, req->n_jobs, 1, "jobs")) {
		return;
	}
	submit_out out;
	// One job: its fields are named plainly ("task_id"); a batch's as
	// "jobs[i].task_id".
	const char *prefix = req->n_jobs == 1 ? NULL : "jobs";
	if (sched_submit_specs(s, call, prefix, NULL,
	        (const Sje__V1__JobSpec *const *) req->jobs, req->n_jobs,
	        &out)) {
		sched_submit_answer(s, call, req->wait_ms, &out);
	}
	submit_out_free(&out);
}

void
sje__sched_run_workflow(sje__sched *s, sje__call *call)
{
	const Sje__V1__RunWorkflowRequest *req =
	    (const Sje__V1__RunWorkflowRequest *) sje__call_input(call);
	const sje_workflow *wf =
	    req->name != NULL ? sje__workflow_find(s->cfg, req->name) : NULL;
	if (wf == NULL) {
		sje__sched_reply_err(s, call, SJE_ENOTFOUND, "name",
		    "no workflow '%s' in the server's config",
		    req->name != NULL ? req->name : "");
		return;
	}
	char wid[SJE_MAX_ID_BYTES + 1];
	if (req->workflow_id != NULL && req->workflow_id[0] != '\0') {
		if (!sje__sched_check_id(
		        s, call, req->workflow_id, "workflow_id")) {
			return;
		}
		sje__snprintf(wid, sizeof(wid), "%s", req->workflow_id);
	} else {
		sje__gen_id("w", wid, sizeof(wid));
	}
	if (req->params != NULL && req->params->text != NULL &&
	    (strlen(req->params->text) > SJE_MAX_PARAMS_BYTES ||
	        !sje__json_valid(
	            req->params->text, strlen(req->params->text)))) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "params",
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
		sje__sched_reply_err(s, call, err, "params", "%s",
		    err == SJE_EINVAL ? msg : sje_strerror(err));
		return;
	}
	// A run id names the run alone: never a job as well, since wait,
	// status and cancel take either.
	sje__job_row *same_id = NULL;
	if ((err = sje__store_get_job(s->store, wid, &same_id)) == SJE_OK) {
		sje__job_row_free(same_id);
		sje__sched_reply_err(s, call, SJE_EEXIST, "workflow_id",
		    "workflow run id '%s' is the task_id of a job", wid);
		sje__workflow_run_fini(&run);
		return;
	}
	if (err != SJE_ENOTFOUND) {
		sje__sched_fatal("store read", err);
	}
	submit_out out;
	if (sched_submit_specs(s, call, "steps", wid,
	        (const Sje__V1__JobSpec *const *) run.specs, run.n, &out)) {
		Sje__V1__RunWorkflowReply reply =
		    SJE__V1__RUN_WORKFLOW_REPLY__INIT;
		reply.workflow_id = wid;
		reply.tasks       = out.res;
		reply.n_tasks     = out.n;
		sje__sched_reply_ok(s, call, &reply.base);
		SJE_INFO(
		    "workflow %s run %s: %zu steps", wf->name, wid, run.n);
	}
	submit_out_free(&out);
	sje__workflow_run_fini(&run);
}
