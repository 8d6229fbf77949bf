// worker_session_test — the worker's retry back-off and its reading of
// call errors (worker/session.c). The calls themselves, registration and
// registering again need a coordinator: integration.worker_reconnect,
// worker_names and worker_fencing drive them against a real one.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "session.h"

#include <stdio.h>
#include <string.h>

static void
test_backoff_starts_at_the_minimum_and_doubles_to_the_maximum(void **state)
{
	(void) state;
	sje__backoff b;
	sje__backoff_reset(&b);
	assert_int_equal(sje__backoff_next(&b), 100);
	assert_int_equal(sje__backoff_next(&b), 200);
	assert_int_equal(sje__backoff_next(&b), 400);
	assert_int_equal(sje__backoff_next(&b), 800);
	assert_int_equal(sje__backoff_next(&b), 1600);
	assert_int_equal(sje__backoff_next(&b), 2000);
	assert_int_equal(sje__backoff_next(&b), 2000);
}

static void
test_backoff_reset_starts_again_from_the_minimum(void **state)
{
	(void) state;
	sje__backoff b = { 0 }; // zeroed counts as the minimum
	assert_int_equal(sje__backoff_next(&b), SJE__BACKOFF_MIN_MS);
	(void) sje__backoff_next(&b);
	(void) sje__backoff_next(&b);
	sje__backoff_reset(&b);
	assert_int_equal(sje__backoff_next(&b), SJE__BACKOFF_MIN_MS);
	assert_int_equal(sje__backoff_next(&b), 2 * SJE__BACKOFF_MIN_MS);
}

static void
test_unreachable_and_timed_out_calls_are_retried(void **state)
{
	(void) state;
	assert_true(sje__session_transient(SJE_EUNAVAIL));
	assert_true(sje__session_transient(SJE_ETIMEDOUT));
	assert_false(sje__session_transient(SJE_EPRECOND));
	assert_false(sje__session_transient(SJE_EINVAL));
	assert_false(sje__session_transient(SJE_OK));
}

static void
test_an_unknown_session_means_register_again(void **state)
{
	(void) state;
	assert_true(sje__session_lost(SJE_EPRECOND));
	assert_true(sje__session_lost(SJE_ENOTFOUND));
	assert_false(sje__session_lost(SJE_EUNAVAIL));
	assert_false(sje__session_lost(SJE_EPERM));
}

static void
test_first_registration_gives_up_only_on_a_refusal(void **state)
{
	(void) state;
	// Worth retrying: unreachable, or briefly unable to answer.
	assert_false(sje__session_refused(SJE_EUNAVAIL));
	assert_false(sje__session_refused(SJE_ETIMEDOUT));
	assert_false(sje__session_refused(SJE_EINTERNAL));
	assert_false(sje__session_refused(SJE_ELIMIT));
	assert_false(sje__session_refused(SJE_EIO));
	// The coordinator said no.
	assert_true(sje__session_refused(SJE_EPERM));
	assert_true(sje__session_refused(SJE_EINVAL));
	assert_true(sje__session_refused(SJE_EUNAUTH));
	assert_true(sje__session_refused(SJE_ECONFIG));
}

static void
test_why_names_the_server_message_when_there_is_one(void **state)
{
	(void) state;
	sje_status st;
	char       buf[256];
	memset(&st, 0, sizeof(st));
	assert_string_equal(
	    sje__session_why(SJE_EUNAVAIL, &st, buf, sizeof(buf)),
	    sje_strerror(SJE_EUNAVAIL));
	strcpy(st.message, "name not allowed");
	char want[256];
	snprintf(want, sizeof(want), "%s (name not allowed)",
	    sje_strerror(SJE_EPERM));
	assert_string_equal(
	    sje__session_why(SJE_EPERM, &st, buf, sizeof(buf)), want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_backoff_starts_at_the_minimum_and_doubles_to_the_maximum),
		cmocka_unit_test(
		    test_backoff_reset_starts_again_from_the_minimum),
		cmocka_unit_test(
		    test_unreachable_and_timed_out_calls_are_retried),
		cmocka_unit_test(test_an_unknown_session_means_register_again),
		cmocka_unit_test(
		    test_first_registration_gives_up_only_on_a_refusal),
		cmocka_unit_test(
		    test_why_names_the_server_message_when_there_is_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
