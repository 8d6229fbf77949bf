// store.h — the durable job store: the one narrow interface between the
// scheduler and the database. No SQL lives outside store.c, so that another
// backend (PostgreSQL, planned) can sit behind the same functions.
//
// The store is one SQLite file, <data_dir>/sje.db, in WAL mode. Writes are
// grouped by the caller: sje__store_begin, any number of writes,
// sje__store_commit. A job's row holds its spec exactly as submitted (the
// packed sje.v1.JobSpec, task_id filled in) plus the fields that change as
// it runs.
//
// Schema versioning: the schema version is kept in PRAGMA user_version.
// To change the schema, bump SJE_STORE_SCHEMA_VERSION and add a migration
// step from the previous version in store.c (store_migrate); never edit a
// released step.
//
// Not thread-safe: a store belongs to one thread at a time. The
// scheduler's is read and written; the hook thread reads through one of
// its own (sje__store_open_reader).
#ifndef SJE_SERVER_STORE_H
#define SJE_SERVER_STORE_H

#include <sje/config.h>
#include <sje/sje.h>

#define SJE_STORE_SCHEMA_VERSION 4

typedef struct sje__store sje__store;

// sje__job_row is one job as stored. Strings are owned by the row (NULL
// where the column is NULL); sje__job_row_free frees it all.
typedef struct sje__job_row {
	int64_t     id; // rowid; also the submit order (oldest = least)
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
} sje__job_row;

// sje__job_filter selects jobs for sje__store_list_jobs.
typedef struct sje__job_filter {
	int         state;       // 0: any
	const char *function;    // NULL or "": any
	uint32_t    limit;       // rows at most (the caller bounds it)
	int64_t     before_id;   // 0: from the newest; else only ids below it
	const char *workflow_id; // NULL or "": any; else that run's steps
} sje__job_filter;

// sje__store_open opens or creates <data_dir>/sje.db (creating data_dir),
// migrates the schema, and sets WAL and the sync mode. *out is written on
// SJE_OK; caller owns it. Errors: SJE_EIO (with a logged reason),
// SJE_EPROTO when the file's schema is newer than this program.
sje_err sje__store_open(
    const char *data_dir, sje_sync_mode sync, sje__store **out);

// sje__store_open_reader opens <data_dir>/sje.db, which must exist with
// the current schema, read-only: a second connection for another thread
// (WAL lets it read while the scheduler writes). Only the reading
// functions may be used on it. SJE_EPROTO for another schema version.
sje_err sje__store_open_reader(const char *data_dir, sje__store **out);

// sje__store_close closes the database cleanly (checkpointing the WAL).
// Accepts NULL.
void sje__store_close(sje__store *s);

// sje__store_begin starts a write transaction (BEGIN IMMEDIATE).
sje_err sje__store_begin(sje__store *s);
// sje__store_commit commits it; on failure the transaction is rolled back.
sje_err sje__store_commit(sje__store *s);
// sje__store_rollback abandons it. Safe to call with none open.
void sje__store_rollback(sje__store *s);

// sje__store_insert_job inserts row (its id is ignored) and writes the new
// rowid to *id. SJE_EEXIST when task_id exists already.
sje_err sje__store_insert_job(
    sje__store *s, const sje__job_row *row, int64_t *id);

// sje__store_update_job writes every mutable field of row (state, attempt,
// max_attempts, lease_id, lease_expires_ms, ready_at_ms, worker,
// result_json, error_type, error_message, progress, cancel_requested,
// started_ms, finished_ms) to the row with row->id. SJE_ENOTFOUND when
// there is none.
sje_err sje__store_update_job(sje__store *s, const sje__job_row *row);

// sje__store_get_job reads the job with task_id. On SJE_OK *out is a new
// row (caller frees it); SJE_ENOTFOUND when there is none.
sje_err sje__store_get_job(
    sje__store *s, const char *task_id, sje__job_row **out);

// sje__store_get_result reads the result of the job with task_id: on
// SJE_OK *out is a new string, or NULL when the job has none; SJE_ENOTFOUND
// when there is no such job.
sje_err sje__store_get_result(sje__store *s, const char *task_id, char **out);

// sje__store_get_job_by_id is sje__store_get_job by rowid.
sje_err sje__store_get_job_by_id(
    sje__store *s, int64_t id, sje__job_row **out);

// sje__store_list_jobs returns up to f->limit jobs matching f, newest
// (highest id) first, into a new array *rows of *n rows (caller frees each
// row and the array).
sje_err sje__store_list_jobs(
    sje__store *s, const sje__job_filter *f, sje__job_row ***rows, size_t *n);

// sje__store_scan_active calls fn for every job not in a terminal state,
// in id order, with a row borrowed for the call. Stops and returns fn's
// error when fn returns non-OK. Used to rebuild the queues at start.
sje_err sje__store_scan_active(sje__store *s,
    sje_err (*fn)(void *arg, const sje__job_row *row), void *arg);

// sje__store_meta_get reads a 64-bit counter kept under key (0 when unset).
sje_err sje__store_meta_get(sje__store *s, const char *key, uint64_t *value);
// sje__store_meta_set writes it (inside the current transaction, if any).
sje_err sje__store_meta_set(sje__store *s, const char *key, uint64_t value);

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

// sje__store_put_attempt writes attempt a of job job_id, replacing the one
// with the same number. Inside the caller's transaction.
sje_err sje__store_put_attempt(
    sje__store *s, int64_t job_id, const sje__attempt_row *a);

// sje__store_list_attempts reads the attempts of job_id, oldest first, into
// a new array *rows of *n (free with sje__attempt_rows_free).
sje_err sje__store_list_attempts(
    sje__store *s, int64_t job_id, sje__attempt_row **rows, size_t *n);

// sje__attempt_rows_free frees rows[0..n) and the array. Accepts NULL.
void sje__attempt_rows_free(sje__attempt_row *rows, size_t n);

// sje__store_add_event keeps event seq (a packed sje.v1.JobEvent of len
// bytes) for catch-up readers. Inside the caller's transaction.
sje_err sje__store_add_event(sje__store *s, uint64_t seq, const char *task_id,
    const uint8_t *data, size_t len);

// sje__store_list_events calls fn for up to limit kept events with
// seq > after (only task_id's when it is not NULL or ""), in seq order,
// with the packed event borrowed for the call. Stops at fn's first error.
sje_err sje__store_list_events(sje__store *s, uint64_t after,
    const char *task_id, uint32_t limit,
    sje_err (*fn)(void *arg, uint64_t seq, const uint8_t *data, size_t len),
    void *arg);

// sje__store_prune_events forgets the events with seq <= upto.
sje_err sje__store_prune_events(sje__store *s, uint64_t upto);

// sje__store_purge_finished deletes up to limit finished jobs (and their
// attempts) that finished before before_ms, oldest first, and writes how
// many to *n. Inside the caller's transaction.
sje_err sje__store_purge_finished(
    sje__store *s, sje_time_ms before_ms, uint32_t limit, uint32_t *n);

// sje__job_row_free frees row and everything it owns. Accepts NULL.
void sje__job_row_free(sje__job_row *row);

#endif // SJE_SERVER_STORE_H
