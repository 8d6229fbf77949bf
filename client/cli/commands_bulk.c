// commands_bulk.c — the filter of list and of the bulk commands (--state,
// --function, --label, --workflow, --worker, --after, --before), read
// once for all of them.
//
// The CLI checks what it can (a known state, KEY=VALUE, RFC 3339 times)
// so that a typo is a usage error (exit 2) before any call; the server
// checks the same again, for every other client.
#include "commands.h"

#include "jobstate.h"
#include "pbjson.h"
#include "util.h"

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
