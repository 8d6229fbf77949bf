// sched_client.c — the Coordinator's handlers: submit (batches, DAGs,
// workflows), status, wait, cancel, lists, events, stats. See sched.c for
// the design; scheduler thread only.
#include "sched/sched_int.h"

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

// ---- Coordinator handlers --------------------------------------------

// sched_defaults works out the effective timeout and attempts of spec.
static void
sched_defaults(sje__sched *s, const Sje__V1__JobSpec *spec,
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
	if (prefix == NULL) {
		sje__snprintf(where, sizeof(where), "%s", field ? field : "");
	} else if (field != NULL) {
		sje__snprintf(
		    where, sizeof(where), "%s[%zu].%s", prefix, i, field);
	} else {
		sje__snprintf(where, sizeof(where), "%s[%zu]", prefix, i);
	}
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
	char   field[96], msg[256];
	size_t edges = 0;
	for (size_t i = 0; i < n; i++) {
		const Sje__V1__JobSpec *spec = items[i].spec;
		if (sje__job_spec_check(spec, field, sizeof(field), msg,
		        sizeof(msg)) != SJE_OK) {
			submit_fail(
			    s, call, SJE_EINVAL, prefix, i, field, "%s", msg);
			return false;
		}
		if ((edges += spec->n_depends_on) > SCHED_MAX_EDGES_PER_CALL) {
			submit_fail(s, call, SJE_ELIMIT, prefix, i,
			    "depends_on",
			    "at most %u dependencies in one request",
			    SCHED_MAX_EDGES_PER_CALL);
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
		Sje__V1__JobSpec *check = sje__v1__job_spec__unpack(
		    NULL, items[i].len, items[i].packed);
		if (check == NULL) {
			submit_fail(s, call, SJE_EINVAL, prefix, i, "task_id",
			    "the job spec holds malformed unknown fields");
			return false;
		}
		sje__v1__job_spec__free_unpacked(check, NULL);

		sje__job_row *row;
		sje_err       err =
		    sje__store_get_job(s->store, items[i].task_id, &row);
		if (err == SJE_ENOTFOUND) {
			// A new job: the plugins may refuse it. (A resubmit of
			// a stored job is answered as before, unasked.)
			if (!submit_plugins_accept(
			        s, call, prefix, i, &stored)) {
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
			return false;
		}
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

// sje__sched_link makes child wait for parent (both unfinished).
void
sje__sched_link(sched_job *parent, sched_job *child)
{
	if (parent->n_children == parent->cap_children) {
		uint32_t nc =
		    parent->cap_children != 0 ? parent->cap_children * 2 : 2;
		char **nv = realloc(parent->children, sizeof(*nv) * nc);
		if (nv == NULL) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
		parent->children     = nv;
		parent->cap_children = nc;
	}
	parent->children[parent->n_children++] =
	    sje__sched_xstrdup(child->task_id);
	child->n_waiting++;
}

// submit_insert stores one new job in its planned state and, unless it
// starts finished, keeps it in memory.
static void
submit_insert(sje__sched *s, const char *workflow_id, submit_item *it)
{
	const Sje__V1__JobSpec *spec = it->spec;
	sje__job_row            row  = { 0 };
	char                    why[300];
	row.task_id     = it->task_id;
	row.workflow_id = (char *) workflow_id; // borrowed for the insert
	row.function    = spec->function;
	row.spec        = it->packed;
	row.spec_len    = it->len;
	row.priority    = spec->priority;
	row.created_ms  = s->now_unix_ms;
	row.state       = it->state;
	sched_defaults(s, spec, &row.timeout_s, &row.max_attempts);
	if (spec->delay_s > 0) {
		row.ready_at_ms =
		    s->now_unix_ms + (sje_time_ms) spec->delay_s * 1000;
	}
	bool finished =
	    it->state == SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED;
	if (finished) {
		sje__snprintf(why, sizeof(why), "parent '%s' ended %s",
		    it->failed_parent,
		    sje_job_state_name(it->failed_parent_state));
		row.error_type    = "upstream_failed";
		row.error_message = why;
		row.finished_ms   = s->now_unix_ms;
	}
	sje__sched_txn(s);
	int64_t id;
	sje_err err = sje__store_insert_job(s->store, &row, &id);
	if (err != SJE_OK) {
		sje__sched_fatal("store insert", err);
	}

	sched_fn *fn = sje__sched_fn_get(s, spec->function);
	fn->submitted++;
	if (finished) {
		// Born finished: an event, a count, nothing kept in memory.
		sched_job tmp = { .id = id,
			.task_id      = it->task_id,
			.fn           = fn,
			.state        = row.state,
			.heap_idx     = SIZE_MAX,
			.lease_idx    = SIZE_MAX };
		sje__sched_count(fn, tmp.state);
		sje__sched_event_push(
		    s, &tmp, NULL, row.error_type, row.error_message);
		SJE_LOG_JOB(SJE_LOG_DEBUG, tmp.task_id, "submitted: %s", why);
		return;
	}
	sched_job *j = sje__sched_xalloc(sizeof(*j));
	j->id        = id;
	j->task_id   = sje__sched_xstrdup(it->task_id);
	j->fn        = fn;
	fn->n_jobs++;
	j->state        = row.state;
	j->priority     = row.priority;
	j->max_attempts = row.max_attempts;
	j->timeout_s    = row.timeout_s;
	j->ready_at_ms  = spec->delay_s > 0
	     ? s->now_ms + (sje_dur_ms) spec->delay_s * 1000
	     : 0;
	j->heap_idx     = SIZE_MAX;
	j->lease_idx    = SIZE_MAX;
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
	for (size_t i = 0; i < n; i++) {
		if (!items[i].exists) {
			submit_insert(s, workflow_id, &items[i]);
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
		Sje__V1__SubmitReply reply = SJE__V1__SUBMIT_REPLY__INIT;
		reply.results              = out.res;
		reply.n_results            = out.n;
		sje__sched_reply_ok(s, call, &reply.base);
	}
	submit_out_free(&out);
}

// sje__sched_check_count refuses a list (named field) of n entries unless
// min <= n <= SJE_MAX_JOBS_PER_CALL; returns whether it is within.
bool
sje__sched_check_count(
    sje__sched *s, sje__call *call, size_t n, size_t min, const char *field)
{
	if (n < min) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s: at least %zu entry is required", field, min);
		return false;
	}
	if (n > SJE_MAX_JOBS_PER_CALL) {
		sje__sched_reply_err(s, call, SJE_ELIMIT, field,
		    "%s: at most %u entries per call", field,
		    SJE_MAX_JOBS_PER_CALL);
		return false;
	}
	return true;
}

// sje__sched_check_id refuses a missing or malformed task_id.
bool
sje__sched_check_id(
    sje__sched *s, sje__call *call, const char *id, const char *field)
{
	if (id == NULL || id[0] == '\0') {
		sje__sched_reply_err(
		    s, call, SJE_EINVAL, field, "%s is required", field);
		return false;
	}
	if (!sje__job_id_valid(id)) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s must be 1 to %u characters of A-Z a-z 0-9 _ . : -",
		    field, SJE_MAX_ID_BYTES);
		return false;
	}
	return true;
}

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
		if (sje__hmap_get(&s->jobs, id) != NULL) {
			open++;
			continue;
		}
		sje__job_row *row;
		if (!sched_row_or_not_found(s, call, id, "task_ids", &row)) {
			return;
		}
		sje__job_row_free(row);
	}
	if (open == 0 || req->timeout_ms == 0) {
		sje__sched_wait_reply(s, call, open == 0);
		return;
	}
	uint32_t    wait_ms = req->timeout_ms < SCHED_MAX_HOLD_MS
	       ? req->timeout_ms
	       : SCHED_MAX_HOLD_MS;
	sched_hold *h       = sje__sched_hold_add(s, HOLD_WAIT, call, wait_ms);
	h->remaining        = open;
	for (size_t i = 0; i < req->n_task_ids; i++) {
		sched_job *j = sje__hmap_get(&s->jobs, req->task_ids[i]);
		if (j == NULL) {
			continue;
		}
		sched_hold **nw =
		    realloc(j->waiters, sizeof(*nw) * (j->n_waiters + 1));
		if (nw == NULL) {
			sje__sched_fatal("allocation", SJE_ENOMEM);
		}
		j->waiters                 = nw;
		j->waiters[j->n_waiters++] = h;
	}
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
	sje__job_row *row = sje__sched_load(s, j);
	if (j->state == ST_RUNNING) {
		j->cancel_requested   = true;
		row->cancel_requested = true;
		sje__sched_save(s, row, ST_RUNNING, j->lease_id);
		reply.state            = (Sje__V1__JobState) ST_RUNNING;
		reply.cancel_requested = true;
		sje__sched_event_full(
		    s, j, row->worker, NULL, NULL, NULL, true);
		SJE_LOG_JOB(SJE_LOG_INFO, j->task_id,
		    "cancel requested while running");
		sje__job_row_free(row);
	} else {
		row->cancel_requested = true;
		j->cancel_requested   = true;
		sje__sched_unqueue(s, j);
		sje__sched_set_state(j, row, ST_CANCELLED);
		reply.state            = (Sje__V1__JobState) ST_CANCELLED;
		reply.cancel_requested = false; // nothing left to stop
		SJE_LOG_JOB(SJE_LOG_INFO, j->task_id, "cancelled");
		sje__sched_finish(s, j, row);
		sje__job_row_free(row);
	}
	sje__sched_reply_ok(s, call, &reply.base);
}

// sched_check_limit refuses a list limit past max (0 asks for the
// default): the one rule of REST and RPC alike, never a silent clamp.
static bool
sched_check_limit(sje__sched *s, sje__call *call, uint32_t limit, uint32_t max)
{
	if (limit > max) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "limit",
		    "limit is %u; at most %u", limit, max);
		return false;
	}
	return true;
}

void
sje__sched_list_jobs(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListJobsRequest *req =
	    (const Sje__V1__ListJobsRequest *) sje__call_input(call);
	sje__job_filter f = { 0 };
	f.state           = (int) req->state;
	if (f.state < 0 ||
	    f.state > (int) SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED) {
		sje__sched_reply_err(
		    s, call, SJE_EINVAL, "state", "unknown state");
		return;
	}
	if (req->function != NULL && req->function[0] != '\0') {
		if (strlen(req->function) > SJE_MAX_FUNCTION_BYTES) {
			sje__sched_reply_err(s, call, SJE_EINVAL, "function",
			    "function is too long");
			return;
		}
		f.function = req->function;
	}
	if (req->workflow_id != NULL && req->workflow_id[0] != '\0') {
		if (!sje__sched_check_id(
		        s, call, req->workflow_id, "workflow_id")) {
			return;
		}
		f.workflow_id = req->workflow_id;
	}
	if (!sched_check_limit(s, call, req->limit, SCHED_LIST_MAX)) {
		return;
	}
	uint32_t limit = req->limit == 0 ? SCHED_LIST_DEFAULT : req->limit;
	// One row more than asked for tells whether another page follows:
	// the last page carries no cursor.
	f.limit = limit + 1;
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
	sje__job_row **rows;
	size_t         n;
	sje_err        err = sje__store_list_jobs(s->store, &f, &rows, &n);
	if (err != SJE_OK) {
		sje__sched_fatal("store list", err);
	}
	Sje__V1__ListJobsReply reply      = SJE__V1__LIST_JOBS_REPLY__INIT;
	char                   cursor[32] = "";
	bool                   more       = n > limit;
	size_t                 shown      = more ? limit : n;
	reply.jobs = sje__sched_xalloc(sizeof(*reply.jobs) * (n + 1));
	for (size_t i = 0; i < shown; i++) {
		// Each job as GetStatus shows it, attempts included: one
		// indexed read per job, for at most SCHED_LIST_MAX jobs.
		if (sje__job_row_to_pb(rows[i], &reply.jobs[reply.n_jobs]) ==
		    SJE_OK) {
			sje__sched_attach_attempts(
			    s, reply.jobs[reply.n_jobs], rows[i]->id);
			reply.n_jobs++;
		}
	}
	if (more) {
		sje__snprintf(cursor, sizeof(cursor), "%lld",
		    (long long) rows[shown - 1]->id);
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

void
sje__sched_list_events(sje__sched *s, sje__call *call)
{
	const Sje__V1__ListEventsRequest *req =
	    (const Sje__V1__ListEventsRequest *) sje__call_input(call);
	if (req->task_id != NULL && req->task_id[0] != '\0' &&
	    !sje__sched_check_id(s, call, req->task_id, "task_id")) {
		return;
	}
	if (!sched_check_limit(s, call, req->limit, SCHED_EVENTS_MAX)) {
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
	reply.worker_refusals          = rcp;
	reply.n_worker_refusals        = REFUSED_N;
	reply.worker_sessions_replaced = s->sessions_replaced;
	reply.unserved_functions       = s->n_unserved;
	reply.unserved_refused         = s->unserved_refused;
	sje__sched_reply_ok(s, call, &reply.base);
	free(counts);
	free(bounds);
	free(hist);
	free(fp);
	free(fs);
	free(sc.g);
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

void
sje__sched_check_alerts(sje__sched *s)
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
	in.succeeded_total += s->forgotten.succeeded;
	in.failed_total += s->forgotten.failed;
	// The alert rules read the wall clock: an alert's at_ms is shown.
	sje__alerts_check(s->alerts, &in, s->now_unix_ms, alerts_changed, s);
}

// sje__sched_attach_attempts adds job's attempt history (malloc'd, freed with
// the job by protobuf_c_message_free_unpacked).
void
sje__sched_attach_attempts(sje__sched *s, Sje__V1__Job *job, int64_t id)
{
	sje__attempt_row *rows;
	size_t            n;
	sje_err err = sje__store_list_attempts(s->store, id, &rows, &n);
	if (err != SJE_OK) {
		sje__sched_fatal("store attempts", err);
	}
	if (n == 0) {
		sje__attempt_rows_free(rows, n);
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
	sje__attempt_rows_free(rows, n);
}
