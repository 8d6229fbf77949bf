// manage.h — the Coordinator's handlers for operators: Retry (a job that
// did not succeed runs again), DeleteJob, Explain (why a job is where it
// is), ListFunctions and SetFunction (pause and resume). Each answers its
// call through the reply queue. Scheduler thread only.
#ifndef SJE_SERVER_SCHED_MANAGE_H
#define SJE_SERVER_SCHED_MANAGE_H

#include "sched/state.h"

// sje__sched_retry handles Coordinator.Retry.
void sje__sched_retry(sje__sched *s, sje__call *call);

// sje__sched_delete_job handles Coordinator.DeleteJob.
void sje__sched_delete_job(sje__sched *s, sje__call *call);

// sje__sched_explain handles Coordinator.Explain.
void sje__sched_explain(sje__sched *s, sje__call *call);

// sje__sched_list_functions handles Coordinator.ListFunctions.
void sje__sched_list_functions(sje__sched *s, sje__call *call);

// sje__sched_set_function handles Coordinator.SetFunction.
void sje__sched_set_function(sje__sched *s, sje__call *call);

#endif // SJE_SERVER_SCHED_MANAGE_H
