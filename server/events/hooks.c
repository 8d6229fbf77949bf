// hooks.c — the coordinator's plugins and the thread that feeds their
// hooks (see hooks.h).
//
// Locking: mtx guards committed, stopping and the alert queue, which the
// scheduler thread writes and the hook thread reads. Everything else of
// the thread's (the reader, delivered) is the hook thread's alone; the
// plugin set is read-only once open returns.
#include "events/hooks.h"

#include "log.h"
#include "pbjson.h"
#include "plugin_host.h"
#include "store/job.h"
#include "store/store.h"
#include "util.h"

#include <sje/v1/job.pb-c.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// HOOKS_BATCH is how many events the hook thread reads at a time.
#define HOOKS_BATCH 512u
// HOOKS_CURSOR_MS is how often, at most, the cursor file is rewritten
// while events flow: after a crash, the events delivered within the last
// HOOKS_CURSOR_MS may be delivered again.
#define HOOKS_CURSOR_MS 250
// HOOKS_GATHER_MS is how long the hook thread, woken for a few events,
// lets more gather before it reads them: under load it then wakes a
// hundred times a second, not once per scheduler round, which would cost
// the scheduler a context switch each. Hooks hear of events that much
// later.
#define HOOKS_GATHER_MS 10
// HOOKS_DRAIN_MS bounds how long close waits for the last events.
#define HOOKS_DRAIN_MS 5000

// hooks_alert_item is one alert change queued for the hook thread.
typedef struct hooks_alert_item {
	struct hooks_alert_item *next;
	sje_alert                al;     // strings below, owned
	char                    *notify; // "" or "log": logged only
	char                    *strs;   // name, status, when, metric, json
} hooks_alert_item;

struct sje__hooks {
	sje__plugins *plugins;
	bool          event_hooks; // some plugin has on_event
	char         *cursor_path; // <data_dir>/hooks.seq

	pthread_mutex_t   mtx;
	pthread_cond_t    cond;
	uint64_t          committed; // newest committed seq
	bool              stopping;
	bool              idle;        // the thread waits: wake it for events
	hooks_alert_item *alerts_head; // FIFO
	hooks_alert_item *alerts_tail;
	bool              thread_on;
	pthread_t         thread;
	// delivered, published for the scheduler's pruning.
	_Atomic uint64_t delivered_pub;

	// The hook thread's own.
	sje__store *reader;
	uint64_t    delivered;    // every event up to this seq was delivered
	uint64_t    saved;        // the seq in the cursor file (or row)
	bool        in_store;     // the store keeps the cursor, not a file
	sje_time_ms next_save_ms; // when the cursor may be written again
	bool        gap_logged;
	bool        read_failing; // the store could not be read (logged)
};

// ---- the host API the coordinator offers --------------------------------

static const char *
host_no_str(sje_task *task)
{
	(void) task;
	return NULL;
}

static uint32_t
host_no_attempt(sje_task *task)
{
	(void) task;
	return 0;
}

static bool
host_no_cancelled(sje_task *task)
{
	(void) task;
	return false;
}

static void
host_no_progress(sje_task *task, double percent, const char *message)
{
	(void) task;
	(void) percent;
	(void) message;
}

static void
host_no_result(sje_task *task, const char *json)
{
	(void) task;
	(void) json;
}

static void
host_no_error(sje_task *task, const char *type, const char *message)
{
	(void) task;
	(void) type;
	(void) message;
}

static bool
host_no_sleep(sje_task *task, uint32_t ms)
{
	(void) task;
	(void) ms;
	return false;
}

static void
host_log_job(const char *task_id, sje_log_level level, const char *message)
{
	sje__log_plugin(task_id, level, message);
}

static void
host_log(sje_task *task, sje_log_level level, const char *message)
{
	(void) task; // the coordinator runs no tasks
	host_log_job(NULL, level, message);
}

static const sje_host_api hooks_host_api = {
	.abi_version   = SJE_PLUGIN_ABI_VERSION,
	.size          = sizeof(sje_host_api),
	.task_id       = host_no_str,
	.function      = host_no_str,
	.params_json   = host_no_str,
	.parents_json  = host_no_str,
	.attempt       = host_no_attempt,
	.cancelled     = host_no_cancelled,
	.progress      = host_no_progress,
	.set_result    = host_no_result,
	.set_error     = host_no_error,
	.log           = host_log,
	.sleep_ms      = host_no_sleep,
	.cancel_reason = host_no_str,
	.log_job       = host_log_job,
};

const sje_host_api *
sje__hooks_host_api(void)
{
	return &hooks_host_api;
}

// ---- the cursor ------------------------------------------------------

// The cursor is kept by the store where the store is shared by several
// coordinators (PostgreSQL: whichever leads goes on from it), else in
// <data_dir>/hooks.seq.
#define HOOKS_CURSOR_NAME "hooks"

// hooks_cursor_read reads the cursor into *seq; false when there is none
// (or it cannot be read, which is logged). Sets h->in_store when the store
// keeps it.
static bool
hooks_cursor_read(sje__hooks *h, uint64_t *seq)
{
	FILE              *f;
	unsigned long long v;
	bool               ok;

	sje_err rv  = sje__store_get_cursor(h->reader, HOOKS_CURSOR_NAME, seq);
	h->in_store = rv != SJE_EUNIMPL;
	if (rv == SJE_OK) {
		return true;
	}
	if (h->in_store && rv != SJE_ENOTFOUND) {
		SJE_WARN("hooks: cannot read the cursor in the store: %s; "
		         "delivering from the newest event",
		    sje_strerror(rv));
		return false;
	}
	// None in the store yet: a file left by a coordinator that kept it
	// there serves once.
	if ((f = fopen(h->cursor_path, "r")) == NULL) {
		if (errno != ENOENT) {
			SJE_WARN("hooks: cannot read %s: %s; delivering from "
			         "the newest event",
			    h->cursor_path, strerror(errno));
		}
		return false;
	}
	ok = fscanf(f, "%llu", &v) == 1;
	(void) fclose(f);
	if (!ok) {
		SJE_WARN("hooks: %s holds no sequence number; delivering from "
		         "the newest event",
		    h->cursor_path);
		return false;
	}
	*seq = (uint64_t) v;
	return true;
}

// hooks_cursor_write records seq, atomically (a temporary file renamed).
static void
hooks_cursor_write(sje__hooks *h, uint64_t seq)
{
	char  tmp[4200];
	FILE *f;

	h->saved        = seq;
	h->next_save_ms = sje_now_ms() + HOOKS_CURSOR_MS;
	if (h->in_store) {
		sje_err rv =
		    sje__store_put_cursor(h->reader, HOOKS_CURSOR_NAME, seq);
		if (rv != SJE_OK) {
			SJE_WARN(
			    "hooks: cannot write the cursor in the store: "
			    "%s",
			    sje_strerror(rv));
		}
		return;
	}
	if (!sje__snprintf(tmp, sizeof(tmp), "%s.tmp", h->cursor_path)) {
		return;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		SJE_WARN("hooks: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "%" PRIu64 "\n", seq);
	if (fclose(f) != 0 || rename(tmp, h->cursor_path) != 0) {
		SJE_WARN("hooks: cannot write %s: %s", h->cursor_path,
		    strerror(errno));
	}
}

// ---- delivering events -------------------------------------------------

// hooks_deliver_one turns one stored event into an sje_job_event and
// gives it to every plugin's on_event.
static sje_err
hooks_deliver_one(void *arg, uint64_t seq, const uint8_t *data, size_t len)
{
	sje__hooks        *h = arg;
	Sje__V1__JobEvent *pb;
	sje_job_event      ev;
	char              *result = NULL;
	char              *json   = NULL;
	json_t            *j;

	if (seq > h->delivered + 1 && !h->gap_logged) {
		SJE_WARN(
		    "hooks: events %" PRIu64 "..%" PRIu64
		    " were forgotten by the store before they could be "
		    "delivered (the hooks fell more than 1,000,000 events "
		    "behind)",
		    h->delivered + 1, seq - 1);
		h->gap_logged = true;
	}
	h->delivered = seq;
	if ((pb = sje__v1__job_event__unpack(NULL, len, data)) == NULL) {
		SJE_ERROR(
		    "hooks: event %" PRIu64 " does not decode; skipped", seq);
		return SJE_OK;
	}
	if ((j = sje__pb_to_json(&pb->base)) != NULL) {
		json = sje__json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	memset(&ev, 0, sizeof(ev));
	ev.size     = sizeof(ev);
	ev.source   = "coordinator";
	ev.task_id  = pb->task_id;
	ev.function = pb->function;
	ev.state    = sje_job_state_name(pb->state);
	ev.attempt  = pb->attempt;
	ev.seq      = pb->seq;
	ev.at_ms    = pb->at != NULL ? pb->at->unix_ms : 0;
	ev.worker =
	    pb->worker != NULL && pb->worker[0] != '\0' ? pb->worker : NULL;
	if (pb->error != NULL) {
		ev.error_type    = pb->error->type;
		ev.error_message = pb->error->message;
	}
	// A SUCCEEDED job's result is in its row (unless already purged).
	if (pb->state == SJE__V1__JOB_STATE__JOB_STATE_SUCCEEDED &&
	    sje__store_get_result(h->reader, pb->task_id, &result) == SJE_OK) {
		ev.result_json = result;
	}
	ev.event_json = json;
	sje__plugins_event(h->plugins, &ev);
	free(result);
	free(json);
	sje__v1__job_event__free_unpacked(pb, NULL);
	return SJE_OK;
}

// hooks_deliver_upto delivers the events after h->delivered up to target,
// a batch at a time, until done or deadline_ms (0: none) passes. False
// when the store could not be read (logged once until it can again).
static bool
hooks_deliver_upto(sje__hooks *h, uint64_t target, sje_time_ms deadline_ms)
{
	while (h->delivered < target) {
		uint64_t before = h->delivered;
		sje_err  err = sje__store_list_events(h->reader, h->delivered,
		     NULL, HOOKS_BATCH, hooks_deliver_one, h);

		if (err != SJE_OK) {
			if (!h->read_failing) {
				SJE_ERROR("hooks: cannot read events after "
				          "%" PRIu64 ": %s; trying again "
				          "every second",
				    h->delivered, sje_strerror(err));
				h->read_failing = true;
			}
			return false;
		}
		if (h->read_failing) {
			SJE_INFO("hooks: reading events again");
			h->read_failing = false;
		}
		if (h->delivered == before) {
			// Nothing kept between here and target: they were
			// pruned. Skip them rather than spin.
			SJE_WARN("hooks: events %" PRIu64 "..%" PRIu64
			         " are gone from the store; skipped",
			    before + 1, target);
			h->delivered = target;
		}
		atomic_store(&h->delivered_pub, h->delivered);
		if (sje_now_ms() >= h->next_save_ms) {
			hooks_cursor_write(h, h->delivered);
		}
		if (deadline_ms != 0 && sje_now_ms() >= deadline_ms) {
			break;
		}
	}
	return true;
}

// ---- delivering alerts -------------------------------------------------

// hooks_alert_deliver logs one alert change and gives it to its notifier.
static void
hooks_alert_deliver(sje__hooks *h, const hooks_alert_item *it)
{
	const sje_alert *al = &it->al;

	if (strcmp(al->status, "firing") == 0) {
		SJE_WARN("alert %s firing: %s (%s is %g)", al->name, al->when,
		    al->metric, al->value);
	} else {
		SJE_INFO("alert %s resolved: %s no longer holds (%s is %g)",
		    al->name, al->when, al->metric, al->value);
	}
	if (it->notify[0] != '\0' && strcmp(it->notify, "log") != 0) {
		sje__plugins_alert(h->plugins, it->notify, al);
	}
}

static void
hooks_alert_free(hooks_alert_item *it)
{
	if (it != NULL) {
		free(it->notify);
		free(it->strs);
		free(it);
	}
}

// ---- the hook thread ----------------------------------------------------

static void *
hooks_main(void *arg)
{
	sje__hooks       *h = arg;
	hooks_alert_item *alerts;
	uint64_t          target;
	bool              stopping;

	sje__thread_name("sje:hooks");
	(void) pthread_mutex_lock(&h->mtx);
	for (;;) {
		while (!h->stopping && h->alerts_head == NULL &&
		    (!h->event_hooks || h->committed <= h->delivered)) {
			h->idle = true;
			if (h->saved == h->delivered) {
				(void) pthread_cond_wait(&h->cond, &h->mtx);
				h->idle = false;
				continue;
			}
			// Idle with the cursor behind: write it once its time
			// comes (unlocked: it is the thread's own).
			struct timespec ts = {
				.tv_sec = (time_t) (h->next_save_ms / 1000),
				.tv_nsec =
				    (long) (h->next_save_ms % 1000) * 1000000L,
			};
			int rc =
			    pthread_cond_timedwait(&h->cond, &h->mtx, &ts);
			h->idle = false;
			if (rc == ETIMEDOUT) {
				(void) pthread_mutex_unlock(&h->mtx);
				hooks_cursor_write(h, h->delivered);
				(void) pthread_mutex_lock(&h->mtx);
			}
		}
		if (!h->stopping && h->alerts_head == NULL &&
		    h->committed - h->delivered < HOOKS_BATCH) {
			// A few events: let more gather (see HOOKS_GATHER_MS).
			struct timespec nap = { 0,
				HOOKS_GATHER_MS * 1000000L };
			(void) pthread_mutex_unlock(&h->mtx);
			(void) nanosleep(&nap, NULL);
			(void) pthread_mutex_lock(&h->mtx);
		}
		alerts         = h->alerts_head;
		h->alerts_head = NULL;
		h->alerts_tail = NULL;
		target         = h->committed;
		stopping       = h->stopping;
		(void) pthread_mutex_unlock(&h->mtx);

		while (alerts != NULL) {
			hooks_alert_item *next = alerts->next;
			hooks_alert_deliver(h, alerts);
			hooks_alert_free(alerts);
			alerts = next;
		}
		if (h->event_hooks &&
		    !hooks_deliver_upto(h, target,
		        stopping ? sje_now_ms() + HOOKS_DRAIN_MS : 0) &&
		    !stopping) {
			struct timespec pause = { 1, 0 }; // then try again
			(void) nanosleep(&pause, NULL);
		}
		if (stopping) {
			if (h->event_hooks && h->saved != h->delivered) {
				hooks_cursor_write(h, h->delivered);
			}
			if (h->delivered < target) {
				SJE_WARN("hooks: stopping with events %" PRIu64
				         "..%" PRIu64 " not delivered; they "
				         "will be after the next start",
				    h->delivered + 1, target);
			}
			return NULL;
		}
		(void) pthread_mutex_lock(&h->mtx);
	}
}

// ---- the module ----------------------------------------------------------

// hooks_check_notifiers refuses an alert whose notify names no loaded
// plugin with an on_alert hook.
static sje_err
hooks_check_notifiers(const sje_config *cfg, const sje__plugins *plugins,
    char *errbuf, size_t errlen)
{
	const char *file = cfg->source != NULL ? cfg->source : "config";

	for (size_t i = 0; i < cfg->monitoring.n_alerts; i++) {
		const sje_alert_cfg *ac = &cfg->monitoring.alerts[i];
		const char          *n  = ac->notify != NULL ? ac->notify : "";

		if (n[0] == '\0' || strcmp(n, "log") == 0 ||
		    sje__plugins_has_alert_hook(plugins, n)) {
			continue;
		}
		sje__snprintf(errbuf, errlen,
		    "%s:%d: monitoring.alerts[%zu].notify: '%s' is %s; "
		    "use \"log\" or the name of an enabled plugin with an "
		    "on_alert hook (webhook)",
		    file, ac->line, i, n,
		    sje__plugins_is_loaded(plugins, n)
		        ? "a plugin without an on_alert hook"
		        : "not an enabled plugin of sje-server");
		return SJE_ECONFIG;
	}
	return SJE_OK;
}

sje_err
sje__hooks_open(const sje_config *cfg, sje__store *store, sje__hooks **out,
    char *errbuf, size_t errlen)
{
	sje__hooks *h;
	sje_err     rv;
	bool        notifiers;
	uint64_t    newest = 0;
	uint64_t    cursor;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		return SJE_ENOMEM;
	}
	(void) pthread_mutex_init(&h->mtx, NULL);
	(void) pthread_cond_init(&h->cond, NULL);
	if ((h->cursor_path = sje__asprintf(
	         "%s/hooks.seq", cfg->server.data_dir)) == NULL) {
		rv = SJE_ENOMEM;
		goto fail;
	}
	if ((rv = sje__plugins_load(cfg, SJE_PLUGIN_ROLE_COORDINATOR,
	         sje__hooks_host_api(), &h->plugins, errbuf, errlen)) !=
	    SJE_OK) {
		goto fail;
	}
	if ((rv = hooks_check_notifiers(cfg, h->plugins, errbuf, errlen)) !=
	    SJE_OK) {
		goto fail;
	}
	h->event_hooks = sje__plugins_has_event_hooks(h->plugins);
	notifiers      = cfg->monitoring.n_alerts > 0; // each is logged
	if (!h->event_hooks && !notifiers) {
		*out = h; // validate_submit and decide_retry need no thread
		return SJE_OK;
	}

	if ((rv = sje__store_open_reader(store, &h->reader)) != SJE_OK ||
	    (rv = sje__store_last_event_seq(h->reader, &newest)) != SJE_OK) {
		sje__snprintf(errbuf, errlen,
		    "hooks: cannot read the store in '%s': %s",
		    cfg->server.data_dir, sje_strerror(rv));
		goto fail;
	}
	h->delivered = newest;
	if (h->event_hooks) {
		if (hooks_cursor_read(h, &cursor) && cursor <= newest) {
			h->delivered = cursor;
			if (cursor < newest) {
				SJE_INFO("hooks: delivering events %" PRIu64
				         "..%" PRIu64 " committed before the "
				         "last stop",
				    cursor + 1, newest);
			}
		}
		hooks_cursor_write(h, h->delivered);
	}
	atomic_store(&h->delivered_pub, h->delivered);
	h->committed = newest;
	if (pthread_create(&h->thread, NULL, hooks_main, h) != 0) {
		sje__snprintf(errbuf, errlen, "hooks: cannot start a thread");
		rv = SJE_ENOMEM;
		goto fail;
	}
	h->thread_on = true;
	*out         = h;
	return SJE_OK;

fail:
	sje__hooks_close(h);
	return rv;
}

void
sje__hooks_close(sje__hooks *h)
{
	if (h == NULL) {
		return;
	}
	if (h->thread_on) {
		(void) pthread_mutex_lock(&h->mtx);
		h->stopping = true;
		(void) pthread_cond_signal(&h->cond);
		(void) pthread_mutex_unlock(&h->mtx);
		(void) pthread_join(h->thread, NULL);
	}
	while (h->alerts_head != NULL) {
		hooks_alert_item *next = h->alerts_head->next;
		hooks_alert_free(h->alerts_head);
		h->alerts_head = next;
	}
	sje__store_close(h->reader);
	sje__plugins_free(h->plugins);
	(void) pthread_cond_destroy(&h->cond);
	(void) pthread_mutex_destroy(&h->mtx);
	free(h->cursor_path);
	free(h);
}

void
sje__hooks_committed(sje__hooks *h, uint64_t seq)
{
	if (h == NULL || !h->thread_on || !h->event_hooks) {
		return;
	}
	(void) pthread_mutex_lock(&h->mtx);
	if (seq > h->committed) {
		h->committed = seq;
		if (h->idle) { // else it will look before it waits again
			(void) pthread_cond_signal(&h->cond);
		}
	}
	(void) pthread_mutex_unlock(&h->mtx);
}

void
sje__hooks_alert(sje__hooks *h, const sje_alert *al, const char *notify)
{
	hooks_alert_item *it;
	size_t            ln[5];
	const char       *src[5];
	char             *p;
	size_t            total = 0;

	if (h == NULL || !h->thread_on) {
		return;
	}
	src[0] = al->name;
	src[1] = al->status;
	src[2] = al->when;
	src[3] = al->metric;
	src[4] = al->alert_json != NULL ? al->alert_json : "{}";
	for (int i = 0; i < 5; i++) {
		ln[i] = strlen(src[i]) + 1;
		total += ln[i];
	}
	if ((it = calloc(1, sizeof(*it))) == NULL ||
	    (it->strs = malloc(total)) == NULL ||
	    (it->notify = sje__strdup(notify != NULL ? notify : "")) == NULL) {
		SJE_ERROR("alert %s %s: out of memory; not delivered",
		    al->name, al->status);
		hooks_alert_free(it);
		return;
	}
	it->al = *al;
	p      = it->strs;
	for (int i = 0; i < 5; i++) {
		memcpy(p, src[i], ln[i]);
		src[i] = p;
		p += ln[i];
	}
	it->al.size       = sizeof(it->al);
	it->al.name       = src[0];
	it->al.status     = src[1];
	it->al.when       = src[2];
	it->al.metric     = src[3];
	it->al.alert_json = src[4];

	(void) pthread_mutex_lock(&h->mtx);
	if (h->alerts_tail != NULL) {
		h->alerts_tail->next = it;
	} else {
		h->alerts_head = it;
	}
	h->alerts_tail = it;
	(void) pthread_cond_signal(&h->cond);
	(void) pthread_mutex_unlock(&h->mtx);
}

uint64_t
sje__hooks_delivered(const sje__hooks *h)
{
	if (h == NULL || !h->thread_on || !h->event_hooks) {
		return UINT64_MAX;
	}
	return atomic_load(&((sje__hooks *) h)->delivered_pub);
}

bool
sje__hooks_validating(const sje__hooks *h)
{
	return h != NULL && sje__plugins_has_validate_hooks(h->plugins);
}

int
sje__hooks_validate(const sje__hooks *h, const char *spec_json, char *reason,
    size_t reason_len)
{
	return sje__plugins_validate_submit(
	    h->plugins, spec_json, reason, reason_len);
}

bool
sje__hooks_deciding_retry(const sje__hooks *h)
{
	return h != NULL && sje__plugins_has_retry_hooks(h->plugins);
}

sje_retry_verdict
sje__hooks_decide_retry(const sje__hooks *h, const sje_job_event *failure,
    uint32_t max_attempts, uint32_t *delay_ms, const char **who)
{
	return sje__plugins_decide_retry(
	    h->plugins, failure, max_attempts, delay_ms, who);
}
