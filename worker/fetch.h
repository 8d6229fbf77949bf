// fetch.h — the worker's fetch thread: it registers, then long-polls Fetch
// for as many jobs as there are free slots (plus a prefetch while jobs are
// short) and queues what it gets for the slots (slots.h); each Fetch
// carries the outcomes queued since the last one.
#ifndef SJE_WORKER_FETCH_H
#define SJE_WORKER_FETCH_H

#include <stdbool.h>
#include <stdint.h>

// sje__fetch_should_gather is true when, with busy of slots taken, the
// fetch thread should wait a moment for more slots to free before it asks
// (jobs run and fewer than half the slots are free), so that one Fetch
// brings several jobs rather than one. Pure.
bool sje__fetch_should_gather(uint32_t slots, uint32_t busy);

// sje__fetch_should_await is true when the fetch thread should wait a
// moment for the busy slots to finish before it asks again: the last Fetch
// drained the coordinator's queue (so the next one is likely held there,
// and an outcome that ends meanwhile would need a call of its own) and
// the recent jobs, over seen of them, ran under SJE__FETCH_AWAIT_MS on
// average. Their outcomes then ride on the next Fetch. Pure.
#define SJE__FETCH_AWAIT_MS 1.0
bool sje__fetch_should_await(
    bool drained, uint32_t busy, double run_ms, uint32_t seen);

// sje__fetch_max_jobs is how many jobs one Fetch asks for with busy of
// slots taken: the free slots, at most SJE_MAX_JOBS_PER_CALL. Pure;
// busy <= slots.
uint32_t sje__fetch_max_jobs(uint32_t slots, uint32_t busy);

// A worker whose jobs are short holds a few more than its slots, so that
// one Fetch brings many jobs and carries many outcomes: as many as its
// slots would run in RT_PREFETCH_WINDOW_MS at the recent jobs' run time,
// at most SJE__FETCH_PREFETCH_MAX, and none until SJE__FETCH_RUNS_SEEN
// jobs have run or once they take longer than the window.
#define SJE__FETCH_PREFETCH_WINDOW_MS 10.0
#define SJE__FETCH_PREFETCH_MAX 64u
#define SJE__FETCH_RUNS_SEEN 8u

// sje__fetch_extra is the prefetch of a worker with slots whose recent
// jobs ran run_ms on average, over seen of them. Pure.
uint32_t sje__fetch_extra(uint32_t slots, double run_ms, uint32_t seen);

// sje__fetch_average folds one run of ms into the average avg over seen
// runs before it (a moving average once seen reaches the minimum). Pure.
double sje__fetch_average(double avg, uint32_t seen, double ms);

struct sje__runtime;

// sje__fetch_note_run records that a job ran ms milliseconds. Call with
// rt->mtx held.
void sje__fetch_note_run(struct sje__runtime *rt, double ms);

// sje__fetch_cap is how many leased jobs the worker may hold now: its
// slots and its prefetch. Call with rt->mtx held.
uint32_t sje__fetch_cap(const struct sje__runtime *rt);

// sje__fetch_will_carry is true when the fetch thread is about to fetch
// and may carry the queued outcomes: the coordinator takes them, the
// thread is not in a call or a back-off, and a slot is free to ask for.
// The reporter then leaves them. Call with rt->mtx held.
bool sje__fetch_will_carry(const struct sje__runtime *rt);

// sje__fetch_main is the fetch thread's body; arg is the sje__runtime. It
// ends when the runtime stops or the first registration is refused, and
// then sets rt->fetch_done (the slots end once their queue is empty).
void *sje__fetch_main(void *arg);

#endif // SJE_WORKER_FETCH_H
