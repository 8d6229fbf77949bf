// rest_output_test.c — the REST gateway's answers
// (server/door/rest_output.c): the status table, the error JSON, the
// naming of a Submit error's field, and text made printable.
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
