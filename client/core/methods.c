// methods.c — the names the method indexes of methods.h stand for, and
// the check of both against the generated service descriptors.
#include "methods.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include <string.h>

static const char *const coord_names[SJE__COORD_N] = {
	[SJE__COORD_SUBMIT]         = "Submit",
	[SJE__COORD_GET_STATUS]     = "GetStatus",
	[SJE__COORD_WAIT]           = "Wait",
	[SJE__COORD_CANCEL]         = "Cancel",
	[SJE__COORD_LIST_JOBS]      = "ListJobs",
	[SJE__COORD_LIST_WORKERS]   = "ListWorkers",
	[SJE__COORD_LIST_EVENTS]    = "ListEvents",
	[SJE__COORD_STATS]          = "Stats",
	[SJE__COORD_RUN_WORKFLOW]   = "RunWorkflow",
	[SJE__COORD_RETRY]          = "Retry",
	[SJE__COORD_DELETE_JOB]     = "DeleteJob",
	[SJE__COORD_EXPLAIN]        = "Explain",
	[SJE__COORD_LIST_FUNCTIONS] = "ListFunctions",
	[SJE__COORD_SET_FUNCTION]   = "SetFunction",
	[SJE__COORD_LIST_SCHEDULES] = "ListSchedules",
	[SJE__COORD_BULK_CANCEL]    = "BulkCancel",
	[SJE__COORD_BULK_RETRY]     = "BulkRetry",
	[SJE__COORD_BULK_DELETE]    = "BulkDelete",
	// The workflow runs' calls.
	[SJE__COORD_GET_WORKFLOW_RUN]    = "GetWorkflowRun",
	[SJE__COORD_CANCEL_WORKFLOW_RUN] = "CancelWorkflowRun",
	[SJE__COORD_LIST_WORKFLOW_RUNS]  = "ListWorkflowRuns",
};

static const char *const hub_names[SJE__HUB_N] = {
	[SJE__HUB_REGISTER]  = "RegisterWorker",
	[SJE__HUB_FETCH]     = "Fetch",
	[SJE__HUB_HEARTBEAT] = "Heartbeat",
	[SJE__HUB_COMPLETE]  = "Complete",
	[SJE__HUB_FAIL]      = "Fail",
	[SJE__HUB_RELEASE]   = "Release",
	[SJE__HUB_CHALLENGE] = "GetChallenge",
};

// methods_match is true when svc has exactly the n methods names, in order.
static bool
methods_match(const ProtobufCServiceDescriptor *svc, const char *const *names,
    unsigned n)
{
	if (svc->n_methods != n) {
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		if (names[i] == NULL ||
		    strcmp(svc->methods[i].name, names[i]) != 0) {
			return false;
		}
	}
	return true;
}

bool
sje__methods_check(void)
{
	return methods_match(&sje__v1__coordinator__descriptor, coord_names,
	           SJE__COORD_N) &&
	    methods_match(
	        &sje__v1__worker_hub__descriptor, hub_names, SJE__HUB_N);
}
