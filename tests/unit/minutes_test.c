// minutes_test.c — the last hour, minute by minute
// (server/sched/minutes.c): counts land in their minute, the hour reads
// oldest first with empty minutes as zeroes, and a minute that left the
// hour is forgotten when its slot comes round again.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "sched/minutes.h"

#define MIN_MS 60000
// A minute well after 1970 (2026-12-04T12:00:00Z).
#define T0 ((sje_time_ms) 1796385600000)

static void
test_minutes_count_attempts_in_their_minute(void **state)
{
	(void) state;
	sje__minutes m;
	memset(&m, 0, sizeof(m));
	sje__minutes_note(&m, T0 + 10, true, 5);
	sje__minutes_note(&m, T0 + 59999, false, 20);
	sje__minutes_note(&m, T0 + MIN_MS, true, -3); // a clock step back
	sje__minute h[SJE__MINUTES_N];
	sje__minutes_hour(&m, T0 + MIN_MS + 5, h);
	assert_int_equal(h[SJE__MINUTES_N - 1].minute, T0 / MIN_MS + 1);
	assert_int_equal(h[SJE__MINUTES_N - 1].succeeded, 1);
	assert_int_equal(h[SJE__MINUTES_N - 1].run_ms_sum, 0);
	assert_int_equal(h[SJE__MINUTES_N - 2].minute, T0 / MIN_MS);
	assert_int_equal(h[SJE__MINUTES_N - 2].succeeded, 1);
	assert_int_equal(h[SJE__MINUTES_N - 2].failed, 1);
	assert_int_equal(h[SJE__MINUTES_N - 2].run_ms_sum, 25);
	assert_int_equal(h[SJE__MINUTES_N - 2].run_ms_max, 20);
	for (unsigned i = 0; i < SJE__MINUTES_N - 2; i++) {
		assert_int_equal(h[i].minute,
		    T0 / MIN_MS + 1 - (int64_t) (SJE__MINUTES_N - 1) + i);
		assert_int_equal(h[i].succeeded + h[i].failed, 0);
	}
}

static void
test_minutes_forget_what_left_the_hour(void **state)
{
	(void) state;
	sje__minutes m;
	memset(&m, 0, sizeof(m));
	sje__minutes_note(&m, T0, true, 1);
	sje__minute h[SJE__MINUTES_N];
	// 59 minutes later it is the oldest minute of the hour.
	sje__minutes_hour(&m, T0 + 59 * (sje_time_ms) MIN_MS, h);
	assert_int_equal(h[0].succeeded, 1);
	// 60 minutes later it has left the hour, even unread.
	sje__minutes_hour(&m, T0 + 60 * (sje_time_ms) MIN_MS, h);
	for (unsigned i = 0; i < SJE__MINUTES_N; i++) {
		assert_int_equal(h[i].succeeded, 0);
	}
	// Its slot, reused, starts from zero.
	sje__minutes_note(&m, T0 + 60 * (sje_time_ms) MIN_MS, false, 7);
	sje__minutes_hour(&m, T0 + 60 * (sje_time_ms) MIN_MS, h);
	assert_int_equal(h[SJE__MINUTES_N - 1].succeeded, 0);
	assert_int_equal(h[SJE__MINUTES_N - 1].failed, 1);
	assert_int_equal(h[SJE__MINUTES_N - 1].run_ms_max, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minutes_count_attempts_in_their_minute),
		cmocka_unit_test(test_minutes_forget_what_left_the_hour),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
