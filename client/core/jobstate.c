// jobstate.c — the one job-state table: names, terminal states and the
// allowed transitions (jobstate.h), and libsje's public state functions
// built on it.
//
// The state machine is job_next[from][to], written from the rules in
// ARCHITECTURE.md (Jobs) and listed in jobstate.h. The scheduler asks
// sje__job_transition_allowed before every change of state, so a bug that
// would, say, run a cancelled job shows up as a refused transition rather
// than as a second result.
//
// No state, no locks: every function is thread-safe.
#include <sje/client.h>

#include "jobstate.h"

#include <strings.h>

enum {
	ST_UNSPECIFIED     = SJE__V1__JOB_STATE__JOB_STATE_UNSPECIFIED,
	ST_PENDING         = SJE__V1__JOB_STATE__JOB_STATE_PENDING,
	ST_SCHEDULED       = SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED,
	ST_QUEUED          = SJE__V1__JOB_STATE__JOB_STATE_QUEUED,
	ST_RUNNING         = SJE__V1__JOB_STATE__JOB_STATE_RUNNING,
	ST_SUCCEEDED       = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED,
	ST_FAILED          = SJE__V1__JOB_STATE__JOB_STATE_FAILED,
	ST_CANCELLED       = SJE__V1__JOB_STATE__JOB_STATE_CANCELLED,
	ST_UPSTREAM_FAILED = SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED,
	ST_N,
};

// The states: the JSON and CLI names (the enum names without their
// JOB_STATE_ prefix) and which are terminal.
static const struct {
	const char *name;
	bool        terminal;
} job_states[ST_N] = {
	[ST_UNSPECIFIED]     = { "UNSPECIFIED", false },
	[ST_PENDING]         = { "PENDING", false },
	[ST_SCHEDULED]       = { "SCHEDULED", false },
	[ST_QUEUED]          = { "QUEUED", false },
	[ST_RUNNING]         = { "RUNNING", false },
	[ST_SUCCEEDED]       = { "SUCCEEDED", true },
	[ST_FAILED]          = { "FAILED", true },
	[ST_CANCELLED]       = { "CANCELLED", true },
	[ST_UPSTREAM_FAILED] = { "UPSTREAM_FAILED", true },
};

// The terminal states are the last ones (the store's indexes rely on it).
_Static_assert((int) SJE_JOB_STATE_FIRST_TERMINAL == (int) ST_SUCCEEDED &&
        ST_UPSTREAM_FAILED == ST_N - 1,
    "terminal states are SUCCEEDED and after");

// job_next[from][to] is true for an allowed transition.
static const bool job_next[ST_N][ST_N] = {
	[ST_UNSPECIFIED] =
	    {
	        [ST_PENDING]   = true,
	        [ST_SCHEDULED] = true,
	        [ST_QUEUED]    = true,
	    },
	[ST_PENDING] =
	    {
	        [ST_QUEUED]          = true,
	        [ST_SCHEDULED]       = true,
	        [ST_CANCELLED]       = true,
	        [ST_UPSTREAM_FAILED] = true,
	    },
	[ST_SCHEDULED] =
	    {
	        [ST_QUEUED]          = true,
	        [ST_CANCELLED]       = true,
	        [ST_UPSTREAM_FAILED] = true,
	    },
	[ST_QUEUED] =
	    {
	        [ST_RUNNING]         = true,
	        [ST_CANCELLED]       = true,
	        [ST_UPSTREAM_FAILED] = true,
	    },
	[ST_RUNNING] =
	    {
	        [ST_SUCCEEDED] = true,
	        [ST_FAILED]    = true,
	        [ST_CANCELLED] = true,
	        [ST_QUEUED]    = true, // lease lost, or retry at once
	        [ST_SCHEDULED] = true, // retry after a back-off
	    },
	// Terminal states: rows of false.
};

static bool
job_state_valid(int state)
{
	return state >= 0 && state < ST_N;
}

const char *
sje_job_state_name(int state)
{
	return job_state_valid(state) ? job_states[state].name : "UNKNOWN";
}

bool
sje_job_state_parse(const char *name, int *state)
{
	for (int i = ST_UNSPECIFIED + 1; i < ST_N; i++) {
		if (strcasecmp(name, job_states[i].name) == 0) {
			*state = i;
			return true;
		}
	}
	return false;
}

bool
sje_job_state_is_terminal(int state)
{
	return job_state_valid(state) && job_states[state].terminal;
}

bool
sje__job_transition_allowed(int from, int to)
{
	if (!job_state_valid(from) || !job_state_valid(to)) {
		return false;
	}
	return job_next[from][to];
}
