// clients.h — the Coordinator's reading and waiting handlers: GetStatus,
// Wait, Cancel, ListJobs, ListWorkers, ListEvents, Stats. Each answers its
// call through the reply queue, now or (Wait, ListEvents) when it is
// released. Scheduler thread only.
#ifndef SJE_SERVER_SCHED_CLIENTS_H
#define SJE_SERVER_SCHED_CLIENTS_H

#include "sched/state.h"

// sje__sched_get_status handles Coordinator.GetStatus.
void sje__sched_get_status(sje__sched *s, sje__call *call);

// sje__sched_wait handles Coordinator.Wait (held until the jobs end).
void sje__sched_wait(sje__sched *s, sje__call *call);

// sje__sched_cancel handles Coordinator.Cancel.
void sje__sched_cancel(sje__sched *s, sje__call *call);

// sje__sched_list_jobs handles Coordinator.ListJobs.
void sje__sched_list_jobs(sje__sched *s, sje__call *call);

// sje__sched_list_workers handles Coordinator.ListWorkers.
void sje__sched_list_workers(sje__sched *s, sje__call *call);

// sje__sched_list_events handles Coordinator.ListEvents (held until
// events commit).
void sje__sched_list_events(sje__sched *s, sje__call *call);

// sje__sched_events_wake answers the held ListEvents calls that the events
// just committed satisfy (it walks only the held ListEvents calls). Called
// after the commit.
void sje__sched_events_wake(sje__sched *s);

// sje__sched_stats handles Coordinator.Stats.
void sje__sched_stats(sje__sched *s, sje__call *call);

#endif // SJE_SERVER_SCHED_CLIENTS_H
