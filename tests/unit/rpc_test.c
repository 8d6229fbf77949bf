// rpc_test — the server's RPC front door against real nng sockets on
// loopback: malformed frames get clear errors, held calls never starve the
// socket, an oversized frame drops only its own connection.

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sje/client.h>
#include <sje/v1/rpc.pb-c.h>

#include "door/rpc.h"
#include "util.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// The handler answers GetStatus at once (echoing the task_id as the job's
// function) and holds Wait calls until the test releases them.
typedef struct fixture {
	sje__rpc       *rpc;
	char            url[128];
	pthread_mutex_t mtx;
	sje__call      *held[64];
	int             n_held;
} fixture;

static void
test_handler(void *arg, sje__call *call)
{
	fixture *f = arg;
	if (sje__call_method(call) == 2) { // Coordinator.Wait: hold it
		pthread_mutex_lock(&f->mtx);
		f->held[f->n_held++] = call;
		pthread_mutex_unlock(&f->mtx);
		return;
	}
	const Sje__V1__GetStatusRequest *req =
	    (const Sje__V1__GetStatusRequest *) sje__call_input(call);
	Sje__V1__Job job = SJE__V1__JOB__INIT;
	job.task_id      = req->task_id;
	job.function     = "echoed";
	sje__call_reply(call, &job.base);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	pthread_mutex_init(&f->mtx, NULL);
	static const ProtobufCServiceDescriptor *const svcs[] = {
		&sje__v1__coordinator__descriptor,
	};
	assert_int_equal(
	    sje__rpc_open("tcp://127.0.0.1:0", NULL, NULL, svcs, 1,
	        test_handler, f, &f->rpc, f->url, sizeof(f->url)),
	    SJE_OK);
	assert_non_null(strstr(f->url, "tcp://127.0.0.1:"));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	pthread_mutex_lock(&f->mtx);
	for (int i = 0; i < f->n_held; i++) {
		sje__call_error(f->held[i], SJE_EUNAVAIL, NULL, "bye");
	}
	f->n_held = 0;
	pthread_mutex_unlock(&f->mtx);
	sje__rpc_quiesce(f->rpc);
	sje__rpc_close(f->rpc);
	pthread_mutex_destroy(&f->mtx);
	free(f);
	return 0;
}

// raw_call sends bytes as one frame and decodes the reply envelope.
static Sje__V1__Reply *
raw_call(const char *url, const void *data, size_t len)
{
	nng_socket s;
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000), 0);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	assert_int_equal(nng_send(s, (void *) data, len, 0), 0);
	void  *buf;
	size_t n;
	assert_int_equal(nng_recv(s, &buf, &n, NNG_FLAG_ALLOC), 0);
	Sje__V1__Reply *r = sje__v1__reply__unpack(NULL, n, buf);
	nng_free(buf, n);
	nng_close(s);
	assert_non_null(r);
	return r;
}

static Sje__V1__Reply *
envelope_call(
    const char *url, const char *method, const uint8_t *body, size_t len)
{
	Sje__V1__Request req = SJE__V1__REQUEST__INIT;
	req.method           = (char *) method;
	req.body.data        = (uint8_t *) body;
	req.body.len         = len;
	size_t   n           = sje__v1__request__get_packed_size(&req);
	uint8_t *buf         = malloc(n + 1);
	sje__v1__request__pack(&req, buf);
	Sje__V1__Reply *r = raw_call(url, buf, n);
	free(buf);
	return r;
}

static void
test_rpc_answers_garbage_with_invalid_argument(void **state)
{
	fixture             *f      = *state;
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
	Sje__V1__Reply      *r      = raw_call(f->url, junk, sizeof(junk));
	assert_int_equal(r->code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(r->message, "malformed"));
	sje__v1__reply__free_unpacked(r, NULL);
}

static void
test_rpc_answers_unknown_method_with_unimplemented(void **state)
{
	fixture        *f = *state;
	Sje__V1__Reply *r =
	    envelope_call(f->url, "/sje.v1.Coordinator/Frobnicate", NULL, 0);
	assert_int_equal(r->code, SJE__V1__STATUS_CODE__UNIMPLEMENTED);
	assert_string_equal(r->field, "method");
	sje__v1__reply__free_unpacked(r, NULL);

	r = envelope_call(f->url, "no-slash", NULL, 0);
	assert_int_equal(r->code, SJE__V1__STATUS_CODE__UNIMPLEMENTED);
	sje__v1__reply__free_unpacked(r, NULL);

	r = envelope_call(f->url, "/sje.v1.WorkerHub/Fetch", NULL, 0);
	assert_int_equal(r->code, SJE__V1__STATUS_CODE__UNIMPLEMENTED);
	sje__v1__reply__free_unpacked(r, NULL);
}

static void
test_rpc_answers_empty_frame_with_unimplemented(void **state)
{
	fixture        *f = *state;
	Sje__V1__Reply *r = raw_call(f->url, "", 0);
	assert_int_equal(r->code, SJE__V1__STATUS_CODE__UNIMPLEMENTED);
	sje__v1__reply__free_unpacked(r, NULL);
}

static void
test_rpc_answers_malformed_body_with_invalid_argument(void **state)
{
	fixture             *f      = *state;
	static const uint8_t body[] = { 0x0a, 0x7f, 'x' }; // length past end
	Sje__V1__Reply      *r      = envelope_call(
	              f->url, "/sje.v1.Coordinator/GetStatus", body, sizeof(body));
	assert_int_equal(r->code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_string_equal(r->field, "body");
	sje__v1__reply__free_unpacked(r, NULL);
}

static void
test_rpc_hands_a_good_call_to_the_handler(void **state)
{
	fixture        *f = *state;
	sje_client     *c;
	sje_client_opts o   = { .server_url = f->url, .timeout_ms = 5000 };
	Sje__V1__Job   *job = NULL;
	sje_status      st;
	assert_int_equal(sje_client_open(&o, &c), SJE_OK);
	assert_int_equal(sje_client_get_status(c, "t-1", &job, &st), SJE_OK);
	assert_string_equal(job->task_id, "t-1");
	assert_string_equal(job->function, "echoed");
	sje__v1__job__free_unpacked(job, NULL);
	sje_client_close(c);
}

typedef struct wait_arg {
	const char *url;
	sje_err     err;
} wait_arg;

static void *
wait_thread(void *p)
{
	wait_arg            *a = p;
	sje_client          *c;
	sje_client_opts      o = { .server_url = a->url, .timeout_ms = 10000 };
	char                *ids[] = { "x" };
	Sje__V1__WaitRequest req   = SJE__V1__WAIT_REQUEST__INIT;
	req.task_ids               = ids;
	req.n_task_ids             = 1;
	Sje__V1__WaitReply *rep    = NULL;
	assert_int_equal(sje_client_open(&o, &c), SJE_OK);
	a->err = sje_client_wait(c, &req, &rep, NULL);
	sje_client_close(c);
	return NULL;
}

static void
test_rpc_serves_calls_while_many_are_held(void **state)
{
	fixture *f = *state;
	enum { N = 40 }; // far more than the pool's minimum of receivers
	pthread_t th[N];
	wait_arg  args[N];
	for (int i = 0; i < N; i++) {
		args[i] = (wait_arg) { .url = f->url, .err = SJE_OK };
		pthread_create(&th[i], NULL, wait_thread, &args[i]);
	}
	// Wait (bounded) until every Wait call is held by the handler.
	for (int k = 0; k < 500; k++) {
		pthread_mutex_lock(&f->mtx);
		int n = f->n_held;
		pthread_mutex_unlock(&f->mtx);
		if (n == N) {
			break;
		}
		sje__sleep_ms(10);
	}
	pthread_mutex_lock(&f->mtx);
	assert_int_equal(f->n_held, N);
	pthread_mutex_unlock(&f->mtx);

	// With all of them parked, a new call is still served at once.
	test_rpc_hands_a_good_call_to_the_handler(state);

	pthread_mutex_lock(&f->mtx);
	for (int i = 0; i < f->n_held; i++) {
		sje__call_error(f->held[i], SJE_EUNAVAIL, NULL, "released");
	}
	f->n_held = 0;
	pthread_mutex_unlock(&f->mtx);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].err, SJE_EUNAVAIL);
	}
}

static void
test_rpc_drops_only_the_connection_of_an_oversized_frame(void **state)
{
	fixture   *f = *state;
	nng_socket s;
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 1000), 0);
	// A send waits for a pipe that can take it; never for ever.
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000), 0);
	assert_int_equal(nng_socket_set_ms(
	                     s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE),
	    0);
	assert_int_equal(nng_dial(s, f->url, NULL, 0), 0);
	size_t len = SJE_MAX_FRAME_BYTES + 1024;
	char  *big = calloc(1, len);
	assert_int_equal(nng_send(s, big, len, 0), 0);
	void  *buf = NULL;
	size_t n;
	// No reply comes: the server closed that connection.
	assert_int_not_equal(nng_recv(s, &buf, &n, NNG_FLAG_ALLOC), 0);
	free(big);
	nng_close(s);
	// Everyone else is still served.
	test_rpc_hands_a_good_call_to_the_handler(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_rpc_answers_garbage_with_invalid_argument, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_answers_unknown_method_with_unimplemented, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_answers_empty_frame_with_unimplemented, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_answers_malformed_body_with_invalid_argument,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_hands_a_good_call_to_the_handler, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_serves_calls_while_many_are_held, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rpc_drops_only_the_connection_of_an_oversized_frame,
		    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
