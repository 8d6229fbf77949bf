// submit.c — the smallest service using libsje: submit one job, wait for
// it, print its result.
//
//   sje-example-submit [SERVER_URL]
//
// The server URL is argv[1], else $SJE_SERVER_URL, else
// tcp://127.0.0.1:7100. The program submits calculate_data with params
// {"input_data":[1,2,3,4]}, waits with sje_client_wait (rounds of 5 s,
// retried while the server is unreachable, for at most two minutes), and
// prints the final state and the result JSON. Exit status: 0 when the job
// SUCCEEDED, 1 otherwise.
//
// It links the shared libsje and includes only its public headers.
#include <sje/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WAIT_ROUND_MS 5000u
#define WAIT_TOTAL_MS 120000

// submit_one submits the job and copies its task_id into id.
static int
submit_one(sje_client *c, char *id, size_t len)
{
	Sje__V1__Json params = SJE__V1__JSON__INIT;
	params.text          = "{\"input_data\":[1,2,3,4]}";

	Sje__V1__JobSpec spec = SJE__V1__JOB_SPEC__INIT;
	spec.function         = "calculate_data";
	spec.params           = &params;

	Sje__V1__JobSpec      *jobs[] = { &spec };
	Sje__V1__SubmitRequest req    = SJE__V1__SUBMIT_REQUEST__INIT;
	req.n_jobs                    = 1;
	req.jobs                      = jobs;

	Sje__V1__SubmitReply *rep = NULL;
	sje_status            st  = { 0 };
	sje_err               rv  = sje_client_submit(c, &req, &rep, &st);
	if (rv != SJE_OK) {
		fprintf(stderr, "submit: %s: %s\n", sje_status_name(st.code),
		    st.message[0] != '\0' ? st.message : sje_strerror(rv));
		return -1;
	}
	int ok = rep->n_results == 1;
	if (ok) {
		snprintf(id, len, "%s", rep->results[0]->task_id);
		printf("submitted %s (%s)\n", id,
		    sje_job_state_name(rep->results[0]->state));
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return ok ? 0 : -1;
}

// wait_one waits until job id is terminal; *out is the job (caller frees
// it with protobuf_c_message_free_unpacked).
static int
wait_one(sje_client *c, const char *id, Sje__V1__WaitReply **out)
{
	char                *ids[] = { (char *) id };
	Sje__V1__WaitRequest req   = SJE__V1__WAIT_REQUEST__INIT;
	req.n_task_ids             = 1;
	req.task_ids               = ids;
	req.timeout_ms             = WAIT_ROUND_MS;

	sje_dur_ms deadline = sje_mono_ms() + WAIT_TOTAL_MS;
	while (sje_mono_ms() < deadline) {
		Sje__V1__WaitReply *rep = NULL;
		sje_status          st  = { 0 };
		sje_err             rv  = sje_client_wait(c, &req, &rep, &st);
		if (rv == SJE_OK) {
			if (rep->done && rep->n_jobs == 1) {
				*out = rep;
				return 0;
			}
			protobuf_c_message_free_unpacked(&rep->base, NULL);
			continue;
		}
		if (rv != SJE_EUNAVAIL && rv != SJE_ETIMEDOUT) {
			fprintf(stderr, "wait: %s: %s\n",
			    sje_status_name(st.code), st.message);
			return -1;
		}
		// The server may be restarting: every call is idempotent,
		// so try again.
		struct timespec pause = { 0, 200 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "wait: %s did not finish in time\n", id);
	return -1;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); // progress shows up when piped
	const char *url = argc > 1 ? argv[1] : getenv("SJE_SERVER_URL");
	if (url == NULL || url[0] == '\0') {
		url = "tcp://127.0.0.1:7100";
	}

	sje_client_opts opts = { .server_url = url };
	sje_client     *c    = NULL;
	sje_err         rv   = sje_client_open(&opts, &c);
	if (rv != SJE_OK) {
		fprintf(stderr, "cannot open a client for %s: %s\n", url,
		    sje_strerror(rv));
		return 1;
	}

	int                 status = 1;
	char                id[160];
	Sje__V1__WaitReply *rep = NULL;
	if (submit_one(c, id, sizeof(id)) == 0 && wait_one(c, id, &rep) == 0) {
		const Sje__V1__Job *job = rep->jobs[0];
		printf(
		    "%s %s\n", job->task_id, sje_job_state_name(job->state));
		if (job->result != NULL) {
			printf("result: %s\n", job->result->text);
		}
		if (job->error != NULL) {
			printf("error: %s: %s\n", job->error->type,
			    job->error->message);
		}
		status = job->state == SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED
		    ? 0
		    : 1;
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	}
	sje_client_close(c);
	return status;
}
