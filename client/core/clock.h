// clock.h — SJE's one monotonic clock for timed waits (internal).
//
// Deadlines are sje_mono_ms() values (<sje/sje.h>): CLOCK_MONOTONIC in
// milliseconds, so a step of the wall clock neither shortens nor
// stretches a wait. A condition variable that is waited on with a
// deadline is made by sje__cond_init_mono, so that pthread_cond_timedwait
// reads the same clock.
#ifndef SJE_CORE_CLOCK_H
#define SJE_CORE_CLOCK_H

#include <sje/sje.h>

#include <pthread.h>

// sje__cond_init_mono initialises cv to time out against sje_mono_ms.
// Errors: SJE_ENOMEM, or the errno translation of pthread_cond_init's.
sje_err sje__cond_init_mono(pthread_cond_t *cv);

// sje__cond_wait_until waits on cv (initialised by sje__cond_init_mono)
// with mtx held, until it is signalled or sje_mono_ms() reaches
// deadline_ms. Returns true when it was signalled (or woke spuriously),
// false when the deadline passed.
bool sje__cond_wait_until(
    pthread_cond_t *cv, pthread_mutex_t *mtx, sje_dur_ms deadline_ms);

#endif // SJE_CORE_CLOCK_H
