// commands_workflow.c — the workflow command (RunWorkflow: a workflow of
// the server's config), and the steps of a run, which status shows when
// its ID names a run rather than a job.
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

int
sje__workflow_print_run(sje__cli *c, const char *id)
{
	Sje__V1__ListJobsRequest req = SJE__V1__LIST_JOBS_REQUEST__INIT;
	req.workflow_id              = (char *) id;
	req.limit                    = 1000;
	Sje__V1__ListJobsReply *rep  = NULL;
	sje_status              st   = { 0 };
	sje_err rv = sje_client_list_jobs(c->client, &req, &rep, &st);
	if (rv == SJE_EINVAL) {
		return CLI_NOTFOUND; // not even an id: let status say so
	}
	if (rv != SJE_OK) {
		return sje__cli_call_failed(c, rv, &st);
	}
	if (rep->n_jobs == 0) {
		protobuf_c_message_free_unpacked(&rep->base, NULL);
		return CLI_NOTFOUND;
	}
	int rc = CLI_OK;
	// The server lists newest first; steps read best in their order.
	if (c->json) {
		json_t *doc   = json_object();
		json_t *steps = json_array();
		for (size_t i = rep->n_jobs; i-- > 0;) {
			json_array_append_new(
			    steps, sje__pb_to_json(&rep->jobs[i]->base));
		}
		json_object_set_new(doc, "workflow_id", json_string(id));
		json_object_set_new(doc, "steps", steps);
		rc = sje__print_doc(c->tty, doc);
	} else {
		size_t     done = 0, ok = 0;
		sje__table t = { .ncols = 6 };
		sje__table_row(&t, "STEP", "FUNCTION", "STATE", "ATTEMPT",
		    "STARTED", "ERROR");
		size_t plen = strlen(id) + 1;
		for (size_t i = rep->n_jobs; i-- > 0;) {
			const Sje__V1__Job *job = rep->jobs[i];
			char                attempt[32], started[64];
			sje__snprintf(attempt, sizeof(attempt), "%" PRIu32,
			    job->attempt);
			const char *step = strlen(job->task_id) > plen
			    ? job->task_id + plen
			    : job->task_id;
			sje__table_row(&t, step, job->function,
			    sje_job_state_name(job->state), attempt,
			    sje__print_time(
			        job->started_at, started, sizeof(started)),
			    job->error != NULL && job->error->message != NULL
			        ? job->error->message
			        : "");
			done += sje_job_state_is_terminal(job->state);
			ok += job->state ==
			    SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
		}
		printf("workflow run %s: %zu steps, %zu finished, %zu "
		       "succeeded\n",
		    sje__print_text(id), rep->n_jobs, done, ok);
		rc = sje__table_print(&t);
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
