// workers.h — the WorkerHub's handlers, and dispatch of ready jobs to
// held Fetch calls. Each handler answers its call through the reply
// queue (Fetch when dispatch or its deadline releases it). Scheduler
// thread only.
#ifndef SJE_SERVER_SCHED_WORKERS_H
#define SJE_SERVER_SCHED_WORKERS_H

#include "sched/state.h"

// report_kind says which WorkerHub report a ReportRequest is, or, for
// the outcomes a Fetch carries, that each one's error says (BY_ERROR).
typedef enum report_kind {
	REPORT_COMPLETE,
	REPORT_FAIL,
	REPORT_RELEASE,
	REPORT_BY_ERROR
} report_kind;

// sje__sched_challenge handles WorkerHub.GetChallenge.
void sje__sched_challenge(sje__sched *s, sje__call *call);

// sje__sched_register handles WorkerHub.RegisterWorker.
void sje__sched_register(sje__sched *s, sje__call *call);

// sje__sched_fetch handles WorkerHub.Fetch (held until work is ready).
void sje__sched_fetch(sje__sched *s, sje__call *call);

// sje__sched_heartbeat handles WorkerHub.Heartbeat.
void sje__sched_heartbeat(sje__sched *s, sje__call *call);

// sje__sched_report handles Complete, Fail and Release.
void sje__sched_report(sje__sched *s, sje__call *call, report_kind kind);

// sje__sched_dispatch answers held Fetch calls, oldest first, with ready jobs.
void sje__sched_dispatch(sje__sched *s);

#endif // SJE_SERVER_SCHED_WORKERS_H
