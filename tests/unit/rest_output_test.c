// rest_output_test.c — the REST gateway's answers
// (server/door/rest_output.c): the status table, the error JSON, the
// naming of a Submit error's field, text made printable, and the JSON of
// the Retry, Explain and function answers.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door/rest_output.h"
#include "pbjson.h"
#include "shapes.h"

static void
test_http_status_follows_the_table_of_docs_rest_md(void **state)
{
	(void) state;
	static const struct {
		int code, http;
	} want[] = {
		{ SJE__V1__STATUS_CODE__OK, 200 },
		{ SJE__V1__STATUS_CODE__INVALID_ARGUMENT, 400 },
		{ SJE__V1__STATUS_CODE__OUT_OF_RANGE, 400 },
		{ SJE__V1__STATUS_CODE__UNAUTHENTICATED, 401 },
		{ SJE__V1__STATUS_CODE__PERMISSION_DENIED, 403 },
		{ SJE__V1__STATUS_CODE__NOT_FOUND, 404 },
		{ SJE__V1__STATUS_CODE__ALREADY_EXISTS, 409 },
		{ SJE__V1__STATUS_CODE__FAILED_PRECONDITION, 409 },
		{ SJE__V1__STATUS_CODE__ABORTED, 409 },
		{ SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED, 429 },
		{ SJE__V1__STATUS_CODE__UNIMPLEMENTED, 501 },
		{ SJE__V1__STATUS_CODE__UNAVAILABLE, 503 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(
		    sje__gw_http_status(want[i].code), want[i].http);
	}
}

static void
test_http_status_is_500_for_every_code_it_does_not_name(void **state)
{
	(void) state;
	static const int codes[] = { SJE__V1__STATUS_CODE__INTERNAL,
		SJE__V1__STATUS_CODE__UNKNOWN, SJE__V1__STATUS_CODE__DATA_LOSS,
		SJE__V1__STATUS_CODE__CANCELLED,
		SJE__V1__STATUS_CODE__DEADLINE_EXCEEDED, -1, 17, 999 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_int_equal(sje__gw_http_status(codes[i]), 500);
	}
}

// error_text renders sje__rest_error_json(code, field, msg) compactly.
static char *
error_text(const char *code, const char *field, const char *msg)
{
	json_t *j = sje__rest_error_json(code, field, msg);
	assert_non_null(j);
	char *text = sje__json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(text);
	return text;
}

static void
test_error_json_has_code_message_and_field_in_that_order(void **state)
{
	(void) state;
	char *t = error_text("NOT_FOUND", "task_id", "no job 'x'");
	assert_string_equal(t,
	    "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"no job "
	    "'x'\",\"field\":\"task_id\"}}");
	free(t);
}

static void
test_error_json_gives_empty_strings_for_a_missing_field_or_message(
    void **state)
{
	(void) state;
	char *t = error_text("INTERNAL", NULL, NULL);
	assert_string_equal(t,
	    "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"\","
	    "\"field\":\"\"}}");
	free(t);
}

static void
test_error_json_makes_text_that_is_not_utf8_printable(void **state)
{
	(void) state;
	char *t = error_text("INVALID_ARGUMENT", "na\xffme", "bad \xc3x");
	assert_string_equal(t,
	    "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":"
	    "\"bad??x\",\"field\":\"na?me\"}}");
	free(t);
	// UTF-8 is kept as it is.
	t = error_text("INVALID_ARGUMENT", "f", "caf\xc3\xa9 ok");
	assert_string_equal(t,
	    "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"message\":"
	    "\"caf\xc3\xa9 ok\",\"field\":\"f\"}}");
	free(t);
}

// field_as asserts that a Submit error's field reads as want.
static void
field_as(bool batch, const char *field, const char *want)
{
	char buf[SJE__REST_FIELD_BYTES];
	sje__rest_submit_field(batch, field, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_submit_field_names_a_single_spec_s_field_as_its_body_did(void **state)
{
	(void) state;
	field_as(false, "jobs[0].function", "function");
	field_as(false, "jobs[0].retry.max_attempts", "retry.max_attempts");
	field_as(false, "function", "function");
	field_as(false, "jobs", "");
	field_as(false, "", "");
	field_as(false, "jobsworth", "jobsworth");
}

static void
test_submit_field_names_a_batch_s_field_under_tasks(void **state)
{
	(void) state;
	field_as(true, "jobs[3].function", "tasks[3].function");
	field_as(true, "jobs", "tasks");
	field_as(true, "function", "tasks[0].function");
	field_as(true, "", "tasks[0]");
}

static void
test_sanitize_keeps_printable_ascii_and_cuts_to_fit(void **state)
{
	(void) state;
	char buf[8];
	sje__rest_sanitize(buf, sizeof(buf), "/a b\x01\xff", 6);
	assert_string_equal(buf, "/a?b??");
	sje__rest_sanitize(buf, sizeof(buf), "abcdefghijk", 11);
	assert_string_equal(buf, "abcdefg");
	sje__rest_sanitize(buf, sizeof(buf), "abc", 0);
	assert_string_equal(buf, "");
	buf[0] = 'x';
	sje__rest_sanitize(buf, 0, "abc", 3); // writes nothing
	assert_int_equal(buf[0], 'x');
}

// text_of renders j (taken) compactly; the caller frees the text.
static char *
text_of(json_t *j)
{
	assert_non_null(j);
	char *t = sje__json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(t);
	return t;
}

static void
test_retry_json_shows_descendants_without_created(void **state)
{
	(void) state;
	Sje__V1__SubmitResult d[2], *dp[2] = { &d[0], &d[1] };
	for (int i = 0; i < 2; i++) {
		sje__v1__submit_result__init(&d[i]);
		d[i].state   = SJE__V1__JOB_STATE__JOB_STATE_PENDING;
		d[i].created = true;
	}
	d[0].task_id = "b";
	d[1].task_id = "c";
	Sje__V1__RetryReply r;
	sje__v1__retry_reply__init(&r);
	r.task_id = "a";
	r.state   = SJE__V1__JOB_STATE__JOB_STATE_QUEUED;
	char *t   = text_of(sje__shape_retry(&r));
	assert_string_equal(
	    t, "{\"task_id\":\"a\",\"state\":\"QUEUED\",\"descendants\":[]}");
	free(t);
	r.descendants   = dp;
	r.n_descendants = 2;
	t               = text_of(sje__shape_retry(&r));
	assert_string_equal(t,
	    "{\"task_id\":\"a\",\"state\":\"QUEUED\",\"descendants\":["
	    "{\"task_id\":\"b\",\"state\":\"PENDING\"},"
	    "{\"task_id\":\"c\",\"state\":\"PENDING\"}]}");
	free(t);
}

// keys_of is the keys of object j (borrowed), in order, as "a,b,c".
static void
keys_of(const json_t *j, char *buf, size_t len)
{
	const char *k;
	json_t     *v;
	size_t      o = 0;
	buf[0]        = '\0';
	json_object_foreach ((json_t *) j, k, v) {
		o += (size_t) snprintf(
		    buf + o, len - o, "%s%s", o > 0 ? "," : "", k);
		assert_true(o < len);
	}
}

// reason_keys asserts that reason i of the explain JSON j has exactly
// the keys want.
static void
reason_keys(const json_t *j, size_t i, const char *want)
{
	char got[256];
	keys_of(json_array_get(json_object_get(j, "reasons"), i), got,
	    sizeof(got));
	assert_string_equal(got, want);
}

static void
test_explain_json_keeps_code_message_and_only_the_keys_that_are_set(
    void **state)
{
	(void) state;
	Sje__V1__ParentState p;
	sje__v1__parent_state__init(&p);
	p.task_id                = "parent";
	p.state                  = SJE__V1__JOB_STATE__JOB_STATE_RUNNING;
	Sje__V1__ParentState *pp = &p;
	Sje__V1__Timestamp    since;
	sje__v1__timestamp__init(&since);
	since.unix_ms = 1795816800123; // 2026-11-27T22:00:00.123Z
	Sje__V1__Reason rs[3], *rp[3] = { &rs[0], &rs[1], &rs[2] };
	for (int i = 0; i < 3; i++) {
		sje__v1__reason__init(&rs[i]);
	}
	rs[0].code      = "WAITING_ON_PARENTS";
	rs[0].message   = "1 parent has not succeeded";
	rs[0].parents   = &pp;
	rs[0].n_parents = 1;
	rs[1].code      = "LEASED";
	rs[1].message   = "worker-a runs it";
	rs[1].worker    = "worker-a";
	rs[1].since     = &since;
	rs[1].attempt   = 2;
	rs[2].code      = "NO_WORKER"; // message "" is kept all the same
	Sje__V1__ExplainReply r;
	sje__v1__explain_reply__init(&r);
	r.task_id   = "t";
	r.state     = SJE__V1__JOB_STATE__JOB_STATE_PENDING;
	r.reasons   = rp;
	r.n_reasons = 3;
	json_t *j   = sje__shape_explain(&r);
	assert_non_null(j);
	char keys[256];
	keys_of(j, keys, sizeof(keys));
	assert_string_equal(keys, "task_id,state,reasons");
	assert_string_equal(
	    json_string_value(json_object_get(j, "state")), "PENDING");
	reason_keys(j, 0, "code,message,parents");
	reason_keys(j, 1, "code,message,worker,since,attempt");
	reason_keys(j, 2, "code,message");
	json_t *r1 = json_array_get(json_object_get(j, "reasons"), 1);
	char   *t  = text_of(json_incref(r1));
	assert_string_equal(t,
	    "{\"code\":\"LEASED\",\"message\":\"worker-a runs it\","
	    "\"worker\":\"worker-a\",\"since\":\"2026-11-27T22:00:00.123Z\","
	    "\"attempt\":2}");
	free(t);
	json_t *r0 = json_array_get(json_object_get(j, "reasons"), 0);
	t          = text_of(json_incref(json_object_get(r0, "parents")));
	assert_string_equal(
	    t, "[{\"task_id\":\"parent\",\"state\":\"RUNNING\"}]");
	free(t);
	json_decref(j);
	r.n_reasons = 0;
	t           = text_of(sje__shape_explain(&r));
	assert_string_equal(
	    t, "{\"task_id\":\"t\",\"state\":\"PENDING\",\"reasons\":[]}");
	free(t);
}

// function_as asserts that f renders as sje__pb_to_json renders it, but
// with concurrency and rate null when they are unset.
static void
function_as(const Sje__V1__FunctionInfo *f, bool no_concurrency, bool no_rate)
{
	json_t *got  = sje__shape_function(f);
	json_t *want = sje__pb_to_json(&f->base);
	assert_non_null(got);
	assert_non_null(want);
	if (no_concurrency) {
		json_object_set_new(want, "concurrency", json_null());
	}
	if (no_rate) {
		json_object_set_new(want, "rate", json_null());
	}
	if (!json_equal(got, want)) {
		char *g = text_of(json_incref(got));
		print_error("rendered as %s\n", g);
		free(g);
		fail();
	}
	char gk[512], wk[512];
	keys_of(got, gk, sizeof(gk));
	keys_of(want, wk, sizeof(wk));
	assert_string_equal(gk, wk); // in the same order
	json_decref(got);
	json_decref(want);
}

static void
test_function_json_renders_no_limit_as_null(void **state)
{
	(void) state;
	char                 *w[] = { "wa", "wb" };
	Sje__V1__FunctionInfo f;
	sje__v1__function_info__init(&f);
	f.name      = "resize";
	f.queued    = 3;
	f.workers   = w;
	f.n_workers = 2;
	function_as(&f, true, true);
	json_t *j = sje__shape_function(&f);
	assert_true(json_is_null(json_object_get(j, "concurrency")));
	assert_true(json_is_null(json_object_get(j, "rate")));
	assert_int_equal(json_integer_value(json_object_get(j, "queued")), 3);
	json_decref(j);
	f.paused      = true;
	f.concurrency = 10;
	f.rate        = "100/s";
	function_as(&f, false, false);
	j = sje__shape_function(&f);
	assert_int_equal(
	    json_integer_value(json_object_get(j, "concurrency")), 10);
	assert_string_equal(
	    json_string_value(json_object_get(j, "rate")), "100/s");
	assert_true(json_is_true(json_object_get(j, "paused")));
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_http_status_follows_the_table_of_docs_rest_md),
		cmocka_unit_test(
		    test_http_status_is_500_for_every_code_it_does_not_name),
		cmocka_unit_test(
		    test_error_json_has_code_message_and_field_in_that_order),
		cmocka_unit_test(
		    test_error_json_gives_empty_strings_for_a_missing_field_or_message),
		cmocka_unit_test(
		    test_error_json_makes_text_that_is_not_utf8_printable),
		cmocka_unit_test(
		    test_submit_field_names_a_single_spec_s_field_as_its_body_did),
		cmocka_unit_test(
		    test_submit_field_names_a_batch_s_field_under_tasks),
		cmocka_unit_test(
		    test_sanitize_keeps_printable_ascii_and_cuts_to_fit),
		cmocka_unit_test(
		    test_retry_json_shows_descendants_without_created),
		cmocka_unit_test(
		    test_explain_json_keeps_code_message_and_only_the_keys_that_are_set),
		cmocka_unit_test(test_function_json_renders_no_limit_as_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
