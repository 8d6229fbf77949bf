// schedules.c — config's schedules (schedules.h). See round.c for the
// scheduler's design; the round's holder only.
//
// Ticks. A cron schedule ticks at the minutes its expression matches
// (UTC); an every_s one at the multiples of every_s since the epoch, so
// that its ticks are the same across restarts and coordinators. Ticks are
// wall-clock times; the round's wall clock (s->now_unix_ms) says when one
// has come.
//
// Firing. A tick starts what the schedule names through the same handlers
// a client calls — Submit for a function, RunWorkflow for a workflow —
// with a call of the scheduler's own (schedule_call), handled in the
// round like any other, so it is checked, stored and announced the same
// way. The job's task_id, or the run's workflow_id, is the schedule's name
// and the tick, "nightly:20261203T020000Z", and the job carries the label
// schedule=<name>.
//
// Exactly once per tick. The tick fired is kept in the store
// (sje__store_put_schedule) in the same transaction as what it submits:
// both commit, or neither. A tick fired twice would submit the same id
// with the same spec, which Submit takes as the idempotent repeat it is.
// A tick that came while no coordinator ran (or before a crash let its
// firing commit) is fired once at start-up with missed: run_once — only
// the latest one, however many were missed — and passed over with
// missed: skip. Across several coordinators on one database, only the
// active one runs the scheduler, so only it fires.
//
// Overlap. With overlap: skip, a tick whose schedule's last job (or any
// step of its last run) is unfinished fires nothing; it is logged, and
// the next tick tries again. With allow, every tick fires.
#include "sched/schedules.h"

#include "sched/reply.h"
#include "sched/submit.h"
#include "sched/table.h"
#include "sched/txn.h"

#include "log.h"
#include "pbjson.h"
#include "sched/workflow.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

// How many ticks a search for the latest missed one walks at most.
#define SCHEDULE_MAX_WALK 100000

// schedule_after is sc's first tick strictly after t; 0: none to come.
static sje_time_ms
schedule_after(const sched_schedule *sc, sje_time_ms t)
{
	if (sc->cfg->cron != NULL) {
		return sje_cron_next(&sc->cron, t);
	}
	sje_time_ms every = (sje_time_ms) sc->cfg->every_s * 1000;
	return (t / every + 1) * every;
}

// schedule_latest is sc's latest tick at or before now, walking on from
// the tick from (one that came); from itself when no later one came.
static sje_time_ms
schedule_latest(const sched_schedule *sc, sje_time_ms from, sje_time_ms now)
{
	if (sc->cfg->cron == NULL) {
		sje_time_ms every = (sje_time_ms) sc->cfg->every_s * 1000;
		return now / every * every;
	}
	sje_time_ms t = from;
	for (int i = 0; i < SCHEDULE_MAX_WALK; i++) {
		sje_time_ms n = sje_cron_next(&sc->cron, t);
		if (n == 0 || n > now) {
			break;
		}
		t = n;
	}
	return t;
}

// schedule_id writes the id of sc's tick into buf.
static void
schedule_id(const sched_schedule *sc, sje_time_ms tick, char *buf, size_t len)
{
	time_t    t = (time_t) (tick / 1000);
	struct tm tm;
	char      when[32] = "0";
	if (gmtime_r(&t, &tm) != NULL) {
		strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	}
	sje__snprintf(buf, len, "%s:%s", sc->cfg->name, when);
}

sje_err
sje__sched_schedules_open(sje__sched *s)
{
	const sje_config *cfg = s->cfg;
	if (cfg->n_schedules == 0) {
		return SJE_OK;
	}
	s->schedules =
	    sje__sched_xalloc(sizeof(*s->schedules) * cfg->n_schedules);
	s->n_schedules = cfg->n_schedules;
	for (size_t i = 0; i < cfg->n_schedules; i++) {
		sched_schedule *sc = &s->schedules[i];
		char            why[160];
		sc->cfg = &cfg->schedules[i];
		if (sc->cfg->cron != NULL &&
		    !sje_cron_parse(
		        sc->cfg->cron, &sc->cron, why, sizeof(why))) {
			// Config refused it already; this cannot happen.
			SJE_ERROR("schedule %s: %s", sc->cfg->name, why);
			return SJE_ECONFIG;
		}
	}
	sje__schedule_row *rows;
	size_t             n;
	sje_err err = sje__store_list_schedules(s->store, &rows, &n);
	if (err != SJE_OK) {
		return err;
	}
	for (size_t i = 0; i < s->n_schedules; i++) {
		sched_schedule *sc = &s->schedules[i];
		for (size_t k = 0; k < n; k++) {
			if (strcmp(rows[k].name, sc->cfg->name) == 0) {
				sc->last_ms = rows[k].last_tick_ms;
				sc->last_id = rows[k].last_task_id != NULL
				    ? sje__sched_xstrdup(rows[k].last_task_id)
				    : NULL;
			}
		}
		sje_time_ms now = s->now_unix_ms;
		sc->next_ms     = schedule_after(sc, now);
		if (sc->last_ms == 0) {
			continue; // never fired: from the next tick on
		}
		sje_time_ms first = schedule_after(sc, sc->last_ms);
		if (first == 0 || first > now) {
			continue; // nothing was missed
		}
		if (strcmp(sc->cfg->missed, "run_once") == 0) {
			sc->missed_ms = schedule_latest(sc, first, now);
			SJE_INFO("schedule %s: ticks were missed while no "
			         "coordinator ran; the latest runs now "
			         "(missed: run_once)",
			    sc->cfg->name);
		} else {
			SJE_INFO("schedule %s: ticks were missed while no "
			         "coordinator ran; passed over (missed: skip)",
			    sc->cfg->name);
		}
	}
	sje__schedule_rows_free(rows, n);
	return SJE_OK;
}

void
sje__sched_schedules_free(sje__sched *s)
{
	for (size_t i = 0; i < s->n_schedules; i++) {
		free(s->schedules[i].last_id);
	}
	free(s->schedules);
	s->schedules   = NULL;
	s->n_schedules = 0;
}

// schedule_call is a call of the scheduler's own, made by a tick: its
// answer (sent after the commit) is logged, and frees it.
typedef struct schedule_call {
	sje__call base;
	char     *name; // the schedule's
	char     *id;   // the tick's job or run
	bool      workflow;
} schedule_call;

static void
schedule_call_send(sje__call *call, int code, const char *message,
    const char *field, const uint8_t *body, size_t len)
{
	schedule_call *c = (schedule_call *) call;
	(void) field;
	if (code != 0) {
		SJE_WARN("schedule %s: %s was refused: %s", c->name, c->id,
		    message != NULL ? message : "");
	} else {
		bool created = false;
		if (c->workflow) {
			Sje__V1__RunWorkflowReply *r =
			    sje__v1__run_workflow_reply__unpack(
			        NULL, len, body);
			created = r != NULL && r->n_tasks > 0 &&
			    r->tasks[0]->created;
			if (r != NULL) {
				sje__v1__run_workflow_reply__free_unpacked(
				    r, NULL);
			}
		} else {
			Sje__V1__SubmitReply *r =
			    sje__v1__submit_reply__unpack(NULL, len, body);
			created = r != NULL && r->n_results > 0 &&
			    r->results[0]->created;
			if (r != NULL) {
				sje__v1__submit_reply__free_unpacked(r, NULL);
			}
		}
		if (created) {
			SJE_INFO("schedule %s: started %s", c->name, c->id);
		} else {
			SJE_INFO("schedule %s: %s was started already",
			    c->name, c->id);
		}
	}
	protobuf_c_message_free_unpacked(call->input, NULL);
	free(c->name);
	free(c->id);
	free(c);
}

// schedule_busy is true when what sc started last is unfinished: its job,
// or a step of its workflow run.
static bool
schedule_busy(sje__sched *s, const sched_schedule *sc)
{
	if (sc->last_id == NULL) {
		return false;
	}
	if (sc->cfg->function != NULL) {
		return sje__hmap_get(&s->jobs, sc->last_id) != NULL;
	}
	const sje_workflow *wf = sje__workflow_find(s->cfg, sc->cfg->workflow);
	for (size_t i = 0; wf != NULL && i < wf->n_steps; i++) {
		char id[SJE_MAX_ID_BYTES * 2 + 2];
		sje__snprintf(
		    id, sizeof(id), "%s.%s", sc->last_id, wf->steps[i].name);
		if (sje__hmap_get(&s->jobs, id) != NULL) {
			return true;
		}
	}
	return false;
}

// schedule_request packs and unpacks msg into a heap copy: the call's
// input, freed with it.
static ProtobufCMessage *
schedule_request(const ProtobufCMessage *msg)
{
	size_t   len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = sje__sched_xalloc(len + 1);
	protobuf_c_message_pack(msg, buf);
	ProtobufCMessage *in =
	    protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	if (in == NULL) {
		sje__sched_fatal("allocation", SJE_ENOMEM);
	}
	return in;
}

// schedule_fire fires sc's tick: what it names is submitted and the tick
// kept, in the round's transaction.
static void
schedule_fire(sje__sched *s, sched_schedule *sc, sje_time_ms tick)
{
	char id[SJE_MAX_ID_BYTES + 1];
	schedule_id(sc, tick, id, sizeof(id));
	if (strcmp(sc->cfg->overlap, "skip") == 0 && schedule_busy(s, sc)) {
		SJE_INFO("schedule %s: %s not started: %s is unfinished "
		         "(overlap: skip)",
		    sc->cfg->name, id, sc->last_id);
		return;
	}
	schedule_call *c     = sje__sched_xalloc(sizeof(*c));
	c->base.send         = schedule_call_send;
	c->base.service      = &sje__v1__coordinator__descriptor;
	c->base.origin       = "schedule";
	c->name              = sje__sched_xstrdup(sc->cfg->name);
	c->id                = sje__sched_xstrdup(id);
	c->workflow          = sc->cfg->workflow != NULL;
	Sje__V1__Json params = SJE__V1__JSON__INIT;
	params.text          = sc->cfg->params_json;
	if (c->workflow) {
		Sje__V1__RunWorkflowRequest req =
		    SJE__V1__RUN_WORKFLOW_REQUEST__INIT;
		req.name        = sc->cfg->workflow;
		req.workflow_id = id;
		req.params     = sc->cfg->params_json != NULL ? &params : NULL;
		c->base.method = SJE__COORD_RUN_WORKFLOW;
		c->base.input  = schedule_request(&req.base);
	} else {
		Sje__V1__JobSpec__LabelsEntry label =
		    SJE__V1__JOB_SPEC__LABELS_ENTRY__INIT;
		Sje__V1__JobSpec__LabelsEntry *lp   = &label;
		Sje__V1__JobSpec               spec = SJE__V1__JOB_SPEC__INIT;
		Sje__V1__JobSpec              *sp   = &spec;
		Sje__V1__SubmitRequest req = SJE__V1__SUBMIT_REQUEST__INIT;
		label.key                  = "schedule";
		label.value                = sc->cfg->name;
		spec.task_id               = id;
		spec.function              = sc->cfg->function;
		spec.params    = sc->cfg->params_json != NULL ? &params : NULL;
		spec.labels    = &lp;
		spec.n_labels  = 1;
		req.jobs       = &sp;
		req.n_jobs     = 1;
		c->base.method = SJE__COORD_SUBMIT;
		c->base.input  = schedule_request(&req.base);
	}
	if (c->workflow) {
		sje__sched_run_workflow(s, &c->base);
	} else {
		sje__sched_submit(s, &c->base);
	}
	sc->last_ms = tick;
	free(sc->last_id);
	sc->last_id           = sje__sched_xstrdup(id);
	sje__schedule_row row = {
		.name = sc->cfg->name, .last_tick_ms = tick, .last_task_id = id
	};
	sje__sched_txn(s);
	sje_err err = sje__store_put_schedule(s->store, &row);
	if (err != SJE_OK) {
		sje__sched_fatal("store schedule", err);
	}
}

void
sje__sched_schedules_fire(sje__sched *s)
{
	sje_time_ms now  = s->now_unix_ms;
	sje_dur_ms  wake = INT64_MAX;
	for (size_t i = 0; i < s->n_schedules; i++) {
		sched_schedule *sc = &s->schedules[i];
		if (sc->missed_ms != 0) {
			sje_time_ms t = sc->missed_ms;
			sc->missed_ms = 0;
			schedule_fire(s, sc, t);
		}
		if (sc->next_ms != 0 && sc->next_ms <= now) {
			// The latest tick that came: ticks that came while
			// the scheduler could not look (a stall, a step of
			// the wall clock) fire once, not each.
			schedule_fire(
			    s, sc, schedule_latest(sc, sc->next_ms, now));
			sc->next_ms = schedule_after(sc, now);
		}
		if (sc->next_ms != 0) {
			sje_dur_ms at = sje__sched_mono_of(s, sc->next_ms);
			wake          = at < wake ? at : wake;
		}
	}
	s->schedule_wake_ms = wake;
}

void
sje__sched_list_schedules(sje__sched *s, sje__call *call)
{
	size_t                      n = s->n_schedules;
	Sje__V1__ListSchedulesReply reply =
	    SJE__V1__LIST_SCHEDULES_REPLY__INIT;
	Sje__V1__ScheduleInfo  *v  = sje__sched_xalloc(sizeof(*v) * (n + 1));
	Sje__V1__ScheduleInfo **vp = sje__sched_xalloc(sizeof(*vp) * (n + 1));
	Sje__V1__Timestamp *ts = sje__sched_xalloc(sizeof(*ts) * 2 * (n + 1));
	for (size_t i = 0; i < n; i++) {
		const sched_schedule  *sc = &s->schedules[i];
		Sje__V1__ScheduleInfo *e  = &v[i];
		sje__v1__schedule_info__init(e);
		e->name    = sc->cfg->name;
		e->cron    = sc->cfg->cron != NULL ? sc->cfg->cron : "";
		e->every_s = sc->cfg->every_s;
		e->function =
		    sc->cfg->function != NULL ? sc->cfg->function : "";
		e->workflow =
		    sc->cfg->workflow != NULL ? sc->cfg->workflow : "";
		e->overlap      = sc->cfg->overlap;
		e->missed       = sc->cfg->missed;
		e->last_task_id = sc->last_id != NULL ? sc->last_id : "";
		if (sc->next_ms != 0) {
			sje__v1__timestamp__init(&ts[2 * i]);
			ts[2 * i].unix_ms = sc->next_ms;
			e->next_at        = &ts[2 * i];
		}
		if (sc->last_ms != 0) {
			sje__v1__timestamp__init(&ts[2 * i + 1]);
			ts[2 * i + 1].unix_ms = sc->last_ms;
			e->last_at            = &ts[2 * i + 1];
		}
		vp[i] = e;
	}
	reply.schedules   = vp;
	reply.n_schedules = n;
	sje__sched_reply_ok(s, call, &reply.base);
	free(ts);
	free(vp);
	free(v);
}
