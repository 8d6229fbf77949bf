// commands_bulk.c — the filter of list and of the bulk commands (--state,
// --function, --label, --workflow, --worker, --after, --before), read
// once for all of them, and the bulk commands: cancel --all, retry --all
// and purge (BulkCancel, BulkRetry, BulkDelete).
//
// The CLI checks what it can (a known state, KEY=VALUE, RFC 3339 times)
// so that a typo is a usage error (exit 2) before any call; the server
// checks the same again, for every other client. A bulk command makes
// one call, which acts on at most 10,000 jobs: when the server says more
// may match, the command says so and the operator runs it again. It does
// not loop by itself: a bulk retry of jobs that fail at once would
// select them again.
#include "commands.h"

#include "print.h"

#include "jobstate.h"
#include "methods.h"
#include "pbjson.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

// filter_time reads option --opt's value text into *ts.
static int
filter_time(const char *opt, const char *text, Sje__V1__Timestamp *ts)
{
	sje_time_ms t;
	if (!sje__rfc3339_parse(text, &t) || t <= 0) {
		return sje__args_usage_error(
		    "--%s: expected an RFC 3339 time such as "
		    "2026-11-27T22:00:00Z, got '%s'",
		    opt, text);
	}
	sje__v1__timestamp__init(ts);
	ts->unix_ms = t;
	return CLI_OK;
}

int
sje__filter_read(const sje__args *a, sje__filter *f)
{
	memset(f, 0, sizeof(*f));
	if (a->val[OPT_STATE] != NULL) {
		if (!sje_job_state_parse(a->val[OPT_STATE], &f->state)) {
			return sje__args_usage_error(
			    "--state: unknown state '%s' (PENDING, "
			    "SCHEDULED, QUEUED, RUNNING, "
			    "SUCCEEDED, FAILED, CANCELLED, "
			    "UPSTREAM_FAILED)",
			    a->val[OPT_STATE]);
		}
	}
	static const struct {
		opt_id      opt;
		const char *name;
		size_t      off;
	} strs[] = {
		{ OPT_FUNCTION, "function", offsetof(sje__filter, function) },
		{ OPT_LABEL, "label", offsetof(sje__filter, label) },
		{ OPT_WORKFLOW, "workflow",
		    offsetof(sje__filter, workflow_id) },
		{ OPT_WORKER, "worker", offsetof(sje__filter, worker) },
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *v = a->val[strs[i].opt];
		if (v == NULL) {
			continue;
		}
		if (v[0] == '\0') {
			return sje__args_usage_error(
			    "--%s must not be empty", strs[i].name);
		}
		memcpy((char *) f + strs[i].off, &v, sizeof(v));
	}
	if (f->label != NULL &&
	    (f->label[0] == '=' || strchr(f->label, '=') == NULL)) {
		return sje__args_usage_error(
		    "--label: expected KEY=VALUE, got '%s'", f->label);
	}
	int rc;
	if (a->val[OPT_AFTER] != NULL) {
		if ((rc = filter_time("after", a->val[OPT_AFTER],
		         &f->after_ts)) != CLI_OK) {
			return rc;
		}
		f->after = &f->after_ts;
	}
	if (a->val[OPT_BEFORE] != NULL) {
		if ((rc = filter_time("before", a->val[OPT_BEFORE],
		         &f->before_ts)) != CLI_OK) {
			return rc;
		}
		f->before = &f->before_ts;
	}
	f->any = f->state != 0 || f->function != NULL || f->label != NULL ||
	    f->workflow_id != NULL || f->worker != NULL || f->after != NULL ||
	    f->before != NULL;
	return CLI_OK;
}

int
sje__bulk_mode(const sje__args *a, const char *cmd, bool *bulk)
{
	static const opt_id filter[] = { OPT_STATE, OPT_FUNCTION, OPT_LABEL,
		OPT_WORKFLOW, OPT_WORKER, OPT_AFTER, OPT_BEFORE };
	*bulk                        = a->val[OPT_ALL] != NULL;
	if (*bulk && a->n_pos > 0) {
		return sje__args_usage_error(
		    "%s --all takes a filter, not an ID ('%s')", cmd,
		    a->pos[0]);
	}
	if (!*bulk && a->n_pos == 0) {
		// As the parser says it of a command's first form.
		size_t n = strcspn(a->cmd->usage, "\n");
		return sje__args_usage_error(
		    "missing argument (usage: sje-client %.*s), or --all and "
		    "a filter",
		    (int) n, a->cmd->usage);
	}
	for (size_t i = 0; !*bulk && i < sizeof(filter) / sizeof(filter[0]);
	     i++) {
		if (a->val[filter[i]] != NULL) {
			return sje__args_usage_error(
			    "%s ID takes no filter: add --all to act on every "
			    "job the filter selects",
			    cmd);
		}
	}
	return CLI_OK;
}

int
sje__cmd_bulk(sje__cli *c, const sje__args *a, unsigned method)
{
	static const char *const what[] = { "cancel", "retry", "purge" };
	unsigned                 k      = method == SJE__COORD_BULK_CANCEL ? 0
	                         : method == SJE__COORD_BULK_RETRY         ? 1
	                                                                   : 2;
	sje__filter              flt;
	int                      rc = sje__filter_read(a, &flt);
	if (rc != CLI_OK) {
		return rc;
	}
	if (!flt.any) {
		return sje__args_usage_error(
		    "%s needs a filter: at least one of --state, --function, "
		    "--label, --workflow, --worker, --after and --before",
		    what[k]);
	}
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		return rc;
	}
	Sje__V1__BulkRequest req = SJE__V1__BULK_REQUEST__INIT;
	req.state                = (Sje__V1__JobState) flt.state;
	req.function             = (char *) flt.function;
	req.label                = (char *) flt.label;
	req.workflow_id          = (char *) flt.workflow_id;
	req.worker               = (char *) flt.worker;
	req.after                = flt.after;
	req.before               = flt.before;
	Sje__V1__BulkReply *rep  = NULL;
	sje_status          st   = { 0 };
	sje_err             rv   = k == 0
	                  ? sje_client_bulk_cancel(c->client, &req, &rep, &st)
	                  : k == 1 ? sje_client_bulk_retry(c->client, &req, &rep, &st)
	                           : sje_client_bulk_delete(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else {
		printf("matched %" PRIu32 "\n", rep->matched);
	}
	if (rep->more) {
		fprintf(stderr,
		    "more: one %s acts on at most 10000 jobs; run it again "
		    "for the rest\n",
		    what[k]);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

int
sje__cmd_purge(sje__cli *c, const sje__args *a)
{
	return sje__cmd_bulk(c, a, SJE__COORD_BULK_DELETE);
}
