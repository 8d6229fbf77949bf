// slots.h — the worker's slots: the ledger of leased tasks with the queue
// of those waiting for a slot, and the slot threads that run them.
#ifndef SJE_WORKER_SLOTS_H
#define SJE_WORKER_SLOTS_H

#include "task.h"

#include <stdbool.h>
#include <stdint.h>

// sje__slots is the ledger: every leased task (from its Fetch until its
// outcome is queued) and, among them, those not yet taken by a slot, in
// the order they came. Not thread-safe: the runtime guards it with its
// lock (runtime_int.h). Zero-initialised, it is empty.
typedef struct sje__slots {
	sje_task *jobs;   // every leased task (prev/next links)
	uint32_t  busy;   // tasks in jobs
	sje_task *q_head; // tasks waiting for a slot (qnext), oldest first
	sje_task *q_tail;
} sje__slots;

// sje__slots_add takes t into the ledger and queues it for a slot, and
// returns true; or returns false, taking nothing, when a task with t's
// task_id and lease_id is leased already (a repeated reply: the caller
// frees t). The ledger owns t until sje__slots_remove.
bool sje__slots_add(sje__slots *s, sje_task *t);

// sje__slots_take returns the oldest queued task, marked started and left
// in the ledger (still counted busy), or NULL when none is queued.
sje_task *sje__slots_take(sje__slots *s);

// sje__slots_remove unlinks t, a task of s taken by sje__slots_take, and
// counts it no longer busy; the caller then owns t.
void sje__slots_remove(sje__slots *s, sje_task *t);

// sje__slots_cancel sets, for reason why, the cancel flag of every leased
// task called task_id (should one worker hold two leases of one job, both
// are stopped: the coordinator names task ids only), logs each one this
// call cancelled, and returns how many those were. Takes each task's own
// lock.
size_t sje__slots_cancel(sje__slots *s, const char *task_id, sje__cancel why);

// sje__slot_main is a slot thread's body; arg is the sje__runtime. It
// ends when the fetch thread has ended and nothing is queued.
void *sje__slot_main(void *arg);

#endif // SJE_WORKER_SLOTS_H
