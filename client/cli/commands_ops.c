// commands_ops.c — the sje-client commands of an operator: retry, delete,
// explain, functions, pause, resume and limit.
//
// Each is one call (Retry, DeleteJob, Explain, ListFunctions,
// SetFunction: pause, resume and limit). Refusals come back from the server
// and are reported as every command reports them (sje__cli_call_failed): an
// unknown id or function exits 4, a job in the wrong state
// (FAILED_PRECONDITION) 1.
//
// --json prints the reply as REST answers it, from the same code
// (client/core/shapes.h): retry without the `created` key of each
// descendant, explain with only the figures that fit each reason,
// functions (and pause, resume, limit) with `concurrency` and `rate` null
// when no limit is set.
#include "commands.h"

#include "print.h"

#include "jobstate.h"
#include "methods.h"
#include "pbjson.h"
#include "shapes.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ops_nonempty reports an empty positional argument (what names it) as a
// usage error; CLI_OK otherwise.
static int
ops_nonempty(const char *what, const char *arg)
{
	if (arg[0] == '\0') {
		return sje__args_usage_error("%s must not be empty", what);
	}
	return CLI_OK;
}

// ops_client checks the positional argument, then opens the connection.
static int
ops_client(sje__cli *c, const char *what, const char *arg)
{
	int rc = ops_nonempty(what, arg);
	return rc != CLI_OK ? rc : sje__cli_client(c);
}

int
sje__cmd_retry(sje__cli *c, const sje__args *a)
{
	bool bulk;
	int  rc = sje__bulk_mode(a, "retry", &bulk);
	if (rc == CLI_OK && bulk && a->val[OPT_DESCENDANTS] != NULL) {
		rc = sje__args_usage_error(
		    "retry --all re-runs what the filter selects; "
		    "--descendants is for one job");
	}
	if (rc != CLI_OK) {
		return rc;
	}
	if (bulk) {
		return sje__cmd_bulk(c, a, SJE__COORD_BULK_RETRY);
	}
	if ((rc = ops_client(c, "ID", a->pos[0])) != CLI_OK) {
		return rc;
	}
	bool                 desc = a->val[OPT_DESCENDANTS] != NULL;
	Sje__V1__RetryReply *rep  = NULL;
	sje_status           st   = { 0 };
	sje_err rv = sje_client_retry(c->client, a->pos[0], desc, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_doc(c->tty, sje__shape_retry(rep));
	} else {
		printf("%s  %s  (re-run)\n", sje__print_text(rep->task_id),
		    sje_job_state_name(rep->state));
		for (size_t i = 0; i < rep->n_descendants; i++) {
			printf("%s  %s  (re-run)\n",
			    sje__print_text(rep->descendants[i]->task_id),
			    sje_job_state_name(rep->descendants[i]->state));
		}
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

int
sje__cmd_delete(sje__cli *c, const sje__args *a)
{
	int rc = ops_client(c, "ID", a->pos[0]);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__DeleteJobReply *rep = NULL;
	sje_status               st  = { 0 };
	sje_err rv = sje_client_delete_job(c->client, a->pos[0], &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else if (rep->deleted > 0) {
		printf("deleted %s\n", sje__print_text(a->pos[0]));
	} else {
		printf("nothing deleted\n");
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

int
sje__cmd_explain(sje__cli *c, const sje__args *a)
{
	int rc = ops_client(c, "ID", a->pos[0]);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__ExplainReply *rep = NULL;
	sje_status             st  = { 0 };
	sje_err rv = sje_client_explain(c->client, a->pos[0], &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_doc(c->tty, sje__shape_explain(rep));
	} else {
		printf("%s  %s\n", sje__print_text(rep->task_id),
		    sje_job_state_name(rep->state));
		for (size_t i = 0; i < rep->n_reasons; i++) {
			const Sje__V1__Reason *r = rep->reasons[i];
			if (r->message[0] != '\0') {
				printf("  %s: %s\n", sje__print_text(r->code),
				    sje__print_text(r->message));
			} else {
				printf("  %s\n", sje__print_text(r->code));
			}
			// Only WAITING_ON_PARENTS names parents.
			for (size_t k = 0; k < r->n_parents; k++) {
				printf("    %s  %s\n",
				    sje__print_text(r->parents[k]->task_id),
				    sje_job_state_name(r->parents[k]->state));
			}
		}
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

// ops_function_header starts a table of functions (7 columns).
static void
ops_function_header(sje__table *t)
{
	sje__table_row(t, "NAME", "QUEUED", "RUNNING", "PAUSED", "CONCURRENCY",
	    "RATE", "WORKERS");
}

// ops_function_row adds f to a table of functions.
static void
ops_function_row(sje__table *t, const Sje__V1__FunctionInfo *f)
{
	char queued[32], running[32], conc[16];
	sje__snprintf(queued, sizeof(queued), "%" PRIu64, f->queued);
	sje__snprintf(running, sizeof(running), "%" PRIu64, f->running);
	if (f->concurrency > 0) {
		sje__snprintf(conc, sizeof(conc), "%" PRIu32, f->concurrency);
	} else {
		sje__snprintf(conc, sizeof(conc), "-");
	}
	// The workers, comma-separated.
	sje__buf b = { 0 };
	for (size_t k = 0; k < f->n_workers; k++) {
		sje__buf_printf(&b, "%s%s", k > 0 ? "," : "", f->workers[k]);
	}
	char *workers = sje__buf_take(&b, NULL);
	if (workers == NULL) {
		t->oom = true;
		return;
	}
	sje__table_row(t, f->name, queued, running, f->paused ? "yes" : "no",
	    conc, f->rate[0] != '\0' ? f->rate : "-",
	    f->n_workers > 0 ? workers : "-");
	free(workers);
}

int
sje__cmd_functions(sje__cli *c, const sje__args *a)
{
	(void) a;
	int rc = sje__cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__ListFunctionsReply *rep = NULL;
	sje_status                   st  = { 0 };
	sje_err rv = sje_client_list_functions(c->client, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_doc(c->tty, sje__shape_functions(rep));
	} else if (rep->n_functions == 0) {
		puts("no functions");
	} else {
		sje__table t = { .ncols = 7 };
		ops_function_header(&t);
		for (size_t i = 0; i < rep->n_functions; i++) {
			ops_function_row(&t, rep->functions[i]);
		}
		rc = sje__table_print(&t);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

// ops_print_function prints the function SetFunction answered: with
// --json as `functions --json` shows one, else the line done (already
// made safe for a terminal) and the function's row as `functions` shows
// it. Frees rep; returns the exit code.
static int
ops_print_function(sje__cli *c, Sje__V1__FunctionInfo *rep, const char *done)
{
	int rc;
	if (c->json) {
		rc = sje__print_doc(c->tty, sje__shape_function(rep));
	} else {
		printf("%s\n", done);
		sje__table t = { .ncols = 7 };
		ops_function_header(&t);
		ops_function_row(&t, rep);
		rc = sje__table_print(&t);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

// ops_set_pause is pause (PAUSE_CHANGE_PAUSE) and resume: SetFunction,
// then "paused NAME" (done says which) and the function as `functions`
// shows it, or with --json the function as `functions --json` does.
static int
ops_set_pause(sje__cli *c, const sje__args *a, Sje__V1__PauseChange change,
    const char *done)
{
	int rc = ops_client(c, "FUNCTION", a->pos[0]);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__SetFunctionRequest req = SJE__V1__SET_FUNCTION_REQUEST__INIT;
	req.name                        = (char *) a->pos[0];
	req.pause                       = change;
	Sje__V1__FunctionInfo *rep      = NULL;
	sje_status             st       = { 0 };
	sje_err rv = sje_client_set_function(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	char line[512];
	sje__snprintf(
	    line, sizeof(line), "%s %s", done, sje__print_text(a->pos[0]));
	return ops_print_function(c, rep, line);
}

int
sje__cmd_pause(sje__cli *c, const sje__args *a)
{
	return ops_set_pause(
	    c, a, SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_PAUSE, "paused");
}

int
sje__cmd_resume(sje__cli *c, const sje__args *a)
{
	return ops_set_pause(
	    c, a, SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_RESUME, "resumed");
}

int
sje__cmd_limit(sje__cli *c, const sje__args *a)
{
	const char *conc = a->val[OPT_CONCURRENCY];
	const char *rate = a->val[OPT_RATE];
	int         rc   = ops_nonempty("FUNCTION", a->pos[0]);
	if (rc != CLI_OK) {
		return rc;
	}
	if (conc == NULL && rate == NULL) {
		return sje__args_usage_error(
		    "limit needs --concurrency, --rate or both (usage: "
		    "sje-client %s)",
		    a->cmd->usage);
	}
	Sje__V1__SetFunctionRequest req = SJE__V1__SET_FUNCTION_REQUEST__INIT;
	req.name                        = (char *) a->pos[0];
	if (conc != NULL) {
		// 0 would read as "no limit" to the server: none says so.
		unsigned long long n = 0;
		if (strcmp(conc, "none") != 0 &&
		    (!sje__args_whole(conc, &n) || n < 1 || n > UINT32_MAX)) {
			return sje__args_usage_error(
			    "--concurrency: expected a whole number from 1 to "
			    "%" PRIu32 ", or none, got '%s'",
			    UINT32_MAX, conc);
		}
		req.set_concurrency = true;
		req.concurrency     = (uint32_t) n;
	}
	if (rate != NULL) {
		// The server judges the text of a rate (exit 1 when it
		// refuses it).
		if (rate[0] == '\0') {
			return sje__args_usage_error(
			    "--rate must not be empty (none removes the "
			    "limit)");
		}
		req.set_rate = true;
		req.rate     = strcmp(rate, "none") == 0 ? "" : (char *) rate;
	}
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		return rc;
	}
	Sje__V1__FunctionInfo *rep = NULL;
	sje_status             st  = { 0 };
	sje_err rv = sje_client_set_function(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	// What is in force now of each limit given: "sleep: concurrency 2,
	// rate none".
	char line[512], conc_s[16];
	sje__snprintf(conc_s, sizeof(conc_s), "%" PRIu32, rep->concurrency);
	sje__snprintf(line, sizeof(line), "%s:%s%s%s%s%s",
	    sje__print_text(a->pos[0]), conc != NULL ? " concurrency " : "",
	    conc == NULL               ? ""
	        : rep->concurrency > 0 ? conc_s
	                               : "none",
	    conc != NULL && rate != NULL ? "," : "",
	    rate != NULL ? " rate " : "",
	    rate == NULL               ? ""
	        : rep->rate[0] != '\0' ? sje__print_text(rep->rate)
	                               : "none");
	return ops_print_function(c, rep, line);
}
