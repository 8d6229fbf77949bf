// commands_jobs.c — the sje-client commands about jobs and workers:
// submit, status, cancel, list, wait, workers.
//
// `wait` polls with Wait calls of about one second each rather than one
// long call, so that it survives a restart of the server in between (an
// unreachable server is retried until the overall deadline) and can
// refresh its progress line. It calls sje_client_call with its own, short
// per-call timeout instead of sje_client_wait, whose timeout adds the
// client's 10 s default on top: an unreachable server would otherwise hold
// each round, and a `wait --timeout 2`, for ten seconds.
#include "commands.h"

#include "print.h"

#include "jobstate.h"
#include "methods.h"
#include "pbjson.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_ROUND_MS 1000u  // each Wait call holds this long at most
#define WAIT_MARGIN_MS 3000u // ... and may take this much longer
#define WAIT_RETRY_MS 250u   // pause after a failed round
#define WAIT_LATE_MS 500u    // a call may end this long after --timeout

// progress_line shows where the job is, on one refreshed terminal line.
static void
progress_line(const Sje__V1__Job *job, const char *id, bool unreachable)
{
	printf("\r\033[K%s  %s", sje__print_text(id),
	    job != NULL ? sje_job_state_name(job->state) : "...");
	if (job != NULL && job->progress != NULL) {
		// A bar of 20 cells, then the percentage.
		double pct = job->progress->percent;
		pct        = pct < 0 ? 0 : pct > 100 ? 100 : pct;
		int  full  = (int) (pct / 5.0);
		char bar[21];
		for (int i = 0; i < 20; i++) {
			bar[i] = i < full ? '#' : '.';
		}
		bar[20] = '\0';
		printf("  [%s] %3.0f%%", bar, pct);
		const char *m = job->progress->message;
		if (m[0] != '\0') {
			// At most 60 bytes, cut on a UTF-8 boundary.
			size_t n = strlen(m);
			if (n > 60) {
				n = 60;
				while (n > 0 &&
				    ((unsigned char) m[n] & 0xc0) == 0x80) {
					n--;
				}
			}
			char cut[64];
			sje__snprintf(cut, sizeof(cut), "%.*s", (int) n, m);
			printf("  %s", sje__print_text(cut));
		}
	}
	if (unreachable) {
		fputs("  (server unreachable, retrying)", stdout);
	}
	fflush(stdout);
}

// wait_job waits for task id until it is terminal or timeout_ms pass (0:
// no limit), then prints it as `status` does. Exit code: 0 when it
// succeeded, 1 when it did not (or the time ran out), 3/4 as calls.
static int
wait_job(sje__cli *c, const char *id, uint32_t timeout_ms)
{
	int rc = sje__cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	sje_dur_ms          deadline = sje_mono_ms() + timeout_ms;
	Sje__V1__WaitReply *last     = NULL;  // the latest answer, owned
	bool                shown    = false; // a progress line is on screen
	bool                done     = false;
	sje_status          st       = { 0 };
	sje_err             rv       = SJE_OK;
	char               *ids[]    = { (char *) id };

	for (;;) {
		uint32_t round = WAIT_ROUND_MS;
		uint32_t limit = WAIT_ROUND_MS + WAIT_MARGIN_MS; // of the call
		if (timeout_ms != 0) {
			sje_dur_ms left = deadline - sje_mono_ms();
			if (left <= 0) {
				break;
			}
			round = left < round ? (uint32_t) left : round;
			// Overshoot the deadline by a moment at most.
			if (left + WAIT_LATE_MS < limit) {
				limit = (uint32_t) left + WAIT_LATE_MS;
			}
		}
		Sje__V1__WaitRequest req = SJE__V1__WAIT_REQUEST__INIT;
		req.n_task_ids           = 1;
		req.task_ids             = ids;
		req.timeout_ms           = round;
		ProtobufCMessage *out    = NULL;
		rv                       = sje_client_call(c->client,
		                          &sje__v1__coordinator__descriptor, SJE__COORD_WAIT,
		                          &req.base, &out, limit, &st);
		if (rv == SJE_OK) {
			Sje__V1__WaitReply *rep = (Sje__V1__WaitReply *) out;
			if (rep->n_jobs != 1 || rep->jobs[0] == NULL) {
				protobuf_c_message_free_unpacked(out, NULL);
				rv = SJE_EPROTO;
				sje__snprintf(st.message, sizeof(st.message),
				    "the server answered Wait without the job");
				st.code = SJE__V1__STATUS_CODE__INTERNAL;
				break;
			}
			if (last != NULL) {
				protobuf_c_message_free_unpacked(
				    &last->base, NULL);
			}
			last = rep;
			if ((done = rep->done ||
			            sje_job_state_is_terminal(
			                rep->jobs[0]->state))) {
				break;
			}
		} else if (rv != SJE_EUNAVAIL && rv != SJE_ETIMEDOUT) {
			break; // NOT_FOUND, UNAUTHENTICATED, ...: final
		}
		if (c->tty && !c->json) {
			progress_line(last != NULL ? last->jobs[0] : NULL, id,
			    rv != SJE_OK);
			shown = true;
		}
		if (rv != SJE_OK) {
			// Unreachable: the server may be restarting.
			uint32_t pause = WAIT_RETRY_MS;
			if (timeout_ms != 0) {
				sje_dur_ms left = deadline - sje_mono_ms();
				pause           = left < pause
				              ? (uint32_t) (left > 0 ? left : 0)
				              : pause;
			}
			sje__sleep_ms(pause);
		}
	}
	if (shown) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
	}
	if (rv == SJE_ENOTFOUND && last == NULL) {
		// No job has the id: perhaps a workflow run does.
		sje_dur_ms left = deadline - sje_mono_ms();
		uint32_t   rest = left > 0 ? (uint32_t) left : 1;
		int        wrc =
		    sje__workflow_wait(c, id, timeout_ms == 0 ? 0 : rest);
		if (wrc != CLI_NOTFOUND) {
			return wrc;
		}
	}

	if (rv != SJE_OK && rv != SJE_EUNAVAIL && rv != SJE_ETIMEDOUT) {
		rc = sje__cli_call_failed(c, rv, &st);
	} else if (last == NULL) {
		rc = sje__cli_call_failed(
		    c, rv != SJE_OK ? rv : SJE_ETIMEDOUT, &st);
	} else {
		const Sje__V1__Job *job = last->jobs[0];
		if (!done) {
			fprintf(stderr,
			    "error: %s is still %s after %" PRIu32 " s\n", id,
			    sje_job_state_name(job->state), timeout_ms / 1000);
		}
		rc = c->json ? sje__print_msg(c->tty, &job->base)
		             : sje__print_job(job);
		if (rc == CLI_OK) {
			rc = done &&
			        job->state ==
			            SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED
			    ? CLI_OK
			    : CLI_FAILED;
		}
	}
	if (last != NULL) {
		protobuf_c_message_free_unpacked(&last->base, NULL);
	}
	return rc;
}

// split_ids splits "a,b,c" (a copy of it) into ids; no empty items.
static int
split_ids(const char *list, char **copy, char ***ids, size_t *n)
{
	size_t count = 1;
	for (const char *p = list; *p != '\0'; p++) {
		count += *p == ',';
	}
	char  *s   = sje__strdup(list);
	char **arr = calloc(count, sizeof(char *));
	if (s == NULL || arr == NULL) {
		free(s);
		free(arr);
		fputs("error: out of memory\n", stderr);
		return CLI_FAILED;
	}
	size_t k = 0;
	for (char *p = s, *comma; p != NULL; p = comma) {
		if ((comma = strchr(p, ',')) != NULL) {
			*comma++ = '\0';
		}
		if (*p == '\0') {
			free(s);
			free(arr);
			return sje__args_usage_error(
			    "--after: empty task id in '%s'", list);
		}
		arr[k++] = p;
	}
	*copy = s;
	*ids  = arr;
	*n    = k;
	return CLI_OK;
}

// submit_requires is the labels a job requires: one entry of e (room
// for MAX_REPEATED) per --requires K=V, each pointing into a copy of its
// own in keep (caller frees each of *n), ptrs the entries. A usage error
// for an item without '=' or with an empty key, or a key given twice.
static int
submit_requires(const sje__args *a, Sje__V1__JobSpec__RequiresEntry *e,
    Sje__V1__JobSpec__RequiresEntry **ptrs, char **keep, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < a->n_rep; i++) {
		if (a->rep_opt[i] != OPT_REQUIRES) {
			continue;
		}
		const char *item = a->rep_val[i];
		const char *eq   = strchr(item, '=');
		if (eq == NULL || eq == item) {
			return sje__args_usage_error(
			    "--requires: expected KEY=VALUE, got '%s'", item);
		}
		size_t kl = (size_t) (eq - item);
		for (size_t k = 0; k < *n; k++) {
			if (strlen(e[k].key) == kl &&
			    memcmp(e[k].key, item, kl) == 0) {
				return sje__args_usage_error(
				    "--requires: '%.*s' is given twice",
				    (int) kl, item);
			}
		}
		char *copy = sje__strdup(item);
		if (copy == NULL) {
			fputs("error: out of memory\n", stderr);
			return CLI_FAILED;
		}
		copy[kl] = '\0';
		sje__v1__job_spec__requires_entry__init(&e[*n]);
		e[*n].key    = copy;
		e[*n].value  = copy + kl + 1;
		ptrs[*n]     = &e[*n];
		keep[(*n)++] = copy;
	}
	return CLI_OK;
}

int
sje__cmd_submit(sje__cli *c, const sje__args *a)
{
	Sje__V1__JobSpec     spec    = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__Json        params  = SJE__V1__JSON__INIT;
	Sje__V1__RetryPolicy retry   = SJE__V1__RETRY_POLICY__INIT;
	char                *text    = NULL;
	char                *after   = NULL;
	char               **deps    = NULL;
	uint32_t             retries = 0; // written by sje__args_u32 on CLI_OK
	Sje__V1__JobSpec__RequiresEntry  req_e[MAX_REPEATED];
	Sje__V1__JobSpec__RequiresEntry *req_p[MAX_REPEATED];
	char                            *req_keep[MAX_REPEATED];
	size_t                           n_req = 0;
	int                              rc;

	spec.function = (char *) a->pos[0];
	if (spec.function[0] == '\0') {
		return sje__args_usage_error("FUNCTION must not be empty");
	}
	if (a->val[OPT_ID] != NULL) {
		if (a->val[OPT_ID][0] == '\0') {
			return sje__args_usage_error("--id must not be empty");
		}
		spec.task_id = (char *) a->val[OPT_ID];
	}
	if (a->val[OPT_PRIORITY] != NULL &&
	    (rc = sje__args_i32("priority", a->val[OPT_PRIORITY],
	         &spec.priority)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_TIMEOUT] != NULL &&
	    (rc = sje__args_u32("timeout", a->val[OPT_TIMEOUT], 1, UINT32_MAX,
	         &spec.timeout_s)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_DELAY] != NULL &&
	    (rc = sje__args_u32("delay", a->val[OPT_DELAY], 0, UINT32_MAX,
	         &spec.delay_s)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_RETRIES] != NULL) {
		if ((rc = sje__args_u32("retries", a->val[OPT_RETRIES], 0,
		         UINT32_MAX - 1, &retries)) != CLI_OK) {
			return rc;
		}
		// N retries after the first attempt.
		retry.max_attempts = retries + 1;
		spec.retry         = &retry;
	}
	if ((rc = sje__args_params(a->val[OPT_PARAMS], &text)) != CLI_OK) {
		return rc;
	}
	if ((rc = submit_requires(a, req_e, req_p, req_keep, &n_req)) !=
	    CLI_OK) {
		goto out;
	}
	spec.requires   = req_p;
	spec.n_requires = n_req;
	if (text != NULL) {
		params.text = text;
		spec.params = &params;
	}
	if (a->val[OPT_AFTER] != NULL &&
	    (rc = split_ids(a->val[OPT_AFTER], &after, &deps,
	         &spec.n_depends_on)) != CLI_OK) {
		goto out;
	}
	spec.depends_on = deps;
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		goto out;
	}

	Sje__V1__JobSpec      *specs[] = { &spec };
	Sje__V1__SubmitRequest req     = SJE__V1__SUBMIT_REQUEST__INIT;
	Sje__V1__SubmitReply  *rep     = NULL;
	sje_status             st      = { 0 };
	req.n_jobs                     = 1;
	req.jobs                       = specs;
	sje_err rv = sje_client_submit(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		rc = sje__cli_call_failed(c, rv, &st);
		goto out;
	}
	if (rep->n_results != 1) {
		fputs("error: the server answered without the job\n", stderr);
		rc = CLI_FAILED;
	} else if (a->val[OPT_WAIT] != NULL) {
		rc = wait_job(c, rep->results[0]->task_id, 0);
	} else if (c->json) {
		rc = sje__print_doc(c->tty,
		    json_pack("{s:s, s:s}", "task_id",
		        rep->results[0]->task_id, "state",
		        sje_job_state_name(rep->results[0]->state)));
	} else {
		printf("%s  %s%s\n", sje__print_text(rep->results[0]->task_id),
		    sje_job_state_name(rep->results[0]->state),
		    rep->results[0]->created ? "" : "  (submitted before)");
		rc = CLI_OK;
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
out:
	free(text);
	free(after);
	free(deps);
	for (size_t i = 0; i < n_req; i++) {
		free(req_keep[i]);
	}
	return rc;
}

int
sje__cmd_status(sje__cli *c, const sje__args *a)
{
	int rc = sje__cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__Job *job = NULL;
	sje_status    st  = { 0 };
	sje_err rv = sje_client_get_status(c->client, a->pos[0], &job, &st);
	if (rv == SJE_ENOTFOUND) {
		// Not a job: perhaps a workflow run.
		rc = sje__workflow_print_run(c, a->pos[0]);
		if (rc != CLI_NOTFOUND) {
			return rc;
		}
	}
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	rc =
	    c->json ? sje__print_msg(c->tty, &job->base) : sje__print_job(job);
	protobuf_c_message_free_unpacked(&job->base, NULL);
	return rc;
}

int
sje__cmd_cancel(sje__cli *c, const sje__args *a)
{
	bool bulk;
	int  rc = sje__bulk_mode(a, "cancel", &bulk);
	if (rc != CLI_OK) {
		return rc;
	}
	if (bulk) {
		return sje__cmd_bulk(c, a, SJE__COORD_BULK_CANCEL);
	}
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		return rc;
	}
	Sje__V1__CancelReply *rep = NULL;
	sje_status            st  = { 0 };
	sje_err rv = sje_client_cancel(c->client, a->pos[0], &rep, &st);
	if (rv == SJE_ENOTFOUND) {
		// No job has the id: perhaps a workflow run does.
		rc = sje__workflow_cancel(c, a->pos[0]);
		if (rc != CLI_NOTFOUND) {
			return rc;
		}
	}
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else {
		printf("%s  %s%s\n", a->pos[0], sje_job_state_name(rep->state),
		    rep->cancel_requested ? "  (cancel requested: it stops "
		                            "shortly)"
		                          : "");
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

int
sje__cmd_list(sje__cli *c, const sje__args *a)
{
	Sje__V1__ListJobsRequest req = SJE__V1__LIST_JOBS_REQUEST__INIT;
	sje__filter              flt;
	int                      rc = sje__filter_read(a, &flt);
	if (rc != CLI_OK) {
		return rc;
	}
	req.state       = (Sje__V1__JobState) flt.state;
	req.function    = (char *) flt.function;
	req.label       = (char *) flt.label;
	req.workflow_id = (char *) flt.workflow_id;
	req.worker      = (char *) flt.worker;
	req.after       = flt.after;
	req.before      = flt.before;
	if (a->val[OPT_LIMIT] != NULL &&
	    (rc = sje__args_u32(
	         "limit", a->val[OPT_LIMIT], 1, 1000, &req.limit)) != CLI_OK) {
		return rc;
	}
	if (a->val[OPT_CURSOR] != NULL) {
		req.cursor = (char *) a->val[OPT_CURSOR];
	}
	// The server checks both (length, UTF-8, a task_id's characters).
	req.task_id_prefix = (char *) a->val[OPT_TASK_ID_PREFIX];
	req.parent         = (char *) a->val[OPT_PARENT];
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		return rc;
	}
	Sje__V1__ListJobsReply *rep = NULL;
	sje_status              st  = { 0 };
	sje_err rv = sje_client_list_jobs(c->client, &req, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else if (rep->n_jobs == 0) {
		// A label filter reads a bounded number of jobs per call: a
		// page may hold none and still have more after it.
		puts(rep->next_cursor[0] != '\0' ? "no jobs on this page"
		                                 : "no jobs");
		if (rep->next_cursor[0] != '\0') {
			fprintf(stderr, "more: add --cursor %s\n",
			    sje__print_text(rep->next_cursor));
		}
	} else {
		sje__table t = { .ncols = 5 };
		sje__table_row(
		    &t, "TASK_ID", "FUNCTION", "STATE", "ATTEMPT", "CREATED");
		for (size_t i = 0; i < rep->n_jobs; i++) {
			const Sje__V1__Job *job = rep->jobs[i];
			char                attempt[32], created[64];
			if (job->max_attempts > 0) {
				sje__snprintf(attempt, sizeof(attempt),
				    "%" PRIu32 "/%" PRIu32, job->attempt,
				    job->max_attempts);
			} else {
				sje__snprintf(attempt, sizeof(attempt),
				    "%" PRIu32, job->attempt);
			}
			sje__table_row(&t, job->task_id, job->function,
			    sje_job_state_name(job->state), attempt,
			    sje__print_time(
			        job->created_at, created, sizeof(created)));
		}
		rc = sje__table_print(&t);
		if (rep->next_cursor[0] != '\0') {
			fprintf(stderr, "more: add --cursor %s\n",
			    sje__print_text(rep->next_cursor));
		}
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

int
sje__cmd_wait(sje__cli *c, const sje__args *a)
{
	uint32_t timeout_s = 0;
	int      rc;
	if (a->val[OPT_TIMEOUT] != NULL &&
	    (rc = sje__args_u32("timeout", a->val[OPT_TIMEOUT], 1,
	         UINT32_MAX / 1000, &timeout_s)) != CLI_OK) {
		return rc;
	}
	return wait_job(c, a->pos[0], timeout_s * 1000);
}

int
sje__cmd_workers(sje__cli *c, const sje__args *a)
{
	(void) a;
	int rc = sje__cli_client(c);
	if (rc != CLI_OK) {
		return rc;
	}
	Sje__V1__ListWorkersReply *rep = NULL;
	sje_status                 st  = { 0 };
	sje_err rv = sje_client_list_workers(c->client, &rep, &st);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else if (rep->n_workers == 0) {
		puts("no workers");
	} else {
		sje__table t = { .ncols = 5 };
		sje__table_row(
		    &t, "NAME", "SLOTS", "BUSY", "FUNCTIONS", "LAST_SEEN");
		for (size_t i = 0; i < rep->n_workers; i++) {
			const Sje__V1__WorkerInfo *w = rep->workers[i];
			char slots[16], busy[16], age[32];
			sje__snprintf(
			    slots, sizeof(slots), "%" PRIu32, w->slots);
			sje__snprintf(busy, sizeof(busy), "%" PRIu32, w->busy);
			// The functions, comma-separated.
			size_t len = 1;
			for (size_t k = 0; k < w->n_functions; k++) {
				len += strlen(w->functions[k]) + 1;
			}
			char *fns = malloc(len);
			if (fns == NULL) {
				t.oom = true;
				break;
			}
			fns[0] = '\0';
			for (size_t k = 0; k < w->n_functions; k++) {
				if (k > 0) {
					strcat(fns, ",");
				}
				strcat(fns, w->functions[k]);
			}
			sje__table_row(&t, w->name, slots, busy, fns,
			    sje__print_age(w->last_seen, age, sizeof(age)));
			free(fns);
		}
		rc = sje__table_print(&t);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}
