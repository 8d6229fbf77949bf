// jobstate.h — the one job-state table of SJE (internal): every state's
// name, whether it is terminal, and the transitions the state machine
// allows. libsje's public sje_job_state_name, sje_job_state_parse and
// sje_job_state_is_terminal (<sje/client.h>) read the same table; so do
// the scheduler, the store's row conversion, the doors and the CLI.
//
// States are Sje__V1__JobState values, passed as int (as the store and
// the wire keep them). Every function here is pure and thread-safe.
#ifndef SJE_CORE_JOBSTATE_H
#define SJE_CORE_JOBSTATE_H

#include <sje/client.h>

// SJE_JOB_STATE_FIRST_TERMINAL is the least terminal state: the states at
// or above it (SUCCEEDED, FAILED, CANCELLED, UPSTREAM_FAILED) are the
// terminal ones, and jobstate.c checks that the table agrees.
#define SJE_JOB_STATE_FIRST_TERMINAL SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED

// sje__job_transition_allowed is true when a job may go from state from to
// state to:
//   (new, UNSPECIFIED) -> PENDING | SCHEDULED | QUEUED
//   PENDING   -> QUEUED | SCHEDULED | CANCELLED | UPSTREAM_FAILED
//   SCHEDULED -> QUEUED | CANCELLED | UPSTREAM_FAILED
//   QUEUED    -> RUNNING | CANCELLED | UPSTREAM_FAILED
//   RUNNING   -> SUCCEEDED | FAILED | CANCELLED
//                | QUEUED (lease lost, or retry at once)
//                | SCHEDULED (retry after a back-off)
//   terminal  -> nothing.
// A state to itself is not a transition (false). Values outside the enum
// give false.
bool sje__job_transition_allowed(int from, int to);

#endif // SJE_CORE_JOBSTATE_H
