// heartbeat.h — the worker's heartbeat thread: every heartbeat_ms it sends
// the leased jobs and their progress; the reply's `cancel` and `lost` set
// those jobs' cancel flags. The leases live as long as the heartbeats do.
#ifndef SJE_WORKER_HEARTBEAT_H
#define SJE_WORKER_HEARTBEAT_H

#include "slots.h"

#include <sje/v1/worker_hub.pb-c.h>

// sje__hb_snapshot is a heartbeat request built from the leased jobs,
// with its own copies of their strings; the request points into it.
typedef struct sje__hb_snapshot {
	Sje__V1__HeartbeatRequest req;
	Sje__V1__RunningJob      *jobs;     // n
	Sje__V1__RunningJob     **job_ptrs; // n
	Sje__V1__Progress        *progress; // n
	size_t                    n;
} sje__hb_snapshot;

// sje__hb_snapshot_init fills snap with session and a copy of every task
// of the ledger s (its task id, lease and last progress). The caller
// guards s; snap is then independent of it. On failure (out of memory)
// snap holds no jobs and the heartbeat goes without them (logged).
// Release with sje__hb_snapshot_fini.
void sje__hb_snapshot_init(
    const sje__slots *s, sje__hb_snapshot *snap, uint64_t session);

// sje__hb_snapshot_fini frees what snap holds and empties it.
void sje__hb_snapshot_fini(sje__hb_snapshot *snap);

// sje__heartbeat_main is the heartbeat thread's body; arg is the
// sje__runtime. It waits for a session, then beats until hb_stop is set.
void *sje__heartbeat_main(void *arg);

#endif // SJE_WORKER_HEARTBEAT_H
