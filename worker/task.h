// task.h — one job as sje-worker runs it, the host API its plugin sees,
// and the outcome the worker reports for it.
//
// A task is made from a Fetch assignment (sje__task_alloc), runs once on a
// slot thread (sje__task_run), may be cancelled from any thread
// (sje__task_cancel), and when its function has returned is turned into an
// outcome (sje__task_outcome) and freed. The runtime owns tasks and keeps
// them in its lists through the link fields below, under its own lock.
#ifndef SJE_WORKER_TASK_H
#define SJE_WORKER_TASK_H

#include "clock.h"
#include "plugin_host.h"

#include <sje/v1/worker_hub.pb-c.h>

#include <pthread.h>

// sje__cancel says why a task was asked to stop; the first reason wins.
typedef enum sje__cancel {
	SJE__CANCEL_NONE = 0,
	SJE__CANCEL_SERVER,   // the job was cancelled (heartbeat reply)
	SJE__CANCEL_LOST,     // the lease is no longer ours (heartbeat reply)
	SJE__CANCEL_TIMEOUT,  // the job ran past its timeout_s
	SJE__CANCEL_SHUTDOWN, // the worker stops and its grace period ended
} sje__cancel;

struct sje_task {
	// Immutable from sje__task_alloc on; read by any thread, no lock.
	char          *task_id;
	char          *function;
	char          *params_json;  // "null" when the job has no params
	char          *parents_json; // {"<parent task_id>": result, ...}
	uint64_t       lease_id;
	uint32_t       attempt;
	uint32_t       timeout_s; // 0: no timeout
	const sje__fn *fn;        // NULL: this worker has no such function

	// Links for the runtime's lists; guarded by the runtime's lock.
	struct sje_task *prev; // all leased tasks
	struct sje_task *next;
	struct sje_task *qnext;   // tasks waiting for a slot
	bool             started; // taken by a slot

	// Written by the slot thread before the function starts and after it
	// returns; read by that thread (and by host calls, which happen
	// between the two).
	int64_t     start_ms;    // monotonic ms (sje_mono_ms)
	int64_t     deadline_ms; // start_ms + timeout_s * 1000; 0: none
	int64_t     end_ms;
	bool        ran; // the function was called
	sje_task_rc rc;  // what it returned

	pthread_mutex_t mtx;
	pthread_cond_t  cv; // broadcast when cancel is set (wakes sleep_ms)
	// Guarded by mtx:
	sje__cancel cancel;
	double      percent;      // progress, 0..100
	char       *progress_msg; // NULL: none
	char       *result;       // set_result's text; NULL: none
	bool        result_lost;  // set_result ran out of memory
	bool        has_error;
	char       *error_type;
	char       *error_msg;
};

// sje__outcome is what the worker reports for one job: a result (ok) for
// Complete, an error for Fail, or (release) a job handed back unrun or
// interrupted by the worker's stop, for Release (or, when the coordinator
// does not serve Release, Fail with the error). Owned by whoever holds it;
// linked in the runtime's report queue through next.
typedef struct sje__outcome {
	struct sje__outcome *next;
	char                *task_id;
	uint64_t             lease_id;
	bool                 ok;
	bool                 release;    // !ok: hand the job back
	char                *result;     // ok: JSON text, validated
	char                *error_type; // !ok
	char                *error_msg;  // !ok
	double               run_s;      // how long the function ran, for logs
	// state is how the attempt ended as this worker judges it, for the
	// on_event hook: "SUCCEEDED", "FAILED" or "CANCELLED" (static).
	const char *state;
} sje__outcome;

// sje__task_host_api returns the host API given to plugins (static data,
// valid for the life of the process).
const sje_host_api *sje__task_host_api(void);

// sje__task_alloc makes a task of assignment a, copying what it needs;
// fn is the function to run (NULL when unknown: the task then fails with
// "unknown_function" without running). On SJE_OK *out is the task (caller
// owns it: sje__task_free).
sje_err sje__task_alloc(
    const Sje__V1__Assignment *a, const sje__fn *fn, sje_task **out);

// sje__task_free frees t. Accepts NULL. Its function must have returned.
void sje__task_free(sje_task *t);

// sje__task_run runs t's function on the calling thread, under its
// timeout, and records what it returned. Call at most once. No lock may be
// held by the caller.
void sje__task_run(sje_task *t);

// sje__task_cancel asks t to stop for reason why (ignored when it was
// asked already) and wakes its sleep_ms. Returns true when this call
// cancelled it. Thread-safe; takes only t's own lock.
bool sje__task_cancel(sje_task *t, sje__cancel why);

// sje__task_progress copies t's last progress: *percent, and *message
// (caller owns it; NULL when there is none). Thread-safe.
sje_err sje__task_progress(sje_task *t, double *percent, char **message);

// sje__task_outcome builds the outcome of t once its function returned
// (or when it never ran: then it is "interrupted" or "unknown_function").
// On SJE_OK *out is the outcome (caller owns it: sje__outcome_free).
sje_err sje__task_outcome(sje_task *t, sje__outcome **out);

// sje__outcome_fail turns o into a failure of the given type and message
// (both copied), for a result the server refused. Returns SJE_ENOMEM and
// leaves o as it was when memory is short.
sje_err sje__outcome_fail(sje__outcome *o, const char *type, const char *msg);

// sje__outcome_free frees o (not the rest of its list). Accepts NULL.
void sje__outcome_free(sje__outcome *o);

#endif // SJE_WORKER_TASK_H
