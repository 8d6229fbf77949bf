// check.c — request checks shared by the handlers (check.h): ids, list
// counts, list limits. Scheduler thread only.
#include "sched/check.h"

#include "sched/reply.h"

#include "store/job.h"
#include "util.h"

// sje__sched_check_count refuses a list (named field) of n entries unless
// min <= n <= SJE_MAX_JOBS_PER_CALL; returns whether it is within.
bool
sje__sched_check_count(
    sje__sched *s, sje__call *call, size_t n, size_t min, const char *field)
{
	if (n < min) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s: at least %zu entry is required", field, min);
		return false;
	}
	if (n > SJE_MAX_JOBS_PER_CALL) {
		sje__sched_reply_err(s, call, SJE_ELIMIT, field,
		    "%s: at most %u entries per call", field,
		    SJE_MAX_JOBS_PER_CALL);
		return false;
	}
	return true;
}

// sje__sched_check_id refuses a missing or malformed task_id.
bool
sje__sched_check_id(
    sje__sched *s, sje__call *call, const char *id, const char *field)
{
	if (id == NULL || id[0] == '\0') {
		sje__sched_reply_err(
		    s, call, SJE_EINVAL, field, "%s is required", field);
		return false;
	}
	if (!sje__job_id_valid(id)) {
		sje__sched_reply_err(s, call, SJE_EINVAL, field,
		    "%s must be 1 to %u characters of A-Z a-z 0-9 _ . : -",
		    field, SJE_MAX_ID_BYTES);
		return false;
	}
	return true;
}

// sched_check_limit refuses a list limit past max (0 asks for the
// default): the one rule of REST and RPC alike, never a silent clamp.
bool
sje__sched_check_limit(
    sje__sched *s, sje__call *call, uint32_t limit, uint32_t max)
{
	if (limit > max) {
		sje__sched_reply_err(s, call, SJE_EINVAL, "limit",
		    "limit is %u; at most %u", limit, max);
		return false;
	}
	return true;
}
