// base.h — the scheduler's lowest layer: its limits, the job-state
// constants, growing arrays, allocation that cannot fail, the fatal exit,
// and latency histograms. Nothing here knows the scheduler's state.
//
// Files. The scheduler (server/sched/) is layered: each file calls only
// into the files listed before it (tests/sched_layers.sh checks it from
// the object files' symbols, so a circle of calls fails the suite).
//
//   hmap.c call.c      hash maps; the call a door posts
//   workerid.c         proofs of worker names
//   workflow.c         a workflow run's specs, from config
//   minutes.c          the last hour, minute by minute (Stats.last_hour)
//   base.c   base.h    limits, growing arrays, allocation, fatal,
//                      histograms
//            state.h   the types: jobs, functions, workers, held calls,
//                      the heaps, and struct sje__sched (no code)
//   heap.c   heap.h    the job heaps (ready per function, delayed,
//                      leases) and the deadline heap of held calls
//   table.c  table.h   the job table, functions, workers (sessions),
//                      leases, held-call lists, dependency links, counts;
//                      memory only, no I/O
//   txn.c    txn.h     the round's transaction and the store wrappers
//                      (load, save); a store failure is fatal
//   reply.c  reply.h   the out queue (replies, errors), events kept for
//                      commit, and the replies several files make (a
//                      Wait's records, ListEvents' events, attempts)
//   check.c  check.h   request checks shared by handlers (ids, counts,
//                      limits, job filters), each answering the error
//                      itself
//   jobs.c   jobs.h    transitions: state changes, attempts, finishing,
//                      retries and back-off, the DAG cascade, Wait holds;
//                      cancel and re-run of one job, for the one-job and
//                      the bulk handlers alike
//   submit.c submit.h  Submit and RunWorkflow (check, resolve, plan,
//                      insert)
//   clients.c clients.h  the other Coordinator handlers: GetStatus, Wait,
//                      Cancel, ListJobs, ListWorkers, ListEvents, Stats
//   manage.c manage.h  the operator's handlers: Retry, DeleteJob,
//                      Explain, ListFunctions, SetFunction (pause)
//   bulk.c   bulk.h    the operator's calls by filter: BulkCancel,
//                      BulkRetry, BulkDelete; a workflow run's status and
//                      cancel
//   workers.c workers.h  the WorkerHub handlers (GetChallenge,
//                      RegisterWorker, Fetch, Heartbeat, reports) and
//                      dispatch of ready jobs to held Fetch calls
//   timers.c timers.h  what time makes due: delays, held calls out of
//                      time, leases, event pruning, purge, alerts,
//                      silent workers
//   recover.c recover.h  memory rebuilt from the store at open
//   schedules.c schedules.h  config's schedules: ticks fired through
//                      Submit and RunWorkflow; ListSchedules
//   round.c            the thread, the inbox, one round, the method
//                      switch, open and close (scheduler.h); its design
//                      block describes the whole scheduler
//
// submit, clients, manage, bulk, workers, timers and recover are
// siblings: none calls another. Everything in these headers belongs to the
// thread that holds the round (round.c) unless said otherwise.
#ifndef SJE_SERVER_SCHED_BASE_H
#define SJE_SERVER_SCHED_BASE_H

#include <sje/client.h>

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_TICK_MS 1000         // lease and worker checks
#define SCHED_COMBINE_ROUNDS 4     // rounds a poster runs in a row, at most
#define SCHED_MAX_FETCH_JOBS 1000u // jobs per Fetch reply
// A job's packed spec up to this size stays in memory until it is
// leased, so that dispatch need not read its row from the store.
#define SCHED_SPEC_KEEP_BYTES 256u
#define SCHED_MAX_HOLD_MS 600000u // longest Fetch or Wait hold
#define SCHED_LIST_DEFAULT 100u
#define SCHED_LIST_MAX 1000u
#define SCHED_MAX_WORKER_FUNCTIONS 1024u
#define SCHED_MAX_WORKER_SLOTS 1024u  // as sje-worker's own bound
#define SCHED_MAX_ERROR_BYTES 4096u   // an attempt's error message, kept
#define SCHED_FORGET_LEASES 3         // forget a silent worker after 3 leases
#define SCHED_HEARTBEAT_MAX_MS 1000u  // cancels reach workers this fast
#define SCHED_EVENT_RETENTION 100000u // events kept for catch-up
// Events the coordinator's hooks have not seen yet are kept too, up to
// this many in all.
#define SCHED_EVENT_RETENTION_HOOKS 1000000u
#define SCHED_EVENTS_DEFAULT 1000u
#define SCHED_EVENTS_MAX 10000u
#define SCHED_HIST_N 12            // histogram bounds (see sched_hist_ms)
#define SCHED_PURGE_EVERY_MS 10000 // how often finished jobs are purged
#define SCHED_PURGE_BATCH 10000u   // at most this many per round

enum {
	ST_PENDING   = SJE__V1__JOB_STATE__JOB_STATE_PENDING,
	ST_SCHEDULED = SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED,
	ST_QUEUED    = SJE__V1__JOB_STATE__JOB_STATE_QUEUED,
	ST_RUNNING   = SJE__V1__JOB_STATE__JOB_STATE_RUNNING,
	ST_SUCCEEDED = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED,
	ST_FAILED    = SJE__V1__JOB_STATE__JOB_STATE_FAILED,
	ST_CANCELLED = SJE__V1__JOB_STATE__JOB_STATE_CANCELLED,
};

// Histogram bounds, in milliseconds, for wait and run times.
extern const double sched_hist_ms[SCHED_HIST_N];

// sched_hist is a latency histogram: counts[i] for <= sched_hist_ms[i],
// counts[SCHED_HIST_N] for longer.
typedef struct sched_hist {
	uint64_t counts[SCHED_HIST_N + 1];
	double   sum_ms;
	uint64_t n;
} sched_hist;

// sje__sched_grow makes room for one more element of size sz in *v.
bool sje__sched_grow(void **v, size_t *cap, size_t n, size_t sz);

// sje__sched_fatal stops the process: the store and memory may now disagree,
// and only a restart (which rebuilds memory from the store) is safe.
void sje__sched_fatal(const char *what, sje_err err) __attribute__((noreturn));

// sje__sched_xalloc is calloc of n bytes; out of memory is fatal.
void *sje__sched_xalloc(size_t n);

// sje__sched_xstrdup copies s (NULL gives ""); out of memory is fatal.
char *sje__sched_xstrdup(const char *s);

// sje__sched_hist_add records one duration.
void sje__sched_hist_add(sched_hist *h, sje_time_ms ms);

// sje__sched_hist_merge adds the durations of from to into.
void sje__sched_hist_merge(sched_hist *into, const sched_hist *from);

#endif // SJE_SERVER_SCHED_BASE_H
