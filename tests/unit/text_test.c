// text_test — the UTF-8 checks (util.c) and the RPC door's refusal of
// strings that are not well-formed UTF-8 or hold NUL (rpc.c's wire walk,
// through sje__rpc_decode as the server calls it).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/rpc.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include "door/rpc.h"
#include "rawrpc.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const ProtobufCServiceDescriptor *const services[] = {
	&sje__v1__coordinator__descriptor,
	&sje__v1__worker_hub__descriptor,
};

// check is sje__utf8_check on a literal of n bytes.
static bool
check(const char *s, size_t n, size_t *bad)
{
	return sje__utf8_check(s, n, bad);
}

#define CHECK(lit) check((lit), sizeof(lit) - 1, &bad)

static void
test_utf8_check_accepts_every_well_formed_length(void **state)
{
	(void) state;
	size_t bad = 99;
	assert_true(CHECK(""));
	assert_true(CHECK("plain ASCII ~"));
	assert_true(CHECK("\xc2\x80 \xdf\xbf")); // 2 bytes
	assert_true(CHECK("\xe0\xa0\x80 \xef\xbf\xbd \xed\x9f\xbf")); // 3
	assert_true(CHECK("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"));      // 4
	assert_true(CHECK("\x1b[31m\n")); // controls are UTF-8 (escaped later)
	assert_int_equal(bad, 99);        // untouched on success
}

static void
test_utf8_check_refuses_ill_formed_sequences_and_nul(void **state)
{
	(void) state;
	size_t bad;
	assert_false(CHECK("ab\xc0\xaf")); // overlong '/'
	assert_int_equal(bad, 2);
	assert_false(CHECK("\xe0\x80\xaf"));     // overlong, 3 bytes
	assert_false(CHECK("\xf0\x80\x80\xaf")); // overlong, 4 bytes
	assert_false(CHECK("x\xed\xa0\x80"));    // surrogate U+D800
	assert_int_equal(bad, 1);
	assert_false(CHECK("\xed\xbf\xbf"));     // surrogate U+DFFF
	assert_false(CHECK("\xf4\x90\x80\x80")); // U+110000
	assert_false(CHECK("\xf5\x80\x80\x80")); // lead beyond U+10FFFF
	assert_false(CHECK("ok\xe2\x82"));       // cut short
	assert_int_equal(bad, 2);
	assert_false(CHECK("\x80"));     // stray continuation
	assert_false(CHECK("\xc3\x28")); // lead without its continuation
	assert_false(CHECK("\xff"));
	assert_false(CHECK("a\0b")); // NUL
	assert_int_equal(bad, 1);
	assert_int_equal(sje__utf8_seq("\0", 1), 1); // NUL is UTF-8 itself
}

static void
test_utf8_repair_replaces_maximal_subparts(void **state)
{
	(void) state;
	static const char in[] = "a\xc0\xaf"
	                         "b\xe2\x82"
	                         "c\xf0\x9f\x98\x80";
	sje__buf          b    = { 0 };
	sje__utf8_repair(&b, in, sizeof(in) - 1);
	char *out = sje__buf_take(&b, NULL);
	assert_string_equal(out,
	    "a\xef\xbf\xbd\xef\xbf\xbd"
	    "b\xef\xbf\xbd"
	    "c\xf0\x9f\x98\x80");
	free(out);
}

static void
test_text_escape_leaves_no_control_character(void **state)
{
	(void) state;
	static const char in[] = "x\n2026-01-01T00:00:00Z forged\r\t"
	                         "\x1b[31mred\x7f\xc2\x9b\\ \xff \xc3\xa9";
	sje__buf          b    = { 0 };
	sje__text_escape(&b, in, sizeof(in) - 1);
	char *out = sje__buf_take(&b, NULL);
	assert_string_equal(out,
	    "x\\n2026-01-01T00:00:00Z forged\\r\\t"
	    "\\x1b[31mred\\x7f\\xc2\\x9b\\\\ \\xff \xc3\xa9");
	free(out);
}

// frame is sje_test_rawrpc_frame, which cannot fail here. Caller frees.
static uint8_t *
frame(const char *method, const ProtobufCMessage *body, size_t *len)
{
	uint8_t *buf = sje_test_rawrpc_frame(method, body, len);
	assert_non_null(buf);
	return buf;
}

// expect_refused frames body for method, decodes it and expects
// INVALID_ARGUMENT for field, with a message naming it.
static void
expect_refused(const char *method, const ProtobufCMessage *body,
    const char *field, const char *why)
{
	size_t         n;
	uint8_t       *buf = frame(method, body, &n);
	sje__rpc_frame f;
	char           msg[200];
	const char    *got;
	int            code =
	    sje__rpc_decode(services, 2, buf, n, &f, msg, sizeof(msg), &got);
	assert_int_equal(code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_string_equal(got, field);
	assert_non_null(strstr(msg, field));
	assert_non_null(strstr(msg, why));
	assert_null(f.input);
	assert_null(f.req);
	free(buf);
}

static void
test_decode_refuses_bad_strings_anywhere_naming_the_field(void **state)
{
	(void) state;
	Sje__V1__JobSpec              a = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__JobSpec              b = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__JobSpec__LabelsEntry l0 =
	    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
	Sje__V1__JobSpec__LabelsEntry l1 =
	    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
	Sje__V1__JobSpec__LabelsEntry *labels[] = { &l0, &l1 };
	Sje__V1__JobSpec              *jobs[]   = { &a, &b };
	Sje__V1__SubmitRequest         sr = SJE__V1__SUBMIT_REQUEST__INIT;
	a.function                        = "echo";
	b.function                        = "echo";
	l0.key                            = "team";
	l0.value                          = "ok";
	l1.key                            = "env";
	l1.value                          = "bad \xff";
	b.labels                          = labels;
	b.n_labels                        = 2;
	sr.jobs                           = jobs;
	sr.n_jobs                         = 2;
	const char *submit                = "/sje.v1.Coordinator/Submit";
	expect_refused(
	    submit, &sr.base, "jobs[1].labels[1].value", "not valid UTF-8");
	l1.value = "cut <\x01> here";
	expect_refused(submit, &sr.base, "jobs[1].labels[1].value", "NUL");
	l1.value = "fine";
	l0.key   = "te\xc0\xafm";
	expect_refused(
	    submit, &sr.base, "jobs[1].labels[0].key", "not valid UTF-8");
	l0.key    = "team";
	a.task_id = "id<\x01>";
	expect_refused(submit, &sr.base, "jobs[0].task_id", "NUL");
	a.task_id      = "";
	char *dep[]    = { "p1", "p\xed\xa0\x80" };
	a.depends_on   = dep;
	a.n_depends_on = 2;
	expect_refused(
	    submit, &sr.base, "jobs[0].depends_on[1]", "not valid UTF-8");
	a.n_depends_on       = 0;
	Sje__V1__Json params = SJE__V1__JSON__INIT;
	params.text          = "{\"k<\x01>\":1}";
	a.params             = &params;
	expect_refused(submit, &sr.base, "jobs[0].params", "NUL");

	// The worker side: progress text inside a heartbeat, error text
	// inside a report.
	Sje__V1__Progress         pr    = SJE__V1__PROGRESS__INIT;
	Sje__V1__RunningJob       rj    = SJE__V1__RUNNING_JOB__INIT;
	Sje__V1__RunningJob      *rjs[] = { &rj };
	Sje__V1__HeartbeatRequest hb    = SJE__V1__HEARTBEAT_REQUEST__INIT;
	pr.message                      = "50% \x1b[31m\xf8";
	rj.task_id                      = "t1";
	rj.progress                     = &pr;
	hb.running                      = rjs;
	hb.n_running                    = 1;
	expect_refused("/sje.v1.WorkerHub/Heartbeat", &hb.base,
	    "running[0].progress.message", "not valid UTF-8");
	Sje__V1__JobError      je    = SJE__V1__JOB_ERROR__INIT;
	Sje__V1__JobOutcome    oc    = SJE__V1__JOB_OUTCOME__INIT;
	Sje__V1__JobOutcome   *ocs[] = { &oc };
	Sje__V1__ReportRequest rr    = SJE__V1__REPORT_REQUEST__INIT;
	je.type                      = "error";
	je.message                   = "boom<\x01>";
	oc.task_id                   = "t1";
	oc.error                     = &je;
	rr.outcomes                  = ocs;
	rr.n_outcomes                = 1;
	expect_refused("/sje.v1.WorkerHub/Fail", &rr.base,
	    "outcomes[0].error.message", "NUL");

	// The envelope is checked too (before the method is looked up).
	Sje__V1__GetStatusRequest gs = SJE__V1__GET_STATUS_REQUEST__INIT;
	gs.task_id                   = "x";
	expect_refused("/sje.v1.Coordinator/Get\xffStatus", &gs.base, "method",
	    "not valid UTF-8");
}

static void
test_decode_accepts_good_text_of_every_length(void **state)
{
	(void) state;
	Sje__V1__JobSpec       a      = SJE__V1__JOB_SPEC__INIT;
	Sje__V1__JobSpec      *jobs[] = { &a };
	Sje__V1__SubmitRequest sr     = SJE__V1__SUBMIT_REQUEST__INIT;
	a.function                    = "echo";
	a.task_id = "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80";
	sr.jobs   = jobs;
	sr.n_jobs = 1;
	size_t         n;
	uint8_t       *buf = frame("/sje.v1.Coordinator/Submit", &sr.base, &n);
	sje__rpc_frame f;
	char           msg[200];
	const char    *field;
	assert_int_equal(
	    sje__rpc_decode(services, 2, buf, n, &f, msg, sizeof(msg), &field),
	    SJE__V1__STATUS_CODE__OK);
	sje__rpc_frame_fini(&f);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_utf8_check_accepts_every_well_formed_length),
		cmocka_unit_test(
		    test_utf8_check_refuses_ill_formed_sequences_and_nul),
		cmocka_unit_test(test_utf8_repair_replaces_maximal_subparts),
		cmocka_unit_test(test_text_escape_leaves_no_control_character),
		cmocka_unit_test(
		    test_decode_refuses_bad_strings_anywhere_naming_the_field),
		cmocka_unit_test(
		    test_decode_accepts_good_text_of_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
