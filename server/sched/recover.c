// recover.c — memory rebuilt from the store at open (recover.h). The
// store is the truth: the functions get the settings kept for them (a
// pause), every unfinished job becomes a sched_job again, on the heap its
// state says; RUNNING jobs keep their leases for lease_s from
// the restart; PENDING jobs are linked to their unfinished parents.
// Crash-only: this is also what follows a fatal store error.
#include "sched/recover.h"

#include "sched/heap.h"
#include "sched/jobs.h"
#include "sched/table.h"

#include "log.h"
#include "store/job.h"
#include "util.h"

#include <stdlib.h>

// sched_recover_row makes the sched_job of one unfinished row
// (sje__store_scan_active's callback): on the heap its state says, a
// RUNNING one with a lease's time from now.
static sje_err
sched_recover_row(void *arg, const sje__job_row *row)
{
	sje__sched *s = arg;
	sched_job  *j = sje__sched_job_of_row(s, row);
	switch (j->state) {
	case ST_SCHEDULED:
		sje__sched_heap_push(&s->delayed, j);
		break;
	case ST_QUEUED:
		sje__sched_ready(s, j);
		break;
	case ST_RUNNING:
		// Its worker may still be running it: give it a lease's time
		// from now to be heard of again. (A lease id from a store of
		// an earlier version is a small counter: guessable, but it
		// lives only until this lease ends.)
		j->lease_expires_ms = s->now_ms + s->lease_ms;
		if (j->lease_id != 0 &&
		    sje__umap_put(&s->leases, j->lease_id, j) != SJE_OK) {
			return SJE_ENOMEM;
		}
		sje__sched_lease_track(s, j);
		break;
	default:
		break; // PENDING: linked to its parents by sched_recover_links
	}
	return SJE_OK;
}

typedef struct recover_scan {
	sched_job **pending;
	size_t      n, cap;
} recover_scan;

static bool
recover_pending_each(void *arg, const char *key, void *value)
{
	(void) key;
	recover_scan *r = arg;
	sched_job    *j = value;
	if (j->state == ST_PENDING) {
		if (!sje__sched_grow((void **) &r->pending, &r->cap, r->n,
		        sizeof(*r->pending))) {
			return false;
		}
		r->pending[r->n++] = j;
	}
	return true;
}

// sched_recover_links links every recovered PENDING job to its unfinished
// parents. A job whose parents all finished meanwhile (it cannot happen,
// since a parent's end and its children's changes share a commit, but the
// store is the truth) is queued to wake or to cascade in the first round.
static sje_err
sched_recover_links(sje__sched *s)
{
	recover_scan r = { 0 };
	sje__hmap_each(&s->jobs, recover_pending_each, &r);
	sje_err err = SJE_OK;
	for (size_t i = 0; i < r.n && err == SJE_OK; i++) {
		sched_job    *j = r.pending[i];
		sje__job_row *row;
		if ((err = sje__store_get_job_by_id(s->store, j->id, &row)) !=
		    SJE_OK) {
			break;
		}
		Sje__V1__JobSpec *spec =
		    sje__v1__job_spec__unpack(NULL, row->spec_len, row->spec);
		sje__job_row_free(row);
		if (spec == NULL) {
			err = SJE_EIO;
			break;
		}
		bool failed = false;
		for (size_t k = 0; k < spec->n_depends_on && !failed; k++) {
			const char *pid = spec->depends_on[k];
			sched_job  *p   = sje__hmap_get(&s->jobs, pid);
			if (p != NULL) {
				sje__sched_link(p, j);
				continue;
			}
			sje__job_row *prow;
			if ((err = sje__store_get_job(s->store, pid, &prow)) !=
			    SJE_OK) {
				break;
			}
			if (prow->state != ST_SUCCEEDED) {
				failed = true;
				if (!sje__sched_grow((void **) &s->cascade,
				        &s->cap_cascade, s->n_cascade,
				        sizeof(*s->cascade))) {
					err = SJE_ENOMEM;
				} else {
					s->cascade[s->n_cascade++] =
					    (struct cascade) {
						    .task_id =
						        sje__sched_xstrdup(
						            j->task_id),
						    .parent =
						        sje__sched_xstrdup(
						            pid),
						    .parent_state =
						        prow->state,
					    };
				}
			}
			sje__job_row_free(prow);
		}
		if (err == SJE_OK && !failed && j->n_waiting == 0) {
			if (!sje__sched_grow((void **) &s->wake, &s->cap_wake,
			        s->n_wake, sizeof(*s->wake))) {
				err = SJE_ENOMEM;
			} else {
				s->wake[s->n_wake++] =
				    sje__sched_xstrdup(j->task_id);
			}
		}
		sje__v1__job_spec__free_unpacked(spec, NULL);
	}
	free(r.pending);
	return err;
}

// sched_recover_functions gives every function the settings the store
// keeps of it: a pause, limits.
static sje_err
sched_recover_functions(sje__sched *s)
{
	sje__fn_row *rows;
	size_t       n;
	sje_err      err = sje__store_list_functions(s->store, &rows, &n);
	if (err != SJE_OK) {
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		sched_fn *f       = sje__sched_fn_get(s, rows[i].name);
		f->kept           = true;
		f->paused         = rows[i].paused;
		f->op_concurrency = rows[i].concurrency;
		free(f->op_rate);
		f->op_rate = rows[i].rate != NULL
		    ? sje__sched_xstrdup(rows[i].rate)
		    : NULL;
		sje__sched_fn_limits(s, f);
		if (f->paused) {
			SJE_INFO("function %s: paused, as before the restart",
			    f->name);
		}
	}
	sje__fn_rows_free(rows, n);
	return SJE_OK;
}

sje_err
sje__sched_recover(sje__sched *s)
{
	sje_err err;
	if ((err = sched_recover_functions(s)) != SJE_OK ||
	    (err = sje__store_scan_active(s->store, sched_recover_row, s)) !=
	        SJE_OK ||
	    (err = sched_recover_links(s)) != SJE_OK) {
		return err;
	}
	return SJE_OK;
}

// sje__sched_recover_fixups runs, in the first round, what recovery found to
// do: wake PENDING jobs with nothing to wait for, cascade failures.
void
sje__sched_recover_fixups(sje__sched *s)
{
	for (size_t i = 0; i < s->n_wake; i++) {
		sched_job *j = sje__hmap_get(&s->jobs, s->wake[i]);
		if (j != NULL && j->state == ST_PENDING && j->n_waiting == 0) {
			sje__sched_wake_child(s, j);
		}
		free(s->wake[i]);
	}
	s->n_wake = 0;
	sje__sched_cascade(s);
}
