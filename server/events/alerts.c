// alerts.c — parsing and checking monitoring.alerts (see alerts.h).
#include "events/alerts.h"

#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum alert_metric {
	M_QUEUE_DEPTH,
	M_RUNNING,
	M_SCHEDULED,
	M_PENDING,
	M_WORKERS_ONLINE,
	M_SLOTS,
	M_SLOTS_BUSY,
	M_SLOTS_FREE,
	M_SUCCEEDED,
	M_FAILED,
	M_FAILURE_RATE,
	M_UNSERVED_WAITING,
	M_COUNT
} alert_metric;

static const char *const alert_metric_names[M_COUNT] = {
	[M_QUEUE_DEPTH]      = "queue_depth",
	[M_RUNNING]          = "running",
	[M_SCHEDULED]        = "scheduled",
	[M_PENDING]          = "pending",
	[M_WORKERS_ONLINE]   = "workers_online",
	[M_SLOTS]            = "slots",
	[M_SLOTS_BUSY]       = "slots_busy",
	[M_SLOTS_FREE]       = "slots_free",
	[M_SUCCEEDED]        = "succeeded",
	[M_FAILED]           = "failed",
	[M_FAILURE_RATE]     = "failure_rate",
	[M_UNSERVED_WAITING] = "functions_waiting_for_workers",
};

#define ALERT_METRICS_KNOWN                                                 \
	"queue_depth, running, scheduled, pending, workers_online, slots, " \
	"slots_busy, slots_free, succeeded, failed, failure_rate, "         \
	"functions_waiting_for_workers"

typedef enum alert_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE } alert_op;

// alert_rule is one parsed rule and where it stands.
typedef struct alert_rule {
	const sje_alert_cfg *cfg; // borrowed from the config
	alert_metric         metric;
	alert_op             op;
	double               threshold;
	bool                 firing;
	sje_time_ms          holds_since_ms; // 0: the condition does not hold
} alert_rule;

// alert_sample is the finished counters at one check, for the window.
typedef struct alert_sample {
	sje_time_ms at_ms;
	uint64_t    succeeded;
	uint64_t    failed;
} alert_sample;

struct sje__alerts {
	alert_rule *rules;
	size_t      n_rules;
	sje_time_ms window_ms;
	// A ring of the samples of the last window (and one before it).
	alert_sample *ring;
	size_t        cap;  // ring slots
	size_t        head; // oldest
	size_t        n;
};

// alert_parse_when parses "METRIC OP NUMBER" into r; on failure writes
// what is wrong into why.
static bool
alert_parse_when(const char *when, alert_rule *r, char *why, size_t len)
{
	const char *p = when;
	const char *name;
	size_t      nlen;
	char       *end;
	int         m;

	while (*p == ' ' || *p == '\t') {
		p++;
	}
	name = p;
	while ((*p >= 'a' && *p <= 'z') || *p == '_') {
		p++;
	}
	nlen = (size_t) (p - name);
	for (m = 0; m < M_COUNT; m++) {
		if (strlen(alert_metric_names[m]) == nlen &&
		    strncmp(alert_metric_names[m], name, nlen) == 0) {
			break;
		}
	}
	if (nlen == 0 || m == M_COUNT) {
		sje__snprintf(why, len,
		    "unknown metric '%.*s' in \"%s\" (known: " ALERT_METRICS_KNOWN
		    ")",
		    (int) (nlen > 0 ? nlen : strcspn(name, " \t<>=!")), name,
		    when);
		return false;
	}
	r->metric = (alert_metric) m;
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (strncmp(p, ">=", 2) == 0) {
		r->op = OP_GE, p += 2;
	} else if (strncmp(p, "<=", 2) == 0) {
		r->op = OP_LE, p += 2;
	} else if (strncmp(p, "==", 2) == 0) {
		r->op = OP_EQ, p += 2;
	} else if (strncmp(p, "!=", 2) == 0) {
		r->op = OP_NE, p += 2;
	} else if (*p == '>') {
		r->op = OP_GT, p++;
	} else if (*p == '<') {
		r->op = OP_LT, p++;
	} else {
		sje__snprintf(why, len,
		    "expected one of > >= < <= == != after '%s' in \"%s\"",
		    alert_metric_names[m], when);
		return false;
	}
	errno        = 0;
	r->threshold = strtod(p, &end);
	if (end == p || errno != 0 || !isfinite(r->threshold)) {
		sje__snprintf(why, len,
		    "expected a number after the operator in \"%s\"", when);
		return false;
	}
	while (*end == ' ' || *end == '\t') {
		end++;
	}
	if (*end != '\0') {
		sje__snprintf(why, len,
		    "unexpected '%s' after the number in \"%s\" (one condition "
		    "per rule: METRIC OP NUMBER)",
		    end, when);
		return false;
	}
	return true;
}

sje_err
sje__alerts_open(
    const sje_config *cfg, sje__alerts **out, char *errbuf, size_t errlen)
{
	sje__alerts *a;
	size_t       i;
	char         why[512];
	const char  *file = cfg->source != NULL ? cfg->source : "config";

	*out = NULL;
	if (cfg->monitoring.n_alerts == 0) {
		return SJE_OK;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->rules = calloc(cfg->monitoring.n_alerts, sizeof(*a->rules))) ==
	        NULL) {
		free(a);
		return SJE_ENOMEM;
	}
	a->n_rules   = cfg->monitoring.n_alerts;
	a->window_ms = (sje_time_ms) cfg->monitoring.window_s * 1000;
	// One sample per check over the window, two more for the edges;
	// bounded, since a check is at least a second apart.
	a->cap =
	    cfg->monitoring.window_s / cfg->monitoring.check_interval_s + 2;
	if (a->cap > 86402) {
		a->cap = 86402;
	}
	if ((a->ring = calloc(a->cap, sizeof(*a->ring))) == NULL) {
		sje__alerts_free(a);
		return SJE_ENOMEM;
	}
	for (i = 0; i < a->n_rules; i++) {
		const sje_alert_cfg *ac = &cfg->monitoring.alerts[i];

		a->rules[i].cfg = ac;
		if (!alert_parse_when(
		        ac->when, &a->rules[i], why, sizeof(why))) {
			sje__snprintf(errbuf, errlen,
			    "%s:%d: monitoring.alerts[%zu].when: %s", file,
			    ac->line, i, why);
			sje__alerts_free(a);
			return SJE_ECONFIG;
		}
	}
	*out = a;
	return SJE_OK;
}

void
sje__alerts_free(sje__alerts *a)
{
	if (a == NULL) {
		return;
	}
	free(a->ring);
	free(a->rules);
	free(a);
}

size_t
sje__alerts_count(const sje__alerts *a)
{
	return a != NULL ? a->n_rules : 0;
}

const char *
sje__alerts_firing(const sje__alerts *a, size_t i, const char **when)
{
	if (a == NULL || i >= a->n_rules || !a->rules[i].firing) {
		return NULL;
	}
	if (when != NULL) {
		*when = a->rules[i].cfg->when;
	}
	return a->rules[i].cfg->name;
}

// alerts_sample records the counters at now_ms, dropping samples that are
// no longer needed, and computes the window's finished counts: against the
// newest sample at least window_ms old (else the oldest kept).
static void
alerts_sample(sje__alerts *a, const sje__alert_input *in, sje_time_ms now_ms,
    double *succeeded, double *failed)
{
	const alert_sample *base;
	alert_sample       *s;

	// Keep one sample older than the window: the base of the delta.
	while (a->n >= 2 &&
	    a->ring[(a->head + 1) % a->cap].at_ms <= now_ms - a->window_ms) {
		a->head = (a->head + 1) % a->cap;
		a->n--;
	}
	if (a->n == a->cap) { // cannot happen with the sizing above
		a->head = (a->head + 1) % a->cap;
		a->n--;
	}
	s            = &a->ring[(a->head + a->n) % a->cap];
	s->at_ms     = now_ms;
	s->succeeded = in->succeeded_total;
	s->failed    = in->failed_total;
	a->n++;
	base       = &a->ring[a->head];
	*succeeded = (double) (in->succeeded_total - base->succeeded);
	*failed    = (double) (in->failed_total - base->failed);
}

// alert_holds applies r's operator.
static bool
alert_holds(const alert_rule *r, double v)
{
	switch (r->op) {
	case OP_GT:
		return v > r->threshold;
	case OP_GE:
		return v >= r->threshold;
	case OP_LT:
		return v < r->threshold;
	case OP_LE:
		return v <= r->threshold;
	case OP_EQ:
		return v == r->threshold;
	case OP_NE:
		return v != r->threshold;
	}
	return false;
}

// alert_json renders the change as one line of JSON (malloc'd; NULL when
// memory is short).
static char *
alert_json(const sje_alert *al, const char *notify)
{
	json_t *j;
	char   *text;

	j = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:s}", "alert",
	    al->name, "status", al->status, "when", al->when, "metric",
	    al->metric, "value", al->value, "threshold", al->threshold,
	    "at_ms", (json_int_t) al->at_ms, "notify",
	    notify != NULL ? notify : "");
	if (j == NULL) {
		return NULL;
	}
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

void
sje__alerts_check(sje__alerts *a, const sje__alert_input *in,
    sje_time_ms now_ms, sje__alerts_fn fn, void *arg)
{
	double v[M_COUNT];
	size_t i;

	if (a == NULL) {
		return;
	}
	v[M_QUEUE_DEPTH]      = (double) in->queued;
	v[M_RUNNING]          = (double) in->running;
	v[M_SCHEDULED]        = (double) in->scheduled;
	v[M_PENDING]          = (double) in->pending;
	v[M_WORKERS_ONLINE]   = (double) in->workers;
	v[M_SLOTS]            = (double) in->slots;
	v[M_UNSERVED_WAITING] = (double) in->unserved_waiting;
	v[M_SLOTS_BUSY]       = (double) in->slots_busy;
	v[M_SLOTS_FREE]       = in->slots > in->slots_busy
	          ? (double) (in->slots - in->slots_busy)
	          : 0.0;
	alerts_sample(a, in, now_ms, &v[M_SUCCEEDED], &v[M_FAILED]);
	v[M_FAILURE_RATE] = v[M_SUCCEEDED] + v[M_FAILED] > 0
	    ? v[M_FAILED] / (v[M_SUCCEEDED] + v[M_FAILED])
	    : 0.0;

	for (i = 0; i < a->n_rules; i++) {
		alert_rule *r     = &a->rules[i];
		bool        holds = alert_holds(r, v[r->metric]);
		bool        change;
		sje_alert   al;
		char       *json;

		if (holds && r->holds_since_ms == 0) {
			r->holds_since_ms = now_ms;
		} else if (!holds) {
			r->holds_since_ms = 0;
		}
		change = r->firing ? !holds
		                   : holds &&
		        now_ms - r->holds_since_ms >=
		            (sje_time_ms) r->cfg->for_s * 1000;
		if (!change) {
			continue;
		}
		r->firing = !r->firing;
		memset(&al, 0, sizeof(al));
		al.size       = sizeof(al);
		al.name       = r->cfg->name;
		al.status     = r->firing ? "firing" : "resolved";
		al.when       = r->cfg->when;
		al.metric     = alert_metric_names[r->metric];
		al.value      = v[r->metric];
		al.threshold  = r->threshold;
		al.at_ms      = now_ms;
		json          = alert_json(&al, r->cfg->notify);
		al.alert_json = json != NULL ? json : "{}";
		fn(arg, &al, r->cfg->notify != NULL ? r->cfg->notify : "");
		free(json);
	}
}
