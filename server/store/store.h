// store.h — the durable job store: the one narrow interface between the
// scheduler and a database, as an operations table (sje__store_ops) that
// each backend fills. No SQL lives outside server/store/, so that another
// backend (PostgreSQL, shared by several coordinators, planned) can sit
// behind the same verbs.
//
// Backends: SQLite (sqlite.c, sje__store_open_sqlite: the embedded
// default, one file in WAL mode) and, for tests, a memory store
// (tests/support/memstore.h). Every backend passes the same contract
// tests (tests/store/contract.c).
//
// The verbs are those of jobs, not of rows: insert jobs, claim a job for a
// lease, update a job only if it is still in the state (and under the
// lease) the caller saw, extend a lease, take the next event seq and keep
// the event, list, purge. A conditional verb whose condition fails
// changes nothing and returns SJE_EPRECOND; a missing job is
// SJE_ENOTFOUND. The caller decides what a failure means: the store never
// ends the process.
//
// Writes are grouped by the caller: sje__store_begin, any number of
// writes, sje__store_commit (group commit); sje__store_rollback undoes
// every write since begin, the event seqs taken included. A write outside
// a transaction commits by itself.
//
// A job's row holds its spec exactly as submitted (the packed
// sje.v1.JobSpec, task_id filled in) plus the fields that change as it
// runs. States are Sje__V1__JobState values, passed as int.
//
// Not thread-safe: a store handle belongs to one thread at a time. The
// scheduler's is read and written; the hook thread reads through one of
// its own (sje__store_open_reader).
#ifndef SJE_SERVER_STORE_H
#define SJE_SERVER_STORE_H

#include "config.h"
#include <sje/sje.h>

#include <stddef.h>
#include <stdint.h>

// The SQLite schema's version (PRAGMA user_version). To change the schema,
// bump it and append a migration step in sqlite.c (store_migrations);
// never edit a released step.
#define SJE_STORE_SCHEMA_VERSION 7

// The PostgreSQL schema's version (the row 'schema_version' of sje_meta),
// counted on its own: to change it, bump it and append a step in
// postgres.c (pg_migrations).
#define SJE_STORE_PG_SCHEMA_VERSION 6

typedef struct sje__store     sje__store;
typedef struct sje__store_ops sje__store_ops;

// sje__job_row is one job as stored. Strings are owned by the row (NULL
// where the column is NULL); sje__job_row_free frees it all.
typedef struct sje__job_row {
	int64_t     id; // assigned by the store; also the submit order
	char       *task_id;
	char       *function;
	uint8_t    *spec; // packed sje.v1.JobSpec as submitted
	size_t      spec_len;
	int         state; // Sje__V1__JobState
	int32_t     priority;
	uint32_t    attempt; // attempts started so far
	uint32_t    max_attempts;
	uint32_t    timeout_s;
	uint64_t    lease_id;         // of the current or last lease; 0: none
	sje_time_ms lease_expires_ms; // 0 unless RUNNING
	sje_time_ms ready_at_ms;      // SCHEDULED until this time
	char       *worker;           // name of the worker that ran it last
	char       *result_json;      // when SUCCEEDED
	char       *error_type;       // of the last failed attempt
	char       *error_message;
	double      progress_pct;
	char       *progress_msg;
	bool        cancel_requested;
	sje_time_ms created_ms;
	sje_time_ms started_ms;  // 0: never
	sje_time_ms finished_ms; // 0: not finished
	char       *workflow_id; // the run it is a step of; NULL: none
	bool        run_first;   // the first step of its run stored: the run
	                         // is listed by it (sje__job_filter.runs)
} sje__job_row;

// sje__job_filter selects jobs for sje__store_list_jobs: a job matches
// when it passes every field that is set.
typedef struct sje__job_filter {
	int         state;       // 0: any
	const char *function;    // NULL or "": any
	uint32_t    limit;       // rows at most (the caller bounds it)
	int64_t     before_id;   // 0: from the newest; else only ids below it
	const char *workflow_id; // NULL or "": any; else that run's steps
	const char *worker;      // NULL or "": any; else the row's worker (the
	                         // worker of its last attempt)
	sje_time_ms created_from_ms;   // 0: any; else created_ms >= it
	sje_time_ms created_before_ms; // 0: any; else created_ms < it
	// NULL or "": any; else only task_ids that start with these bytes
	// (an index range on task_id, not a pattern: '%' and '_' are plain
	// characters). Valid UTF-8 (the door checks it).
	const char *task_id_prefix;
	// NULL or "": any; else only the jobs that named this task_id in
	// depends_on when they were stored (sje__store_add_parents): its
	// children, by an index of their own.
	const char *parent;
	bool        runs; // only the first step of each workflow run stored
	// Labels live only inside the packed spec, which no backend can
	// index: the dispatcher, not the backend, checks them (see
	// sje__store_list_jobs). NULL or "": any; else the spec's labels map
	// label_key to label_value (NULL is "").
	const char *label_key;
	const char *label_value;
	uint32_t    max_scan; // with a label: rows read at most per call
	                      // (0: SJE_STORE_LABEL_SCAN); with a prefix,
	                      // see below (0: SJE_STORE_PREFIX_SCAN)
	// When not NULL, set by each call: with a label, the id to go on
	// below (as before_id) when the call read max_scan rows before it
	// found limit jobs; 0 when it found limit jobs or read all there is.
	// A backend may do the same with a task_id_prefix (and no parent nor
	// runs) that more than SJE_STORE_PREFIX_RANGE_FACTOR times max_scan
	// jobs below before_id share: it may then read the max_scan jobs
	// below before_id alone, by id, and say where to go on, rather than
	// read every job of the prefix (SQLite does; only with resume_id
	// set).
	int64_t *resume_id;
} sje__job_filter;

// Rows of the other filters a label filter reads in one call, at most,
// unless the filter says (max_scan); and in pages of this many.
#define SJE_STORE_LABEL_SCAN 10000u
#define SJE_STORE_LABEL_PAGE 256u
// The jobs of a task_id prefix a backend reads in one call, at most, when
// it may stop early (sje__job_filter.resume_id).
#define SJE_STORE_PREFIX_SCAN 10000u
// How many times that many jobs a prefix is read whole for, at most.
#define SJE_STORE_PREFIX_RANGE_FACTOR 20u

// sje__job_expect is the condition of sje__store_update_job: what the
// caller saw the job as.
typedef struct sje__job_expect {
	int      state;    // the state it must be in; 0: any unfinished one
	uint64_t lease_id; // 0: any lease; else the lease it must hold
} sje__job_expect;

// sje__job_claim is a new lease on a QUEUED job (sje__store_claim_job).
typedef struct sje__job_claim {
	uint64_t    lease_id; // not 0
	sje_time_ms lease_expires_ms;
	const char *worker;  // the worker it is leased to (borrowed)
	uint32_t    attempt; // the number of the attempt the lease starts
	sje_time_ms started_ms;
} sje__job_claim;

// sje__job_success is how a RUNNING job's current attempt succeeded
// (sje__store_succeed_job).
typedef struct sje__job_success {
	uint64_t    lease_id;    // the lease it ran under: not 0
	const char *result_json; // valid JSON (borrowed)
	sje_time_ms finished_ms;
} sje__job_success;

// sje__attempt_row is one attempt of a job: who ran it, when, and how it
// ended (outcome RUNNING while it runs).
typedef struct sje__attempt_row {
	uint32_t    number; // 1 for the first
	char       *worker;
	sje_time_ms started_ms;
	sje_time_ms finished_ms; // 0 while it runs
	int         outcome;     // Sje__V1__JobState
	char       *error_type;  // NULL unless it failed
	char       *error_message;
} sje__attempt_row;

// sje__fn_row is what an operator set on a function at run time (pause,
// limits), kept so that it survives restarts. Each setting has an "unset"
// value: then config's applies.
typedef struct sje__fn_row {
	char       *name; // owned; the function's name
	bool        paused;
	int64_t     concurrency; // -1: unset; 0: no limit; N: at most N
	char       *rate;        // owned; NULL: unset; "": no limit; "100/s"
	sje_time_ms updated_ms;  // when it was last set
} sje__fn_row;

// sje__schedule_row is where a schedule (config's schedules:) stands: the
// last tick it fired and what that started, kept so that a restart
// neither fires a tick twice nor forgets one.
typedef struct sje__schedule_row {
	char       *name;         // owned
	sje_time_ms last_tick_ms; // the tick's own time; 0: never fired
	char       *last_task_id; // owned: the job or workflow run; NULL
} sje__schedule_row;

// sje__parent_edge is one parent a job named (sje__store_add_parents).
typedef struct sje__parent_edge {
	const char *parent; // its task_id (borrowed)
	int64_t     child_id;
} sje__parent_edge;

// sje__store_job_fn is called with a row borrowed for the call.
typedef sje_err (*sje__store_job_fn)(void *arg, const sje__job_row *row);
// sje__store_event_fn is called with a packed event borrowed for the call.
typedef sje_err (*sje__store_event_fn)(
    void *arg, uint64_t seq, const uint8_t *data, size_t len);

// sje__store_ops is what a backend implements; each entry's contract is
// that of the sje__store_<verb> dispatcher of the same name below. Every
// entry is set (a backend that cannot do something returns SJE_EUNIMPL).
struct sje__store_ops {
	const char *name; // "sqlite", "memory": for log lines
	void (*close)(sje__store *s);
	sje_err (*open_reader)(sje__store *s, sje__store **out);
	sje_err (*begin)(sje__store *s);
	sje_err (*commit)(sje__store *s);
	void (*rollback)(sje__store *s);
	sje_err (*insert_jobs)(
	    sje__store *s, const sje__job_row *rows, size_t n, int64_t *ids);
	sje_err (*claim_job)(
	    sje__store *s, int64_t id, const sje__job_claim *c);
	sje_err (*update_job)(sje__store *s, const sje__job_row *row,
	    const sje__job_expect *expect);
	sje_err (*succeed_job)(
	    sje__store *s, int64_t id, const sje__job_success *ok);
	sje_err (*extend_lease)(sje__store *s, int64_t id, uint64_t lease_id,
	    sje_time_ms expires_ms);
	sje_err (*get_job)(
	    sje__store *s, const char *task_id, sje__job_row **out);
	sje_err (*get_job_by_id)(
	    sje__store *s, int64_t id, sje__job_row **out);
	sje_err (*get_result)(sje__store *s, const char *task_id, char **out);
	sje_err (*find_jobs)(
	    sje__store *s, const char *const *task_ids, size_t n, bool *found);
	sje_err (*get_jobs)(sje__store *s, const char *const *task_ids,
	    size_t n, sje__job_row **rows);
	sje_err (*list_jobs)(sje__store *s, const sje__job_filter *f,
	    sje__job_row ***rows, size_t *n);
	sje_err (*add_parents)(
	    sje__store *s, const sje__parent_edge *edges, size_t n);
	sje_err (*scan_active)(sje__store *s, sje__store_job_fn fn, void *arg);
	sje_err (*put_attempt)(
	    sje__store *s, int64_t job_id, const sje__attempt_row *a);
	sje_err (*list_attempts)(
	    sje__store *s, int64_t job_id, sje__attempt_row **rows, size_t *n);
	sje_err (*list_attempts_of)(sje__store *s, const int64_t *job_ids,
	    size_t n, sje__attempt_row **rows, size_t *counts);
	sje_err (*next_event_seq)(sje__store *s, uint64_t *seq);
	sje_err (*last_event_seq)(sje__store *s, uint64_t *seq);
	sje_err (*add_event)(sje__store *s, uint64_t seq, const char *task_id,
	    const uint8_t *data, size_t len);
	sje_err (*list_events)(sje__store *s, uint64_t after,
	    const char *task_id, uint32_t limit, sje__store_event_fn fn,
	    void *arg);
	sje_err (*prune_events)(sje__store *s, uint64_t upto);
	sje_err (*purge_finished)(
	    sje__store *s, sje_time_ms before_ms, uint32_t limit, uint32_t *n);
	sje_err (*delete_job)(sje__store *s, const char *task_id);
	sje_err (*put_function)(sje__store *s, const sje__fn_row *row);
	sje_err (*list_functions)(
	    sje__store *s, sje__fn_row **rows, size_t *n);
	sje_err (*put_schedule)(sje__store *s, const sje__schedule_row *row);
	sje_err (*list_schedules)(
	    sje__store *s, sje__schedule_row **rows, size_t *n);
	sje_err (*get_cursor)(sje__store *s, const char *name, uint64_t *seq);
	sje_err (*put_cursor)(sje__store *s, const char *name, uint64_t seq);
};

// sje__store is a handle: the backend's table and its state. Backends
// allocate it; callers use only the dispatchers below.
struct sje__store {
	const sje__store_ops *ops;
	void                 *impl; // the backend's state
};

// sje__store_sqlite_opts says where and how the SQLite store lives.
typedef struct sje__store_sqlite_opts {
	const char *directory; // holds sje.db; created (mode 0700) if missing
	sje_sync_mode sync;    // NORMAL survives a crash, FULL a power cut
} sje__store_sqlite_opts;

// sje__store_open_sqlite opens or creates <o->directory>/sje.db (creating
// the directory), migrates the schema, and sets WAL and the sync mode.
// *out is written on SJE_OK; caller owns it (sje__store_close). Errors:
// SJE_EINVAL for an empty directory, SJE_EIO (with a logged reason),
// SJE_EPROTO when the file's schema is newer than this program.
sje_err sje__store_open_sqlite(
    const sje__store_sqlite_opts *o, sje__store **out);

// sje__store_open_sqlite_reader opens <directory>/sje.db, which must exist
// with the current schema, read-only (sje__store_open_reader's handle,
// by directory). SJE_EPROTO for another schema version, SJE_EIO when
// there is no such file.
sje_err sje__store_open_sqlite_reader(const char *directory, sje__store **out);

// sje__store_leader is the coordinator that holds a PostgreSQL database's
// active lock, as it recorded itself there: a name for people and where
// the other coordinators reach it. Strings borrowed; NULL when unknown.
typedef struct sje__store_leader {
	const char *name;       // "<host> pid <pid>"
	const char *rpc_url;    // its RPC door
	const char *events_url; // its event stream; "": off
} sje__store_leader;

// sje__store_postgres_opts says which PostgreSQL database holds the store.
typedef struct sje__store_postgres_opts {
	const char *dsn; // a libpq connection string or URI (may hold a
	                 // password: it is never logged)
	// standby is called while another coordinator holds the database,
	// or while the database does not answer yet (leader NULL), about
	// every STORE_PG_STANDBY_MS, with the leader as it recorded itself
	// (its fields NULL when it has not yet): it waits (the caller's own
	// way: the server waits for its signals) and says whether to go on
	// waiting. NULL: do not wait.
	bool (*standby)(void *arg, const sje__store_leader *leader);
	void *standby_arg;
	// What this coordinator records of itself once it holds the lock
	// (sje__store_leader); NULL: "".
	const char *name;
	const char *rpc_url;
	const char *events_url;
} sje__store_postgres_opts;

// How often, at most, a standby asks whether the database is free.
#define STORE_PG_STANDBY_MS 250

// sje__store_open_postgres connects to o->dsn (with o->standby set,
// waiting for a database that does not answer yet, trying again with a
// back-off) and becomes the database's one active coordinator: it takes the
// active lock (a session advisory lock, held by the writing connection, so
// that whatever this store writes is written while it holds it), waiting as a
// standby while another coordinator holds it; then it creates or migrates the
// schema (under another advisory lock), records itself as the leader (o's
// name and URLs, sje__store_leader) and prepares every statement. *out is
// written on SJE_OK; caller owns it. Errors: SJE_EINVAL for an empty dsn,
// SJE_EUNAVAIL when the database cannot be reached and o->standby is NULL
// (logged with libpq's reason), SJE_EEXIST when another coordinator holds it
// and o->standby is NULL, SJE_ECANCELED when o->standby said to stop waiting,
// SJE_EPROTO when its schema is newer than this program, SJE_EIO otherwise.
sje_err sje__store_open_postgres(
    const sje__store_postgres_opts *o, sje__store **out);

// sje__store_close closes the store cleanly (SQLite: checkpointing the
// WAL). An open transaction is rolled back. Accepts NULL.
static inline void
sje__store_close(sje__store *s)
{
	if (s != NULL) {
		s->ops->close(s);
	}
}

// sje__store_open_reader opens a second, read-only handle on the store of
// s, for another thread: it sees what s committed, never what is still in
// s's open transaction, and does not block s's writes. Only the reading
// verbs (get_*, list_*, scan_active, last_event_seq) may be used on it;
// writes fail. Caller owns *out (written on SJE_OK). SJE_EPROTO when the
// stored schema is not this program's; SJE_EUNIMPL where the backend has
// no readers (the memory store).
static inline sje_err
sje__store_open_reader(sje__store *s, sje__store **out)
{
	return s->ops->open_reader(s, out);
}

// sje__store_begin starts a write transaction (SQLite: BEGIN IMMEDIATE).
// SJE_EIO when one is open already.
static inline sje_err
sje__store_begin(sje__store *s)
{
	return s->ops->begin(s);
}

// sje__store_commit makes the transaction's writes durable (as the sync
// mode says); on failure it is rolled back. SJE_EIO with none open.
static inline sje_err
sje__store_commit(sje__store *s)
{
	return s->ops->commit(s);
}

// sje__store_rollback abandons the open transaction: every write since
// begin is undone, and the event seqs it took are given back. Safe to call
// with none open.
static inline void
sje__store_rollback(sje__store *s)
{
	s->ops->rollback(s);
}

// sje__store_insert_jobs inserts rows[0..n) (their ids are ignored) as new
// jobs, all or none: on SJE_OK ids[i] is the id of rows[i], ids rising in
// row order; on failure nothing of the call is kept and ids is untouched
// (the open transaction, if any, stays open with its earlier writes).
// SJE_EEXIST when a task_id exists already (not logged: an idempotent
// submit expects it), SJE_EINVAL when a row lacks task_id or function.
static inline sje_err
sje__store_insert_jobs(
    sje__store *s, const sje__job_row *rows, size_t n, int64_t *ids)
{
	return s->ops->insert_jobs(s, rows, n, ids);
}

// sje__store_insert_job is sje__store_insert_jobs of one row.
static inline sje_err
sje__store_insert_job(sje__store *s, const sje__job_row *row, int64_t *id)
{
	return s->ops->insert_jobs(s, row, 1, id);
}

// sje__store_claim_job leases job id: only if it is QUEUED, it becomes
// RUNNING with c's lease, attempt, worker and start time, its progress is
// cleared, and attempt c->attempt is recorded as RUNNING (as
// sje__store_put_attempt would). SJE_EPRECOND, changing nothing, when the
// job is in another state (already leased, say); SJE_ENOTFOUND when there
// is no such job; SJE_EINVAL for a lease_id of 0.
// Inside a transaction a backend whose statements are round trips
// (PostgreSQL) may keep claims and send them together, before the next
// statement that reads or writes jobs, or at the commit. A second claim of
// a job in the transaction is still SJE_EPRECOND at once; any other claim
// whose condition fails then fails that later call with SJE_EPRECOND (or
// SJE_ENOTFOUND) instead, and the whole transaction with it: nothing of it
// commits. (The scheduler claims only what its memory holds QUEUED, so for
// it a failed claim is a bug or another writer either way.)
static inline sje_err
sje__store_claim_job(sje__store *s, int64_t id, const sje__job_claim *c)
{
	return s->ops->claim_job(s, id, c);
}

// sje__store_update_job writes every mutable field of row (state, attempt,
// max_attempts, lease_id, lease_expires_ms, ready_at_ms, worker,
// result_json, error_type, error_message, progress, cancel_requested,
// started_ms, finished_ms) to the job with row->id, only if that job is
// in state expect->state (when it is 0: in any state but a terminal one)
// and, when expect->lease_id is not 0, holds that lease (its current or
// last lease_id): so a report or a finish counts only while the lease holds,
// a requeue or a move out of PENDING or SCHEDULED only from the state the
// caller saw. SJE_EPRECOND, changing nothing, when the condition fails;
// SJE_ENOTFOUND when there is no such job.
static inline sje_err
sje__store_update_job(
    sje__store *s, const sje__job_row *row, const sje__job_expect *expect)
{
	return s->ops->update_job(s, row, expect);
}

// sje__store_succeed_job ends job id SUCCEEDED with ok's result, without
// reading it first: only if it is RUNNING under ok->lease_id, it gets the
// result, no error, progress 100, finished_ms and no lease expiry (as
// sje__store_update_job would write them), and its current attempt (the
// number in its attempt column) is recorded SUCCEEDED at finished_ms,
// keeping its worker and start. SJE_EPRECOND, changing nothing, when the
// job is in another state or under another lease; SJE_ENOTFOUND when there
// is no such job; SJE_EINVAL for a lease_id of 0 or a NULL result.
// Inside a transaction a backend may keep successes as it keeps claims
// (sje__store_claim_job): a second success of a job in it is still
// SJE_EPRECOND at once; any other whose condition fails then fails a
// later call and the whole transaction with it.
static inline sje_err
sje__store_succeed_job(sje__store *s, int64_t id, const sje__job_success *ok)
{
	return s->ops->succeed_job(s, id, ok);
}

// sje__store_extend_lease sets the lease expiry of job id to expires_ms,
// only if it is RUNNING under lease_id. SJE_EPRECOND otherwise (the lease
// expired or moved), SJE_ENOTFOUND when there is no such job.
static inline sje_err
sje__store_extend_lease(
    sje__store *s, int64_t id, uint64_t lease_id, sje_time_ms expires_ms)
{
	return s->ops->extend_lease(s, id, lease_id, expires_ms);
}

// sje__store_get_job reads the job with task_id. On SJE_OK *out is a new
// row (caller frees it); SJE_ENOTFOUND when there is none (also for a
// NULL task_id).
static inline sje_err
sje__store_get_job(sje__store *s, const char *task_id, sje__job_row **out)
{
	return s->ops->get_job(s, task_id, out);
}

// sje__store_find_jobs tells, for each of task_ids[0..n), whether a job
// with it is stored: found[i]. One look-up for them all (one statement in
// PostgreSQL, where each is a round trip). A NULL task_id is not found.
static inline sje_err
sje__store_find_jobs(
    sje__store *s, const char *const *task_ids, size_t n, bool *found)
{
	return s->ops->find_jobs(s, task_ids, n, found);
}

// sje__store_get_jobs reads the jobs with task_ids[0..n): rows[i] is a
// new row (caller frees each) or NULL when there is none (or task_ids[i]
// is NULL). One statement in PostgreSQL. On failure every rows[i] is NULL.
static inline sje_err
sje__store_get_jobs(
    sje__store *s, const char *const *task_ids, size_t n, sje__job_row **rows)
{
	return s->ops->get_jobs(s, task_ids, n, rows);
}

// sje__store_get_job_by_id is sje__store_get_job by id.
static inline sje_err
sje__store_get_job_by_id(sje__store *s, int64_t id, sje__job_row **out)
{
	return s->ops->get_job_by_id(s, id, out);
}

// sje__store_get_result reads the result of the job with task_id: on
// SJE_OK *out is a new string, or NULL when the job has none; SJE_ENOTFOUND
// (with *out NULL) when there is no such job.
static inline sje_err
sje__store_get_result(sje__store *s, const char *task_id, char **out)
{
	return s->ops->get_result(s, task_id, out);
}

// sje__store_list_by_label is sje__store_list_jobs with f->label_key set
// (store.c): it pages through what the backend matches of the rest of f,
// newest first, and keeps the jobs whose spec has the label, reading at
// most f->max_scan rows.
sje_err sje__store_list_by_label(
    sje__store *s, const sje__job_filter *f, sje__job_row ***rows, size_t *n);

// sje__store_list_jobs returns up to f->limit jobs matching f, newest
// (highest id) first, into a new array *rows of *n rows (caller frees each
// row and the array; NULL when *n is 0). With a label, fewer than limit
// jobs may come back while more match below: *f->resume_id says where to
// go on; with a prefix too, where the backend bounds its reads. Backends
// implement every field but the label (their list_jobs never sees
// label_key set, and writes resume_id only for a prefix).
static inline sje_err
sje__store_list_jobs(
    sje__store *s, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	if (f->label_key != NULL && f->label_key[0] != '\0') {
		return sje__store_list_by_label(s, f, rows, n);
	}
	if (f->resume_id != NULL) {
		*f->resume_id = 0;
	}
	return s->ops->list_jobs(s, f, rows, n);
}

// sje__store_add_parents records edges[0..n): that job child_id (just
// inserted) named parent (a task_id, borrowed) in its depends_on, so that
// sje__job_filter.parent finds it; a batch's edges in one call (one
// statement per few hundred in PostgreSQL). The record goes with the
// child: it is deleted with it (delete_job, purge_finished), not with a
// parent (the child still names it; a job stored later under that
// task_id is the one its name points to). An edge given twice is kept
// once. SJE_EINVAL, recording nothing, for a NULL or empty parent; on
// another failure some edges may be recorded (the caller's transaction
// undoes them).
static inline sje_err
sje__store_add_parents(sje__store *s, const sje__parent_edge *edges, size_t n)
{
	return s->ops->add_parents(s, edges, n);
}

// sje__store_prefix_upper writes to *upper (a new string, caller frees
// it) the least string above every string that starts with prefix, in
// byte order (which, for UTF-8, is code point order): then s starts with
// prefix exactly when prefix <= s < *upper. It is prefix with its last
// code point raised by one (trailing U+10FFFF dropped first); a prefix
// of U+10FFFF alone is followed by more of them than a task_id
// (SJE_MAX_ID_BYTES) can hold. prefix must be valid UTF-8 (else
// SJE_EINVAL). SJE_ENOMEM when out of memory.
sje_err sje__store_prefix_upper(const char *prefix, char **upper);

// sje__store_scan_active calls fn for every job not in a terminal state,
// in id order, with a row borrowed for the call. Stops and returns fn's
// error when fn returns non-OK. fn must not write to the store. Used to
// rebuild the queues at start.
static inline sje_err
sje__store_scan_active(sje__store *s, sje__store_job_fn fn, void *arg)
{
	return s->ops->scan_active(s, fn, arg);
}

// sje__store_put_attempt writes attempt a of job job_id, replacing the one
// with the same number.
static inline sje_err
sje__store_put_attempt(
    sje__store *s, int64_t job_id, const sje__attempt_row *a)
{
	return s->ops->put_attempt(s, job_id, a);
}

// sje__store_list_attempts reads the attempts of job_id, oldest first, into
// a new array *rows of *n (free with sje__attempt_rows_free).
static inline sje_err
sje__store_list_attempts(
    sje__store *s, int64_t job_id, sje__attempt_row **rows, size_t *n)
{
	return s->ops->list_attempts(s, job_id, rows, n);
}

// sje__store_list_attempts_of reads the attempts of the jobs job_ids[0..n)
// into one new array *rows: job_ids[0]'s by number, then job_ids[1]'s,
// and so on (an id asked twice, twice); counts[i] is how many are
// job_ids[i]'s. Free with sje__attempt_rows_free(*rows, the sum of
// counts); *rows is NULL when there are none. One statement in
// PostgreSQL.
static inline sje_err
sje__store_list_attempts_of(sje__store *s, const int64_t *job_ids, size_t n,
    sje__attempt_row **rows, size_t *counts)
{
	return s->ops->list_attempts_of(s, job_ids, n, rows, counts);
}

// sje__store_get_jobs_each and sje__store_list_attempts_of_each are
// sje__store_get_jobs and sje__store_list_attempts_of made of the
// one-job verbs, for backends whose statements cost no round trip.
sje_err sje__store_get_jobs_each(
    sje__store *s, const char *const *task_ids, size_t n, sje__job_row **rows);
sje_err sje__store_list_attempts_of_each(sje__store *s, const int64_t *job_ids,
    size_t n, sje__attempt_row **rows, size_t *counts);

// sje__store_next_event_seq takes the next event sequence number (one
// above the last taken, across restarts; the first is 1) and writes it to
// *seq; the caller then keeps the event under it (sje__store_add_event) in
// the same transaction. Two steps, because an event's packed bytes carry
// their seq. A rollback gives the numbers back.
static inline sje_err
sje__store_next_event_seq(sje__store *s, uint64_t *seq)
{
	return s->ops->next_event_seq(s, seq);
}

// sje__store_last_event_seq writes the last event seq taken to *seq (0:
// none yet). On a reader, the last one committed.
static inline sje_err
sje__store_last_event_seq(sje__store *s, uint64_t *seq)
{
	return s->ops->last_event_seq(s, seq);
}

// sje__store_add_event keeps event seq (a packed sje.v1.JobEvent of len
// bytes) for catch-up readers. seq must come from
// sje__store_next_event_seq; SJE_EEXIST when an event has it already.
static inline sje_err
sje__store_add_event(sje__store *s, uint64_t seq, const char *task_id,
    const uint8_t *data, size_t len)
{
	return s->ops->add_event(s, seq, task_id, data, len);
}

// sje__store_list_events calls fn for up to limit kept events with
// seq > after (only task_id's when it is not NULL or ""), in seq order,
// with the packed event borrowed for the call. Stops at fn's first error
// and returns it.
static inline sje_err
sje__store_list_events(sje__store *s, uint64_t after, const char *task_id,
    uint32_t limit, sje__store_event_fn fn, void *arg)
{
	return s->ops->list_events(s, after, task_id, limit, fn, arg);
}

// sje__store_prune_events forgets the events with seq <= upto. The seq
// counter is kept: seqs are never reused.
static inline sje_err
sje__store_prune_events(sje__store *s, uint64_t upto)
{
	return s->ops->prune_events(s, upto);
}

// sje__store_purge_finished deletes up to limit finished jobs (and their
// attempts) that finished before before_ms, oldest first, and writes how
// many to *n. Unfinished jobs are kept whatever their times.
static inline sje_err
sje__store_purge_finished(
    sje__store *s, sje_time_ms before_ms, uint32_t limit, uint32_t *n)
{
	return s->ops->purge_finished(s, before_ms, limit, n);
}

// sje__store_delete_job deletes the finished job with task_id, with its
// attempts (its kept events stay, until pruned). SJE_EPRECOND, changing
// nothing, when it has not finished; SJE_ENOTFOUND when there is no such
// job (also for a NULL task_id).
static inline sje_err
sje__store_delete_job(sje__store *s, const char *task_id)
{
	return s->ops->delete_job(s, task_id);
}

// sje__store_put_function keeps row as the settings of function row->name,
// replacing those it had. SJE_EINVAL for a NULL or empty name.
static inline sje_err
sje__store_put_function(sje__store *s, const sje__fn_row *row)
{
	return s->ops->put_function(s, row);
}

// sje__store_list_functions reads every function's kept settings, by
// name, into a new array *rows of *n (free with sje__fn_rows_free; NULL
// when *n is 0).
static inline sje_err
sje__store_list_functions(sje__store *s, sje__fn_row **rows, size_t *n)
{
	return s->ops->list_functions(s, rows, n);
}

// sje__store_put_schedule keeps row as where schedule row->name stands,
// replacing what was kept. SJE_EINVAL for a NULL or empty name.
static inline sje_err
sje__store_put_schedule(sje__store *s, const sje__schedule_row *row)
{
	return s->ops->put_schedule(s, row);
}

// sje__store_list_schedules reads every schedule's row, by name, into a
// new array *rows of *n (free with sje__schedule_rows_free; NULL when *n
// is 0).
static inline sje_err
sje__store_list_schedules(sje__store *s, sje__schedule_row **rows, size_t *n)
{
	return s->ops->list_schedules(s, rows, n);
}

// sje__schedule_rows_free frees rows[0..n) and the array. Accepts NULL.
void sje__schedule_rows_free(sje__schedule_row *rows, size_t n);

// sje__store_get_cursor reads how far the reader name (the hooks:
// "hooks") got in the events: *seq on SJE_OK; SJE_ENOTFOUND when none is
// kept yet; SJE_EUNIMPL when the backend keeps no cursors (SQLite, memory:
// one coordinator per store, whose own file serves). A backend shared by
// several coordinators keeps them, so that whichever leads goes on where
// the last one stopped. Also on a reader handle.
static inline sje_err
sje__store_get_cursor(sje__store *s, const char *name, uint64_t *seq)
{
	return s->ops->get_cursor(s, name, seq);
}

// sje__store_put_cursor records seq as reader name's cursor, committed at
// once: the one write a reader handle may make (it is the hooks'). Outside
// a transaction only. SJE_EUNIMPL as sje__store_get_cursor.
static inline sje_err
sje__store_put_cursor(sje__store *s, const char *name, uint64_t seq)
{
	return s->ops->put_cursor(s, name, seq);
}

// sje__fn_rows_free frees rows[0..n) and the array. Accepts NULL.
void sje__fn_rows_free(sje__fn_row *rows, size_t n);

// sje__job_row_free frees row and everything it owns. Accepts NULL.
void sje__job_row_free(sje__job_row *row);

// sje__job_row_fini frees what row owns and zeroes it (row itself is the
// caller's). Accepts NULL.
void sje__job_row_fini(sje__job_row *row);

// sje__job_row_copy makes *dst (zeroed by the caller) a deep copy of src.
// SJE_ENOMEM leaves dst empty. For backends that keep rows in memory.
sje_err sje__job_row_copy(sje__job_row *dst, const sje__job_row *src);

// sje__attempt_rows_free frees rows[0..n) and the array. Accepts NULL.
void sje__attempt_rows_free(sje__attempt_row *rows, size_t n);

#endif // SJE_SERVER_STORE_H
