// table.c — the scheduler's tables in memory (table.h): functions and
// their counters, workers and their sessions, jobs on and off the heaps,
// leases, the lists of held calls, and the parent-child links. No I/O;
// the round's holder only.
#include "sched/table.h"

#include "sched/heap.h"

#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

sched_fn *
sje__sched_fn_find(sje__sched *s, const char *name)
{
	return sje__hmap_get(&s->fn_map, name);
}

bool
sje__sched_fn_unserved(const sched_fn *f)
{
	return f->n_workers == 0 && !f->configured;
}

// The most starts a rate limit lets through at once: what a tenth of a
// second brings, at least one.
#define SCHED_RATE_BURST_MS 100u

void
sje__sched_fn_limits(sje__sched *s, sched_fn *f)
{
	const sje_function_cfg *fc = sje_config_function(s->cfg, f->name);
	f->concurrency = f->op_concurrency >= 0 ? (uint32_t) f->op_concurrency
	    : fc != NULL                        ? fc->concurrency
	                                        : 0;
	const char *rate = f->op_rate != NULL ? f->op_rate
	    : fc != NULL                      ? fc->rate
	                                      : NULL;
	uint32_t    n = 0, per = 0;
	if (rate == NULL || rate[0] == '\0' ||
	    !sje_rate_parse(rate, &n, &per)) {
		rate = NULL;
		n = per = 0;
	}
	bool changed   = n != f->rate_n || per != f->rate_per_ms;
	f->rate        = rate;
	f->rate_n      = n;
	f->rate_per_ms = per;
	if (n != 0) {
		uint64_t burst = (uint64_t) n * SCHED_RATE_BURST_MS / per;
		f->rate_burst  = burst >= 1 ? (uint32_t) burst : 1;
		if (changed) {
			f->tokens       = f->rate_burst;
			f->tokens_at_ms = s->now_ms;
		}
	}
}

bool
sje__sched_fn_rate_take(sje__sched *s, sched_fn *f, bool take)
{
	if (f->rate_n == 0) {
		return true;
	}
	if (s->now_ms > f->tokens_at_ms) {
		f->tokens += (double) (s->now_ms - f->tokens_at_ms) *
		    f->rate_n / f->rate_per_ms;
		if (f->tokens > f->rate_burst) {
			f->tokens = f->rate_burst;
		}
		f->tokens_at_ms = s->now_ms;
	}
	if (f->tokens >= 1.0) {
		if (take) {
			f->tokens -= 1.0;
		}
		return true;
	}
	return false;
}

sje_dur_ms
sje__sched_fn_rate_wait(const sje__sched *s, const sched_fn *f)
{
	if (f->rate_n == 0 || f->tokens >= 1.0) {
		return 0;
	}
	double     ms   = (1.0 - f->tokens) * f->rate_per_ms / f->rate_n;
	sje_dur_ms wait = (sje_dur_ms) ms + 1;
	sje_dur_ms past = s->now_ms - f->tokens_at_ms;
	return wait > past ? wait - past : 0;
}

sched_fn *
sje__sched_fn_get(sje__sched *s, const char *name)
{
	sched_fn *f = sje__hmap_get(&s->fn_map, name);
	if (f != NULL) {
		return f;
	}
	f                 = sje__sched_xalloc(sizeof(*f));
	f->name           = sje__sched_xstrdup(name);
	f->op_concurrency = -1;
	sje__sched_fn_limits(s, f);
	if (sje__hmap_put(&s->fn_map, f->name, f) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	f->next = s->fns;
	if (s->fns != NULL) {
		s->fns->prev = f;
	}
	s->fns = f;
	s->n_unserved++;
	return f;
}

void
sje__sched_fn_sweep(sje__sched *s)
{
	sched_fn *f = s->fns;
	while (f != NULL) {
		sched_fn *next = f->next;
		if (f->n_jobs == 0 && f->n_workers == 0 && !f->configured &&
		    !f->kept) {
			// Its counters go on in the forgotten functions'
			// sum, so that totals never go down.
			sched_fn *g = &s->forgotten;
			g->submitted += f->submitted;
			g->succeeded += f->succeeded;
			g->failed += f->failed;
			g->cancelled += f->cancelled;
			g->retried += f->retried;
			g->upstream_failed += f->upstream_failed;
			sje__sched_hist_merge(&g->wait, &f->wait);
			sje__sched_hist_merge(&g->run, &f->run);
			sje__hmap_del(&s->fn_map, f->name);
			if (f->prev != NULL) {
				f->prev->next = f->next;
			} else {
				s->fns = f->next;
			}
			if (f->next != NULL) {
				f->next->prev = f->prev;
			}
			s->n_unserved--;
			free(f->ready.v);
			free(f->routes); // empty: no job uses f
			free(f->op_rate);
			free(f->name);
			free(f);
		}
		f = next;
	}
}

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

sched_job *
sje__sched_job_of_row(sje__sched *s, const sje__job_row *row)
{
	sched_job *j = sje__sched_xalloc(sizeof(*j));
	j->id        = row->id;
	j->task_id   = sje__sched_xstrdup(row->task_id);
	j->fn        = sje__sched_fn_get(s, row->function);
	j->fn->n_jobs++;
	j->fn->n_running += row->state == ST_RUNNING;
	j->state        = row->state;
	j->priority     = row->priority;
	j->attempt      = row->attempt;
	j->max_attempts = row->max_attempts != 0 ? row->max_attempts : 1;
	j->timeout_s    = row->timeout_s;
	j->lease_id     = row->lease_id;
	// The row's times are wall-clock ones: from here on they count on
	// the monotonic clock, from what they are now.
	j->ready_at_ms      = sje__sched_mono_of(s, row->ready_at_ms);
	j->started_ms       = row->started_ms != 0
	          ? sje__sched_mono_of(s, row->started_ms)
	          : s->now_ms;
	j->cancel_requested = row->cancel_requested;
	j->heap_idx         = SIZE_MAX;
	j->lease_idx        = SIZE_MAX;
	// A spec that does not unpack (it cannot: the store keeps what was
	// checked) counts as naming parents, the careful side for DeleteJob.
	Sje__V1__JobSpec *spec =
	    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
	j->has_parents = spec == NULL || spec->n_depends_on > 0;
	j->route       = sje__sched_route_get(s, j->fn, spec);
	if (spec != NULL) {
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
	if (sje__hmap_put(&s->jobs, j->task_id, j) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	return j;
}

sched_worker *
sje__sched_worker_find(sje__sched *s, uint64_t session)
{
	return session != 0 ? sje__umap_get(&s->sessions, session) : NULL;
}

void
sje__sched_worker_drop(sje__sched *s, sched_worker *w)
{
	for (sched_worker **pp = &s->workers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	sje__umap_del(&s->sessions, w->session);
	for (size_t i = 0; i < w->n_fns; i++) {
		sched_fn *f = w->fns[i];
		if (--f->n_workers == 0 && !f->configured) {
			s->n_unserved++;
		}
	}
	sje__sched_worker_free(w);
}

void
sje__sched_worker_free(sched_worker *w)
{
	for (size_t i = 0; i < w->n_labels; i++) {
		free(w->labels[i].key);
		free(w->labels[i].value);
	}
	free(w->labels);
	free(w->fns);
	free(w->name);
	free(w);
}

// route_free frees r and what it owns.
static void
route_free(sched_route *r)
{
	for (size_t i = 0; i < r->n_req; i++) {
		free(r->req[i].key);
		free(r->req[i].value);
	}
	free(r->req);
	free(r->sig);
	free(r->ready.v);
	free(r);
}

// route_put lets go of j's route: the last job's takes it off its
// function and frees it.
static void
route_put(sched_job *j)
{
	sched_route *r = j->route;
	sched_fn    *f = j->fn;
	j->route       = NULL;
	if (r == NULL || --r->n_jobs > 0) {
		return;
	}
	for (size_t i = 0; i < f->n_routes; i++) {
		if (f->routes[i] == r) {
			f->routes[i] = f->routes[--f->n_routes];
			break;
		}
	}
	route_free(r);
}

static int
route_kv_cmp(const void *a, const void *b)
{
	return strcmp(((const sje_kv *) a)->key, ((const sje_kv *) b)->key);
}

sched_route *
sje__sched_route_get(sje__sched *s, sched_fn *f, const Sje__V1__JobSpec *spec)
{
	const sje_function_cfg *fc     = sje_config_function(s->cfg, f->name);
	size_t                  n_cfg  = fc != NULL ? fc->n_requires : 0;
	size_t                  n_spec = spec != NULL ? spec->n_requires : 0;
	if (n_cfg + n_spec == 0) {
		return NULL;
	}
	// The job's pairs, then config's for keys the job does not name.
	sje_kv *kv = sje__sched_xalloc(sizeof(*kv) * (n_cfg + n_spec));
	size_t  n  = 0;
	for (size_t i = 0; i < n_spec; i++) {
		kv[n].key   = spec->requires[i] -> key;
		kv[n].value = spec->requires[i] -> value != NULL
		    ? spec -> requires[i] -> value
		    : (char *) "";
		n++;
	}
	for (size_t i = 0; i < n_cfg; i++) {
		bool named = false;
		for (size_t k = 0; k < n_spec && !named; k++) {
			named = strcmp(kv[k].key, fc->requires[i].key) == 0;
		}
		if (!named) {
			kv[n++] = fc->requires[i];
		}
	}
	qsort(kv, n, sizeof(*kv), route_kv_cmp);
	sje__buf sig = { 0 };
	for (size_t i = 0; i < n; i++) {
		sje__buf_printf(&sig, "%s=%s\n", kv[i].key, kv[i].value);
	}
	size_t len;
	char  *text = sje__buf_take(&sig, &len);
	if (text == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	for (size_t i = 0; i < f->n_routes; i++) {
		if (strcmp(f->routes[i]->sig, text) == 0) {
			free(text);
			free(kv);
			f->routes[i]->n_jobs++;
			return f->routes[i];
		}
	}
	sched_route *r = sje__sched_xalloc(sizeof(*r));
	r->sig         = text;
	r->req         = sje__sched_xalloc(sizeof(*r->req) * n);
	for (size_t i = 0; i < n; i++) {
		r->req[i].key   = sje__sched_xstrdup(kv[i].key);
		r->req[i].value = sje__sched_xstrdup(kv[i].value);
	}
	r->n_req      = n;
	r->ready.kind = HEAP_READY;
	r->n_jobs     = 1;
	free(kv);
	if (!sje__sched_grow((void **) &f->routes, &f->cap_routes, f->n_routes,
	        sizeof(*f->routes))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	f->routes[f->n_routes++] = r;
	return r;
}

bool
sje__sched_route_matches(const sched_route *r, const sched_worker *w)
{
	for (size_t i = 0; i < r->n_req; i++) {
		bool found = false;
		for (size_t k = 0; k < w->n_labels && !found; k++) {
			found = strcmp(w->labels[k].key, r->req[i].key) == 0 &&
			    strcmp(w->labels[k].value != NULL
			            ? w->labels[k].value
			            : "",
			        r->req[i].value) == 0;
		}
		if (!found) {
			return false;
		}
	}
	return true;
}

void
sje__sched_job_free(sched_job *j)
{
	route_put(j);
	if (j->fn != NULL) {
		j->fn->n_jobs--;
	}
	for (uint32_t i = 0; i < j->n_children; i++) {
		free(j->children[i]);
	}
	free(j->children);
	free(j->waiters);
	free(j->spec);
	free(j->task_id);
	free(j);
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

// sje__sched_ready puts a QUEUED job on its function's heap.
void
sje__sched_ready(sje__sched *s, sched_job *j)
{
	j->queued_ms = s->now_ms;
	sje__sched_heap_push(
	    j->route != NULL ? &j->route->ready : &j->fn->ready, j);
	s->n_ready++;
}

// sje__sched_unqueue takes a job off whichever heap holds it.
void
sje__sched_unqueue(sje__sched *s, sched_job *j)
{
	if (j->heap_idx == SIZE_MAX) {
		return;
	}
	if (j->state == ST_SCHEDULED) {
		sje__sched_heap_remove(&s->delayed, j);
	} else {
		sje__sched_heap_remove(
		    j->route != NULL ? &j->route->ready : &j->fn->ready, j);
		s->n_ready--;
	}
}

void
sje__sched_lease_new(sje__sched *s, sched_job *j)
{
	uint64_t id;
	do {
		id = sje__random_u64();
	} while (id == 0 || id == j->lease_id ||
	    sje__umap_get(&s->leases, id) != NULL);
	j->lease_id = id;
	if (sje__umap_put(&s->leases, id, j) != SJE_OK) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
}

// lease_due is when j's lease or its timeout (with grace_ms) runs out,
// whichever is first.
static sje_dur_ms
lease_due(const sched_job *j, sje_dur_ms grace_ms)
{
	sje_dur_ms due = j->lease_expires_ms;
	if (j->timeout_s != 0) {
		sje_dur_ms t = j->started_ms +
		    (sje_dur_ms) j->timeout_s * 1000 + grace_ms;
		if (t < due) {
			due = t;
		}
	}
	return due;
}

void
sje__sched_lease_track(sje__sched *s, sched_job *j)
{
	j->lease_due_ms = lease_due(j, s->lease_ms);
	sje__sched_heap_push(&s->lease_heap, j);
}

sched_job *
sje__sched_lease_next(sje__sched *s)
{
	sje_dur_ms grace_ms = s->lease_ms;
	while (s->lease_heap.n > 0 &&
	    s->lease_heap.v[0]->lease_due_ms <= s->now_ms) {
		sched_job *j   = s->lease_heap.v[0];
		sje_dur_ms due = lease_due(j, grace_ms);
		if (due <= s->now_ms) {
			sje__sched_heap_remove(&s->lease_heap, j);
			return j;
		}
		// Heartbeats extended its lease: file it under the new end.
		j->lease_due_ms = due;
		sje__sched_heap_fix(&s->lease_heap, j);
	}
	return NULL;
}

sje_dur_ms
sje__sched_mono_of(const sje__sched *s, sje_time_ms unix_ms)
{
	return unix_ms != 0 ? s->now_ms + (unix_ms - s->now_unix_ms) : 0;
}

void
sje__sched_release_lease(sje__sched *s, sched_job *j)
{
	if (j->lease_id != 0 && sje__umap_get(&s->leases, j->lease_id) == j) {
		sje__umap_del(&s->leases, j->lease_id);
	}
	sje__sched_heap_remove(&s->lease_heap, j);
	if (j->worker != NULL && j->worker->busy > 0) {
		j->worker->busy--;
	}
	j->worker           = NULL;
	j->lease_expires_ms = 0;
}

sched_hold *
sje__sched_hold_add(
    sje__sched *s, hold_kind kind, sje__call *call, uint32_t wait_ms)
{
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
	sje__sched_hheap_push(&s->hold_heap, h);
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
	sje__sched_hheap_remove(&s->hold_heap, h);
	if (h->kind == HOLD_FETCH && h->worker != NULL) {
		h->worker->n_holds--;
	}
	for (size_t i = 0; i < h->n_ids; i++) {
		free(h->ids[i]);
	}
	free(h->ids);
	free(h->created);
	free(h->accepted);
	free(h);
}

// sje__sched_hold_wait_on makes h wait on the unfinished jobs among
// ids[0..n), which it copies: h->remaining counts them.
void
sje__sched_hold_wait_on(
    sje__sched *s, sched_hold *h, const char *const *ids, size_t n)
{
	h->ids   = sje__sched_xalloc(sizeof(*h->ids) * (n + 1));
	h->n_ids = n;
	for (size_t i = 0; i < n; i++) {
		h->ids[i]    = sje__sched_xstrdup(ids[i]);
		sched_job *j = sje__hmap_get(&s->jobs, ids[i]);
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
		h->remaining++;
	}
}

// sje__sched_hold_detach takes a Wait hold off the jobs it waits on.
void
sje__sched_hold_detach(sje__sched *s, sched_hold *h)
{
	for (size_t i = 0; i < h->n_ids; i++) {
		sched_job *j = sje__hmap_get(&s->jobs, h->ids[i]);
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
