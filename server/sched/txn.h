// txn.h — the round's one transaction and the scheduler's reads and
// writes of job rows. A store failure here is fatal (sje__sched_fatal):
// memory would then be ahead of the store, and a restart rebuilds memory
// from the store. Scheduler thread only.
#ifndef SJE_SERVER_SCHED_TXN_H
#define SJE_SERVER_SCHED_TXN_H

#include "sched/state.h"

#include "store/job.h"

// sje__sched_txn opens the round's transaction if it is not open yet.
void sje__sched_txn(sje__sched *s);

// sje__sched_load reads j's row from the store (caller frees it); a
// store failure is fatal.
sje__job_row *sje__sched_load(sje__sched *s, const sched_job *j);

// sje__sched_save writes row's mutable fields in the round's transaction,
// if the stored job is still in state from (0: any unfinished state)
// under lease_id (0: any), as memory says; a store failure, or a stored
// job that disagrees (a bug), is fatal.
void sje__sched_save(
    sje__sched *s, const sje__job_row *row, int from, uint64_t lease_id);

// sje__sched_row_set_str replaces *field by a copy of value (NULL: none).
void sje__sched_row_set_str(char **field, const char *value);

#endif // SJE_SERVER_SCHED_TXN_H
