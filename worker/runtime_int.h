// runtime_int.h — the state that sje-worker's threads share, and the
// small helpers they all use. Internal to worker/: main.c sees only
// runtime.h.
//
// Threads, each with one job (one module each):
//
//   fetch      (fetch.c) registers (session.c), then long-polls Fetch for
//              as many jobs as there are free slots (and, while jobs are
//              short, a few more: prefetch) and queues what it gets for
//              the slots; its Fetch carries the outcomes queued meanwhile.
//   slot x N   (slots.c) takes a queued task, runs it (task.c), turns it
//              into an outcome and queues that for the reporter.
//   heartbeat  (heartbeat.c) sends the leased jobs and their progress.
//   reporter   (report.c) sends the queued outcomes in batches, but
//              leaves them to the fetch thread while it is about to fetch.
//
// Locking: rt->mtx guards the fields marked so below, including the task
// lists (ledger) and the runtime-owned link fields of each task, and the
// outcome queue. A task's own mutex (task.c) may be taken while holding
// rt->mtx, never the other way round. No lock is held while a task
// function runs or an RPC is in flight.
#ifndef SJE_WORKER_RUNTIME_INT_H
#define SJE_WORKER_RUNTIME_INT_H

#include "report.h"
#include "runtime.h"
#include "slots.h"

#include <pthread.h>

// Call timeout of a report (ms); also the client's default, since every
// call names its own.
#define RT_REPORT_TIMEOUT_MS 10000u

struct sje__runtime {
	// Immutable after sje__runtime_start; read by any thread.
	sje_client         *client;
	const sje__plugins *plugins;
	char               *server_url;
	char               *cert_file; // our certificate, to prove our name;
	char               *key_file;  // NULL: none (no proof is sent)
	char               *name;
	uint32_t            slots;
	char              **functions; // names borrowed from plugins
	size_t              n_functions;
	char               *functions_text; // "a, b, c" for the log
	Sje__V1__RegisterRequest__LabelsEntry  *labels; // strings owned
	Sje__V1__RegisterRequest__LabelsEntry **label_ptrs;
	size_t                                  n_labels;

	// Threads; written by start and stop only (the main thread).
	pthread_t  fetch_thr;
	pthread_t  hb_thr;
	pthread_t  report_thr;
	pthread_t *slot_thrs;
	bool       fetch_started;
	bool       hb_started;
	bool       report_started;
	uint32_t   n_slot_thrs; // started

	pthread_mutex_t mtx;
	bool            mtx_ok;    // mtx and the condvars are initialised
	pthread_cond_t  cv;        // any change of busy, session or stop flags
	pthread_cond_t  slot_cv;   // a task queued, or fetch_done
	pthread_cond_t  report_cv; // an outcome queued, or report_stop

	// Guarded by mtx:
	uint64_t   session;     // 0: not registered yet
	bool       registering; // a Register call is in flight (session.c)
	bool       registered_once;
	uint32_t   heartbeat_ms;
	bool       failed; // cannot go on: fail_msg says why
	char       fail_msg[512];
	bool       stopping;   // fetch no more, start no more jobs
	bool       fetch_done; // the fetch thread has ended
	bool       hb_stop;
	bool       report_stop;
	int64_t    flush_deadline_ms; // set by a stop; 0 before
	sje__slots ledger;            // leased tasks and the slots' queue
	sje__outq  outq;              // outcomes waiting for the reporter
	// The coordinator takes outcomes in Fetch (its last registration
	// said so); the fetch thread is between calls (waiting for a slot or
	// gathering, not in a call or a back-off): see sje__fetch_will_carry.
	bool     fetch_reports;
	bool     fetch_waiting;
	double   run_ewma_ms;   // recent jobs' run time (moving average)
	bool     fetch_drained; // the last Fetch got fewer jobs than asked
	uint32_t run_seen;      // jobs in it, up to RT_RUN_SEEN_MIN

	// The reporter thread's own:
	bool no_release; // the coordinator answered Release UNIMPLEMENTED
};

// sje__rt_sleep waits ms milliseconds on rt->cv, ending early when *flag
// (read under rt->mtx; may be NULL) becomes true. Takes rt->mtx; call
// without it.
void sje__rt_sleep(sje__runtime *rt, uint32_t ms, const bool *flag);

// sje__rt_flag reads *flag, a field of rt, under rt->mtx. Call without
// it.
bool sje__rt_flag(sje__runtime *rt, const bool *flag);

#endif // SJE_WORKER_RUNTIME_INT_H
