// libsje_test — a real sje-server and sje-worker, started by this test on
// loopback (port 0, a temp data dir), driven through libsje: batches,
// atomicity, idempotency, waits, the generated stubs, and bad requests.

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sje/client.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sje/v1/rpc.pb-c.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char        g_dir[256];
static char        g_url[320];
static pid_t       g_server, g_worker;
static sje_client *g_client;

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

// spawn starts argv[0] from $SJE_BIN with extra environment entries.
static pid_t
spawn(const char *prog, char *const extra_env[], char *const args[],
    const char *log)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", getenv("SJE_BIN"), prog);
	size_t n = 0;
	while (environ[n] != NULL) {
		n++;
	}
	size_t k = 0;
	while (extra_env[k] != NULL) {
		k++;
	}
	char **env = calloc(n + k + 1, sizeof(*env));
	memcpy(env, extra_env, k * sizeof(*env));
	memcpy(env + k, environ, n * sizeof(*env));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(
	    &fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	char *argv[16] = { path };
	for (int i = 0; args[i] != NULL && i < 14; i++) {
		argv[i + 1] = args[i];
	}
	pid_t pid;
	int   rv = posix_spawn(&pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return rv == 0 ? pid : -1;
}

static void
stop(pid_t pid)
{
	if (pid <= 0) {
		return;
	}
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			return;
		}
		sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int
group_setup(void **state)
{
	(void) state;
	if (getenv("SJE_BIN") == NULL) {
		fprintf(stderr, "SJE_BIN is not set\n");
		return -1;
	}
	snprintf(g_dir, sizeof(g_dir), "%s/sje-libsje.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(g_dir) == NULL) {
		return -1;
	}
	char data[320], log[320], ep[320], conf[320], confenv[340];
	snprintf(data, sizeof(data), "SJE_SERVER_DATA_DIR=%s", g_dir);
	snprintf(log, sizeof(log), "%s/server.log", g_dir);
	// A workflow for the workflow tests; the rest is defaults.
	snprintf(conf, sizeof(conf), "%s/sje.yaml", g_dir);
	FILE *cf = fopen(conf, "w");
	if (cf == NULL) {
		return -1;
	}
	fputs(
	    "executor:\n"
	    "  lease_s: 3\n"
	    "workflows:\n"
	    "  etl:\n"
	    "    - {name: extract, function: echo, params: {step: extract}}\n"
	    "    - {name: transform, function: echo, after: [extract],\n"
	    "       params: {step: transform}}\n"
	    "    - {name: load, function: collect, after: [transform]}\n",
	    cf);
	fclose(cf);
	snprintf(confenv, sizeof(confenv), "SJE_CONFIG=%s", conf);
	char *senv[] = { data, confenv, "SJE_SERVER_RPC_URL=tcp://127.0.0.1:0",
		"SJE_SERVER_EVENTS_URL=tcp://127.0.0.1:0",
		"SJE_HTTP_LISTEN=127.0.0.1:0", NULL };
	char *none[] = { NULL };
	g_server     = spawn("sje-server", senv, none, log);
	if (g_server < 0) {
		return -1;
	}
	snprintf(ep, sizeof(ep), "%s/endpoints", g_dir);
	for (int i = 0; i < 400 && g_url[0] == '\0'; i++) {
		FILE *f = fopen(ep, "r");
		char  line[300];
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "rpc_url=", 8) == 0) {
				line[strcspn(line, "\n")] = '\0';
				memcpy(g_url, line + 8, strlen(line + 8) + 1);
			}
		}
		if (f != NULL) {
			fclose(f);
		}
		if (g_url[0] == '\0') {
			sleep_ms(25);
		}
	}
	if (g_url[0] == '\0') {
		return -1;
	}
	char wurl[360], wlog[320];
	snprintf(wurl, sizeof(wurl), "SJE_WORKER_SERVER_URL=%s", g_url);
	snprintf(wlog, sizeof(wlog), "%s/worker.log", g_dir);
	char *wenv[]      = { wurl, "SJE_CONFIG=", NULL };
	char *wargs[]     = { "--name", "lib-w", "--slots", "4", NULL };
	g_worker          = spawn("sje-worker", wenv, wargs, wlog);
	sje_client_opts o = { .server_url = g_url, .timeout_ms = 10000 };
	return sje_client_open(&o, &g_client) == SJE_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void) state;
	sje_client_close(g_client);
	stop(g_worker);
	stop(g_server);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

// submit_specs submits n specs; returns the call's error.
static sje_err
submit_specs(Sje__V1__JobSpec *specs, size_t n, Sje__V1__SubmitReply **out,
    sje_status *st)
{
	Sje__V1__JobSpec **p = calloc(n, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		p[i] = &specs[i];
	}
	Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
	req.jobs                   = p;
	req.n_jobs                 = n;
	sje_err err = sje_client_submit(g_client, &req, out, st);
	free(p);
	return err;
}

static void
test_a_batch_of_jobs_runs_and_every_result_is_right(void **state)
{
	(void) state;
	enum { N = 200 };
	Sje__V1__JobSpec specs[N];
	Sje__V1__Json    params[N];
	char             ids[N][32], texts[N][64];
	char            *idp[N];
	for (int i = 0; i < N; i++) {
		sje__v1__job_spec__init(&specs[i]);
		sje__v1__json__init(&params[i]);
		snprintf(ids[i], sizeof(ids[i]), "batch-%d", i);
		snprintf(texts[i], sizeof(texts[i]),
		    "{\"input_data\":[%d,%d]}", i, i + 2);
		params[i].text    = texts[i];
		specs[i].task_id  = ids[i];
		specs[i].function = "calculate_data";
		specs[i].params   = &params[i];
		idp[i]            = ids[i];
	}
	Sje__V1__SubmitReply *rep;
	assert_int_equal(submit_specs(specs, N, &rep, NULL), SJE_OK);
	assert_int_equal(rep->n_results, N);
	for (int i = 0; i < N; i++) {
		assert_string_equal(rep->results[i]->task_id, ids[i]);
		assert_true(rep->results[i]->created);
	}
	sje__v1__submit_reply__free_unpacked(rep, NULL);

	Sje__V1__WaitRequest wr = SJE__V1__WAIT_REQUEST__INIT;
	wr.task_ids             = idp;
	wr.n_task_ids           = N;
	wr.timeout_ms           = 30000;
	Sje__V1__WaitReply *w;
	assert_int_equal(sje_client_wait(g_client, &wr, &w, NULL), SJE_OK);
	assert_true(w->done);
	assert_int_equal(w->n_jobs, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(w->jobs[i]->state,
		    SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
		char want[64];
		snprintf(want, sizeof(want), "\"sum\":%d", 2 * i + 2);
		assert_non_null(strstr(w->jobs[i]->result->text, want));
	}
	sje__v1__wait_reply__free_unpacked(w, NULL);
}

static void
test_a_batch_with_one_bad_job_stores_nothing(void **state)
{
	(void) state;
	Sje__V1__JobSpec specs[3];
	for (int i = 0; i < 3; i++) {
		sje__v1__job_spec__init(&specs[i]);
		specs[i].function = "noop";
	}
	specs[0].task_id          = "atomic-1";
	specs[1].task_id          = "atomic-2";
	specs[2].task_id          = "atomic-3";
	specs[2].function         = "bad function!";
	Sje__V1__SubmitReply *rep = NULL;
	sje_status            st;
	assert_int_equal(submit_specs(specs, 3, &rep, &st), SJE_EINVAL);
	assert_string_equal(st.field, "jobs[2].function");
	Sje__V1__Job *job = NULL;
	assert_int_equal(
	    sje_client_get_status(g_client, "atomic-1", &job, &st),
	    SJE_ENOTFOUND);
	assert_int_equal(st.code, SJE__V1__STATUS_CODE__NOT_FOUND);
}

static void
test_resubmitting_the_same_spec_answers_with_the_existing_job(void **state)
{
	(void) state;
	Sje__V1__JobSpec spec = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__Json    p    = SJE__V1__JSON__INIT;
	p.text                = "{\"k\":1}";
	spec.task_id          = "idem-1";
	spec.function         = "echo";
	spec.params           = &p;
	Sje__V1__SubmitReply *rep;
	assert_int_equal(submit_specs(&spec, 1, &rep, NULL), SJE_OK);
	assert_true(rep->results[0]->created);
	sje__v1__submit_reply__free_unpacked(rep, NULL);
	assert_int_equal(submit_specs(&spec, 1, &rep, NULL), SJE_OK);
	assert_false(rep->results[0]->created);
	sje__v1__submit_reply__free_unpacked(rep, NULL);

	p.text = "{\"k\":2}";
	sje_status st;
	assert_int_equal(submit_specs(&spec, 1, &rep, &st), SJE_EEXIST);
	assert_int_equal(st.code, SJE__V1__STATUS_CODE__ALREADY_EXISTS);
	assert_string_equal(st.field, "task_id");
}

static void
test_a_job_without_task_id_gets_one(void **state)
{
	(void) state;
	Sje__V1__JobSpec      spec = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__SubmitReply *rep;
	spec.function = "noop";
	assert_int_equal(submit_specs(&spec, 1, &rep, NULL), SJE_OK);
	assert_true(strlen(rep->results[0]->task_id) > 8);
	sje__v1__submit_reply__free_unpacked(rep, NULL);
}

static void
test_bad_requests_get_clear_errors(void **state)
{
	(void) state;
	sje_status            st;
	Sje__V1__SubmitReply *rep  = NULL;
	Sje__V1__JobSpec      spec = SJE__V1__JOB_SPEC__INIT;
	// No function.
	assert_int_equal(submit_specs(&spec, 1, &rep, &st), SJE_EINVAL);
	assert_string_equal(st.field, "function");
	// Params that are not JSON.
	Sje__V1__Json p = SJE__V1__JSON__INIT;
	p.text          = "{\"a\":";
	spec.function   = "echo";
	spec.params     = &p;
	assert_int_equal(submit_specs(&spec, 1, &rep, &st), SJE_EINVAL);
	assert_string_equal(st.field, "params");
	// An empty submit.
	assert_int_equal(submit_specs(&spec, 0, &rep, &st), SJE_EINVAL);
	// Unknown ids.
	Sje__V1__Job *job;
	assert_int_equal(
	    sje_client_get_status(g_client, "nope", &job, &st), SJE_ENOTFOUND);
	Sje__V1__CancelReply *cr;
	assert_int_equal(
	    sje_client_cancel(g_client, "nope", &cr, &st), SJE_ENOTFOUND);
	assert_int_equal(
	    sje_client_get_status(g_client, "bad id!", &job, &st), SJE_EINVAL);
	// A worker call with a session the server never gave.
	Sje__V1__FetchRequest fr = SJE__V1__FETCH_REQUEST__INIT;
	fr.session               = 12345;
	fr.max_jobs              = 1;
	Sje__V1__FetchReply *f   = NULL;
	assert_int_equal(
	    sje_client_call(g_client, &sje__v1__worker_hub__descriptor, 1,
	        &fr.base, (ProtobufCMessage **) &f, 0, &st),
	    SJE_EPRECOND);
}

static void
test_a_report_on_a_lease_not_held_is_refused(void **state)
{
	(void) state;
	Sje__V1__JobOutcome    o  = SJE__V1__JOB_OUTCOME__INIT;
	Sje__V1__JobOutcome   *op = &o;
	Sje__V1__ReportRequest r  = SJE__V1__REPORT_REQUEST__INIT;
	o.task_id                 = "batch-0"; // finished long ago
	o.lease_id                = 1;
	r.outcomes                = &op;
	r.n_outcomes              = 1;
	Sje__V1__ReportReply *rep = NULL;
	sje_status            st;
	// Session 0 is never issued: the whole call is refused.
	assert_int_equal(
	    sje_client_call(g_client, &sje__v1__worker_hub__descriptor, 3,
	        &r.base, (ProtobufCMessage **) &rep, 0, &st),
	    SJE_EPRECOND);
	assert_string_equal(st.field, "session");
	assert_null(rep);
	Sje__V1__Job *job;
	assert_int_equal(
	    sje_client_get_status(g_client, "batch-0", &job, NULL), SJE_OK);
	assert_int_equal(job->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	sje__v1__job__free_unpacked(job, NULL);
}

static void
status_closure(const Sje__V1__Job *job, void *data)
{
	*(int *) data = job != NULL ? (int) job->state : -1;
}

static void
test_generated_stubs_call_over_libsje(void **state)
{
	(void) state;
	ProtobufCService *svc =
	    sje_client_service(g_client, &sje__v1__coordinator__descriptor);
	assert_non_null(svc);
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	req.task_id                   = "batch-1";
	int st                        = 0;
	sje__v1__coordinator__get_status(svc, &req, status_closure, &st);
	assert_int_equal(st, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	req.task_id = "nope";
	sje__v1__coordinator__get_status(svc, &req, status_closure, &st);
	assert_int_equal(st, -1);
	svc->destroy(svc);
}

static void
test_workers_are_listed(void **state)
{
	(void) state;
	Sje__V1__ListWorkersReply *rep;
	assert_int_equal(
	    sje_client_list_workers(g_client, &rep, NULL), SJE_OK);
	assert_int_equal(rep->n_workers, 1);
	assert_string_equal(rep->workers[0]->name, "lib-w");
	assert_int_equal(rep->workers[0]->slots, 4);
	sje__v1__list_workers_reply__free_unpacked(rep, NULL);
}

// hub calls a WorkerHub method (index m) and returns its error.
static sje_err
hub(unsigned m, const ProtobufCMessage *in, ProtobufCMessage **out)
{
	return sje_client_call(
	    g_client, &sje__v1__worker_hub__descriptor, m, in, out, 0, NULL);
}

static int
job_state(const char *id, uint32_t *attempt)
{
	Sje__V1__Job *job;
	assert_int_equal(
	    sje_client_get_status(g_client, id, &job, NULL), SJE_OK);
	int st = job->state;
	if (attempt != NULL) {
		*attempt = job->attempt;
	}
	sje__v1__job__free_unpacked(job, NULL);
	return st;
}

// register_fake registers a worker of our own called name for one function
// no real worker serves, asserts it worked, and returns its session; the
// heartbeat interval asked for goes to *heartbeat_ms (may be NULL).
static uint64_t
register_fake(const char *name, const char *fn, uint32_t *heartbeat_ms)
{
	char                    *fns[] = { (char *) fn };
	Sje__V1__RegisterRequest rr    = SJE__V1__REGISTER_REQUEST__INIT;
	rr.name                        = (char *) name;
	rr.functions                   = fns;
	rr.n_functions                 = 1;
	rr.slots                       = 1;
	Sje__V1__RegisterReply *reg;
	assert_int_equal(hub(0, &rr.base, (ProtobufCMessage **) &reg), SJE_OK);
	uint64_t session = reg->session;
	if (heartbeat_ms != NULL) {
		*heartbeat_ms = reg->heartbeat_ms;
	}
	sje__v1__register_reply__free_unpacked(reg, NULL);
	return session;
}

static void
test_a_fake_worker_leases_releases_and_completes_a_job(void **state)
{
	(void) state;
	// A worker of our own, for a function no real worker serves.
	uint32_t heartbeat_ms;
	uint64_t session = register_fake("fake", "only_fake", &heartbeat_ms);
	assert_true(heartbeat_ms > 0 && heartbeat_ms <= 1000);

	Sje__V1__JobSpec      spec = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__SubmitReply *rep;
	spec.task_id  = "fake-1";
	spec.function = "only_fake";
	assert_int_equal(submit_specs(&spec, 1, &rep, NULL), SJE_OK);
	sje__v1__submit_reply__free_unpacked(rep, NULL);

	Sje__V1__FetchRequest fr = SJE__V1__FETCH_REQUEST__INIT;
	fr.session               = session;
	fr.max_jobs              = 5;
	fr.wait_ms               = 5000;
	Sje__V1__FetchReply *f;
	assert_int_equal(hub(1, &fr.base, (ProtobufCMessage **) &f), SJE_OK);
	assert_int_equal(f->n_jobs, 1);
	assert_string_equal(f->jobs[0]->task_id, "fake-1");
	assert_int_equal(f->jobs[0]->attempt, 1);
	uint64_t lease1 = f->jobs[0]->lease_id;
	sje__v1__fetch_reply__free_unpacked(f, NULL);
	uint32_t attempt;
	assert_int_equal(job_state("fake-1", &attempt),
	    SJE__V1__JOB_STATE__JOB_STATE_RUNNING);

	// Hand it back: queued again, the attempt does not count.
	Sje__V1__JobOutcome    o  = SJE__V1__JOB_OUTCOME__INIT;
	Sje__V1__JobOutcome   *op = &o;
	Sje__V1__ReportRequest rq = SJE__V1__REPORT_REQUEST__INIT;
	Sje__V1__ReportReply  *rr2;
	o.task_id     = "fake-1";
	o.lease_id    = lease1;
	rq.session    = session;
	rq.outcomes   = &op;
	rq.n_outcomes = 1;
	assert_int_equal(hub(5, &rq.base, (ProtobufCMessage **) &rr2), SJE_OK);
	assert_int_equal(rr2->accepted[0], SJE__V1__STATUS_CODE__OK);
	sje__v1__report_reply__free_unpacked(rr2, NULL);
	assert_int_equal(job_state("fake-1", &attempt),
	    SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(attempt, 0);

	// Lease it again: a new lease id; the old one is refused.
	assert_int_equal(hub(1, &fr.base, (ProtobufCMessage **) &f), SJE_OK);
	assert_int_equal(f->n_jobs, 1);
	assert_int_equal(f->jobs[0]->attempt, 1);
	uint64_t lease2 = f->jobs[0]->lease_id;
	assert_true(lease2 != lease1);
	sje__v1__fetch_reply__free_unpacked(f, NULL);

	Sje__V1__Json result = SJE__V1__JSON__INIT;
	result.text          = "{\"done\":true}";
	o.result             = &result;
	assert_int_equal(hub(3, &rq.base, (ProtobufCMessage **) &rr2), SJE_OK);
	assert_int_equal(
	    rr2->accepted[0], SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	sje__v1__report_reply__free_unpacked(rr2, NULL);
	assert_int_equal(
	    job_state("fake-1", NULL), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);

	o.lease_id = lease2;
	assert_int_equal(hub(3, &rq.base, (ProtobufCMessage **) &rr2), SJE_OK);
	assert_int_equal(rr2->accepted[0], SJE__V1__STATUS_CODE__OK);
	sje__v1__report_reply__free_unpacked(rr2, NULL);
	Sje__V1__Job *job;
	assert_int_equal(
	    sje_client_get_status(g_client, "fake-1", &job, NULL), SJE_OK);
	assert_int_equal(job->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_string_equal(job->result->text, "{\"done\":true}");
	assert_int_equal(job->n_attempts, 1);
	assert_string_equal(job->attempts[0]->worker, "fake");
	sje__v1__job__free_unpacked(job, NULL);

	// A second report on the finished job changes nothing.
	assert_int_equal(hub(3, &rq.base, (ProtobufCMessage **) &rr2), SJE_OK);
	assert_int_equal(
	    rr2->accepted[0], SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	sje__v1__report_reply__free_unpacked(rr2, NULL);
}

static void
test_events_can_be_read_back_after_a_seq(void **state)
{
	(void) state;
	Sje__V1__ListEventsRequest req = SJE__V1__LIST_EVENTS_REQUEST__INIT;
	req.task_id                    = "fake-1";
	Sje__V1__ListEventsReply *rep;
	assert_int_equal(
	    sje_client_call(g_client, &sje__v1__coordinator__descriptor, 6,
	        &req.base, (ProtobufCMessage **) &rep, 0, NULL),
	    SJE_OK);
	// QUEUED, RUNNING, QUEUED (released), RUNNING, SUCCEEDED.
	assert_int_equal(rep->n_events, 5);
	for (size_t i = 1; i < rep->n_events; i++) {
		assert_true(rep->events[i]->seq > rep->events[i - 1]->seq);
	}
	assert_int_equal(
	    rep->events[4]->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	uint64_t last = rep->next;
	assert_true(last == rep->events[4]->seq);
	sje__v1__list_events_reply__free_unpacked(rep, NULL);

	// Nothing after the last one: a call that waits is held, then
	// answered empty when its time is up.
	req.after   = last;
	req.wait_ms = 200;
	assert_int_equal(
	    sje_client_call(g_client, &sje__v1__coordinator__descriptor, 6,
	        &req.base, (ProtobufCMessage **) &rep, 0, NULL),
	    SJE_OK);
	assert_int_equal(rep->n_events, 0);
	assert_true(rep->next == last);
	sje__v1__list_events_reply__free_unpacked(rep, NULL);
}

static void
test_a_live_reader_starts_after_the_newest_event(void **state)
{
	(void) state;
	// from_now: no events, and next is the newest event's seq.
	Sje__V1__ListEventsRequest req = SJE__V1__LIST_EVENTS_REQUEST__INIT;
	req.from_now                   = true;
	req.after                      = 1; // ignored with from_now
	Sje__V1__ListEventsReply *rep;
	assert_int_equal(
	    sje_client_list_events(g_client, &req, &rep, NULL), SJE_OK);
	assert_int_equal(rep->n_events, 0);
	uint64_t head = rep->next;
	assert_true(head > 1);
	sje__v1__list_events_reply__free_unpacked(rep, NULL);

	// The next event is the first after it.
	Sje__V1__JobSpec spec = SJE__V1__JOB_SPEC__INIT;
	spec.task_id          = "live-1";
	spec.function         = "echo";
	spec.delay_s          = 3600;
	Sje__V1__SubmitReply *srep;
	assert_int_equal(submit_specs(&spec, 1, &srep, NULL), SJE_OK);
	sje__v1__submit_reply__free_unpacked(srep, NULL);
	req.from_now = false;
	req.after    = head;
	req.wait_ms  = 5000;
	assert_int_equal(
	    sje_client_list_events(g_client, &req, &rep, NULL), SJE_OK);
	assert_true(rep->n_events >= 1);
	assert_true(rep->events[0]->seq == head + 1);
	assert_string_equal(rep->events[0]->task_id, "live-1");
	sje__v1__list_events_reply__free_unpacked(rep, NULL);
}

static void
test_stats_count_jobs_by_function(void **state)
{
	(void) state;
	Sje__V1__StatsRequest req = SJE__V1__STATS_REQUEST__INIT;
	Sje__V1__StatsReply  *rep;
	assert_int_equal(
	    sje_client_call(g_client, &sje__v1__coordinator__descriptor, 7,
	        &req.base, (ProtobufCMessage **) &rep, 0, NULL),
	    SJE_OK);
	bool found = false;
	for (size_t i = 0; i < rep->n_functions; i++) {
		Sje__V1__FunctionStats *f = rep->functions[i];
		if (strcmp(f->function, "calculate_data") == 0) {
			found = true;
			assert_true(f->submitted >= 200);
			assert_true(f->succeeded >= 200);
			assert_int_equal(
			    f->run->n_counts, f->run->n_bounds_ms + 1);
			assert_true(f->run->count >= 200);
		}
	}
	assert_true(found);
	assert_true(rep->workers >= 1);
	assert_true(rep->event_seq > 0);
	sje__v1__stats_reply__free_unpacked(rep, NULL);
}

static Sje__V1__JobSpec
spec_of(char *id, char *fn, char **deps, size_t n_deps)
{
	Sje__V1__JobSpec s = SJE__V1__JOB_SPEC__INIT;
	s.task_id          = id;
	s.function         = fn;
	s.depends_on       = deps;
	s.n_depends_on     = n_deps;
	return s;
}

static void
test_bulk_calls_cancel_and_delete_by_a_label(void **state)
{
	(void) state;
	Sje__V1__JobSpec              specs[2];
	Sje__V1__JobSpec__LabelsEntry e =
	    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
	Sje__V1__JobSpec__LabelsEntry *ep = &e;
	e.key                             = "batch";
	e.value                           = "lib";
	for (int i = 0; i < 2; i++) {
		// No worker serves "held": both stay QUEUED.
		specs[i] =
		    spec_of(i == 0 ? "bulk-1" : "bulk-2", "held", NULL, 0);
		specs[i].labels   = &ep;
		specs[i].n_labels = 1;
	}
	Sje__V1__SubmitReply *rep;
	assert_int_equal(submit_specs(specs, 2, &rep, NULL), SJE_OK);
	sje__v1__submit_reply__free_unpacked(rep, NULL);
	Sje__V1__BulkRequest req = SJE__V1__BULK_REQUEST__INIT;
	Sje__V1__BulkReply  *b;
	sje_status           st;
	// Deleting comes first: it never touches an unfinished job.
	req.label = "batch=lib";
	assert_int_equal(
	    sje_client_bulk_delete(g_client, &req, &b, &st), SJE_OK);
	assert_int_equal(b->matched, 0);
	sje__v1__bulk_reply__free_unpacked(b, NULL);
	assert_int_equal(
	    sje_client_bulk_cancel(g_client, &req, &b, &st), SJE_OK);
	assert_int_equal(b->matched, 2);
	assert_false(b->more);
	sje__v1__bulk_reply__free_unpacked(b, NULL);
	assert_int_equal(
	    sje_client_bulk_delete(g_client, &req, &b, &st), SJE_OK);
	assert_int_equal(b->matched, 2);
	sje__v1__bulk_reply__free_unpacked(b, NULL);
	Sje__V1__Job *job;
	assert_int_equal(sje_client_get_status(g_client, "bulk-1", &job, &st),
	    SJE_ENOTFOUND);
	// No filter at all is refused.
	Sje__V1__BulkRequest none = SJE__V1__BULK_REQUEST__INIT;
	assert_int_equal(
	    sje_client_bulk_retry(g_client, &none, &b, &st), SJE_EINVAL);
	assert_non_null(strstr(st.message, "needs a filter"));
}

static void
test_a_batch_may_list_children_before_their_parents(void **state)
{
	(void) state;
	char            *to_p[] = { "order-p" };
	Sje__V1__JobSpec specs[2];
	specs[0] = spec_of("order-c", "collect", to_p, 1);
	specs[1] = spec_of("order-p", "noop", NULL, 0);
	Sje__V1__SubmitReply *rep;
	assert_int_equal(submit_specs(specs, 2, &rep, NULL), SJE_OK);
	assert_int_equal(
	    rep->results[0]->state, SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	sje__v1__submit_reply__free_unpacked(rep, NULL);
	char                *ids[] = { "order-c" };
	Sje__V1__WaitRequest wr    = SJE__V1__WAIT_REQUEST__INIT;
	wr.task_ids                = ids;
	wr.n_task_ids              = 1;
	wr.timeout_ms              = 20000;
	Sje__V1__WaitReply *w;
	assert_int_equal(sje_client_wait(g_client, &wr, &w, NULL), SJE_OK);
	assert_int_equal(
	    w->jobs[0]->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_string_equal(w->jobs[0]->result->text, "{\"order-p\":null}");
	sje__v1__wait_reply__free_unpacked(w, NULL);
}

static void
test_a_cycle_is_refused_naming_a_task_and_nothing_is_stored(void **state)
{
	(void) state;
	char *to_a[] = { "cyc-a" }, *to_b[] = { "cyc-b" },
	     *to_c[] = { "cyc-c" };
	Sje__V1__JobSpec specs[4];
	specs[0]                  = spec_of("cyc-ok", "noop", NULL, 0);
	specs[1]                  = spec_of("cyc-a", "noop", to_c, 1);
	specs[2]                  = spec_of("cyc-b", "noop", to_a, 1);
	specs[3]                  = spec_of("cyc-c", "noop", to_b, 1);
	Sje__V1__SubmitReply *rep = NULL;
	sje_status            st;
	assert_int_equal(submit_specs(specs, 4, &rep, &st), SJE_EINVAL);
	assert_non_null(strstr(st.message, "dependency cycle"));
	assert_non_null(strstr(st.message, "'cyc-a'"));
	assert_non_null(strstr(st.message, "'cyc-b'"));
	assert_non_null(strstr(st.field, ".depends_on"));
	Sje__V1__Job *job;
	assert_int_equal(sje_client_get_status(g_client, "cyc-ok", &job, &st),
	    SJE_ENOTFOUND);
	assert_int_equal(sje_client_get_status(g_client, "cyc-a", &job, &st),
	    SJE_ENOTFOUND);
}

static void
test_an_unknown_parent_in_a_batch_is_refused_and_nothing_is_stored(
    void **state)
{
	(void) state;
	char            *deps[] = { "unk-ok", "unk-missing" };
	Sje__V1__JobSpec specs[2];
	specs[0]                  = spec_of("unk-ok", "noop", NULL, 0);
	specs[1]                  = spec_of("unk-child", "noop", deps, 2);
	Sje__V1__SubmitReply *rep = NULL;
	sje_status            st;
	assert_int_equal(submit_specs(specs, 2, &rep, &st), SJE_EINVAL);
	assert_string_equal(st.field, "jobs[1].depends_on[1]");
	assert_non_null(strstr(st.message, "unknown parent 'unk-missing'"));
	Sje__V1__Job *job;
	assert_int_equal(sje_client_get_status(g_client, "unk-ok", &job, &st),
	    SJE_ENOTFOUND);
}

static sje_err
run_workflow(const char *name, const char *wid, const char *params,
    Sje__V1__RunWorkflowReply **out, sje_status *st)
{
	Sje__V1__RunWorkflowRequest req = SJE__V1__RUN_WORKFLOW_REQUEST__INIT;
	Sje__V1__Json               p   = SJE__V1__JSON__INIT;
	req.name                        = (char *) name;
	req.workflow_id                 = (char *) wid;
	if (params != NULL) {
		p.text     = (char *) params;
		req.params = &p;
	}
	return sje_client_call(g_client, &sje__v1__coordinator__descriptor, 8,
	    &req.base, (ProtobufCMessage **) out, 0, st);
}

static void
test_a_config_workflow_runs_end_to_end(void **state)
{
	(void) state;
	Sje__V1__RunWorkflowReply *rep;
	sje_status                 st;
	assert_int_equal(
	    run_workflow("etl", "wf-test", "{\"run\":7}", &rep, &st), SJE_OK);
	assert_string_equal(rep->workflow_id, "wf-test");
	assert_int_equal(rep->n_tasks, 3);
	assert_string_equal(rep->tasks[0]->task_id, "wf-test.extract");
	assert_string_equal(rep->tasks[2]->task_id, "wf-test.load");
	assert_int_equal(
	    rep->tasks[2]->state, SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	sje__v1__run_workflow_reply__free_unpacked(rep, NULL);

	char                *ids[] = { "wf-test.load" };
	Sje__V1__WaitRequest wr    = SJE__V1__WAIT_REQUEST__INIT;
	wr.task_ids                = ids;
	wr.n_task_ids              = 1;
	wr.timeout_ms              = 20000;
	Sje__V1__WaitReply *w;
	assert_int_equal(sje_client_wait(g_client, &wr, &w, NULL), SJE_OK);
	assert_int_equal(
	    w->jobs[0]->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	// The run's params reach every step, laid over the step's own.
	assert_string_equal(w->jobs[0]->result->text,
	    "{\"wf-test.transform\":{\"step\":\"transform\",\"run\":7}}");
	sje__v1__wait_reply__free_unpacked(w, NULL);

	// The run's steps, by workflow id.
	Sje__V1__ListJobsRequest lr = SJE__V1__LIST_JOBS_REQUEST__INIT;
	lr.workflow_id              = "wf-test";
	Sje__V1__ListJobsReply *l;
	assert_int_equal(
	    sje_client_list_jobs(g_client, &lr, &l, NULL), SJE_OK);
	assert_int_equal(l->n_jobs, 3);
	sje__v1__list_jobs_reply__free_unpacked(l, NULL);
	// And the run itself: its workflow, its state, its steps in order.
	Sje__V1__WorkflowRun *run;
	assert_int_equal(
	    sje_client_get_workflow_run(g_client, "wf-test", &run, &st),
	    SJE_OK);
	assert_string_equal(run->workflow, "etl");
	assert_int_equal(run->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_int_equal(run->n_steps, 3);
	assert_string_equal(run->steps[0]->task_id, "wf-test.extract");
	sje__v1__workflow_run__free_unpacked(run, NULL);
	Sje__V1__BulkReply *b;
	assert_int_equal(
	    sje_client_cancel_workflow_run(g_client, "wf-test", &b, &st),
	    SJE_OK);
	assert_int_equal(b->matched, 0); // nothing left unfinished
	sje__v1__bulk_reply__free_unpacked(b, NULL);
	assert_int_equal(
	    sje_client_get_workflow_run(g_client, "wf-nosuch", &run, &st),
	    SJE_ENOTFOUND);

	// Running it again under the same id changes nothing.
	assert_int_equal(
	    run_workflow("etl", "wf-test", "{\"run\":7}", &rep, &st), SJE_OK);
	assert_false(rep->tasks[0]->created);
	sje__v1__run_workflow_reply__free_unpacked(rep, NULL);
	// Other params under the same id conflict.
	assert_int_equal(
	    run_workflow("etl", "wf-test", "{\"run\":8}", &rep, &st),
	    SJE_EEXIST);
	// An unknown workflow is not found.
	assert_int_equal(
	    run_workflow("nope", NULL, NULL, &rep, &st), SJE_ENOTFOUND);
	assert_string_equal(st.field, "name");
}

static void
test_a_job_its_worker_does_not_stop_times_out_on_the_server(void **state)
{
	(void) state;
	uint64_t session = register_fake("stuck", "stuck_fake", NULL);

	Sje__V1__JobSpec      spec  = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__RetryPolicy  retry = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__SubmitReply *rep;
	retry.max_attempts = 1;
	spec.task_id       = "stuck-1";
	spec.function      = "stuck_fake";
	spec.timeout_s     = 1;
	spec.retry         = &retry;
	assert_int_equal(submit_specs(&spec, 1, &rep, NULL), SJE_OK);
	sje__v1__submit_reply__free_unpacked(rep, NULL);

	Sje__V1__FetchRequest fr = SJE__V1__FETCH_REQUEST__INIT;
	fr.session               = session;
	fr.max_jobs              = 1;
	fr.wait_ms               = 5000;
	Sje__V1__FetchReply *f;
	assert_int_equal(hub(1, &fr.base, (ProtobufCMessage **) &f), SJE_OK);
	assert_int_equal(f->n_jobs, 1);
	uint64_t lease = f->jobs[0]->lease_id;
	sje__v1__fetch_reply__free_unpacked(f, NULL);

	// The worker keeps heartbeating but never stops the job: past its
	// timeout plus a lease (3 s) the server ends the attempt itself.
	Sje__V1__RunningJob       rj  = SJE__V1__RUNNING_JOB__INIT;
	Sje__V1__RunningJob      *rjp = &rj;
	Sje__V1__HeartbeatRequest hb  = SJE__V1__HEARTBEAT_REQUEST__INIT;
	rj.task_id                    = "stuck-1";
	rj.lease_id                   = lease;
	hb.session                    = session;
	hb.running                    = &rjp;
	hb.n_running                  = 1;
	bool lost                     = false;
	for (int i = 0; i < 40 && !lost; i++) {
		Sje__V1__HeartbeatReply *hr;
		assert_int_equal(
		    hub(2, &hb.base, (ProtobufCMessage **) &hr), SJE_OK);
		lost = hr->n_lost == 1;
		sje__v1__heartbeat_reply__free_unpacked(hr, NULL);
		if (!lost) {
			sleep_ms(250);
		}
	}
	assert_true(lost);
	Sje__V1__Job *job;
	assert_int_equal(
	    sje_client_get_status(g_client, "stuck-1", &job, NULL), SJE_OK);
	assert_int_equal(job->state, SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_string_equal(job->error->type, "timeout");
	sje__v1__job__free_unpacked(job, NULL);
}

// A spec that protobuf-c accepts but cannot store: an unknown field whose
// tag is field 0 written as a non-minimal varint (found by rpc_frame_fuzz).
static void
test_a_spec_that_does_not_encode_back_is_refused_and_not_stored(void **state)
{
	(void) state;
	static const uint8_t spec[] = { 0x0a, 0x05, 'w', 'e', 'i', 'r', 'd',
		0x12, 0x04, 'n', 'o', 'o', 'p', 0x82, 0x00, 0x01, 'k' };
	uint8_t              submit[64];
	submit[0] = 0x0a; // SubmitRequest.jobs, length-delimited
	submit[1] = (uint8_t) sizeof(spec);
	memcpy(submit + 2, spec, sizeof(spec));
	Sje__V1__Request req = SJE__V1__REQUEST__INIT;
	req.method           = "/sje.v1.Coordinator/Submit";
	req.body.data        = submit;
	req.body.len         = sizeof(spec) + 2;
	size_t   n           = sje__v1__request__get_packed_size(&req);
	uint8_t *frame       = malloc(n);
	sje__v1__request__pack(&req, frame);

	nng_socket sock;
	assert_int_equal(nng_req0_open(&sock), 0);
	assert_int_equal(nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_dial(sock, g_url, NULL, 0), 0);
	assert_int_equal(nng_send(sock, frame, n, 0), 0);
	void  *buf;
	size_t len;
	assert_int_equal(nng_recv(sock, &buf, &len, NNG_FLAG_ALLOC), 0);
	Sje__V1__Reply *rep = sje__v1__reply__unpack(NULL, len, buf);
	nng_free(buf, len);
	nng_close(sock);
	free(frame);
	assert_non_null(rep);
	assert_int_equal(rep->code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(rep->message, "unknown fields"));
	sje__v1__reply__free_unpacked(rep, NULL);
	Sje__V1__Job *job;
	assert_int_equal(sje_client_get_status(g_client, "weird", &job, NULL),
	    SJE_ENOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_a_batch_of_jobs_runs_and_every_result_is_right),
		cmocka_unit_test(test_a_batch_with_one_bad_job_stores_nothing),
		cmocka_unit_test(
		    test_resubmitting_the_same_spec_answers_with_the_existing_job),
		cmocka_unit_test(test_a_job_without_task_id_gets_one),
		cmocka_unit_test(test_bad_requests_get_clear_errors),
		cmocka_unit_test(test_a_report_on_a_lease_not_held_is_refused),
		cmocka_unit_test(test_generated_stubs_call_over_libsje),
		cmocka_unit_test(test_workers_are_listed),
		cmocka_unit_test(
		    test_a_fake_worker_leases_releases_and_completes_a_job),
		cmocka_unit_test(test_events_can_be_read_back_after_a_seq),
		cmocka_unit_test(
		    test_a_live_reader_starts_after_the_newest_event),
		cmocka_unit_test(test_stats_count_jobs_by_function),
		cmocka_unit_test(
		    test_a_batch_may_list_children_before_their_parents),
		cmocka_unit_test(
		    test_a_cycle_is_refused_naming_a_task_and_nothing_is_stored),
		cmocka_unit_test(
		    test_an_unknown_parent_in_a_batch_is_refused_and_nothing_is_stored),
		cmocka_unit_test(test_a_config_workflow_runs_end_to_end),
		cmocka_unit_test(test_bulk_calls_cancel_and_delete_by_a_label),
		cmocka_unit_test(
		    test_a_job_its_worker_does_not_stop_times_out_on_the_server),
		cmocka_unit_test(
		    test_a_spec_that_does_not_encode_back_is_refused_and_not_stored),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
