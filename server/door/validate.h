// validate.h — the doors' checks of what a call carries, done before it is
// posted, so that the scheduler's thread spends no time on work that
// needs none of its state.
//
// Both doors post through sje__validate_post. A call it refuses is
// answered at once (INVALID_ARGUMENT or RESOURCE_EXHAUSTED, naming the
// field as the scheduler would have) and never reaches the scheduler; one
// it passes is posted, marked as checked, and the scheduler does not
// check it again. Checked here, for Coordinator.Submit: the number of
// jobs, each spec against the limits (sje__job_spec_check), the number of
// dependencies in one request, a task_id twice in the request, and that
// each spec encodes back to what it decodes from. For WorkerHub.Complete:
// that every result is JSON within SJE_MAX_PARAMS_BYTES (a call with one
// that is not goes on unmarked: failing that attempt is the scheduler's).
// What needs the scheduler's state (jobs already stored, parents,
// plugins, the cap on unserved functions, leases) stays with it.
#ifndef SJE_DOOR_VALIDATE_H
#define SJE_DOOR_VALIDATE_H

#include "sched/call.h"

#include <stdbool.h>

// sje__validate_call checks call; on refusal it answers the call (which
// must then not be used again) and returns false. Pure but for the
// answer; thread-safe.
bool sje__validate_call(sje__call *call);

// sje__validate_post checks call and, when it passes, posts it to the
// scheduler sched (sje__sched_post). Suitable as a door's handler (arg is
// the scheduler). Thread-safe; never blocks.
void sje__validate_post(void *sched, sje__call *call);

#endif // SJE_DOOR_VALIDATE_H
