// sched_test.c — unit tests of the scheduler (server/sched/), driven by a
// fake clock.
//
// Each test opens a real SQLite store in a fresh temporary directory and
// a scheduler on it opened manual: no thread; the test posts calls (built
// as protobuf messages and posted as sje__calls, as the front doors do),
// sets the fake clock, and runs one round with sje__sched_round — the
// same round the scheduler's thread runs. Replies are caught by the
// test's own sje__call. A worker is played by the test: it registers,
// fetches, heartbeats and reports with the lease ids it was given.
//
// Two tests open it threaded instead, as sje-server does, to check who
// runs a round: the thread that posts a call to an idle scheduler, or the
// scheduler's thread (round.c's design note).
//
// Times: lease_s is 3, so a lease runs out 3000 ms after its last
// heartbeat and is found out at the next tick (every 1000 ms).
#include <sje/client.h>
#include <sje/config.h>

#include "fake_clock.h"
#include "sched/scheduler.h"
#include "store/store.h"
#include "tmpdir.h"

#include <protobuf-c/protobuf-c.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// cmocka.h needs these first.
#include <setjmp.h>

#include <cmocka.h>

#define LEASE_MS 3000
#define TICK_MS 1000 // the scheduler's tick (SCHED_TICK_MS)
#define MAX_CALLS 256

// tcall is a call the test posted: the base, then what came back.
typedef struct tcall {
	sje__call         base;
	atomic_bool       answered; // set last: the rest is then written
	int               code;
	char              message[256];
	ProtobufCMessage *out; // the reply, unpacked; NULL unless OK
} tcall;

typedef struct fixture {
	char        dir[512];
	sje_config *cfg;
	sje__store *store;
	sje__sched *sched;
	fake_clock  clock;
	sje__clock  clk; // reads clock
	tcall      *calls[MAX_CALLS];
	size_t      n_calls;
} fixture;

static void
tcall_send(sje__call *base, int code, const char *message, const char *field,
    const uint8_t *body, size_t len)
{
	(void) field;
	tcall *c = (tcall *) base;
	c->code  = code;
	snprintf(c->message, sizeof(c->message), "%s",
	    message != NULL ? message : "");
	if (code == 0) {
		const ProtobufCMethodDescriptor *m =
		    &base->service->methods[base->method];
		c->out = protobuf_c_message_unpack(m->output, NULL, len, body);
	}
	atomic_store(&c->answered, true);
}

static void
tcall_free(tcall *c)
{
	if (c->out != NULL) {
		protobuf_c_message_free_unpacked(c->out, NULL);
	}
	protobuf_c_message_free_unpacked(c->base.input, NULL);
	free(c);
}

// make_call makes a call of svc's method named method, whose input is a
// copy of msg (tcall_free frees it).
static tcall *
make_call(const ProtobufCServiceDescriptor *svc, const char *method,
    const ProtobufCMessage *msg)
{
	const ProtobufCMethodDescriptor *m =
	    protobuf_c_service_descriptor_get_method_by_name(svc, method);
	assert_non_null(m);
	size_t   len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(msg, buf);
	tcall *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->base.send    = tcall_send;
	c->base.service = svc;
	c->base.method  = (unsigned) (m - svc->methods);
	c->base.input   = protobuf_c_message_unpack(m->input, NULL, len, buf);
	c->base.origin  = "test";
	free(buf);
	assert_non_null(c->base.input);
	return c;
}

// post hands the scheduler a call of svc's method named method, whose
// input is a copy of msg; the fixture frees it at teardown.
static tcall *
post(fixture *f, const ProtobufCServiceDescriptor *svc, const char *method,
    const ProtobufCMessage *msg)
{
	tcall *c = make_call(svc, method, msg);
	assert_true(f->n_calls < MAX_CALLS);
	f->calls[f->n_calls++] = c;
	sje__sched_post(f->sched, &c->base);
	return c;
}

// round runs one scheduler round at the fake clock's time.
static void
round_now(fixture *f)
{
	sje__sched_round(f->sched);
}

// ok runs a round and checks that c was answered OK; returns its reply.
static const ProtobufCMessage *
ok(fixture *f, tcall *c)
{
	round_now(f);
	assert_true(c->answered);
	if (c->code != 0) {
		fail_msg("call answered %d: %s", c->code, c->message);
	}
	assert_non_null(c->out);
	return c->out;
}

static const ProtobufCServiceDescriptor *const coord =
    &sje__v1__coordinator__descriptor;
static const ProtobufCServiceDescriptor *const hub =
    &sje__v1__worker_hub__descriptor;

// ---- the client's side ------------------------------------------------

// spec is a job spec for function "f" with the task_id id.
static Sje__V1__JobSpec
spec(const char *id)
{
	Sje__V1__JobSpec s = SJE__V1__JOB_SPEC__INIT;
	s.task_id          = (char *) id;
	s.function         = "f";
	return s;
}

// submit submits the n specs in one request and checks they were taken.
static void
submit(fixture *f, Sje__V1__JobSpec *specs, size_t n)
{
	Sje__V1__JobSpec *p[8];
	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		p[i] = &specs[i];
	}
	Sje__V1__SubmitRequest req    = SJE__V1__SUBMIT_REQUEST__INIT;
	req.jobs                      = p;
	req.n_jobs                    = n;
	const Sje__V1__SubmitReply *r = (const Sje__V1__SubmitReply *) ok(
	    f, post(f, coord, "Submit", &req.base));
	assert_int_equal(r->n_results, n);
}

static void
submit_one(fixture *f, const char *id)
{
	Sje__V1__JobSpec s = spec(id);
	submit(f, &s, 1);
}

// status is the job's record after a round at the clock's time. (A round
// handles its calls before its timers: the round that answers GetStatus
// comes after the one that ran what was due.)
static const Sje__V1__Job *
status(fixture *f, const char *id)
{
	round_now(f);
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	req.task_id                   = (char *) id;
	return (const Sje__V1__Job *) ok(
	    f, post(f, coord, "GetStatus", &req.base));
}

static int
state_of(fixture *f, const char *id)
{
	return status(f, id)->state;
}

static const Sje__V1__CancelReply *
cancel(fixture *f, const char *id)
{
	Sje__V1__CancelRequest req = SJE__V1__CANCEL_REQUEST__INIT;
	req.task_id                = (char *) id;
	return (const Sje__V1__CancelReply *) ok(
	    f, post(f, coord, "Cancel", &req.base));
}

// ---- the worker's side ------------------------------------------------

// worker registers a worker called name that serves "f"; returns its
// session.
static uint64_t
worker(fixture *f, const char *name)
{
	char                    *fns[]  = { "f" };
	Sje__V1__RegisterRequest req    = SJE__V1__REGISTER_REQUEST__INIT;
	req.name                        = (char *) name;
	req.functions                   = fns;
	req.n_functions                 = 1;
	req.slots                       = 4;
	const Sje__V1__RegisterReply *r = (const Sje__V1__RegisterReply *) ok(
	    f, post(f, hub, "RegisterWorker", &req.base));
	assert_int_not_equal(r->session, 0);
	return r->session;
}

// fetch posts a Fetch for one job, held up to wait_ms, and runs a round:
// the call is answered when a job was ready, else held.
static tcall *
fetch(fixture *f, uint64_t session, uint32_t wait_ms)
{
	Sje__V1__FetchRequest req = SJE__V1__FETCH_REQUEST__INIT;
	req.session               = session;
	req.max_jobs              = 1;
	req.wait_ms               = wait_ms;
	tcall *c                  = post(f, hub, "Fetch", &req.base);
	round_now(f);
	return c;
}

// assigned is the one job a Fetch was given.
static const Sje__V1__Assignment *
assigned(const tcall *c)
{
	assert_true(c->answered);
	assert_int_equal(c->code, 0);
	const Sje__V1__FetchReply *r = (const Sje__V1__FetchReply *) c->out;
	assert_int_equal(r->n_jobs, 1);
	return r->jobs[0];
}

// take fetches the ready job id and returns its lease id.
static uint64_t
take(fixture *f, uint64_t session, const char *id)
{
	// (A Fetch with wait_ms 0 is answered empty by the round's timers
	// before dispatch: workers always wait a while.)
	const Sje__V1__Assignment *a = assigned(fetch(f, session, 1000));
	assert_string_equal(a->task_id, id);
	assert_int_not_equal(a->lease_id, 0);
	return a->lease_id;
}

// heartbeat reports id running under lease; returns the reply.
static const Sje__V1__HeartbeatReply *
heartbeat(fixture *f, uint64_t session, const char *id, uint64_t lease)
{
	Sje__V1__RunningJob r         = SJE__V1__RUNNING_JOB__INIT;
	r.task_id                     = (char *) id;
	r.lease_id                    = lease;
	Sje__V1__RunningJob      *rp  = &r;
	Sje__V1__HeartbeatRequest req = SJE__V1__HEARTBEAT_REQUEST__INIT;
	req.session                   = session;
	req.running                   = &rp;
	req.n_running                 = 1;
	return (const Sje__V1__HeartbeatReply *) ok(
	    f, post(f, hub, "Heartbeat", &req.base));
}

// report sends Complete or Fail (with error type type) for id under
// lease; returns the outcome's status code.
static int
report(fixture *f, const char *method, uint64_t session, const char *id,
    uint64_t lease, const char *type)
{
	Sje__V1__JobOutcome o = SJE__V1__JOB_OUTCOME__INIT;
	Sje__V1__JobError   e = SJE__V1__JOB_ERROR__INIT;
	o.task_id             = (char *) id;
	o.lease_id            = lease;
	if (type != NULL) {
		e.type    = (char *) type;
		e.message = "it broke";
		o.error   = &e;
	}
	Sje__V1__JobOutcome   *op     = &o;
	Sje__V1__ReportRequest req    = SJE__V1__REPORT_REQUEST__INIT;
	req.session                   = session;
	req.outcomes                  = &op;
	req.n_outcomes                = 1;
	const Sje__V1__ReportReply *r = (const Sje__V1__ReportReply *) ok(
	    f, post(f, hub, method, &req.base));
	assert_int_equal(r->n_accepted, 1);
	return r->accepted[0];
}

// ---- fixture ------------------------------------------------------------

// sched_open opens the store and the scheduler, manual or threaded.
static void
sched_open(fixture *f, bool manual)
{
	sje__sched_opts        opts = { .clock = &f->clk, .manual = manual };
	sje__store_sqlite_opts so   = { .directory = f->dir,
		  .sync                            = SJE_SYNC_NORMAL };
	assert_int_equal(sje__store_open_sqlite(&so, &f->store), SJE_OK);
	assert_int_equal(sje__sched_open(f->cfg, f->store, NULL, NULL, NULL,
	                     &opts, &f->sched),
	    SJE_OK);
}

static void
sched_start(fixture *f)
{
	sched_open(f, true);
}

static void
sched_stop(fixture *f)
{
	sje__sched_close(f->sched); // answers what it holds
	f->sched = NULL;
	sje__store_close(f->store);
	f->store = NULL;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char     err[256];
	if (f == NULL) {
		return -1;
	}
	if (!sje_test_tmpdir_make(f->dir, sizeof(f->dir), "sje-sched-test") ||
	    sje_config_load(NULL, &f->cfg, err, sizeof(err)) != SJE_OK) {
		free(f);
		return -1;
	}
	f->cfg->executor.lease_s = LEASE_MS / 1000;
	// Failed attempts run again at once, unless a test's spec says
	// otherwise: back-off is random by default.
	free(f->cfg->tasks.retry.backoff);
	f->cfg->tasks.retry.backoff          = strdup("fixed");
	f->cfg->tasks.retry.initial_delay_ms = 0;
	f->cfg->tasks.retry.max_attempts     = 3;
	// Any origins: the monotonic clock is not the wall clock.
	f->clock.mono_ms = 5000000;
	f->clock.unix_ms = 1700000000000;
	f->clk           = fake_clock_of(&f->clock);
	sched_start(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	if (f->sched != NULL) {
		sched_stop(f);
	}
	for (size_t i = 0; i < f->n_calls; i++) {
		tcall_free(f->calls[i]);
	}
	(void) sje_test_tmpdir_remove(f->dir);
	sje_config_free(f->cfg);
	free(f);
	return 0;
}

static void
advance(fixture *f, sje_dur_ms ms)
{
	fake_clock_advance(&f->clock, ms);
}

// ---- leases ----------------------------------------------------------------

static void
test_a_lease_not_heartbeated_for_lease_s_expires_and_the_job_runs_again(
    void **state)
{
	fixture *f = *state;
	submit_one(f, "j1");
	uint64_t w  = worker(f, "w1");
	uint64_t l1 = take(f, w, "j1");

	advance(f, LEASE_MS - 1);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);

	advance(f, 1 + TICK_MS); // past the lease, and a tick
	const Sje__V1__Job *j = status(f, "j1");
	assert_int_equal(j->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(j->attempt, 1);
	assert_int_equal(j->n_attempts, 1);
	assert_int_equal(
	    j->attempts[0]->outcome, SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_non_null(j->attempts[0]->error);
	assert_string_equal(j->attempts[0]->error->type, "lost");

	// It runs again under a new lease; a report on the old one is
	// refused.
	uint64_t l2 = take(f, w, "j1");
	assert_true(l2 != l1);
	assert_int_equal(status(f, "j1")->attempt, 2);
	assert_int_equal(report(f, "Complete", w, "j1", l1, NULL),
	    SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_int_equal(report(f, "Complete", w, "j1", l2, NULL),
	    SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
}

static void
test_a_heartbeat_extends_the_lease(void **state)
{
	fixture *f = *state;
	submit_one(f, "j1");
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "j1");

	advance(f, 2000);
	const Sje__V1__HeartbeatReply *hb = heartbeat(f, w, "j1", l);
	assert_int_equal(hb->n_lost, 0);

	// Past the first lease's end, and a tick: the heartbeat holds it.
	advance(f, 2500);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);

	// Past the heartbeat's lease, and a tick: it runs out.
	advance(f, 500 + TICK_MS);
	const Sje__V1__Job *j = status(f, "j1");
	assert_int_equal(j->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_string_equal(j->attempts[0]->error->type, "lost");
}

// ---- retries, timeouts, delays ------------------------------------------

static void
test_retries_with_back_off_become_due_at_the_right_fake_time_and_not_before(
    void **state)
{
	fixture             *f = *state;
	Sje__V1__RetryPolicy r = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s = spec("j1");
	r.max_attempts         = 3;
	r.backoff              = "fixed";
	r.initial_delay_ms     = 5000;
	s.retry                = &r;
	submit(f, &s, 1);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "j1");

	advance(f, 100);
	assert_int_equal(
	    report(f, "Fail", w, "j1", l, "boom"), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED);

	// A worker waits for it; it is not due until 5000 ms after the
	// failure.
	tcall *held = fetch(f, w, 60000);
	advance(f, 4999);
	round_now(f);
	assert_false(held->answered);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED);

	advance(f, 1);
	round_now(f);
	const Sje__V1__Assignment *a = assigned(held);
	assert_string_equal(a->task_id, "j1");
	assert_int_equal(a->attempt, 2);

	// The second failure waits its 5000 ms again.
	advance(f, 100);
	assert_int_equal(report(f, "Fail", w, "j1", a->lease_id, "boom"),
	    SJE__V1__STATUS_CODE__OK);
	held = fetch(f, w, 60000);
	advance(f, 4999);
	round_now(f);
	assert_false(held->answered);
	advance(f, 1);
	round_now(f);
	assert_int_equal(assigned(held)->attempt, 3);
}

static void
test_a_stored_back_off_is_never_shorter_than_the_wait_it_was(void **state)
{
	fixture             *f = *state;
	Sje__V1__RetryPolicy r = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s = spec("j1");
	r.max_attempts         = 2;
	r.backoff              = "fixed";
	r.initial_delay_ms     = 400;
	s.retry                = &r;
	submit(f, &s, 1);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "j1");
	assert_int_equal(
	    report(f, "Fail", w, "j1", l, "boom"), SJE__V1__STATUS_CODE__OK);

	// Two clocks read in milliseconds disagree by one now and then: the
	// wall clock reads 1 ms behind at the retry. The times stored still
	// show the whole back-off.
	fake_clock_step_wall(&f->clock, -1);
	advance(f, 400);
	take(f, w, "j1");
	const Sje__V1__Job *j = status(f, "j1");
	assert_int_equal(j->n_attempts, 2);
	assert_true(j->attempts[1]->started_at->unix_ms -
	        j->attempts[0]->finished_at->unix_ms >=
	    400);
}

static void
test_a_job_timeout_fails_the_attempt(void **state)
{
	fixture             *f = *state;
	Sje__V1__RetryPolicy r = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s = spec("j1");
	r.max_attempts         = 1;
	s.retry                = &r;
	s.timeout_s            = 2;
	submit(f, &s, 1);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "j1");

	// Its worker heartbeats but does not stop it: the server ends the
	// attempt a lease after the timeout (2000 + 3000 ms).
	for (int i = 0; i < 4; i++) {
		advance(f, 1000);
		heartbeat(f, w, "j1", l);
	}
	advance(f, 999); // 4999 ms
	heartbeat(f, w, "j1", l);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);

	advance(f, 1001); // 6000 ms: past 5000, and a tick
	const Sje__V1__Job *j = status(f, "j1");
	assert_int_equal(j->state, SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_non_null(j->error);
	assert_string_equal(j->error->type, "timeout");
	assert_int_equal(report(f, "Complete", w, "j1", l, NULL),
	    SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
}

static void
test_a_delayed_job_becomes_queued_when_due(void **state)
{
	fixture         *f = *state;
	Sje__V1__JobSpec s = spec("j1");
	s.delay_s          = 10;
	submit(f, &s, 1);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED);
	advance(f, 9999);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED);
	advance(f, 1);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
}

// ---- dependencies ----------------------------------------------------------

static void
test_a_failed_parent_ends_its_children_upstream_failed(void **state)
{
	fixture             *f    = *state;
	Sje__V1__RetryPolicy r    = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s[3] = { spec("p"), spec("c"), spec("g") };
	char                *dp[] = { "p" };
	char                *dc[] = { "c" };
	r.max_attempts            = 1;
	s[0].retry                = &r;
	s[1].depends_on           = dp;
	s[1].n_depends_on         = 1;
	s[2].depends_on           = dc;
	s[2].n_depends_on         = 1;
	submit(f, s, 3);
	assert_int_equal(
	    state_of(f, "c"), SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "p");
	assert_int_equal(
	    report(f, "Fail", w, "p", l, "boom"), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "p"), SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_int_equal(
	    state_of(f, "c"), SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);
	assert_int_equal(
	    state_of(f, "g"), SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);
}

static void
test_a_succeeded_parent_releases_its_children(void **state)
{
	fixture         *f    = *state;
	Sje__V1__JobSpec s[2] = { spec("p"), spec("c") };
	char            *dp[] = { "p" };
	s[1].depends_on       = dp;
	s[1].n_depends_on     = 1;
	submit(f, s, 2);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "p");
	assert_int_equal(
	    state_of(f, "c"), SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	assert_int_equal(
	    report(f, "Complete", w, "p", l, NULL), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "c"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	take(f, w, "c");
}

// ---- cancel ----------------------------------------------------------------

static void
test_cancel_ends_a_queued_job_at_once(void **state)
{
	fixture *f = *state;
	submit_one(f, "j1");
	const Sje__V1__CancelReply *r = cancel(f, "j1");
	assert_int_equal(r->state, SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
	assert_false(r->cancel_requested);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
	// Nothing is left to fetch.
	uint64_t w = worker(f, "w1");
	assert_false(fetch(f, w, 1000)->answered);
}

static void
test_cancel_of_a_running_job_reaches_its_worker_and_ends_it_cancelled(
    void **state)
{
	fixture *f = *state;
	submit_one(f, "j1");
	uint64_t                    w = worker(f, "w1");
	uint64_t                    l = take(f, w, "j1");
	const Sje__V1__CancelReply *r = cancel(f, "j1");
	assert_int_equal(r->state, SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_true(r->cancel_requested);

	const Sje__V1__HeartbeatReply *hb = heartbeat(f, w, "j1", l);
	assert_int_equal(hb->n_cancel, 1);
	assert_string_equal(hb->cancel[0], "j1");
	assert_int_equal(report(f, "Fail", w, "j1", l, "cancelled"),
	    SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
}

// ---- restart
// ----------------------------------------------------------------

static void
test_restart_keeps_running_leases_for_lease_s_from_the_reopen_and_dispatches_queued_jobs(
    void **state)
{
	fixture *f = *state;
	submit_one(f, "a");
	submit_one(f, "b");
	uint64_t w = worker(f, "w1");
	take(f, w, "a");

	// The coordinator stops 2000 ms into a's lease and comes back on a
	// machine whose monotonic clock starts elsewhere.
	advance(f, 2000);
	sched_stop(f);
	f->clock.mono_ms = 42;
	advance(f, 10);
	sched_start(f);

	// Past a's lease as first given, and a tick: a is still RUNNING,
	// for lease_s from the reopen; b is dispatched.
	advance(f, 1500);
	assert_int_equal(
	    state_of(f, "a"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	uint64_t w2 = worker(f, "w1");
	take(f, w2, "b");

	advance(f, LEASE_MS - 1500 + TICK_MS);
	const Sje__V1__Job *j = status(f, "a");
	assert_int_equal(j->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_string_equal(j->attempts[0]->error->type, "lost");
}

// ---- clocks and held calls -----------------------------------------------

static void
test_a_wall_clock_step_expires_nothing(void **state)
{
	fixture         *f = *state;
	Sje__V1__JobSpec s = spec("later");
	s.delay_s          = 10;
	submit(f, &s, 1);
	submit_one(f, "j1");
	uint64_t w    = worker(f, "w1");
	uint64_t l    = take(f, w, "j1");
	tcall   *held = fetch(f, w, 5000);
	assert_false(held->answered);

	// The wall clock jumps an hour ahead while a tick's time passes.
	fake_clock_step_wall(&f->clock, 3600 * 1000);
	advance(f, TICK_MS);
	round_now(f);
	assert_false(held->answered);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_int_equal(
	    state_of(f, "later"), SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED);
	assert_int_equal(heartbeat(f, w, "j1", l)->n_lost, 0);

	// And back: still nothing.
	fake_clock_step_wall(&f->clock, -2 * 3600 * 1000);
	advance(f, TICK_MS);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_false(held->answered);
}

static void
test_a_held_fetch_is_answered_empty_at_its_deadline_and_not_before(
    void **state)
{
	fixture *f     = *state;
	uint64_t w     = worker(f, "w1");
	tcall   *long_ = fetch(f, w, 3000);
	tcall   *held  = fetch(f, w, 1000);
	advance(f, 999);
	round_now(f);
	assert_false(held->answered);
	advance(f, 1);
	round_now(f);
	assert_true(held->answered);
	assert_int_equal(held->code, 0);
	assert_int_equal(((Sje__V1__FetchReply *) held->out)->n_jobs, 0);
	assert_false(long_->answered);
	advance(f, 2000);
	round_now(f);
	assert_true(long_->answered);
}

static void
test_a_held_list_events_call_is_answered_when_events_commit(void **state)
{
	fixture                   *f   = *state;
	Sje__V1__ListEventsRequest req = SJE__V1__LIST_EVENTS_REQUEST__INIT;
	req.from_now                   = true;
	req.wait_ms                    = 60000;
	tcall                     *c = post(f, coord, "ListEvents", &req.base);
	Sje__V1__ListEventsRequest other = SJE__V1__LIST_EVENTS_REQUEST__INIT;
	other.from_now                   = true;
	other.wait_ms                    = 60000;
	other.task_id                    = "someone-else";
	tcall *o = post(f, coord, "ListEvents", &other.base);
	round_now(f);
	assert_false(c->answered);

	submit_one(f, "j1");
	assert_true(c->answered);
	const Sje__V1__ListEventsReply *r =
	    (const Sje__V1__ListEventsReply *) c->out;
	assert_int_equal(r->n_events, 1);
	assert_string_equal(r->events[0]->task_id, "j1");
	// A call for another job's events waits on.
	assert_false(o->answered);
}

// fetch_reporting posts a Fetch for one job that carries one outcome of
// id under lease (a Fail with error type type, or a Complete when type is
// NULL), held up to 1 s, and runs a round.
static tcall *
fetch_reporting(fixture *f, uint64_t session, const char *id, uint64_t lease,
    const char *type)
{
	Sje__V1__JobOutcome o = SJE__V1__JOB_OUTCOME__INIT;
	Sje__V1__JobError   e = SJE__V1__JOB_ERROR__INIT;
	o.task_id             = (char *) id;
	o.lease_id            = lease;
	if (type != NULL) {
		e.type  = (char *) type;
		o.error = &e;
	}
	Sje__V1__JobOutcome  *op  = &o;
	Sje__V1__FetchRequest req = SJE__V1__FETCH_REQUEST__INIT;
	req.session               = session;
	req.max_jobs              = 1;
	req.wait_ms               = 1000;
	req.outcomes              = &op;
	req.n_outcomes            = 1;
	tcall *c                  = post(f, hub, "Fetch", &req.base);
	round_now(f);
	return c;
}

static void
test_registration_says_the_coordinator_takes_outcomes_in_fetch(void **state)
{
	fixture                 *f      = *state;
	char                    *fns[]  = { "f" };
	Sje__V1__RegisterRequest req    = SJE__V1__REGISTER_REQUEST__INIT;
	req.name                        = "w1";
	req.functions                   = fns;
	req.n_functions                 = 1;
	req.slots                       = 1;
	const Sje__V1__RegisterReply *r = (const Sje__V1__RegisterReply *) ok(
	    f, post(f, hub, "RegisterWorker", &req.base));
	assert_true(r->fetch_reports);
}

static void
test_a_fetch_carrying_a_success_ends_the_job_and_takes_the_next_in_one_call(
    void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	submit_one(f, "j1");
	submit_one(f, "j2");
	uint64_t lease = take(f, w, "j1");

	tcall *c = fetch_reporting(f, w, "j1", lease, NULL);
	assert_true(c->answered);
	assert_int_equal(c->code, 0);
	const Sje__V1__FetchReply *r = (const Sje__V1__FetchReply *) c->out;
	assert_int_equal(r->n_accepted, 1);
	assert_int_equal(r->accepted[0], SJE__V1__STATUS_CODE__OK);
	assert_int_equal(r->n_jobs, 1);
	assert_string_equal(r->jobs[0]->task_id, "j2");
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_int_equal(
	    state_of(f, "j2"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
}

static void
test_a_fetch_carrying_a_failure_fails_the_attempt(void **state)
{
	fixture             *f = *state;
	Sje__V1__RetryPolicy r = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s = spec("j1");
	r.max_attempts         = 1;
	s.retry                = &r;
	submit(f, &s, 1);
	uint64_t w     = worker(f, "w1");
	uint64_t lease = take(f, w, "j1");

	tcall *c = fetch_reporting(f, w, "j1", lease, "boom");
	// Nothing else is ready (no attempt left): the call is held, and
	// its answers come with it at the deadline.
	assert_false(c->answered);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	advance(f, 1000);
	round_now(f);
	assert_true(c->answered);
	const Sje__V1__FetchReply *rep = (const Sje__V1__FetchReply *) c->out;
	assert_int_equal(rep->n_jobs, 0);
	assert_int_equal(rep->n_accepted, 1);
	assert_int_equal(rep->accepted[0], SJE__V1__STATUS_CODE__OK);
}

static void
test_a_fetch_carrying_a_stale_outcome_is_refused_for_it_and_changes_nothing(
    void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	submit_one(f, "j1");
	uint64_t lease = take(f, w, "j1");

	tcall *c = fetch_reporting(f, w, "j1", lease + 1, NULL);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	advance(f, 1000);
	round_now(f);
	assert_true(c->answered);
	const Sje__V1__FetchReply *r = (const Sje__V1__FetchReply *) c->out;
	assert_int_equal(r->n_accepted, 1);
	assert_int_equal(
	    r->accepted[0], SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
}

// submit_waiting posts a Submit of one job that waits up to wait_ms, and
// runs a round.
static tcall *
submit_waiting(fixture *f, const char *id, uint32_t wait_ms)
{
	Sje__V1__JobSpec       sp  = spec(id);
	Sje__V1__JobSpec      *p   = &sp;
	Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
	req.jobs                   = &p;
	req.n_jobs                 = 1;
	req.wait_ms                = wait_ms;
	tcall *c                   = post(f, coord, "Submit", &req.base);
	round_now(f);
	return c;
}

static void
test_a_submit_with_wait_ms_is_answered_when_its_job_ends_with_its_record(
    void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	tcall   *c = submit_waiting(f, "j1", 5000);
	assert_false(c->answered);
	uint64_t lease = take(f, w, "j1");
	assert_false(c->answered);
	assert_int_equal(report(f, "Complete", w, "j1", lease, NULL),
	    SJE__V1__STATUS_CODE__OK);
	assert_true(c->answered);
	assert_int_equal(c->code, 0);
	const Sje__V1__SubmitReply *r = (const Sje__V1__SubmitReply *) c->out;
	assert_int_equal(r->n_results, 1);
	assert_string_equal(r->results[0]->task_id, "j1");
	assert_true(r->results[0]->created);
	assert_int_equal(
	    r->results[0]->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_true(r->done);
	assert_int_equal(r->n_jobs, 1);
	assert_int_equal(
	    r->jobs[0]->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
}

static void
test_a_submit_with_wait_ms_is_answered_not_done_at_its_deadline(void **state)
{
	fixture *f = *state;
	tcall   *c = submit_waiting(f, "j1", 2000);
	advance(f, 1999);
	round_now(f);
	assert_false(c->answered);
	advance(f, 1);
	round_now(f);
	assert_true(c->answered);
	assert_int_equal(c->code, 0);
	const Sje__V1__SubmitReply *r = (const Sje__V1__SubmitReply *) c->out;
	assert_false(r->done);
	assert_int_equal(r->n_results, 1);
	assert_int_equal(
	    r->results[0]->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(r->n_jobs, 1);
}

static void
test_a_submit_without_wait_ms_carries_no_records(void **state)
{
	fixture *f = *state;
	tcall   *c = submit_waiting(f, "j1", 0);
	assert_true(c->answered);
	const Sje__V1__SubmitReply *r = (const Sje__V1__SubmitReply *) c->out;
	assert_int_equal(r->n_results, 1);
	assert_int_equal(r->n_jobs, 0);
	assert_false(r->done);
}

// wait_for posts a Wait for the ids (n of them) held up to timeout_ms and
// runs a round.
static tcall *
wait_for(fixture *f, char **ids, size_t n, uint32_t timeout_ms)
{
	Sje__V1__WaitRequest req = SJE__V1__WAIT_REQUEST__INIT;
	req.task_ids             = ids;
	req.n_task_ids           = n;
	req.timeout_ms           = timeout_ms;
	tcall *c                 = post(f, coord, "Wait", &req.base);
	round_now(f);
	return c;
}

static void
test_a_wait_naming_an_unknown_job_is_refused_not_found_held_or_not(
    void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	submit_one(f, "done");
	submit_one(f, "open");
	uint64_t lease = take(f, w, "done");
	assert_int_equal(report(f, "Complete", w, "done", lease, NULL),
	    SJE__V1__STATUS_CODE__OK);

	char  *finished[] = { "done", "nope" };
	tcall *now        = wait_for(f, finished, 2, 1000);
	assert_true(now->answered);
	assert_int_equal(now->code, SJE__V1__STATUS_CODE__NOT_FOUND);
	assert_non_null(strstr(now->message, "nope"));

	char  *mixed[] = { "open", "nope" };
	tcall *held    = wait_for(f, mixed, 2, 1000);
	assert_true(held->answered);
	assert_int_equal(held->code, SJE__V1__STATUS_CODE__NOT_FOUND);
	assert_non_null(strstr(held->message, "nope"));

	// A finished job beside an open one: found in the store, held.
	char  *known[] = { "done", "open" };
	tcall *waits   = wait_for(f, known, 2, 1000);
	assert_false(waits->answered);

	// Every job known and finished: answered at once, done.
	char  *one[] = { "done" };
	tcall *ok1   = wait_for(f, one, 1, 1000);
	assert_true(ok1->answered);
	assert_int_equal(ok1->code, 0);
	assert_true(((Sje__V1__WaitReply *) ok1->out)->done);
	assert_int_equal(((Sje__V1__WaitReply *) ok1->out)->n_jobs, 1);
}

// ---- operators: re-run, delete, pause, explain
// ------------------------------

// answered runs a round and returns c's status code.
static int
answered(fixture *f, tcall *c)
{
	round_now(f);
	assert_true(c->answered);
	return c->code;
}

static tcall *
retry_call(fixture *f, const char *id, bool descendants)
{
	Sje__V1__RetryRequest req = SJE__V1__RETRY_REQUEST__INIT;
	req.task_id               = (char *) id;
	req.descendants           = descendants;
	return post(f, coord, "Retry", &req.base);
}

static tcall *
delete_call(fixture *f, const char *id)
{
	Sje__V1__DeleteJobRequest req = SJE__V1__DELETE_JOB_REQUEST__INIT;
	req.task_id                   = (char *) id;
	return post(f, coord, "DeleteJob", &req.base);
}

static const Sje__V1__ExplainReply *
explain(fixture *f, const char *id)
{
	Sje__V1__ExplainRequest req = SJE__V1__EXPLAIN_REQUEST__INIT;
	req.task_id                 = (char *) id;
	return (const Sje__V1__ExplainReply *) ok(
	    f, post(f, coord, "Explain", &req.base));
}

// has_reason is the reason of r with code, or NULL.
static const Sje__V1__Reason *
has_reason(const Sje__V1__ExplainReply *r, const char *code)
{
	for (size_t i = 0; i < r->n_reasons; i++) {
		if (strcmp(r->reasons[i]->code, code) == 0) {
			return r->reasons[i];
		}
	}
	return NULL;
}

static const Sje__V1__FunctionInfo *
set_pause(fixture *f, const char *fn, Sje__V1__PauseChange change)
{
	Sje__V1__SetFunctionRequest req = SJE__V1__SET_FUNCTION_REQUEST__INIT;
	req.name                        = (char *) fn;
	req.pause                       = change;
	return (const Sje__V1__FunctionInfo *) ok(
	    f, post(f, coord, "SetFunction", &req.base));
}

// function_info is function fn as ListFunctions shows it, or NULL.
static const Sje__V1__FunctionInfo *
function_info(fixture *f, const char *fn)
{
	Sje__V1__ListFunctionsRequest req =
	    SJE__V1__LIST_FUNCTIONS_REQUEST__INIT;
	const Sje__V1__ListFunctionsReply *r =
	    (const Sje__V1__ListFunctionsReply *) ok(
	        f, post(f, coord, "ListFunctions", &req.base));
	for (size_t i = 0; i < r->n_functions; i++) {
		if (strcmp(r->functions[i]->name, fn) == 0) {
			return r->functions[i];
		}
	}
	return NULL;
}

// fail_once submits id with one attempt and fails it on worker w.
static void
fail_once(fixture *f, uint64_t w, const char *id)
{
	Sje__V1__RetryPolicy r = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s = spec(id);
	r.max_attempts         = 1;
	s.retry                = &r;
	submit(f, &s, 1);
	uint64_t l = take(f, w, id);
	assert_int_equal(
	    report(f, "Fail", w, id, l, "boom"), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, id), SJE__V1__JOB_STATE__JOB_STATE_FAILED);
}

static void
test_retry_runs_a_failed_job_again_as_a_new_attempt_with_its_history_kept(
    void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	fail_once(f, w, "j1");

	const Sje__V1__RetryReply *r =
	    (const Sje__V1__RetryReply *) ok(f, retry_call(f, "j1", false));
	assert_string_equal(r->task_id, "j1");
	assert_int_equal(r->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(r->n_descendants, 0);
	const Sje__V1__Job *j = status(f, "j1");
	assert_int_equal(j->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_null(j->error);
	assert_null(j->finished_at);
	assert_int_equal(j->max_attempts, 2); // one more than it had run

	const Sje__V1__Assignment *a = assigned(fetch(f, w, 1000));
	assert_string_equal(a->task_id, "j1");
	assert_int_equal(a->attempt, 2);
	assert_int_equal(report(f, "Complete", w, "j1", a->lease_id, NULL),
	    SJE__V1__STATUS_CODE__OK);
	j = status(f, "j1");
	assert_int_equal(j->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_int_equal(j->n_attempts, 2);
	assert_int_equal(
	    j->attempts[0]->outcome, SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_int_equal(
	    j->attempts[1]->outcome, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
}

static void
test_retry_with_descendants_reruns_a_failed_middle_step_and_what_it_failed(
    void **state)
{
	fixture             *f   = *state;
	Sje__V1__RetryPolicy one = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec s[4] = { spec("a"), spec("b"), spec("c"), spec("d") };
	char            *da[] = { "a" };
	char            *db[] = { "b" };
	char            *dc[] = { "c" };
	one.max_attempts      = 1;
	s[1].retry            = &one;
	s[1].depends_on       = da;
	s[1].n_depends_on     = 1;
	s[2].depends_on       = db;
	s[2].n_depends_on     = 1;
	s[3].depends_on       = dc;
	s[3].n_depends_on     = 1;
	submit(f, s, 4);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "a");
	assert_int_equal(
	    report(f, "Complete", w, "a", l, NULL), SJE__V1__STATUS_CODE__OK);
	l = take(f, w, "b");
	assert_int_equal(
	    report(f, "Fail", w, "b", l, "boom"), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "d"), SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);

	// b and, with it, the two it failed; a, which succeeded, stays.
	const Sje__V1__RetryReply *r =
	    (const Sje__V1__RetryReply *) ok(f, retry_call(f, "b", true));
	assert_int_equal(r->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(r->n_descendants, 2);
	assert_string_equal(r->descendants[0]->task_id, "c");
	assert_int_equal(
	    r->descendants[0]->state, SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	assert_string_equal(r->descendants[1]->task_id, "d");
	assert_int_equal(
	    state_of(f, "d"), SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	assert_int_equal(
	    state_of(f, "a"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);

	l = take(f, w, "b");
	assert_int_equal(
	    report(f, "Complete", w, "b", l, NULL), SJE__V1__STATUS_CODE__OK);
	l = take(f, w, "c");
	assert_int_equal(
	    report(f, "Complete", w, "c", l, NULL), SJE__V1__STATUS_CODE__OK);
	l = take(f, w, "d");
	assert_int_equal(
	    report(f, "Complete", w, "d", l, NULL), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "d"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
}

static void
test_retry_refuses_a_running_or_succeeded_job_a_failed_parent_and_an_unknown_id(
    void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	submit_one(f, "run");
	uint64_t l = take(f, w, "run");
	tcall   *c = retry_call(f, "run", false);
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_non_null(strstr(c->message, "RUNNING"));
	assert_int_equal(report(f, "Complete", w, "run", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	assert_int_equal(answered(f, retry_call(f, "run", false)),
	    SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_int_equal(answered(f, retry_call(f, "nosuch", false)),
	    SJE__V1__STATUS_CODE__NOT_FOUND);

	// A child whose parent failed: re-run the parent, not the child.
	Sje__V1__RetryPolicy one  = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s[2] = { spec("p"), spec("kid") };
	char                *dp[] = { "p" };
	one.max_attempts          = 1;
	s[0].retry                = &one;
	s[1].depends_on           = dp;
	s[1].n_depends_on         = 1;
	submit(f, s, 2);
	l = take(f, w, "p");
	assert_int_equal(
	    report(f, "Fail", w, "p", l, "boom"), SJE__V1__STATUS_CODE__OK);
	c = retry_call(f, "kid", false);
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_non_null(strstr(c->message, "'p' is FAILED"));
	assert_int_equal(
	    state_of(f, "kid"), SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);
}

static void
test_a_rerun_job_is_still_queued_after_a_restart(void **state)
{
	fixture *f = *state;
	uint64_t w = worker(f, "w1");
	fail_once(f, w, "j1");
	ok(f, retry_call(f, "j1", false));
	sched_stop(f);
	sched_start(f);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	uint64_t w2 = worker(f, "w1");
	take(f, w2, "j1");
}

static void
test_delete_removes_a_finished_job_and_refuses_an_unfinished_one(void **state)
{
	fixture *f = *state;
	submit_one(f, "j1");
	tcall *c = delete_call(f, "j1");
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_non_null(strstr(c->message, "QUEUED"));
	cancel(f, "j1");
	const Sje__V1__DeleteJobReply *r =
	    (const Sje__V1__DeleteJobReply *) ok(f, delete_call(f, "j1"));
	assert_int_equal(r->deleted, 1);
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	req.task_id                   = "j1";
	assert_int_equal(answered(f, post(f, coord, "GetStatus", &req.base)),
	    SJE__V1__STATUS_CODE__NOT_FOUND);
	assert_int_equal(answered(f, delete_call(f, "j1")),
	    SJE__V1__STATUS_CODE__NOT_FOUND);
	// The id is free again.
	submit_one(f, "j1");
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
}

static void
test_delete_refuses_a_parent_whose_child_has_not_started(void **state)
{
	fixture         *f     = *state;
	Sje__V1__JobSpec s[3]  = { spec("p"), spec("q"), spec("kid") };
	char            *dpq[] = { "p", "q" };
	s[2].depends_on        = dpq;
	s[2].n_depends_on      = 2;
	submit(f, s, 3);
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "p");
	assert_int_equal(
	    report(f, "Complete", w, "p", l, NULL), SJE__V1__STATUS_CODE__OK);
	tcall *c = delete_call(f, "p");
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__FAILED_PRECONDITION);
	assert_non_null(strstr(c->message, "'kid'"));
	assert_int_equal(
	    state_of(f, "p"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
}

static void
test_a_paused_function_starts_nothing_until_resumed_even_across_a_restart(
    void **state)
{
	fixture                     *f = *state;
	const Sje__V1__FunctionInfo *fi =
	    set_pause(f, "f", SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_PAUSE);
	assert_true(fi->paused);
	submit_one(f, "j1"); // submits are still taken
	uint64_t w = worker(f, "w1");
	assert_false(fetch(f, w, 1000)->answered);
	fi = function_info(f, "f");
	assert_non_null(fi);
	assert_true(fi->paused);
	assert_int_equal(fi->queued, 1);
	assert_int_equal(fi->n_workers, 1);
	assert_string_equal(fi->workers[0], "w1");
	assert_non_null(has_reason(explain(f, "j1"), "FUNCTION_PAUSED"));

	sched_stop(f);
	sched_start(f);
	w           = worker(f, "w1");
	tcall *held = fetch(f, w, 5000);
	assert_false(held->answered);
	assert_true(function_info(f, "f")->paused);

	fi = set_pause(f, "f", SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_RESUME);
	assert_false(fi->paused);
	round_now(f);
	assert_true(held->answered);
	assert_string_equal(assigned(held)->task_id, "j1");
}

static void
test_set_function_refuses_a_bad_name(void **state)
{
	fixture                    *f   = *state;
	Sje__V1__SetFunctionRequest req = SJE__V1__SET_FUNCTION_REQUEST__INIT;
	req.name                        = "no spaces";
	req.pause = SJE__V1__PAUSE_CHANGE__PAUSE_CHANGE_PAUSE;
	assert_int_equal(answered(f, post(f, coord, "SetFunction", &req.base)),
	    SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
}

static void
test_explain_gives_the_reason_for_each_state(void **state)
{
	fixture         *f    = *state;
	Sje__V1__JobSpec s[3] = { spec("p"), spec("kid"), spec("later") };
	char            *dp[] = { "p" };
	s[1].depends_on       = dp;
	s[1].n_depends_on     = 1;
	s[2].delay_s          = 60;
	submit(f, s, 3);

	// Nobody serves f yet.
	const Sje__V1__ExplainReply *e = explain(f, "p");
	assert_int_equal(e->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_non_null(has_reason(e, "NO_WORKER"));

	e                        = explain(f, "kid");
	const Sje__V1__Reason *r = has_reason(e, "WAITING_ON_PARENTS");
	assert_non_null(r);
	assert_int_equal(r->n_parents, 1);
	assert_string_equal(r->parents[0]->task_id, "p");
	assert_int_equal(
	    r->parents[0]->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);

	e = explain(f, "later");
	r = has_reason(e, "SCHEDULED");
	assert_non_null(r);
	assert_non_null(r->until);
	assert_int_equal(r->until->unix_ms, f->clock.unix_ms + 60000);

	uint64_t w = worker(f, "w1");
	submit_one(f, "q");
	e = explain(f, "q"); // behind p, with a worker
	r = has_reason(e, "WAITING_FOR_SLOT");
	assert_non_null(r);
	assert_int_equal(r->ahead, 1);

	uint64_t l = take(f, w, "p");
	advance(f, 500);
	heartbeat(f, w, "p", l);
	e = explain(f, "p");
	r = has_reason(e, "LEASED");
	assert_non_null(r);
	assert_string_equal(r->worker, "w1");
	assert_int_equal(r->attempt, 1);
	assert_non_null(r->last_heartbeat);
	assert_int_equal(r->last_heartbeat->unix_ms, f->clock.unix_ms);

	assert_int_equal(
	    report(f, "Complete", w, "p", l, NULL), SJE__V1__STATUS_CODE__OK);
	e = explain(f, "p");
	assert_non_null(has_reason(e, "FINISHED"));
	assert_null(has_reason(e, "CAN_RETRY"));
	Sje__V1__ExplainRequest nosuch = SJE__V1__EXPLAIN_REQUEST__INIT;
	nosuch.task_id                 = "nosuch";
	assert_int_equal(answered(f, post(f, coord, "Explain", &nosuch.base)),
	    SJE__V1__STATUS_CODE__NOT_FOUND);
}

static uint64_t
waiting_for_workers(fixture *f)
{
	round_now(f);
	Sje__V1__StatsRequest      req = SJE__V1__STATS_REQUEST__INIT;
	const Sje__V1__StatsReply *r   = (const Sje__V1__StatsReply *) ok(
	      f, post(f, coord, "Stats", &req.base));
	return r->functions_waiting_for_workers;
}

static void
test_jobs_no_live_worker_serves_for_unserved_warn_s_are_counted_until_served(
    void **state)
{
	fixture *f = *state;
	submit_one(f, "j1"); // function f: nobody serves it yet
	advance(f, TICK_MS);
	assert_int_equal(waiting_for_workers(f), 0);
	advance(f, (sje_dur_ms) f->cfg->tasks.unserved_warn_s * 1000);
	assert_int_equal(waiting_for_workers(f), 1);
	uint64_t w = worker(f, "w1");
	advance(f, TICK_MS);
	assert_int_equal(waiting_for_workers(f), 0);
	take(f, w, "j1");
}

static const Sje__V1__FunctionInfo *
set_limits(
    fixture *f, const char *fn, bool set_conc, uint32_t conc, const char *rate)
{
	Sje__V1__SetFunctionRequest req = SJE__V1__SET_FUNCTION_REQUEST__INIT;
	req.name                        = (char *) fn;
	req.set_concurrency             = set_conc;
	req.concurrency                 = conc;
	req.set_rate                    = rate != NULL;
	req.rate                        = (char *) (rate != NULL ? rate : "");
	return (const Sje__V1__FunctionInfo *) ok(
	    f, post(f, coord, "SetFunction", &req.base));
}

// fetch_n posts a Fetch for up to max jobs, held up to wait_ms, and runs
// a round.
static tcall *
fetch_n(fixture *f, uint64_t session, uint32_t max, uint32_t wait_ms)
{
	Sje__V1__FetchRequest req = SJE__V1__FETCH_REQUEST__INIT;
	req.session               = session;
	req.max_jobs              = max;
	req.wait_ms               = wait_ms;
	tcall *c                  = post(f, hub, "Fetch", &req.base);
	round_now(f);
	return c;
}

static size_t
n_fetched(const tcall *c)
{
	assert_true(c->answered);
	assert_int_equal(c->code, 0);
	return ((const Sje__V1__FetchReply *) c->out)->n_jobs;
}

static void
test_a_concurrency_limit_holds_jobs_back_until_a_running_one_ends(void **state)
{
	fixture                     *f  = *state;
	const Sje__V1__FunctionInfo *fi = set_limits(f, "f", true, 2, NULL);
	assert_int_equal(fi->concurrency, 2);
	for (int i = 0; i < 4; i++) {
		char id[8];
		snprintf(id, sizeof(id), "c%d", i);
		submit_one(f, id);
	}
	uint64_t w = worker(f, "w1"); // 4 slots
	tcall   *c = fetch_n(f, w, 4, 1000);
	assert_int_equal(n_fetched(c), 2);
	const Sje__V1__FetchReply *r = (const Sje__V1__FetchReply *) c->out;
	fi                           = function_info(f, "f");
	assert_int_equal(fi->running, 2);
	assert_int_equal(fi->queued, 2);
	const Sje__V1__Reason *why =
	    has_reason(explain(f, "c2"), "CONCURRENCY_LIMIT");
	assert_non_null(why);
	assert_int_equal(why->limit, 2);
	assert_int_equal(why->current, 2);

	tcall *more = fetch_n(f, w, 4, 5000);
	assert_false(more->answered); // held: the limit is reached
	assert_int_equal(report(f, "Complete", w, r->jobs[0]->task_id,
	                     r->jobs[0]->lease_id, NULL),
	    SJE__V1__STATUS_CODE__OK);
	round_now(f);
	assert_int_equal(n_fetched(more), 1); // one ended, one starts
	assert_int_equal(function_info(f, "f")->running, 2);

	// Lifted at run time, and so across a restart.
	set_limits(f, "f", true, 0, NULL);
	sched_stop(f);
	sched_start(f);
	fi = function_info(f, "f");
	assert_int_equal(fi->concurrency, 0);
}

static void
test_a_rate_limit_spaces_the_starts_by_the_fake_clock(void **state)
{
	fixture *f = *state;
	assert_string_equal(set_limits(f, "f", false, 0, "2/s")->rate, "2/s");
	for (int i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof(id), "r%d", i);
		submit_one(f, id);
	}
	uint64_t w = worker(f, "w1");
	assert_int_equal(n_fetched(fetch_n(f, w, 4, 1000)), 1);
	tcall *next = fetch_n(f, w, 4, 5000);
	assert_false(next->answered);
	const Sje__V1__Reason *why =
	    has_reason(explain(f, "r1"), "RATE_LIMIT");
	assert_non_null(why);
	assert_string_equal(why->rate, "2/s");
	advance(f, 490);
	round_now(f);
	assert_false(next->answered); // not before 500 ms
	advance(f, 20);
	round_now(f);
	assert_int_equal(n_fetched(next), 1);

	// Kept across a restart; a bad rate is refused and changes nothing.
	sched_stop(f);
	sched_start(f);
	assert_string_equal(function_info(f, "f")->rate, "2/s");
	Sje__V1__SetFunctionRequest req = SJE__V1__SET_FUNCTION_REQUEST__INIT;
	req.name                        = "f";
	req.set_rate                    = true;
	req.rate                        = "fast";
	tcall *bad = post(f, coord, "SetFunction", &req.base);
	assert_int_equal(
	    answered(f, bad), SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_string_equal(function_info(f, "f")->rate, "2/s");
}

// worker_labelled registers a worker called name that serves "f" with one
// label k=v; returns its session.
static uint64_t
worker_labelled(fixture *f, const char *name, const char *k, const char *v)
{
	char                    *fns[] = { "f" };
	Sje__V1__RegisterRequest req   = SJE__V1__REGISTER_REQUEST__INIT;
	Sje__V1__RegisterRequest__LabelsEntry e =
	    SJE__V1__REGISTER_REQUEST__LABELS_ENTRY__INIT;
	Sje__V1__RegisterRequest__LabelsEntry *ep = &e;
	e.key                                     = (char *) k;
	e.value                                   = (char *) v;
	req.name                                  = (char *) name;
	req.functions                             = fns;
	req.n_functions                           = 1;
	req.slots                                 = 4;
	req.labels                                = &ep;
	req.n_labels                              = 1;
	const Sje__V1__RegisterReply *r = (const Sje__V1__RegisterReply *) ok(
	    f, post(f, hub, "RegisterWorker", &req.base));
	return r->session;
}

static void
test_a_job_that_requires_labels_goes_only_to_a_worker_that_has_them(
    void **state)
{
	fixture         *f    = *state;
	Sje__V1__JobSpec s[2] = { spec("gpu-job"), spec("any-job") };
	Sje__V1__JobSpec__RequiresEntry r =
	    SJE__V1__JOB_SPEC__REQUIRES_ENTRY__INIT;
	Sje__V1__JobSpec__RequiresEntry *rp = &r;
	r.key                               = "gpu";
	r.value                             = "true";
	s[0].requires                       = &rp;
	s[0].n_requires                     = 1;
	s[0].priority = 5; // first in line, but not for every worker
	submit(f, s, 2);

	uint64_t cpu = worker_labelled(f, "cpu", "gpu", "false");
	const Sje__V1__ExplainReply *e   = explain(f, "gpu-job");
	const Sje__V1__Reason       *why = has_reason(e, "NO_MATCHING_WORKER");
	assert_non_null(why);
	assert_int_equal(why->n_requires, 1);
	assert_string_equal(why->requires[0] -> key, "gpu");
	assert_string_equal(
	    status(f, "gpu-job")->requires[0] -> value, "true");

	// The worker without the label passes the job by and takes the next.
	take(f, cpu, "any-job");
	assert_false(fetch(f, cpu, 1000)->answered);
	uint64_t gpu = worker_labelled(f, "gpu", "gpu", "true");
	take(f, gpu, "gpu-job");
}

// ---- schedules -----------------------------------------------------------

// use_config restarts the scheduler on config text yaml (with the
// fixture's lease and retry settings).
static void
use_config(fixture *f, const char *yaml)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/test.yaml", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(yaml, fp);
	fclose(fp);
	sched_stop(f);
	sje_config *cfg = NULL;
	char        err[512];
	if (sje_config_load(path, &cfg, err, sizeof(err)) != SJE_OK) {
		fail_msg("%s", err);
	}
	cfg->executor.lease_s = LEASE_MS / 1000;
	sje_config_free(f->cfg);
	f->cfg = cfg;
	sched_start(f);
}

// job_exists is true when a job id is stored.
static bool
job_exists(fixture *f, const char *id)
{
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	req.task_id                   = (char *) id;
	return answered(f, post(f, coord, "GetStatus", &req.base)) == 0;
}

static const Sje__V1__ScheduleInfo *
schedule_info(fixture *f, size_t i)
{
	Sje__V1__ListSchedulesRequest req =
	    SJE__V1__LIST_SCHEDULES_REQUEST__INIT;
	const Sje__V1__ListSchedulesReply *r =
	    (const Sje__V1__ListSchedulesReply *) ok(
	        f, post(f, coord, "ListSchedules", &req.base));
	assert_true(i < r->n_schedules);
	return r->schedules[i];
}

// The fake wall clock starts at 2023-11-14T22:13:20Z (1700000000 s).

static void
test_an_interval_schedule_fires_each_tick_once_even_across_a_restart(
    void **state)
{
	fixture *f = *state;
	use_config(f,
	    "schedules:\n"
	    "  - {name: sweep, every_s: 10, function: f, "
	    "params: {deep: true}}\n");
	const Sje__V1__ScheduleInfo *si = schedule_info(f, 0);
	assert_string_equal(si->name, "sweep");
	assert_int_equal(si->every_s, 10);
	assert_null(si->last_at);
	assert_int_equal(si->next_at->unix_ms, 1700000010000);
	advance(f, 9000);
	round_now(f);
	assert_false(job_exists(f, "sweep:20231114T221330Z"));
	advance(f, 1000);
	round_now(f);
	const Sje__V1__Job *j = status(f, "sweep:20231114T221330Z");
	assert_string_equal(j->function, "f");
	assert_string_equal(j->params->text, "{\"deep\":true}");
	assert_string_equal(j->labels[0]->key, "schedule");
	assert_string_equal(j->labels[0]->value, "sweep");
	si = schedule_info(f, 0);
	assert_int_equal(si->last_at->unix_ms, 1700000010000);
	assert_string_equal(si->last_task_id, "sweep:20231114T221330Z");

	// Run it, restart at once: the tick is not fired again.
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "sweep:20231114T221330Z");
	assert_int_equal(
	    report(f, "Complete", w, "sweep:20231114T221330Z", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	sched_stop(f);
	sched_start(f);
	round_now(f);
	assert_int_equal(schedule_info(f, 0)->last_at->unix_ms, 1700000010000);
	advance(f, 10000);
	round_now(f);
	assert_true(job_exists(f, "sweep:20231114T221340Z"));
	assert_false(job_exists(f, "sweep:20231114T221350Z"));
}

static void
test_a_cron_schedule_runs_the_latest_missed_tick_once_with_run_once(
    void **state)
{
	fixture *f = *state;
	use_config(f,
	    "schedules:\n"
	    "  - {name: five, cron: \"*/5 * * * *\", function: f, "
	    "missed: run_once, overlap: allow}\n");
	// 22:13:20 -> the 22:15 tick.
	assert_int_equal(schedule_info(f, 0)->next_at->unix_ms, 1700000100000);
	advance(f, 100000);
	round_now(f);
	assert_true(job_exists(f, "five:20231114T221500Z"));

	// Down from 22:15:00 to 22:32:00: 22:20, 22:25 and 22:30 missed.
	sched_stop(f);
	advance(f, 17 * 60000);
	sched_start(f);
	round_now(f);
	assert_false(job_exists(f, "five:20231114T222000Z"));
	assert_false(job_exists(f, "five:20231114T222500Z"));
	assert_true(job_exists(f, "five:20231114T223000Z"));
	assert_int_equal(
	    schedule_info(f, 0)->next_at->unix_ms, 1700000100000 + 20 * 60000);
	advance(f, 3 * 60000);
	round_now(f);
	assert_true(job_exists(f, "five:20231114T223500Z"));
}

static void
test_missed_ticks_are_passed_over_with_skip_and_overlap_skip_waits(
    void **state)
{
	fixture *f = *state;
	use_config(f,
	    "schedules:\n"
	    "  - {name: tick, every_s: 60, function: f}\n");
	advance(f, 40000); // 22:14:00
	round_now(f);
	assert_true(job_exists(f, "tick:20231114T221400Z"));
	// The job is still QUEUED at the next tick: overlap skip.
	advance(f, 60000);
	round_now(f);
	assert_false(job_exists(f, "tick:20231114T221500Z"));
	assert_string_equal(
	    schedule_info(f, 0)->last_task_id, "tick:20231114T221400Z");
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "tick:20231114T221400Z");
	assert_int_equal(
	    report(f, "Complete", w, "tick:20231114T221400Z", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	// Down across two ticks, missed: skip: neither runs.
	sched_stop(f);
	advance(f, 150000); // 22:17:30
	sched_start(f);
	round_now(f);
	assert_false(job_exists(f, "tick:20231114T221600Z"));
	assert_false(job_exists(f, "tick:20231114T221700Z"));
	advance(f, 30000);
	round_now(f);
	assert_true(job_exists(f, "tick:20231114T221800Z"));
}

// ---- bulk calls ----------------------------------------------------------

// bulk_call posts BulkCancel, BulkRetry or BulkDelete (method) with the
// filter req.
static tcall *
bulk_call(fixture *f, const char *method, const Sje__V1__BulkRequest *req)
{
	return post(f, coord, method, &req->base);
}

// bulk_ok runs a bulk call that must succeed; returns how many it matched.
static uint32_t
bulk_ok(fixture *f, const char *method, const Sje__V1__BulkRequest *req)
{
	const Sje__V1__BulkReply *r =
	    (const Sje__V1__BulkReply *) ok(f, bulk_call(f, method, req));
	assert_false(r->more);
	return r->matched;
}

// labelled is spec(id) with the one label team = team.
typedef struct labelled {
	Sje__V1__JobSpec               s;
	Sje__V1__JobSpec__LabelsEntry  e;
	Sje__V1__JobSpec__LabelsEntry *ep;
} labelled;

static void
labelled_init(labelled *l, const char *id, const char *team)
{
	l->s = spec(id);
	sje__v1__job_spec__labels_entry__init(&l->e);
	l->e.key      = "team";
	l->e.value    = (char *) team;
	l->ep         = &l->e;
	l->s.labels   = &l->ep;
	l->s.n_labels = 1;
}

static void
test_bulk_cancel_by_label_ends_queued_jobs_and_asks_running_ones_to_stop(
    void **state)
{
	fixture *f = *state;
	labelled l[4];
	labelled_init(&l[0], "etl-run", "etl");
	labelled_init(&l[1], "etl-q1", "etl");
	labelled_init(&l[2], "etl-q2", "etl");
	labelled_init(&l[3], "web-q", "web");
	Sje__V1__JobSpec s[4] = { l[0].s, l[1].s, l[2].s, l[3].s };
	submit(f, s, 4);
	uint64_t w = worker(f, "w1");
	take(f, w, "etl-run");

	Sje__V1__BulkRequest req = SJE__V1__BULK_REQUEST__INIT;
	req.label                = "team=etl";
	assert_int_equal(bulk_ok(f, "BulkCancel", &req), 3);
	assert_int_equal(
	    state_of(f, "etl-q1"), SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
	assert_int_equal(
	    state_of(f, "etl-q2"), SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
	const Sje__V1__Job *run = status(f, "etl-run");
	assert_int_equal(run->state, SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_true(run->cancel_requested);
	assert_int_equal(
	    state_of(f, "web-q"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	// The running job is asked once: a second call matches nothing.
	assert_int_equal(bulk_ok(f, "BulkCancel", &req), 0);
	// Only unfinished jobs: a finished state selects nothing.
	req.label = NULL;
	req.state = SJE__V1__JOB_STATE__JOB_STATE_CANCELLED;
	assert_int_equal(bulk_ok(f, "BulkCancel", &req), 0);
}

static void
test_bulk_retry_by_function_reruns_failed_jobs_parents_before_children(
    void **state)
{
	fixture             *f    = *state;
	uint64_t             w    = worker(f, "w1");
	Sje__V1__RetryPolicy one  = SJE__V1__RETRY_POLICY__INIT;
	Sje__V1__JobSpec     s[3] = { spec("p"), spec("kid"), spec("ok") };
	char                *dp[] = { "p" };
	one.max_attempts          = 1;
	s[0].retry                = &one;
	s[1].depends_on           = dp;
	s[1].n_depends_on         = 1;
	submit(f, s, 3);
	uint64_t l = take(f, w, "p");
	assert_int_equal(
	    report(f, "Fail", w, "p", l, "boom"), SJE__V1__STATUS_CODE__OK);
	l = take(f, w, "ok");
	assert_int_equal(
	    report(f, "Complete", w, "ok", l, NULL), SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    state_of(f, "kid"), SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);

	Sje__V1__BulkRequest req = SJE__V1__BULK_REQUEST__INIT;
	req.function             = "f";
	assert_int_equal(bulk_ok(f, "BulkRetry", &req), 2);
	const Sje__V1__Job *p = status(f, "p");
	assert_int_equal(p->state, SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(p->max_attempts, 2); // a fresh allowance
	assert_int_equal(
	    state_of(f, "kid"), SJE__V1__JOB_STATE__JOB_STATE_PENDING);
	assert_int_equal(
	    state_of(f, "ok"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	// The child waits for its parent again, and runs after it.
	l = take(f, w, "p");
	assert_int_equal(
	    report(f, "Complete", w, "p", l, NULL), SJE__V1__STATUS_CODE__OK);
	take(f, w, "kid");
	// Nothing of f is left to re-run.
	assert_int_equal(bulk_ok(f, "BulkRetry", &req), 0);
}

static void
test_bulk_retry_leaves_a_job_whose_parent_did_not_succeed_and_is_not_rerun(
    void **state)
{
	fixture         *f    = *state;
	Sje__V1__JobSpec s[2] = { spec("gp"), spec("gkid") };
	char            *dp[] = { "gp" };
	s[0].function         = "g"; // no worker serves it
	s[1].depends_on       = dp;
	s[1].n_depends_on     = 1;
	submit(f, s, 2);
	cancel(f, "gp");
	assert_int_equal(state_of(f, "gkid"),
	    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);

	Sje__V1__BulkRequest req = SJE__V1__BULK_REQUEST__INIT;
	req.function             = "f";
	assert_int_equal(bulk_ok(f, "BulkRetry", &req), 0);
	assert_int_equal(state_of(f, "gkid"),
	    SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);
	// With its parent in the call, both run again.
	req.function         = NULL;
	req.state            = SJE__V1__JOB_STATE__JOB_STATE_UNSPECIFIED;
	req.label            = NULL;
	Sje__V1__Timestamp t = SJE__V1__TIMESTAMP__INIT;
	t.unix_ms            = 1; // every job is newer
	req.after            = &t;
	assert_int_equal(bulk_ok(f, "BulkRetry", &req), 2);
	assert_int_equal(
	    state_of(f, "gp"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	assert_int_equal(
	    state_of(f, "gkid"), SJE__V1__JOB_STATE__JOB_STATE_PENDING);
}

static void
test_bulk_delete_takes_finished_jobs_only_and_keeps_a_needed_parent(
    void **state)
{
	fixture         *f    = *state;
	uint64_t         w    = worker(f, "w1");
	Sje__V1__JobSpec s[4] = { spec("done"), spec("par"), spec("run"),
		spec("queued") };
	submit(f, s, 4);
	uint64_t l = take(f, w, "done");
	assert_int_equal(report(f, "Complete", w, "done", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	l = take(f, w, "par");
	assert_int_equal(report(f, "Complete", w, "par", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	take(f, w, "run");
	Sje__V1__JobSpec kid  = spec("child");
	char            *dp[] = { "par" };
	kid.depends_on        = dp;
	kid.n_depends_on      = 1;
	submit(f, &kid, 1);
	// child is QUEUED, not started: it still needs par's result.
	assert_int_equal(
	    state_of(f, "child"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);

	Sje__V1__BulkRequest req = SJE__V1__BULK_REQUEST__INIT;
	req.function             = "f";
	assert_int_equal(bulk_ok(f, "BulkDelete", &req), 1);
	Sje__V1__GetStatusRequest g = SJE__V1__GET_STATUS_REQUEST__INIT;
	g.task_id                   = "done";
	assert_int_equal(answered(f, post(f, coord, "GetStatus", &g.base)),
	    SJE__V1__STATUS_CODE__NOT_FOUND);
	assert_int_equal(
	    state_of(f, "par"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_int_equal(
	    state_of(f, "run"), SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_int_equal(
	    state_of(f, "queued"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	// An unfinished state selects nothing.
	req.state = SJE__V1__JOB_STATE__JOB_STATE_QUEUED;
	assert_int_equal(bulk_ok(f, "BulkDelete", &req), 0);
	assert_int_equal(
	    state_of(f, "queued"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
}

static void
test_a_bulk_call_needs_a_filter_and_one_that_matches_nothing_changes_nothing(
    void **state)
{
	fixture *f = *state;
	submit_one(f, "j1");
	Sje__V1__BulkRequest     req       = SJE__V1__BULK_REQUEST__INIT;
	static const char *const methods[] = { "BulkCancel", "BulkRetry",
		"BulkDelete" };
	for (size_t i = 0; i < 3; i++) {
		tcall *c = bulk_call(f, methods[i], &req);
		assert_int_equal(
		    answered(f, c), SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
		assert_non_null(strstr(c->message, "needs a filter"));
	}
	req.label = "team"; // not k=v
	assert_int_equal(answered(f, bulk_call(f, "BulkCancel", &req)),
	    SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	req.label    = NULL;
	req.function = "nothing";
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(bulk_ok(f, methods[i], &req), 0);
	}
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	// A time window that holds no job, by the fake wall clock.
	req.function         = NULL;
	Sje__V1__Timestamp t = SJE__V1__TIMESTAMP__INIT;
	t.unix_ms            = f->clock.unix_ms + 1000;
	req.after            = &t;
	assert_int_equal(bulk_ok(f, "BulkCancel", &req), 0);
	req.after  = NULL;
	req.before = &t;
	assert_int_equal(bulk_ok(f, "BulkCancel", &req), 1);
	assert_int_equal(
	    state_of(f, "j1"), SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
}

// run_call posts GetWorkflowRun or CancelWorkflowRun (method) for id.
static tcall *
run_call(fixture *f, const char *method, const char *id)
{
	Sje__V1__WorkflowRunRequest req = SJE__V1__WORKFLOW_RUN_REQUEST__INIT;
	req.workflow_id                 = (char *) id;
	return post(f, coord, method, &req.base);
}

static const Sje__V1__WorkflowRun *
get_run(fixture *f, const char *id)
{
	round_now(f);
	return (const Sje__V1__WorkflowRun *) ok(
	    f, run_call(f, "GetWorkflowRun", id));
}

static void
run_workflow(fixture *f, const char *name, const char *id)
{
	Sje__V1__RunWorkflowRequest req = SJE__V1__RUN_WORKFLOW_REQUEST__INIT;
	req.name                        = (char *) name;
	req.workflow_id                 = (char *) id;
	ok(f, post(f, coord, "RunWorkflow", &req.base));
}

// list_ids posts ListJobs with req and writes the task_ids it lists,
// joined by ' ', to out.
static void
list_ids(fixture *f, Sje__V1__ListJobsRequest *req, char *out, size_t cap)
{
	round_now(f);
	const Sje__V1__ListJobsReply *r = (const Sje__V1__ListJobsReply *) ok(
	    f, post(f, coord, "ListJobs", &req->base));
	size_t at = 0;
	out[0]    = '\0';
	for (size_t i = 0; i < r->n_jobs; i++) {
		at += (size_t) snprintf(out + at, cap - at, "%s%s",
		    i > 0 ? " " : "", r->jobs[i]->task_id);
	}
}

static void
test_list_jobs_by_parent_lists_the_children_a_submit_named(void **state)
{
	fixture         *f     = *state;
	Sje__V1__JobSpec s[4]  = { spec("p"), spec("q"), spec("c1"),
		 spec("c2") };
	char            *dp[]  = { "p" };
	char            *dpq[] = { "p", "q" };
	char             got[256];
	s[2].depends_on   = dpq;
	s[2].n_depends_on = 2;
	submit(f, s, 3);
	s[3].depends_on   = dp;
	s[3].n_depends_on = 1;
	submit(f, &s[3], 1);
	Sje__V1__ListJobsRequest req = SJE__V1__LIST_JOBS_REQUEST__INIT;
	req.parent                   = "p";
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "c2 c1");
	req.parent = "q";
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "c1");
	req.parent = "c1";
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "");
	req.parent = "not an id";
	tcall *c   = post(f, coord, "ListJobs", &req.base);
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
}

static void
test_list_jobs_by_task_id_prefix_finds_those_ids_only(void **state)
{
	fixture         *f    = *state;
	Sje__V1__JobSpec s[4] = { spec("img_1"), spec("img_2"), spec("imgx"),
		spec("doc_1") };
	char             got[256];
	submit(f, s, 4);
	Sje__V1__ListJobsRequest req = SJE__V1__LIST_JOBS_REQUEST__INIT;
	req.task_id_prefix           = "img_";
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "img_2 img_1");
	req.limit = 1;
	round_now(f);
	const Sje__V1__ListJobsReply *r = (const Sje__V1__ListJobsReply *) ok(
	    f, post(f, coord, "ListJobs", &req.base));
	assert_int_equal(r->n_jobs, 1);
	char cursor[32];
	snprintf(cursor, sizeof(cursor), "%s", r->next_cursor);
	assert_string_not_equal(cursor, "");
	req.cursor = cursor;
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "img_1");
	req.cursor         = NULL;
	req.limit          = 0;
	req.task_id_prefix = "img_1";
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "img_1");
	req.task_id_prefix = "%";
	list_ids(f, &req, got, sizeof(got));
	assert_string_equal(got, "");
	char long_prefix[200];
	memset(long_prefix, 'a', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	req.task_id_prefix                   = long_prefix;
	tcall *c = post(f, coord, "ListJobs", &req.base);
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
}

static void
test_list_workflow_runs_pages_newest_first_with_their_state(void **state)
{
	fixture *f = *state;
	use_config(f,
	    "tasks:\n"
	    "  defaults:\n"
	    "    retry: {max_attempts: 1}\n"
	    "workflows:\n"
	    "  etl:\n"
	    "    - {name: extract, function: f}\n"
	    "    - {name: load, function: f, after: [extract]}\n");
	run_workflow(f, "etl", "r1");
	submit_one(f, "lone");
	run_workflow(f, "etl", "r2");
	run_workflow(f, "etl", "r1"); // again: the same run, listed once
	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "r1.extract");
	assert_int_equal(report(f, "Fail", w, "r1.extract", l, "boom"),
	    SJE__V1__STATUS_CODE__OK);
	round_now(f);
	Sje__V1__ListWorkflowRunsRequest req =
	    SJE__V1__LIST_WORKFLOW_RUNS_REQUEST__INIT;
	const Sje__V1__ListWorkflowRunsReply *r =
	    (const Sje__V1__ListWorkflowRunsReply *) ok(
	        f, post(f, coord, "ListWorkflowRuns", &req.base));
	assert_int_equal(r->n_runs, 2);
	assert_string_equal(r->runs[0]->workflow_id, "r2");
	assert_string_equal(r->runs[0]->workflow, "etl");
	assert_int_equal(
	    r->runs[0]->state, SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_int_equal(r->runs[0]->step_count, 2);
	assert_int_equal(r->runs[0]->steps_finished, 0);
	assert_int_equal(r->runs[0]->n_steps, 0);
	assert_non_null(r->runs[0]->created_at);
	assert_string_equal(r->runs[1]->workflow_id, "r1");
	assert_int_equal(
	    r->runs[1]->state, SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_int_equal(r->runs[1]->steps_finished, 2);
	assert_string_equal(r->next_cursor, "");
	// A page of one, then the next from its cursor.
	req.limit = 1;
	r         = (const Sje__V1__ListWorkflowRunsReply *) ok(
	            f, post(f, coord, "ListWorkflowRuns", &req.base));
	assert_int_equal(r->n_runs, 1);
	assert_string_equal(r->runs[0]->workflow_id, "r2");
	char cursor[32];
	snprintf(cursor, sizeof(cursor), "%s", r->next_cursor);
	assert_string_not_equal(cursor, "");
	req.cursor = cursor;
	r          = (const Sje__V1__ListWorkflowRunsReply *) ok(
	             f, post(f, coord, "ListWorkflowRuns", &req.base));
	assert_int_equal(r->n_runs, 1);
	assert_string_equal(r->runs[0]->workflow_id, "r1");
	assert_string_equal(r->next_cursor, "");
	req.cursor = NULL;
	req.limit  = 201;
	tcall *c   = post(f, coord, "ListWorkflowRuns", &req.base);
	assert_int_equal(
	    answered(f, c), SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
}

static void
test_a_workflow_run_shows_its_name_steps_and_a_state_from_theirs(void **state)
{
	fixture *f = *state;
	use_config(f,
	    "tasks:\n"
	    "  defaults:\n"
	    "    retry: {max_attempts: 1}\n"
	    "workflows:\n"
	    "  etl:\n"
	    "    - {name: extract, function: f}\n"
	    "    - {name: load, function: f, after: [extract]}\n");
	run_workflow(f, "etl", "r1");
	const Sje__V1__WorkflowRun *r = get_run(f, "r1");
	assert_string_equal(r->workflow_id, "r1");
	assert_string_equal(r->workflow, "etl");
	assert_int_equal(r->state, SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	assert_int_equal(r->n_steps, 2);
	assert_string_equal(r->steps[0]->task_id, "r1.extract");
	assert_string_equal(r->steps[1]->task_id, "r1.load");
	assert_int_equal(
	    r->steps[1]->state, SJE__V1__JOB_STATE__JOB_STATE_PENDING);

	uint64_t w = worker(f, "w1");
	uint64_t l = take(f, w, "r1.extract");
	assert_int_equal(report(f, "Complete", w, "r1.extract", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    get_run(f, "r1")->state, SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	l = take(f, w, "r1.load");
	assert_int_equal(report(f, "Complete", w, "r1.load", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    get_run(f, "r1")->state, SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);

	// A failed step fails the run, its child UPSTREAM_FAILED.
	run_workflow(f, "etl", "r2");
	l = take(f, w, "r2.extract");
	assert_int_equal(report(f, "Fail", w, "r2.extract", l, "boom"),
	    SJE__V1__STATUS_CODE__OK);
	r = get_run(f, "r2");
	assert_int_equal(r->state, SJE__V1__JOB_STATE__JOB_STATE_FAILED);
	assert_int_equal(
	    r->steps[1]->state, SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED);

	tcall *c = run_call(f, "GetWorkflowRun", "nosuch");
	assert_int_equal(answered(f, c), SJE__V1__STATUS_CODE__NOT_FOUND);
	// A job's id is not a run's.
	c = run_call(f, "GetWorkflowRun", "r1.load");
	assert_int_equal(answered(f, c), SJE__V1__STATUS_CODE__NOT_FOUND);
}

static void
test_cancelling_a_workflow_run_cancels_its_unfinished_steps(void **state)
{
	fixture *f = *state;
	use_config(f,
	    "workflows:\n"
	    "  three:\n"
	    "    - {name: a, function: f}\n"
	    "    - {name: b, function: f}\n"
	    "    - {name: c, function: f, after: [a]}\n");
	run_workflow(f, "three", "r1");
	uint64_t w  = worker(f, "w1");
	uint64_t l  = take(f, w, "r1.a");
	uint64_t lb = take(f, w, "r1.b");
	assert_int_equal(report(f, "Complete", w, "r1.a", l, NULL),
	    SJE__V1__STATUS_CODE__OK);
	// r1.a succeeded, r1.b runs, r1.c is queued.
	const Sje__V1__BulkReply *b = (const Sje__V1__BulkReply *) ok(
	    f, run_call(f, "CancelWorkflowRun", "r1"));
	assert_int_equal(b->matched, 2);
	assert_int_equal(
	    state_of(f, "r1.a"), SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED);
	assert_true(status(f, "r1.b")->cancel_requested);
	assert_int_equal(
	    state_of(f, "r1.c"), SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
	assert_int_equal(
	    get_run(f, "r1")->state, SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	// Its worker hears of the cancel and stops the step: the run ends
	// CANCELLED.
	const Sje__V1__HeartbeatReply *hb = heartbeat(f, w, "r1.b", lb);
	assert_int_equal(hb->n_cancel, 1);
	assert_int_equal(report(f, "Fail", w, "r1.b", lb, "cancelled"),
	    SJE__V1__STATUS_CODE__OK);
	assert_int_equal(
	    get_run(f, "r1")->state, SJE__V1__JOB_STATE__JOB_STATE_CANCELLED);
	// Nothing is left to cancel.
	b = (const Sje__V1__BulkReply *) ok(
	    f, run_call(f, "CancelWorkflowRun", "r1"));
	assert_int_equal(b->matched, 0);
	tcall *c = run_call(f, "CancelWorkflowRun", "nosuch");
	assert_int_equal(answered(f, c), SJE__V1__STATUS_CODE__NOT_FOUND);
}

// ---- who runs a round ---------------------------------------------------

// sched_threaded reopens the fixture's scheduler with its thread.
static void
sched_threaded(fixture *f)
{
	sched_stop(f);
	sched_open(f, false);
}

// until_answered waits (10 s at most) for c's reply.
static void
until_answered(const tcall *c)
{
	for (int i = 0; i < 10000 && !atomic_load(&c->answered); i++) {
		usleep(1000);
	}
	assert_true(atomic_load(&c->answered));
}

// state_of_threaded asks a threaded scheduler for the job's state.
static int
state_of_threaded(fixture *f, const char *id)
{
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	req.task_id                   = (char *) id;
	tcall *c                      = post(f, coord, "GetStatus", &req.base);
	until_answered(c);
	assert_int_equal(c->code, 0);
	return ((const Sje__V1__Job *) c->out)->state;
}

static void
test_a_call_posted_to_an_idle_scheduler_is_answered_by_its_poster(void **state)
{
	fixture *f = *state;
	sched_threaded(f);
	// The scheduler's thread runs a round of its own once a second of
	// this frozen clock, so one of three posts in a row could find the
	// round held; all three cannot.
	int by_poster = 0;
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		Sje__V1__JobSpec       sp  = spec(id);
		Sje__V1__JobSpec      *p   = &sp;
		Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
		req.jobs                   = &p;
		req.n_jobs                 = 1;
		tcall *c = post(f, coord, "Submit", &req.base);
		by_poster += atomic_load(&c->answered) ? 1 : 0;
		until_answered(c);
		assert_int_equal(c->code, 0);
	}
	assert_true(by_poster >= 1);
	assert_int_equal(
	    state_of_threaded(f, "p2"), SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
}

// A submitter thread: n Submits of one job each, one after another
// without waiting for the replies, each job named for the thread.
#define SUBMITTERS 4
#define SUBMITS 150

typedef struct submitter {
	sje__sched *sched;
	int         k;
	tcall      *calls[SUBMITS];
} submitter;

static void *
submitter_main(void *arg)
{
	submitter *t = arg;
	for (int i = 0; i < SUBMITS; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d-%d", t->k, i);
		Sje__V1__JobSpec       sp  = spec(id);
		Sje__V1__JobSpec      *p   = &sp;
		Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
		req.jobs                   = &p;
		req.n_jobs                 = 1;
		t->calls[i] = make_call(coord, "Submit", &req.base);
		sje__sched_post(t->sched, &t->calls[i]->base);
	}
	return NULL;
}

static void
test_calls_posted_from_many_threads_at_once_are_each_answered_once(
    void **state)
{
	fixture  *f = *state;
	submitter t[SUBMITTERS];
	pthread_t th[SUBMITTERS];
	sched_threaded(f);
	for (int k = 0; k < SUBMITTERS; k++) {
		t[k].sched = f->sched;
		t[k].k     = k;
		assert_int_equal(
		    pthread_create(&th[k], NULL, submitter_main, &t[k]), 0);
	}
	for (int k = 0; k < SUBMITTERS; k++) {
		assert_int_equal(pthread_join(th[k], NULL), 0);
	}
	for (int k = 0; k < SUBMITTERS; k++) {
		for (int i = 0; i < SUBMITS; i++) {
			tcall *c = t[k].calls[i];
			until_answered(c);
			assert_int_equal(c->code, 0);
			const Sje__V1__SubmitReply *r =
			    (const Sje__V1__SubmitReply *) c->out;
			assert_int_equal(r->n_results, 1);
			assert_true(r->results[0]->created);
			tcall_free(c);
		}
	}
	// Every job is there once: stored and queued.
	for (int k = 0; k < SUBMITTERS; k++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d-%d", k, SUBMITS - 1);
		assert_int_equal(state_of_threaded(f, id),
		    SJE__V1__JOB_STATE__JOB_STATE_QUEUED);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_a_call_posted_to_an_idle_scheduler_is_answered_by_its_poster,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_calls_posted_from_many_threads_at_once_are_each_answered_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_lease_not_heartbeated_for_lease_s_expires_and_the_job_runs_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_heartbeat_extends_the_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retries_with_back_off_become_due_at_the_right_fake_time_and_not_before,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_stored_back_off_is_never_shorter_than_the_wait_it_was,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_job_timeout_fails_the_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_delayed_job_becomes_queued_when_due, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_failed_parent_ends_its_children_upstream_failed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_succeeded_parent_releases_its_children, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_ends_a_queued_job_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_of_a_running_job_reaches_its_worker_and_ends_it_cancelled,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_keeps_running_leases_for_lease_s_from_the_reopen_and_dispatches_queued_jobs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_wall_clock_step_expires_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_held_fetch_is_answered_empty_at_its_deadline_and_not_before,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_held_list_events_call_is_answered_when_events_commit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_registration_says_the_coordinator_takes_outcomes_in_fetch,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_fetch_carrying_a_success_ends_the_job_and_takes_the_next_in_one_call,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_fetch_carrying_a_failure_fails_the_attempt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_fetch_carrying_a_stale_outcome_is_refused_for_it_and_changes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_submit_with_wait_ms_is_answered_when_its_job_ends_with_its_record,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_submit_with_wait_ms_is_answered_not_done_at_its_deadline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_submit_without_wait_ms_carries_no_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_wait_naming_an_unknown_job_is_refused_not_found_held_or_not,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retry_runs_a_failed_job_again_as_a_new_attempt_with_its_history_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retry_with_descendants_reruns_a_failed_middle_step_and_what_it_failed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retry_refuses_a_running_or_succeeded_job_a_failed_parent_and_an_unknown_id,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_rerun_job_is_still_queued_after_a_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_delete_removes_a_finished_job_and_refuses_an_unfinished_one,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_delete_refuses_a_parent_whose_child_has_not_started,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_paused_function_starts_nothing_until_resumed_even_across_a_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_set_function_refuses_a_bad_name, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_explain_gives_the_reason_for_each_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_jobs_no_live_worker_serves_for_unserved_warn_s_are_counted_until_served,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_concurrency_limit_holds_jobs_back_until_a_running_one_ends,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_rate_limit_spaces_the_starts_by_the_fake_clock,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_job_that_requires_labels_goes_only_to_a_worker_that_has_them,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_interval_schedule_fires_each_tick_once_even_across_a_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_cron_schedule_runs_the_latest_missed_tick_once_with_run_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_missed_ticks_are_passed_over_with_skip_and_overlap_skip_waits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bulk_cancel_by_label_ends_queued_jobs_and_asks_running_ones_to_stop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bulk_retry_by_function_reruns_failed_jobs_parents_before_children,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bulk_retry_leaves_a_job_whose_parent_did_not_succeed_and_is_not_rerun,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bulk_delete_takes_finished_jobs_only_and_keeps_a_needed_parent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_bulk_call_needs_a_filter_and_one_that_matches_nothing_changes_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_workflow_run_shows_its_name_steps_and_a_state_from_theirs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_list_jobs_by_parent_lists_the_children_a_submit_named,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_list_jobs_by_task_id_prefix_finds_those_ids_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_list_workflow_runs_pages_newest_first_with_their_state,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancelling_a_workflow_run_cancels_its_unfinished_steps,
		    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
