// txn.c — the round's transaction, opened by the first write of a round
// and committed by round.c, and the job-row wrappers (txn.h). Fatal on a
// store failure: see the design note atop round.c. Scheduler thread only.
#include "sched/txn.h"

#include "log.h"
#include "util.h"

#include <stdlib.h>

void
sje__sched_txn(sje__sched *s)
{
	if (!s->in_txn) {
		sje_err err = sje__store_begin(s->store);
		if (err != SJE_OK) {
			sje__sched_fatal("store begin", err);
		}
		s->in_txn = true;
	}
}

sje__job_row *
sje__sched_load(sje__sched *s, const sched_job *j)
{
	sje__job_row *row;
	sje_err       err = sje__store_get_job_by_id(s->store, j->id, &row);
	if (err != SJE_OK) {
		sje__sched_fatal("store read", err);
	}
	return row;
}

void
sje__sched_save(
    sje__sched *s, const sje__job_row *row, int from, uint64_t lease_id)
{
	sje__sched_txn(s);
	sje__job_expect expect = { .state = from, .lease_id = lease_id };
	sje_err         err    = sje__store_update_job(s->store, row, &expect);
	if (err == SJE_EPRECOND) {
		// Memory said the job was in that state under that lease: a
		// store that disagrees means a bug, or another writer.
		// (The lease id is not logged: it is the report's fence.)
		SJE_LOG_JOB(SJE_LOG_ERROR, row->task_id,
		    "bug: the store's job is not %s under the lease memory has",
		    from != 0 ? sje_job_state_name(from) : "unfinished");
	}
	if (err != SJE_OK) {
		sje__sched_fatal("store update", err);
	}
}

void
sje__sched_row_set_str(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? sje__sched_xstrdup(value) : NULL;
}
