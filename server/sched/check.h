// check.h — request checks that more than one handler makes. Each
// answers the error reply itself and returns false, so that the handler
// just returns (Redis's ...OrReply). Scheduler thread only.
#ifndef SJE_SERVER_SCHED_CHECK_H
#define SJE_SERVER_SCHED_CHECK_H

#include "sched/state.h"

// sje__sched_check_count answers INVALID_ARGUMENT or RESOURCE_EXHAUSTED
// naming field unless min <= n <= SJE_MAX_JOBS_PER_CALL; returns whether
// the count is within.
bool sje__sched_check_count(
    sje__sched *s, sje__call *call, size_t n, size_t min, const char *field);

// sje__sched_check_id refuses a missing or malformed task_id.
bool sje__sched_check_id(
    sje__sched *s, sje__call *call, const char *id, const char *field);

// sje__sched_check_limit refuses a list limit past max (0 asks for the
// default) with INVALID_ARGUMENT naming "limit"; returns whether it is
// within.
bool sje__sched_check_limit(
    sje__sched *s, sje__call *call, uint32_t limit, uint32_t max);

#endif // SJE_SERVER_SCHED_CHECK_H
