// minutes.h — the last hour, minute by minute: how many attempts ended,
// how, and how long they ran. Kept in memory only (a restart starts an
// empty hour), for the dashboard's throughput and latency graphs
// (Stats.last_hour, GET /stats).
//
// A ring of SJE__MINUTES_N slots, one per wall-clock minute; a slot is
// reused when its minute has passed out of the hour. Pure and
// single-threaded: the scheduler's thread owns it (struct sje__sched).
#ifndef SJE_SERVER_SCHED_MINUTES_H
#define SJE_SERVER_SCHED_MINUTES_H

#include <sje/sje.h>

#include <stdbool.h>
#include <stdint.h>

#define SJE__MINUTES_N 60u // minutes kept

// sje__minute is one minute's counts.
typedef struct sje__minute {
	int64_t  minute;     // Unix minutes (unix_ms / 60000)
	uint64_t succeeded;  // attempts that ended SUCCEEDED in it
	uint64_t failed;     // attempts that ended any other way
	uint64_t run_ms_sum; // their run times, summed
	uint64_t run_ms_max; // the longest of them
} sje__minute;

// sje__minutes is the ring. Zeroed storage is an empty one (a slot of
// minute 0, 1970, is never in the hour read).
typedef struct sje__minutes {
	sje__minute slot[SJE__MINUTES_N];
} sje__minutes;

// sje__minutes_note counts an attempt that ended at now_unix_ms (wall
// clock), succeeded or not, after running run_ms (a negative one counts
// as 0).
void sje__minutes_note(
    sje__minutes *m, sje_time_ms now_unix_ms, bool succeeded, int64_t run_ms);

// sje__minutes_hour writes into out (SJE__MINUTES_N entries) the hour
// that ends with now_unix_ms's minute, oldest first, a minute with nothing
// counted as zeroes with its minute set.
void sje__minutes_hour(const sje__minutes *m, sje_time_ms now_unix_ms,
    sje__minute out[SJE__MINUTES_N]);

#endif // SJE_SERVER_SCHED_MINUTES_H
