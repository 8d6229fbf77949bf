// heap.h — binary heaps: of jobs (one kind of sched_heap each: a
// function's ready jobs, the delayed jobs, the RUNNING jobs by lease), and
// of held calls by deadline (sched_hheap). Each element knows its index
// in its heap, so removal is O(log n). Scheduler thread only; growing a
// heap past memory is fatal.
#ifndef SJE_SERVER_SCHED_HEAP_H
#define SJE_SERVER_SCHED_HEAP_H

#include "sched/state.h"

// sje__sched_heap_before is true when a goes before b in h: priority high
// first, then oldest (ready heaps); due first, then oldest (delayed and
// lease heaps).
bool sje__sched_heap_before(
    const sched_heap *h, const sched_job *a, const sched_job *b);

// sje__sched_heap_push adds j to h, which records its index in j.
void sje__sched_heap_push(sched_heap *h, sched_job *j);

// sje__sched_heap_remove takes j out of h (nothing if it is not there).
void sje__sched_heap_remove(sched_heap *h, sched_job *j);

// sje__sched_heap_fix puts j, which is in h, back in its place after its
// key changed.
void sje__sched_heap_fix(sched_heap *h, sched_job *j);

// sje__sched_hheap_push adds h to q by its deadline_ms, which never
// changes; q records h's index in h->heap_idx.
void sje__sched_hheap_push(sched_hheap *q, sched_hold *h);

// sje__sched_hheap_remove takes h out of q (nothing if it is not there).
void sje__sched_hheap_remove(sched_hheap *q, sched_hold *h);

#endif // SJE_SERVER_SCHED_HEAP_H
