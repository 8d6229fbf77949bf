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

// sje__sched_succeed ends j (RUNNING; worker holds its lease) SUCCEEDED
// with result, valid JSON: the store ends its row and attempt without
// reading them, then as sje__sched_finish.
void sje__sched_succeed(
    sje__sched *s, sched_job *j, const char *worker, const char *result);

// sje__sched_attempt_failed ends j's current attempt (RUNNING) with an error:
// cancelled when a cancel was asked for, else again after the back-off
// while attempts remain, else FAILED. row is j's, loaded by the caller.
void sje__sched_attempt_failed(sje__sched *s, sched_job *j, sje__job_row *row,
    const char *type, const char *message);

// sje__sched_job_spec unpacks the spec of j (kept in memory, or read from
// its row); NULL when it does not unpack. Free it with
// sje__v1__job_spec__free_unpacked.
Sje__V1__JobSpec *sje__sched_job_spec(sje__sched *s, const sched_job *j);

// sje__sched_cancel_job cancels the unfinished job j as Cancel does: one
// that has not started ends CANCELLED at once (j is then gone) and the
// result is true; a RUNNING one gets cancel_requested, which its worker
// hears at its next heartbeat, and the result is false.
bool sje__sched_cancel_job(sje__sched *s, sched_job *j);

// sje__sched_rerun makes the finished job of row (FAILED, CANCELLED or
// UPSTREAM_FAILED; spec its unpacked spec, or NULL) unfinished again, as
// Retry does: row, changed in place and saved in the round's transaction,
// goes back to QUEUED, or to PENDING when waits (a parent it names is
// unfinished), with a fresh allowance of attempts and its last run's
// result, error, progress and times cleared; its sched_job is made and
// returned (ready, when QUEUED). A PENDING one is linked to its parents
// with sje__sched_rerun_link once they are all in memory. row stays the
// caller's.
sched_job *sje__sched_rerun(sje__sched *s, sje__job_row *row,
    const Sje__V1__JobSpec *spec, bool waits);

// sje__sched_rerun_link makes the re-run PENDING job j wait for those of
// its n parents (the depends_on of its spec) that are unfinished.
void sje__sched_rerun_link(
    sje__sched *s, sched_job *j, char *const *parents, size_t n);

#endif // SJE_SERVER_SCHED_JOBS_H
