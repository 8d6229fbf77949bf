// heap.c — the scheduler's heaps (heap.h): jobs ordered by priority or by
// due time, and held calls by deadline. Memory only; scheduler thread
// only.
#include "sched/heap.h"

#include <stdlib.h>

bool
sje__sched_heap_before(
    const sched_heap *h, const sched_job *a, const sched_job *b)
{
	switch (h->kind) {
	case HEAP_READY:
		if (a->priority != b->priority) {
			return a->priority > b->priority;
		}
		break;
	case HEAP_DELAYED:
		if (a->ready_at_ms != b->ready_at_ms) {
			return a->ready_at_ms < b->ready_at_ms;
		}
		break;
	case HEAP_LEASES:
		if (a->lease_due_ms != b->lease_due_ms) {
			return a->lease_due_ms < b->lease_due_ms;
		}
		break;
	}
	return a->id < b->id;
}

// heap_idx is where h keeps j's index in it.
static size_t *
heap_idx(const sched_heap *h, sched_job *j)
{
	return h->kind == HEAP_LEASES ? &j->lease_idx : &j->heap_idx;
}

static void
heap_set(sched_heap *h, size_t i, sched_job *j)
{
	h->v[i]         = j;
	*heap_idx(h, j) = i;
}

static void
heap_up(sched_heap *h, size_t i)
{
	sched_job *j = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!sje__sched_heap_before(h, j, h->v[p])) {
			break;
		}
		heap_set(h, i, h->v[p]);
		i = p;
	}
	heap_set(h, i, j);
}

static void
heap_down(sched_heap *h, size_t i)
{
	sched_job *j = h->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n) {
			break;
		}
		if (c + 1 < h->n &&
		    sje__sched_heap_before(h, h->v[c + 1], h->v[c])) {
			c++;
		}
		if (!sje__sched_heap_before(h, h->v[c], j)) {
			break;
		}
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, j);
}

void
sje__sched_heap_push(sched_heap *h, sched_job *j)
{
	if (!sje__sched_grow((void **) &h->v, &h->cap, h->n, sizeof(*h->v))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	size_t i = h->n++;
	heap_set(h, i, j);
	heap_up(h, i);
}

void
sje__sched_heap_remove(sched_heap *h, sched_job *j)
{
	size_t *idx = heap_idx(h, j);
	size_t  i   = *idx;
	*idx        = SIZE_MAX;
	if (i >= h->n || h->v[i] != j) {
		return;
	}
	sched_job *last = h->v[--h->n];
	if (i < h->n) {
		heap_set(h, i, last);
		heap_up(h, i);
		heap_down(h, *heap_idx(h, last));
	}
}

void
sje__sched_heap_fix(sched_heap *h, sched_job *j)
{
	size_t i = *heap_idx(h, j);
	heap_up(h, i);
	heap_down(h, *heap_idx(h, j));
}

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

void
sje__sched_hheap_push(sched_hheap *q, sched_hold *h)
{
	if (!sje__sched_grow((void **) &q->v, &q->cap, q->n, sizeof(*q->v))) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	size_t i = q->n++;
	hold_heap_set(q, i, h);
	hold_heap_up(q, i);
}

void
sje__sched_hheap_remove(sched_hheap *q, sched_hold *h)
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
