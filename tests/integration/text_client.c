// text_client — a raw RPC peer for tests/integration/text.sh: it sends
// requests whose strings hold ill-formed UTF-8 or NUL bytes, which libsje
// (or any protobuf library that checks) would never send, and checks that
// the server refuses each with INVALID_ARGUMENT naming the field. The
// frames are built by tests/support/rawrpc.c ("<\x01>" in a string
// becomes a NUL byte on the wire).
//
//   text_client RPC_URL
//
// Prints one TAP-like line per case; exits 0 when every case was refused
// as expected, 1 otherwise, 2 on a usage or transport error.
#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/rpc.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include "rawrpc.h"

#include <nng/nng.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nng_socket sock;
static int        failures;

// expect checks that method refuses body with INVALID_ARGUMENT on field.
static void
expect(const char *what, const char *method, const ProtobufCMessage *body,
    const char *field)
{
	Sje__V1__Reply *r =
	    sje_test_rawrpc_call(sock, method, body, "text_client");
	if (r == NULL) {
		printf("not ok - %s: no reply\n", what);
		failures++;
		return;
	}
	bool ok = r->code == SJE__V1__STATUS_CODE__INVALID_ARGUMENT &&
	    strcmp(r->field, field) == 0 && strstr(r->message, field) != NULL;
	printf("%s - %s: code %d field '%s' message '%s'\n",
	    ok ? "ok" : "not ok", what, r->code, r->field, r->message);
	failures += !ok;
	sje__v1__reply__free_unpacked(r, NULL);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: text_client RPC_URL\n");
		return 2;
	}
	int rv;
	if ((rv = sje_test_rawrpc_open(argv[1], 10000, &sock)) != 0) {
		fprintf(stderr, "text_client: %s: %s\n", argv[1],
		    nng_strerror(rv));
		return 2;
	}

	// Submit: label values and keys, task_id, params.
	const char                   *submit = "/sje.v1.Coordinator/Submit";
	Sje__V1__JobSpec              a      = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__JobSpec              b      = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__JobSpec__LabelsEntry l0 =
	    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
	Sje__V1__JobSpec__LabelsEntry *labels[] = { &l0 };
	Sje__V1__JobSpec              *jobs[]   = { &a, &b };
	Sje__V1__SubmitRequest         sr     = SJE__V1__SUBMIT_REQUEST__INIT;
	Sje__V1__Json                  params = SJE__V1__JSON__INIT;
	a.function                            = "echo";
	a.task_id                             = "text-good";
	b.function                            = "echo";
	b.task_id                             = "text-bad-1";
	l0.key                                = "team";
	l0.value                              = "ops\xff";
	b.labels                              = labels;
	b.n_labels                            = 1;
	sr.jobs                               = jobs;
	sr.n_jobs                             = 2;
	expect("a label value of ill-formed UTF-8", submit, &sr.base,
	    "jobs[1].labels[0].value");
	l0.value = "ops<\x01>team";
	expect("a label value holding NUL", submit, &sr.base,
	    "jobs[1].labels[0].value");
	l0.value = "ops";
	l0.key   = "te\xed\xa0\x80m";
	expect("a label key holding a surrogate", submit, &sr.base,
	    "jobs[1].labels[0].key");
	l0.key    = "team";
	b.task_id = "text-bad<\x01>-2";
	expect("a task_id holding NUL", submit, &sr.base, "jobs[1].task_id");
	b.task_id = "text-bad-3\xc0\xaf";
	expect("an overlong task_id", submit, &sr.base, "jobs[1].task_id");
	b.task_id   = "text-bad-4";
	params.text = "{\"k\xf4\x90\x80\x80\":1}";
	b.params    = &params;
	expect(
	    "a params key above U+10FFFF", submit, &sr.base, "jobs[1].params");

	// Worker side: registration labels, heartbeat progress, fail error.
	Sje__V1__RegisterRequest rg = SJE__V1__REGISTER_REQUEST__INIT;
	Sje__V1__RegisterRequest__LabelsEntry wl =
	    SJE__V1__REGISTER_REQUEST__LABELS_ENTRY__INIT;
	Sje__V1__RegisterRequest__LabelsEntry *wls[] = { &wl };
	char                                  *fns[] = { "echo" };
	rg.name                                      = "text-bad-worker";
	rg.functions                                 = fns;
	rg.n_functions                               = 1;
	rg.slots                                     = 1;
	wl.key                                       = "zone";
	wl.value                                     = "eu<\x01>";
	rg.labels                                    = wls;
	rg.n_labels                                  = 1;
	expect("a worker label holding NUL",
	    "/sje.v1.WorkerHub/RegisterWorker", &rg.base, "labels[0].value");

	Sje__V1__Progress         pr    = SJE__V1__PROGRESS__INIT;
	Sje__V1__RunningJob       rj    = SJE__V1__RUNNING_JOB__INIT;
	Sje__V1__RunningJob      *rjs[] = { &rj };
	Sje__V1__HeartbeatRequest hb    = SJE__V1__HEARTBEAT_REQUEST__INIT;
	pr.message                      = "half \x80 done";
	rj.task_id                      = "text-good";
	rj.progress                     = &pr;
	hb.running                      = rjs;
	hb.n_running                    = 1;
	expect("a progress message of ill-formed UTF-8",
	    "/sje.v1.WorkerHub/Heartbeat", &hb.base,
	    "running[0].progress.message");

	Sje__V1__JobError      je    = SJE__V1__JOB_ERROR__INIT;
	Sje__V1__JobOutcome    oc    = SJE__V1__JOB_OUTCOME__INIT;
	Sje__V1__JobOutcome   *ocs[] = { &oc };
	Sje__V1__ReportRequest rr    = SJE__V1__REPORT_REQUEST__INIT;
	je.type                      = "error";
	je.message                   = "boom<\x01>\n2026-01-01 forged";
	oc.task_id                   = "text-good";
	oc.error                     = &je;
	rr.outcomes                  = ocs;
	rr.n_outcomes                = 1;
	expect("an error message holding NUL", "/sje.v1.WorkerHub/Fail",
	    &rr.base, "outcomes[0].error.message");
	je.message = "boom \xe2\x82";
	expect("an error message cut mid-sequence", "/sje.v1.WorkerHub/Fail",
	    &rr.base, "outcomes[0].error.message");

	// Coordinator queries are covered by the same walk.
	Sje__V1__GetStatusRequest gs = SJE__V1__GET_STATUS_REQUEST__INIT;
	gs.task_id                   = "text-good\xff";
	expect("a GetStatus task_id of ill-formed UTF-8",
	    "/sje.v1.Coordinator/GetStatus", &gs.base, "task_id");

	nng_close(sock);
	return failures == 0 ? 0 : 1;
}
