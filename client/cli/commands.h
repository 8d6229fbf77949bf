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

// sje__workflow_print_run shows every step of workflow run id: a table,
// or {"workflow_id", "steps": [job, ...]} with --json, and returns CLI_OK
// whatever the steps' states; CLI_NOTFOUND (printing nothing) when the
// run has no steps. The connection must be open.
int sje__workflow_print_run(sje__cli *c, const char *id);

#endif // SJE_CLI_COMMANDS_H
