// postgres.c — the PostgreSQL backend of the job store (store.h's
// operations table), through libpq: server.store: postgres.
//
// One connection, owned by the scheduler thread (the store is not
// thread-safe, see store.h); readers (sje__store_open_reader) are
// connections of their own, with default_transaction_read_only set.
// Every statement is prepared once, at open, from the table pg_sql[]
// (indexed by enum pg_stmt) with its parameter types, and run with binary
// parameters and binary results: integers travel as 8 big-endian bytes,
// blobs as they are, so nothing is quoted or escaped and no value is ever
// part of SQL text.
//
// Durability is the database's: a commit returns once PostgreSQL says
// COMMIT, which with its default synchronous_commit = on means the WAL is
// flushed (and, with synchronous standbys configured, replicated).
// server.sync applies to SQLite only.
//
// Conditional verbs are one statement each: the UPDATE in a CTE, and
// beside it whether the job exists, read in the same snapshot, so that a
// missing job (SJE_ENOTFOUND) is told from a failed condition
// (SJE_EPRECOND) in one round trip. A claim writes its attempt in the same
// statement.
//
// A failed statement aborts a PostgreSQL transaction, so the verbs whose
// failure the caller expects and survives never fail a statement: an
// insert of an existing task_id is INSERT ... ON CONFLICT DO NOTHING (no
// row back: SJE_EEXIST, and the rows of the call that did go in are
// deleted again), an event under a seq already kept likewise.
//
// One active coordinator (the leader) per database: the writing connection
// holds a session advisory lock (PG_ACTIVE_LOCK) from open to close, and
// records in sje_leader where the others reach it. Another coordinator on
// the same database waits in open (o->standby: the server hands its calls
// on to the leader meanwhile, door/leader.h), trying the lock every
// STORE_PG_STANDBY_MS, and takes over when the first one's session
// ends (a clean stop unlocks at once; a coordinator killed or cut off ends
// when PostgreSQL notices its connection is gone). Since the lock and the
// writes share one connection, a coordinator whose lock is gone can write
// nothing more: its next statement fails on the dead connection.
//
// Writes kept for the commit: inside a transaction, events and attempt
// records (the claim's included) are not sent one statement each but kept
// in memory and sent at commit as one multi-row INSERT each (a round trip
// is what a statement costs here). A read that must see them (events,
// attempts listed; events pruned; jobs purged) sends them first; a job
// deleted drops its own attempt records; a rollback drops them all. An
// event's seq is checked when it is kept: one at or below the counter
// the transaction locked, or kept already, is SJE_EEXIST as at once.
//
// Event seqs: as in SQLite, one counter, the meta row 'event_seq', saved
// at commit. The first seq a transaction takes reads that row FOR UPDATE:
// the row lock orders the transactions that write events by their commit,
// so events are numbered in commit order even when several coordinators
// write (a reader following seqs never skips one that commits later).
// Seqs then come from memory until commit, which writes the row back.
//
// Schema: the meta row 'schema_version' holds its version; open creates
// and migrates the tables under an advisory lock, so that coordinators
// starting together migrate once. Tables are named sje_* so that they can
// share a database with others. To change the schema: append a step to
// pg_migrations, bump SJE_STORE_PG_SCHEMA_VERSION, never edit a released
// step.
//
// Schema version 1 (the columns are SQLite's, see sqlite.c):
//   sje_jobs: one row per job; id from its identity (the submit order);
//     integers as bigint, cancel_requested as boolean.
//   sje_jobs_active (partial, non-terminal, by id), sje_jobs_state
//     (state, id), sje_jobs_function (function, id), sje_jobs_finished
//     (partial, terminal, by finished_ms), sje_jobs_workflow (partial).
//   sje_attempts (job_id, number), sje_events (seq; and task_id, seq),
//   sje_meta (key, value): 'schema_version', 'event_seq'; later also
//     'cursor:<name>' (sje__store_put_cursor: the hooks').
// Schema version 2 adds:
//   sje_functions (name): what operators set on a function at run time
//     (sje__fn_row), paused as boolean.
// Schema version 3 adds:
//   sje_schedules (name): where each schedule stands (sje__schedule_row).
// Schema version 4 adds:
//   sje_leader (one row): the coordinator holding the active lock, its
//     name and the URLs where the others reach it (sje__store_leader).
// Schema version 5 adds:
//   sje_parents (parent_task_id, child_id; and child_id): a job's
//     children by the parents it named (sje__store_add_parents);
//   sje_jobs.run_first (boolean) and sje_jobs_runs (partial, by id): the
//     first step of each workflow run;
//   sje_jobs_task_c (task_id COLLATE "C"): task_id prefixes as byte
//     ranges, whatever the database's collation (the UNIQUE index
//     follows it, and only "C" orders as bytes).
// Schema version 6 sets autovacuum on sje_jobs, sje_attempts and
//   sje_events by dead rows (PG_VACUUM_ROWS), not by a share of the live.
#include <sje/sje.h>

#include "store/store.h"

#include "store/columns.h"

#include "log.h"
#include "sje/v1/job.pb-c.h"
#include "util.h"

#include <libpq-fe.h>

#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The advisory lock key under which the schema is created and migrated:
// 0x534a4501, "SJE" and 1.
#define PG_MIGRATE_LOCK "1397376257"
// The active coordinator's lock: 0x534a4502.
#define PG_ACTIVE_LOCK "1397376258"

// Rows of one multi-row INSERT (23 parameters each).
#define PG_INSERT_CHUNK 200

_Static_assert(SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED == 5 &&
        SJE__V1__JOB_STATE__JOB_STATE_QUEUED == 3 &&
        SJE__V1__JOB_STATE__JOB_STATE_RUNNING == 4,
    "the statements know QUEUED as 3, RUNNING as 4, terminal from 5");

// Dead rows of a queue table that start its autovacuum (migration 6).
#define PG_VACUUM_ROWS "10000"

// pg_migrations[v] takes the schema from version v to v + 1; each step
// runs inside the migration's transaction.
static const char *const pg_migrations[SJE_STORE_PG_SCHEMA_VERSION] = {
	// 0 -> 1: the first schema.
	"CREATE TABLE sje_jobs ("
	"  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  task_id          text NOT NULL UNIQUE,"
	"  function         text NOT NULL,"
	"  spec             bytea NOT NULL,"
	"  state            bigint NOT NULL,"
	"  priority         bigint NOT NULL DEFAULT 0,"
	"  attempt          bigint NOT NULL DEFAULT 0,"
	"  max_attempts     bigint NOT NULL DEFAULT 0,"
	"  timeout_s        bigint NOT NULL DEFAULT 0,"
	"  lease_id         bigint NOT NULL DEFAULT 0,"
	"  lease_expires_ms bigint NOT NULL DEFAULT 0,"
	"  ready_at_ms      bigint NOT NULL DEFAULT 0,"
	"  worker           text,"
	"  result_json      text,"
	"  error_type       text,"
	"  error_message    text,"
	"  progress_pct     double precision NOT NULL DEFAULT 0,"
	"  progress_msg     text,"
	"  cancel_requested boolean NOT NULL DEFAULT false,"
	"  created_ms       bigint NOT NULL DEFAULT 0,"
	"  started_ms       bigint NOT NULL DEFAULT 0,"
	"  finished_ms      bigint NOT NULL DEFAULT 0,"
	"  workflow_id      text"
	");"
	"CREATE INDEX sje_jobs_active ON sje_jobs (id) WHERE state < 5;"
	"CREATE INDEX sje_jobs_state ON sje_jobs (state, id);"
	"CREATE INDEX sje_jobs_function ON sje_jobs (function, id);"
	"CREATE INDEX sje_jobs_finished ON sje_jobs (finished_ms)"
	"  WHERE state >= 5;"
	"CREATE INDEX sje_jobs_workflow ON sje_jobs (workflow_id, id)"
	"  WHERE workflow_id IS NOT NULL;"
	"CREATE TABLE sje_attempts ("
	"  job_id        bigint NOT NULL,"
	"  number        bigint NOT NULL,"
	"  worker        text,"
	"  started_ms    bigint NOT NULL DEFAULT 0,"
	"  finished_ms   bigint NOT NULL DEFAULT 0,"
	"  outcome       bigint NOT NULL,"
	"  error_type    text,"
	"  error_message text,"
	"  PRIMARY KEY (job_id, number)"
	");"
	"CREATE TABLE sje_events ("
	"  seq     bigint PRIMARY KEY,"
	"  task_id text NOT NULL,"
	"  data    bytea NOT NULL"
	");"
	"CREATE INDEX sje_events_task ON sje_events (task_id, seq);"
	"INSERT INTO sje_meta (key, value) VALUES ('event_seq', 0);",
	// 1 -> 2: what operators set on functions at run time (pause,
	// limits), kept across restarts.
	"CREATE TABLE sje_functions ("
	"  name        text PRIMARY KEY,"
	"  paused      boolean NOT NULL DEFAULT false,"
	"  concurrency bigint NOT NULL DEFAULT -1,"
	"  rate        text,"
	"  updated_ms  bigint NOT NULL DEFAULT 0"
	");",
	// 2 -> 3: where each schedule stands (its last tick fired).
	"CREATE TABLE sje_schedules ("
	"  name         text PRIMARY KEY,"
	"  last_tick_ms bigint NOT NULL DEFAULT 0,"
	"  last_task_id text"
	");",
	// 3 -> 4: who leads the coordinators on this database, and where
	// the others reach it.
	"CREATE TABLE sje_leader ("
	"  id         int PRIMARY KEY CHECK (id = 1),"
	"  name       text NOT NULL,"
	"  rpc_url    text NOT NULL,"
	"  events_url text NOT NULL,"
	"  since_ms   bigint NOT NULL"
	");",
	// 4 -> 5: a job's children, the first step of each workflow run,
	// and task_id in byte order.
	"CREATE TABLE sje_parents ("
	"  parent_task_id text NOT NULL,"
	"  child_id       bigint NOT NULL,"
	"  PRIMARY KEY (parent_task_id, child_id)"
	");"
	"CREATE INDEX sje_parents_child ON sje_parents (child_id);"
	"ALTER TABLE sje_jobs ADD COLUMN run_first boolean NOT NULL "
	"  DEFAULT false;"
	"UPDATE sje_jobs SET run_first = true WHERE id IN (SELECT min(id) "
	"  FROM sje_jobs WHERE workflow_id IS NOT NULL GROUP BY workflow_id);"
	"CREATE INDEX sje_jobs_runs ON sje_jobs (id) WHERE run_first;"
	"CREATE INDEX sje_jobs_task_c ON sje_jobs (task_id COLLATE \"C\");",
	// 5 -> 6: the queue's tables are vacuumed by a count of dead rows,
	// not by a fifth of the live ones (PostgreSQL's default): every job
	// leaves dead row versions behind (its claim, its end, its purge),
	// and with results kept for days the live rows are many, so a
	// fifth of them is a great deal of bloat. Full speed, no cost
	// delay: the rows are small and the work is steady.
	"ALTER TABLE sje_jobs SET (autovacuum_vacuum_scale_factor = 0,"
	"  autovacuum_vacuum_threshold = " PG_VACUUM_ROWS ","
	"  autovacuum_analyze_scale_factor = 0,"
	"  autovacuum_analyze_threshold = " PG_VACUUM_ROWS ","
	"  autovacuum_vacuum_cost_delay = 0);"
	"ALTER TABLE sje_attempts SET (autovacuum_vacuum_scale_factor = 0,"
	"  autovacuum_vacuum_threshold = " PG_VACUUM_ROWS ","
	"  autovacuum_vacuum_cost_delay = 0);"
	"ALTER TABLE sje_events SET (autovacuum_vacuum_scale_factor = 0,"
	"  autovacuum_vacuum_threshold = " PG_VACUUM_ROWS ","
	"  autovacuum_vacuum_insert_scale_factor = 0,"
	"  autovacuum_vacuum_insert_threshold = " PG_VACUUM_ROWS ","
	"  autovacuum_vacuum_cost_delay = 0);",
};

enum pg_stmt {
	PS_INSERT,
	PS_UPDATE,
	PS_CLAIM,
	PS_EXTEND,
	PS_SUCCEED,
	PS_GET,
	PS_GET_BY_ID,
	PS_GET_RESULT,
	PS_LIST_ALL,
	PS_LIST_STATE,
	PS_LIST_FUNCTION,
	PS_LIST_STATE_FUNCTION,
	PS_LIST_WORKFLOW,
	PS_LIST_PREFIX,
	PS_LIST_PARENT,
	PS_LIST_RUNS,
	PS_ADD_PARENT,
	PS_SCAN_ACTIVE,
	PS_SEQ_READ,
	PS_SEQ_LOCK,
	PS_SEQ_NEXT,
	PS_PUT_ATTEMPT,
	PS_LIST_ATTEMPTS,
	PS_ADD_EVENT,
	PS_LIST_EVENTS,
	PS_LIST_EVENTS_TASK,
	PS_PRUNE_EVENTS,
	PS_PURGE,
	PS_DELETE_IDS,
	PS_CLAIM_ONLY,
	PS_DELETE_JOB,
	PS_PUT_FUNCTION,
	PS_LIST_FUNCTIONS,
	PS_PUT_SCHEDULE,
	PS_LIST_SCHEDULES,
	PS_FIND_MANY,
	PS_GET_MANY,
	PS_ATTEMPTS_OF,
	PS_COUNT,
};

// The columns that an insert and an update both write, in ST_UPDATE's
// order, and their parameter types (pg_stmt_def.types).
#define PG_MUTABLE_COLS                                                 \
	"state, attempt, max_attempts, lease_id, lease_expires_ms, "    \
	"ready_at_ms, worker, result_json, error_type, error_message, " \
	"progress_pct, progress_msg, cancel_requested, started_ms, "    \
	"finished_ms"
#define PG_MUTABLE_TYPES "iiiiiittttdtoii"
// The columns only an insert writes, after those.
#define PG_INSERT_COLS                                   \
	"task_id, function, spec, priority, timeout_s, " \
	"created_ms, workflow_id, run_first"
#define PG_INSERT_TYPES PG_MUTABLE_TYPES "ttbiiito"
#define PG_INSERT_NPARAMS 23

// The conditional verbs' answer: how many rows the CTE u changed, and
// whether job $1 exists.
#define PG_CHANGED_OR_WHY                    \
	" SELECT (SELECT count(*) FROM u), " \
	"EXISTS (SELECT 1 FROM sje_jobs WHERE id = $1)"

// PG_LIST_MORE_TYPES are the types of the parameters of the lists' WHERE
// that no index serves: the worker, then the created_ms range.
#define PG_LIST_MORE_TYPES "tii"

// PG_LIST_REST is the WHERE of every filter, for the lists of a prefix,
// a parent or the runs (PS_LIST_PREFIX...), and PG_LIST_REST_TYPES the
// types of their parameters.
#define PG_LIST_REST                                                    \
	"AND ($3 = 0 OR state = $3) AND ($4 IS NULL OR function = $4) " \
	"AND ($5 IS NULL OR workflow_id = $5) "                         \
	"AND ($6 IS NULL OR worker = $6) "                              \
	"AND ($7 = 0 OR created_ms >= $7) "                             \
	"AND ($8 = 0 OR created_ms < $8) "                              \
	"AND ($9 IS NULL OR (task_id COLLATE \"C\" >= $9 "              \
	"AND task_id COLLATE \"C\" < $10)) "                            \
	"AND (NOT $12 OR run_first) "
#define PG_LIST_REST_TYPES "iiitttiittto"

// pg_stmt_def is one prepared statement: its SQL and the types of its
// parameters, a letter each: i bigint, t text, b bytea, d double
// precision, o boolean.
typedef struct pg_stmt_def {
	const char *sql;
	const char *types;
} pg_stmt_def;

static const pg_stmt_def pg_sql[PS_COUNT] = {
	// One row; the multi-row form is built by pg_insert_sql.
	[PS_INSERT] = { "INSERT INTO sje_jobs (" PG_MUTABLE_COLS
	                ", " PG_INSERT_COLS ") VALUES ($1, $2, $3, $4, $5, "
	                "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
	                "$17, $18, $19, $20, $21, $22, $23) "
	                "ON CONFLICT (task_id) DO NOTHING RETURNING id",
	    PG_INSERT_TYPES },
	[PS_UPDATE] = { "WITH u AS (UPDATE sje_jobs SET state = $2, "
	                "attempt = $3, max_attempts = $4, lease_id = $5, "
	                "lease_expires_ms = $6, ready_at_ms = $7, "
	                "worker = $8, result_json = $9, error_type = $10, "
	                "error_message = $11, progress_pct = $12, "
	                "progress_msg = $13, cancel_requested = $14, "
	                "started_ms = $15, finished_ms = $16 "
	                "WHERE id = $1 AND (state = $17 OR ($17 = 0 AND "
	                "state < 5)) AND ($18 = 0 OR lease_id = $18) "
	                "RETURNING 1)" PG_CHANGED_OR_WHY,
	    "i" PG_MUTABLE_TYPES "ii" },
	[PS_CLAIM]  = { "WITH u AS (UPDATE sje_jobs SET state = 4, "
	                 "attempt = $2, lease_id = $3, lease_expires_ms = $4, "
	                 "worker = $5, started_ms = $6, progress_pct = 0, "
	                 "progress_msg = NULL WHERE id = $1 AND state = 3 "
	                 "RETURNING id), "
	                 "a AS (INSERT INTO sje_attempts (job_id, number, "
	                 "worker, started_ms, finished_ms, outcome) "
	                 "SELECT id, $2, $5, $6, 0, 4 FROM u "
	                 "ON CONFLICT (job_id, number) DO UPDATE SET "
	                 "worker = excluded.worker, "
	                 "started_ms = excluded.started_ms, finished_ms = 0, "
	                 "outcome = 4, error_type = NULL, "
	                 "error_message = NULL)" PG_CHANGED_OR_WHY,
	     "iiiiti" },
	[PS_EXTEND] = { "WITH u AS (UPDATE sje_jobs SET lease_expires_ms = $3 "
	                "WHERE id = $1 AND state = 4 AND lease_id = $2 "
	                "RETURNING 1)" PG_CHANGED_OR_WHY,
	    "iii" },
	// The job and its current attempt in one statement.
	[PS_SUCCEED]    = { "WITH u AS (UPDATE sje_jobs SET state = 5, "
	                       "result_json = $3, error_type = NULL, "
	                       "error_message = NULL, progress_pct = 100, "
	                       "lease_expires_ms = 0, finished_ms = $4 "
	                       "WHERE id = $1 AND state = 4 AND lease_id = $2 "
	                       "RETURNING id, attempt), "
	                       "a AS (UPDATE sje_attempts SET finished_ms = $4, "
	                       "outcome = 5, error_type = NULL, "
	                       "error_message = NULL FROM u "
	                       "WHERE sje_attempts.job_id = u.id "
	                       "AND sje_attempts.number = u.attempt)" PG_CHANGED_OR_WHY,
	       "iiti" },
	[PS_GET]        = { "SELECT " SJE__STORE_COLS
	                    " FROM sje_jobs WHERE task_id = $1",
	           "t" },
	[PS_GET_BY_ID]  = { "SELECT " SJE__STORE_COLS
	                    " FROM sje_jobs WHERE id = $1",
	     "i" },
	[PS_GET_RESULT] = { "SELECT result_json FROM sje_jobs "
	                    "WHERE task_id = $1",
	    "t" },
	// The lists take $1 = before_id (INT64_MAX: from the newest), $2 =
	// limit, then their filters, then those that no index serves
	// (PG_LIST_MORE_TYPES: the worker, NULL for any, and the created_ms
	// range, 0 for open).
	[PS_LIST_ALL]      = { "SELECT " SJE__STORE_COLS
	                       " FROM sje_jobs WHERE id < $1 "
	                            "AND ($3 IS NULL OR worker = $3) "
	                            "AND ($4 = 0 OR created_ms >= $4) "
	                            "AND ($5 = 0 OR created_ms < $5) "
	                            "ORDER BY id DESC LIMIT $2",
	         "ii" PG_LIST_MORE_TYPES },
	[PS_LIST_STATE]    = { "SELECT " SJE__STORE_COLS " FROM sje_jobs "
	                          "WHERE state = $3 AND id < $1 "
	                          "AND ($4 IS NULL OR worker = $4) "
	                          "AND ($5 = 0 OR created_ms >= $5) "
	                          "AND ($6 = 0 OR created_ms < $6) "
	                          "ORDER BY id DESC LIMIT $2",
	       "iii" PG_LIST_MORE_TYPES },
	[PS_LIST_FUNCTION] = { "SELECT " SJE__STORE_COLS " FROM sje_jobs "
	                       "WHERE function = $3 AND id < $1 "
	                       "AND ($4 IS NULL OR worker = $4) "
	                       "AND ($5 = 0 OR created_ms >= $5) "
	                       "AND ($6 = 0 OR created_ms < $6) "
	                       "ORDER BY id DESC LIMIT $2",
	    "iit" PG_LIST_MORE_TYPES },
	[PS_LIST_STATE_FUNCTION] = { "SELECT " SJE__STORE_COLS
	                             " FROM sje_jobs "
	                             "WHERE state = $3 AND function = $4 "
	                             "AND id < $1 "
	                             "AND ($5 IS NULL OR worker = $5) "
	                             "AND ($6 = 0 OR created_ms >= $6) "
	                             "AND ($7 = 0 OR created_ms < $7) "
	                             "ORDER BY id DESC LIMIT $2",
	    "iiit" PG_LIST_MORE_TYPES },
	[PS_LIST_WORKFLOW] = { "SELECT " SJE__STORE_COLS " FROM sje_jobs "
	                       "WHERE workflow_id = $5 AND id < $1 "
	                       "AND ($3 = 0 OR state = $3) "
	                       "AND ($4 IS NULL OR function = $4) "
	                       "AND ($6 IS NULL OR worker = $6) "
	                       "AND ($7 = 0 OR created_ms >= $7) "
	                       "AND ($8 = 0 OR created_ms < $8) "
	                       "ORDER BY id DESC LIMIT $2",
	    "iiitt" PG_LIST_MORE_TYPES },
	// A prefix, a parent or the runs take every filter, at fixed
	// numbers: $3 state (0: any), $4 function, $5 workflow_id, $6 worker
	// (NULL: any), $7 and $8 the created_ms range (0: open), $9 and $10
	// the prefix's task_id range in bytes (NULL: any), $11 the parent,
	// $12 runs only.
	[PS_LIST_PREFIX] = { "SELECT " SJE__STORE_COLS " FROM sje_jobs "
	                     "WHERE task_id COLLATE \"C\" >= $9 "
	                     "AND task_id COLLATE \"C\" < $10 "
	                     "AND id < $1 " PG_LIST_REST
	                     "ORDER BY id DESC LIMIT $2",
	    PG_LIST_REST_TYPES },
	[PS_LIST_PARENT] = { "SELECT " SJE__STORE_COLS " FROM sje_parents "
	                     "JOIN sje_jobs ON sje_jobs.id = "
	                     "sje_parents.child_id "
	                     "WHERE sje_parents.parent_task_id = $11 "
	                     "AND sje_parents.child_id < $1 " PG_LIST_REST
	                     "ORDER BY sje_parents.child_id DESC LIMIT $2",
	    PG_LIST_REST_TYPES },
	[PS_LIST_RUNS]   = { "SELECT " SJE__STORE_COLS " FROM sje_jobs "
	                       "WHERE run_first AND id < $1 " PG_LIST_REST
	                     "ORDER BY id DESC LIMIT $2",
	      PG_LIST_REST_TYPES },
	[PS_ADD_PARENT]  = { "INSERT INTO sje_parents (parent_task_id, "
	                      "child_id) VALUES ($1, $2) "
	                      "ON CONFLICT DO NOTHING",
	     "ti" },
	[PS_SCAN_ACTIVE] = { "SELECT " SJE__STORE_COLS " FROM sje_jobs "
	                     "WHERE state < 5 ORDER BY id",
	    "" },
	// The last seq committed: the counter, or the newest event if higher
	// (a guard: both are written in one transaction).
	[PS_SEQ_READ] = { "SELECT greatest((SELECT value FROM sje_meta "
	                  "WHERE key = 'event_seq'), "
	                  "(SELECT max(seq) FROM sje_events), 0)",
	    "" },
	[PS_SEQ_LOCK] = { "SELECT value FROM sje_meta "
	                  "WHERE key = 'event_seq' FOR UPDATE",
	    "" },
	// A seq taken outside a transaction commits by itself.
	[PS_SEQ_NEXT]      = { "UPDATE sje_meta SET value = value + 1 "
	                            "WHERE key = 'event_seq' RETURNING value",
	         "" },
	[PS_PUT_ATTEMPT]   = { "INSERT INTO sje_attempts (job_id, number, "
	                         "worker, started_ms, finished_ms, outcome, "
	                         "error_type, error_message) VALUES ($1, $2, $3, "
	                         "$4, $5, $6, $7, $8) ON CONFLICT (job_id, number) "
	                         "DO UPDATE SET worker = excluded.worker, "
	                         "started_ms = excluded.started_ms, "
	                         "finished_ms = excluded.finished_ms, "
	                         "outcome = excluded.outcome, "
	                         "error_type = excluded.error_type, "
	                         "error_message = excluded.error_message",
	      "iitiiitt" },
	[PS_LIST_ATTEMPTS] = { "SELECT number, worker, started_ms, "
	                       "finished_ms, outcome, error_type, "
	                       "error_message FROM sje_attempts "
	                       "WHERE job_id = $1 ORDER BY number",
	    "i" },
	[PS_ADD_EVENT]     = { "INSERT INTO sje_events (seq, task_id, data) "
	                           "VALUES ($1, $2, $3) ON CONFLICT (seq) "
	                           "DO NOTHING RETURNING 1",
	        "itb" },
	[PS_LIST_EVENTS]   = { "SELECT seq, data FROM sje_events "
	                         "WHERE seq > $1 ORDER BY seq LIMIT $2",
	      "ii" },
	[PS_LIST_EVENTS_TASK] = { "SELECT seq, data FROM sje_events "
	                          "WHERE seq > $1 AND task_id = $3 "
	                          "ORDER BY seq LIMIT $2",
	    "iit" },
	[PS_PRUNE_EVENTS] = { "DELETE FROM sje_events WHERE seq <= $1", "i" },
	[PS_PURGE] = { "WITH p AS (SELECT id FROM sje_jobs WHERE state >= 5 "
	               "AND finished_ms < $1 ORDER BY finished_ms LIMIT $2), "
	               "a AS (DELETE FROM sje_attempts WHERE job_id IN "
	               "(SELECT id FROM p)), "
	               "e AS (DELETE FROM sje_parents WHERE child_id IN "
	               "(SELECT id FROM p)) "
	               "DELETE FROM sje_jobs WHERE id IN (SELECT id FROM p)",
	    "ii" },
	// Undoes the rows of an insert that met an existing task_id.
	[PS_DELETE_IDS] = { "DELETE FROM sje_jobs WHERE id = ANY ($1)", "a" },
	// A claim in a transaction: its attempt is kept for the commit.
	[PS_CLAIM_ONLY] = { "WITH u AS (UPDATE sje_jobs SET state = 4, "
	                    "attempt = $2, lease_id = $3, "
	                    "lease_expires_ms = $4, worker = $5, "
	                    "started_ms = $6, progress_pct = 0, "
	                    "progress_msg = NULL WHERE id = $1 AND state = 3 "
	                    "RETURNING 1)" PG_CHANGED_OR_WHY,
	    "iiiiti" },
	// A finished job and its attempts, as one statement; the answer is
	// the id deleted (NULL: none) and whether the job exists, read in
	// the statement's snapshot (which the deletes do not change).
	[PS_DELETE_JOB]   = { "WITH d AS (DELETE FROM sje_jobs "
	                        "WHERE task_id = $1 AND state >= 5 RETURNING id), "
	                        "a AS (DELETE FROM sje_attempts WHERE job_id IN "
	                        "(SELECT id FROM d)), "
	                        "e AS (DELETE FROM sje_parents WHERE child_id IN "
	                        "(SELECT id FROM d)) "
	                        "SELECT (SELECT id FROM d), EXISTS (SELECT 1 FROM "
	                        "sje_jobs WHERE task_id = $1)",
	      "t" },
	[PS_PUT_FUNCTION] = { "INSERT INTO sje_functions (name, paused, "
	                      "concurrency, rate, updated_ms) VALUES ($1, $2, "
	                      "$3, $4, $5) ON CONFLICT (name) DO UPDATE SET "
	                      "paused = excluded.paused, "
	                      "concurrency = excluded.concurrency, "
	                      "rate = excluded.rate, "
	                      "updated_ms = excluded.updated_ms",
	    "toiti" },
	// By name in bytes, as SQLite's BINARY collation and strcmp order
	// (not the database's collation).
	[PS_LIST_FUNCTIONS] = { "SELECT name, paused, concurrency, rate, "
	                        "updated_ms FROM sje_functions "
	                        "ORDER BY name COLLATE \"C\"",
	    "" },
	[PS_PUT_SCHEDULE] = { "INSERT INTO sje_schedules (name, last_tick_ms, "
	                      "last_task_id) VALUES ($1, $2, $3) ON CONFLICT "
	                      "(name) DO UPDATE SET "
	                      "last_tick_ms = excluded.last_tick_ms, "
	                      "last_task_id = excluded.last_task_id",
	    "tit" },
	[PS_LIST_SCHEDULES] = { "SELECT name, last_tick_ms, last_task_id "
	                        "FROM sje_schedules ORDER BY name COLLATE \"C\"",
	    "" },
	// Many at once: the ids as one array parameter (text format, its
	// literal made by pg_text_array or pg_list_attempts_of).
	[PS_FIND_MANY] = { "SELECT task_id FROM sje_jobs WHERE task_id = ANY ($1)",
	    "T" },
	[PS_GET_MANY]    = { "SELECT " SJE__STORE_COLS
	                     " FROM sje_jobs WHERE task_id = ANY ($1)",
	       "T" },
	[PS_ATTEMPTS_OF] = { "SELECT job_id, number, worker, started_ms, "
	                     "finished_ms, outcome, error_type, error_message "
	                     "FROM sje_attempts WHERE job_id = ANY ($1) "
	                     "ORDER BY job_id, number",
	    "a" },
};

// pg_params collects the parameters of one statement, in binary: values
// point into the caller's strings and blobs, or into ints (8 bytes each,
// big-endian) for numbers. Kept in the store and reused, so that a call
// allocates nothing once it has grown.
typedef struct pg_params {
	int          n, cap;
	const char **values;
	int         *lengths;
	int         *formats;
	uint64_t    *ints;
	Oid         *types; // for statements not prepared (multi-row inserts)
} pg_params;

// pg_store is the backend's state behind an sje__store handle.
typedef struct pg_store {
	sje__store base;
	PGconn    *conn;
	char      *dsn; // for readers; may hold a password: never logged
	char       where[128]; // "database D on H": for log lines
	bool       reader;     // read-only connection
	pg_params  params;
	// The event seq counter, as in sqlite.c; seq_locked says the open
	// transaction holds the counter row's lock.
	uint64_t last_seq;
	uint64_t seq_at_begin;
	uint64_t seq_committed; // the counter as the transaction locked it
	bool     seq_dirty;
	bool     seq_locked;
	// Writes kept for the commit (see the note at the top).
	struct pg_kept_event   *events;
	size_t                  n_events, cap_events;
	struct pg_kept_attempt *attempts;
	size_t                  n_attempts, cap_attempts;
	struct pg_kept_claim   *claims;
	size_t                  n_claims, cap_claims;
	struct pg_kept_success *successes;
	size_t                  n_successes, cap_successes;
	bool      kept_failed; // a kept claim or success failed: no commit
	pg_params cparams;     // the claims' and successes', sent from pg_run
} pg_store;

// pg_kept_event is an event kept for the commit (strings owned).
typedef struct pg_kept_event {
	int64_t  seq;
	char    *task_id;
	uint8_t *data;
	size_t   len;
} pg_kept_event;

// pg_kept_claim is a claim kept for the commit (worker owned).
typedef struct pg_kept_claim {
	int64_t     id;
	int64_t     attempt;
	int64_t     lease_id;
	int64_t     expires_ms;
	char       *worker;
	sje_time_ms started_ms;
} pg_kept_claim;

// pg_kept_success is a success kept for the commit (result owned).
typedef struct pg_kept_success {
	int64_t     id;
	int64_t     lease_id;
	char       *result_json;
	sje_time_ms finished_ms;
} pg_kept_success;

// pg_kept_attempt is an attempt record kept for the commit (strings
// owned).
typedef struct pg_kept_attempt {
	int64_t          job_id;
	sje__attempt_row a;
} pg_kept_attempt;

// Parameters. -------------------------------------------------------------

// pp_grow makes *arr an array of n elements of size bytes; false (and
// *arr as it was) when out of memory.
static bool
pp_grow(void **arr, int n, size_t size)
{
	void *v = realloc(*arr, (size_t) n * size);
	if (v == NULL) {
		return false;
	}
	*arr = v;
	return true;
}

// pp_reset empties p and makes room for n parameters; false when out of
// memory. Values must be added only after it, as they point into p->ints.
static bool
pp_reset(pg_params *p, int n)
{
	p->n = 0;
	if (n <= p->cap) {
		return true;
	}
	// Each array grows on its own; one that did keeps its new size
	// (cap stays the least of them until all have grown).
	bool ok = pp_grow((void **) &p->values, n, sizeof(*p->values)) &
	    pp_grow((void **) &p->lengths, n, sizeof(*p->lengths)) &
	    pp_grow((void **) &p->formats, n, sizeof(*p->formats)) &
	    pp_grow((void **) &p->ints, n, sizeof(*p->ints)) &
	    pp_grow((void **) &p->types, n, sizeof(*p->types));
	if (ok) {
		p->cap = n;
	}
	return ok;
}

static void
pp_fini(pg_params *p)
{
	free(p->values);
	free(p->lengths);
	free(p->formats);
	free(p->ints);
	free(p->types);
	memset(p, 0, sizeof(*p));
}

static void
pp_raw(pg_params *p, const void *v, int len)
{
	p->values[p->n]  = v;
	p->lengths[p->n] = len;
	p->formats[p->n] = 1;
	p->n++;
}

static void
pp_i64(pg_params *p, int64_t v)
{
	p->ints[p->n] = htobe64((uint64_t) v);
	pp_raw(p, &p->ints[p->n], 8);
}

static void
pp_f64(pg_params *p, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	p->ints[p->n] = htobe64(bits);
	pp_raw(p, &p->ints[p->n], 8);
}

static void
pp_bool(pg_params *p, bool v)
{
	unsigned char *b = (unsigned char *) &p->ints[p->n];
	b[0]             = v ? 1 : 0;
	pp_raw(p, b, 1);
}

// pp_text adds str, or NULL.
static void
pp_text(pg_params *p, const char *str)
{
	pp_raw(p, str, str != NULL ? (int) strlen(str) : 0);
}

// pp_literal adds a value in PostgreSQL's text form (an array literal).
static void
pp_literal(pg_params *p, const char *str)
{
	pp_raw(p, str, (int) strlen(str));
	p->formats[p->n - 1] = 0;
}

// pp_bytes adds a blob (never NULL: an empty one is "").
static void
pp_bytes(pg_params *p, const void *b, size_t len)
{
	pp_raw(p, len > 0 ? b : "", (int) len);
}

// Results. ----------------------------------------------------------------

static int64_t
pr_i64(const PGresult *r, int row, int col)
{
	uint64_t v;

	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8) {
		return 0;
	}
	memcpy(&v, PQgetvalue(r, row, col), 8);
	return (int64_t) be64toh(v);
}

static double
pr_f64(const PGresult *r, int row, int col)
{
	uint64_t bits = (uint64_t) pr_i64(r, row, col);
	double   v;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

static bool
pr_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetlength(r, row, col) == 1 &&
	    PQgetvalue(r, row, col)[0] != 0;
}

// pr_text copies a text column into *out (NULL for SQL NULL).
static sje_err
pr_text(const PGresult *r, int row, int col, char **out)
{
	*out = NULL;
	if (PQgetisnull(r, row, col)) {
		return SJE_OK;
	}
	size_t len = (size_t) PQgetlength(r, row, col);
	char  *s   = malloc(len + 1);
	if (s == NULL) {
		return SJE_ENOMEM;
	}
	memcpy(s, PQgetvalue(r, row, col), len);
	s[len] = '\0';
	*out   = s;
	return SJE_OK;
}

// Errors and running. -----------------------------------------------------

// pg_result_err translates a failed result (or NULL: no memory, or the
// connection is gone) into sje_err, logging the server's message with
// what was being done. A unique violation is SJE_EEXIST, not logged.
static sje_err
pg_result_err(pg_store *s, const PGresult *r, const char *what)
{
	if (r == NULL) {
		SJE_ERROR("store %s: %s: %s", s->where, what,
		    PQerrorMessage(s->conn));
		return PQstatus(s->conn) == CONNECTION_OK ? SJE_ENOMEM
		                                          : SJE_EIO;
	}
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, "23505") == 0) {
		return SJE_EEXIST;
	}
	char msg[512];
	sje__snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
	msg[strcspn(msg, "\n")] = '\0'; // the first line: libpq adds detail
	SJE_ERROR("store %s: %s: %s%s%s", s->where, what, msg,
	    state != NULL ? " SQLSTATE " : "", state != NULL ? state : "");
	return SJE_EIO;
}

// pg_ok is whether r holds a successful result.
static bool
pg_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	return r != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

static sje_err pg_flush_claims(pg_store *s);
static sje_err pg_flush_successes(pg_store *s);

// pg_claims_wait is true for the statements that may run while claims
// or successes are kept: they neither read nor write a job's row.
static bool
pg_claims_wait(enum pg_stmt st)
{
	return st == PS_SEQ_READ || st == PS_SEQ_LOCK || st == PS_SEQ_NEXT ||
	    st == PS_ADD_EVENT || st == PS_PUT_ATTEMPT;
}

// pg_run_with runs prepared statement st with parameters p, nothing
// kept sent first; on success returns its result (the caller clears
// it), else NULL with *rv set.
static PGresult *
pg_run_with(pg_store *s, enum pg_stmt st, const pg_params *p, const char *what,
    sje_err *rv)
{
	char name[16];
	sje__snprintf(name, sizeof(name), "sje%d", (int) st);
	PGresult *r = PQexecPrepared(
	    s->conn, name, p->n, p->values, p->lengths, p->formats, 1);
	if (!pg_ok(r)) {
		*rv = pg_result_err(s, r, what);
		PQclear(r);
		return NULL;
	}
	*rv = SJE_OK;
	return r;
}

// pg_run runs prepared statement st with s->params; on success returns
// its result (the caller clears it), else NULL with *rv set.
static PGresult *
pg_run(pg_store *s, enum pg_stmt st, const char *what, sje_err *rv)
{
	// Claims and successes kept for the commit go first: this statement
	// may read or write their rows (they use parameters of their own).
	if (s->n_claims > 0 && !pg_claims_wait(st) &&
	    (*rv = pg_flush_claims(s)) != SJE_OK) {
		return NULL;
	}
	if (s->n_successes > 0 && !pg_claims_wait(st) &&
	    (*rv = pg_flush_successes(s)) != SJE_OK) {
		return NULL;
	}
	return pg_run_with(s, st, &s->params, what, rv);
}

// pg_exec runs sql (no parameters; may be several statements).
static sje_err
pg_exec(pg_store *s, const char *sql, const char *what)
{
	PGresult *r  = PQexec(s->conn, sql);
	sje_err   rv = pg_ok(r) ? SJE_OK : pg_result_err(s, r, what);
	PQclear(r);
	return rv;
}

// pg_changed reads a conditional verb's answer (PG_CHANGED_OR_WHY).
static sje_err
pg_changed(PGresult *r)
{
	sje_err rv;

	if (PQntuples(r) != 1) {
		rv = SJE_EIO;
	} else if (pr_i64(r, 0, 0) > 0) {
		rv = SJE_OK;
	} else {
		rv = pr_bool(r, 0, 1) ? SJE_EPRECOND : SJE_ENOTFOUND;
	}
	PQclear(r);
	return rv;
}

// pg_in_txn is true while a transaction is open on s (or failed in one).
static bool
pg_in_txn(pg_store *s)
{
	PGTransactionStatusType t = PQtransactionStatus(s->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

// Opening. ----------------------------------------------------------------

// pg_type_oid is the type of letter c of pg_stmt_def.types.
static Oid
pg_type_oid(char c)
{
	switch (c) {
	case 'i':
		return 20; // int8
	case 't':
		return 25; // text
	case 'b':
		return 17; // bytea
	case 'd':
		return 701; // float8
	case 'o':
		return 16; // bool
	case 'a':
		return 1016; // int8[]
	case 'T':
		return 1009; // text[]
	default:
		return 0;
	}
}

// pg_prepare_all prepares every statement of pg_sql.
static sje_err
pg_prepare_all(pg_store *s)
{
	for (int i = 0; i < PS_COUNT; i++) {
		Oid    types[32];
		size_t n = strlen(pg_sql[i].types);
		char   name[16];
		for (size_t k = 0; k < n && k < 32; k++) {
			types[k] = pg_type_oid(pg_sql[i].types[k]);
		}
		sje__snprintf(name, sizeof(name), "sje%d", i);
		PGresult *r =
		    PQprepare(s->conn, name, pg_sql[i].sql, (int) n, types);
		sje_err rv = pg_ok(r)
		    ? SJE_OK
		    : pg_result_err(s, r, "preparing statements");
		PQclear(r);
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

// pg_schema_version reads the schema version (0: no schema yet).
static sje_err
pg_schema_version(pg_store *s, int64_t *version)
{
	PGresult *r = PQexecParams(s->conn,
	    "SELECT value FROM sje_meta WHERE key = 'schema_version'", 0, NULL,
	    NULL, NULL, NULL, 1);
	if (!pg_ok(r)) {
		sje_err rv = pg_result_err(s, r, "reading the schema version");
		PQclear(r);
		return rv;
	}
	*version = PQntuples(r) > 0 ? pr_i64(r, 0, 0) : 0;
	PQclear(r);
	return SJE_OK;
}

// pg_migrate creates or migrates the schema to SJE_STORE_PG_SCHEMA_VERSION
// in one transaction, under the migration lock. SJE_EPROTO, with nothing
// written, when the database's schema is newer than this program's.
static sje_err
pg_migrate(pg_store *s)
{
	int64_t version = 0;
	sje_err rv;
	char    sql[128];

	if ((rv = pg_exec(s,
	         "BEGIN; SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK "); "
	         "CREATE TABLE IF NOT EXISTS sje_meta (key text PRIMARY KEY, "
	         "value bigint NOT NULL)",
	         "migrating the schema")) != SJE_OK ||
	    (rv = pg_schema_version(s, &version)) != SJE_OK) {
		goto fail;
	}
	if (version < 0 || version > SJE_STORE_PG_SCHEMA_VERSION) {
		SJE_ERROR("store %s: schema version %lld is newer than this "
		          "program's (%d): upgrade sje-server",
		    s->where, (long long) version,
		    SJE_STORE_PG_SCHEMA_VERSION);
		rv = SJE_EPROTO;
		goto fail;
	}
	for (int64_t v = version; v < SJE_STORE_PG_SCHEMA_VERSION; v++) {
		if ((rv = pg_exec(s, pg_migrations[v],
		         "migrating the schema")) != SJE_OK) {
			goto fail;
		}
	}
	sje__snprintf(sql, sizeof(sql),
	    "INSERT INTO sje_meta (key, value) VALUES ('schema_version', %d) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	    SJE_STORE_PG_SCHEMA_VERSION);
	if ((rv = pg_exec(s, sql, "migrating the schema")) != SJE_OK) {
		goto fail;
	}
	PGresult *r  = PQexec(s->conn, "COMMIT");
	bool      ok = pg_ok(r) && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	rv = ok ? SJE_OK : pg_result_err(s, r, "migrating the schema");
	PQclear(r);
	if (rv != SJE_OK) {
		goto fail;
	}
	if (version != SJE_STORE_PG_SCHEMA_VERSION) {
		SJE_INFO("store %s: schema %s version %d", s->where,
		    version == 0 ? "created at" : "migrated to",
		    SJE_STORE_PG_SCHEMA_VERSION);
	}
	return SJE_OK;
fail:
	PQclear(PQexec(s->conn, "ROLLBACK"));
	return rv;
}

// pg_seq_read reads the last event seq committed.
static sje_err
pg_seq_read(pg_store *s, uint64_t *seq)
{
	sje_err   rv;
	PGresult *r;

	pp_reset(&s->params, 0);
	if ((r = pg_run(s, PS_SEQ_READ, "reading the event seq", &rv)) ==
	    NULL) {
		return rv;
	}
	*seq = PQntuples(r) == 1 ? (uint64_t) pr_i64(r, 0, 0) : 0;
	PQclear(r);
	return SJE_OK;
}

static const sje__store_ops pg_ops;

// pg_kept_drop_events and pg_kept_drop_attempts forget the writes of a
// kind kept for the commit; pg_kept_clear, all of them.
static void
pg_kept_drop_events(pg_store *s)
{
	for (size_t i = 0; i < s->n_events; i++) {
		free(s->events[i].task_id);
		free(s->events[i].data);
	}
	s->n_events = 0;
}

static void
pg_kept_drop_attempts(pg_store *s)
{
	for (size_t i = 0; i < s->n_attempts; i++) {
		free(s->attempts[i].a.worker);
		free(s->attempts[i].a.error_type);
		free(s->attempts[i].a.error_message);
	}
	s->n_attempts = 0;
}

static void
pg_kept_drop_claims(pg_store *s)
{
	for (size_t i = 0; i < s->n_claims; i++) {
		free(s->claims[i].worker);
	}
	s->n_claims = 0;
}

static void
pg_kept_drop_successes(pg_store *s)
{
	for (size_t i = 0; i < s->n_successes; i++) {
		free(s->successes[i].result_json);
	}
	s->n_successes = 0;
}

static void
pg_kept_clear(pg_store *s)
{
	pg_kept_drop_events(s);
	pg_kept_drop_attempts(s);
	pg_kept_drop_claims(s);
	pg_kept_drop_successes(s);
}

static void
pg_free(pg_store *s)
{
	if (s == NULL) {
		return;
	}
	if (s->conn != NULL) {
		// The next coordinator need not wait for this session to
		// end: unlocked now (the session's end would unlock too).
		if (!s->reader && PQstatus(s->conn) == CONNECTION_OK) {
			if (pg_in_txn(s)) {
				PQclear(PQexec(s->conn, "ROLLBACK"));
			}
			PQclear(PQexec(
			    s->conn, "SELECT pg_advisory_unlock_all()"));
		}
		PQfinish(s->conn); // an open transaction is rolled back
	}
	if (s->dsn != NULL) {
		// It may hold a password: not left behind in freed memory.
		memset(s->dsn, 0, strlen(s->dsn));
		free(s->dsn);
	}
	pg_kept_clear(s);
	free(s->events);
	free(s->attempts);
	free(s->claims);
	free(s->successes);
	pp_fini(&s->params);
	pp_fini(&s->cparams);
	free(s);
}

// pg_notice logs what the database says beside a result (a WARNING: the
// connection asks for nothing below it), instead of libpq's stderr.
static void
pg_notice(void *arg, const char *message)
{
	pg_store *s = arg;
	char      msg[512];

	sje__snprintf(msg, sizeof(msg), "%s", message);
	msg[strcspn(msg, "\n")] = '\0';
	SJE_WARN("store %s: %s", s->where, msg);
}

// pg_connect opens s's connection to s->dsn and sets it up. SJE_EUNAVAIL,
// with libpq's reason in why, when the database does not answer.
static sje_err
pg_connect(pg_store *s, char *why, size_t whylen)
{
	if ((s->conn = PQconnectdb(s->dsn)) == NULL) {
		return SJE_ENOMEM;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		sje__snprintf(why, whylen, "%s", PQerrorMessage(s->conn));
		why[strcspn(why, "\n")] = '\0';
		PQfinish(s->conn);
		s->conn = NULL;
		return SJE_EUNAVAIL;
	}
	(void) PQsetNoticeProcessor(s->conn, pg_notice, s);
	const char *host = PQhost(s->conn);
	sje__snprintf(s->where, sizeof(s->where), "postgres %s on %s",
	    PQdb(s->conn),
	    host != NULL && host[0] == '/' ? "a local socket"
	        : host != NULL             ? host
	                                   : "?");
	if (PQsetClientEncoding(s->conn, "UTF8") != 0) {
		SJE_ERROR("store %s: cannot set the client encoding to UTF8",
		    s->where);
		return SJE_EIO;
	}
	// The name says who holds the database, to a standby and to
	// pg_stat_activity: the host (letters, digits, '.', '-' only) and
	// the PID.
	char host_name[64] = "";
	char sql[192];
	(void) gethostname(host_name, sizeof(host_name) - 1);
	for (char *p = host_name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')) {
			*p = '-';
		}
	}
	sje__snprintf(sql, sizeof(sql),
	    "SET application_name = 'sje-server %s pid %ld%s'; "
	    "SET client_min_messages = warning",
	    host_name, (long) getpid(), s->reader ? " reader" : "");
	sje_err rv = pg_exec(s, sql, "setting the connection up");
	if (rv == SJE_OK && s->reader) {
		rv = pg_exec(s, "SET default_transaction_read_only = on",
		    "setting the connection up");
	}
	return rv;
}

// pg_holder writes who holds the active lock (its application_name and
// address) into buf, or "?" when that cannot be read.
static void
pg_holder(pg_store *s, char *buf, size_t len)
{
	PGresult *r = PQexec(s->conn,
	    "SELECT a.application_name || ' from ' || "
	    "coalesce(host(a.client_addr), 'a local socket') "
	    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
	    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 "
	    "AND l.objid = " PG_ACTIVE_LOCK " AND l.objsubid = 1");
	sje__snprintf(buf, len, "%s",
	    pg_ok(r) && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "?");
	PQclear(r);
}

// pg_leader_read reads the leader's row into *out, its strings in the
// result returned (to PQclear after use; NULL, *out all NULL, when there
// is none or it cannot be read: a database not migrated yet, say).
static PGresult *
pg_leader_read(pg_store *s, sje__store_leader *out)
{
	memset(out, 0, sizeof(*out));
	PGresult *r = PQexec(s->conn,
	    "SELECT name, rpc_url, events_url FROM sje_leader WHERE id = 1");
	if (!pg_ok(r) || PQntuples(r) != 1) {
		PQclear(r);
		return NULL;
	}
	out->name       = PQgetvalue(r, 0, 0);
	out->rpc_url    = PQgetvalue(r, 0, 1);
	out->events_url = PQgetvalue(r, 0, 2);
	return r;
}

// pg_become_active takes the active lock, waiting as a standby while
// another coordinator holds it (as o says).
static sje_err
pg_become_active(pg_store *s, const sje__store_postgres_opts *o)
{
	bool waited = false;
	char who[256];

	for (;;) {
		PGresult *r = PQexec(s->conn,
		    "SELECT pg_try_advisory_lock(" PG_ACTIVE_LOCK ")");
		if (!pg_ok(r) || PQntuples(r) != 1) {
			sje_err rv = pg_result_err(s, r, "taking the lock");
			PQclear(r);
			return rv;
		}
		bool got = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (got) {
			if (waited) {
				SJE_INFO("store %s: the database is free: "
				         "this coordinator is active now",
				    s->where);
			}
			return SJE_OK;
		}
		pg_holder(s, who, sizeof(who));
		if (o->standby == NULL) {
			SJE_ERROR("store %s: another coordinator holds this "
			          "database (%s)",
			    s->where, who);
			return SJE_EEXIST;
		}
		if (!waited) {
			SJE_INFO(
			    "store %s: another coordinator holds this "
			    "database (%s): following it until it is gone",
			    s->where, who);
			waited = true;
		}
		sje__store_leader leader = { 0 };
		r                        = pg_leader_read(s, &leader);
		bool go_on               = o->standby(o->standby_arg, &leader);
		PQclear(r);
		if (!go_on) {
			return SJE_ECANCELED;
		}
	}
}

// pg_leader_write records this coordinator as the leader (o's name and
// URLs), holding the active lock.
static sje_err
pg_leader_write(pg_store *s, const sje__store_postgres_opts *o)
{
	char        since[32];
	const char *v[4] = { o->name != NULL ? o->name : "",
		o->rpc_url != NULL ? o->rpc_url : "",
		o->events_url != NULL ? o->events_url : "", since };
	sje__snprintf(since, sizeof(since), "%lld", (long long) sje_now_ms());
	PGresult *r = PQexecParams(s->conn,
	    "INSERT INTO sje_leader (id, name, rpc_url, events_url, since_ms) "
	    "VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET "
	    "name = excluded.name, rpc_url = excluded.rpc_url, "
	    "events_url = excluded.events_url, since_ms = excluded.since_ms",
	    4, NULL, v, NULL, NULL, 0);
	sje_err   rv =
            pg_ok(r) ? SJE_OK : pg_result_err(s, r, "recording the leader");
	PQclear(r);
	return rv;
}

// How long a coordinator waiting for its database waits between tries,
// at most, and between the lines it logs meanwhile.
#define PG_CONNECT_BACKOFF_MS 2000
#define PG_CONNECT_LOG_MS 30000

// pg_connect_waiting connects; the writer of a coordinator (o->standby
// set) that finds the database unreachable (no answer, or an answer that
// it does not take connections yet: PQping) waits for it, trying again
// with a back-off up to PG_CONNECT_BACKOFF_MS and logging the reason when
// it first fails, when it changes and every PG_CONNECT_LOG_MS, until it
// answers or o->standby says to stop (SJE_ECANCELED). A database that
// answers and refuses us (a wrong user, password or database name), a
// connection string libpq cannot use, and anyone but such a writer fail
// at once (SJE_EUNAVAIL, logged): waiting would not mend them.
static sje_err
pg_connect_waiting(pg_store *s, const sje__store_postgres_opts *o)
{
	char     why[512], last[512] = "";
	uint32_t backoff_ms = STORE_PG_STANDBY_MS, waited_ms = 0;
	uint32_t since_log_ms = 0;
	sje_err  rv;

	for (;;) {
		if ((rv = pg_connect(s, why, sizeof(why))) != SJE_EUNAVAIL) {
			if (rv == SJE_OK && last[0] != '\0') {
				SJE_INFO("store %s: the database answers "
				         "after %u s",
				    s->where, waited_ms / 1000);
			}
			return rv;
		}
		PGPing ping = PQping(s->dsn);
		if (o == NULL || o->standby == NULL || ping == PQPING_OK ||
		    ping == PQPING_NO_ATTEMPT) {
			SJE_ERROR(
			    "store: cannot connect to PostgreSQL: %s", why);
			return rv;
		}
		if (strcmp(why, last) != 0 ||
		    since_log_ms >= PG_CONNECT_LOG_MS) {
			SJE_WARN("store: cannot connect to PostgreSQL: %s; "
			         "trying again until it answers",
			    why);
			sje__snprintf(last, sizeof(last), "%s", why);
			since_log_ms = 0;
		}
		// The caller's wait, a STORE_PG_STANDBY_MS each, so that a
		// signal is heard within one.
		for (uint32_t t = 0; t < backoff_ms;
		     t += STORE_PG_STANDBY_MS) {
			if (!o->standby(o->standby_arg, NULL)) {
				return SJE_ECANCELED;
			}
		}
		waited_ms += backoff_ms;
		since_log_ms += backoff_ms;
		if (backoff_ms < PG_CONNECT_BACKOFF_MS) {
			backoff_ms *= 2;
		}
	}
}

// pg_open is open and open_reader: a connection to dsn, prepared; the
// writer (o not NULL) active.
static sje_err
pg_open(const char *dsn, const sje__store_postgres_opts *o, sje__store **out)
{
	bool      reader = o == NULL;
	pg_store *s;
	sje_err   rv;

	if (dsn == NULL || dsn[0] == '\0') {
		return SJE_EINVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return SJE_ENOMEM;
	}
	s->base.ops  = &pg_ops;
	s->base.impl = s;
	s->reader    = reader;
	sje__snprintf(s->where, sizeof(s->where), "postgres");
	if ((s->dsn = sje__strdup(dsn)) == NULL) {
		rv = SJE_ENOMEM;
		goto fail;
	}
	if ((rv = pg_connect_waiting(s, o)) != SJE_OK) {
		goto fail;
	}
	if (reader) {
		int64_t version = 0;
		rv              = pg_schema_version(s, &version);
		if (rv == SJE_OK && version != SJE_STORE_PG_SCHEMA_VERSION) {
			SJE_ERROR(
			    "store %s: schema version %lld, this program "
			    "reads %d",
			    s->where, (long long) version,
			    SJE_STORE_PG_SCHEMA_VERSION);
			rv = SJE_EPROTO;
		}
	} else if ((rv = pg_become_active(s, o)) == SJE_OK &&
	    (rv = pg_migrate(s)) == SJE_OK) {
		rv = pg_leader_write(s, o);
	}
	if (rv != SJE_OK || (rv = pg_prepare_all(s)) != SJE_OK ||
	    (!reader && (rv = pg_seq_read(s, &s->last_seq)) != SJE_OK)) {
		goto fail;
	}
	*out = &s->base;
	return SJE_OK;
fail:
	pg_free(s);
	return rv;
}

sje_err
sje__store_open_postgres(const sje__store_postgres_opts *o, sje__store **out)
{
	if (o == NULL) {
		return SJE_EINVAL;
	}
	return pg_open(o->dsn, o, out);
}

static sje_err
pg_open_reader(sje__store *h, sje__store **out)
{
	pg_store *s = h->impl;
	return pg_open(s->dsn, NULL, out);
}

static void
pg_close(sje__store *h)
{
	pg_free(h->impl);
}

// Transactions. -----------------------------------------------------------

static sje_err pg_flush_events(pg_store *s);
static sje_err pg_flush_attempts(pg_store *s);

static sje_err
pg_begin(sje__store *h)
{
	pg_store *s = h->impl;

	if (pg_in_txn(s)) {
		SJE_ERROR("store %s: begin: a transaction is open already",
		    s->where);
		return SJE_EIO;
	}
	sje_err rv = pg_exec(s, "BEGIN", "begin");
	if (rv == SJE_OK) {
		s->seq_at_begin = s->last_seq;
		s->seq_locked   = false;
		s->kept_failed  = false;
	}
	return rv;
}

static void
pg_rollback(sje__store *h)
{
	pg_store *s = h->impl;

	pg_kept_clear(s);
	s->kept_failed = false;
	if (!pg_in_txn(s)) {
		return;
	}
	(void) pg_exec(s, "ROLLBACK", "rollback");
	s->last_seq   = s->seq_at_begin;
	s->seq_dirty  = false;
	s->seq_locked = false;
}

static sje_err
pg_commit(sje__store *h)
{
	pg_store *s = h->impl;
	char      sql[96];

	if (!pg_in_txn(s)) {
		SJE_ERROR(
		    "store %s: commit: no transaction is open", s->where);
		return SJE_EIO;
	}
	// The writes kept for the commit, first.
	sje_err kept = s->kept_failed ? SJE_EPRECOND : pg_flush_claims(s);
	if (kept == SJE_OK) {
		kept = pg_flush_successes(s); // the attempts before them
	}
	if (kept == SJE_OK) {
		kept = pg_flush_attempts(s);
	}
	if (kept == SJE_OK) {
		kept = pg_flush_events(s);
	}
	if (kept != SJE_OK) {
		pg_rollback(h);
		return kept;
	}
	// The counter row goes with the commit, in one round trip: the
	// number is ours, not a value from outside.
	if (s->seq_dirty) {
		sje__snprintf(sql, sizeof(sql),
		    "UPDATE sje_meta SET value = %llu WHERE key = 'event_seq'; "
		    "COMMIT",
		    (unsigned long long) s->last_seq);
	} else {
		sje__snprintf(sql, sizeof(sql), "COMMIT");
	}
	PGresult *r = PQexec(s->conn, sql);
	// COMMIT of a failed transaction answers ROLLBACK.
	bool    ok = pg_ok(r) && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	sje_err rv = SJE_OK;
	if (!ok) {
		rv = pg_ok(r) ? SJE_EIO : pg_result_err(s, r, "commit");
		if (pg_ok(r)) {
			SJE_ERROR("store %s: commit: the transaction had "
			          "failed and was rolled back",
			    s->where);
		}
	}
	PQclear(r);
	if (rv != SJE_OK) {
		// Nothing of it is kept, the seqs it took included.
		if (pg_in_txn(s)) {
			(void) pg_exec(s, "ROLLBACK", "rollback");
		}
		s->last_seq = s->seq_at_begin;
	}
	s->seq_dirty  = false;
	s->seq_locked = false;
	return rv;
}

// Jobs. -------------------------------------------------------------------

// pg_add_mutable adds the fields an update writes, in PG_MUTABLE_COLS
// order.
static void
pg_add_mutable(pg_params *p, const sje__job_row *row)
{
	pp_i64(p, row->state);
	pp_i64(p, row->attempt);
	pp_i64(p, row->max_attempts);
	pp_i64(p, (int64_t) row->lease_id);
	pp_i64(p, row->lease_expires_ms);
	pp_i64(p, row->ready_at_ms);
	pp_text(p, row->worker);
	pp_text(p, row->result_json);
	pp_text(p, row->error_type);
	pp_text(p, row->error_message);
	pp_f64(p, row->progress_pct);
	pp_text(p, row->progress_msg);
	pp_bool(p, row->cancel_requested);
	pp_i64(p, row->started_ms);
	pp_i64(p, row->finished_ms);
}

// pg_add_insert adds every field an insert writes (PG_INSERT_TYPES).
static void
pg_add_insert(pg_params *p, const sje__job_row *row)
{
	pg_add_mutable(p, row);
	pp_text(p, row->task_id);
	pp_text(p, row->function);
	pp_bytes(p, row->spec, row->spec_len);
	pp_i64(p, row->priority);
	pp_i64(p, row->timeout_s);
	pp_i64(p, row->created_ms);
	pp_text(p, row->workflow_id);
	pp_bool(p, row->run_first);
}

// pg_append writes str at *at in sql (room checked by the caller).
static void
pg_append(char *sql, size_t *at, const char *str)
{
	size_t len = strlen(str);
	memcpy(sql + *at, str, len + 1);
	*at += len;
}

// pg_values_sql builds head, n rows of k parameters each ("($1,$2),
// ($3,$4)"), then tail: a multi-row statement.
static char *
pg_values_sql(const char *head, int k, int n, const char *tail)
{
	// Each parameter is at most ",$NNNNN" (7 bytes); each row adds
	// ",(" and ")".
	size_t cap = strlen(head) + strlen(tail) + 1 +
	    (size_t) n * ((size_t) k * 7 + 3);
	char  *sql = malloc(cap);
	size_t at  = 0;
	int    p   = 1;
	char   num[16];

	if (sql == NULL) {
		return NULL;
	}
	pg_append(sql, &at, head);
	for (int i = 0; i < n; i++) {
		pg_append(sql, &at, i > 0 ? ",(" : "(");
		for (int j = 0; j < k; j++, p++) {
			sje__snprintf(
			    num, sizeof(num), "%s$%d", j > 0 ? "," : "", p);
			pg_append(sql, &at, num);
		}
		pg_append(sql, &at, ")");
	}
	pg_append(sql, &at, tail);
	return sql;
}

// pg_insert_sql builds the INSERT of n rows (n >= 1), RETURNING id.
static char *
pg_insert_sql(int n)
{
	return pg_values_sql("INSERT INTO sje_jobs (" PG_MUTABLE_COLS
	                     ", " PG_INSERT_COLS ") VALUES ",
	    PG_INSERT_NPARAMS, n,
	    " ON CONFLICT (task_id) DO NOTHING RETURNING id");
}

// pg_exec_values runs sql (from pg_values_sql) with s->params, whose
// types repeat types (one letter per parameter of a row).
static sje_err
pg_exec_values(pg_store *s, char *sql, const char *types, const char *what)
{
	size_t k = strlen(types);
	for (int i = 0; i < s->params.n; i++) {
		s->params.types[i] = pg_type_oid(types[(size_t) i % k]);
	}
	PGresult *r = PQexecParams(s->conn, sql, s->params.n, s->params.types,
	    s->params.values, s->params.lengths, s->params.formats, 1);
	free(sql);
	sje_err rv = pg_ok(r) ? SJE_OK : pg_result_err(s, r, what);
	PQclear(r);
	return rv;
}

// Rows of one multi-row statement of kept writes.
#define PG_KEPT_CHUNK 300

// pg_kept_kind says how one kind of kept write is sent: its statement
// around the rows, the types of a row's parameters, and how row i of the
// kept array adds its parameters.
typedef struct pg_kept_kind {
	const char *head, *tail, *types, *what;
	void (*add)(pg_params *p, const void *rows, size_t i);
} pg_kept_kind;

// pg_send_kept sends rows[0..n) of kind k, PG_KEPT_CHUNK a statement.
static sje_err
pg_send_kept(pg_store *s, const pg_kept_kind *k, const void *rows, size_t n)
{
	int per_row = (int) strlen(k->types);
	for (size_t done = 0; done < n;) {
		int chunk = n - done > PG_KEPT_CHUNK ? PG_KEPT_CHUNK
		                                     : (int) (n - done);
		if (!pp_reset(&s->params, chunk * per_row)) {
			return SJE_ENOMEM;
		}
		for (int i = 0; i < chunk; i++) {
			k->add(&s->params, rows, done + (size_t) i);
		}
		char *sql = pg_values_sql(k->head, per_row, chunk, k->tail);
		if (sql == NULL) {
			return SJE_ENOMEM;
		}
		sje_err rv = pg_exec_values(s, sql, k->types, k->what);
		if (rv != SJE_OK) {
			return rv;
		}
		done += (size_t) chunk;
	}
	return SJE_OK;
}

static void
pg_add_kept_event(pg_params *p, const void *rows, size_t i)
{
	const pg_kept_event *e = (const pg_kept_event *) rows + i;
	pp_i64(p, e->seq);
	pp_text(p, e->task_id);
	pp_bytes(p, e->data, e->len);
}

static void
pg_add_kept_attempt(pg_params *p, const void *rows, size_t i)
{
	const pg_kept_attempt *k = (const pg_kept_attempt *) rows + i;
	pp_i64(p, k->job_id);
	pp_i64(p, k->a.number);
	pp_text(p, k->a.worker);
	pp_i64(p, k->a.started_ms);
	pp_i64(p, k->a.finished_ms);
	pp_i64(p, k->a.outcome);
	pp_text(p, k->a.error_type);
	pp_text(p, k->a.error_message);
}

static const pg_kept_kind pg_kept_events = {
	.head  = "INSERT INTO sje_events (seq, task_id, data) VALUES ",
	.tail  = "",
	.types = "itb",
	.what  = "keeping events",
	.add   = pg_add_kept_event,
};

// One record per job and number (pg_keep_attempt replaces), so that the
// upsert never meets its own row twice.
static const pg_kept_kind pg_kept_attempts = {
	.head  = "INSERT INTO sje_attempts (job_id, number, worker, "
	         "started_ms, finished_ms, outcome, error_type, "
	         "error_message) VALUES ",
	.tail  = " ON CONFLICT (job_id, number) DO UPDATE SET "
	         "worker = excluded.worker, "
	         "started_ms = excluded.started_ms, "
	         "finished_ms = excluded.finished_ms, "
	         "outcome = excluded.outcome, "
	         "error_type = excluded.error_type, "
	         "error_message = excluded.error_message",
	.types = "iitiiitt",
	.what  = "writing attempts",
	.add   = pg_add_kept_attempt,
};

// pg_flush_events sends the events kept for the commit.
static sje_err
pg_flush_events(pg_store *s)
{
	sje_err rv = pg_send_kept(s, &pg_kept_events, s->events, s->n_events);
	if (rv == SJE_OK) {
		pg_kept_drop_events(s);
	}
	return rv;
}

// pg_flush_attempts sends the attempt records kept for the commit.
static sje_err
pg_flush_attempts(pg_store *s)
{
	sje_err rv =
	    pg_send_kept(s, &pg_kept_attempts, s->attempts, s->n_attempts);
	if (rv == SJE_OK) {
		pg_kept_drop_attempts(s);
	}
	return rv;
}

// pg_flush_claims sends the claims kept for the commit, PG_KEPT_CHUNK a
// statement (one UPDATE ... FROM (VALUES ...)), each only if its job is
// still QUEUED. A claim whose job was not is SJE_EPRECOND, and marks the
// transaction failed: its commit rolls everything back (kept_failed).
static sje_err
pg_flush_claims(pg_store *s)
{
	static const char head[] =
	    "UPDATE sje_jobs AS j SET state = 4, attempt = v.attempt, "
	    "lease_id = v.lease_id, lease_expires_ms = v.expires_ms, "
	    "worker = v.worker, started_ms = v.started_ms, progress_pct = 0, "
	    "progress_msg = NULL FROM (VALUES ";
	static const char tail[] =
	    ") AS v(id, attempt, lease_id, expires_ms, worker, started_ms) "
	    "WHERE j.id = v.id AND j.state = 3";
	static const char types[] = "iiiiti";
	pg_params        *p       = &s->cparams;
	for (size_t done = 0; done < s->n_claims;) {
		int chunk = s->n_claims - done > PG_KEPT_CHUNK
		    ? PG_KEPT_CHUNK
		    : (int) (s->n_claims - done);
		if (!pp_reset(p, chunk * 6)) {
			return SJE_ENOMEM;
		}
		for (int i = 0; i < chunk; i++) {
			const pg_kept_claim *c = &s->claims[done + (size_t) i];
			pp_i64(p, c->id);
			pp_i64(p, c->attempt);
			pp_i64(p, c->lease_id);
			pp_i64(p, c->expires_ms);
			pp_text(p, c->worker);
			pp_i64(p, c->started_ms);
		}
		long      changed;
		sje_err   rv;
		PGresult *r;
		if (chunk == 1) {
			// One by itself: the prepared statement, planned once.
			if ((r = pg_run_with(s, PS_CLAIM_ONLY, p,
			         "claiming a job", &rv)) == NULL) {
				return rv;
			}
			changed =
			    PQntuples(r) == 1 ? (long) pr_i64(r, 0, 0) : -1;
			PQclear(r);
		} else {
			for (int i = 0; i < p->n; i++) {
				p->types[i] = pg_type_oid(types[i % 6]);
			}
			char *sql = pg_values_sql(head, 6, chunk, tail);
			if (sql == NULL) {
				return SJE_ENOMEM;
			}
			r = PQexecParams(s->conn, sql, p->n, p->types,
			    p->values, p->lengths, p->formats, 1);
			free(sql);
			if (!pg_ok(r)) {
				rv = pg_result_err(s, r, "claiming jobs");
				PQclear(r);
				return rv;
			}
			changed = strtol(PQcmdTuples(r), NULL, 10);
			PQclear(r);
		}
		if (changed != chunk) {
			SJE_ERROR("store %s: %d jobs claimed, %ld of them "
			          "QUEUED",
			    s->where, chunk, changed);
			// Nothing of the transaction may commit (pg_commit).
			s->kept_failed = true;
			pg_kept_drop_claims(s);
			return SJE_EPRECOND;
		}
		done += (size_t) chunk;
	}
	pg_kept_drop_claims(s);
	return SJE_OK;
}

// pg_flush_successes sends the successes kept for the commit, after the
// attempt records kept (a claim's among them), PG_KEPT_CHUNK a statement:
// one UPDATE of the jobs from (VALUES ...), each only if it is still
// RUNNING under its lease, and one of their current attempts. A success
// whose job was not is SJE_EPRECOND and marks the transaction failed, as
// a claim does (pg_flush_claims).
static sje_err
pg_flush_successes(pg_store *s)
{
	static const char head[] =
	    "WITH v(id, lease_id, result_json, finished_ms) AS (VALUES ";
	static const char tail[] =
	    "), u AS (UPDATE sje_jobs AS j SET state = 5, "
	    "result_json = v.result_json, error_type = NULL, "
	    "error_message = NULL, progress_pct = 100, lease_expires_ms = 0, "
	    "finished_ms = v.finished_ms FROM v WHERE j.id = v.id "
	    "AND j.state = 4 AND j.lease_id = v.lease_id "
	    "RETURNING j.id, j.attempt, v.finished_ms), "
	    "a AS (UPDATE sje_attempts AS t SET finished_ms = u.finished_ms, "
	    "outcome = 5, error_type = NULL, error_message = NULL FROM u "
	    "WHERE t.job_id = u.id AND t.number = u.attempt) "
	    "SELECT count(*) FROM u";
	static const char types[] = "iiti";
	pg_params        *p       = &s->cparams;
	sje_err           rv;

	if (s->n_successes == 0) {
		return SJE_OK;
	}
	if (s->n_attempts > 0 && (rv = pg_flush_attempts(s)) != SJE_OK) {
		return rv;
	}
	for (size_t done = 0; done < s->n_successes;) {
		int chunk = s->n_successes - done > PG_KEPT_CHUNK
		    ? PG_KEPT_CHUNK
		    : (int) (s->n_successes - done);
		if (!pp_reset(p, chunk * 4)) {
			return SJE_ENOMEM;
		}
		for (int i = 0; i < chunk; i++) {
			const pg_kept_success *k =
			    &s->successes[done + (size_t) i];
			pp_i64(p, k->id);
			pp_i64(p, k->lease_id);
			pp_text(p, k->result_json);
			pp_i64(p, k->finished_ms);
		}
		PGresult *r;
		if (chunk == 1) {
			// One by itself: the prepared statement, planned once.
			r = pg_run_with(s, PS_SUCCEED, p, "ending a job", &rv);
		} else {
			for (int i = 0; i < p->n; i++) {
				p->types[i] = pg_type_oid(types[i % 4]);
			}
			char *sql = pg_values_sql(head, 4, chunk, tail);
			if (sql == NULL) {
				return SJE_ENOMEM;
			}
			r = PQexecParams(s->conn, sql, p->n, p->types,
			    p->values, p->lengths, p->formats, 1);
			free(sql);
			if (!pg_ok(r)) {
				rv = pg_result_err(s, r, "ending jobs");
				PQclear(r);
				r = NULL;
			}
		}
		if (r == NULL) {
			return rv;
		}
		// The first column counts the rows changed (PS_SUCCEED's too).
		int64_t changed = PQntuples(r) == 1 ? pr_i64(r, 0, 0) : -1;
		PQclear(r);
		if (changed != chunk) {
			SJE_ERROR("store %s: %d jobs ended, %lld of them "
			          "RUNNING under their lease",
			    s->where, chunk, (long long) changed);
			s->kept_failed = true;
			pg_kept_drop_successes(s);
			return SJE_EPRECOND;
		}
		done += (size_t) chunk;
	}
	pg_kept_drop_successes(s);
	return SJE_OK;
}

// pg_keep_success keeps ok, job id's success, for the commit; a second
// success of the job in the transaction is SJE_EPRECOND at once.
static sje_err
pg_keep_success(pg_store *s, int64_t id, const sje__job_success *ok)
{
	for (size_t i = 0; i < s->n_successes; i++) {
		if (s->successes[i].id == id) {
			return SJE_EPRECOND;
		}
	}
	if (s->n_successes == s->cap_successes) {
		size_t nc = s->cap_successes > 0 ? s->cap_successes * 2 : 64;
		pg_kept_success *nv = realloc(s->successes, nc * sizeof(*nv));
		if (nv == NULL) {
			return SJE_ENOMEM;
		}
		s->successes     = nv;
		s->cap_successes = nc;
	}
	char *result = strdup(ok->result_json);
	if (result == NULL) {
		return SJE_ENOMEM;
	}
	s->successes[s->n_successes++] = (pg_kept_success) { .id = id,
		.lease_id    = (int64_t) ok->lease_id,
		.result_json = result,
		.finished_ms = ok->finished_ms };
	return SJE_OK;
}

// pg_keep_claim keeps claim c of job id for the commit; a second claim of
// the job in the transaction is SJE_EPRECOND at once.
static sje_err
pg_keep_claim(pg_store *s, int64_t id, const sje__job_claim *c)
{
	// Claimed already in this transaction: refused at once, as the
	// statement would.
	for (size_t i = 0; i < s->n_claims; i++) {
		if (s->claims[i].id == id) {
			return SJE_EPRECOND;
		}
	}
	if (s->n_claims == s->cap_claims) {
		size_t         nc = s->cap_claims > 0 ? s->cap_claims * 2 : 64;
		pg_kept_claim *nv = realloc(s->claims, nc * sizeof(*nv));
		if (nv == NULL) {
			return SJE_ENOMEM;
		}
		s->claims     = nv;
		s->cap_claims = nc;
	}
	char *worker = sje__strdup(c->worker != NULL ? c->worker : "");
	if (worker == NULL) {
		return SJE_ENOMEM;
	}
	s->claims[s->n_claims++] = (pg_kept_claim) { .id = id,
		.attempt                                 = c->attempt,
		.lease_id   = (int64_t) c->lease_id,
		.expires_ms = c->lease_expires_ms,
		.worker     = worker,
		.started_ms = c->started_ms };
	return SJE_OK;
}

// pg_keep_attempt keeps attempt a of job_id for the commit, replacing one
// kept for the same job and number (the later write wins, as it would).
static sje_err
pg_keep_attempt(pg_store *s, int64_t job_id, const sje__attempt_row *a)
{
	pg_kept_attempt *k = NULL;
	// The newest first: a job's claim and end are near each other.
	for (size_t i = s->n_attempts; i > 0; i--) {
		pg_kept_attempt *o = &s->attempts[i - 1];
		if (o->job_id == job_id && o->a.number == a->number) {
			k = o;
			break;
		}
	}
	if (k == NULL) {
		if (s->n_attempts == s->cap_attempts) {
			size_t nc =
			    s->cap_attempts > 0 ? s->cap_attempts * 2 : 64;
			pg_kept_attempt *nv =
			    realloc(s->attempts, nc * sizeof(*nv));
			if (nv == NULL) {
				return SJE_ENOMEM;
			}
			s->attempts     = nv;
			s->cap_attempts = nc;
		}
		k = &s->attempts[s->n_attempts++];
		memset(k, 0, sizeof(*k));
	}
	char *w = NULL, *et = NULL, *em = NULL;
	if ((a->worker != NULL && (w = sje__strdup(a->worker)) == NULL) ||
	    (a->error_type != NULL &&
	        (et = sje__strdup(a->error_type)) == NULL) ||
	    (a->error_message != NULL &&
	        (em = sje__strdup(a->error_message)) == NULL)) {
		free(w);
		free(et);
		free(em);
		if (k->a.number == 0) { // the slot just added
			s->n_attempts--;
		}
		return SJE_ENOMEM;
	}
	free(k->a.worker);
	free(k->a.error_type);
	free(k->a.error_message);
	k->job_id          = job_id;
	k->a               = *a;
	k->a.worker        = w;
	k->a.error_type    = et;
	k->a.error_message = em;
	return SJE_OK;
}

// pg_insert_chunk inserts rows[0..n) in one statement, writing their ids.
// SJE_EEXIST when any task_id exists (then the rows of this statement
// that went in are in ids[0..*got), for the caller to delete).
static sje_err
pg_insert_chunk(
    pg_store *s, const sje__job_row *rows, int n, int64_t *ids, int *got)
{
	sje_err   rv;
	PGresult *r;

	*got = 0;
	if (!pp_reset(&s->params, n * PG_INSERT_NPARAMS)) {
		return SJE_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		pg_add_insert(&s->params, &rows[i]);
	}
	if (n == 1) {
		r = pg_run(s, PS_INSERT, "inserting a job", &rv);
	} else {
		char *sql = pg_insert_sql(n);
		if (sql == NULL) {
			return SJE_ENOMEM;
		}
		for (int i = 0; i < n * PG_INSERT_NPARAMS; i++) {
			s->params.types[i] = pg_type_oid(
			    PG_INSERT_TYPES[i % PG_INSERT_NPARAMS]);
		}
		r = PQexecParams(s->conn, sql, s->params.n, s->params.types,
		    s->params.values, s->params.lengths, s->params.formats, 1);
		free(sql);
		if (!pg_ok(r)) {
			rv = pg_result_err(s, r, "inserting jobs");
			PQclear(r);
			r = NULL;
		}
	}
	if (r == NULL) {
		return rv;
	}
	// The rows come back in the order of VALUES, which is the order the
	// identity gave their ids: rising.
	int rows_back = PQntuples(r);
	for (int i = 0; i < rows_back && i < n; i++) {
		ids[i] = pr_i64(r, i, 0);
	}
	*got = rows_back < n ? rows_back : n;
	PQclear(r);
	return rows_back == n ? SJE_OK : SJE_EEXIST;
}

// pg_delete_ids deletes the jobs ids[0..n) (an insert undone).
static sje_err
pg_delete_ids(pg_store *s, const int64_t *ids, size_t n)
{
	// int8[] in binary: ndim, has-null flag, element type, then one
	// dimension (length, lower bound), then each element (length, value).
	size_t    len = 20 + n * 12;
	uint8_t  *buf = malloc(len);
	sje_err   rv;
	PGresult *r;

	if (buf == NULL || !pp_reset(&s->params, 1)) {
		free(buf);
		return SJE_ENOMEM;
	}
	uint32_t hdr[5] = { htobe32(1), 0, htobe32(20), htobe32((uint32_t) n),
		htobe32(1) };
	memcpy(buf, hdr, sizeof(hdr));
	for (size_t i = 0; i < n; i++) {
		uint32_t l = htobe32(8);
		uint64_t v = htobe64((uint64_t) ids[i]);
		memcpy(buf + 20 + i * 12, &l, 4);
		memcpy(buf + 24 + i * 12, &v, 8);
	}
	pp_raw(&s->params, buf, (int) len);
	r = pg_run(s, PS_DELETE_IDS, "undoing inserted jobs", &rv);
	PQclear(r);
	free(buf);
	return rv;
}

// pg_insert_all inserts rows[0..n) in chunks into ids; on failure deletes
// what went in.
static sje_err
pg_insert_all(pg_store *s, const sje__job_row *rows, size_t n, int64_t *ids)
{
	size_t  done = 0;
	sje_err rv   = SJE_OK;

	while (done < n) {
		int chunk = n - done > PG_INSERT_CHUNK ? PG_INSERT_CHUNK
		                                       : (int) (n - done);
		int got   = 0;
		rv = pg_insert_chunk(s, rows + done, chunk, ids + done, &got);
		done += (size_t) got;
		if (rv != SJE_OK) {
			break;
		}
	}
	if (rv == SJE_EEXIST && done > 0) {
		sje_err undo = pg_delete_ids(s, ids, done);
		if (undo != SJE_OK) {
			return undo;
		}
	}
	return rv;
}

static sje_err
pg_insert_jobs(sje__store *h, const sje__job_row *rows, size_t n, int64_t *ids)
{
	pg_store *s = h->impl;
	int64_t  *got;
	sje_err   rv;

	if (n == 0) {
		return SJE_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].task_id == NULL || rows[i].function == NULL) {
			return SJE_EINVAL;
		}
	}
	if ((got = calloc(n, sizeof(*got))) == NULL) {
		return SJE_ENOMEM;
	}
	// Outside a transaction, several statements are made one.
	bool own = n > PG_INSERT_CHUNK && !pg_in_txn(s);
	if (own && (rv = pg_exec(s, "BEGIN", "inserting jobs")) != SJE_OK) {
		free(got);
		return rv;
	}
	rv = pg_insert_all(s, rows, n, got);
	if (own) {
		sje_err end = pg_exec(
		    s, rv == SJE_OK ? "COMMIT" : "ROLLBACK", "inserting jobs");
		if (rv == SJE_OK) {
			rv = end;
		}
	}
	if (rv == SJE_OK) {
		memcpy(ids, got, n * sizeof(*ids));
	}
	free(got);
	return rv;
}

static sje_err
pg_update_job(
    sje__store *h, const sje__job_row *row, const sje__job_expect *expect)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	if (!pp_reset(&s->params, 18)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, row->id);
	pg_add_mutable(&s->params, row);
	pp_i64(&s->params, expect->state);
	pp_i64(&s->params, (int64_t) expect->lease_id);
	if ((r = pg_run(s, PS_UPDATE, "updating a job", &rv)) == NULL) {
		return rv;
	}
	return pg_changed(r);
}

static sje_err
pg_claim_job(sje__store *h, int64_t id, const sje__job_claim *c)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	if (c->lease_id == 0) {
		return SJE_EINVAL;
	}
	if (!pp_reset(&s->params, 6)) {
		return SJE_ENOMEM;
	}
	// In a transaction the claim and its attempt wait for the commit
	// (or for the next statement that reads jobs: pg_run), sent with the
	// round's others; by itself, the claim writes its attempt in the same
	// statement.
	if (pg_in_txn(s)) {
		if ((rv = pg_keep_claim(s, id, c)) != SJE_OK) {
			return rv;
		}
	} else {
		pp_i64(&s->params, id);
		pp_i64(&s->params, c->attempt);
		pp_i64(&s->params, (int64_t) c->lease_id);
		pp_i64(&s->params, c->lease_expires_ms);
		pp_text(&s->params, c->worker);
		pp_i64(&s->params, c->started_ms);
		if ((r = pg_run(s, PS_CLAIM, "claiming a job", &rv)) == NULL) {
			return rv;
		}
		return pg_changed(r);
	}
	sje__attempt_row a = { .number = c->attempt,
		.worker                = (char *) c->worker,
		.started_ms            = c->started_ms,
		.outcome = SJE__V1__JOB_STATE__JOB_STATE_RUNNING };
	return pg_keep_attempt(s, id, &a);
}

static sje_err
pg_extend_lease(
    sje__store *h, int64_t id, uint64_t lease_id, sje_time_ms expires_ms)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	if (!pp_reset(&s->params, 3)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, id);
	pp_i64(&s->params, (int64_t) lease_id);
	pp_i64(&s->params, expires_ms);
	if ((r = pg_run(s, PS_EXTEND, "extending a lease", &rv)) == NULL) {
		return rv;
	}
	return pg_changed(r);
}

static sje_err
pg_succeed_job(sje__store *h, int64_t id, const sje__job_success *ok)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	if (ok->lease_id == 0 || ok->result_json == NULL) {
		return SJE_EINVAL;
	}
	// In a transaction it waits for the commit (or for the next
	// statement that reads jobs: pg_run), sent with the round's others.
	if (pg_in_txn(s)) {
		return pg_keep_success(s, id, ok);
	}
	if (!pp_reset(&s->params, 4)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, id);
	pp_i64(&s->params, (int64_t) ok->lease_id);
	pp_text(&s->params, ok->result_json);
	pp_i64(&s->params, ok->finished_ms);
	if ((r = pg_run(s, PS_SUCCEED, "ending a job", &rv)) == NULL) {
		return rv;
	}
	return pg_changed(r);
}

// pg_read_row fills row (zeroed by the caller) from row i of r, in
// SJE__STORE_COLS order. On failure row may hold some strings: the caller
// frees them (sje__job_row_fini).
static sje_err
pg_read_row(const PGresult *r, int i, sje__job_row *row)
{
	sje_err rv;

	if (PQnfields(r) != COL_COUNT) {
		return SJE_EIO;
	}
	if ((rv = pr_text(r, i, COL_TASK_ID, &row->task_id)) != SJE_OK ||
	    (rv = pr_text(r, i, COL_FUNCTION, &row->function)) != SJE_OK ||
	    (rv = pr_text(r, i, COL_WORKER, &row->worker)) != SJE_OK ||
	    (rv = pr_text(r, i, COL_RESULT_JSON, &row->result_json)) !=
	        SJE_OK ||
	    (rv = pr_text(r, i, COL_ERROR_TYPE, &row->error_type)) != SJE_OK ||
	    (rv = pr_text(r, i, COL_ERROR_MESSAGE, &row->error_message)) !=
	        SJE_OK ||
	    (rv = pr_text(r, i, COL_PROGRESS_MSG, &row->progress_msg)) !=
	        SJE_OK ||
	    (rv = pr_text(r, i, COL_WORKFLOW_ID, &row->workflow_id)) !=
	        SJE_OK) {
		return rv;
	}
	int n = PQgetlength(r, i, COL_SPEC);
	if (n > 0) {
		if ((row->spec = malloc((size_t) n)) == NULL) {
			return SJE_ENOMEM;
		}
		memcpy(row->spec, PQgetvalue(r, i, COL_SPEC), (size_t) n);
		row->spec_len = (size_t) n;
	}
	row->id               = pr_i64(r, i, COL_ID);
	row->state            = (int) pr_i64(r, i, COL_STATE);
	row->priority         = (int32_t) pr_i64(r, i, COL_PRIORITY);
	row->attempt          = (uint32_t) pr_i64(r, i, COL_ATTEMPT);
	row->max_attempts     = (uint32_t) pr_i64(r, i, COL_MAX_ATTEMPTS);
	row->timeout_s        = (uint32_t) pr_i64(r, i, COL_TIMEOUT_S);
	row->lease_id         = (uint64_t) pr_i64(r, i, COL_LEASE_ID);
	row->lease_expires_ms = pr_i64(r, i, COL_LEASE_EXPIRES_MS);
	row->ready_at_ms      = pr_i64(r, i, COL_READY_AT_MS);
	row->progress_pct     = pr_f64(r, i, COL_PROGRESS_PCT);
	row->cancel_requested = pr_bool(r, i, COL_CANCEL_REQUESTED);
	row->created_ms       = pr_i64(r, i, COL_CREATED_MS);
	row->started_ms       = pr_i64(r, i, COL_STARTED_MS);
	row->finished_ms      = pr_i64(r, i, COL_FINISHED_MS);
	row->run_first        = pr_bool(r, i, COL_RUN_FIRST);
	return SJE_OK;
}

// pg_new_row reads row i of r into a new row.
static sje_err
pg_new_row(const PGresult *r, int i, sje__job_row **out)
{
	sje__job_row *row = calloc(1, sizeof(*row));
	sje_err       rv;

	if (row == NULL) {
		return SJE_ENOMEM;
	}
	if ((rv = pg_read_row(r, i, row)) != SJE_OK) {
		sje__job_row_free(row);
		return rv;
	}
	*out = row;
	return SJE_OK;
}

// pg_get_one runs st (parameters set) for at most one job.
static sje_err
pg_get_one(pg_store *s, enum pg_stmt st, sje__job_row **out)
{
	sje_err   rv;
	PGresult *r = pg_run(s, st, "reading a job", &rv);

	if (r == NULL) {
		return rv;
	}
	rv = PQntuples(r) == 0 ? SJE_ENOTFOUND : pg_new_row(r, 0, out);
	PQclear(r);
	return rv;
}

static sje_err
pg_get_job(sje__store *h, const char *task_id, sje__job_row **out)
{
	pg_store *s = h->impl;

	if (task_id == NULL) {
		return SJE_ENOTFOUND;
	}
	if (!pp_reset(&s->params, 1)) {
		return SJE_ENOMEM;
	}
	pp_text(&s->params, task_id);
	return pg_get_one(s, PS_GET, out);
}

static sje_err
pg_get_job_by_id(sje__store *h, int64_t id, sje__job_row **out)
{
	pg_store *s = h->impl;

	if (!pp_reset(&s->params, 1)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, id);
	return pg_get_one(s, PS_GET_BY_ID, out);
}

// pg_find_key is one id of pg_find_jobs and where it was asked.
typedef struct pg_find_key {
	const char *id;
	size_t      at;
} pg_find_key;

static int
pg_find_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const pg_find_key *) a)->id, ((const pg_find_key *) b)->id);
}

// pg_text_array makes the text[] literal of the ids of task_ids[0..n)
// that are not NULL ({"a","b"}, '"' and '\\' escaped) in *lit, and their
// keys in *keys (*k of them), sorted by id for pg_key_range. SJE_ENOMEM.
static sje_err
pg_text_array(const char *const *task_ids, size_t n, char **lit,
    pg_find_key **keys, size_t *k)
{
	size_t len = 3;
	*k         = 0;
	for (size_t i = 0; i < n; i++) {
		if (task_ids[i] != NULL) {
			len += 2 * strlen(task_ids[i]) + 3;
		}
	}
	*lit  = malloc(len);
	*keys = malloc(sizeof(**keys) * (n + 1));
	if (*lit == NULL || *keys == NULL) {
		free(*lit);
		free(*keys);
		*lit  = NULL;
		*keys = NULL;
		return SJE_ENOMEM;
	}
	char *p = *lit;
	*p++    = '{';
	for (size_t i = 0; i < n; i++) {
		if (task_ids[i] == NULL) {
			continue;
		}
		if (*k > 0) {
			*p++ = ',';
		}
		*p++ = '"';
		for (const char *c = task_ids[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\') {
				*p++ = '\\';
			}
			*p++ = *c;
		}
		*p++            = '"';
		(*keys)[(*k)++] = (pg_find_key) { .id = task_ids[i], .at = i };
	}
	*p++ = '}';
	*p   = '\0';
	qsort(*keys, *k, sizeof(**keys), pg_find_cmp);
	return SJE_OK;
}

// pg_key_range finds id among keys[0..k) (sorted): the range [*lo, *hi]
// of the keys asking for it (an id may be asked twice); false when none.
static bool
pg_key_range(
    const pg_find_key *keys, size_t k, const char *id, size_t *lo, size_t *hi)
{
	pg_find_key        want = { .id = id };
	const pg_find_key *hit =
	    bsearch(&want, keys, k, sizeof(*keys), pg_find_cmp);
	if (hit == NULL) {
		return false;
	}
	*lo = *hi = (size_t) (hit - keys);
	while (*lo > 0 && strcmp(keys[*lo - 1].id, id) == 0) {
		(*lo)--;
	}
	while (*hi + 1 < k && strcmp(keys[*hi + 1].id, id) == 0) {
		(*hi)++;
	}
	return true;
}

// pg_run_ids runs st with the ids of task_ids[0..n) as its one array
// parameter (pg_text_array; pg_run sends kept claims first). The result
// (NULL with *rv set on failure, or when no id is asked: *rv SJE_OK and
// *k 0) and the sorted keys (*key, caller frees) are the caller's.
static PGresult *
pg_run_ids(pg_store *s, enum pg_stmt st, const char *what,
    const char *const *task_ids, size_t n, pg_find_key **key, size_t *k,
    sje_err *rv)
{
	char *lit = NULL;
	if ((*rv = pg_text_array(task_ids, n, &lit, key, k)) != SJE_OK ||
	    *k == 0) {
		free(lit);
		return NULL;
	}
	PGresult *r = NULL;
	if (!pp_reset(&s->params, 1)) {
		*rv = SJE_ENOMEM;
	} else {
		pp_literal(&s->params, lit);
		r = pg_run(s, st, what, rv);
	}
	free(lit);
	return r;
}

// One statement for them all (pg_text_array).
static sje_err
pg_find_jobs(sje__store *h, const char *const *task_ids, size_t n, bool *found)
{
	pg_store    *s   = h->impl;
	pg_find_key *key = NULL;
	size_t       k   = 0, lo, hi;
	sje_err      rv;
	for (size_t i = 0; i < n; i++) {
		found[i] = false;
	}
	PGresult *r = pg_run_ids(
	    s, PS_FIND_MANY, "looking jobs up", task_ids, n, &key, &k, &rv);
	for (int row = 0; r != NULL && row < PQntuples(r); row++) {
		if (pg_key_range(key, k, PQgetvalue(r, row, 0), &lo, &hi)) {
			for (size_t j = lo; j <= hi; j++) {
				found[key[j].at] = true;
			}
		}
	}
	PQclear(r);
	free(key);
	return rv;
}

// One statement for them all (pg_text_array); rows as PS_GET reads them.
static sje_err
pg_get_jobs(
    sje__store *h, const char *const *task_ids, size_t n, sje__job_row **rows)
{
	pg_store    *s   = h->impl;
	pg_find_key *key = NULL;
	size_t       k   = 0, lo, hi;
	sje_err      rv;
	for (size_t i = 0; i < n; i++) {
		rows[i] = NULL;
	}
	PGresult *r = pg_run_ids(
	    s, PS_GET_MANY, "reading jobs", task_ids, n, &key, &k, &rv);
	for (int row = 0; r != NULL && row < PQntuples(r) && rv == SJE_OK;
	     row++) {
		sje__job_row *got;
		if ((rv = pg_new_row(r, row, &got)) != SJE_OK) {
			break;
		}
		if (!pg_key_range(key, k, got->task_id, &lo, &hi)) {
			sje__job_row_free(got);
			continue;
		}
		rows[key[lo].at] = got;
		for (size_t j = lo + 1; j <= hi && rv == SJE_OK; j++) {
			rv = pg_new_row(r, row, &rows[key[j].at]);
		}
	}
	if (rv != SJE_OK) {
		for (size_t i = 0; i < n; i++) {
			sje__job_row_free(rows[i]);
			rows[i] = NULL;
		}
	}
	PQclear(r);
	free(key);
	return rv;
}

static sje_err
pg_get_result(sje__store *h, const char *task_id, char **out)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	*out = NULL;
	if (task_id == NULL) {
		return SJE_ENOTFOUND;
	}
	if (!pp_reset(&s->params, 1)) {
		return SJE_ENOMEM;
	}
	pp_text(&s->params, task_id);
	if ((r = pg_run(s, PS_GET_RESULT, "reading a result", &rv)) == NULL) {
		return rv;
	}
	rv = PQntuples(r) == 0 ? SJE_ENOTFOUND : pr_text(r, 0, 0, out);
	PQclear(r);
	return rv;
}

static sje_err pg_list_rows(
    pg_store *s, enum pg_stmt st, sje__job_row ***rows, size_t *n);

// pg_text_or_null is v, or NULL for NULL or "".
static const char *
pg_text_or_null(const char *v)
{
	return v != NULL && v[0] != '\0' ? v : NULL;
}

// pg_list_more is pg_list_jobs for a filter with a prefix, a parent or
// the runs, with $1 and $2 in s->params: one statement per driving
// filter (a parent's rows, then the runs' index, then the prefix's
// range), every other filter in its WHERE (PG_LIST_REST).
static sje_err
pg_list_more(
    pg_store *s, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	const char *parent = pg_text_or_null(f->parent);
	const char *prefix = pg_text_or_null(f->task_id_prefix);
	char       *upper  = NULL;
	sje_err     rv;

	if (prefix != NULL &&
	    (rv = sje__store_prefix_upper(prefix, &upper)) != SJE_OK) {
		return rv;
	}
	pp_i64(&s->params, f->state);
	pp_text(&s->params, pg_text_or_null(f->function));
	pp_text(&s->params, pg_text_or_null(f->workflow_id));
	pp_text(&s->params, pg_text_or_null(f->worker));
	pp_i64(&s->params, f->created_from_ms);
	pp_i64(&s->params, f->created_before_ms);
	pp_text(&s->params, prefix);
	pp_text(&s->params, upper);
	pp_text(&s->params, parent);
	pp_bool(&s->params, f->runs);
	rv = pg_list_rows(s,
	    parent != NULL ? PS_LIST_PARENT
	        : f->runs  ? PS_LIST_RUNS
	                   : PS_LIST_PREFIX,
	    rows, n);
	free(upper);
	return rv;
}

// Edges of one multi-row INSERT (pg_add_parents).
#define PG_PARENT_CHUNK 500

static sje_err
pg_add_parents(sje__store *h, const sje__parent_edge *edges, size_t n)
{
	pg_store *s = h->impl;
	sje_err   rv;

	for (size_t i = 0; i < n; i++) {
		if (edges[i].parent == NULL || edges[i].parent[0] == '\0') {
			return SJE_EINVAL;
		}
	}
	for (size_t at = 0; at < n; at += PG_PARENT_CHUNK) {
		int k = (int) (n - at < PG_PARENT_CHUNK ? n - at
		                                        : PG_PARENT_CHUNK);
		if (!pp_reset(&s->params, 2 * k)) {
			return SJE_ENOMEM;
		}
		for (int i = 0; i < k; i++) {
			pp_text(&s->params, edges[at + (size_t) i].parent);
			pp_i64(&s->params, edges[at + (size_t) i].child_id);
		}
		if (k == 1) {
			PQclear(pg_run(
			    s, PS_ADD_PARENT, "recording parents", &rv));
		} else {
			char *sql =
			    pg_values_sql("INSERT INTO sje_parents "
			                  "(parent_task_id, child_id) VALUES ",
			        2, k, " ON CONFLICT DO NOTHING");
			if (sql == NULL) {
				return SJE_ENOMEM;
			}
			rv = pg_exec_values(s, sql, "ti", "recording parents");
		}
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

static sje_err
pg_list_jobs(
    sje__store *h, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	pg_store *s           = h->impl;
	bool      by_function = f->function != NULL && f->function[0];
	bool      by_state    = f->state != 0;
	bool      by_run      = f->workflow_id != NULL && f->workflow_id[0];
	bool      by_parent   = f->parent != NULL && f->parent[0] != '\0';
	bool      by_prefix =
	    f->task_id_prefix != NULL && f->task_id_prefix[0] != '\0';
	enum pg_stmt st;

	*rows = NULL;
	*n    = 0;
	if (f->limit == 0) {
		return SJE_OK;
	}
	if (!pp_reset(&s->params, 12)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, f->before_id > 0 ? f->before_id : INT64_MAX);
	pp_i64(&s->params, f->limit);
	if (by_parent || f->runs || by_prefix) {
		return pg_list_more(s, f, rows, n);
	}
	// One statement per filter shape, so that each uses its index.
	if (by_run) {
		st = PS_LIST_WORKFLOW;
		pp_i64(&s->params, f->state);
		pp_text(&s->params, by_function ? f->function : NULL);
		pp_text(&s->params, f->workflow_id);
	} else if (by_state && by_function) {
		st = PS_LIST_STATE_FUNCTION;
		pp_i64(&s->params, f->state);
		pp_text(&s->params, f->function);
	} else if (by_state) {
		st = PS_LIST_STATE;
		pp_i64(&s->params, f->state);
	} else if (by_function) {
		st = PS_LIST_FUNCTION;
		pp_text(&s->params, f->function);
	} else {
		st = PS_LIST_ALL;
	}
	pp_text(&s->params,
	    f->worker != NULL && f->worker[0] != '\0' ? f->worker : NULL);
	pp_i64(&s->params, f->created_from_ms);
	pp_i64(&s->params, f->created_before_ms);
	return pg_list_rows(s, st, rows, n);
}

// pg_list_rows runs list statement st with s->params into new rows.
static sje_err
pg_list_rows(pg_store *s, enum pg_stmt st, sje__job_row ***rows, size_t *n)
{
	sje__job_row **out = NULL;
	sje_err        rv  = SJE_OK;
	PGresult      *r;
	int            count;

	if ((r = pg_run(s, st, "listing jobs", &rv)) == NULL) {
		return rv;
	}
	count = PQntuples(r);
	if (count > 0 &&
	    (out = calloc((size_t) count, sizeof(*out))) == NULL) {
		PQclear(r);
		return SJE_ENOMEM;
	}
	for (int i = 0; i < count && rv == SJE_OK; i++) {
		rv = pg_new_row(r, i, &out[i]);
	}
	PQclear(r);
	if (rv != SJE_OK) {
		for (int i = 0; i < count; i++) {
			sje__job_row_free(out[i]);
		}
		free(out);
		return rv;
	}
	*rows = out;
	*n    = (size_t) count;
	return SJE_OK;
}

static sje_err
pg_scan_active(sje__store *h, sje__store_job_fn fn, void *arg)
{
	pg_store    *s  = h->impl;
	sje_err      rv = SJE_OK;
	sje__job_row row;
	PGresult    *r;
	char         name[16];

	// Row by row (single-row mode): the active jobs may be millions.
	sje__snprintf(name, sizeof(name), "sje%d", (int) PS_SCAN_ACTIVE);
	if (!PQsendQueryPrepared(s->conn, name, 0, NULL, NULL, NULL, 1)) {
		return pg_result_err(s, NULL, "scanning active jobs");
	}
	(void) PQsetSingleRowMode(s->conn);
	// Every result is read, even after a failure, so that the
	// connection is ready for the next statement.
	while ((r = PQgetResult(s->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && rv == SJE_OK) {
			memset(&row, 0, sizeof(row));
			rv = pg_read_row(r, 0, &row);
			if (rv == SJE_OK) {
				rv = fn(arg, &row);
			}
			sje__job_row_fini(&row);
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
		    rv == SJE_OK) {
			rv = pg_result_err(s, r, "scanning active jobs");
		}
		PQclear(r);
	}
	return rv;
}

// Attempts. ---------------------------------------------------------------

static sje_err
pg_put_attempt(sje__store *h, int64_t job_id, const sje__attempt_row *a)
{
	pg_store *s = h->impl;
	sje_err   rv;

	if (pg_in_txn(s)) {
		return pg_keep_attempt(s, job_id, a);
	}
	if (!pp_reset(&s->params, 8)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, job_id);
	pp_i64(&s->params, a->number);
	pp_text(&s->params, a->worker);
	pp_i64(&s->params, a->started_ms);
	pp_i64(&s->params, a->finished_ms);
	pp_i64(&s->params, a->outcome);
	pp_text(&s->params, a->error_type);
	pp_text(&s->params, a->error_message);
	PQclear(pg_run(s, PS_PUT_ATTEMPT, "writing an attempt", &rv));
	return rv;
}

static sje_err
pg_list_attempts(
    sje__store *h, int64_t job_id, sje__attempt_row **rows, size_t *n)
{
	pg_store         *s = h->impl;
	sje__attempt_row *v = NULL;
	sje_err           rv;
	PGresult         *r;
	int               count;

	*rows = NULL;
	*n    = 0;
	if ((rv = pg_flush_attempts(s)) != SJE_OK) {
		return rv;
	}
	if (!pp_reset(&s->params, 1)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, job_id);
	if ((r = pg_run(s, PS_LIST_ATTEMPTS, "reading attempts", &rv)) ==
	    NULL) {
		return rv;
	}
	count = PQntuples(r);
	if (count > 0 && (v = calloc((size_t) count, sizeof(*v))) == NULL) {
		PQclear(r);
		return SJE_ENOMEM;
	}
	for (int i = 0; i < count && rv == SJE_OK; i++) {
		sje__attempt_row *a = &v[i];
		a->number           = (uint32_t) pr_i64(r, i, 0);
		a->started_ms       = pr_i64(r, i, 2);
		a->finished_ms      = pr_i64(r, i, 3);
		a->outcome          = (int) pr_i64(r, i, 4);
		if ((rv = pr_text(r, i, 1, &a->worker)) == SJE_OK &&
		    (rv = pr_text(r, i, 5, &a->error_type)) == SJE_OK) {
			rv = pr_text(r, i, 6, &a->error_message);
		}
	}
	PQclear(r);
	if (rv != SJE_OK) {
		sje__attempt_rows_free(v, (size_t) count);
		return rv;
	}
	*rows = v;
	*n    = (size_t) count;
	return SJE_OK;
}

// pg_attempts_range finds job id among r's rows (job_id in column 0,
// ascending): the first row of it in *first and how many in the return.
static size_t
pg_attempts_range(const PGresult *r, int64_t id, int *first)
{
	int lo = 0, hi = PQntuples(r);
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (pr_i64(r, mid, 0) < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*first   = lo;
	size_t k = 0;
	while (lo < PQntuples(r) && pr_i64(r, lo, 0) == id) {
		lo++;
		k++;
	}
	return k;
}

// One statement for them all: the ids as a bigint[] literal, the rows by
// job and number, placed in the order asked.
static sje_err
pg_list_attempts_of(sje__store *h, const int64_t *job_ids, size_t n,
    sje__attempt_row **rows, size_t *counts)
{
	pg_store         *s     = h->impl;
	sje__attempt_row *v     = NULL;
	size_t            total = 0, at = 0;
	PGresult         *r = NULL;
	char             *lit;
	sje_err           rv;

	*rows = NULL;
	for (size_t i = 0; i < n; i++) {
		counts[i] = 0;
	}
	if (n == 0) {
		return SJE_OK;
	}
	if ((rv = pg_flush_attempts(s)) != SJE_OK) {
		return rv;
	}
	if ((lit = malloc(n * 21 + 3)) == NULL) {
		return SJE_ENOMEM;
	}
	char *p = lit;
	*p++    = '{';
	for (size_t i = 0; i < n; i++) {
		p += sprintf(
		    p, "%s%lld", i > 0 ? "," : "", (long long) job_ids[i]);
	}
	*p++ = '}';
	*p   = '\0';
	if (!pp_reset(&s->params, 1)) {
		free(lit);
		return SJE_ENOMEM;
	}
	pp_literal(&s->params, lit);
	r = pg_run(s, PS_ATTEMPTS_OF, "reading attempts", &rv);
	free(lit);
	if (r == NULL) {
		return rv;
	}
	int first;
	for (size_t i = 0; i < n; i++) {
		counts[i] = pg_attempts_range(r, job_ids[i], &first);
		total += counts[i];
	}
	if (total > 0 && (v = calloc(total, sizeof(*v))) == NULL) {
		PQclear(r);
		return SJE_ENOMEM;
	}
	for (size_t i = 0; i < n && rv == SJE_OK; i++) {
		size_t k = pg_attempts_range(r, job_ids[i], &first);
		for (size_t j = 0; j < k && rv == SJE_OK; j++, at++) {
			int               row = first + (int) j;
			sje__attempt_row *t   = &v[at];
			t->number             = (uint32_t) pr_i64(r, row, 1);
			t->started_ms         = pr_i64(r, row, 3);
			t->finished_ms        = pr_i64(r, row, 4);
			t->outcome            = (int) pr_i64(r, row, 5);
			if ((rv = pr_text(r, row, 2, &t->worker)) == SJE_OK &&
			    (rv = pr_text(r, row, 6, &t->error_type)) ==
			        SJE_OK) {
				rv = pr_text(r, row, 7, &t->error_message);
			}
		}
	}
	PQclear(r);
	if (rv != SJE_OK) {
		sje__attempt_rows_free(v, total);
		for (size_t i = 0; i < n; i++) {
			counts[i] = 0;
		}
		return rv;
	}
	*rows = v;
	return SJE_OK;
}

// Events. -----------------------------------------------------------------

static sje_err
pg_next_event_seq(sje__store *h, uint64_t *seq)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	if (s->reader) {
		return SJE_EPRECOND;
	}
	pp_reset(&s->params, 0);
	if (!pg_in_txn(s)) {
		// By itself: the row's own increment commits it.
		if ((r = pg_run(s, PS_SEQ_NEXT, "taking an event seq", &rv)) ==
		    NULL) {
			return rv;
		}
		if (PQntuples(r) != 1) {
			PQclear(r);
			return SJE_EIO;
		}
		s->last_seq = (uint64_t) pr_i64(r, 0, 0);
		PQclear(r);
		*seq = s->last_seq;
		return SJE_OK;
	}
	if (!s->seq_locked) {
		// The transaction's first seq: lock the counter (commit
		// order) and start from what is committed, if that is ahead.
		if ((r = pg_run(s, PS_SEQ_LOCK, "taking an event seq", &rv)) ==
		    NULL) {
			return rv;
		}
		uint64_t db =
		    PQntuples(r) == 1 ? (uint64_t) pr_i64(r, 0, 0) : 0;
		PQclear(r);
		if (db > s->last_seq) {
			s->last_seq = db;
		}
		s->seq_committed = db;
		s->seq_locked    = true;
	}
	s->last_seq++;
	s->seq_dirty = true; // written at commit
	*seq         = s->last_seq;
	return SJE_OK;
}

static sje_err
pg_last_event_seq(sje__store *h, uint64_t *seq)
{
	pg_store *s = h->impl;

	if (s->reader) {
		return pg_seq_read(s, seq); // what is committed
	}
	*seq = s->last_seq;
	return SJE_OK;
}

static sje_err
pg_add_event(sje__store *h, uint64_t seq, const char *task_id,
    const uint8_t *data, size_t len)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	// Under the transaction's counter lock the seq is checked here and
	// the event kept for the commit.
	if (s->seq_locked && pg_in_txn(s)) {
		if (seq <= s->seq_committed) {
			return SJE_EEXIST;
		}
		for (size_t i = 0; i < s->n_events; i++) {
			if (s->events[i].seq == (int64_t) seq) {
				return SJE_EEXIST;
			}
		}
		if (s->n_events == s->cap_events) {
			size_t nc = s->cap_events > 0 ? s->cap_events * 2 : 64;
			pg_kept_event *nv =
			    realloc(s->events, nc * sizeof(*nv));
			if (nv == NULL) {
				return SJE_ENOMEM;
			}
			s->events     = nv;
			s->cap_events = nc;
		}
		pg_kept_event *e = &s->events[s->n_events];
		e->seq           = (int64_t) seq;
		e->len           = len;
		e->task_id       = sje__strdup(task_id != NULL ? task_id : "");
		e->data          = malloc(len > 0 ? len : 1);
		if (e->task_id == NULL || e->data == NULL) {
			free(e->task_id);
			free(e->data);
			return SJE_ENOMEM;
		}
		if (len > 0) {
			memcpy(e->data, data, len);
		}
		s->n_events++;
		return SJE_OK;
	}
	if (!pp_reset(&s->params, 3)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, (int64_t) seq);
	pp_text(&s->params, task_id != NULL ? task_id : "");
	pp_bytes(&s->params, data, len);
	if ((r = pg_run(s, PS_ADD_EVENT, "keeping an event", &rv)) == NULL) {
		return rv;
	}
	rv = PQntuples(r) == 1 ? SJE_OK : SJE_EEXIST;
	PQclear(r);
	return rv;
}

static sje_err
pg_list_events(sje__store *h, uint64_t after, const char *task_id,
    uint32_t limit, sje__store_event_fn fn, void *arg)
{
	pg_store *s       = h->impl;
	bool      by_task = task_id != NULL && task_id[0] != '\0';
	sje_err   rv;
	PGresult *r;

	if ((rv = pg_flush_events(s)) != SJE_OK) {
		return rv;
	}
	if (!pp_reset(&s->params, 3)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, (int64_t) after);
	pp_i64(&s->params, limit);
	if (by_task) {
		pp_text(&s->params, task_id);
	}
	if ((r = pg_run(s, by_task ? PS_LIST_EVENTS_TASK : PS_LIST_EVENTS,
	         "reading events", &rv)) == NULL) {
		return rv;
	}
	for (int i = 0; i < PQntuples(r) && rv == SJE_OK; i++) {
		rv = fn(arg, (uint64_t) pr_i64(r, i, 0),
		    (const uint8_t *) PQgetvalue(r, i, 1),
		    (size_t) PQgetlength(r, i, 1));
	}
	PQclear(r);
	return rv;
}

static sje_err
pg_prune_events(sje__store *h, uint64_t upto)
{
	pg_store *s = h->impl;
	sje_err   rv;

	if ((rv = pg_flush_events(s)) != SJE_OK) {
		return rv;
	}
	if (!pp_reset(&s->params, 1)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, (int64_t) upto);
	PQclear(pg_run(s, PS_PRUNE_EVENTS, "pruning events", &rv));
	return rv;
}

static sje_err
pg_purge_finished(
    sje__store *h, sje_time_ms before_ms, uint32_t limit, uint32_t *n)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	*n = 0;
	// Attempts kept for the commit must not outlive their jobs.
	if ((rv = pg_flush_attempts(s)) != SJE_OK) {
		return rv;
	}
	if (!pp_reset(&s->params, 2)) {
		return SJE_ENOMEM;
	}
	pp_i64(&s->params, before_ms);
	pp_i64(&s->params, limit);
	if ((r = pg_run(s, PS_PURGE, "purging finished jobs", &rv)) == NULL) {
		return rv;
	}
	*n = (uint32_t) strtoul(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return SJE_OK;
}

// pg_kept_drop_job forgets the attempt records kept for the commit of
// job job_id (a job deleted in the transaction: they must not come back
// with it).
static void
pg_kept_drop_job(pg_store *s, int64_t job_id)
{
	size_t w = 0;
	for (size_t i = 0; i < s->n_attempts; i++) {
		pg_kept_attempt *k = &s->attempts[i];
		if (k->job_id == job_id) {
			free(k->a.worker);
			free(k->a.error_type);
			free(k->a.error_message);
		} else {
			s->attempts[w++] = *k;
		}
	}
	s->n_attempts = w;
}

static sje_err
pg_delete_job(sje__store *h, const char *task_id)
{
	pg_store *s = h->impl;
	sje_err   rv;
	PGresult *r;

	if (task_id == NULL) {
		return SJE_ENOTFOUND;
	}
	if (!pp_reset(&s->params, 1)) {
		return SJE_ENOMEM;
	}
	pp_text(&s->params, task_id);
	if ((r = pg_run(s, PS_DELETE_JOB, "deleting a job", &rv)) == NULL) {
		return rv;
	}
	if (PQntuples(r) != 1) {
		rv = SJE_EIO;
	} else if (!PQgetisnull(r, 0, 0)) {
		// Its attempts in the database went with it; those kept for
		// the commit go now.
		pg_kept_drop_job(s, pr_i64(r, 0, 0));
		rv = SJE_OK;
	} else {
		rv = pr_bool(r, 0, 1) ? SJE_EPRECOND : SJE_ENOTFOUND;
	}
	PQclear(r);
	return rv;
}

// Functions. --------------------------------------------------------------

static sje_err
pg_put_function(sje__store *h, const sje__fn_row *row)
{
	pg_store *s = h->impl;
	sje_err   rv;

	if (row->name == NULL || row->name[0] == '\0') {
		return SJE_EINVAL;
	}
	if (!pp_reset(&s->params, 5)) {
		return SJE_ENOMEM;
	}
	pp_text(&s->params, row->name);
	pp_bool(&s->params, row->paused);
	pp_i64(&s->params, row->concurrency);
	pp_text(&s->params, row->rate);
	pp_i64(&s->params, row->updated_ms);
	PQclear(
	    pg_run(s, PS_PUT_FUNCTION, "writing a function's settings", &rv));
	return rv;
}

static sje_err
pg_list_functions(sje__store *h, sje__fn_row **rows, size_t *n)
{
	pg_store    *s = h->impl;
	sje__fn_row *v = NULL;
	sje_err      rv;
	PGresult    *r;
	int          count;

	*rows = NULL;
	*n    = 0;
	pp_reset(&s->params, 0);
	if ((r = pg_run(s, PS_LIST_FUNCTIONS, "reading functions' settings",
	         &rv)) == NULL) {
		return rv;
	}
	count = PQntuples(r);
	if (count > 0 && (v = calloc((size_t) count, sizeof(*v))) == NULL) {
		PQclear(r);
		return SJE_ENOMEM;
	}
	for (int i = 0; i < count && rv == SJE_OK; i++) {
		sje__fn_row *f = &v[i];
		f->paused      = pr_bool(r, i, 1);
		f->concurrency = pr_i64(r, i, 2);
		f->updated_ms  = pr_i64(r, i, 4);
		if ((rv = pr_text(r, i, 0, &f->name)) == SJE_OK) {
			rv = pr_text(r, i, 3, &f->rate);
		}
	}
	PQclear(r);
	if (rv != SJE_OK) {
		sje__fn_rows_free(v, (size_t) count);
		return rv;
	}
	*rows = v;
	*n    = (size_t) count;
	return SJE_OK;
}

static sje_err
pg_put_schedule(sje__store *h, const sje__schedule_row *row)
{
	pg_store *s = h->impl;
	sje_err   rv;

	if (row->name == NULL || row->name[0] == '\0') {
		return SJE_EINVAL;
	}
	if (!pp_reset(&s->params, 3)) {
		return SJE_ENOMEM;
	}
	pp_text(&s->params, row->name);
	pp_i64(&s->params, row->last_tick_ms);
	pp_text(&s->params, row->last_task_id);
	PQclear(pg_run(s, PS_PUT_SCHEDULE, "writing a schedule's state", &rv));
	return rv;
}

static sje_err
pg_list_schedules(sje__store *h, sje__schedule_row **rows, size_t *n)
{
	pg_store          *s = h->impl;
	sje__schedule_row *v = NULL;
	sje_err            rv;
	PGresult          *r;
	int                count;

	*rows = NULL;
	*n    = 0;
	pp_reset(&s->params, 0);
	if ((r = pg_run(s, PS_LIST_SCHEDULES, "reading schedules' state",
	         &rv)) == NULL) {
		return rv;
	}
	count = PQntuples(r);
	if (count > 0 && (v = calloc((size_t) count, sizeof(*v))) == NULL) {
		PQclear(r);
		return SJE_ENOMEM;
	}
	for (int i = 0; i < count && rv == SJE_OK; i++) {
		sje__schedule_row *e = &v[i];
		e->last_tick_ms      = pr_i64(r, i, 1);
		if ((rv = pr_text(r, i, 0, &e->name)) == SJE_OK) {
			rv = pr_text(r, i, 2, &e->last_task_id);
		}
	}
	PQclear(r);
	if (rv != SJE_OK) {
		sje__schedule_rows_free(v, (size_t) count);
		return rv;
	}
	*rows = v;
	*n    = (size_t) count;
	return SJE_OK;
}

// Cursors live in sje_meta, under 'cursor:<name>', so that whichever
// coordinator leads goes on from where the last one got.
static sje_err
pg_get_cursor(sje__store *h, const char *name, uint64_t *seq)
{
	pg_store *s = h->impl;
	char      key[160];
	if (!sje__snprintf(key, sizeof(key), "cursor:%s", name)) {
		return SJE_EINVAL;
	}
	const char *v[1] = { key };
	PGresult   *r =
	    PQexecParams(s->conn, "SELECT value FROM sje_meta WHERE key = $1",
	        1, NULL, v, NULL, NULL, 0);
	if (!pg_ok(r)) {
		sje_err rv = pg_result_err(s, r, "reading a cursor");
		PQclear(r);
		return rv;
	}
	sje_err rv = PQntuples(r) == 1 ? SJE_OK : SJE_ENOTFOUND;
	if (rv == SJE_OK) {
		*seq = (uint64_t) strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	return rv;
}

// A reader's connection is read-only by default: this one write says
// READ WRITE for its own transaction.
static sje_err
pg_put_cursor(sje__store *h, const char *name, uint64_t seq)
{
	pg_store *s = h->impl;
	char      key[160], val[32];
	if (!sje__snprintf(key, sizeof(key), "cursor:%s", name)) {
		return SJE_EINVAL;
	}
	if (pg_in_txn(s)) {
		return SJE_EIO;
	}
	sje__snprintf(val, sizeof(val), "%" PRIu64, seq);
	const char *v[2] = { key, val };
	sje_err     rv   = pg_exec(s, "BEGIN READ WRITE", "writing a cursor");
	if (rv != SJE_OK) {
		return rv;
	}
	PGresult *r = PQexecParams(s->conn,
	    "INSERT INTO sje_meta (key, value) VALUES ($1, $2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	    2, NULL, v, NULL, NULL, 0);
	rv = pg_ok(r) ? SJE_OK : pg_result_err(s, r, "writing a cursor");
	PQclear(r);
	if (rv == SJE_OK) {
		rv = pg_exec(s, "COMMIT", "writing a cursor");
	}
	if (rv != SJE_OK) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
	}
	return rv;
}

static const sje__store_ops pg_ops = {
	.name             = "postgres",
	.close            = pg_close,
	.open_reader      = pg_open_reader,
	.begin            = pg_begin,
	.commit           = pg_commit,
	.rollback         = pg_rollback,
	.insert_jobs      = pg_insert_jobs,
	.claim_job        = pg_claim_job,
	.update_job       = pg_update_job,
	.extend_lease     = pg_extend_lease,
	.succeed_job      = pg_succeed_job,
	.get_job          = pg_get_job,
	.get_job_by_id    = pg_get_job_by_id,
	.get_result       = pg_get_result,
	.find_jobs        = pg_find_jobs,
	.get_jobs         = pg_get_jobs,
	.list_jobs        = pg_list_jobs,
	.add_parents      = pg_add_parents,
	.scan_active      = pg_scan_active,
	.put_attempt      = pg_put_attempt,
	.list_attempts    = pg_list_attempts,
	.list_attempts_of = pg_list_attempts_of,
	.next_event_seq   = pg_next_event_seq,
	.last_event_seq   = pg_last_event_seq,
	.add_event        = pg_add_event,
	.list_events      = pg_list_events,
	.prune_events     = pg_prune_events,
	.purge_finished   = pg_purge_finished,
	.delete_job       = pg_delete_job,
	.put_function     = pg_put_function,
	.list_functions   = pg_list_functions,
	.put_schedule     = pg_put_schedule,
	.list_schedules   = pg_list_schedules,
	.get_cursor       = pg_get_cursor,
	.put_cursor       = pg_put_cursor,
};
