// minutes.c — the last hour, minute by minute (minutes.h). A minute's
// slot is minute % SJE__MINUTES_N; a slot holding an older minute is
// cleared when its slot is needed again, and ignored when read.
#include "sched/minutes.h"

#include <string.h>

#define MINUTE_MS 60000

static int64_t
minutes_of(sje_time_ms unix_ms)
{
	return unix_ms >= 0 ? unix_ms / MINUTE_MS : 0;
}

void
sje__minutes_note(
    sje__minutes *m, sje_time_ms now_unix_ms, bool succeeded, int64_t run_ms)
{
	int64_t      minute = minutes_of(now_unix_ms);
	sje__minute *s      = &m->slot[(uint64_t) minute % SJE__MINUTES_N];
	if (s->minute != minute) {
		memset(s, 0, sizeof(*s));
		s->minute = minute;
	}
	uint64_t ms = run_ms > 0 ? (uint64_t) run_ms : 0;
	if (succeeded) {
		s->succeeded++;
	} else {
		s->failed++;
	}
	s->run_ms_sum += ms;
	if (ms > s->run_ms_max) {
		s->run_ms_max = ms;
	}
}

void
sje__minutes_hour(const sje__minutes *m, sje_time_ms now_unix_ms,
    sje__minute out[SJE__MINUTES_N])
{
	int64_t last = minutes_of(now_unix_ms);
	for (unsigned i = 0; i < SJE__MINUTES_N; i++) {
		int64_t            minute = last - (SJE__MINUTES_N - 1) + i;
		const sje__minute *s =
		    &m->slot[(uint64_t) (minute < 0 ? 0 : minute) %
		        SJE__MINUTES_N];
		if (minute > 0 && s->minute == minute) {
			out[i] = *s;
		} else {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].minute = minute;
		}
	}
}
