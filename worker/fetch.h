// fetch.h — the worker's fetch thread: it registers, then long-polls Fetch
// for as many jobs as there are free slots and queues what it gets for the
// slots (slots.h).
#ifndef SJE_WORKER_FETCH_H
#define SJE_WORKER_FETCH_H

#include <stdbool.h>
#include <stdint.h>

// sje__fetch_should_gather is true when, with busy of slots taken, the
// fetch thread should wait a moment for more slots to free before it asks
// (jobs run and fewer than half the slots are free), so that one Fetch
// brings several jobs rather than one. Pure.
bool sje__fetch_should_gather(uint32_t slots, uint32_t busy);

// sje__fetch_max_jobs is how many jobs one Fetch asks for with busy of
// slots taken: the free slots, at most SJE_MAX_JOBS_PER_CALL. Pure;
// busy <= slots.
uint32_t sje__fetch_max_jobs(uint32_t slots, uint32_t busy);

// sje__fetch_main is the fetch thread's body; arg is the sje__runtime. It
// ends when the runtime stops or the first registration is refused, and
// then sets rt->fetch_done (the slots end once their queue is empty).
void *sje__fetch_main(void *arg);

#endif // SJE_WORKER_FETCH_H
