// state.h — the scheduler's types: a job, a function, a worker, a held
// call, the heaps, and struct sje__sched, which holds them all. Types
// only, no code: each layer (see base.h) includes it and works on the
// parts its header names. Everything here belongs to the thread that
// holds the round (round.c) but the inbox, under s->mtx.
#ifndef SJE_SERVER_SCHED_STATE_H
#define SJE_SERVER_SCHED_STATE_H

#include "sched/base.h"
#include "sched/scheduler.h"

#include "sched/call.h"
#include "sched/clock.h"
#include "sched/hmap.h"
#include "sched/minutes.h"
#include "sched/workerid.h"
#include "store/store.h"

#include "cron.h"
#include "methods.h"

#include <pthread.h>

typedef struct sched_job    sched_job;
typedef struct sched_fn     sched_fn;
typedef struct sched_worker sched_worker;
typedef struct sched_hold   sched_hold;
typedef struct sched_route  sched_route;

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
	sched_route  *route;      // the labels it needs; NULL: none
	size_t        heap_idx;   // in fn->ready or s->delayed; SIZE_MAX: none
	size_t        lease_idx;  // in s->lease_heap; SIZE_MAX: none
	bool          cancel_requested;
	bool          has_parents;  // its spec names parents (depends_on)
	double        progress_pct; // last reported, to skip unchanged writes
	uint32_t      progress_hash;
	uint8_t *spec; // its packed spec when small (SCHED_SPEC_KEEP_BYTES)
	uint32_t spec_len;    // so dispatch reads no row; else NULL, 0
	sched_hold **waiters; // Wait calls held on this job
	size_t       n_waiters;
	char       **children; // task_ids of jobs waiting for this one
	uint32_t     n_children, cap_children;
	uint32_t     n_waiting; // parents not finished yet (PENDING)
};

// sched_route is the ready queue of a function's jobs that need the same
// worker labels (a job's requires merged with its function's, from
// config), on its function's routes. Jobs that need none wait on
// fn->ready. A route lives while a job uses it.
struct sched_route {
	char      *sig; // the pairs, sorted by key, "k=v\n...": its identity
	sje_kv    *req; // the same pairs, sorted (owned)
	size_t     n_req;
	sched_heap ready;
	uint32_t   n_jobs;  // unfinished jobs on it
	bool       matched; // scratch: a live worker can take its jobs
};

// sched_fn is a function name with its ready queue, kept in s->fn_map (by
// name) and on the s->fns list. A function that no unfinished job uses, no
// worker serves and config does not name is forgotten by
// sje__sched_fn_sweep, which runs only between handlers: a handler may
// borrow any function's name until it returns.
struct sched_fn {
	char         *name;   // owned; the key in s->fn_map
	sched_heap    ready;  // its jobs that need no worker labels
	sched_route **routes; // and those that do, by the labels they need
	size_t        n_routes, cap_routes;
	sched_fn     *next, *prev;
	uint32_t      n_jobs;    // unfinished sched_jobs with this fn
	uint32_t      n_workers; // entries in live workers' fns naming it
	bool     configured;     // tasks.functions or a workflow step names it
	bool     kept;      // an operator set something on it (in the store)
	bool     paused;    // nothing of it starts
	uint32_t n_running; // RUNNING jobs of it
	// Limits. What an operator set (kept in the store; -1 and NULL:
	// unset, config's apply), then the limits in force
	// (sje__sched_fn_limits): concurrency 0 and rate_n 0 are none.
	int64_t     op_concurrency;
	char       *op_rate;
	uint32_t    concurrency;
	const char *rate; // the rate in force, as written; NULL: none
	uint32_t    rate_n, rate_per_ms;
	uint32_t    rate_burst; // tokens the bucket holds at most
	double      tokens;     // starts allowed now (a token bucket)
	sje_dur_ms  tokens_at_ms;
	// Since when jobs of it wait QUEUED with no live worker serving it
	// (unserved_waits), and whether that was warned of.
	bool       unserved_waits, unserved_warned;
	sje_dur_ms unserved_since_ms;
	size_t     stats_idx; // scratch for Stats
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

typedef enum hold_kind {
	HOLD_FETCH,
	HOLD_WAIT,
	HOLD_EVENTS,
	HOLD_N
} hold_kind;

// sched_hold is a held call: a Fetch waiting for work, a Wait (or a
// Submit that waits) waiting for jobs to finish, or a ListEvents waiting
// for events. It is on its
// kind's list (s->holds[kind], oldest first) and in s->hold_heap (by
// deadline).
struct sched_hold {
	hold_kind            kind;
	sje__call           *call;
	sje_dur_ms           deadline_ms; // monotonic
	size_t               heap_idx;    // in s->hold_heap
	sched_worker        *worker;      // FETCH
	uint32_t             max_jobs;    // FETCH
	Sje__V1__StatusCode *accepted;    // FETCH: answers to its outcomes
	size_t               n_accepted;  // FETCH
	char               **ids;   // WAIT: the task_ids waited on (owned)
	size_t               n_ids; // WAIT
	bool       *created;        // WAIT on a Submit: created by it, per id
	size_t      remaining;      // WAIT: job waits still open
	sched_hold *prev, *next;    // on s->holds[kind]
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

// sched_schedule is one schedule of config and where it stands; times are
// wall-clock ones, as ticks are.
typedef struct sched_schedule {
	const sje_schedule_cfg *cfg;
	sje_cron                cron;      // when cfg->cron is set
	sje_time_ms             next_ms;   // its next tick
	sje_time_ms             last_ms;   // the last tick fired; 0: never
	char                   *last_id;   // what that started (owned); NULL
	sje_time_ms             missed_ms; // a missed tick to fire; 0: none
} sched_schedule;

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
	// The round (round.c's design note): running says that a thread
	// holds it, and so everything below the inbox; thread_wake is when
	// the scheduler thread must run one next, thread_waits that it
	// waits for the holder to let go.
	bool       combine; // a delivering thread may run the round (fixed)
	bool       running; // (mtx)
	bool       thread_waits; // (mtx)
	sje_dur_ms thread_wake;  // (mtx)
	// The round holder's: the spare the inbox is swapped with.
	sje__call **batch;
	size_t      cap_batch;

	// The rest belongs to the round's holder.
	sje__hmap  jobs;       // task_id -> sched_job, unfinished jobs only
	sje__hmap  fn_map;     // name -> sched_fn
	sched_fn  *fns;        // the same functions, newest first
	size_t     n_unserved; // functions neither served nor configured
	sched_fn   forgotten;  // counters of functions forgotten, summed
	uint64_t   unserved_refused; // submits refused for the limit
	uint64_t   unserved_waiting; // functions waiting past unserved_warn_s
	sje_dur_ms rate_wake_ms;     // a rate limit lets a job start then
	sched_schedule *schedules;   // config's, in its order
	size_t          n_schedules;
	sje_dur_ms      schedule_wake_ms; // the next tick of any of them
	sje__umap       sessions;         // session -> sched_worker
	sje__umap       leases;           // lease_id -> RUNNING sched_job
	uint64_t        refused[REFUSED_N];
	uint64_t calls[2][SJE__COORD_N]; // handled, by service (0 Coordinator,
	                                 // 1 WorkerHub) and method, for Stats
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

	sje__minutes minutes; // the last hour, for Stats.last_hour
};

#endif // SJE_SERVER_SCHED_STATE_H
