// schedules.h — config's schedules (schedules:): each fires at its ticks,
// a cron expression's minutes or every every_s seconds, and starts a job
// of a function or a run of a workflow; and Coordinator.ListSchedules.
// Scheduler thread only.
#ifndef SJE_SERVER_SCHED_SCHEDULES_H
#define SJE_SERVER_SCHED_SCHEDULES_H

#include "sched/state.h"

// sje__sched_schedules_open reads where each schedule stands from the
// store and works out its next tick; a tick missed while no coordinator
// ran is fired in the first round (missed: run_once) or passed over
// (missed: skip). SJE_ENOMEM, or the store's error.
sje_err sje__sched_schedules_open(sje__sched *s);

// sje__sched_schedules_fire fires every schedule whose tick has come, in
// the round's transaction, and sets s->schedule_wake_ms to the next tick.
void sje__sched_schedules_fire(sje__sched *s);

// sje__sched_schedules_free frees what sje__sched_schedules_open made.
void sje__sched_schedules_free(sje__sched *s);

// sje__sched_list_schedules handles Coordinator.ListSchedules.
void sje__sched_list_schedules(sje__sched *s, sje__call *call);

#endif // SJE_SERVER_SCHED_SCHEDULES_H
