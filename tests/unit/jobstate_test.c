// jobstate_test.c — unit tests of the one job-state table
// (client/core/jobstate.c): the transitions, the terminal states, the
// names, and libsje's public functions built on them.
#include <sje/client.h>

#include "jobstate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

enum {
	UNSPEC    = SJE__V1__JOB_STATE__JOB_STATE_UNSPECIFIED,
	PENDING   = SJE__V1__JOB_STATE__JOB_STATE_PENDING,
	SCHEDULED = SJE__V1__JOB_STATE__JOB_STATE_SCHEDULED,
	QUEUED    = SJE__V1__JOB_STATE__JOB_STATE_QUEUED,
	RUNNING   = SJE__V1__JOB_STATE__JOB_STATE_RUNNING,
	SUCCEEDED = SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED,
	FAILED    = SJE__V1__JOB_STATE__JOB_STATE_FAILED,
	CANCELLED = SJE__V1__JOB_STATE__JOB_STATE_CANCELLED,
	UPSTREAM  = SJE__V1__JOB_STATE__JOB_STATE_UPSTREAM_FAILED,
	NSTATES,
};

// --- state machine -------------------------------------------------------

// The allowed transitions, as ARCHITECTURE.md lists them; every other pair
// (including out-of-range values) must be refused.
static const struct {
	int from, to;
} allowed[] = {
	{ UNSPEC, PENDING },
	{ UNSPEC, SCHEDULED },
	{ UNSPEC, QUEUED },
	{ PENDING, QUEUED },
	{ PENDING, SCHEDULED },
	{ PENDING, CANCELLED },
	{ PENDING, UPSTREAM },
	{ SCHEDULED, QUEUED },
	{ SCHEDULED, CANCELLED },
	{ SCHEDULED, UPSTREAM },
	{ QUEUED, RUNNING },
	{ QUEUED, CANCELLED },
	{ QUEUED, UPSTREAM },
	{ RUNNING, SUCCEEDED },
	{ RUNNING, FAILED },
	{ RUNNING, CANCELLED },
	{ RUNNING, QUEUED },
	{ RUNNING, SCHEDULED },
};

static bool
listed(int from, int to)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (allowed[i].from == from && allowed[i].to == to) {
			return true;
		}
	}
	return false;
}

static void
test_transitions_are_allowed_exactly_as_the_state_machine_says(void **state)
{
	(void) state;
	// Every pair, with one value below and one above the enum.
	for (int from = -1; from <= NSTATES; from++) {
		for (int to = -1; to <= NSTATES; to++) {
			bool want = listed(from, to);
			if (sje__job_transition_allowed(from, to) != want) {
				fail_msg("%s -> %s: want %s",
				    sje_job_state_name(from),
				    sje_job_state_name(to),
				    want ? "allowed" : "refused");
			}
		}
	}
}

static void
test_terminal_states_are_the_four_final_ones(void **state)
{
	(void) state;
	for (int s = -1; s <= NSTATES; s++) {
		bool want = s == SUCCEEDED || s == FAILED || s == CANCELLED ||
		    s == UPSTREAM;
		assert_int_equal(sje_job_state_is_terminal(s), want);
		// A terminal state goes nowhere.
		for (int to = 0; want && to < NSTATES; to++) {
			assert_false(sje__job_transition_allowed(s, to));
		}
	}
}

static void
test_state_names_drop_the_prefix(void **state)
{
	(void) state;
	assert_string_equal(sje_job_state_name(QUEUED), "QUEUED");
	assert_string_equal(sje_job_state_name(UPSTREAM), "UPSTREAM_FAILED");
	assert_string_equal(sje_job_state_name(42), "UNKNOWN");
}

static void
test_every_enum_value_has_its_name_without_the_prefix(void **state)
{
	(void) state;
	const ProtobufCEnumDescriptor *d = &sje__v1__job_state__descriptor;
	assert_int_equal(d->n_values, NSTATES);
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *full = d->values[i].name; // "JOB_STATE_QUEUED"
		assert_string_equal(
		    sje_job_state_name(d->values[i].value), full + 10);
	}
}

static void
test_parse_reads_any_case_and_refuses_unknown_names(void **state)
{
	(void) state;
	int s = -1;
	assert_true(sje_job_state_parse("queued", &s));
	assert_int_equal(s, QUEUED);
	assert_true(sje_job_state_parse("UPSTREAM_FAILED", &s));
	assert_int_equal(s, UPSTREAM);
	for (int v = PENDING; v < NSTATES; v++) {
		assert_true(sje_job_state_parse(sje_job_state_name(v), &s));
		assert_int_equal(s, v);
	}
	s = -1;
	assert_false(sje_job_state_parse("UNSPECIFIED", &s));
	assert_false(sje_job_state_parse("DONE", &s));
	assert_false(sje_job_state_parse("", &s));
	assert_int_equal(s, -1);
}

static void
test_terminal_states_are_those_from_the_first_terminal_on(void **state)
{
	(void) state;
	for (int s = 0; s < NSTATES; s++) {
		assert_int_equal(sje_job_state_is_terminal(s),
		    s >= SJE_JOB_STATE_FIRST_TERMINAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_transitions_are_allowed_exactly_as_the_state_machine_says),
		cmocka_unit_test(test_terminal_states_are_the_four_final_ones),
		cmocka_unit_test(test_state_names_drop_the_prefix),
		cmocka_unit_test(
		    test_every_enum_value_has_its_name_without_the_prefix),
		cmocka_unit_test(
		    test_parse_reads_any_case_and_refuses_unknown_names),
		cmocka_unit_test(
		    test_terminal_states_are_those_from_the_first_terminal_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
