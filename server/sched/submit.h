// submit.h — the Coordinator's writing handlers: Submit and RunWorkflow.
// Each answers its call through the reply queue. Scheduler thread only.
#ifndef SJE_SERVER_SCHED_SUBMIT_H
#define SJE_SERVER_SCHED_SUBMIT_H

#include "sched/state.h"

// sje__sched_submit handles Coordinator.Submit: every spec checked, its
// parents found, cycles refused, and then all stored, or none.
void sje__sched_submit(sje__sched *s, sje__call *call);

// sje__sched_run_workflow handles Coordinator.RunWorkflow.
void sje__sched_run_workflow(sje__sched *s, sje__call *call);

#endif // SJE_SERVER_SCHED_SUBMIT_H
