// clock.h — the scheduler's two clocks, passed in.
//
// Every deadline inside the scheduler (leases, delays, timeouts, held
// calls, ticks, worker silence) is kept on the monotonic clock, so that a
// step of the wall clock (NTP, an operator, a VM resumed) expires nothing
// and delays nothing. The wall clock gives only what is stored and shown:
// a job's created/started/finished times, an event's `at`, a worker's
// last-seen time. Names say which is which: `*_ms` is a monotonic instant,
// `*_unix_ms` a wall-clock one; a row of the store holds wall-clock times
// only (a monotonic value means nothing after a restart).
//
// The scheduler samples both once per round. Tests pass a fake clock
// (tests/support/fake_clock.h) to drive it without waiting.
#ifndef SJE_SERVER_SCHED_CLOCK_H
#define SJE_SERVER_SCHED_CLOCK_H

#include <sje/sje.h>

// sje__clock is a pair of clock readers with their argument. Both must be
// safe to call from the scheduler's thread; mono_ms never goes back.
typedef struct sje__clock {
	// mono_ms is a monotonic instant in milliseconds (any origin).
	sje_dur_ms (*mono_ms)(void *arg);
	// unix_ms is the wall-clock time in Unix milliseconds.
	sje_time_ms (*unix_ms)(void *arg);
	void *arg;
} sje__clock;

// sje__clock_system_mono and sje__clock_system_unix read the system's
// CLOCK_MONOTONIC and CLOCK_REALTIME (arg is ignored). Thread-safe.
static inline sje_dur_ms
sje__clock_system_mono(void *arg)
{
	(void) arg;
	return sje_mono_ms();
}

static inline sje_time_ms
sje__clock_system_unix(void *arg)
{
	(void) arg;
	return sje_now_ms();
}

// SJE__CLOCK_SYSTEM is the system's clocks, as an sje__clock initializer.
#define SJE__CLOCK_SYSTEM                                  \
	((sje__clock) { .mono_ms = sje__clock_system_mono, \
	    .unix_ms             = sje__clock_system_unix, \
	    .arg                 = NULL })

#endif // SJE_SERVER_SCHED_CLOCK_H
