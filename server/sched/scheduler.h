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
#include "sched/clock.h"
#include "store/store.h"

typedef struct sje__sched sje__sched;

// sje__sched_opts are the scheduler's options beyond config. A zeroed
// struct (or NULL) is what sje-server runs with.
typedef struct sje__sched_opts {
	// clock gives every deadline and every stored time; NULL: the
	// system's (SJE__CLOCK_SYSTEM). Borrowed until sje__sched_close.
	const sje__clock *clock;
	// manual: start no thread. The caller runs each round with
	// sje__sched_round, on its own thread (tests drive the scheduler
	// this way, one round at a time, at the fake clock's time).
	bool manual;
} sje__sched_opts;

// sje__sched_open rebuilds the queues from store (jobs that were RUNNING
// keep their leases for lease_s from now) and starts the thread (unless
// opts->manual). cfg, store, events and hooks (may be NULL) and opts'
// clock are borrowed until sje__sched_close; opts itself (may be NULL) is
// read here only; alerts (may be NULL), checked every
// monitoring.check_interval_s on the scheduler's thread, become the
// scheduler's, even on failure. *out is written on SJE_OK.
sje_err sje__sched_open(const sje_config *cfg, sje__store *store,
    sje__events *events, sje__hooks *hooks, sje__alerts *alerts,
    const sje__sched_opts *opts, sje__sched **out);

// sje__sched_round runs one round on the caller's thread, at the clock's
// time now: the calls posted since the last round, the timers that are
// due, dispatch, the commit, then the replies and events. Only for a
// scheduler opened manual, from one thread at a time.
void sje__sched_round(sje__sched *s);

// sje__sched_post hands a call to the scheduler. Thread-safe, never
// blocks; suitable as the sje__rpc_handler (arg is the scheduler).
void sje__sched_post(void *sched, sje__call *call);

// sje__sched_close answers every held and queued call with UNAVAILABLE,
// commits, stops the thread (or, when manual, runs that last round on the
// caller's thread) and frees the scheduler. Calls posted after
// this started are answered UNAVAILABLE at once. Accepts NULL.
void sje__sched_close(sje__sched *s);

#endif // SJE_SERVER_SCHEDULER_H
