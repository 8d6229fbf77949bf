// soak_client — the client side of the soak test (soak.sh).
//
//   soak_client submit URL IDS_FILE SECONDS
//       submits batches of jobs continuously for SECONDS. A batch whose
//       submit fails (the server is being killed) is sent again with the
//       same task_ids until it is acknowledged: submit is idempotent.
//       Each acknowledged task_id is appended to IDS_FILE, flushed.
//   soak_client check URL IDS_FILE SECONDS
//       waits (up to SECONDS) until every job in IDS_FILE is finished, then
//       checks that each SUCCEEDED and that exactly one of its attempts
//       ran to completion. Prints a summary; exits 0 when all hold.
#include <sje/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 10

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int
soak_submit(sje_client *c, const char *path, double seconds)
{
	FILE *out = fopen(path, "a");
	if (out == NULL) {
		perror(path);
		return 2;
	}
	double           end = now_s() + seconds;
	unsigned long    n = 0, acked = 0, retries = 0;
	char             ids[BATCH][48];
	char            *idp[BATCH];
	Sje__V1__JobSpec specs[BATCH], *sp[BATCH];
	Sje__V1__Json    params = SJE__V1__JSON__INIT;
	params.text             = "{\"seconds\":0.05}";
	unsigned long run       = (unsigned long) time(NULL);
	while (now_s() < end) {
		for (int i = 0; i < BATCH; i++) {
			snprintf(
			    ids[i], sizeof(ids[i]), "soak-%lx-%lu", run, n++);
			idp[i] = ids[i];
			sje__v1__job_spec__init(&specs[i]);
			specs[i].task_id  = ids[i];
			specs[i].function = i % 2 == 0 ? "sleep" : "echo";
			specs[i].params   = &params;
			sp[i]             = &specs[i];
		}
		Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
		req.jobs                   = sp;
		req.n_jobs                 = BATCH;
		for (;;) { // until acknowledged: the same ids every time
			Sje__V1__SubmitReply *rep;
			if (sje_client_submit(c, &req, &rep, NULL) == SJE_OK) {
				sje__v1__submit_reply__free_unpacked(
				    rep, NULL);
				break;
			}
			retries++;
			nap_ms(50);
		}
		for (int i = 0; i < BATCH; i++) {
			fprintf(out, "%s\n", idp[i]);
		}
		fflush(out);
		acked += BATCH;
		nap_ms(20);
	}
	fclose(out);
	printf("soak: %lu jobs acknowledged, %lu submits retried\n", acked,
	    retries);
	return 0;
}

static int
soak_check(sje_client *c, const char *path, double seconds)
{
	FILE *in = fopen(path, "r");
	if (in == NULL) {
		perror(path);
		return 2;
	}
	size_t cap = 1024, n = 0;
	char **ids = malloc(cap * sizeof(*ids));
	char   line[128];
	while (fgets(line, sizeof(line), in) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0') {
			continue;
		}
		if (n == cap) {
			cap *= 2;
			ids = realloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = strdup(line);
	}
	fclose(in);

	double        end = now_s() + seconds;
	unsigned long ok = 0, bad = 0, twice = 0, attempts = 0;
	for (size_t off = 0; off < n;) {
		size_t               k  = n - off < 500 ? n - off : 500;
		Sje__V1__WaitRequest wr = SJE__V1__WAIT_REQUEST__INIT;
		wr.task_ids             = ids + off;
		wr.n_task_ids           = k;
		wr.timeout_ms           = 2000;
		Sje__V1__WaitReply *rep;
		sje_status          st;
		if (sje_client_wait(c, &wr, &rep, &st) != SJE_OK) {
			if (now_s() > end) {
				fprintf(stderr, "soak: wait failed: %s\n",
				    st.message);
				return 1;
			}
			nap_ms(100);
			continue;
		}
		if (!rep->done && now_s() < end) {
			sje__v1__wait_reply__free_unpacked(rep, NULL);
			continue;
		}
		if (rep->n_jobs != k) {
			fprintf(stderr,
			    "soak: %zu of %zu acknowledged jobs are "
			    "missing\n",
			    k - rep->n_jobs, k);
			bad += k - rep->n_jobs;
		}
		for (size_t i = 0; i < rep->n_jobs; i++) {
			Sje__V1__Job *j           = rep->jobs[i];
			int           completions = 0;
			for (size_t a = 0; a < j->n_attempts; a++) {
				completions += j->attempts[a]->outcome ==
				    SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
			}
			attempts += j->attempt;
			if (j->state !=
			    SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED) {
				bad++;
				fprintf(stderr, "soak: %s ended %s\n",
				    j->task_id, sje_job_state_name(j->state));
			} else if (completions != 1) {
				twice++;
				fprintf(stderr,
				    "soak: %s completed %d times\n",
				    j->task_id, completions);
			} else {
				ok++;
			}
		}
		sje__v1__wait_reply__free_unpacked(rep, NULL);
		off += k;
	}
	printf("soak: %zu acknowledged, %lu SUCCEEDED once, %lu not "
	       "succeeded, %lu completed twice, %lu attempts in all\n",
	    n, ok, bad, twice, attempts);
	for (size_t i = 0; i < n; i++) {
		free(ids[i]);
	}
	free(ids);
	return bad == 0 && twice == 0 && ok == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr,
		    "usage: soak_client submit|check URL IDS_FILE "
		    "SECONDS\n");
		return 2;
	}
	sje_client_opts o = { .server_url = argv[2], .timeout_ms = 3000 };
	sje_client     *c;
	if (sje_client_open(&o, &c) != SJE_OK) {
		return 2;
	}
	double s  = atof(argv[4]);
	int    rc = strcmp(argv[1], "submit") == 0 ? soak_submit(c, argv[3], s)
	                                           : soak_check(c, argv[3], s);
	sje_client_close(c);
	return rc;
}
