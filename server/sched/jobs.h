// jobs.h — the transitions of the scheduler's jobs: state changes with
// their counts, attempts ended, retries after a back-off, finishing (and
// telling Wait holds), waking children and cascading a failure to them.
// Each writes the rows it changes in the round's transaction and queues
// the events. Scheduler thread only.
#ifndef SJE_SERVER_SCHED_JOBS_H
#define SJE_SERVER_SCHED_JOBS_H

#include "sched/state.h"

#include "store/job.h"

// sje__sched_defaults works out the effective timeout of one attempt of
// spec and how many attempts it has (its own, else its function's in
// config, else the defaults; at least 1).
void sje__sched_defaults(sje__sched *s, const Sje__V1__JobSpec *spec,
    uint32_t *timeout_s, uint32_t *max_attempts);

// sje__sched_set_state moves j (and its row, if given) to state, logging a bug
// if the state machine does not allow it.
void sje__sched_set_state(sched_job *j, sje__job_row *row, int state);

// sje__sched_attempt_end records how j's current attempt ended.
void sje__sched_attempt_end(sje__sched *s, sched_job *j,
    const sje__job_row *row, int outcome, const char *error_type,
    const char *error_message);

// sje__sched_wake_child moves a PENDING job whose last parent succeeded to
// QUEUED, or SCHEDULED while its delay runs.
void sje__sched_wake_child(sje__sched *s, sched_job *c);

// sje__sched_cascade ends the queued children UPSTREAM_FAILED, and theirs in
// turn, iteratively.
void sje__sched_cascade(sje__sched *s);

// sje__sched_finish ends j: its row (already in its terminal state) is saved,
// the event queued, waiters told, and j forgotten.
void sje__sched_finish(sje__sched *s, sched_job *j, sje__job_row *row);

// sje__sched_attempt_failed ends j's current attempt (RUNNING) with an error:
// cancelled when a cancel was asked for, else again after the back-off
// while attempts remain, else FAILED. row is j's, loaded by the caller.
void sje__sched_attempt_failed(sje__sched *s, sched_job *j, sje__job_row *row,
    const char *type, const char *message);

#endif // SJE_SERVER_SCHED_JOBS_H
