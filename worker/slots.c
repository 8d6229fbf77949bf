// slots.c — the ledger of leased tasks and the slot threads.
//
// The ledger (sje__slots) holds every leased task from its Fetch until its
// outcome is queued for the reporter, and among them the queue of tasks
// waiting for a slot; the runtime guards it with rt->mtx. Each of the N
// slot threads takes a queued task, runs its function (sje__task_run),
// turns it into an outcome (sje__task_outcome) and queues that for the
// reporter (report.c). A stopping worker starts nothing more: it hands
// queued jobs back.
//
// Plugins' on_event hooks are called on the slot thread: RUNNING before a
// job's function starts, and the attempt's end once its outcome is known.
#include "slots.h"

#include "fetch.h"
#include "report.h"
#include "runtime_int.h"

#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

bool
sje__slots_add(sje__slots *s, sje_task *t)
{
	const sje_task *u;

	for (u = s->jobs; u != NULL; u = u->next) {
		if (u->lease_id == t->lease_id &&
		    strcmp(u->task_id, t->task_id) == 0) {
			return false;
		}
	}
	t->prev = NULL;
	t->next = s->jobs;
	if (s->jobs != NULL) {
		s->jobs->prev = t;
	}
	s->jobs = t;
	s->busy++;
	t->qnext = NULL;
	if (s->q_tail != NULL) {
		s->q_tail->qnext = t;
	} else {
		s->q_head = t;
	}
	s->q_tail = t;
	return true;
}

sje_task *
sje__slots_take(sje__slots *s)
{
	sje_task *t;

	if ((t = s->q_head) == NULL) {
		return NULL;
	}
	if ((s->q_head = t->qnext) == NULL) {
		s->q_tail = NULL;
	}
	t->qnext   = NULL;
	t->started = true;
	return t;
}

void
sje__slots_remove(sje__slots *s, sje_task *t)
{
	if (t->prev != NULL) {
		t->prev->next = t->next;
	} else {
		s->jobs = t->next;
	}
	if (t->next != NULL) {
		t->next->prev = t->prev;
	}
	t->prev = t->next = NULL;
	s->busy--;
}

size_t
sje__slots_cancel(sje__slots *s, const char *task_id, sje__cancel why)
{
	sje_task *t;
	size_t    n = 0;

	for (t = s->jobs; t != NULL; t = t->next) {
		if (strcmp(t->task_id, task_id) == 0 &&
		    sje__task_cancel(t, why)) {
			n++;
			if (why == SJE__CANCEL_SERVER) {
				SJE_LOG_JOB(SJE_LOG_INFO, t->task_id,
				    "cancel requested: stopping %s",
				    t->function);
			} else {
				SJE_LOG_JOB(SJE_LOG_WARN, t->task_id,
				    "lease %llu lost: stopping %s (its "
				    "outcome will be refused)",
				    (unsigned long long) t->lease_id,
				    t->function);
			}
		}
	}
	return n;
}

// slot_log_outcome logs how a job ended, once, with its details.
static void
slot_log_outcome(const sje_task *t, const sje__outcome *o)
{
	if (o->release) {
		SJE_LOG_JOB(SJE_LOG_INFO, t->task_id,
		    "%s handed back (attempt %u): %s", t->function,
		    (unsigned) t->attempt, o->error_msg);
	} else if (o->ok) {
		SJE_LOG_JOB(SJE_LOG_DEBUG, t->task_id,
		    "%s succeeded in %.3f s (attempt %u)", t->function,
		    o->run_s, (unsigned) t->attempt);
	} else {
		SJE_LOG_JOB(SJE_LOG_INFO, t->task_id,
		    "%s failed after %.3f s (attempt %u): %s: %s", t->function,
		    o->run_s, (unsigned) t->attempt, o->error_type,
		    o->error_msg);
	}
}

// slot_event tells the plugins' on_event hooks that t starts (o NULL) or
// ended with outcome o. Called on t's slot thread with no lock held.
static void
slot_event(sje__runtime *rt, sje_task *t, const sje__outcome *o)
{
	sje_job_event ev;

	if (!sje__plugins_has_event_hooks(rt->plugins)) {
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.size     = sizeof(ev);
	ev.source   = "worker";
	ev.task_id  = t->task_id;
	ev.function = t->function;
	ev.attempt  = t->attempt;
	ev.at_ms    = sje_now_ms();
	ev.worker   = rt->name;
	const char *running =
	    sje_job_state_name(SJE__V1__JOB_STATE__JOB_STATE_RUNNING);
	if (o == NULL) {
		ev.state = running;
	} else {
		ev.state      = o->state;
		ev.prev_state = running;
		ev.run_s      = o->run_s;
		if (o->ok) {
			ev.result_json = o->result;
		} else {
			ev.error_type    = o->error_type;
			ev.error_message = o->error_msg;
		}
	}
	sje__plugins_event(rt->plugins, &ev);
}

void *
sje__slot_main(void *arg)
{
	sje__runtime *rt = arg;
	sje_task     *t;
	sje__outcome *o;
	sje_err       rv;
	bool          skip;

	sje__thread_name("sje:slot");
	(void) pthread_mutex_lock(&rt->mtx);
	for (;;) {
		while (rt->ledger.q_head == NULL && !rt->fetch_done) {
			(void) pthread_cond_wait(&rt->slot_cv, &rt->mtx);
		}
		if ((t = sje__slots_take(&rt->ledger)) == NULL) {
			break; // no fetch will come, and nothing is queued
		}
		// A stopping worker starts nothing more: it hands the job
		// back (sje__task_outcome: not run -> release).
		skip = rt->stopping || t->fn == NULL;
		(void) pthread_mutex_unlock(&rt->mtx);

		if (!skip) {
			SJE_LOG_JOB(SJE_LOG_DEBUG, t->task_id, "running %s",
			    t->function);
			slot_event(rt, t, NULL);
			sje__task_run(t);
		}
		o = NULL;
		if ((rv = sje__task_outcome(t, &o)) == SJE_OK) {
			slot_log_outcome(t, o);
			if (!skip) {
				slot_event(rt, t, o);
			}
		} else {
			SJE_LOG_JOB(SJE_LOG_ERROR, t->task_id,
			    "cannot report the job: %s; it runs again when "
			    "its lease expires",
			    sje_strerror(rv));
		}

		(void) pthread_mutex_lock(&rt->mtx);
		sje__slots_remove(&rt->ledger, t);
		if (o != NULL && !skip) {
			sje__fetch_note_run(rt, o->run_s * 1000.0);
		}
		if (o != NULL) {
			sje__outq_push(&rt->outq, o);
			(void) pthread_cond_signal(&rt->report_cv);
		}
		(void) pthread_cond_broadcast(&rt->cv);
		(void) pthread_mutex_unlock(&rt->mtx);

		sje__task_free(t); // unlinked: no other thread can reach it
		(void) pthread_mutex_lock(&rt->mtx);
	}
	(void) pthread_mutex_unlock(&rt->mtx);
	return NULL;
}
