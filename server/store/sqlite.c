// sqlite.c — the SQLite backend of the job store (store.h's operations
// table; the embedded default).
//
// One connection to <directory>/sje.db, in WAL mode, owned by the
// scheduler thread (the connection is opened with SQLITE_OPEN_NOMUTEX: the
// store is not thread-safe, see store.h). synchronous=NORMAL survives a
// crash of the process with every commit; synchronous=FULL (SJE_SYNC_FULL)
// also survives a power cut, at the cost of an fsync per commit. Group
// commit is the caller's: sje__store_begin, many writes, sje__store_commit.
// Readers (sje__store_open_reader) are read-only connections of their own.
//
// Every statement is prepared once, at open, from the table store_sql[]
// (indexed by enum store_stmt), and kept until close. A statement is used
// as: bind, step, read, then store_done() resets it and clears its
// bindings, on every path, so no statement is left holding a read lock or
// borrowed text between calls. Text is bound SQLITE_STATIC: the caller's
// strings outlive the step.
//
// Conditional verbs are one UPDATE with the condition in its WHERE: when
// it changes no row, one more read (store_why_not) tells a missing job
// (SJE_ENOTFOUND) from a failed condition (SJE_EPRECOND). One connection
// writes, so nothing can slip between the two.
//
// Event seqs: the store assigns them from a counter kept in memory
// (last_seq), read at open from the meta row "event_seq" (or the newest
// kept event, if higher), and written back to that row once per
// transaction, at commit; a rollback puts the counter back. Stores of
// every earlier version keep the same row, so they open unchanged.
//
// Events kept inside a transaction are not written one statement each:
// they wait in a buffer of the store's (store_events) and are written at
// commit, or before anything on the connection reads events, up to
// STORE_EVENT_ROWS rows to a statement (ST_ADD_EVENTS). A seq at or below
// one already kept, or an event outside a transaction, is written at once,
// so that a duplicate is refused (SJE_EEXIST) by the call that made it. A
// rollback drops the buffer with the transaction.
//
// Checkpoints: the writer never checkpoints. SQLite's automatic
// checkpoint would run on the committing thread, the scheduler's, where
// its fsyncs and page copies stall every reply behind them for
// milliseconds. So a WAL hook on the writer counts the WAL's frames after
// each commit, and once STORE_CHECKPOINT_PAGES of them have not been
// copied back it wakes the checkpointer: a thread of the store's own with
// a connection of its own, which runs a PASSIVE checkpoint (it never
// blocks the writer). Each pass costs two fsyncs, so the checkpointer
// runs again only for as many new frames, or once the writer has been
// quiet for STORE_CHECKPOINT_QUIET_MS, to copy back the rest. The writer
// restarts the WAL from its start once a checkpoint has caught up with
// it, which a pass beside a busy writer rarely does (commits come while
// it syncs); so the writer copies back the tail itself, after a commit
// that finds the checkpointer idle and at most STORE_CHECKPOINT_TAIL
// frames left of STORE_CHECKPOINT_RESTART_PAGES or more (16 MiB), which
// is how long the WAL grows before it restarts. A
// writer that outruns the checkpointer checkpoints once itself past
// STORE_CHECKPOINT_MAX_PAGES, as SQLite would have, so the WAL stays
// bounded. Close stops the thread before the writer's own close
// checkpoints the rest.
//
// Errors: SQLITE_* codes become sje_err in one place, store_err(), which
// also logs SQLite's message (callers never see SQL text). The connection
// uses extended result codes so that a UNIQUE violation (the task_id
// index) can be told from other constraint failures: it is SJE_EEXIST and
// is not logged, as the caller expects it (idempotent submit).
//
// Schema: PRAGMA user_version holds the schema version. store_migrate
// runs, in one transaction, every step from the file's version up to
// SJE_STORE_SCHEMA_VERSION (store_migrations[v] takes version v to v+1).
// A file whose version is newer than ours is refused (SJE_EPROTO) before
// anything is written to it. To change the schema: append a step, bump
// SJE_STORE_SCHEMA_VERSION in store.h, never edit a released step.
//
// Schema version 1:
//   jobs: one row per job; id is the rowid (submit order). Integers that
//     are unsigned in C are stored as SQLite's signed 64-bit integers
//     (lease_id is cast bit for bit). NULL strings stay NULL.
//   jobs_active: a partial index of the non-terminal jobs (state < 5,
//     Sje__V1__JobState), in id order, for sje__store_scan_active; it
//     stays small however many finished jobs the table keeps.
//   jobs_state, jobs_function: (state, id) and (function, id) for
//     sje__store_list_jobs, newest first, with a before_id cursor.
//   meta: named 64-bit counters: "event_seq", the last event seq taken
//     ("lease_seq", in stores of early versions, is no longer read).
// Later steps (store_migrations) add attempts and events (2), the index
// of finished jobs (3), workflow_id (4) and, in version 5:
//   functions: one row per function an operator set something on (pause,
//     limits: sje__fn_row), by name; paused is 0 or 1.
// and, in version 6:
//   schedules: one row per schedule that fired (sje__schedule_row).
// and, in version 7:
//   parents: (parent_task_id, child_id), one row per parent a job named
//     in depends_on (sje__store_add_parents), for listing a job's
//     children newest first; parents_child (child_id) deletes a child's
//     rows with it. Jobs stored before keep no rows: their children are
//     not listed.
//   jobs.run_first: 1 on the first step stored of each workflow run (set
//     on the steps stored before, too), and jobs_runs, a partial index
//     of those, so that runs list newest first by id.
#include <sje/sje.h>

#include "store/store.h"

#include "store/columns.h"

#include "clock.h"
#include "log.h"
#include "sje/v1/job.pb-c.h"
#include "util.h"

#include <sqlite3.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_BUSY_TIMEOUT_MS 5000

// The first terminal state (Sje__V1__JobState SUCCEEDED); the partial
// index and the scan use this literal, and SQLite needs it literal in both.
#define STORE_TERMINAL_MIN "5"
_Static_assert(SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED == 5,
    "STORE_TERMINAL_MIN is the first terminal state");
// ST_CLAIM, ST_EXTEND and ST_SUCCEED name QUEUED, RUNNING and SUCCEEDED by
// number, as literals.
_Static_assert(SJE__V1__JOB_STATE__JOB_STATE_QUEUED == 3 &&
        SJE__V1__JOB_STATE__JOB_STATE_RUNNING == 4,
    "ST_CLAIM and ST_EXTEND know QUEUED as 3 and RUNNING as 4");

// store_migrations[v] takes the schema from version v to v + 1.
static const char *const store_migrations[SJE_STORE_SCHEMA_VERSION] = {
	// 0 -> 1: the first schema.
	"CREATE TABLE jobs ("
	"  id               INTEGER PRIMARY KEY,"
	"  task_id          TEXT NOT NULL UNIQUE,"
	"  function         TEXT NOT NULL,"
	"  spec             BLOB NOT NULL,"
	"  state            INTEGER NOT NULL,"
	"  priority         INTEGER NOT NULL DEFAULT 0,"
	"  attempt          INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts     INTEGER NOT NULL DEFAULT 0,"
	"  timeout_s        INTEGER NOT NULL DEFAULT 0,"
	"  lease_id         INTEGER NOT NULL DEFAULT 0,"
	"  lease_expires_ms INTEGER NOT NULL DEFAULT 0,"
	"  ready_at_ms      INTEGER NOT NULL DEFAULT 0,"
	"  worker           TEXT,"
	"  result_json      TEXT,"
	"  error_type       TEXT,"
	"  error_message    TEXT,"
	"  progress_pct     REAL NOT NULL DEFAULT 0,"
	"  progress_msg     TEXT,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  created_ms       INTEGER NOT NULL DEFAULT 0,"
	"  started_ms       INTEGER NOT NULL DEFAULT 0,"
	"  finished_ms      INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX jobs_active ON jobs(id)"
	"  WHERE state < " STORE_TERMINAL_MIN ";"
	"CREATE INDEX jobs_state ON jobs(state, id);"
	"CREATE INDEX jobs_function ON jobs(function, id);"
	"CREATE TABLE meta ("
	"  key   TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL"
	");",
	// 1 -> 2: attempt history and kept events.
	"CREATE TABLE attempts ("
	"  job_id        INTEGER NOT NULL,"
	"  number        INTEGER NOT NULL,"
	"  worker        TEXT,"
	"  started_ms    INTEGER NOT NULL DEFAULT 0,"
	"  finished_ms   INTEGER NOT NULL DEFAULT 0,"
	"  outcome       INTEGER NOT NULL,"
	"  error_type    TEXT,"
	"  error_message TEXT,"
	"  PRIMARY KEY (job_id, number)"
	") WITHOUT ROWID;"
	"CREATE TABLE events ("
	"  seq     INTEGER PRIMARY KEY,"
	"  task_id TEXT NOT NULL,"
	"  data    BLOB NOT NULL"
	");",
	// 2 -> 3: finished jobs by time, for server.result_ttl_s.
	"CREATE INDEX jobs_finished ON jobs(finished_ms)"
	"  WHERE state >= " STORE_TERMINAL_MIN ";",
	// 3 -> 4: the workflow run a job is a step of (NULL: none), so that
	// runs are found exactly, not by a task_id prefix. Steps stored
	// before keep NULL: they are no longer listed by run id.
	"ALTER TABLE jobs ADD COLUMN workflow_id TEXT;"
	"CREATE INDEX jobs_workflow ON jobs(workflow_id, id)"
	"  WHERE workflow_id IS NOT NULL;",
	// 4 -> 5: what operators set on functions at run time (pause,
	// limits), kept across restarts.
	"CREATE TABLE functions ("
	"  name        TEXT PRIMARY KEY,"
	"  paused      INTEGER NOT NULL DEFAULT 0,"
	"  concurrency INTEGER NOT NULL DEFAULT -1,"
	"  rate        TEXT,"
	"  updated_ms  INTEGER NOT NULL DEFAULT 0"
	");",
	// 5 -> 6: where each schedule stands (its last tick fired).
	"CREATE TABLE schedules ("
	"  name         TEXT PRIMARY KEY,"
	"  last_tick_ms INTEGER NOT NULL DEFAULT 0,"
	"  last_task_id TEXT"
	");",
	// 6 -> 7: a job's children (by the parents it named), and the
	// first step of each workflow run.
	"CREATE TABLE parents ("
	"  parent_task_id TEXT NOT NULL,"
	"  child_id       INTEGER NOT NULL,"
	"  PRIMARY KEY (parent_task_id, child_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX parents_child ON parents(child_id);"
	"ALTER TABLE jobs ADD COLUMN run_first INTEGER NOT NULL DEFAULT 0;"
	"UPDATE jobs SET run_first = 1 WHERE id IN (SELECT min(id) FROM jobs"
	"  WHERE workflow_id IS NOT NULL GROUP BY workflow_id);"
	"CREATE INDEX jobs_runs ON jobs(id) WHERE run_first = 1;",
};

enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_UPDATE,
	ST_GET,
	ST_GET_BY_ID,
	ST_GET_RESULT,
	ST_LIST_ALL,
	ST_LIST_STATE,
	ST_LIST_FUNCTION,
	ST_LIST_STATE_FUNCTION,
	ST_LIST_WORKFLOW,
	ST_LIST_PREFIX,
	ST_LIST_PREFIX_SCAN,
	ST_PREFIX_COUNT,
	ST_ID_FLOOR,
	ST_LIST_PARENT,
	ST_LIST_RUNS,
	ST_ADD_PARENT,
	ST_SCAN_ACTIVE,
	ST_META_SET,
	ST_SEQ_READ,
	ST_CLAIM,
	ST_EXTEND,
	ST_SUCCEED,
	ST_SUCCEED_ATTEMPT,
	ST_GET_STATE,
	ST_SAVEPOINT,
	ST_ROLLBACK_TO,
	ST_RELEASE,
	ST_PUT_ATTEMPT,
	ST_LIST_ATTEMPTS,
	ST_ADD_EVENT,
	ST_ADD_EVENTS,
	ST_LIST_EVENTS,
	ST_LIST_EVENTS_TASK,
	ST_PRUNE_EVENTS,
	ST_PURGE_ATTEMPTS,
	ST_PURGE_PARENTS,
	ST_PURGE_JOBS,
	ST_DELETE_SAVEPOINT,
	ST_DELETE_ROLLBACK_TO,
	ST_DELETE_RELEASE,
	ST_DELETE_ATTEMPTS,
	ST_DELETE_PARENTS,
	ST_DELETE_JOB,
	ST_EXISTS_TASK,
	ST_PUT_FUNCTION,
	ST_LIST_FUNCTIONS,
	ST_PUT_SCHEDULE,
	ST_LIST_SCHEDULES,
	ST_COUNT,
};

// Events written by one statement (ST_ADD_EVENTS), at most; and how many
// the buffer holds before it is written even inside a transaction.
#define STORE_EVENT_ROWS 16
#define STORE_EVENT_BUFFER 256
#define STORE_EVENT_ROW "(?, ?, ?)"
#define STORE_EVENT_ROW4                                          \
	STORE_EVENT_ROW ", " STORE_EVENT_ROW ", " STORE_EVENT_ROW \
	                ", " STORE_EVENT_ROW
#define STORE_EVENT_VALUES                                           \
	STORE_EVENT_ROW4 ", " STORE_EVENT_ROW4 ", " STORE_EVENT_ROW4 \
	                 ", " STORE_EVENT_ROW4

// The list statements take ?1 = before_id (INT64_MAX for "from the
// newest"), ?2 = limit, ?3 = state, ?4 = function, as they apply, and
// every one the filters that no index serves, after the part of its
// WHERE that picks its index: ?6 = worker (NULL: any), ?7 and ?8 = the
// created_ms range (0: open).
//
// The statements of a prefix, a parent or the runs (ST_LIST_PREFIX,
// ST_LIST_PARENT, ST_LIST_RUNS) take every filter, at fixed numbers:
// those above, ?5 = workflow_id (NULL: any), ?9 and ?10 = the task_id
// range of the prefix (NULL: any), ?11 = the parent, ?12 = runs only.
#define STORE_LIST_REST                                                 \
	"AND (?3 = 0 OR state = ?3) AND (?4 IS NULL OR function = ?4) " \
	"AND (?5 IS NULL OR workflow_id = ?5) "                         \
	"AND (?6 IS NULL OR worker = ?6) "                              \
	"AND (?7 = 0 OR created_ms >= ?7) "                             \
	"AND (?8 = 0 OR created_ms < ?8) "                              \
	"AND (?9 IS NULL OR (task_id >= ?9 AND task_id < ?10)) "        \
	"AND (?12 = 0 OR run_first = 1) "
static const char *const store_sql[ST_COUNT] = {
	[ST_BEGIN]    = "BEGIN IMMEDIATE",
	[ST_COMMIT]   = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	// The columns that ST_UPDATE writes take its numbers (?2..?16), so
	// that one binder serves both; the others follow (?17..?23).
	[ST_INSERT] =
	    "INSERT INTO jobs (state, attempt, max_attempts, lease_id, "
	    "lease_expires_ms, ready_at_ms, worker, result_json, error_type, "
	    "error_message, progress_pct, progress_msg, cancel_requested, "
	    "started_ms, finished_ms, task_id, function, spec, priority, "
	    "timeout_s, created_ms, workflow_id, run_first) VALUES (?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "?18, ?19, ?20, ?21, ?22, ?23, ?24)",
	[ST_UPDATE] =
	    "UPDATE jobs SET state = ?2, attempt = ?3, max_attempts = ?4, "
	    "lease_id = ?5, lease_expires_ms = ?6, ready_at_ms = ?7, "
	    "worker = ?8, result_json = ?9, error_type = ?10, "
	    "error_message = ?11, progress_pct = ?12, progress_msg = ?13, "
	    "cancel_requested = ?14, started_ms = ?15, finished_ms = ?16 "
	    "WHERE id = ?1 AND (state = ?17 OR (?17 = 0 AND state < " STORE_TERMINAL_MIN
	    ")) AND (?18 = 0 OR lease_id = ?18)",
	[ST_GET] = "SELECT " SJE__STORE_COLS " FROM jobs WHERE task_id = ?1",
	[ST_GET_BY_ID]  = "SELECT " SJE__STORE_COLS " FROM jobs WHERE id = ?1",
	[ST_GET_RESULT] = "SELECT result_json FROM jobs WHERE task_id = ?1",
	[ST_LIST_ALL]   = "SELECT " SJE__STORE_COLS " FROM jobs WHERE id < ?1 "
	                  "AND (?6 IS NULL OR worker = ?6) "
	                  "AND (?7 = 0 OR created_ms >= ?7) "
	                  "AND (?8 = 0 OR created_ms < ?8) "
	                  "ORDER BY id DESC LIMIT ?2",
	[ST_LIST_STATE] = "SELECT " SJE__STORE_COLS " FROM jobs "
	                  "WHERE state = ?3 AND id < ?1 "
	                  "AND (?6 IS NULL OR worker = ?6) "
	                  "AND (?7 = 0 OR created_ms >= ?7) "
	                  "AND (?8 = 0 OR created_ms < ?8) "
	                  "ORDER BY id DESC LIMIT ?2",
	[ST_LIST_FUNCTION]       = "SELECT " SJE__STORE_COLS " FROM jobs "
	                           "WHERE function = ?4 AND id < ?1 "
	                           "AND (?6 IS NULL OR worker = ?6) "
	                           "AND (?7 = 0 OR created_ms >= ?7) "
	                           "AND (?8 = 0 OR created_ms < ?8) "
	                           "ORDER BY id DESC LIMIT ?2",
	[ST_LIST_STATE_FUNCTION] = "SELECT " SJE__STORE_COLS " FROM jobs "
	                           "WHERE state = ?3 AND function = ?4 "
	                           "AND id < ?1 "
	                           "AND (?6 IS NULL OR worker = ?6) "
	                           "AND (?7 = 0 OR created_ms >= ?7) "
	                           "AND (?8 = 0 OR created_ms < ?8) "
	                           "ORDER BY id DESC LIMIT ?2",
	// The steps of one workflow run (?5), by the jobs_workflow index.
	[ST_LIST_WORKFLOW] = "SELECT " SJE__STORE_COLS " FROM jobs "
	                     "WHERE workflow_id = ?5 AND id < ?1 "
	                     "AND (?3 = 0 OR state = ?3) "
	                     "AND (?4 IS NULL OR function = ?4) "
	                     "AND (?6 IS NULL OR worker = ?6) "
	                     "AND (?7 = 0 OR created_ms >= ?7) "
	                     "AND (?8 = 0 OR created_ms < ?8) "
	                     "ORDER BY id DESC LIMIT ?2",
	// A prefix is a range of the task_id index (the UNIQUE constraint's,
	// which SQLite names so; named, since the planner would rather walk
	// the ids backwards, reading every job below the cursor): it reads
	// the index entries of the prefix, sorts their ids and only then
	// reads the rows of the page (a row is read for its other columns
	// only when a filter needs one), which halves the cost of a prefix
	// that most jobs share.
	[ST_LIST_PREFIX] = "SELECT " SJE__STORE_COLS " FROM jobs "
	                   "WHERE id IN (SELECT id FROM jobs "
	                   "INDEXED BY sqlite_autoindex_jobs_1 "
	                   "WHERE task_id >= ?9 AND task_id < ?10 "
	                   "AND id < ?1 " STORE_LIST_REST
	                   "ORDER BY id DESC LIMIT ?2) ORDER BY id DESC",
	// A prefix that more than a bound of jobs share (ST_PREFIX_COUNT
	// counts, up to ?4, the prefix ?1..?2 below ?3) is listed by id
	// instead, in the bound's range of ids [?13, ?1) (ST_ID_FLOOR gives
	// the bound's lowest id below ?1, and how many there are).
	[ST_LIST_PREFIX_SCAN] =
	    "SELECT " SJE__STORE_COLS " FROM jobs "
	    "WHERE id IN (SELECT id FROM jobs NOT INDEXED "
	    "WHERE id < ?1 AND id >= ?13 "
	    "AND task_id >= ?9 AND task_id < ?10 " STORE_LIST_REST
	    "ORDER BY id DESC LIMIT ?2) ORDER BY id DESC",
	[ST_PREFIX_COUNT] = "SELECT count(*), 0 FROM (SELECT 1 FROM jobs "
	                    "INDEXED BY sqlite_autoindex_jobs_1 "
	                    "WHERE task_id >= ?1 AND task_id < ?2 "
	                    "AND id < ?3 LIMIT ?4)",
	[ST_ID_FLOOR]     = "SELECT min(id), count(*) FROM (SELECT id FROM "
	                    "jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2)",
	// A parent's children, newest first, by the parents table's key.
	[ST_LIST_PARENT] = "SELECT " SJE__STORE_COLS " FROM parents "
	                   "CROSS JOIN jobs ON jobs.id = parents.child_id "
	                   "WHERE parents.parent_task_id = ?11 "
	                   "AND parents.child_id < ?1 " STORE_LIST_REST
	                   "ORDER BY parents.child_id DESC LIMIT ?2",
	[ST_LIST_RUNS] =
	    "SELECT " SJE__STORE_COLS " FROM jobs "
	    "INDEXED BY jobs_runs WHERE run_first = 1 "
	    "AND id < ?1 " STORE_LIST_REST "ORDER BY id DESC LIMIT ?2",
	[ST_ADD_PARENT]  = "INSERT OR IGNORE INTO parents (parent_task_id, "
	                   "child_id) VALUES (?1, ?2)",
	[ST_SCAN_ACTIVE] = "SELECT " SJE__STORE_COLS " FROM jobs "
	                   "WHERE state < " STORE_TERMINAL_MIN " ORDER BY id",
	[ST_META_SET] =
	    "INSERT INTO meta (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	// The last event seq committed (store_seq_read).
	[ST_SEQ_READ] =
	    "SELECT max(coalesce((SELECT value FROM meta WHERE "
	    "key = 'event_seq'), 0), coalesce((SELECT max(seq) FROM events), 0))",
	// A claim takes a QUEUED job only (the states are literal, as the
	// partial index's: 3 QUEUED, 4 RUNNING).
	[ST_CLAIM] = "UPDATE jobs SET state = 4, attempt = ?2, lease_id = ?3, "
	             "lease_expires_ms = ?4, worker = ?5, started_ms = ?6, "
	             "progress_pct = 0, progress_msg = NULL "
	             "WHERE id = ?1 AND state = 3",
	[ST_EXTEND]          = "UPDATE jobs SET lease_expires_ms = ?3 "
	                       "WHERE id = ?1 AND state = 4 AND lease_id = ?2",
	[ST_SUCCEED]         = "UPDATE jobs SET state = 5, result_json = ?3, "
	                       "error_type = NULL, error_message = NULL, "
	                       "progress_pct = 100, lease_expires_ms = 0, "
	                       "finished_ms = ?4 "
	                       "WHERE id = ?1 AND state = 4 AND lease_id = ?2",
	[ST_SUCCEED_ATTEMPT] = "UPDATE attempts SET finished_ms = ?2, "
	                       "outcome = 5, error_type = NULL, "
	                       "error_message = NULL WHERE job_id = ?1 AND "
	                       "number = (SELECT attempt FROM jobs "
	                       "WHERE id = ?1)",
	[ST_GET_STATE]       = "SELECT state FROM jobs WHERE id = ?1",
	[ST_SAVEPOINT]       = "SAVEPOINT store_insert",
	[ST_ROLLBACK_TO]     = "ROLLBACK TO store_insert",
	[ST_RELEASE]         = "RELEASE store_insert",
	[ST_PUT_ATTEMPT] =
	    "INSERT OR REPLACE INTO attempts (job_id, number, worker, "
	    "started_ms, finished_ms, outcome, error_type, error_message) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_LIST_ATTEMPTS] =
	    "SELECT number, worker, started_ms, finished_ms, outcome, "
	    "error_type, error_message FROM attempts WHERE job_id = ?1 "
	    "ORDER BY number",
	[ST_ADD_EVENT]        = "INSERT INTO events (seq, task_id, data) "
	                        "VALUES (?1, ?2, ?3)",
	[ST_ADD_EVENTS]       = "INSERT INTO events (seq, task_id, data) "
	                        "VALUES " STORE_EVENT_VALUES,
	[ST_LIST_EVENTS]      = "SELECT seq, data FROM events WHERE seq > ?1 "
	                        "ORDER BY seq LIMIT ?2",
	[ST_LIST_EVENTS_TASK] = "SELECT seq, data FROM events WHERE seq > ?1 "
	                        "AND task_id = ?3 ORDER BY seq LIMIT ?2",
	[ST_PRUNE_EVENTS]     = "DELETE FROM events WHERE seq <= ?1",
	// Both purge statements select the same jobs within one transaction.
	[ST_PURGE_ATTEMPTS] =
	    "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs "
	    "WHERE state >= " STORE_TERMINAL_MIN " AND finished_ms < ?1 "
	    "ORDER BY finished_ms LIMIT ?2)",
	[ST_PURGE_PARENTS] =
	    "DELETE FROM parents WHERE child_id IN (SELECT id FROM jobs "
	    "WHERE state >= " STORE_TERMINAL_MIN " AND finished_ms < ?1 "
	    "ORDER BY finished_ms LIMIT ?2)",
	[ST_PURGE_JOBS] =
	    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs "
	    "WHERE state >= " STORE_TERMINAL_MIN " AND finished_ms < ?1 "
	    "ORDER BY finished_ms LIMIT ?2)",
	// delete_job's two statements run under a savepoint of their own,
	// so that they are one (a transaction by itself when none is open).
	// Both select the job by task_id (?1) only when it is terminal.
	[ST_DELETE_SAVEPOINT]   = "SAVEPOINT store_delete",
	[ST_DELETE_ROLLBACK_TO] = "ROLLBACK TO store_delete",
	[ST_DELETE_RELEASE]     = "RELEASE store_delete",
	[ST_DELETE_ATTEMPTS] =
	    "DELETE FROM attempts WHERE job_id = (SELECT id FROM jobs "
	    "WHERE task_id = ?1 AND state >= " STORE_TERMINAL_MIN ")",
	[ST_DELETE_PARENTS] =
	    "DELETE FROM parents WHERE child_id = (SELECT id FROM jobs "
	    "WHERE task_id = ?1 AND state >= " STORE_TERMINAL_MIN ")",
	[ST_DELETE_JOB]  = "DELETE FROM jobs WHERE task_id = ?1 "
	                   "AND state >= " STORE_TERMINAL_MIN,
	[ST_EXISTS_TASK] = "SELECT 1 FROM jobs WHERE task_id = ?1",
	[ST_PUT_FUNCTION] =
	    "INSERT INTO functions (name, paused, concurrency, rate, "
	    "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) "
	    "DO UPDATE SET paused = excluded.paused, "
	    "concurrency = excluded.concurrency, rate = excluded.rate, "
	    "updated_ms = excluded.updated_ms",
	// By name in bytes (the column's BINARY collation), as strcmp.
	[ST_LIST_FUNCTIONS] = "SELECT name, paused, concurrency, rate, "
	                      "updated_ms FROM functions ORDER BY name",
	[ST_PUT_SCHEDULE] =
	    "INSERT INTO schedules (name, last_tick_ms, last_task_id) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
	    "last_tick_ms = excluded.last_tick_ms, "
	    "last_task_id = excluded.last_task_id",
	[ST_LIST_SCHEDULES] = "SELECT name, last_tick_ms, last_task_id "
	                      "FROM schedules ORDER BY name",
};

// store_db is the backend's state behind an sje__store handle (base.impl
// points back to it).
typedef struct store_db {
	sje__store    base;
	sqlite3      *db;
	char         *path;         // <directory>/sje.db, for log lines
	sqlite3_stmt *st[ST_COUNT]; // NULL where not (yet) prepared
	bool          reader;       // opened read-only (open_reader)
	// The event seq counter (store.h: the store assigns seqs). last_seq
	// is the last taken, seq_at_begin its value when the open
	// transaction began (a rollback goes back to it); seq_dirty says the
	// meta row "event_seq" is behind last_seq, to be written at commit.
	uint64_t last_seq;
	uint64_t seq_at_begin;
	bool     seq_dirty;
	// Events of the open transaction not written yet (see the design
	// note): ev[0..n_ev), whose task ids and data lie in bytes[0..n_bytes)
	// (by offset, so that growing it moves nothing). max_seq is the
	// highest seq kept or buffered, max_at_begin its value at begin.
	struct store_event {
		uint64_t seq;
		size_t   task_off; // a NUL-terminated task id
		size_t   data_off;
		size_t   data_len;
	} * ev;
	size_t   n_ev, cap_ev;
	uint8_t *ev_bytes;
	size_t   n_ev_bytes, cap_ev_bytes;
	uint64_t ev_max_seq;
	uint64_t ev_max_at_begin;
	// The checkpointer (writer only): its connection and thread; mtx
	// guards the fields after it and the cv.
	sqlite3        *ckpt_db;
	pthread_t       ckpt_thr;
	bool            ckpt_started;
	pthread_mutex_t ckpt_mtx;
	pthread_cond_t  ckpt_cv;   // on sje_mono_ms (sje__cond_init_mono)
	int             wal_pages; // the WAL's frames after the last commit
	int             ckpt_done; // frames the checkpointer copied back
	uint64_t        commits;   // commits so far (to tell a quiet writer)
	uint64_t        restarts;  // times the WAL restarted from its start
	bool            ckpt_busy; // the checkpointer is in a pass
	bool            ckpt_stop;
} store_db;

// store_err translates rc, logging SQLite's message with what was being
// done. SQLITE_CONSTRAINT_UNIQUE is SJE_EEXIST and not logged (callers
// expect it).
static sje_err
store_err(store_db *s, int rc, const char *what)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return SJE_OK;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return SJE_EEXIST;
	case SQLITE_NOMEM:
		SJE_ERROR("store %s: %s: out of memory", s->path, what);
		return SJE_ENOMEM;
	default:
		SJE_ERROR("store %s: %s: %s (%s)", s->path, what,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "",
		    sqlite3_errstr(rc));
		return SJE_EIO;
	}
}

// store_done makes st ready for its next use.
static void
store_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

// store_bind_text binds str (NULL binds NULL).
static int
store_bind_text(sqlite3_stmt *st, int i, const char *str)
{
	if (str == NULL) {
		return sqlite3_bind_null(st, i);
	}
	return sqlite3_bind_text(st, i, str, -1, SQLITE_STATIC);
}

// store_exec runs one or more statements of sql that return no rows.
static sje_err
store_exec(store_db *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return store_err(s, rc, what);
}

// store_user_version reads PRAGMA user_version.
static sje_err
store_user_version(store_db *s, int *version)
{
	sqlite3_stmt *st;
	sje_err       rv;
	int           rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return store_err(s, rc, "reading the schema version");
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		rv       = SJE_OK;
	} else {
		rv = store_err(s, rc, "reading the schema version");
		if (rv == SJE_OK) { // no row: cannot happen
			rv = SJE_EIO;
		}
	}
	sqlite3_finalize(st);
	return rv;
}

// store_check_version is SJE_EPROTO (logged) when version is newer than
// this program's schema.
static sje_err
store_check_version(store_db *s, int version)
{
	if (version > SJE_STORE_SCHEMA_VERSION || version < 0) {
		SJE_ERROR("store %s: schema version %d is newer than this "
		          "program's (%d): upgrade sje-server",
		    s->path, version, SJE_STORE_SCHEMA_VERSION);
		return SJE_EPROTO;
	}
	return SJE_OK;
}

// store_migrate brings the schema to SJE_STORE_SCHEMA_VERSION, all steps
// in one transaction. SJE_EPROTO, with nothing written, when the file's
// schema is newer than this program's.
static sje_err
store_migrate(store_db *s)
{
	char    sql[64];
	sje_err rv;
	int     version;

	// The common case, a current schema, takes no write lock.
	if ((rv = store_user_version(s, &version)) != SJE_OK ||
	    (rv = store_check_version(s, version)) != SJE_OK ||
	    version == SJE_STORE_SCHEMA_VERSION) {
		return rv;
	}
	// Under BEGIN IMMEDIATE, read the version again: another program may
	// have migrated the file meanwhile.
	if ((rv = store_exec(s, "BEGIN IMMEDIATE", "migrating")) != SJE_OK) {
		return rv;
	}
	if ((rv = store_user_version(s, &version)) != SJE_OK ||
	    (rv = store_check_version(s, version)) != SJE_OK) {
		goto fail;
	}
	for (int v = version; v < SJE_STORE_SCHEMA_VERSION; v++) {
		rv =
		    store_exec(s, store_migrations[v], "migrating the schema");
		if (rv != SJE_OK) {
			goto fail;
		}
	}
	// PRAGMA takes no bound parameters; the number is ours.
	sje__snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SJE_STORE_SCHEMA_VERSION);
	if ((rv = store_exec(s, sql, "migrating the schema")) != SJE_OK) {
		goto fail;
	}
	if ((rv = store_exec(s, "COMMIT", "migrating the schema")) != SJE_OK) {
		goto fail;
	}
	if (version != 0) {
		SJE_INFO("store %s: schema migrated from version %d to %d",
		    s->path, version, SJE_STORE_SCHEMA_VERSION);
	}
	return SJE_OK;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rv;
}

// store_set_modes sets WAL and the sync mode. journal_mode answers with
// the mode it got: a file system that cannot do WAL is an error.
static sje_err
store_set_modes(store_db *s, sje_sync_mode sync)
{
	sqlite3_stmt *st;
	sje_err       rv = SJE_OK;
	int           rc;

	rc = sqlite3_prepare_v2(
	    s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return store_err(s, rc, "setting WAL mode");
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rv = store_err(s, rc, "setting WAL mode");
	} else {
		const char *mode = (const char *) sqlite3_column_text(st, 0);
		if (mode == NULL || strcmp(mode, "wal") != 0) {
			SJE_ERROR("store %s: cannot use WAL mode (got %s)",
			    s->path, mode != NULL ? mode : "nothing");
			rv = SJE_EIO;
		}
	}
	sqlite3_finalize(st);
	if (rv != SJE_OK) {
		return rv;
	}
	// A WAL that grew under a burst is cut back to 20 MiB when it
	// restarts, instead of keeping its largest size on disk; the WAL of
	// steady work (STORE_CHECKPOINT_RESTART_PAGES) keeps its blocks.
	if ((rv = store_exec(s, "PRAGMA journal_size_limit = 20971520",
	         "limiting the WAL's size")) != SJE_OK) {
		return rv;
	}
	return store_exec(s,
	    sync == SJE_SYNC_FULL ? "PRAGMA synchronous = FULL"
	                          : "PRAGMA synchronous = NORMAL",
	    "setting the sync mode");
}

// store_prepare_all prepares every statement of store_sql.
static sje_err
store_prepare_all(store_db *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			return store_err(s, rc, "preparing statements");
		}
	}
	return SJE_OK;
}

// store_finalize_all finalizes the prepared statements; copes with a
// partly prepared set.
static void
store_finalize_all(store_db *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(s->st[i]); // accepts NULL
		s->st[i] = NULL;
	}
}

// store_setup configures the SQLite library once per process, before it
// starts: without the memory statistics (which nothing here reads), each
// of SQLite's allocations, and this build of it allocates for every
// statement it steps (Debian's omits the lookaside allocator), no longer
// takes a process-wide mutex. Too late when something in the process
// started SQLite first; then it runs as configured by default.
static pthread_once_t store_setup_once = PTHREAD_ONCE_INIT;

static void
store_setup(void)
{
	(void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// store_open_db opens the file with flags (SQLITE_OPEN_*, NOMUTEX added)
// and sets the connection up.
static sje_err
store_open_db(store_db *s, int flags)
{
	pthread_once(&store_setup_once, store_setup);
	int rc = sqlite3_open_v2(
	    s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		// s->db may hold a handle carrying the message; the caller's
		// store_close_db frees it.
		return store_err(s, rc, "opening");
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	return SJE_OK;
}

// store_close_db closes the connection (checkpointing the WAL when this is
// the last connection). All statements must be finalized.
static void
store_close_db(store_db *s)
{
	int rc;

	if (s->db == NULL) {
		return;
	}
	if ((rc = sqlite3_close(s->db)) != SQLITE_OK) {
		// Only a statement left unfinalized, our bug, can do this.
		SJE_ERROR("store %s: close: %s", s->path, sqlite3_errstr(rc));
		sqlite3_close_v2(s->db);
	}
	s->db = NULL;
}

// STORE_CHECKPOINT_PAGES is how many frames of the WAL not yet copied
// back wake the checkpointer: SQLite's own default for its automatic
// checkpoint.
#define STORE_CHECKPOINT_PAGES 1000
// STORE_CHECKPOINT_QUIET_MS: frames left to copy back (fewer than
// STORE_CHECKPOINT_PAGES, or those that came during the last pass) are
// copied back once the writer has been this long without a commit.
#define STORE_CHECKPOINT_QUIET_MS 100
// STORE_CHECKPOINT_TAIL: when no more frames than this are left to copy
// back of a WAL past STORE_CHECKPOINT_RESTART_PAGES, the writer copies
// them back itself after its commit (a stall of two fsyncs: rare, and
// the frames are few) so that the WAL restarts; a checkpointer's pass
// rarely catches up with a busy writer.
#define STORE_CHECKPOINT_TAIL 256
#define STORE_CHECKPOINT_RESTART_PAGES 4096
// Past this many the writer checkpoints itself (a writer outrunning the
// checkpointer: the WAL must not grow without bound).
#define STORE_CHECKPOINT_MAX_PAGES 16000

// store_ckpt_due says, with ckpt_mtx held, whether enough frames wait to
// be copied back for the checkpointer to run.
static bool
store_ckpt_due(const store_db *s)
{
	return s->wal_pages - s->ckpt_done >= STORE_CHECKPOINT_PAGES;
}

// store_ckpt_main is the checkpointer thread: a PASSIVE checkpoint each
// time the writer's WAL hook wakes it, and one once the writer is quiet
// while frames are left to copy back, until close.
static void *
store_ckpt_main(void *arg)
{
	store_db *s = arg;

	sje__thread_name("sje:checkpoint");
	(void) pthread_mutex_lock(&s->ckpt_mtx);
	for (;;) {
		while (!s->ckpt_stop && !store_ckpt_due(s)) {
			if (s->wal_pages <= s->ckpt_done) { // all copied back
				(void) pthread_cond_wait(
				    &s->ckpt_cv, &s->ckpt_mtx);
				continue;
			}
			uint64_t seen = s->commits;
			bool     woken =
			    sje__cond_wait_until(&s->ckpt_cv, &s->ckpt_mtx,
			        sje_mono_ms() + STORE_CHECKPOINT_QUIET_MS);
			if (!woken && s->commits == seen) {
				break; // quiet: catch up now
			}
		}
		if (s->ckpt_stop) {
			break;
		}
		uint64_t restarts = s->restarts;
		s->ckpt_busy      = true;
		(void) pthread_mutex_unlock(&s->ckpt_mtx);
		int done = 0; // frames of the WAL copied back, in all
		int rc   = sqlite3_wal_checkpoint_v2(
		      s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
			SJE_WARN("store %s: checkpoint: %s (the next one "
			         "tries again)",
			    s->path, sqlite3_errmsg(s->ckpt_db));
		}
		(void) pthread_mutex_lock(&s->ckpt_mtx);
		s->ckpt_busy = false;
		if (rc == SQLITE_OK && s->restarts == restarts) {
			s->ckpt_done = done; // (of a WAL since restarted: 0)
		}
	}
	(void) pthread_mutex_unlock(&s->ckpt_mtx);
	return NULL;
}

// store_wal_hook runs on the writer after each commit with the WAL's
// size in frames; it wakes the checkpointer when enough wait to be
// copied back.
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	store_db *s = arg;

	(void) pthread_mutex_lock(&s->ckpt_mtx);
	if (pages < s->wal_pages) {
		s->ckpt_done = 0; // the WAL restarted from its start
		s->restarts++;
	}
	s->wal_pages = pages;
	s->commits++;
	int  left = pages - s->ckpt_done; // frames not copied back yet
	bool self = pages >= STORE_CHECKPOINT_MAX_PAGES ||
	    (pages >= STORE_CHECKPOINT_RESTART_PAGES &&
	        left <= STORE_CHECKPOINT_TAIL && !s->ckpt_busy);
	if (!self && left >= STORE_CHECKPOINT_PAGES) {
		(void) pthread_cond_signal(&s->ckpt_cv);
	}
	(void) pthread_mutex_unlock(&s->ckpt_mtx);
	if (self) {
		// The checkpointer's tail, or a WAL it cannot keep up with:
		// copied back here, the next commit restarts the WAL.
		int done = 0;
		int rc   = sqlite3_wal_checkpoint_v2(
		      db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, &done);
		if (rc == SQLITE_OK) {
			(void) pthread_mutex_lock(&s->ckpt_mtx);
			s->ckpt_done = done;
			(void) pthread_mutex_unlock(&s->ckpt_mtx);
		}
	}
	return SQLITE_OK;
}

// store_ckpt_start opens the checkpointer's connection, starts its thread
// and hooks the writer's commits to it (which turns SQLite's automatic
// checkpoint off).
static sje_err
store_ckpt_start(store_db *s)
{
	int rc = sqlite3_open_v2(s->path, &s->ckpt_db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		SJE_ERROR("store %s: opening the checkpointer: %s", s->path,
		    s->ckpt_db != NULL ? sqlite3_errmsg(s->ckpt_db)
		                       : sqlite3_errstr(rc));
		return SJE_EIO;
	}
	// A connection learns that the file is in WAL mode when it first
	// reads it: until then a checkpoint on it does nothing.
	if ((rc = sqlite3_exec(s->ckpt_db,
	         "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		SJE_ERROR("store %s: opening the checkpointer: %s", s->path,
		    sqlite3_errmsg(s->ckpt_db));
		return SJE_EIO;
	}
	if (pthread_mutex_init(&s->ckpt_mtx, NULL) != 0) {
		return SJE_ENOMEM;
	}
	if (sje__cond_init_mono(&s->ckpt_cv) != SJE_OK) {
		(void) pthread_mutex_destroy(&s->ckpt_mtx);
		return SJE_ENOMEM;
	}
	if (pthread_create(&s->ckpt_thr, NULL, store_ckpt_main, s) != 0) {
		(void) pthread_cond_destroy(&s->ckpt_cv);
		(void) pthread_mutex_destroy(&s->ckpt_mtx);
		return SJE_ENOMEM;
	}
	s->ckpt_started = true;
	sqlite3_wal_hook(s->db, store_wal_hook, s);
	return SJE_OK;
}

// store_ckpt_stop ends the checkpointer and closes its connection.
static void
store_ckpt_stop(store_db *s)
{
	if (s->ckpt_started) {
		sqlite3_wal_hook(s->db, NULL, NULL);
		(void) pthread_mutex_lock(&s->ckpt_mtx);
		s->ckpt_stop = true;
		(void) pthread_cond_signal(&s->ckpt_cv);
		(void) pthread_mutex_unlock(&s->ckpt_mtx);
		(void) pthread_join(s->ckpt_thr, NULL);
		(void) pthread_cond_destroy(&s->ckpt_cv);
		(void) pthread_mutex_destroy(&s->ckpt_mtx);
		s->ckpt_started = false;
	}
	if (s->ckpt_db != NULL) {
		(void) sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
	}
}

static const sje__store_ops store_ops;

// store_alloc makes an empty store_db for <directory>/sje.db.
static store_db *
store_alloc(const char *directory)
{
	store_db *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	if ((s->path = sje__asprintf("%s/sje.db", directory)) == NULL) {
		free(s);
		return NULL;
	}
	s->base.ops  = &store_ops;
	s->base.impl = s;
	return s;
}

// store_free finalizes, closes and frees s; copes with a half-built one.
static void
store_free(store_db *s)
{
	store_ckpt_stop(s);
	store_finalize_all(s);
	store_close_db(s);
	free(s->ev);
	free(s->ev_bytes);
	free(s->path);
	free(s);
}

// store_seq_read reads the last event seq committed: the meta row
// "event_seq", or the newest kept event if that is higher (both are
// written in one transaction; the max is a guard, so a seq is never
// taken twice).
static sje_err
store_seq_read(store_db *s, uint64_t *seq)
{
	sqlite3_stmt *st = s->st[ST_SEQ_READ];
	sje_err       rv = SJE_OK;
	int           rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*seq = (uint64_t) sqlite3_column_int64(st, 0);
	} else {
		rv = store_err(s, rc, "reading the event seq");
		if (rv == SJE_OK) { // no row: cannot happen
			rv = SJE_EIO;
		}
	}
	store_done(st);
	return rv;
}

sje_err
sje__store_open_sqlite(const sje__store_sqlite_opts *o, sje__store **out)
{
	store_db *s;
	sje_err   rv;
	char      why[256];

	if (o == NULL || o->directory == NULL || o->directory[0] == '\0') {
		return SJE_EINVAL;
	}
	if ((s = store_alloc(o->directory)) == NULL) {
		return SJE_ENOMEM;
	}
	if ((rv = sje__mkdirs(o->directory, why, sizeof(why))) != SJE_OK) {
		SJE_ERROR("store: %s", why);
		goto fail;
	}
	if ((rv = store_open_db(
	         s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) != SJE_OK) {
		goto fail;
	}
	// Migrate (and check the version) before WAL, so that a file from a
	// newer program is refused untouched.
	if ((rv = store_migrate(s)) != SJE_OK ||
	    (rv = store_set_modes(s, o->sync)) != SJE_OK ||
	    (rv = store_prepare_all(s)) != SJE_OK ||
	    (rv = store_seq_read(s, &s->last_seq)) != SJE_OK ||
	    (rv = store_ckpt_start(s)) != SJE_OK) {
		goto fail;
	}
	s->ev_max_seq = s->last_seq;
	*out          = &s->base; // publish only on success
	return SJE_OK;

fail:
	store_free(s); // copes with a partly prepared set
	return rv;
}

sje_err
sje__store_open_sqlite_reader(const char *directory, sje__store **out)
{
	store_db *s;
	sje_err   rv;
	int       version;

	if (directory == NULL || directory[0] == '\0') {
		return SJE_EINVAL;
	}
	if ((s = store_alloc(directory)) == NULL) {
		return SJE_ENOMEM;
	}
	s->reader = true;
	if ((rv = store_open_db(s, SQLITE_OPEN_READONLY)) != SJE_OK ||
	    (rv = store_user_version(s, &version)) != SJE_OK) {
		goto fail;
	}
	if (version != SJE_STORE_SCHEMA_VERSION) {
		SJE_ERROR("store %s: schema version %d, this program reads %d",
		    s->path, version, SJE_STORE_SCHEMA_VERSION);
		rv = SJE_EPROTO;
		goto fail;
	}
	// Every statement prepares on a read-only connection; the writing
	// ones would fail if stepped, and are not.
	if ((rv = store_prepare_all(s)) != SJE_OK) {
		goto fail;
	}
	*out = &s->base;
	return SJE_OK;

fail:
	store_free(s);
	return rv;
}

// sq_open_reader opens a read-only connection on the same file.
static sje_err
sq_open_reader(sje__store *h, sje__store **out)
{
	store_db *s = h->impl;
	char     *dir;
	sje_err   rv;

	// The directory is the path less "/sje.db".
	if ((dir = sje__strdup(s->path)) == NULL) {
		return SJE_ENOMEM;
	}
	dir[strlen(dir) - strlen("/sje.db")] = '\0';
	rv = sje__store_open_sqlite_reader(dir, out);
	free(dir);
	return rv;
}

static void
sq_close(sje__store *h)
{
	store_free(h->impl); // closing rolls an open transaction back
}

// store_finish translates rc, the result of the last step of st (or of a
// bind), then resets st. The message is read before the reset.
static sje_err
store_finish(store_db *s, sqlite3_stmt *st, int rc, const char *what)
{
	sje_err rv = store_err(s, rc, what);
	store_done(st);
	return rv;
}

// store_step_done steps st once, expecting no row, then resets it.
static sje_err
store_step_done(store_db *s, sqlite3_stmt *st, const char *what)
{
	return store_finish(s, st, sqlite3_step(st), what);
}

// store_in_txn is true while a transaction is open on s.
static bool
store_in_txn(store_db *s)
{
	return !sqlite3_get_autocommit(s->db);
}

// store_meta_set writes the 64-bit counter key (in the open transaction,
// if any).
static sje_err
store_meta_set(store_db *s, const char *key, uint64_t value)
{
	sqlite3_stmt *st = s->st[ST_META_SET];
	int           rc;

	if ((rc = store_bind_text(st, 1, key)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(st, 2, (sqlite3_int64) value)) ==
	        SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	return store_finish(s, st, rc, "writing meta");
}

// store_event_bind binds event e to the three parameters of row r of
// st (an events INSERT), borrowing its bytes.
static int
store_event_bind(
    store_db *s, sqlite3_stmt *st, int r, const struct store_event *e)
{
	int rc;
	if ((rc = sqlite3_bind_int64(st, 3 * r + 1, (sqlite3_int64) e->seq)) ==
	        SQLITE_OK &&
	    (rc = sqlite3_bind_text(st, 3 * r + 2,
	         (const char *) s->ev_bytes + e->task_off, -1,
	         SQLITE_STATIC)) == SQLITE_OK) {
		rc = sqlite3_bind_blob(st, 3 * r + 3,
		    e->data_len > 0 ? s->ev_bytes + e->data_off
		                    : (const void *) "",
		    (int) e->data_len, SQLITE_STATIC);
	}
	return rc;
}

// store_events_flush writes the buffered events, STORE_EVENT_ROWS to a
// statement while that many remain, then one by one; the buffer is empty
// afterwards, whatever the outcome.
static sje_err
store_events_flush(store_db *s)
{
	sje_err rv = SJE_OK;
	size_t  i  = 0;
	while (rv == SJE_OK && i < s->n_ev) {
		size_t k =
		    s->n_ev - i >= STORE_EVENT_ROWS ? STORE_EVENT_ROWS : 1;
		sqlite3_stmt *st = s->st[k > 1 ? ST_ADD_EVENTS : ST_ADD_EVENT];
		int           rc = SQLITE_OK;
		for (size_t r = 0; r < k && rc == SQLITE_OK; r++) {
			rc = store_event_bind(s, st, (int) r, &s->ev[i + r]);
		}
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
		}
		rv = store_finish(s, st, rc, "keeping events");
		i += k;
	}
	s->n_ev       = 0;
	s->n_ev_bytes = 0;
	return rv;
}

// store_events_push appends an event to the buffer (copying its bytes).
// SJE_ENOMEM leaves the buffer as it was.
static sje_err
store_events_push(store_db *s, uint64_t seq, const char *task_id,
    const uint8_t *data, size_t len)
{
	size_t tlen = strlen(task_id) + 1;
	if (s->n_ev == s->cap_ev) {
		size_t              nc = s->cap_ev != 0 ? s->cap_ev * 2 : 32;
		struct store_event *nv = realloc(s->ev, nc * sizeof(*nv));
		if (nv == NULL) {
			return SJE_ENOMEM;
		}
		s->ev     = nv;
		s->cap_ev = nc;
	}
	if (s->cap_ev_bytes - s->n_ev_bytes < tlen + len) {
		size_t nc = s->cap_ev_bytes != 0 ? s->cap_ev_bytes : 4096;
		while (nc - s->n_ev_bytes < tlen + len) {
			nc *= 2;
		}
		uint8_t *nb = realloc(s->ev_bytes, nc);
		if (nb == NULL) {
			return SJE_ENOMEM;
		}
		s->ev_bytes     = nb;
		s->cap_ev_bytes = nc;
	}
	struct store_event *e = &s->ev[s->n_ev++];
	e->seq                = seq;
	e->task_off           = s->n_ev_bytes;
	memcpy(s->ev_bytes + s->n_ev_bytes, task_id, tlen);
	s->n_ev_bytes += tlen;
	e->data_off = s->n_ev_bytes;
	e->data_len = len;
	if (len > 0) {
		memcpy(s->ev_bytes + s->n_ev_bytes, data, len);
	}
	s->n_ev_bytes += len;
	return SJE_OK;
}

static sje_err
sq_begin(sje__store *h)
{
	store_db *s  = h->impl;
	sje_err   rv = store_step_done(s, s->st[ST_BEGIN], "begin");

	if (rv == SJE_OK) {
		s->seq_at_begin    = s->last_seq;
		s->ev_max_at_begin = s->ev_max_seq;
	}
	return rv;
}

static void sq_rollback(sje__store *h);

static sje_err
sq_commit(sje__store *h)
{
	store_db *s = h->impl;
	sje_err   rv;

	if (!store_in_txn(s)) {
		// As SQLite answers a COMMIT with none open.
		SJE_ERROR("store %s: commit: no transaction is open", s->path);
		return SJE_EIO;
	}
	if ((rv = store_events_flush(s)) != SJE_OK) {
		sq_rollback(h);
		return rv;
	}
	// The seq counter is saved once per transaction, not per event.
	if (s->seq_dirty &&
	    (rv = store_meta_set(s, "event_seq", s->last_seq)) != SJE_OK) {
		sq_rollback(h);
		return rv;
	}
	if ((rv = store_step_done(s, s->st[ST_COMMIT], "commit")) != SJE_OK) {
		sq_rollback(h);
		return rv;
	}
	s->seq_dirty = false;
	return SJE_OK;
}

static void
sq_rollback(sje__store *h)
{
	store_db *s = h->impl;

	if (!store_in_txn(s)) {
		return; // no transaction open
	}
	(void) store_step_done(s, s->st[ST_ROLLBACK], "rollback");
	s->last_seq   = s->seq_at_begin;
	s->seq_dirty  = false;
	s->n_ev       = 0;
	s->n_ev_bytes = 0;
	s->ev_max_seq = s->ev_max_at_begin;
}

// store_why_not tells why a conditional update of job id changed nothing:
// SJE_ENOTFOUND when there is no such job, else SJE_EPRECOND.
static sje_err
store_why_not(store_db *s, int64_t id)
{
	sqlite3_stmt *st = s->st[ST_GET_STATE];
	int           rc = sqlite3_bind_int64(st, 1, id);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		store_done(st);
		return SJE_EPRECOND;
	}
	if (rc == SQLITE_DONE) {
		store_done(st);
		return SJE_ENOTFOUND;
	}
	return store_finish(s, st, rc, "reading a job's state");
}

// STORE_BIND runs one sqlite3_bind_* call while rc is still SQLITE_OK, so
// that a run of binds keeps the first failure.
#define STORE_BIND(rc, call)             \
	do {                             \
		if ((rc) == SQLITE_OK) { \
			(rc) = (call);   \
		}                        \
	} while (0)

// store_bind_mutable binds the fields that sje__store_update_job writes, at
// the parameter numbers that ST_UPDATE uses (?2..?16; ?17 and ?18 are its
// condition). Returns an SQLite code.
static int
store_bind_mutable(sqlite3_stmt *st, const sje__job_row *row)
{
	int rc = SQLITE_OK;

	STORE_BIND(rc, sqlite3_bind_int(st, 2, row->state));
	STORE_BIND(rc, sqlite3_bind_int64(st, 3, row->attempt));
	STORE_BIND(rc, sqlite3_bind_int64(st, 4, row->max_attempts));
	STORE_BIND(
	    rc, sqlite3_bind_int64(st, 5, (sqlite3_int64) row->lease_id));
	STORE_BIND(rc, sqlite3_bind_int64(st, 6, row->lease_expires_ms));
	STORE_BIND(rc, sqlite3_bind_int64(st, 7, row->ready_at_ms));
	STORE_BIND(rc, store_bind_text(st, 8, row->worker));
	STORE_BIND(rc, store_bind_text(st, 9, row->result_json));
	STORE_BIND(rc, store_bind_text(st, 10, row->error_type));
	STORE_BIND(rc, store_bind_text(st, 11, row->error_message));
	STORE_BIND(rc, sqlite3_bind_double(st, 12, row->progress_pct));
	STORE_BIND(rc, store_bind_text(st, 13, row->progress_msg));
	STORE_BIND(
	    rc, sqlite3_bind_int(st, 14, row->cancel_requested ? 1 : 0));
	STORE_BIND(rc, sqlite3_bind_int64(st, 15, row->started_ms));
	STORE_BIND(rc, sqlite3_bind_int64(st, 16, row->finished_ms));
	return rc;
}

// store_bind_insert binds every field but id for ST_INSERT: those an
// update may change at ST_UPDATE's numbers, then the rest (?17..?24).
static int
store_bind_insert(sqlite3_stmt *st, const sje__job_row *row)
{
	int rc = store_bind_mutable(st, row);

	STORE_BIND(rc, store_bind_text(st, 17, row->task_id));
	STORE_BIND(rc, store_bind_text(st, 18, row->function));
	// A zero-length spec is bound as an empty blob: a NULL pointer would
	// bind SQL NULL, which the NOT NULL column refuses.
	STORE_BIND(rc,
	    row->spec_len > 0 ? sqlite3_bind_blob64(st, 19, row->spec,
	                            row->spec_len, SQLITE_STATIC)
	                      : sqlite3_bind_zeroblob(st, 19, 0));
	STORE_BIND(rc, sqlite3_bind_int(st, 20, row->priority));
	STORE_BIND(rc, sqlite3_bind_int64(st, 21, row->timeout_s));
	STORE_BIND(rc, sqlite3_bind_int64(st, 22, row->created_ms));
	STORE_BIND(rc, store_bind_text(st, 23, row->workflow_id));
	STORE_BIND(rc, sqlite3_bind_int(st, 24, row->run_first ? 1 : 0));
	return rc;
}

// store_insert_one inserts row and writes its new id to *id.
static sje_err
store_insert_one(store_db *s, const sje__job_row *row, int64_t *id)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	sje_err       rv;
	int           rc;

	if (row->task_id == NULL || row->function == NULL) {
		return SJE_EINVAL;
	}
	if ((rc = store_bind_insert(st, row)) == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if ((rv = store_finish(s, st, rc, "inserting a job")) != SJE_OK) {
		return rv;
	}
	*id = sqlite3_last_insert_rowid(s->db);
	return SJE_OK;
}

static sje_err
sq_insert_jobs(sje__store *h, const sje__job_row *rows, size_t n, int64_t *ids)
{
	store_db *s = h->impl;
	int64_t  *got;
	sje_err   rv = SJE_OK;

	if (n == 1) {
		// One statement is all or nothing by itself: no savepoint on
		// the submit path.
		return store_insert_one(s, rows, ids);
	}
	if (n == 0) {
		return SJE_OK;
	}
	if ((got = calloc(n, sizeof(*got))) == NULL) {
		return SJE_ENOMEM;
	}
	// A savepoint undoes the rows of this call alone on failure (and
	// is a transaction of its own when none is open).
	if ((rv = store_step_done(s, s->st[ST_SAVEPOINT], "inserting jobs")) !=
	    SJE_OK) {
		free(got);
		return rv;
	}
	for (size_t i = 0; i < n && rv == SJE_OK; i++) {
		rv = store_insert_one(s, &rows[i], &got[i]);
	}
	if (rv != SJE_OK) {
		(void) store_step_done(
		    s, s->st[ST_ROLLBACK_TO], "undoing inserted jobs");
	}
	sje_err rel = store_step_done(s, s->st[ST_RELEASE], "inserting jobs");
	if (rv == SJE_OK && rel != SJE_OK) {
		rv = rel;
	}
	if (rv == SJE_OK) {
		memcpy(ids, got, n * sizeof(*ids));
	}
	free(got);
	return rv;
}

// store_changed is SJE_OK when the last statement changed a row of job
// id, else why not (store_why_not).
static sje_err
store_changed(store_db *s, int64_t id)
{
	return sqlite3_changes(s->db) > 0 ? SJE_OK : store_why_not(s, id);
}

static sje_err
sq_update_job(
    sje__store *h, const sje__job_row *row, const sje__job_expect *expect)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_UPDATE];
	sje_err       rv;
	int           rc;

	if ((rc = sqlite3_bind_int64(st, 1, row->id)) == SQLITE_OK &&
	    (rc = store_bind_mutable(st, row)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int(st, 17, expect->state)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(
	         st, 18, (sqlite3_int64) expect->lease_id)) == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if ((rv = store_finish(s, st, rc, "updating a job")) != SJE_OK) {
		return rv;
	}
	return store_changed(s, row->id);
}

static sje_err sq_put_attempt(
    sje__store *h, int64_t job_id, const sje__attempt_row *a);

static sje_err
sq_claim_job(sje__store *h, int64_t id, const sje__job_claim *c)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_CLAIM];
	sje_err       rv;
	int           rc = SQLITE_OK;

	if (c->lease_id == 0) {
		return SJE_EINVAL;
	}
	STORE_BIND(rc, sqlite3_bind_int64(st, 1, id));
	STORE_BIND(rc, sqlite3_bind_int64(st, 2, c->attempt));
	STORE_BIND(rc, sqlite3_bind_int64(st, 3, (sqlite3_int64) c->lease_id));
	STORE_BIND(rc, sqlite3_bind_int64(st, 4, c->lease_expires_ms));
	STORE_BIND(rc, store_bind_text(st, 5, c->worker));
	STORE_BIND(rc, sqlite3_bind_int64(st, 6, c->started_ms));
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if ((rv = store_finish(s, st, rc, "claiming a job")) != SJE_OK ||
	    (rv = store_changed(s, id)) != SJE_OK) {
		return rv;
	}
	sje__attempt_row a = { .number = c->attempt,
		.worker                = (char *) c->worker,
		.started_ms            = c->started_ms,
		.outcome = SJE__V1__JOB_STATE__JOB_STATE_RUNNING };
	return sq_put_attempt(h, id, &a);
}

static sje_err
sq_succeed_job(sje__store *h, int64_t id, const sje__job_success *ok)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_SUCCEED];
	sje_err       rv;
	int           rc = SQLITE_OK;

	if (ok->lease_id == 0 || ok->result_json == NULL) {
		return SJE_EINVAL;
	}
	STORE_BIND(rc, sqlite3_bind_int64(st, 1, id));
	STORE_BIND(
	    rc, sqlite3_bind_int64(st, 2, (sqlite3_int64) ok->lease_id));
	STORE_BIND(rc, store_bind_text(st, 3, ok->result_json));
	STORE_BIND(rc, sqlite3_bind_int64(st, 4, ok->finished_ms));
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if ((rv = store_finish(s, st, rc, "ending a job")) != SJE_OK ||
	    (rv = store_changed(s, id)) != SJE_OK) {
		return rv;
	}
	st = s->st[ST_SUCCEED_ATTEMPT];
	rc = SQLITE_OK;
	STORE_BIND(rc, sqlite3_bind_int64(st, 1, id));
	STORE_BIND(rc, sqlite3_bind_int64(st, 2, ok->finished_ms));
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	return store_finish(s, st, rc, "ending an attempt");
}

static sje_err
sq_extend_lease(
    sje__store *h, int64_t id, uint64_t lease_id, sje_time_ms expires_ms)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_EXTEND];
	sje_err       rv;
	int           rc = SQLITE_OK;

	STORE_BIND(rc, sqlite3_bind_int64(st, 1, id));
	STORE_BIND(rc, sqlite3_bind_int64(st, 2, (sqlite3_int64) lease_id));
	STORE_BIND(rc, sqlite3_bind_int64(st, 3, expires_ms));
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if ((rv = store_finish(s, st, rc, "extending a lease")) != SJE_OK) {
		return rv;
	}
	return store_changed(s, id);
}

// store_col_text copies text column i into *out (NULL for SQL NULL).
static sje_err
store_col_text(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *t;
	size_t               len;
	char                *copy;

	if (sqlite3_column_type(st, i) == SQLITE_NULL) {
		*out = NULL;
		return SJE_OK;
	}
	// column_text before column_bytes: the length is then the text's.
	if ((t = sqlite3_column_text(st, i)) == NULL) {
		return SJE_ENOMEM;
	}
	len = (size_t) sqlite3_column_bytes(st, i);
	if ((copy = malloc(len + 1)) == NULL) {
		return SJE_ENOMEM;
	}
	memcpy(copy, t, len);
	copy[len] = '\0';
	*out      = copy;
	return SJE_OK;
}

// store_read_row fills row (zeroed by the caller) from the current result
// of st, in SJE__STORE_COLS order. On failure row may hold some strings: the
// caller frees them with store_row_fini.
static sje_err
store_read_row(sqlite3_stmt *st, sje__job_row *row)
{
	sje_err rv;
	int     n;

	row->id = sqlite3_column_int64(st, COL_ID);
	if ((rv = store_col_text(st, COL_TASK_ID, &row->task_id)) != SJE_OK ||
	    (rv = store_col_text(st, COL_FUNCTION, &row->function)) !=
	        SJE_OK ||
	    (rv = store_col_text(st, COL_WORKER, &row->worker)) != SJE_OK ||
	    (rv = store_col_text(st, COL_RESULT_JSON, &row->result_json)) !=
	        SJE_OK ||
	    (rv = store_col_text(st, COL_ERROR_TYPE, &row->error_type)) !=
	        SJE_OK ||
	    (rv = store_col_text(
	         st, COL_ERROR_MESSAGE, &row->error_message)) != SJE_OK ||
	    (rv = store_col_text(st, COL_WORKFLOW_ID, &row->workflow_id)) !=
	        SJE_OK ||
	    (rv = store_col_text(st, COL_PROGRESS_MSG, &row->progress_msg)) !=
	        SJE_OK) {
		return rv;
	}
	// column_blob before column_bytes; an empty blob reads as NULL.
	{
		const void *b = sqlite3_column_blob(st, COL_SPEC);
		n             = sqlite3_column_bytes(st, COL_SPEC);
		if (n > 0) {
			if (b == NULL ||
			    (row->spec = malloc((size_t) n)) == NULL) {
				return SJE_ENOMEM;
			}
			memcpy(row->spec, b, (size_t) n);
			row->spec_len = (size_t) n;
		}
	}
	row->state    = sqlite3_column_int(st, COL_STATE);
	row->priority = sqlite3_column_int(st, COL_PRIORITY);
	row->attempt  = (uint32_t) sqlite3_column_int64(st, COL_ATTEMPT);
	row->max_attempts =
	    (uint32_t) sqlite3_column_int64(st, COL_MAX_ATTEMPTS);
	row->timeout_s = (uint32_t) sqlite3_column_int64(st, COL_TIMEOUT_S);
	row->lease_id  = (uint64_t) sqlite3_column_int64(st, COL_LEASE_ID);
	row->lease_expires_ms = sqlite3_column_int64(st, COL_LEASE_EXPIRES_MS);
	row->ready_at_ms      = sqlite3_column_int64(st, COL_READY_AT_MS);
	row->progress_pct     = sqlite3_column_double(st, COL_PROGRESS_PCT);
	row->cancel_requested =
	    sqlite3_column_int(st, COL_CANCEL_REQUESTED) != 0;
	row->created_ms  = sqlite3_column_int64(st, COL_CREATED_MS);
	row->started_ms  = sqlite3_column_int64(st, COL_STARTED_MS);
	row->finished_ms = sqlite3_column_int64(st, COL_FINISHED_MS);
	row->run_first   = sqlite3_column_int(st, COL_RUN_FIRST) != 0;
	return SJE_OK;
}

// store_new_row reads the current result of st into a new row.
static sje_err
store_new_row(sqlite3_stmt *st, sje__job_row **out)
{
	sje__job_row *row;
	sje_err       rv;

	if ((row = calloc(1, sizeof(*row))) == NULL) {
		return SJE_ENOMEM;
	}
	if ((rv = store_read_row(st, row)) != SJE_OK) {
		sje__job_row_free(row);
		return rv;
	}
	*out = row;
	return SJE_OK;
}

// store_get_one steps st (bound by the caller) for at most one row.
static sje_err
store_get_one(store_db *s, sqlite3_stmt *st, sje__job_row **out)
{
	sje_err rv;
	int     rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		rv = store_new_row(st, out);
	} else if (rc == SQLITE_DONE) {
		rv = SJE_ENOTFOUND;
	} else {
		return store_finish(s, st, rc, "reading a job");
	}
	store_done(st);
	return rv;
}

static sje_err
sq_get_job(sje__store *h, const char *task_id, sje__job_row **out)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_GET];
	int           rc;

	if (task_id == NULL) {
		return SJE_ENOTFOUND;
	}
	if ((rc = store_bind_text(st, 1, task_id)) != SQLITE_OK) {
		return store_finish(s, st, rc, "reading a job");
	}
	return store_get_one(s, st, out);
}

static sje_err
sq_get_result(sje__store *h, const char *task_id, char **out)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_GET_RESULT];
	sje_err       rv;
	int           rc;

	*out = NULL;
	if (task_id == NULL) {
		return SJE_ENOTFOUND;
	}
	if ((rc = store_bind_text(st, 1, task_id)) != SQLITE_OK) {
		return store_finish(s, st, rc, "reading a result");
	}
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		store_done(st);
		return SJE_ENOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		return store_finish(s, st, rc, "reading a result");
	}
	rv = store_col_text(st, 0, out);
	store_done(st);
	return rv;
}

static sje_err
sq_find_jobs(sje__store *h, const char *const *task_ids, size_t n, bool *found)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_EXISTS_TASK];

	for (size_t i = 0; i < n; i++) {
		found[i] = false;
		if (task_ids[i] == NULL) {
			continue;
		}
		int rc = store_bind_text(st, 1, task_ids[i]);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			return store_finish(s, st, rc, "looking jobs up");
		}
		found[i] = rc == SQLITE_ROW;
		store_done(st);
	}
	return SJE_OK;
}

static sje_err
sq_get_job_by_id(sje__store *h, int64_t id, sje__job_row **out)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_GET_BY_ID];
	int           rc;

	if ((rc = sqlite3_bind_int64(st, 1, id)) != SQLITE_OK) {
		return store_finish(s, st, rc, "reading a job");
	}
	return store_get_one(s, st, out);
}

// store_rows_free frees n rows and the array.
static void
store_rows_free(sje__job_row **rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sje__job_row_free(rows[i]);
	}
	free(rows);
}

// store_list_steps steps st (bound) into up to f->limit new rows.
static sje_err
store_list_steps(store_db *s, sqlite3_stmt *st, const sje__job_filter *f,
    sje__job_row ***rows, size_t *n)
{
	sje__job_row **out   = NULL;
	size_t         count = 0;
	sje_err        rv    = SJE_OK;
	int            rc;

	// The whole array at once: the caller bounds the limit.
	if ((out = calloc(f->limit, sizeof(*out))) == NULL) {
		store_done(st);
		return SJE_ENOMEM;
	}
	while (count < f->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = store_new_row(st, &out[count])) != SJE_OK) {
			break;
		}
		count++;
	}
	if (rv == SJE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "listing jobs");
	}
	store_done(st);
	if (rv != SJE_OK) {
		store_rows_free(out, count);
		return rv;
	}
	if (count == 0) {
		free(out);
		out = NULL;
	}
	*rows = out;
	*n    = count;
	return SJE_OK;
}

// store_text_or_null is s, or NULL for NULL or "".
static const char *
store_text_or_null(const char *v)
{
	return v != NULL && v[0] != '\0' ? v : NULL;
}

// store_two_ints steps st (bound) for one row of two integers.
static sje_err
store_two_ints(store_db *s, sqlite3_stmt *st, int64_t *a, int64_t *b)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*a = sqlite3_column_int64(st, 0);
		*b = sqlite3_column_int64(st, 1);
		store_done(st);
		return SJE_OK;
	}
	return store_finish(
	    s, st, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "listing jobs");
}

// store_prefix_floor decides how a prefix is listed: *floor is 0 to
// read the prefix's index range (at most range jobs share it below
// before: on a million jobs, reading 200,000 of them costs some 60 ms;
// or the caller takes no resume_id); else, so many jobs share it that
// reading the bound's jobs below before by id finds them: *floor is the
// lowest of those, and *full whether there are bound of them (more may
// lie below).
static sje_err
store_prefix_floor(store_db *s, const sje__job_filter *f, const char *prefix,
    const char *upper, int64_t *floor, bool *full)
{
	uint32_t bound =
	    f->max_scan != 0 ? f->max_scan : SJE_STORE_PREFIX_SCAN;
	int64_t       range  = (int64_t) bound * SJE_STORE_PREFIX_RANGE_FACTOR;
	int64_t       before = f->before_id > 0 ? f->before_id : INT64_MAX;
	int64_t       count = 0, unused = 0, lowest = 0, n = 0;
	sqlite3_stmt *st;
	sje_err       rv;
	int           rc = SQLITE_OK;

	*floor = 0;
	*full  = false;
	if (f->resume_id == NULL) {
		return SJE_OK;
	}
	st = s->st[ST_PREFIX_COUNT];
	STORE_BIND(rc, store_bind_text(st, 1, prefix));
	STORE_BIND(rc, store_bind_text(st, 2, upper));
	STORE_BIND(rc, sqlite3_bind_int64(st, 3, before));
	STORE_BIND(rc, sqlite3_bind_int64(st, 4, range + 1));
	if (rc != SQLITE_OK) {
		return store_finish(s, st, rc, "listing jobs");
	}
	if ((rv = store_two_ints(s, st, &count, &unused)) != SJE_OK ||
	    count <= range) {
		return rv;
	}
	st = s->st[ST_ID_FLOOR];
	STORE_BIND(rc, sqlite3_bind_int64(st, 1, before));
	STORE_BIND(rc, sqlite3_bind_int64(st, 2, bound));
	if (rc != SQLITE_OK) {
		return store_finish(s, st, rc, "listing jobs");
	}
	if ((rv = store_two_ints(s, st, &lowest, &n)) != SJE_OK) {
		return rv;
	}
	*floor = lowest > 0 ? lowest : 1;
	*full  = n == (int64_t) bound;
	return SJE_OK;
}

// store_list_more is sq_list_jobs for a filter with a task_id prefix, a
// parent or the runs: one statement per driving filter (a parent's rows,
// then the runs' index, then the prefix's range, or its bound of ids when
// more jobs share it: store_prefix_floor), every other filter in its
// WHERE.
static sje_err
store_list_more(
    store_db *s, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	const char   *parent = store_text_or_null(f->parent);
	const char   *prefix = store_text_or_null(f->task_id_prefix);
	char         *upper  = NULL;
	int64_t       floor  = 0;
	bool          full   = false;
	sqlite3_stmt *st;
	sje_err       rv;
	int           rc = SQLITE_OK;

	if (prefix != NULL &&
	    (rv = sje__store_prefix_upper(prefix, &upper)) != SJE_OK) {
		return rv;
	}
	if (prefix != NULL && parent == NULL && !f->runs &&
	    (rv = store_prefix_floor(s, f, prefix, upper, &floor, &full)) !=
	        SJE_OK) {
		free(upper);
		return rv;
	}
	st = s->st[parent != NULL ? ST_LIST_PARENT
	        : f->runs         ? ST_LIST_RUNS
	        : floor > 0       ? ST_LIST_PREFIX_SCAN
	                          : ST_LIST_PREFIX];
	STORE_BIND(rc,
	    sqlite3_bind_int64(
	        st, 1, f->before_id > 0 ? f->before_id : INT64_MAX));
	STORE_BIND(rc, sqlite3_bind_int64(st, 2, f->limit));
	STORE_BIND(rc, sqlite3_bind_int(st, 3, f->state));
	STORE_BIND(
	    rc, store_bind_text(st, 4, store_text_or_null(f->function)));
	STORE_BIND(
	    rc, store_bind_text(st, 5, store_text_or_null(f->workflow_id)));
	STORE_BIND(rc, store_bind_text(st, 6, store_text_or_null(f->worker)));
	STORE_BIND(rc, sqlite3_bind_int64(st, 7, f->created_from_ms));
	STORE_BIND(rc, sqlite3_bind_int64(st, 8, f->created_before_ms));
	// Both bounds are copied: upper is freed before the statement runs.
	STORE_BIND(rc,
	    prefix != NULL
	        ? sqlite3_bind_text(st, 9, prefix, -1, SQLITE_TRANSIENT)
	        : sqlite3_bind_null(st, 9));
	STORE_BIND(rc,
	    upper != NULL
	        ? sqlite3_bind_text(st, 10, upper, -1, SQLITE_TRANSIENT)
	        : sqlite3_bind_null(st, 10));
	STORE_BIND(rc, store_bind_text(st, 11, parent));
	STORE_BIND(rc, sqlite3_bind_int(st, 12, f->runs ? 1 : 0));
	if (floor > 0) {
		STORE_BIND(rc, sqlite3_bind_int64(st, 13, floor));
	}
	free(upper);
	if (rc != SQLITE_OK) {
		rv = store_err(s, rc, "listing jobs");
		store_done(st);
		return rv;
	}
	if ((rv = store_list_steps(s, st, f, rows, n)) == SJE_OK && full &&
	    *n < f->limit) {
		*f->resume_id = floor; // read all it may: go on below
	}
	return rv;
}

static sje_err
sq_add_parents(sje__store *h, const sje__parent_edge *edges, size_t n)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_ADD_PARENT];

	if (s->reader) {
		return SJE_EPRECOND;
	}
	for (size_t i = 0; i < n; i++) {
		if (edges[i].parent == NULL || edges[i].parent[0] == '\0') {
			return SJE_EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int rc = store_bind_text(st, 1, edges[i].parent);
		STORE_BIND(rc, sqlite3_bind_int64(st, 2, edges[i].child_id));
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
		}
		sje_err rv = store_finish(s, st, rc, "recording parents");
		if (rv != SJE_OK) {
			return rv;
		}
	}
	return SJE_OK;
}

static sje_err
sq_list_jobs(
    sje__store *h, const sje__job_filter *f, sje__job_row ***rows, size_t *n)
{
	store_db      *s           = h->impl;
	bool           by_function = f->function != NULL && f->function[0];
	bool           by_state    = f->state != 0;
	sqlite3_stmt  *st;
	sje__job_row **out   = NULL;
	size_t         count = 0;
	sje_err        rv    = SJE_OK;
	int            rc;

	if (f->limit == 0) {
		*rows = NULL;
		*n    = 0;
		return SJE_OK;
	}
	// One statement per filter shape, so that each uses its index.
	bool by_run = f->workflow_id != NULL && f->workflow_id[0] != '\0';
	if ((f->parent != NULL && f->parent[0] != '\0') || f->runs ||
	    (f->task_id_prefix != NULL && f->task_id_prefix[0] != '\0')) {
		return store_list_more(s, f, rows, n);
	}
	if (by_run) {
		st = s->st[ST_LIST_WORKFLOW];
	} else {
		st = s->st[by_state
		        ? (by_function ? ST_LIST_STATE_FUNCTION
		                       : ST_LIST_STATE)
		        : (by_function ? ST_LIST_FUNCTION : ST_LIST_ALL)];
	}
	// The whole array at once: the caller bounds the limit.
	if ((out = calloc(f->limit, sizeof(*out))) == NULL) {
		return SJE_ENOMEM;
	}
	rc = sqlite3_bind_int64(
	    st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 2, f->limit);
	}
	if (rc == SQLITE_OK && (by_state || by_run)) {
		rc = sqlite3_bind_int(st, 3, f->state);
	}
	if (rc == SQLITE_OK && (by_function || by_run)) {
		rc = store_bind_text(st, 4, by_function ? f->function : NULL);
	}
	if (rc == SQLITE_OK && by_run) {
		rc = store_bind_text(st, 5, f->workflow_id);
	}
	if (rc == SQLITE_OK) {
		rc = store_bind_text(st, 6,
		    f->worker != NULL && f->worker[0] != '\0' ? f->worker
		                                              : NULL);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 7, f->created_from_ms);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_bind_int64(st, 8, f->created_before_ms);
	}
	if (rc != SQLITE_OK) {
		rv = store_err(s, rc, "listing jobs");
		goto done;
	}
	while (count < f->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = store_new_row(st, &out[count])) != SJE_OK) {
			goto done;
		}
		count++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "listing jobs");
	}
done:
	store_done(st);
	if (rv != SJE_OK) {
		store_rows_free(out, count);
		return rv;
	}
	if (count == 0) {
		free(out);
		out = NULL;
	}
	*rows = out;
	*n    = count;
	return SJE_OK;
}

static sje_err
sq_scan_active(sje__store *h,
    sje_err (*fn)(void *arg, const sje__job_row *row), void *arg)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_SCAN_ACTIVE];
	sje__job_row  row;
	sje_err       rv = SJE_OK;
	int           rc;

	// Each row is copied out before fn sees it, so fn may write to the
	// store (the scan's read sees or skips such changes, as SQLite
	// allows; fn should not change which jobs are active).
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		rv = store_read_row(st, &row);
		if (rv == SJE_OK) {
			rv = fn(arg, &row);
		}
		sje__job_row_fini(&row);
		if (rv != SJE_OK) {
			break;
		}
	}
	if (rv == SJE_OK && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "scanning active jobs");
	}
	store_done(st);
	return rv;
}

static sje_err
sq_next_event_seq(sje__store *h, uint64_t *seq)
{
	store_db *s = h->impl;
	sje_err   rv;

	if (s->reader) {
		return SJE_EPRECOND;
	}
	s->last_seq++;
	if (store_in_txn(s)) {
		s->seq_dirty = true; // written at commit
	} else if ((rv = store_meta_set(s, "event_seq", s->last_seq)) !=
	    SJE_OK) {
		s->last_seq--;
		return rv;
	}
	*seq = s->last_seq;
	return SJE_OK;
}

static sje_err
sq_last_event_seq(sje__store *h, uint64_t *seq)
{
	store_db *s = h->impl;

	if (s->reader) {
		return store_seq_read(s, seq); // what the writer committed
	}
	*seq = s->last_seq;
	return SJE_OK;
}

static sje_err
sq_put_attempt(sje__store *h, int64_t job_id, const sje__attempt_row *a)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_PUT_ATTEMPT];
	int           rc;
	if ((rc = sqlite3_bind_int64(st, 1, job_id)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(st, 2, a->number)) == SQLITE_OK &&
	    (rc = store_bind_text(st, 3, a->worker)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(st, 4, a->started_ms)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(st, 5, a->finished_ms)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int(st, 6, a->outcome)) == SQLITE_OK &&
	    (rc = store_bind_text(st, 7, a->error_type)) == SQLITE_OK &&
	    (rc = store_bind_text(st, 8, a->error_message)) == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	return store_finish(s, st, rc, "writing an attempt");
}

static sje_err
sq_list_attempts(
    sje__store *h, int64_t job_id, sje__attempt_row **rows, size_t *n)
{
	store_db         *s   = h->impl;
	sqlite3_stmt     *st  = s->st[ST_LIST_ATTEMPTS];
	sje__attempt_row *v   = NULL;
	size_t            cnt = 0, cap = 0;
	sje_err           rv = SJE_OK;
	int               rc = sqlite3_bind_int64(st, 1, job_id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t            nc = cap != 0 ? cap * 2 : 4;
			sje__attempt_row *nv = realloc(v, nc * sizeof(*nv));
			if (nv == NULL) {
				rv = SJE_ENOMEM;
				break;
			}
			v   = nv;
			cap = nc;
		}
		sje__attempt_row *a = &v[cnt];
		memset(a, 0, sizeof(*a));
		cnt++;
		a->number      = (uint32_t) sqlite3_column_int64(st, 0);
		a->started_ms  = sqlite3_column_int64(st, 2);
		a->finished_ms = sqlite3_column_int64(st, 3);
		a->outcome     = sqlite3_column_int(st, 4);
		if ((rv = store_col_text(st, 1, &a->worker)) != SJE_OK ||
		    (rv = store_col_text(st, 5, &a->error_type)) != SJE_OK ||
		    (rv = store_col_text(st, 6, &a->error_message)) !=
		        SJE_OK) {
			break;
		}
		rc = SQLITE_OK;
	}
	if (rv == SJE_OK && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "reading attempts");
	}
	store_done(st);
	if (rv != SJE_OK) {
		sje__attempt_rows_free(v, cnt);
		return rv;
	}
	*rows = v;
	*n    = cnt;
	return SJE_OK;
}

static sje_err
sq_add_event(sje__store *h, uint64_t seq, const char *task_id,
    const uint8_t *data, size_t len)
{
	store_db *s = h->impl;
	sje_err   rv;
	if (store_in_txn(s) && task_id != NULL && seq > s->ev_max_seq) {
		if ((rv = store_events_push(s, seq, task_id, data, len)) !=
		    SJE_OK) {
			return rv;
		}
		s->ev_max_seq = seq;
		return s->n_ev < STORE_EVENT_BUFFER ? SJE_OK
		                                    : store_events_flush(s);
	}
	// Written at once, after those buffered (in seq order).
	if ((rv = store_events_flush(s)) != SJE_OK) {
		return rv;
	}
	sqlite3_stmt *st = s->st[ST_ADD_EVENT];
	int           rc;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64) seq)) ==
	        SQLITE_OK &&
	    (rc = store_bind_text(st, 2, task_id)) == SQLITE_OK &&
	    (rc = sqlite3_bind_blob(st, 3, len > 0 ? data : (const void *) "",
	         (int) len, SQLITE_STATIC)) == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if ((rv = store_finish(s, st, rc, "keeping an event")) == SJE_OK &&
	    seq > s->ev_max_seq) {
		s->ev_max_seq = seq;
	}
	return rv;
}

static sje_err
sq_list_events(sje__store *h, uint64_t after, const char *task_id,
    uint32_t limit,
    sje_err (*fn)(void *arg, uint64_t seq, const uint8_t *data, size_t len),
    void *arg)
{
	store_db     *s       = h->impl;
	bool          by_task = task_id != NULL && task_id[0] != '\0';
	sqlite3_stmt *st =
	    s->st[by_task ? ST_LIST_EVENTS_TASK : ST_LIST_EVENTS];
	sje_err rv = store_events_flush(s); // the open transaction's too
	int     rc;
	if (rv != SJE_OK) {
		return rv;
	}
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64) after)) ==
	        SQLITE_OK &&
	    (rc = sqlite3_bind_int64(st, 2, limit)) == SQLITE_OK &&
	    (!by_task ||
	        (rc = store_bind_text(st, 3, task_id)) == SQLITE_OK)) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			rv = fn(arg, (uint64_t) sqlite3_column_int64(st, 0),
			    sqlite3_column_blob(st, 1),
			    (size_t) sqlite3_column_bytes(st, 1));
			if (rv != SJE_OK) {
				break;
			}
		}
	}
	if (rv == SJE_OK && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "reading events");
	}
	store_done(st);
	return rv;
}

static sje_err
sq_prune_events(sje__store *h, uint64_t upto)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_PRUNE_EVENTS];
	sje_err       rv = store_events_flush(s);
	if (rv != SJE_OK) {
		return rv;
	}
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64) upto);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	return store_finish(s, st, rc, "pruning events");
}

static sje_err
sq_purge_finished(
    sje__store *h, sje_time_ms before_ms, uint32_t limit, uint32_t *n)
{
	store_db *s = h->impl;
	for (int k = ST_PURGE_ATTEMPTS; k <= ST_PURGE_JOBS; k++) {
		sqlite3_stmt *st = s->st[k];
		int           rc = sqlite3_bind_int64(st, 1, before_ms);
		if (rc == SQLITE_OK) {
			rc = sqlite3_bind_int64(st, 2, limit);
		}
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
		}
		sje_err rv = store_finish(s, st, rc, "purging finished jobs");
		if (rv != SJE_OK) {
			return rv;
		}
	}
	*n = (uint32_t) sqlite3_changes(s->db);
	return SJE_OK;
}

// store_delete_steps runs delete_job's statements for task_id (under the
// caller's savepoint): SJE_EPRECOND or SJE_ENOTFOUND when they deleted
// nothing.
static sje_err
store_delete_steps(store_db *s, const char *task_id)
{
	for (int k = ST_DELETE_ATTEMPTS; k <= ST_DELETE_JOB; k++) {
		sqlite3_stmt *st = s->st[k];
		int           rc = store_bind_text(st, 1, task_id);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
		}
		sje_err rv = store_finish(s, st, rc, "deleting a job");
		if (rv != SJE_OK) {
			return rv;
		}
	}
	if (sqlite3_changes(s->db) > 0) {
		return SJE_OK;
	}
	// Not deleted: unfinished, or not there (nothing changed either
	// way: the attempts' statement selects the same terminal job).
	sqlite3_stmt *st = s->st[ST_EXISTS_TASK];
	int           rc = store_bind_text(st, 1, task_id);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		store_done(st);
		return rc == SQLITE_ROW ? SJE_EPRECOND : SJE_ENOTFOUND;
	}
	return store_finish(s, st, rc, "reading a job");
}

static sje_err
sq_delete_job(sje__store *h, const char *task_id)
{
	store_db *s = h->impl;
	sje_err   rv;

	if (task_id == NULL) {
		return SJE_ENOTFOUND;
	}
	if ((rv = store_step_done(
	         s, s->st[ST_DELETE_SAVEPOINT], "deleting a job")) != SJE_OK) {
		return rv;
	}
	rv = store_delete_steps(s, task_id);
	if (rv != SJE_OK && rv != SJE_EPRECOND && rv != SJE_ENOTFOUND) {
		(void) store_step_done(
		    s, s->st[ST_DELETE_ROLLBACK_TO], "undoing a delete");
	}
	sje_err rel =
	    store_step_done(s, s->st[ST_DELETE_RELEASE], "deleting a job");
	return rv == SJE_OK ? rel : rv;
}

static sje_err
sq_put_function(sje__store *h, const sje__fn_row *row)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_PUT_FUNCTION];
	int           rc = SQLITE_OK;

	if (row->name == NULL || row->name[0] == '\0') {
		return SJE_EINVAL;
	}
	STORE_BIND(rc, store_bind_text(st, 1, row->name));
	STORE_BIND(rc, sqlite3_bind_int(st, 2, row->paused ? 1 : 0));
	STORE_BIND(rc, sqlite3_bind_int64(st, 3, row->concurrency));
	STORE_BIND(rc, store_bind_text(st, 4, row->rate));
	STORE_BIND(rc, sqlite3_bind_int64(st, 5, row->updated_ms));
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	return store_finish(s, st, rc, "writing a function's settings");
}

static sje_err
sq_list_functions(sje__store *h, sje__fn_row **rows, size_t *n)
{
	store_db     *s   = h->impl;
	sqlite3_stmt *st  = s->st[ST_LIST_FUNCTIONS];
	sje__fn_row  *v   = NULL;
	size_t        cnt = 0, cap = 0;
	sje_err       rv = SJE_OK;
	int           rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t       nc = cap != 0 ? cap * 2 : 8;
			sje__fn_row *nv = realloc(v, nc * sizeof(*nv));
			if (nv == NULL) {
				rv = SJE_ENOMEM;
				break;
			}
			v   = nv;
			cap = nc;
		}
		sje__fn_row *r = &v[cnt];
		memset(r, 0, sizeof(*r));
		cnt++;
		r->paused      = sqlite3_column_int(st, 1) != 0;
		r->concurrency = sqlite3_column_int64(st, 2);
		r->updated_ms  = sqlite3_column_int64(st, 4);
		if ((rv = store_col_text(st, 0, &r->name)) != SJE_OK ||
		    (rv = store_col_text(st, 3, &r->rate)) != SJE_OK) {
			break;
		}
	}
	if (rv == SJE_OK && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "reading functions' settings");
	}
	store_done(st);
	if (rv != SJE_OK) {
		sje__fn_rows_free(v, cnt);
		return rv;
	}
	if (cnt == 0) {
		free(v);
		v = NULL;
	}
	*rows = v;
	*n    = cnt;
	return SJE_OK;
}

static sje_err
sq_put_schedule(sje__store *h, const sje__schedule_row *row)
{
	store_db     *s  = h->impl;
	sqlite3_stmt *st = s->st[ST_PUT_SCHEDULE];
	int           rc = SQLITE_OK;

	if (row->name == NULL || row->name[0] == '\0') {
		return SJE_EINVAL;
	}
	STORE_BIND(rc, store_bind_text(st, 1, row->name));
	STORE_BIND(rc, sqlite3_bind_int64(st, 2, row->last_tick_ms));
	STORE_BIND(rc, store_bind_text(st, 3, row->last_task_id));
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	return store_finish(s, st, rc, "writing a schedule's state");
}

static sje_err
sq_list_schedules(sje__store *h, sje__schedule_row **rows, size_t *n)
{
	store_db          *s   = h->impl;
	sqlite3_stmt      *st  = s->st[ST_LIST_SCHEDULES];
	sje__schedule_row *v   = NULL;
	size_t             cnt = 0, cap = 0;
	sje_err            rv = SJE_OK;
	int                rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t             nc = cap != 0 ? cap * 2 : 8;
			sje__schedule_row *nv = realloc(v, nc * sizeof(*nv));
			if (nv == NULL) {
				rv = SJE_ENOMEM;
				break;
			}
			v   = nv;
			cap = nc;
		}
		sje__schedule_row *r = &v[cnt];
		memset(r, 0, sizeof(*r));
		cnt++;
		r->last_tick_ms = sqlite3_column_int64(st, 1);
		if ((rv = store_col_text(st, 0, &r->name)) != SJE_OK ||
		    (rv = store_col_text(st, 2, &r->last_task_id)) != SJE_OK) {
			break;
		}
	}
	if (rv == SJE_OK && rc != SQLITE_DONE) {
		rv = store_err(s, rc, "reading schedules' state");
	}
	store_done(st);
	if (rv != SJE_OK) {
		sje__schedule_rows_free(v, cnt);
		return rv;
	}
	if (cnt == 0) {
		free(v);
		v = NULL;
	}
	*rows = v;
	*n    = cnt;
	return SJE_OK;
}

// One coordinator per SQLite file: the hooks keep their cursor in a file
// of their own beside it (events/hooks.c).
static sje_err
sq_get_cursor(sje__store *h, const char *name, uint64_t *seq)
{
	(void) h;
	(void) name;
	(void) seq;
	return SJE_EUNIMPL;
}

static sje_err
sq_put_cursor(sje__store *h, const char *name, uint64_t seq)
{
	(void) h;
	(void) name;
	(void) seq;
	return SJE_EUNIMPL;
}

static const sje__store_ops store_ops = {
	.name             = "sqlite",
	.close            = sq_close,
	.open_reader      = sq_open_reader,
	.begin            = sq_begin,
	.commit           = sq_commit,
	.rollback         = sq_rollback,
	.insert_jobs      = sq_insert_jobs,
	.claim_job        = sq_claim_job,
	.succeed_job      = sq_succeed_job,
	.update_job       = sq_update_job,
	.extend_lease     = sq_extend_lease,
	.get_job          = sq_get_job,
	.get_job_by_id    = sq_get_job_by_id,
	.get_result       = sq_get_result,
	.find_jobs        = sq_find_jobs,
	.get_jobs         = sje__store_get_jobs_each,
	.list_jobs        = sq_list_jobs,
	.add_parents      = sq_add_parents,
	.scan_active      = sq_scan_active,
	.put_attempt      = sq_put_attempt,
	.list_attempts    = sq_list_attempts,
	.list_attempts_of = sje__store_list_attempts_of_each,
	.next_event_seq   = sq_next_event_seq,
	.last_event_seq   = sq_last_event_seq,
	.add_event        = sq_add_event,
	.list_events      = sq_list_events,
	.prune_events     = sq_prune_events,
	.purge_finished   = sq_purge_finished,
	.delete_job       = sq_delete_job,
	.put_function     = sq_put_function,
	.list_functions   = sq_list_functions,
	.put_schedule     = sq_put_schedule,
	.list_schedules   = sq_list_schedules,
	.get_cursor       = sq_get_cursor,
	.put_cursor       = sq_put_cursor,
};
