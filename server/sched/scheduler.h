// scheduler.h — the scheduler: the one thread that owns the jobs.
//
// The scheduler owns the store, the in-memory queues, the worker registry,
// held calls (a worker's Fetch, a client's Wait) and the event sequence.
// RPC handlers post calls to it; it handles them in rounds: everything that
// arrived since the last round is handled inside one store transaction,
// committed, and only then answered and published (group commit: a submit
// is acknowledged only after its commit, and concurrent submits share one).
#ifndef SJE_SERVER_SCHEDULER_H
#define SJE_SERVER_SCHEDULER_H

#include "config.h"

#include "events/alerts.h"
#include "events/events.h"
#include "events/hooks.h"
#include "sched/call.h"
#include "store/store.h"

typedef struct sje__sched sje__sched;

// sje__sched_open rebuilds the queues from store (jobs that were RUNNING
// keep their leases for lease_s from now) and starts the thread. cfg,
// store, events and hooks (may be NULL) are borrowed until
// sje__sched_close; alerts (may be NULL), checked every
// monitoring.check_interval_s on the scheduler's thread, become the
// scheduler's, even on failure. *out is written on SJE_OK.
sje_err sje__sched_open(const sje_config *cfg, sje__store *store,
    sje__events *events, sje__hooks *hooks, sje__alerts *alerts,
    sje__sched **out);

// sje__sched_post hands a call to the scheduler. Thread-safe, never
// blocks; suitable as the sje__rpc_handler (arg is the scheduler).
void sje__sched_post(void *sched, sje__call *call);

// sje__sched_close answers every held and queued call with UNAVAILABLE,
// commits, stops the thread and frees the scheduler. Calls posted after
// this started are answered UNAVAILABLE at once. Accepts NULL.
void sje__sched_close(sje__sched *s);

#endif // SJE_SERVER_SCHEDULER_H
