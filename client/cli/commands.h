// commands.h — sje-client's commands, one function each (args.c's table
// names them). Each returns the process's exit code (args.h) and reports
// its own errors.
//
//   commands_jobs.c      submit, status, cancel, list, wait, workers
//   commands_workflow.c  workflow, and the steps of a run for status
//   commands_watch.c     watch
//   commands_bulk.c      the filter of list and the bulk commands:
//                        cancel --all, retry --all, purge
//   commands_ops.c       retry, delete, explain, functions, pause, resume,
//                        limit
#ifndef SJE_CLI_COMMANDS_H
#define SJE_CLI_COMMANDS_H

#include "cli.h"

int sje__cmd_submit(sje__cli *c, const sje__args *a);
int sje__cmd_status(sje__cli *c, const sje__args *a);
int sje__cmd_cancel(sje__cli *c, const sje__args *a);
int sje__cmd_list(sje__cli *c, const sje__args *a);
int sje__cmd_wait(sje__cli *c, const sje__args *a);
int sje__cmd_workers(sje__cli *c, const sje__args *a);
int sje__cmd_workflow(sje__cli *c, const sje__args *a);
int sje__cmd_watch(sje__cli *c, const sje__args *a);
int sje__cmd_retry(sje__cli *c, const sje__args *a);
int sje__cmd_delete(sje__cli *c, const sje__args *a);
int sje__cmd_explain(sje__cli *c, const sje__args *a);
int sje__cmd_functions(sje__cli *c, const sje__args *a);
int sje__cmd_pause(sje__cli *c, const sje__args *a);
int sje__cmd_resume(sje__cli *c, const sje__args *a);
int sje__cmd_limit(sje__cli *c, const sje__args *a);
int sje__cmd_schedules(sje__cli *c, const sje__args *a);

// sje__filter is the filter options of list and of the bulk commands,
// read by sje__filter_read: strings borrowed from argv, NULL when not
// given; the times point into the struct itself (after_ts, before_ts).
typedef struct sje__filter {
	int                 state; // 0: any
	const char         *function, *label, *workflow_id, *worker;
	Sje__V1__Timestamp *after, *before; // NULL: not given
	Sje__V1__Timestamp  after_ts, before_ts;
	bool                any; // at least one option is given
} sje__filter;

// sje__filter_read reads --state, --function, --label K=V, --workflow ID,
// --worker NAME, --after TIME and --before TIME (RFC 3339) from a into
// *f; CLI_OK, or CLI_USAGE (reported) for an unknown state, an empty
// value, a label without '=' or a time that is not RFC 3339.
int sje__filter_read(const sje__args *a, sje__filter *f);

// sje__bulk_mode tells whether a command that takes an ID or --all and a
// filter (cancel, retry) was given --all (*bulk); CLI_USAGE (reported)
// for --all with an ID, neither, or a filter without --all.
int sje__bulk_mode(const sje__args *a, const char *cmd, bool *bulk);

// sje__cmd_bulk is a bulk command: the filter of a, then one call of
// method (SJE__COORD_BULK_CANCEL, _RETRY or _DELETE), printing "matched N"
// (with --json the reply: {"matched", "more"}), and on stderr that more
// may match when the server stopped at its bound.
int sje__cmd_bulk(sje__cli *c, const sje__args *a, unsigned method);

// sje__cmd_purge is purge FILTER...: sje__cmd_bulk of BulkDelete.
int sje__cmd_purge(sje__cli *c, const sje__args *a);

// sje__workflow_print_run shows workflow run id: a line with its workflow
// and state and a table of its steps, or with --json the run as REST gives
// it, {"workflow_id", "workflow", "state", "steps": [job, ...]}, and
// returns CLI_OK whatever its state; CLI_NOTFOUND (printing nothing) when
// there is no such run. The connection must be open (for these three).
int sje__workflow_print_run(sje__cli *c, const char *id);

// sje__workflow_wait waits until workflow run id is no longer RUNNING or
// timeout_ms pass (0: no limit), then prints it as status does. CLI_OK
// when it SUCCEEDED, CLI_FAILED otherwise (or when the time ran out);
// CLI_NOTFOUND, printing nothing, when there is no such run.
int sje__workflow_wait(sje__cli *c, const char *id, uint32_t timeout_ms);

// sje__workflow_cancel cancels every unfinished step of workflow run id
// and prints "workflow run ID: matched N" (--json: the reply); CLI_NOTFOUND,
// printing nothing, when there is no such run.
int sje__workflow_cancel(sje__cli *c, const char *id);

#endif // SJE_CLI_COMMANDS_H
