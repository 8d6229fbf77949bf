// columns.h — the columns of a job's row as the SQL backends read them
// (sqlite.c, postgres.c: the same names in both schemas), in one order:
// SJE__STORE_COLS for their SELECTs, enum sje__store_col for the index
// of each in a result. Private to server/store/.
#ifndef SJE_SERVER_STORE_COLUMNS_H
#define SJE_SERVER_STORE_COLUMNS_H

#define SJE__STORE_COLS                                                 \
	"id, task_id, function, spec, state, priority, attempt, "       \
	"max_attempts, timeout_s, lease_id, lease_expires_ms, "         \
	"ready_at_ms, worker, result_json, error_type, error_message, " \
	"progress_pct, progress_msg, cancel_requested, created_ms, "    \
	"started_ms, finished_ms, workflow_id, run_first"

enum sje__store_col {
	COL_ID,
	COL_TASK_ID,
	COL_FUNCTION,
	COL_SPEC,
	COL_STATE,
	COL_PRIORITY,
	COL_ATTEMPT,
	COL_MAX_ATTEMPTS,
	COL_TIMEOUT_S,
	COL_LEASE_ID,
	COL_LEASE_EXPIRES_MS,
	COL_READY_AT_MS,
	COL_WORKER,
	COL_RESULT_JSON,
	COL_ERROR_TYPE,
	COL_ERROR_MESSAGE,
	COL_PROGRESS_PCT,
	COL_PROGRESS_MSG,
	COL_CANCEL_REQUESTED,
	COL_CREATED_MS,
	COL_STARTED_MS,
	COL_FINISHED_MS,
	COL_WORKFLOW_ID,
	COL_RUN_FIRST,
	COL_COUNT, // how many
};

#endif // SJE_SERVER_STORE_COLUMNS_H
