// sched_int.h — the scheduler's internals, shared by its files (never
// included outside server/sched*.c). See sched.c for the design.
//
//   sched.c         the thread, rounds, store access, replies, events,
//                   recovery, open and close
//   sched_jobs.c    state changes: retries, finishing, dependencies,
//                   held calls
//   sched_client.c  the Coordinator's handlers (submit, DAGs, workflows,
//                   status, wait, cancel, lists, events, stats)
//   sched_worker.c  the WorkerHub's handlers, timers and dispatch
//
// Everything here belongs to the scheduler thread unless said otherwise.
#ifndef SJE_SERVER_SCHED_INT_H
#define SJE_SERVER_SCHED_INT_H

#include "sched/scheduler.h"

#include <sje/client.h>

#include "sched/clock.h"
#include "sched/hmap.h"
#include "sched/workerid.h"
#include "store/store.h"
#include "util.h"

#include <pthread.h>

#define SCHED_TICK_MS 1000         // lease and worker checks
#define SCHED_MAX_FETCH_JOBS 1000u // jobs per Fetch reply
#define SCHED_MAX_HOLD_MS 600000u  // longest Fetch or Wait hold
#define SCHED_LIST_DEFAULT 100u
#define SCHED_LIST_MAX 1000u
#define SCHED_MAX_WORKER_FUNCTIONS 1024u
#define SCHED_MAX_WORKER_SLOTS 1024u  // as sje-worker's own bound
#define SCHED_MAX_ERROR_BYTES 4096u   // an attempt's error message, kept
#define SCHED_FORGET_LEASES 3         // forget a silent worker after 3 leases
#define SCHED_HEARTBEAT_MAX_MS 1000u  // cancels reach workers this fast
#define SCHED_EVENT_RETENTION 100000u // events kept for catch-up
// Events the coordinator's hooks have not seen yet are kept too, up to
// this many in all.
#define SCHED_EVENT_RETENTION_HOOKS 1000000u
#define SCHED_EVENTS_DEFAULT 1000u
#define SCHED_EVENTS_MAX 10000u
#define SCHED_HIST_N 12 // histogram bounds (see sched_hist_ms)
#define SCHED_MAX_EDGES_PER_CALL 100000u // depends_on entries in one submit
#define SCHED_PURGE_EVERY_MS 10000       // how often finished jobs are purged
#define SCHED_PURGE_BATCH 10000u         // at most this many per round

enum {
	ST_PENDING   = SJE__V1__JOB_STATE__JOB_STATE_PENDING,
	ST_SCHEDULED = SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED,
	ST_QUEUED    = SJE__V1__JOB_STATE__JOB_STATE_QUEUED,
	ST_RUNNING   = SJE__V1__JOB_STATE__JOB_STATE_RUNNING,
	ST_SUCCEEDED = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED,
	ST_FAILED    = SJE__V1__JOB_STATE__JOB_STATE_FAILED,
	ST_CANCELLED = SJE__V1__JOB_STATE__JOB_STATE_CANCELLED,
};

// Method indexes, in the order of the services in the .proto files.
enum {
	M_SUBMIT,
	M_GET_STATUS,
	M_WAIT,
	M_CANCEL,
	M_LIST_JOBS,
	M_WORKERS,
	M_LIST_EVENTS,
	M_STATS,
	M_RUN_WORKFLOW,
};
enum {
	W_REGISTER,
	W_FETCH,
	W_HEARTBEAT,
	W_COMPLETE,
	W_FAIL,
	W_RELEASE,
	W_CHALLENGE,
};

// Histogram bounds, in milliseconds, for wait and run times.
extern const double sched_hist_ms[SCHED_HIST_N];

// sched_hist is a latency histogram: counts[i] for <= sched_hist_ms[i],
// counts[SCHED_HIST_N] for longer.
typedef struct sched_hist {
	uint64_t counts[SCHED_HIST_N + 1];
	double   sum_ms;
	uint64_t n;
} sched_hist;

typedef struct sched_job    sched_job;
typedef struct sched_fn     sched_fn;
typedef struct sched_worker sched_worker;
typedef struct sched_hold   sched_hold;

// heap_kind says what a sched_heap orders its jobs by, and which index
// of the job it keeps.
typedef enum heap_kind {
	HEAP_READY,   // priority high first, then oldest (heap_idx)
	HEAP_DELAYED, // ready_at_ms first, then oldest (heap_idx)
	HEAP_LEASES,  // lease_due_ms first, then oldest (lease_idx)
} heap_kind;

// sched_heap is a binary heap of jobs; each job knows its index in it.
typedef struct sched_heap {
	sched_job **v;
	size_t      n, cap;
	heap_kind   kind;
} sched_heap;

// sched_job is a job that has not finished. Size matters: one per job in
// the backlog. Its times are monotonic instants (see clock.h); the row
// keeps the wall-clock ones. lease_due_ms is when s->lease_heap looks at
// a RUNNING job next: never later than the end of its lease or of its
// timeout (a heartbeat extends the lease without moving it in the heap).
struct sched_job {
	int64_t       id;      // store rowid: submit order
	char         *task_id; // owned; the key in s->jobs
	sched_fn     *fn;
	int           state; // PENDING .. RUNNING
	int32_t       priority;
	uint32_t      attempt; // attempts started
	uint32_t      max_attempts;
	uint32_t      timeout_s;        // of one attempt
	uint64_t      lease_id;         // current lease when RUNNING
	sje_dur_ms    lease_expires_ms; // when RUNNING
	sje_dur_ms    lease_due_ms;     // when RUNNING: its key in lease_heap
	sje_dur_ms    ready_at_ms;      // when SCHEDULED (or PENDING, delayed)
	sje_dur_ms    queued_ms; // when it last became QUEUED (wait histogram)
	sje_dur_ms    started_ms; // when its current attempt started
	sched_worker *worker;     // lease holder when known, else NULL
	size_t        heap_idx;   // in fn->ready or s->delayed; SIZE_MAX: none
	size_t        lease_idx;  // in s->lease_heap; SIZE_MAX: none
	bool          cancel_requested;
	double        progress_pct; // last reported, to skip unchanged writes
	uint32_t      progress_hash;
	sched_hold  **waiters; // Wait calls held on this job
	size_t        n_waiters;
	char        **children; // task_ids of jobs waiting for this one
	uint32_t      n_children, cap_children;
	uint32_t      n_waiting; // parents not finished yet (PENDING)
};

// sched_fn is a function name with its ready queue, kept in s->fn_map (by
// name) and on the s->fns list. A function that no unfinished job uses, no
// worker serves and config does not name is forgotten by
// sje__sched_fn_sweep, which runs only between handlers: a handler may
// borrow any function's name until it returns.
struct sched_fn {
	char      *name; // owned; the key in s->fn_map
	sched_heap ready;
	sched_fn  *next, *prev;
	uint32_t   n_jobs;     // unfinished sched_jobs with this fn
	uint32_t   n_workers;  // entries in live workers' fns naming it
	bool       configured; // tasks.functions or a workflow step names it
	size_t     stats_idx;  // scratch for Stats
	// Counters since the server started, for Stats.
	uint64_t   submitted, succeeded, failed, cancelled, retried;
	uint64_t   upstream_failed;
	sched_hist wait; // ready to started
	sched_hist run;  // started to finished, per attempt
};

// sched_worker is one live registration, in s->sessions (by session) and
// on the s->workers list.
struct sched_worker {
	uint64_t      session; // random, never 0
	char         *name;
	sched_fn    **fns;
	size_t        n_fns;
	uint32_t      slots;
	uint32_t      busy; // leases it holds
	sje_kv       *labels;
	size_t        n_labels;
	sje_dur_ms    last_seen_ms;      // monotonic: when it is forgotten
	sje_time_ms   last_seen_unix_ms; // the same, shown in ListWorkers
	int           n_holds;           // Fetch calls held for it
	sched_worker *next;
};

// refusal counts WorkerHub calls and reports refused, by reason.
typedef enum refusal {
	REFUSED_SESSION, // a session never issued, or no longer live
	REFUSED_LEASE,   // no such lease on that job (guessed, expired, moved)
	REFUSED_HOLDER,  // the right lease, from another worker
	REFUSED_REGISTER, // a registration refused (slots, functions, proof)
	REFUSED_N
} refusal;

// report_kind says which WorkerHub report a ReportRequest is.
typedef enum report_kind {
	REPORT_COMPLETE,
	REPORT_FAIL,
	REPORT_RELEASE
} report_kind;

typedef enum hold_kind {
	HOLD_FETCH,
	HOLD_WAIT,
	HOLD_EVENTS,
	HOLD_N
} hold_kind;

// sched_hold is a held call: a Fetch waiting for work, a Wait waiting
// for jobs to finish, or a ListEvents waiting for events. It is on its
// kind's list (s->holds[kind], oldest first) and in s->hold_heap (by
// deadline).
struct sched_hold {
	hold_kind     kind;
	sje__call    *call;
	sje_dur_ms    deadline_ms; // monotonic
	size_t        heap_idx;    // in s->hold_heap
	sched_worker *worker;      // FETCH
	uint32_t      max_jobs;    // FETCH
	size_t        remaining;   // WAIT: job waits still open
	sched_hold   *prev, *next; // on s->holds[kind]
};

// sched_holds is one kind's held calls, oldest first.
typedef struct sched_holds {
	sched_hold *head, *tail;
	size_t      n;
} sched_holds;

// sched_hheap is a heap of held calls by deadline (earliest first).
typedef struct sched_hheap {
	sched_hold **v;
	size_t       n, cap;
} sched_hheap;

// sched_reply is a reply ready to send after the commit.
typedef struct sched_reply {
	sje__call *call;
	int        code;
	char      *message; // NULL when OK
	char      *field;
	uint8_t   *body;
	size_t     len;
} sched_reply;

// sched_event is an event, packed and kept in the store, ready to publish
// after the commit.
typedef struct sched_event {
	char     topic[SJE_MAX_FUNCTION_BYTES + 32];
	uint8_t *data; // packed sje.v1.JobEvent
	size_t   len;
} sched_event;

struct sje__sched {
	const sje_config *cfg;
	sje__store       *store;
	sje__events      *events;
	sje__hooks       *hooks;  // the coordinator's plugins; may be NULL
	sje__alerts      *alerts; // monitoring.alerts; NULL: none
	sje__clock        clock;  // the system's unless a test's
	bool              manual; // no thread: rounds by sje__sched_round
	pthread_t         thread;

	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	sje__call     **inbox;     // (mtx)
	size_t          n_inbox;   // (mtx)
	size_t          cap_inbox; // (mtx)
	bool            stopping;  // (mtx)

	// The rest belongs to the scheduler thread.
	sje__hmap      jobs;   // task_id -> sched_job, unfinished jobs only
	sje__hmap      fn_map; // name -> sched_fn
	sched_fn      *fns;    // the same functions, newest first
	size_t         n_unserved; // functions neither served nor configured
	sched_fn       forgotten;  // counters of functions forgotten, summed
	uint64_t       unserved_refused; // submits refused for the limit
	sje__umap      sessions;         // session -> sched_worker
	sje__umap      leases;           // lease_id -> RUNNING sched_job
	uint64_t       refused[REFUSED_N];
	uint64_t       sessions_replaced; // by a registration of the same name
	sched_heap     delayed;
	sched_heap     lease_heap; // RUNNING jobs by lease_due_ms
	size_t         n_ready;    // jobs in all ready heaps
	sched_worker  *workers;
	sched_holds    holds[HOLD_N]; // by kind
	sched_hheap    hold_heap;     // all of them, by deadline
	uint64_t       event_seq;     // the last the store gave (its mirror)
	bool           in_txn;
	sje_dur_ms     now_ms;      // the round's start, for deadlines
	sje_time_ms    now_unix_ms; // its wall clock: what is stored
	sje_dur_ms     next_tick_ms;
	uint32_t       lease_ms;
	sje__workerid *workerid; // proofs of worker names; NULL: not enforced
	// Jobs to end UPSTREAM_FAILED: a worklist, so that a long chain
	// cascades in a loop, not in a deep recursion.
	struct cascade {
		char *task_id; // the child
		char *parent;
		int   parent_state;
	} * cascade;
	size_t      n_cascade, cap_cascade;
	bool        cascading;
	char      **wake; // recovered PENDING jobs with no parent left to wait
	size_t      n_wake, cap_wake;
	sje_time_ms started_unix_ms; // of the server, for Stats
	sje_time_ms wall_offset_ms;  // now_unix_ms - now_ms (sched_clock_now)
	bool        wall_offset_set;
	sje_dur_ms  next_purge_ms;
	sje_dur_ms  next_alert_ms;
	uint64_t    pruned_seq; // events up to this one are forgotten

	sched_reply *out;
	size_t       n_out, cap_out;
	sched_event *evq;
	size_t       n_ev, cap_ev;
};

// sje__sched_grow makes room for one more element of size sz in *v.
bool sje__sched_grow(void **v, size_t *cap, size_t n, size_t sz);

// sje__sched_fatal stops the process: the store and memory may now disagree,
// and only a restart (which rebuilds memory from the store) is safe.
void sje__sched_fatal(const char *what, sje_err err) __attribute__((noreturn));

// sje__sched_xalloc is calloc of n bytes; out of memory is fatal.
void *sje__sched_xalloc(size_t n);

// sje__sched_xstrdup copies s (NULL gives ""); out of memory is fatal.
char *sje__sched_xstrdup(const char *s);

// sje__sched_heap_before is true when a goes before b in h: priority high
// first, then oldest (ready heaps); due first, then oldest (delayed and
// lease heaps).
bool sje__sched_heap_before(
    const sched_heap *h, const sched_job *a, const sched_job *b);

// sje__sched_heap_push adds j to h, which records its index in j.
void sje__sched_heap_push(sched_heap *h, sched_job *j);

// sje__sched_heap_remove takes j out of h (nothing if it is not there).
void sje__sched_heap_remove(sched_heap *h, sched_job *j);

// sje__sched_heap_fix puts j, which is in h, back in its place after its
// key changed.
void sje__sched_heap_fix(sched_heap *h, sched_job *j);

// sje__sched_mono_of is the monotonic instant, as of this round, of the
// wall-clock time unix_ms read from the store (0 stays 0: none).
sje_dur_ms sje__sched_mono_of(const sje__sched *s, sje_time_ms unix_ms);

// sje__sched_lease_track puts a RUNNING job, whose lease_expires_ms and
// started_ms are set, on s->lease_heap.
void sje__sched_lease_track(sje__sched *s, sched_job *j);

// sje__sched_lease_next pops the RUNNING job whose lease, or whose
// timeout and a lease of grace, ran out by now, or returns NULL when there
// is none; it re-files the jobs whose lease heartbeats extended meanwhile.
sched_job *sje__sched_lease_next(sje__sched *s);

// sje__sched_fn_find returns the function called name, or NULL (a hash
// lookup).
sched_fn *sje__sched_fn_find(sje__sched *s, const char *name);

// sje__sched_fn_get finds the function called name, making it on first
// use. Its name may be borrowed until the handler returns (see
// sje__sched_fn_sweep); jobs and workers that point to it keep it.
sched_fn *sje__sched_fn_get(sje__sched *s, const char *name);

// sje__sched_fn_unserved is true when no live worker serves f and config
// does not name it: what tasks.max_unserved_functions bounds.
bool sje__sched_fn_unserved(const sched_fn *f);

// sje__sched_fn_sweep forgets the functions that no unfinished job uses,
// no worker serves and config does not name, with their counters. Call it
// only between handlers.
void sje__sched_fn_sweep(sje__sched *s);

// sje__sched_worker_find returns the worker registered as session, or
// NULL (a hash lookup; session 0 is never issued).
sched_worker *sje__sched_worker_find(sje__sched *s, uint64_t session);

// sje__sched_worker_drop unlinks w (from s->workers and s->sessions),
// lets go of its functions and frees it. w holds no lease and no Fetch.
void sje__sched_worker_drop(sje__sched *s, sched_worker *w);

// sje__sched_worker_free frees w and what it owns (nothing else).
void sje__sched_worker_free(sched_worker *w);

// sje__sched_job_free frees j and what it owns (not its waiters' holds),
// and lets go of its function.
void sje__sched_job_free(sched_job *j);

// sje__sched_lease_new gives j a fresh lease id: 64 random bits, never 0,
// never j's last lease, unique among live leases (s->leases).
void sje__sched_lease_new(sje__sched *s, sched_job *j);

// sje__sched_ready puts a QUEUED job on its function's heap.
void sje__sched_ready(sje__sched *s, sched_job *j);

// sje__sched_unqueue takes a job off whichever heap holds it.
void sje__sched_unqueue(sje__sched *s, sched_job *j);

// sje__sched_release_lease ends j's lease: its id leaves s->leases, j
// leaves s->lease_heap and the holder is forgotten. j->lease_id keeps the old
// id, so that a late report on it is refused.
void sje__sched_release_lease(sje__sched *s, sched_job *j);

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

// sje__sched_reply_ok packs msg now (it may borrow anything) and sends it
// after the round's commit.
void sje__sched_reply_ok(
    sje__sched *s, sje__call *call, const ProtobufCMessage *msg);

// sje__sched_reply_err queues an error reply: err's status, field, message.
void sje__sched_reply_err(sje__sched *s, sje__call *call, sje_err err,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

// sje__sched_event_full makes the event of j entering (or, for progress and
// cancel, being in) its current state: numbered, packed, kept in the store
// within the round's transaction, and queued for publishing after commit.
void sje__sched_event_full(sje__sched *s, const sched_job *j,
    const char *worker, const char *error_type, const char *error_message,
    const Sje__V1__Progress *progress, bool cancel_requested);

// sje__sched_event_push queues the event of j entering its current state.
void sje__sched_event_push(sje__sched *s, const sched_job *j,
    const char *worker, const char *error_type, const char *error_message);

// sje__sched_count updates fn's counters for a job entering state.
void sje__sched_count(sched_fn *f, int state);

// sje__sched_hist_add records one duration.
void sje__sched_hist_add(sched_hist *h, sje_time_ms ms);

// sje__sched_set_state moves j (and its row) to state, logging a bug if the
// state machine does not allow it.
void sje__sched_set_state(sched_job *j, sje__job_row *row, int state);

// sje__sched_attempt_end records how j's current attempt ended.
void sje__sched_attempt_end(sje__sched *s, sched_job *j,
    const sje__job_row *row, int outcome, const char *error_type,
    const char *error_message);

// sje__sched_wake_child moves a PENDING job whose last parent succeeded to
// QUEUED, or SCHEDULED while its delay runs.
void sje__sched_wake_child(sje__sched *s, sched_job *c);

// sje__sched_cascade ends the queued children UPSTREAM_FAILED, and theirs in
// turn, iteratively.
void sje__sched_cascade(sje__sched *s);

// sje__sched_finish ends j: its row (already in its terminal state) is saved,
// the event queued, waiters told, and j forgotten.
void sje__sched_finish(sje__sched *s, sched_job *j, sje__job_row *row);

// sje__sched_attempt_failed ends j's current attempt (RUNNING) with an error:
// cancelled when a cancel was asked for, else again after the back-off
// while attempts remain, else FAILED. row is j's, loaded by the caller.
void sje__sched_attempt_failed(sje__sched *s, sched_job *j, sje__job_row *row,
    const char *type, const char *message);

// sje__sched_hold_add holds call, kind, for up to wait_ms: last on its
// kind's list, and in the deadline heap. The hold is answered by whoever
// frees it (sje__sched_hold_remove).
sched_hold *sje__sched_hold_add(
    sje__sched *s, hold_kind kind, sje__call *call, uint32_t wait_ms);

// sje__sched_hold_remove unlinks h (from its list and the deadline heap)
// and frees it (its call already answered).
void sje__sched_hold_remove(sje__sched *s, sched_hold *h);

// sje__sched_wait_reply answers a Wait call with the current record of every
// job it names.
void sje__sched_wait_reply(sje__sched *s, sje__call *call, bool done);

// sje__sched_hold_detach takes a Wait hold off the jobs it waits on.
void sje__sched_hold_detach(sje__sched *s, sched_hold *h);

// sje__sched_link makes child wait for parent (both unfinished).
void sje__sched_link(sched_job *parent, sched_job *child);

// The handlers: each answers its call (now, or later for held calls)
// through the reply queue. sje__sched_submit handles Coordinator.Submit.
void sje__sched_submit(sje__sched *s, sje__call *call);

// sje__sched_check_count answers INVALID_ARGUMENT or RESOURCE_EXHAUSTED
// naming field unless min <= n <= SJE_MAX_JOBS_PER_CALL; returns whether
// the count is within.
bool sje__sched_check_count(
    sje__sched *s, sje__call *call, size_t n, size_t min, const char *field);

// sje__sched_check_id refuses a missing or malformed task_id.
bool sje__sched_check_id(
    sje__sched *s, sje__call *call, const char *id, const char *field);

// sje__sched_get_status handles Coordinator.GetStatus.
void sje__sched_get_status(sje__sched *s, sje__call *call);

// sje__sched_wait handles Coordinator.Wait (held until the jobs end).
void sje__sched_wait(sje__sched *s, sje__call *call);

// sje__sched_cancel handles Coordinator.Cancel.
void sje__sched_cancel(sje__sched *s, sje__call *call);

// sje__sched_list_jobs handles Coordinator.ListJobs.
void sje__sched_list_jobs(sje__sched *s, sje__call *call);

// sje__sched_run_workflow handles Coordinator.RunWorkflow.
void sje__sched_run_workflow(sje__sched *s, sje__call *call);

// sje__sched_list_workers handles Coordinator.ListWorkers.
void sje__sched_list_workers(sje__sched *s, sje__call *call);

// sje__sched_events_reply answers a ListEvents call with the kept events it
// asks for; with none to give it answers only when force is set. Returns
// whether it answered.
bool sje__sched_events_reply(sje__sched *s, sje__call *call, bool force);

// sje__sched_list_events handles Coordinator.ListEvents (held until
// events commit).
void sje__sched_list_events(sje__sched *s, sje__call *call);

// sje__sched_events_wake answers the held ListEvents calls that the events
// just committed satisfy (it walks only the held ListEvents calls). Called
// after the commit.
void sje__sched_events_wake(sje__sched *s);

// sje__sched_check_alerts counts what monitoring.alerts read and checks
// the rules; changes go to the hook thread.
void sje__sched_check_alerts(sje__sched *s);

// sje__sched_stats handles Coordinator.Stats.
void sje__sched_stats(sje__sched *s, sje__call *call);

// sje__sched_attach_attempts adds job's attempt history (malloc'd, freed with
// the job by protobuf_c_message_free_unpacked).
void sje__sched_attach_attempts(sje__sched *s, Sje__V1__Job *job, int64_t id);

// sje__sched_challenge handles WorkerHub.GetChallenge.
void sje__sched_challenge(sje__sched *s, sje__call *call);

// sje__sched_register handles WorkerHub.RegisterWorker.
void sje__sched_register(sje__sched *s, sje__call *call);

// sje__sched_fetch handles WorkerHub.Fetch (held until work is ready).
void sje__sched_fetch(sje__sched *s, sje__call *call);

// sje__sched_heartbeat handles WorkerHub.Heartbeat.
void sje__sched_heartbeat(sje__sched *s, sje__call *call);

// sje__sched_report handles Complete, Fail and Release.
void sje__sched_report(sje__sched *s, sje__call *call, report_kind kind);

// sje__sched_timers runs what is due: delayed jobs, held calls out of time,
// and the periodic tick.
void sje__sched_timers(sje__sched *s);

// sje__sched_dispatch answers held Fetch calls, oldest first, with ready jobs.
void sje__sched_dispatch(sje__sched *s);

#endif // SJE_SERVER_SCHED_INT_H
