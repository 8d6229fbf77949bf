// base.c — growing arrays, allocation that cannot fail, the fatal exit,
// histograms: the scheduler's lowest layer (see base.h for the layers).
// No state of its own; safe on any thread but the fatal exit, which ends
// the process.
#include "sched/base.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const double sched_hist_ms[SCHED_HIST_N] = { 1, 5, 10, 50, 100, 500, 1000,
	5000, 10000, 60000, 300000, 3600000 };

// sje__sched_grow makes room for one more element of size sz in *v.
bool
sje__sched_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap) {
		return true;
	}
	size_t nc = *cap != 0 ? *cap * 2 : 16;
	void  *nv = realloc(*v, nc * sz);
	if (nv == NULL) {
		return false;
	}
	*v   = nv;
	*cap = nc;
	return true;
}

// sje__sched_fatal stops the process: the store and memory may now disagree,
// and only a restart (which rebuilds memory from the store) is safe.
void
sje__sched_fatal(const char *what, sje_err err)
{
	SJE_ERROR("scheduler: %s: %s; exiting so that a restart recovers "
	          "from the store",
	    what, sje_strerror(err));
	_exit(70);
}

void *
sje__sched_xalloc(size_t n)
{
	void *p = calloc(1, n);
	if (p == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	return p;
}

char *
sje__sched_xstrdup(const char *s)
{
	char *d = sje__strdup(s != NULL ? s : "");
	if (d == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	return d;
}

// sje__sched_hist_add records one duration.
void
sje__sched_hist_add(sched_hist *h, sje_time_ms ms)
{
	double v = ms < 0 ? 0 : (double) ms;
	int    i = 0;
	while (i < SCHED_HIST_N && v > sched_hist_ms[i]) {
		i++;
	}
	h->counts[i]++;
	h->sum_ms += v;
	h->n++;
}

// sje__sched_hist_merge adds the durations of from to into.
void
sje__sched_hist_merge(sched_hist *into, const sched_hist *from)
{
	for (size_t i = 0; i <= SCHED_HIST_N; i++) {
		into->counts[i] += from->counts[i];
	}
	into->sum_ms += from->sum_ms;
	into->n += from->n;
}
