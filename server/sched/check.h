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

// sched_filter_in is the filter a request carries (ListJobsRequest,
// BulkRequest), as its message has it.
typedef struct sched_filter_in {
	int                       state; // 0: any
	const char               *function;
	const char               *label; // "key=value"
	const char               *workflow_id;
	const char               *worker;
	const Sje__V1__Timestamp *after;  // created at or after it; NULL: any
	const Sje__V1__Timestamp *before; // created before it; NULL: any
	const char               *task_id_prefix; // ListJobs only
	const char               *parent;         // ListJobs only
} sched_filter_in;

// sched_filter is a filter checked: f borrows the request's strings, but
// for the label's key and value, which point into label.
typedef struct sched_filter {
	sje__job_filter f;
	char           *label; // owned: "key\0value"; NULL: none
	bool            any;   // at least one field is set
} sched_filter;

// sje__sched_check_filter checks in and fills *out (free it with
// sje__sched_filter_fini), or answers INVALID_ARGUMENT naming the field
// at fault (an unknown state; a function, workflow_id or worker too long
// or malformed; a label that is not KEY=VALUE; a time before 1970 or an
// after not before before) and returns false with *out empty.
bool sje__sched_check_filter(sje__sched *s, sje__call *call,
    const sched_filter_in *in, sched_filter *out);

// sje__sched_filter_fini frees what a checked filter owns. Accepts one
// zeroed.
void sje__sched_filter_fini(sched_filter *sf);

#endif // SJE_SERVER_SCHED_CHECK_H
