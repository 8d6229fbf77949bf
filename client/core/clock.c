// clock.c — the wall clock, the one monotonic clock, and condition
// variables that time out against the monotonic one (clock.h).
#include "clock.h"

#include "util.h"

#include <errno.h>
#include <time.h>

sje_time_ms
sje_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (sje_time_ms) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sje_dur_ms
sje_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (sje_dur_ms) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sje_err
sje__cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int                rv;

	if (pthread_condattr_init(&attr) != 0) {
		return SJE_ENOMEM;
	}
	rv = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rv == 0) {
		rv = pthread_cond_init(cv, &attr);
	}
	(void) pthread_condattr_destroy(&attr);
	return rv == 0 ? SJE_OK : sje__errno_err(rv);
}

bool
sje__cond_wait_until(
    pthread_cond_t *cv, pthread_mutex_t *mtx, sje_dur_ms deadline_ms)
{
	struct timespec ts;

	ts.tv_sec  = (time_t) (deadline_ms / 1000);
	ts.tv_nsec = (long) (deadline_ms % 1000) * 1000000L;
	return pthread_cond_timedwait(cv, mtx, &ts) != ETIMEDOUT;
}
