// fake_clock.h — a clock for tests of the scheduler (server/sched/clock.h):
// its monotonic and wall-clock readings move only when the test moves
// them, together (fake_clock_advance) or the wall clock alone
// (fake_clock_step_wall, as NTP or an operator would step it).
//
// Not thread-safe: for a scheduler opened manual, whose rounds run on the
// test's thread.
#ifndef SJE_TESTS_FAKE_CLOCK_H
#define SJE_TESTS_FAKE_CLOCK_H

#include "sched/clock.h"

typedef struct fake_clock {
	sje_dur_ms  mono_ms; // any origin: a restart may start it anywhere
	sje_time_ms unix_ms;
} fake_clock;

static inline sje_dur_ms
fake_clock_mono(void *arg)
{
	return ((const fake_clock *) arg)->mono_ms;
}

static inline sje_time_ms
fake_clock_unix(void *arg)
{
	return ((const fake_clock *) arg)->unix_ms;
}

// fake_clock_of is the sje__clock that reads c (borrowed while in use).
static inline sje__clock
fake_clock_of(fake_clock *c)
{
	return (sje__clock) { .mono_ms = fake_clock_mono,
		.unix_ms               = fake_clock_unix,
		.arg                   = c };
}

// fake_clock_advance lets ms pass on both clocks.
static inline void
fake_clock_advance(fake_clock *c, sje_dur_ms ms)
{
	c->mono_ms += ms;
	c->unix_ms += ms;
}

// fake_clock_step_wall steps the wall clock alone by ms (may be < 0).
static inline void
fake_clock_step_wall(fake_clock *c, sje_time_ms ms)
{
	c->unix_ms += ms;
}

#endif // SJE_TESTS_FAKE_CLOCK_H
