// commands_workflow.c — the workflow command (RunWorkflow: a workflow of
// the server's config), and what status, wait and cancel do when their ID
// names a workflow run rather than a job (GetWorkflowRun,
// CancelWorkflowRun).
//
// Waiting for a run polls GetWorkflowRun and holds a Wait of about a
// second on its unfinished steps in between, so that it wakes as soon as
// a step ends, and, as `wait` does for a job, rides out a restart of the
// server.
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

// workflow_print shows run: a summary line and a table of its steps, or
// with --json the run as GET /workflows/runs/{id} gives it.
static int
workflow_print(sje__cli *c, const Sje__V1__WorkflowRun *run)
{
	if (c->json) {
		return sje__print_msg(c->tty, &run->base);
	}
	size_t     done = 0, ok = 0;
	sje__table t = { .ncols = 6 };
	sje__table_row(
	    &t, "STEP", "FUNCTION", "STATE", "ATTEMPT", "STARTED", "ERROR");
	size_t plen = strlen(run->workflow_id) + 1;
	for (size_t i = 0; i < run->n_steps; i++) {
		const Sje__V1__Job *job = run->steps[i];
		char                attempt[32], started[64];
		sje__snprintf(
		    attempt, sizeof(attempt), "%" PRIu32, job->attempt);
		const char *step = strlen(job->task_id) > plen
		    ? job->task_id + plen
		    : job->task_id;
		sje__table_row(&t, step, job->function,
		    sje_job_state_name(job->state), attempt,
		    sje__print_time(job->started_at, started, sizeof(started)),
		    job->error != NULL && job->error->message != NULL
		        ? job->error->message
		        : "");
		done += sje_job_state_is_terminal(job->state);
		ok += job->state == SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
	}
	printf("workflow run %s: %zu steps, %zu finished, %zu succeeded "
	       "(%s: %s)\n",
	    sje__print_text(run->workflow_id), run->n_steps, done, ok,
	    sje__print_text(run->workflow[0] != '\0' ? run->workflow : "?"),
	    sje_job_state_name(run->state));
	return sje__table_print(&t);
}

// workflow_get reads run id into *run (on SJE_OK; *rv says how the call
// went, st what the server said). CLI_NOTFOUND, reporting nothing, when
// there is no such run; the exit code of a failed call, reported; CLI_OK
// otherwise, also when the server could not be reached (*rv is then
// SJE_EUNAVAIL or SJE_ETIMEDOUT, for the caller to judge).
static int
workflow_get(sje__cli *c, const char *id, Sje__V1__WorkflowRun **run,
    sje_err *rv, sje_status *st)
{
	*rv = sje_client_get_workflow_run(c->client, id, run, st);
	if (*rv == SJE_ENOTFOUND || *rv == SJE_EINVAL) {
		return CLI_NOTFOUND; // not a run (or not even an id)
	}
	if (*rv != SJE_OK && *rv != SJE_EUNAVAIL && *rv != SJE_ETIMEDOUT) {
		return sje__cli_call_failed(c, *rv, st);
	}
	return CLI_OK;
}

int
sje__workflow_print_run(sje__cli *c, const char *id)
{
	Sje__V1__WorkflowRun *run = NULL;
	sje_status            st  = { 0 };
	sje_err               rv;
	int                   rc = workflow_get(c, id, &run, &rv, &st);
	if (rc != CLI_OK) {
		return rc;
	}
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	rc = workflow_print(c, run);
	protobuf_c_message_free_unpacked(&run->base, NULL);
	return rc;
}

// workflow_progress shows on one refreshed line how far run has come.
static void
workflow_progress(const Sje__V1__WorkflowRun *run, bool unreachable)
{
	size_t done = 0;
	for (size_t i = 0; i < run->n_steps; i++) {
		done += sje_job_state_is_terminal(run->steps[i]->state);
	}
	printf("\r\033[K%s  %s  %zu/%zu steps finished%s",
	    sje__print_text(run->workflow_id), sje_job_state_name(run->state),
	    done, run->n_steps,
	    unreachable ? "  (server unreachable, retrying)" : "");
	fflush(stdout);
}

int
sje__workflow_wait(sje__cli *c, const char *id, uint32_t timeout_ms)
{
	sje_dur_ms            deadline = sje_mono_ms() + timeout_ms;
	Sje__V1__WorkflowRun *run      = NULL; // the latest answer, owned
	bool                  shown    = false;
	int                   rc       = CLI_OK;
	for (;;) {
		Sje__V1__WorkflowRun *now = NULL;
		sje_status            gst = { 0 };
		sje_err               rv;
		rc = workflow_get(c, id, &now, &rv, &gst);
		if (rc == CLI_NOTFOUND && run != NULL) {
			// Its steps were deleted meanwhile: report it so.
			rc = sje__cli_call_failed(c, rv, &gst);
		}
		if (rc != CLI_OK) {
			break;
		}
		if (now != NULL) {
			if (run != NULL) {
				protobuf_c_message_free_unpacked(
				    &run->base, NULL);
			}
			run = now;
		}
		bool done = run != NULL &&
		    run->state != SJE__V1__JOB_STATE__JOB_STATE_RUNNING;
		sje_dur_ms left = deadline - sje_mono_ms();
		if (done || (timeout_ms != 0 && left <= 0)) {
			break;
		}
		if (c->tty && !c->json && run != NULL) {
			workflow_progress(run, rv != SJE_OK);
			shown = true;
		}
		// Wait on its unfinished steps for a second at most.
		uint32_t round = 1000;
		if (timeout_ms != 0 && left < round) {
			round = (uint32_t) left;
		}
		char  *ids[1024];
		size_t n = 0;
		for (size_t i = 0; run != NULL && i < run->n_steps && n < 1024;
		     i++) {
			if (!sje_job_state_is_terminal(run->steps[i]->state)) {
				ids[n++] = run->steps[i]->task_id;
			}
		}
		if (rv != SJE_OK || n == 0) {
			sje__sleep_ms(rv != SJE_OK ? 250 : round);
			continue;
		}
		Sje__V1__WaitRequest req = SJE__V1__WAIT_REQUEST__INIT;
		req.task_ids             = ids;
		req.n_task_ids           = n;
		req.timeout_ms           = round;
		ProtobufCMessage *out    = NULL;
		sje_status        st     = { 0 };
		if (sje_client_call(c->client,
		        &sje__v1__coordinator__descriptor, SJE__COORD_WAIT,
		        &req.base, &out, round + 3000, &st) == SJE_OK) {
			protobuf_c_message_free_unpacked(out, NULL);
		}
	}
	if (shown) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
	}
	if (rc == CLI_OK && run != NULL) {
		bool done =
		    run->state != SJE__V1__JOB_STATE__JOB_STATE_RUNNING;
		if (!done) {
			fprintf(stderr,
			    "error: workflow run %s is still RUNNING after "
			    "%" PRIu32 " s\n",
			    sje__print_text(id), (timeout_ms + 999) / 1000);
		}
		rc = workflow_print(c, run);
		if (rc == CLI_OK) {
			rc = done &&
			        run->state ==
			            SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED
			    ? CLI_OK
			    : CLI_FAILED;
		}
	}
	if (run != NULL) {
		protobuf_c_message_free_unpacked(&run->base, NULL);
	}
	return rc;
}

int
sje__workflow_cancel(sje__cli *c, const char *id)
{
	Sje__V1__BulkReply *rep = NULL;
	sje_status          st  = { 0 };
	sje_err rv = sje_client_cancel_workflow_run(c->client, id, &rep, &st);
	if (rv == SJE_ENOTFOUND || rv == SJE_EINVAL) {
		return CLI_NOTFOUND;
	}
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	int rc = CLI_OK;
	if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else {
		printf("workflow run %s: matched %" PRIu32
		       " (its unfinished steps are cancelled)\n",
		    sje__print_text(id), rep->matched);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}

// wait_quiet waits until job id finishes, printing nothing; CLI_OK when
// it SUCCEEDED, CLI_FAILED when it ended otherwise, or the error of the
// call.
static int
wait_quiet(sje__cli *c, const char *id)
{
	for (;;) {
		char                *ids[] = { (char *) id };
		Sje__V1__WaitRequest req   = SJE__V1__WAIT_REQUEST__INIT;
		req.task_ids               = ids;
		req.n_task_ids             = 1;
		req.timeout_ms             = 1000;
		Sje__V1__WaitReply *rep    = NULL;
		sje_status          st     = { 0 };
		sje_err rv = sje_client_wait(c->client, &req, &rep, &st);
		if (rv == SJE_EUNAVAIL || rv == SJE_ETIMEDOUT) {
			continue; // the server restarts: keep waiting
		}
		if (rv != SJE_OK) {
			return sje__cli_call_failed(c, rv, &st);
		}
		bool done = rep->done;
		bool ok   = done && rep->n_jobs == 1 &&
		    rep->jobs[0]->state ==
		        SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
		if (done) {
			return ok ? CLI_OK : CLI_FAILED;
		}
	}
}

int
sje__cmd_workflow(sje__cli *c, const sje__args *a)
{
	char *text;
	int   rc = sje__args_params(a->val[OPT_PARAMS], &text);
	if (rc != CLI_OK) {
		return rc;
	}
	if ((rc = sje__cli_client(c)) != CLI_OK) {
		free(text);
		return rc;
	}
	Sje__V1__RunWorkflowRequest req = SJE__V1__RUN_WORKFLOW_REQUEST__INIT;
	Sje__V1__Json               params = SJE__V1__JSON__INIT;
	req.name                           = (char *) a->pos[0];
	req.workflow_id                    = (char *) a->val[OPT_ID];
	if (text != NULL) {
		params.text = text;
		req.params  = &params;
	}
	Sje__V1__RunWorkflowReply *rep = NULL;
	sje_status                 st  = { 0 };
	sje_err                    rv  = sje_client_call(c->client,
	                        &sje__v1__coordinator__descriptor, SJE__COORD_RUN_WORKFLOW,
	                        &req.base, (ProtobufCMessage **) &rep, 0, &st);
	free(text);
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (a->val[OPT_WAIT] != NULL) {
		// Wait for every step (a failure ends the rest too), then show
		// the run as status does; exit 1 unless every step SUCCEEDED.
		for (size_t i = 0; i < rep->n_tasks; i++) {
			int wrc = wait_quiet(c, rep->tasks[i]->task_id);
			if (wrc != CLI_OK && wrc != CLI_FAILED) {
				rc = wrc;
				break;
			}
			rc = rc == CLI_OK ? wrc : rc;
		}
		if (rc == CLI_OK || rc == CLI_FAILED) {
			int prc = sje__workflow_print_run(c, rep->workflow_id);
			rc      = prc != CLI_OK ? prc : rc;
		}
	} else if (c->json) {
		rc = sje__print_msg(c->tty, &rep->base);
	} else {
		printf("workflow %s: run %s, %zu steps\n",
		    sje__print_text(a->pos[0]),
		    sje__print_text(rep->workflow_id), rep->n_tasks);
		sje__table t = { .ncols = 2 };
		sje__table_row(&t, "TASK_ID", "STATE");
		for (size_t i = 0; i < rep->n_tasks; i++) {
			sje__table_row(&t, rep->tasks[i]->task_id,
			    sje_job_state_name(rep->tasks[i]->state));
		}
		rc = sje__table_print(&t);
		printf("follow it with: sje-client status %s\n",
		    sje__print_text(rep->workflow_id));
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return rc;
}
