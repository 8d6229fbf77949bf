// metrics.c — Prometheus text exposition of an sje.v1.StatsReply.
//
// One pass per family over the functions of the reply, written into a
// growing buffer (sje__buf) that remembers its first allocation failure,
// so that the rendering code reads straight and checks once at the end.
// Histogram counts arrive per bucket (sje.v1.Histogram) and leave
// cumulative, as Prometheus wants; times arrive in milliseconds and leave
// in seconds.
//
// Bounded whatever submitters send: only functions marked served (a live
// worker serves them, or config names them) get series of their own;
// every other function is summed into one series, function="(other)".
// Submitters choose function names, workers and config do not.
#include "events/metrics.h"

#include "pbjson.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// met_label writes a label value, escaped: backslash, quote, newline.
static void
met_label(sje__buf *b, const char *s)
{
	if (s == NULL) {
		return;
	}
	size_t start = 0, i;
	for (i = 0; s[i] != '\0'; i++) {
		const char *esc = s[i] == '\\' ? "\\\\"
		    : s[i] == '"'              ? "\\\""
		    : s[i] == '\n'             ? "\\n"
		                               : NULL;
		if (esc != NULL) {
			sje__buf_put(b, s + start, i - start);
			sje__buf_put(b, esc, 2);
			start = i + 1;
		}
	}
	sje__buf_put(b, s + start, i - start);
}

// met_num formats a float the way Prometheus reads it, without a needless
// ".0" (so that le="1" and not le="1.0").
static void
met_num(double d, char *buf, size_t len)
{
	sje__json_fmt_real(d, buf, len);
	size_t n = strlen(buf);
	if (n > 2 && strcmp(buf + n - 2, ".0") == 0) {
		buf[n - 2] = '\0';
	}
	if (strcmp(buf, "null") == 0) {
		snprintf(buf, len, "NaN");
	}
}

static void
met_family(sje__buf *b, const char *name, const char *type, const char *help)
{
	sje__buf_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

// met_fn_sample writes "name{function="f"} value".
static void
met_fn_sample(sje__buf *b, const char *name, const char *fn, uint64_t v)
{
	sje__buf_printf(b, "%s{function=\"", name);
	met_label(b, fn);
	sje__buf_printf(b, "\"} %" PRIu64 "\n", v);
}

// met_histogram writes one function's histogram h of a family in
// seconds.
static void
met_histogram(
    sje__buf *b, const char *name, const char *fn, const Sje__V1__Histogram *h)
{
	if (h == NULL || h->n_counts != h->n_bounds_ms + 1) {
		return;
	}
	uint64_t cum = 0;
	char     num[40];
	for (size_t i = 0; i < h->n_counts; i++) {
		cum += h->counts[i];
		if (i < h->n_bounds_ms) {
			met_num(h->bounds_ms[i] / 1000.0, num, sizeof(num));
		} else {
			snprintf(num, sizeof(num), "+Inf");
		}
		sje__buf_printf(b, "%s_bucket{function=\"", name);
		met_label(b, fn);
		sje__buf_printf(b, "\",le=\"%s\"} %" PRIu64 "\n", num, cum);
	}
	met_num(h->sum_ms / 1000.0, num, sizeof(num));
	sje__buf_printf(b, "%s_sum{function=\"", name);
	met_label(b, fn);
	sje__buf_printf(b, "\"} %s\n", num);
	sje__buf_printf(b, "%s_count{function=\"", name);
	met_label(b, fn);
	sje__buf_printf(b, "\"} %" PRIu64 "\n", cum);
}

// MET_MAX_BOUNDS is the most histogram bounds summed into "(other)".
#define MET_MAX_BOUNDS 64

// met_other is the "(other)" row: the sum of the functions not served.
typedef struct met_other {
	Sje__V1__FunctionStats fs;
	Sje__V1__Histogram     h[2];
	double                 bounds[2][MET_MAX_BOUNDS];
	uint64_t               counts[2][MET_MAX_BOUNDS + 1];
} met_other;

// met_hist_add adds histogram from into into (whose arrays hold room for
// MET_MAX_BOUNDS); the first one added sets the bounds, and one with other
// bounds is left out.
static void
met_hist_add(Sje__V1__Histogram *into, const Sje__V1__Histogram *from)
{
	if (from == NULL || from->n_counts != from->n_bounds_ms + 1 ||
	    from->n_bounds_ms > MET_MAX_BOUNDS) {
		return;
	}
	if (into->n_counts == 0) {
		into->n_bounds_ms = from->n_bounds_ms;
		into->n_counts    = from->n_counts;
		memcpy(into->bounds_ms, from->bounds_ms,
		    sizeof(double) * from->n_bounds_ms);
	} else if (into->n_bounds_ms != from->n_bounds_ms ||
	    memcmp(into->bounds_ms, from->bounds_ms,
	        sizeof(double) * from->n_bounds_ms) != 0) {
		return;
	}
	for (size_t i = 0; i < from->n_counts; i++) {
		into->counts[i] += from->counts[i];
	}
	into->sum_ms += from->sum_ms;
	into->count += from->count;
}

// met_other_add sums f into o.
static void
met_other_add(met_other *o, const Sje__V1__FunctionStats *f)
{
	o->fs.queued += f->queued;
	o->fs.running += f->running;
	o->fs.scheduled += f->scheduled;
	o->fs.submitted += f->submitted;
	o->fs.succeeded += f->succeeded;
	o->fs.failed += f->failed;
	o->fs.cancelled += f->cancelled;
	o->fs.retried += f->retried;
	o->fs.upstream_failed += f->upstream_failed;
	met_hist_add(&o->h[0], f->wait);
	met_hist_add(&o->h[1], f->run);
}

sje_err
sje__metrics_render(const Sje__V1__StatsReply *st, char **out, size_t *len)
{
	if (st == NULL || out == NULL || len == NULL) {
		return SJE_EINVAL;
	}
	// The rows rendered: served functions, then "(other)" if any is not.
	const Sje__V1__FunctionStats **rows =
	    calloc(st->n_functions + 1, sizeof(*rows));
	met_other *other = calloc(1, sizeof(*other));
	if (rows == NULL || other == NULL) {
		free(rows);
		free(other);
		return SJE_ENOMEM;
	}
	sje__v1__function_stats__init(&other->fs);
	other->fs.function = (char *) "(other)";
	for (int k = 0; k < 2; k++) {
		sje__v1__histogram__init(&other->h[k]);
		other->h[k].bounds_ms = other->bounds[k];
		other->h[k].counts    = other->counts[k];
	}
	other->fs.wait = &other->h[0];
	other->fs.run  = &other->h[1];
	size_t n_rows = 0, n_other = 0;
	for (size_t i = 0; i < st->n_functions; i++) {
		if (st->functions[i]->served) {
			rows[n_rows++] = st->functions[i];
		} else {
			met_other_add(other, st->functions[i]);
			n_other++;
		}
	}
	if (n_other > 0) {
		rows[n_rows++] = &other->fs;
	}
	Sje__V1__StatsReply view = *st;
	view.functions           = (Sje__V1__FunctionStats **) rows;
	view.n_functions         = n_rows;
	st                       = &view;
	sje__buf b               = { 0 };

	met_family(&b, "sje_jobs", "gauge",
	    "Jobs not finished, by state and function (PENDING: waiting for "
	    "parents, all functions).");
	static const char *const states[] = { "QUEUED", "RUNNING",
		"SCHEDULED" };
	for (size_t s = 0; s < 3; s++) {
		for (size_t i = 0; i < st->n_functions; i++) {
			const Sje__V1__FunctionStats *f = st->functions[i];
			uint64_t                      v = s == 0 ? f->queued
			                         : s == 1        ? f->running
			                                  : f->scheduled;
			sje__buf_printf(&b,
			    "sje_jobs{state=\"%s\",function=\"", states[s]);
			met_label(&b, f->function);
			sje__buf_printf(&b, "\"} %" PRIu64 "\n", v);
		}
	}
	sje__buf_printf(
	    &b, "sje_jobs{state=\"PENDING\"} %" PRIu64 "\n", st->pending);

	static const struct {
		const char *name;
		const char *help;
		size_t      offset;
	} counters[] = {
		{ "sje_jobs_submitted_total",
		    "Jobs submitted since the start.",
		    offsetof(Sje__V1__FunctionStats, submitted) },
		{ "sje_jobs_succeeded_total", "Jobs that ended SUCCEEDED.",
		    offsetof(Sje__V1__FunctionStats, succeeded) },
		{ "sje_jobs_failed_total", "Jobs that ended FAILED.",
		    offsetof(Sje__V1__FunctionStats, failed) },
		{ "sje_jobs_cancelled_total", "Jobs that ended CANCELLED.",
		    offsetof(Sje__V1__FunctionStats, cancelled) },
		{ "sje_jobs_retried_total",
		    "Failed attempts that were tried again.",
		    offsetof(Sje__V1__FunctionStats, retried) },
		{ "sje_jobs_upstream_failed_total",
		    "Jobs that ended UPSTREAM_FAILED.",
		    offsetof(Sje__V1__FunctionStats, upstream_failed) },
	};
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		met_family(&b, counters[c].name, "counter", counters[c].help);
		for (size_t i = 0; i < st->n_functions; i++) {
			const Sje__V1__FunctionStats *f = st->functions[i];
			uint64_t                      v;
			memcpy(&v, (const char *) f + counters[c].offset,
			    sizeof(v));
			met_fn_sample(&b, counters[c].name, f->function, v);
		}
	}

	met_family(&b, "sje_workers", "gauge", "Workers registered now.");
	sje__buf_printf(&b, "sje_workers %" PRIu32 "\n", st->workers);
	met_family(&b, "sje_worker_slots", "gauge",
	    "Slots of the workers registered now.");
	sje__buf_printf(
	    &b, "sje_worker_slots %" PRIu32 "\n", st->worker_slots);
	met_family(
	    &b, "sje_worker_slots_busy", "gauge", "Slots running a job now.");
	sje__buf_printf(
	    &b, "sje_worker_slots_busy %" PRIu32 "\n", st->workers_busy_slots);
	met_family(&b, "sje_events_total", "counter",
	    "Job events published (the last sequence number).");
	sje__buf_printf(&b, "sje_events_total %" PRIu64 "\n", st->event_seq);
	if (st->started_at != NULL && st->started_at->unix_ms != 0) {
		char num[40];
		met_num(st->started_at->unix_ms / 1000.0, num, sizeof(num));
		met_family(&b, "sje_start_time_seconds", "gauge",
		    "When the server started, in seconds since the epoch.");
		sje__buf_printf(&b, "sje_start_time_seconds %s\n", num);
	}

	met_family(&b, "sje_job_wait_seconds", "histogram",
	    "Time from ready (queued) to started, per attempt.");
	for (size_t i = 0; i < st->n_functions; i++) {
		met_histogram(&b, "sje_job_wait_seconds",
		    st->functions[i]->function, st->functions[i]->wait);
	}
	met_family(&b, "sje_job_run_seconds", "histogram",
	    "Time from start to finish of an attempt.");
	for (size_t i = 0; i < st->n_functions; i++) {
		met_histogram(&b, "sje_job_run_seconds",
		    st->functions[i]->function, st->functions[i]->run);
	}

	met_family(&b, "sje_calls_total", "counter",
	    "Calls the scheduler handled since the start, by method (RPC and "
	    "REST alike).");
	for (size_t i = 0; i < st->n_calls; i++) {
		sje__buf_printf(&b, "sje_calls_total{method=\"");
		met_label(&b, st->calls[i]->method);
		sje__buf_printf(&b, "\"} %" PRIu64 "\n", st->calls[i]->count);
	}

	met_family(&b, "sje_worker_reports_refused_total", "counter",
	    "WorkerHub calls and reports refused, by reason: session (never "
	    "issued or no longer live), lease (not the job's current lease), "
	    "holder (another worker's lease), register.");
	for (size_t i = 0; i < st->n_worker_refusals; i++) {
		sje__buf_printf(
		    &b, "sje_worker_reports_refused_total{reason=\"");
		met_label(&b, st->worker_refusals[i]->reason);
		sje__buf_printf(
		    &b, "\"} %" PRIu64 "\n", st->worker_refusals[i]->count);
	}
	met_family(&b, "sje_worker_sessions_replaced_total", "counter",
	    "Worker sessions replaced by a registration of the same name.");
	sje__buf_printf(&b, "sje_worker_sessions_replaced_total %" PRIu64 "\n",
	    st->worker_sessions_replaced);
	met_family(&b, "sje_functions_unserved", "gauge",
	    "Functions in use that no worker serves and config does not name "
	    "(bounded by tasks.max_unserved_functions).");
	sje__buf_printf(&b, "sje_functions_unserved %" PRIu64 "\n",
	    st->unserved_functions);
	met_family(&b, "sje_functions_waiting_for_workers", "gauge",
	    "Functions whose jobs have waited queued for "
	    "tasks.unserved_warn_s with no live worker serving them.");
	sje__buf_printf(&b, "sje_functions_waiting_for_workers %" PRIu64 "\n",
	    st->functions_waiting_for_workers);
	met_family(&b, "sje_submits_refused_unserved_total", "counter",
	    "Submits refused by tasks.max_unserved_functions.");
	sje__buf_printf(&b, "sje_submits_refused_unserved_total %" PRIu64 "\n",
	    st->unserved_refused);

	free(rows);
	free(other);
	char *text = sje__buf_take(&b, len);
	if (text == NULL) {
		return SJE_ENOMEM;
	}
	*out = text;
	return SJE_OK;
}
