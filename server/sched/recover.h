// recover.h — the scheduler's memory rebuilt from the store, at open.
// Scheduler thread (or the opener, before the thread starts) only.
#ifndef SJE_SERVER_SCHED_RECOVER_H
#define SJE_SERVER_SCHED_RECOVER_H

#include "sched/state.h"

// sje__sched_recover reads every unfinished job from s->store into
// memory: on the heaps by state, RUNNING ones with a lease's time from now
// to be heard of again, PENDING ones linked to their unfinished parents.
// What it finds to do (a PENDING job with no parent left, a parent that
// failed) is left for sje__sched_recover_fixups. Returns SJE_OK, or the
// store's error or SJE_ENOMEM (the caller then frees the state).
sje_err sje__sched_recover(sje__sched *s);

// sje__sched_recover_fixups runs, in the first round, what recovery found
// to do: wake PENDING jobs with nothing to wait for, cascade failures.
void sje__sched_recover_fixups(sje__sched *s);

#endif // SJE_SERVER_SCHED_RECOVER_H
