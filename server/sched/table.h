// table.h — the scheduler's tables in memory: the unfinished jobs (by
// task_id), functions (by name), workers (by session), live leases (by
// lease id), the lists of held calls, the links between parents and
// children, and the counters. No I/O: nothing here reads or writes the
// store or answers a call. Scheduler thread only; out of memory is fatal.
#ifndef SJE_SERVER_SCHED_TABLE_H
#define SJE_SERVER_SCHED_TABLE_H

#include "sched/state.h"

// sje__sched_mono_of is the monotonic instant, as of this round, of the
// wall-clock time unix_ms read from the store (0 stays 0: none).
sje_dur_ms sje__sched_mono_of(const sje__sched *s, sje_time_ms unix_ms);

// sje__sched_lease_track puts a RUNNING job, whose lease_expires_ms and
// started_ms are set, on s->lease_heap.
void sje__sched_lease_track(sje__sched *s, sched_job *j);

// sje__sched_lease_next pops the RUNNING job whose lease, or whose
// timeout and a lease of grace, ran out by now, or returns NULL when there
// is none; it re-files the jobs whose lease heartbeats extended meanwhile.
sched_job *sje__sched_lease_next(sje__sched *s);

// sje__sched_fn_find returns the function called name, or NULL (a hash
// lookup).
sched_fn *sje__sched_fn_find(sje__sched *s, const char *name);

// sje__sched_fn_get finds the function called name, making it on first
// use. Its name may be borrowed until the handler returns (see
// sje__sched_fn_sweep); jobs and workers that point to it keep it.
sched_fn *sje__sched_fn_get(sje__sched *s, const char *name);

// sje__sched_fn_limits works out f's limits in force: what an operator
// set (f->op_*), else what config says of f, else none. A rate that
// changed starts with a full bucket.
void sje__sched_fn_limits(sje__sched *s, sched_fn *f);

// sje__sched_fn_rate_take refills f's token bucket to now and says whether
// a job of f may start now under its rate limit (always, with none); with
// take, that start is counted.
bool sje__sched_fn_rate_take(sje__sched *s, sched_fn *f, bool take);

// sje__sched_fn_rate_wait is how long, from now, until f's rate limit lets
// a job start (0: now, or no limit), as of the last refill.
sje_dur_ms sje__sched_fn_rate_wait(const sje__sched *s, const sched_fn *f);

// sje__sched_fn_unserved is true when no live worker serves f and config
// does not name it: what tasks.max_unserved_functions bounds.
bool sje__sched_fn_unserved(const sched_fn *f);

// sje__sched_fn_sweep forgets the functions that no unfinished job uses,
// no worker serves, config does not name and the store keeps no settings
// of, with their counters. Call it only between handlers.
void sje__sched_fn_sweep(sje__sched *s);

// sje__sched_worker_find returns the worker registered as session, or
// NULL (a hash lookup; session 0 is never issued).
sched_worker *sje__sched_worker_find(sje__sched *s, uint64_t session);

// sje__sched_worker_drop unlinks w (from s->workers and s->sessions),
// lets go of its functions and frees it. w holds no lease and no Fetch.
void sje__sched_worker_drop(sje__sched *s, sched_worker *w);

// sje__sched_worker_free frees w and what it owns (nothing else).
void sje__sched_worker_free(sched_worker *w);

// sje__sched_job_of_row makes the sched_job of the unfinished job row and
// files it in s->jobs under its task_id, on no heap (the caller puts it
// where its state says) and linked to no parent. Its times are the row's,
// on the monotonic clock; its lease is the row's id, not in s->leases.
sched_job *sje__sched_job_of_row(sje__sched *s, const sje__job_row *row);

// sje__sched_route_get is the route of a job of f whose spec is spec (may
// be NULL): the worker labels it needs, its requires merged with f's in
// config (the job's value wins for a key both name), made on first use;
// NULL when it needs none. The caller's job holds the route (its count
// is taken) until sje__sched_job_free.
sched_route *sje__sched_route_get(
    sje__sched *s, sched_fn *f, const Sje__V1__JobSpec *spec);

// sje__sched_route_matches is true when w's labels include every pair r
// needs.
bool sje__sched_route_matches(const sched_route *r, const sched_worker *w);

// sje__sched_job_free frees j and what it owns (not its waiters' holds),
// and lets go of its function.
void sje__sched_job_free(sched_job *j);

// sje__sched_lease_new gives j a fresh lease id: 64 random bits, never 0,
// never j's last lease, unique among live leases (s->leases).
void sje__sched_lease_new(sje__sched *s, sched_job *j);

// sje__sched_ready puts a QUEUED job on its function's heap.
void sje__sched_ready(sje__sched *s, sched_job *j);

// sje__sched_unqueue takes a job off whichever heap holds it.
void sje__sched_unqueue(sje__sched *s, sched_job *j);

// sje__sched_release_lease ends j's lease: its id leaves s->leases, j
// leaves s->lease_heap and the holder is forgotten. j->lease_id keeps the old
// id, so that a late report on it is refused.
void sje__sched_release_lease(sje__sched *s, sched_job *j);

// sje__sched_count updates fn's counters for a job entering state.
void sje__sched_count(sched_fn *f, int state);

// sje__sched_link makes child wait for parent (both unfinished).
void sje__sched_link(sched_job *parent, sched_job *child);

// sje__sched_hold_add holds call, kind, for up to wait_ms: last on its
// kind's list, and in the deadline heap. The hold is answered by whoever
// frees it (sje__sched_hold_remove).
sched_hold *sje__sched_hold_add(
    sje__sched *s, hold_kind kind, sje__call *call, uint32_t wait_ms);

// sje__sched_hold_remove unlinks h (from its list and the deadline heap)
// and frees it (its call already answered).
void sje__sched_hold_remove(sje__sched *s, sched_hold *h);

// sje__sched_hold_wait_on makes h wait on the unfinished jobs among
// ids[0..n), which it copies: h->remaining counts them.
void sje__sched_hold_wait_on(
    sje__sched *s, sched_hold *h, const char *const *ids, size_t n);

// sje__sched_hold_detach takes a Wait hold off the jobs it waits on.
void sje__sched_hold_detach(sje__sched *s, sched_hold *h);

#endif // SJE_SERVER_SCHED_TABLE_H
