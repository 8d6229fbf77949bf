// clock_test.c — unit tests of the monotonic clock and its timed waits
// (client/core/clock.c).
#include "clock.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

static void
test_the_monotonic_clock_never_goes_back(void **state)
{
	(void) state;
	sje_dur_ms last = sje_mono_ms();
	for (int i = 0; i < 1000; i++) {
		sje_dur_ms now = sje_mono_ms();
		assert_true(now >= last);
		last = now;
	}
}

static void
test_a_timed_wait_ends_at_its_monotonic_deadline(void **state)
{
	(void) state;
	pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t  cv;
	assert_int_equal(sje__cond_init_mono(&cv), SJE_OK);
	pthread_mutex_lock(&mtx);
	sje_dur_ms deadline = sje_mono_ms() + 50;
	// Nobody signals: every return before the deadline is spurious.
	while (sje__cond_wait_until(&cv, &mtx, deadline)) {
		assert_true(sje_mono_ms() < deadline + 1000);
	}
	assert_true(sje_mono_ms() >= deadline);
	pthread_mutex_unlock(&mtx);
	pthread_cond_destroy(&cv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_monotonic_clock_never_goes_back),
		cmocka_unit_test(
		    test_a_timed_wait_ends_at_its_monotonic_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
