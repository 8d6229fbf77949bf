// timers.h — what the clock makes due, run once per round after the
// calls: delayed jobs, held calls out of time, and the periodic tick
// (leases, event pruning, purge, silent workers) and alert checks.
// Scheduler thread only.
#ifndef SJE_SERVER_SCHED_TIMERS_H
#define SJE_SERVER_SCHED_TIMERS_H

#include "sched/state.h"

// sje__sched_timers runs what is due: delayed jobs, held calls out of time,
// and the periodic tick.
void sje__sched_timers(sje__sched *s);

#endif // SJE_SERVER_SCHED_TIMERS_H
