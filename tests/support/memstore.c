// memstore.c — the memory backend of the job store (memstore.h).
//
// Design: the data is four arrays — jobs in id order, attempts, events
// in seq order, functions' settings by name — searched linearly or by
// bisection; tests keep them small.
// A transaction is copy-on-begin: sje__store_begin keeps a deep copy of
// the data, commit drops it, rollback puts it back (the event seq counter
// with it). Simple and plainly right, which is what a reference backend
// is for; it costs O(data) per begin.
//
// Semantics follow store.h word for word; tests/store/contract.c checks
// this backend and the SQLite one with the same cases.
#include <sje/sje.h>

#include "memstore.h"

#include "util.h"

#include "sje/v1/job.pb-c.h"

#include <stdlib.h>
#include <string.h>

#define MEM_TERMINAL_MIN SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED

typedef struct mem_attempt {
	int64_t          job_id;
	sje__attempt_row a; // strings owned
} mem_attempt;

// mem_edge is one parent a job named (sje__store_add_parents).
typedef struct mem_edge {
	char   *parent; // owned
	int64_t child_id;
} mem_edge;

typedef struct mem_event {
	uint64_t seq;
	char    *task_id;
	uint8_t *data;
	size_t   len;
} mem_event;

// mem_data is everything the store holds; a transaction copies it.
typedef struct mem_data {
	sje__job_row      *jobs; // in id order (ids only rise)
	size_t             n_jobs, cap_jobs;
	mem_attempt       *att;
	size_t             n_att, cap_att;
	mem_event         *ev; // in seq order
	size_t             n_ev, cap_ev;
	sje__fn_row       *fns; // by name (strcmp order); strings owned
	size_t             n_fns, cap_fns;
	sje__schedule_row *scheds; // by name (strcmp order); strings owned
	size_t             n_scheds, cap_scheds;
	mem_edge          *edges; // in the order added
	size_t             n_edges, cap_edges;
	int64_t            last_id;  // ids are never reused, as SQLite's rowid
	uint64_t           last_seq; // the last event seq taken
} mem_data;

typedef struct mem_store {
	sje__store base;
	mem_data  *d;
	mem_data  *saved; // the data at begin; NULL: no transaction open
} mem_store;

static const sje__store_ops mem_ops;

// mem_grow makes room for one more element in *v (of n, capacity *cap).
static bool
mem_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap) {
		return true;
	}
	size_t nc = *cap != 0 ? *cap * 2 : 8;
	void  *nv = realloc(*v, nc * size);
	if (nv == NULL) {
		return false;
	}
	*v   = nv;
	*cap = nc;
	return true;
}

static bool
mem_dup(char **dst, const char *src)
{
	*dst = NULL;
	return src == NULL || (*dst = sje__strdup(src)) != NULL;
}

static void
mem_attempt_fini(sje__attempt_row *a)
{
	free(a->worker);
	free(a->error_type);
	free(a->error_message);
	memset(a, 0, sizeof(*a));
}

// mem_attempt_copy deep-copies src into dst; false (dst empty) on ENOMEM.
static bool
mem_attempt_copy(sje__attempt_row *dst, const sje__attempt_row *src)
{
	*dst        = *src;
	dst->worker = dst->error_type = dst->error_message = NULL;
	if (!mem_dup(&dst->worker, src->worker) ||
	    !mem_dup(&dst->error_type, src->error_type) ||
	    !mem_dup(&dst->error_message, src->error_message)) {
		mem_attempt_fini(dst);
		return false;
	}
	return true;
}

static void
mem_data_free(mem_data *d)
{
	if (d == NULL) {
		return;
	}
	for (size_t i = 0; i < d->n_jobs; i++) {
		sje__job_row_fini(&d->jobs[i]);
	}
	for (size_t i = 0; i < d->n_att; i++) {
		mem_attempt_fini(&d->att[i].a);
	}
	for (size_t i = 0; i < d->n_ev; i++) {
		free(d->ev[i].task_id);
		free(d->ev[i].data);
	}
	for (size_t i = 0; i < d->n_edges; i++) {
		free(d->edges[i].parent);
	}
	free(d->edges);
	free(d->jobs);
	free(d->att);
	free(d->ev);
	sje__fn_rows_free(d->fns, d->n_fns);
	sje__schedule_rows_free(d->scheds, d->n_scheds);
	free(d);
}

// mem_sched_copy deep-copies src into dst; false (dst empty) on ENOMEM.
static bool
mem_sched_copy(sje__schedule_row *dst, const sje__schedule_row *src)
{
	*dst      = *src;
	dst->name = dst->last_task_id = NULL;
	if (!mem_dup(&dst->name, src->name) ||
	    !mem_dup(&dst->last_task_id, src->last_task_id)) {
		free(dst->name);
		free(dst->last_task_id);
		memset(dst, 0, sizeof(*dst));
		return false;
	}
	return true;
}

// mem_fn_copy deep-copies src into dst; false (dst empty) on ENOMEM.
static bool
mem_fn_copy(sje__fn_row *dst, const sje__fn_row *src)
{
	*dst      = *src;
	dst->name = dst->rate = NULL; // so that a failure frees only copies
	if (!mem_dup(&dst->name, src->name) ||
	    !mem_dup(&dst->rate, src->rate)) {
		free(dst->name);
		free(dst->rate);
		memset(dst, 0, sizeof(*dst));
		return false;
	}
	return true;
}

// mem_data_copy returns a deep copy of d, or NULL when out of memory.
static mem_data *
mem_data_copy(const mem_data *d)
{
	mem_data *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->last_id  = d->last_id;
	c->last_seq = d->last_seq;
	if ((d->n_jobs > 0 &&
	        (c->jobs = calloc(d->n_jobs, sizeof(*c->jobs))) == NULL) ||
	    (d->n_att > 0 &&
	        (c->att = calloc(d->n_att, sizeof(*c->att))) == NULL) ||
	    (d->n_ev > 0 &&
	        (c->ev = calloc(d->n_ev, sizeof(*c->ev))) == NULL) ||
	    (d->n_fns > 0 &&
	        (c->fns = calloc(d->n_fns, sizeof(*c->fns))) == NULL) ||
	    (d->n_scheds > 0 &&
	        (c->scheds = calloc(d->n_scheds, sizeof(*c->scheds))) ==
	            NULL) ||
	    (d->n_edges > 0 &&
	        (c->edges = calloc(d->n_edges, sizeof(*c->edges))) == NULL)) {
		goto fail;
	}
	c->cap_edges = d->n_edges;
	for (; c->n_edges < d->n_edges; c->n_edges++) {
		c->edges[c->n_edges].child_id = d->edges[c->n_edges].child_id;
		if (!mem_dup(&c->edges[c->n_edges].parent,
		        d->edges[c->n_edges].parent)) {
			goto fail;
		}
	}
	c->cap_scheds = d->n_scheds;
	c->cap_jobs   = d->n_jobs;
	c->cap_att    = d->n_att;
	c->cap_ev     = d->n_ev;
	c->cap_fns    = d->n_fns;
	for (; c->n_jobs < d->n_jobs; c->n_jobs++) {
		if (sje__job_row_copy(
		        &c->jobs[c->n_jobs], &d->jobs[c->n_jobs]) != SJE_OK) {
			goto fail;
		}
	}
	for (; c->n_att < d->n_att; c->n_att++) {
		c->att[c->n_att].job_id = d->att[c->n_att].job_id;
		if (!mem_attempt_copy(
		        &c->att[c->n_att].a, &d->att[c->n_att].a)) {
			goto fail;
		}
	}
	for (; c->n_ev < d->n_ev; c->n_ev++) {
		const mem_event *e = &d->ev[c->n_ev];
		mem_event       *f = &c->ev[c->n_ev];
		f->seq             = e->seq;
		f->len             = e->len;
		if (!mem_dup(&f->task_id, e->task_id) ||
		    (f->data = malloc(e->len > 0 ? e->len : 1)) == NULL) {
			free(f->task_id);
			goto fail;
		}
		memcpy(f->data, e->data, e->len);
	}
	for (; c->n_fns < d->n_fns; c->n_fns++) {
		if (!mem_fn_copy(&c->fns[c->n_fns], &d->fns[c->n_fns])) {
			goto fail;
		}
	}
	for (; c->n_scheds < d->n_scheds; c->n_scheds++) {
		if (!mem_sched_copy(
		        &c->scheds[c->n_scheds], &d->scheds[c->n_scheds])) {
			goto fail;
		}
	}
	return c;
fail:
	mem_data_free(c);
	return NULL;
}

static mem_data *
mem_d(sje__store *h)
{
	return ((mem_store *) h->impl)->d;
}

// mem_find_id returns the index of job id in d->jobs, or -1.
static ptrdiff_t
mem_find_id(const mem_data *d, int64_t id)
{
	size_t lo = 0, hi = d->n_jobs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->jobs[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < d->n_jobs && d->jobs[lo].id == id ? (ptrdiff_t) lo : -1;
}

static ptrdiff_t
mem_find_task(const mem_data *d, const char *task_id)
{
	for (size_t i = 0; task_id != NULL && i < d->n_jobs; i++) {
		if (strcmp(d->jobs[i].task_id, task_id) == 0) {
			return (ptrdiff_t) i;
		}
	}
	return -1;
}

static bool
mem_terminal(int state)
{
	return state >= MEM_TERMINAL_MIN;
}

sje_err
sje__memstore_open(sje__store **out)
{
	mem_store *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->d = calloc(1, sizeof(*m->d))) == NULL) {
		free(m);
		return SJE_ENOMEM;
	}
	m->base.ops  = &mem_ops;
	m->base.impl = m;
	*out         = &m->base;
	return SJE_OK;
}

static void
mem_close(sje__store *h)
{
	mem_store *m = h->impl;
	mem_data_free(m->d);
	mem_data_free(m->saved); // an open transaction is rolled back
	free(m);
}

static sje_err
mem_open_reader(sje__store *h, sje__store **out)
{
	(void) h;
	(void) out;
	return SJE_EUNIMPL;
}

static sje_err
mem_begin(sje__store *h)
{
	mem_store *m = h->impl;
	if (m->saved != NULL) {
		return SJE_EIO; // as SQLite: a transaction is open already
	}
	if ((m->saved = mem_data_copy(m->d)) == NULL) {
		return SJE_ENOMEM;
	}
	return SJE_OK;
}

static sje_err
mem_commit(sje__store *h)
{
	mem_store *m = h->impl;
	if (m->saved == NULL) {
		return SJE_EIO;
	}
	mem_data_free(m->saved);
	m->saved = NULL;
	return SJE_OK;
}

static void
mem_rollback(sje__store *h)
{
	mem_store *m = h->impl;
	if (m->saved == NULL) {
		return;
	}
	mem_data_free(m->d);
	m->d     = m->saved;
	m->saved = NULL;
}

static sje_err
mem_insert_jobs(
    sje__store *h, const sje__job_row *rows, size_t n, int64_t *ids)
{
	mem_data *d     = mem_d(h);
	size_t    first = d->n_jobs;
	int64_t   id0   = d->last_id;
	sje_err   rv    = SJE_OK;

	for (size_t i = 0; i < n; i++) {
		const sje__job_row *r = &rows[i];
		if (r->task_id == NULL || r->function == NULL) {
			rv = SJE_EINVAL;
			break;
		}
		if (mem_find_task(d, r->task_id) >= 0) {
			rv = SJE_EEXIST;
			break;
		}
		if (!mem_grow((void **) &d->jobs, &d->cap_jobs, d->n_jobs,
		        sizeof(*d->jobs))) {
			rv = SJE_ENOMEM;
			break;
		}
		sje__job_row *c = &d->jobs[d->n_jobs];
		if ((rv = sje__job_row_copy(c, r)) != SJE_OK) {
			break;
		}
		c->id = ++d->last_id;
		d->n_jobs++;
	}
	if (rv != SJE_OK) {
		// All or nothing: undo this call's rows (and their ids).
		while (d->n_jobs > first) {
			sje__job_row_fini(&d->jobs[--d->n_jobs]);
		}
		d->last_id = id0;
		return rv;
	}
	for (size_t i = 0; i < n; i++) {
		ids[i] = d->jobs[first + i].id;
	}
	return SJE_OK;
}

static sje_err mem_put_attempt(
    sje__store *h, int64_t job_id, const sje__attempt_row *a);

static sje_err
mem_claim_job(sje__store *h, int64_t id, const sje__job_claim *c)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_id(d, id);

	if (c->lease_id == 0) {
		return SJE_EINVAL;
	}
	if (i < 0) {
		return SJE_ENOTFOUND;
	}
	sje__job_row *r = &d->jobs[i];
	if (r->state != SJE__V1__JOB_STATE__JOB_STATE_QUEUED) {
		return SJE_EPRECOND;
	}
	// The attempt first: it is the only step here that can fail.
	sje__attempt_row a      = { .number = c->attempt,
		     .worker                = (char *) c->worker,
		     .started_ms            = c->started_ms,
		     .outcome = SJE__V1__JOB_STATE__JOB_STATE_RUNNING };
	char            *worker = NULL;
	sje_err          rv;
	if (!mem_dup(&worker, c->worker)) {
		return SJE_ENOMEM;
	}
	if ((rv = mem_put_attempt(h, id, &a)) != SJE_OK) {
		free(worker);
		return rv;
	}
	r->state            = SJE__V1__JOB_STATE__JOB_STATE_RUNNING;
	r->attempt          = c->attempt;
	r->lease_id         = c->lease_id;
	r->lease_expires_ms = c->lease_expires_ms;
	free(r->worker);
	r->worker       = worker;
	r->started_ms   = c->started_ms;
	r->progress_pct = 0;
	free(r->progress_msg);
	r->progress_msg = NULL;
	return SJE_OK;
}

static sje_err
mem_update_job(
    sje__store *h, const sje__job_row *row, const sje__job_expect *expect)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_id(d, row->id);

	if (i < 0) {
		return SJE_ENOTFOUND;
	}
	sje__job_row *r        = &d->jobs[i];
	bool          state_ok = expect->state != 0 ? r->state == expect->state
	                                            : !mem_terminal(r->state);
	if (!state_ok ||
	    (expect->lease_id != 0 && r->lease_id != expect->lease_id)) {
		return SJE_EPRECOND;
	}
	// Copies first, so that ENOMEM changes nothing.
	sje__job_row n = *r;
	n.worker = n.result_json = n.error_type = n.error_message = NULL;
	n.progress_msg                                            = NULL;
	if (!mem_dup(&n.worker, row->worker) ||
	    !mem_dup(&n.result_json, row->result_json) ||
	    !mem_dup(&n.error_type, row->error_type) ||
	    !mem_dup(&n.error_message, row->error_message) ||
	    !mem_dup(&n.progress_msg, row->progress_msg)) {
		free(n.worker);
		free(n.result_json);
		free(n.error_type);
		free(n.error_message);
		free(n.progress_msg);
		return SJE_ENOMEM;
	}
	free(r->worker);
	free(r->result_json);
	free(r->error_type);
	free(r->error_message);
	free(r->progress_msg);
	n.state            = row->state;
	n.attempt          = row->attempt;
	n.max_attempts     = row->max_attempts;
	n.lease_id         = row->lease_id;
	n.lease_expires_ms = row->lease_expires_ms;
	n.ready_at_ms      = row->ready_at_ms;
	n.progress_pct     = row->progress_pct;
	n.cancel_requested = row->cancel_requested;
	n.started_ms       = row->started_ms;
	n.finished_ms      = row->finished_ms;
	*r                 = n;
	return SJE_OK;
}

static sje_err
mem_succeed_job(sje__store *h, int64_t id, const sje__job_success *ok)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_id(d, id);
	char     *result;

	if (ok->lease_id == 0 || ok->result_json == NULL) {
		return SJE_EINVAL;
	}
	if (i < 0) {
		return SJE_ENOTFOUND;
	}
	sje__job_row *r = &d->jobs[i];
	if (r->state != SJE__V1__JOB_STATE__JOB_STATE_RUNNING ||
	    r->lease_id != ok->lease_id) {
		return SJE_EPRECOND;
	}
	if (!mem_dup(&result, ok->result_json)) {
		return SJE_ENOMEM;
	}
	free(r->result_json);
	free(r->error_type);
	free(r->error_message);
	r->result_json      = result;
	r->error_type       = NULL;
	r->error_message    = NULL;
	r->state            = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
	r->progress_pct     = 100;
	r->lease_expires_ms = 0;
	r->finished_ms      = ok->finished_ms;
	for (size_t k = 0; k < d->n_att; k++) {
		sje__attempt_row *a = &d->att[k].a;
		if (d->att[k].job_id == id && a->number == r->attempt) {
			a->finished_ms = ok->finished_ms;
			a->outcome = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
			free(a->error_type);
			free(a->error_message);
			a->error_type    = NULL;
			a->error_message = NULL;
		}
	}
	return SJE_OK;
}

static sje_err
mem_extend_lease(
    sje__store *h, int64_t id, uint64_t lease_id, sje_time_ms expires_ms)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_id(d, id);

	if (i < 0) {
		return SJE_ENOTFOUND;
	}
	sje__job_row *r = &d->jobs[i];
	if (r->state != SJE__V1__JOB_STATE__JOB_STATE_RUNNING ||
	    r->lease_id != lease_id) {
		return SJE_EPRECOND;
	}
	r->lease_expires_ms = expires_ms;
	return SJE_OK;
}

// mem_row_out copies d->jobs[i] into a new row.
static sje_err
mem_row_out(const sje__job_row *r, sje__job_row **out)
{
	sje__job_row *c = calloc(1, sizeof(*c));
	sje_err       rv;
	if (c == NULL) {
		return SJE_ENOMEM;
	}
	if ((rv = sje__job_row_copy(c, r)) != SJE_OK) {
		free(c);
		return rv;
	}
	*out = c;
	return SJE_OK;
}

static sje_err
mem_get_job(sje__store *h, const char *task_id, sje__job_row **out)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_task(d, task_id);
	return i < 0 ? SJE_ENOTFOUND : mem_row_out(&d->jobs[i], out);
}

static sje_err
mem_find_jobs(
    sje__store *h, const char *const *task_ids, size_t n, bool *found)
{
	mem_data *d = mem_d(h);
	for (size_t i = 0; i < n; i++) {
		found[i] =
		    task_ids[i] != NULL && mem_find_task(d, task_ids[i]) >= 0;
	}
	return SJE_OK;
}

static sje_err
mem_get_job_by_id(sje__store *h, int64_t id, sje__job_row **out)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_id(d, id);
	return i < 0 ? SJE_ENOTFOUND : mem_row_out(&d->jobs[i], out);
}

static sje_err
mem_get_result(sje__store *h, const char *task_id, char **out)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_task(d, task_id);
	char     *c;

	*out = NULL;
	if (i < 0) {
		return SJE_ENOTFOUND;
	}
	if (!mem_dup(&c, d->jobs[i].result_json)) {
		return SJE_ENOMEM;
	}
	*out = c;
	return SJE_OK;
}

// mem_has_edge is true when job child_id named parent.
static bool
mem_has_edge(const mem_data *d, const char *parent, int64_t child_id)
{
	for (size_t i = 0; i < d->n_edges; i++) {
		if (d->edges[i].child_id == child_id &&
		    strcmp(d->edges[i].parent, parent) == 0) {
			return true;
		}
	}
	return false;
}

static bool
mem_matches(const mem_data *d, const sje__job_row *r, const sje__job_filter *f)
{
	if (f->task_id_prefix != NULL &&
	    strncmp(r->task_id, f->task_id_prefix,
	        strlen(f->task_id_prefix)) != 0) {
		return false;
	}
	if (f->parent != NULL && f->parent[0] != '\0' &&
	    !mem_has_edge(d, f->parent, r->id)) {
		return false;
	}
	if (f->runs && !r->run_first) {
		return false;
	}
	if (f->before_id > 0 && r->id >= f->before_id) {
		return false;
	}
	if (f->state != 0 && r->state != f->state) {
		return false;
	}
	if (f->function != NULL && f->function[0] != '\0' &&
	    strcmp(r->function, f->function) != 0) {
		return false;
	}
	if (f->workflow_id != NULL && f->workflow_id[0] != '\0' &&
	    (r->workflow_id == NULL ||
	        strcmp(r->workflow_id, f->workflow_id) != 0)) {
		return false;
	}
	if (f->worker != NULL && f->worker[0] != '\0' &&
	    (r->worker == NULL || strcmp(r->worker, f->worker) != 0)) {
		return false;
	}
	if (f->created_from_ms != 0 && r->created_ms < f->created_from_ms) {
		return false;
	}
	if (f->created_before_ms != 0 &&
	    r->created_ms >= f->created_before_ms) {
		return false;
	}
	return true;
}

static sje_err
mem_list_jobs(
    sje__store *h, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	mem_data      *d   = mem_d(h);
	sje__job_row **out = NULL;
	size_t         cnt = 0;
	sje_err        rv;

	if (f->limit == 0) {
		*rows = NULL;
		*n    = 0;
		return SJE_OK;
	}
	if ((out = calloc(f->limit, sizeof(*out))) == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = d->n_jobs; i > 0 && cnt < f->limit; i--) {
		if (!mem_matches(d, &d->jobs[i - 1], f)) {
			continue;
		}
		if ((rv = mem_row_out(&d->jobs[i - 1], &out[cnt])) != SJE_OK) {
			while (cnt > 0) {
				sje__job_row_free(out[--cnt]);
			}
			free(out);
			return rv;
		}
		cnt++;
	}
	if (cnt == 0) {
		free(out);
		out = NULL;
	}
	*rows = out;
	*n    = cnt;
	return SJE_OK;
}

static sje_err
mem_scan_active(sje__store *h, sje__store_job_fn fn, void *arg)
{
	mem_data *d = mem_d(h);
	for (size_t i = 0; i < d->n_jobs; i++) {
		if (mem_terminal(d->jobs[i].state)) {
			continue;
		}
		sje_err rv = fn(arg, &d->jobs[i]);
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

static sje_err
mem_put_attempt(sje__store *h, int64_t job_id, const sje__attempt_row *a)
{
	mem_data        *d = mem_d(h);
	sje__attempt_row c;

	if (!mem_attempt_copy(&c, a)) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < d->n_att; i++) {
		if (d->att[i].job_id == job_id &&
		    d->att[i].a.number == a->number) {
			mem_attempt_fini(&d->att[i].a);
			d->att[i].a = c;
			return SJE_OK;
		}
	}
	if (!mem_grow(
	        (void **) &d->att, &d->cap_att, d->n_att, sizeof(*d->att))) {
		mem_attempt_fini(&c);
		return SJE_ENOMEM;
	}
	d->att[d->n_att++] = (mem_attempt) { .job_id = job_id, .a = c };
	return SJE_OK;
}

static int
mem_attempt_cmp(const void *a, const void *b)
{
	uint32_t x = ((const sje__attempt_row *) a)->number;
	uint32_t y = ((const sje__attempt_row *) b)->number;
	return x < y ? -1 : x > y;
}

static sje_err
mem_list_attempts(
    sje__store *h, int64_t job_id, sje__attempt_row **rows, size_t *n)
{
	mem_data         *d   = mem_d(h);
	sje__attempt_row *v   = NULL;
	size_t            cnt = 0;

	for (size_t i = 0; i < d->n_att; i++) {
		cnt += d->att[i].job_id == job_id;
	}
	if (cnt > 0 && (v = calloc(cnt, sizeof(*v))) == NULL) {
		return SJE_ENOMEM;
	}
	cnt = 0;
	for (size_t i = 0; i < d->n_att; i++) {
		if (d->att[i].job_id != job_id) {
			continue;
		}
		if (!mem_attempt_copy(&v[cnt], &d->att[i].a)) {
			sje__attempt_rows_free(v, cnt);
			return SJE_ENOMEM;
		}
		cnt++;
	}
	if (cnt > 1) {
		qsort(v, cnt, sizeof(*v), mem_attempt_cmp);
	}
	*rows = v;
	*n    = cnt;
	return SJE_OK;
}

static sje_err
mem_next_event_seq(sje__store *h, uint64_t *seq)
{
	*seq = ++mem_d(h)->last_seq;
	return SJE_OK;
}

static sje_err
mem_last_event_seq(sje__store *h, uint64_t *seq)
{
	*seq = mem_d(h)->last_seq;
	return SJE_OK;
}

static sje_err
mem_add_event(sje__store *h, uint64_t seq, const char *task_id,
    const uint8_t *data, size_t len)
{
	mem_data *d = mem_d(h);
	size_t    at;
	mem_event e = { .seq = seq, .len = len };

	// Where it goes in seq order; the same seq twice is refused.
	for (at = d->n_ev; at > 0 && d->ev[at - 1].seq > seq; at--) { }
	if (at > 0 && d->ev[at - 1].seq == seq) {
		return SJE_EEXIST;
	}
	if (!mem_grow((void **) &d->ev, &d->cap_ev, d->n_ev, sizeof(*d->ev)) ||
	    !mem_dup(&e.task_id, task_id != NULL ? task_id : "") ||
	    (e.data = malloc(len > 0 ? len : 1)) == NULL) {
		free(e.task_id);
		return SJE_ENOMEM;
	}
	if (len > 0) {
		memcpy(e.data, data, len);
	}
	memmove(&d->ev[at + 1], &d->ev[at], (d->n_ev - at) * sizeof(*d->ev));
	d->ev[at] = e;
	d->n_ev++;
	return SJE_OK;
}

static sje_err
mem_list_events(sje__store *h, uint64_t after, const char *task_id,
    uint32_t limit, sje__store_event_fn fn, void *arg)
{
	mem_data *d       = mem_d(h);
	bool      by_task = task_id != NULL && task_id[0] != '\0';
	uint32_t  sent    = 0;

	for (size_t i = 0; i < d->n_ev && sent < limit; i++) {
		const mem_event *e = &d->ev[i];
		if (e->seq <= after ||
		    (by_task && strcmp(e->task_id, task_id) != 0)) {
			continue;
		}
		sje_err rv = fn(arg, e->seq, e->data, e->len);
		if (rv != SJE_OK) {
			return rv;
		}
		sent++;
	}
	return SJE_OK;
}

static sje_err
mem_prune_events(sje__store *h, uint64_t upto)
{
	mem_data *d = mem_d(h);
	size_t    k = 0;
	while (k < d->n_ev && d->ev[k].seq <= upto) {
		free(d->ev[k].task_id);
		free(d->ev[k].data);
		k++;
	}
	memmove(d->ev, &d->ev[k], (d->n_ev - k) * sizeof(*d->ev));
	d->n_ev -= k;
	return SJE_OK;
}

// mem_drop_job removes d->jobs[i] and the attempts of its job.
static void
mem_drop_job(mem_data *d, size_t i)
{
	int64_t id = d->jobs[i].id;
	sje__job_row_fini(&d->jobs[i]);
	memmove(&d->jobs[i], &d->jobs[i + 1],
	    (d->n_jobs - i - 1) * sizeof(*d->jobs));
	d->n_jobs--;
	size_t w = 0;
	for (size_t a = 0; a < d->n_att; a++) {
		if (d->att[a].job_id == id) {
			mem_attempt_fini(&d->att[a].a);
		} else {
			d->att[w++] = d->att[a];
		}
	}
	d->n_att = w;
	w        = 0;
	for (size_t e = 0; e < d->n_edges; e++) {
		if (d->edges[e].child_id == id) {
			free(d->edges[e].parent);
		} else {
			d->edges[w++] = d->edges[e];
		}
	}
	d->n_edges = w;
}

static sje_err
mem_add_parents(sje__store *h, const sje__parent_edge *edges, size_t n)
{
	mem_data *d = mem_d(h);

	for (size_t i = 0; i < n; i++) {
		if (edges[i].parent == NULL || edges[i].parent[0] == '\0') {
			return SJE_EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *parent   = edges[i].parent;
		int64_t     child_id = edges[i].child_id;
		if (mem_has_edge(d, parent, child_id)) {
			continue;
		}
		if (!mem_grow((void **) &d->edges, &d->cap_edges, d->n_edges,
		        sizeof(*d->edges))) {
			return SJE_ENOMEM;
		}
		mem_edge *e = &d->edges[d->n_edges];
		if (!mem_dup(&e->parent, parent)) {
			return SJE_ENOMEM;
		}
		e->child_id = child_id;
		d->n_edges++;
	}
	return SJE_OK;
}

// mem_finished_before orders the indexes of purgeable jobs by finished_ms.
typedef struct mem_purge {
	sje_time_ms finished_ms;
	int64_t     id;
} mem_purge;

static int
mem_purge_cmp(const void *a, const void *b)
{
	const mem_purge *x = a, *y = b;
	if (x->finished_ms != y->finished_ms) {
		return x->finished_ms < y->finished_ms ? -1 : 1;
	}
	return x->id < y->id ? -1 : x->id > y->id;
}

static sje_err
mem_purge_finished(
    sje__store *h, sje_time_ms before_ms, uint32_t limit, uint32_t *n)
{
	mem_data  *d = mem_d(h);
	mem_purge *v = NULL;
	size_t     c = 0;

	if (d->n_jobs > 0 && (v = calloc(d->n_jobs, sizeof(*v))) == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < d->n_jobs; i++) {
		if (mem_terminal(d->jobs[i].state) &&
		    d->jobs[i].finished_ms < before_ms) {
			v[c++] = (mem_purge) { d->jobs[i].finished_ms,
				d->jobs[i].id };
		}
	}
	qsort(v, c, sizeof(*v), mem_purge_cmp);
	if (c > limit) {
		c = limit;
	}
	for (size_t k = 0; k < c; k++) {
		mem_drop_job(d, (size_t) mem_find_id(d, v[k].id));
	}
	free(v);
	*n = (uint32_t) c;
	return SJE_OK;
}

static sje_err
mem_delete_job(sje__store *h, const char *task_id)
{
	mem_data *d = mem_d(h);
	ptrdiff_t i = mem_find_task(d, task_id);

	if (i < 0) {
		return SJE_ENOTFOUND; // also for a NULL task_id
	}
	if (!mem_terminal(d->jobs[i].state)) {
		return SJE_EPRECOND;
	}
	mem_drop_job(d, (size_t) i);
	return SJE_OK;
}

// mem_find_fn returns where name is in d->fns, or where it would go, and
// whether it is there.
static size_t
mem_find_fn(const mem_data *d, const char *name, bool *found)
{
	size_t lo = 0, hi = d->n_fns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(d->fns[mid].name, name) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*found = lo < d->n_fns && strcmp(d->fns[lo].name, name) == 0;
	return lo;
}

static sje_err
mem_put_function(sje__store *h, const sje__fn_row *row)
{
	mem_data   *d = mem_d(h);
	sje__fn_row c;
	bool        found;

	if (row->name == NULL || row->name[0] == '\0') {
		return SJE_EINVAL;
	}
	if (!mem_fn_copy(&c, row)) {
		return SJE_ENOMEM;
	}
	size_t at = mem_find_fn(d, row->name, &found);
	if (found) {
		free(d->fns[at].name);
		free(d->fns[at].rate);
		d->fns[at] = c;
		return SJE_OK;
	}
	if (!mem_grow(
	        (void **) &d->fns, &d->cap_fns, d->n_fns, sizeof(*d->fns))) {
		free(c.name);
		free(c.rate);
		return SJE_ENOMEM;
	}
	memmove(
	    &d->fns[at + 1], &d->fns[at], (d->n_fns - at) * sizeof(*d->fns));
	d->fns[at] = c;
	d->n_fns++;
	return SJE_OK;
}

static sje_err
mem_list_functions(sje__store *h, sje__fn_row **rows, size_t *n)
{
	mem_data    *d = mem_d(h);
	sje__fn_row *v = NULL;

	if (d->n_fns > 0 && (v = calloc(d->n_fns, sizeof(*v))) == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < d->n_fns; i++) {
		if (!mem_fn_copy(&v[i], &d->fns[i])) {
			sje__fn_rows_free(v, i);
			return SJE_ENOMEM;
		}
	}
	*rows = v;
	*n    = d->n_fns;
	return SJE_OK;
}

static sje_err
mem_put_schedule(sje__store *h, const sje__schedule_row *row)
{
	mem_data         *d = mem_d(h);
	sje__schedule_row c;

	if (row->name == NULL || row->name[0] == '\0') {
		return SJE_EINVAL;
	}
	if (!mem_sched_copy(&c, row)) {
		return SJE_ENOMEM;
	}
	size_t at = 0;
	while (at < d->n_scheds && strcmp(d->scheds[at].name, row->name) < 0) {
		at++;
	}
	if (at < d->n_scheds && strcmp(d->scheds[at].name, row->name) == 0) {
		free(d->scheds[at].name);
		free(d->scheds[at].last_task_id);
		d->scheds[at] = c;
		return SJE_OK;
	}
	if (!mem_grow((void **) &d->scheds, &d->cap_scheds, d->n_scheds,
	        sizeof(*d->scheds))) {
		free(c.name);
		free(c.last_task_id);
		return SJE_ENOMEM;
	}
	memmove(&d->scheds[at + 1], &d->scheds[at],
	    (d->n_scheds - at) * sizeof(*d->scheds));
	d->scheds[at] = c;
	d->n_scheds++;
	return SJE_OK;
}

static sje_err
mem_list_schedules(sje__store *h, sje__schedule_row **rows, size_t *n)
{
	mem_data          *d = mem_d(h);
	sje__schedule_row *v = NULL;

	if (d->n_scheds > 0 && (v = calloc(d->n_scheds, sizeof(*v))) == NULL) {
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < d->n_scheds; i++) {
		if (!mem_sched_copy(&v[i], &d->scheds[i])) {
			sje__schedule_rows_free(v, i);
			return SJE_ENOMEM;
		}
	}
	*rows = v;
	*n    = d->n_scheds;
	return SJE_OK;
}

// The memory store keeps no cursors: one coordinator, in one process.
static sje_err
mem_get_cursor(sje__store *h, const char *name, uint64_t *seq)
{
	(void) h;
	(void) name;
	(void) seq;
	return SJE_EUNIMPL;
}

static sje_err
mem_put_cursor(sje__store *h, const char *name, uint64_t seq)
{
	(void) h;
	(void) name;
	(void) seq;
	return SJE_EUNIMPL;
}

static const sje__store_ops mem_ops = {
	.name             = "memory",
	.close            = mem_close,
	.open_reader      = mem_open_reader,
	.begin            = mem_begin,
	.commit           = mem_commit,
	.rollback         = mem_rollback,
	.insert_jobs      = mem_insert_jobs,
	.claim_job        = mem_claim_job,
	.succeed_job      = mem_succeed_job,
	.update_job       = mem_update_job,
	.extend_lease     = mem_extend_lease,
	.get_job          = mem_get_job,
	.get_job_by_id    = mem_get_job_by_id,
	.get_result       = mem_get_result,
	.find_jobs        = mem_find_jobs,
	.get_jobs         = sje__store_get_jobs_each,
	.list_jobs        = mem_list_jobs,
	.add_parents      = mem_add_parents,
	.scan_active      = mem_scan_active,
	.put_attempt      = mem_put_attempt,
	.list_attempts    = mem_list_attempts,
	.list_attempts_of = sje__store_list_attempts_of_each,
	.next_event_seq   = mem_next_event_seq,
	.last_event_seq   = mem_last_event_seq,
	.add_event        = mem_add_event,
	.list_events      = mem_list_events,
	.prune_events     = mem_prune_events,
	.purge_finished   = mem_purge_finished,
	.delete_job       = mem_delete_job,
	.put_function     = mem_put_function,
	.list_functions   = mem_list_functions,
	.put_schedule     = mem_put_schedule,
	.list_schedules   = mem_list_schedules,
	.get_cursor       = mem_get_cursor,
	.put_cursor       = mem_put_cursor,
};
