// bulk.h — the operator's calls on many jobs at once: BulkCancel,
// BulkRetry and BulkDelete, each the one-job call (Cancel, Retry,
// DeleteJob) applied to the jobs a filter selects; and the calls on a
// workflow run's steps (GetWorkflowRun, CancelWorkflowRun). Scheduler
// thread only.
#ifndef SJE_SERVER_SCHED_BULK_H
#define SJE_SERVER_SCHED_BULK_H

#include "sched/state.h"

// SCHED_BULK_MAX bounds the jobs one bulk call applies its operation to;
// SCHED_BULK_SCAN the rows it reads to find them. Past either it answers
// more = true, and the caller calls again.
#define SCHED_BULK_MAX 10000u
#define SCHED_BULK_SCAN 100000u

// sched_bulk_op is what a bulk call does to each job it selects.
typedef enum sched_bulk_op {
	BULK_CANCEL, // unfinished jobs: cancel, as Cancel does
	BULK_RETRY,  // FAILED, CANCELLED, UPSTREAM_FAILED: re-run, as Retry
	BULK_DELETE, // finished jobs: delete, as DeleteJob does
} sched_bulk_op;

// sje__sched_get_workflow_run answers GetWorkflowRun: the run's steps
// (oldest first, each as GetStatus shows it), its workflow's name and a
// state derived from the steps'; NOT_FOUND when no step has the id.
void sje__sched_get_workflow_run(sje__sched *s, sje__call *call);

// sje__sched_cancel_workflow_run answers CancelWorkflowRun: it cancels
// every unfinished step of the run as BulkCancel would (a BulkReply);
// NOT_FOUND when no step has the id.
void sje__sched_cancel_workflow_run(sje__sched *s, sje__call *call);

// sje__sched_list_workflow_runs answers ListWorkflowRuns: a page of the
// runs stored, newest first (by their first step), each with its name,
// state, creation time and step counts but not its steps (so a page costs
// one read of each run's steps, not of their attempts), and the cursor
// of the next page.
void sje__sched_list_workflow_runs(sje__sched *s, sje__call *call);

// sje__sched_bulk handles BulkCancel, BulkRetry or BulkDelete (op): it
// answers a BulkReply with the number of jobs the operation was applied
// to, or INVALID_ARGUMENT for a filter that sets nothing or is malformed.
void sje__sched_bulk(sje__sched *s, sje__call *call, sched_bulk_op op);

#endif // SJE_SERVER_SCHED_BULK_H
