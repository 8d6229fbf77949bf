// metrics_test.c — the Prometheus rendering of a StatsReply
// (server/events/metrics.c) and the gateway's one table of HTTP statuses.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door/gateway.h"
#include "events/metrics.h"

// has_line asserts that text has the whole line want.
static void
has_line(const char *text, const char *want)
{
	size_t      n = strlen(want);
	const char *p = text;
	while ((p = strstr(p, want)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n')) {
			return;
		}
		p += n;
	}
	print_error("no line '%s' in:\n%s\n", want, text);
	fail();
}

static void
test_metrics_render_every_family(void **state)
{
	(void) state;
	double             bounds[]      = { 1, 5, 1000 };
	uint64_t           wait_counts[] = { 2, 1, 0, 1 };
	uint64_t           run_counts[]  = { 0, 0, 3, 0 };
	Sje__V1__Histogram wait          = SJE__V1__HISTOGRAM__INIT;
	Sje__V1__Histogram run           = SJE__V1__HISTOGRAM__INIT;
	wait.n_bounds_ms                 = 3;
	wait.bounds_ms                   = bounds;
	wait.n_counts                    = 4;
	wait.counts                      = wait_counts;
	wait.sum_ms                      = 2500;
	wait.count                       = 4;
	run.n_bounds_ms                  = 3;
	run.bounds_ms                    = bounds;
	run.n_counts                     = 4;
	run.counts                       = run_counts;
	run.sum_ms                       = 1234.5;
	run.count                        = 3;

	Sje__V1__FunctionStats f1       = SJE__V1__FUNCTION_STATS__INIT;
	f1.function                     = "calculate_data";
	f1.served                       = true;
	f1.queued                       = 7;
	f1.running                      = 2;
	f1.scheduled                    = 1;
	f1.submitted                    = 100;
	f1.succeeded                    = 90;
	f1.failed                       = 3;
	f1.cancelled                    = 4;
	f1.retried                      = 5;
	f1.upstream_failed              = 6;
	f1.wait                         = &wait;
	f1.run                          = &run;
	Sje__V1__FunctionStats f2       = SJE__V1__FUNCTION_STATS__INIT;
	f2.function                     = "we\"ird\\fn\n"; // escaped in labels
	f2.served                       = true;
	Sje__V1__FunctionStats *fns[]   = { &f1, &f2 };
	Sje__V1__Timestamp      started = SJE__V1__TIMESTAMP__INIT;
	started.unix_ms                 = 1795816800123LL;

	Sje__V1__StatsReply st = SJE__V1__STATS_REPLY__INIT;
	st.n_functions         = 2;
	st.functions           = fns;
	st.workers             = 3;
	st.worker_slots        = 12;
	st.workers_busy_slots  = 2;
	st.event_seq           = 4242;
	st.started_at          = &started;
	st.pending             = 9;

	char  *text;
	size_t len;
	assert_int_equal(sje__metrics_render(&st, &text, &len), SJE_OK);
	assert_int_equal(strlen(text), len);
	has_line(text, "# TYPE sje_jobs gauge");
	has_line(
	    text, "sje_jobs{state=\"QUEUED\",function=\"calculate_data\"} 7");
	has_line(
	    text, "sje_jobs{state=\"RUNNING\",function=\"calculate_data\"} 2");
	has_line(text,
	    "sje_jobs{state=\"SCHEDULED\",function=\"calculate_data\"} 1");
	has_line(text, "sje_jobs{state=\"PENDING\"} 9");
	has_line(text, "# TYPE sje_jobs_submitted_total counter");
	has_line(
	    text, "sje_jobs_submitted_total{function=\"calculate_data\"} 100");
	has_line(
	    text, "sje_jobs_succeeded_total{function=\"calculate_data\"} 90");
	has_line(text, "sje_jobs_failed_total{function=\"calculate_data\"} 3");
	has_line(
	    text, "sje_jobs_cancelled_total{function=\"calculate_data\"} 4");
	has_line(
	    text, "sje_jobs_retried_total{function=\"calculate_data\"} 5");
	has_line(text,
	    "sje_jobs_upstream_failed_total{function=\"calculate_data\"} 6");
	has_line(text, "sje_workers 3");
	has_line(text, "sje_worker_slots 12");
	has_line(text, "sje_worker_slots_busy 2");
	has_line(text, "sje_events_total 4242");
	has_line(text, "sje_start_time_seconds 1795816800.123");
	// Histograms: cumulative, in seconds, ending at +Inf.
	has_line(text, "# TYPE sje_job_wait_seconds histogram");
	has_line(text,
	    "sje_job_wait_seconds_bucket{function=\"calculate_data\","
	    "le=\"0.001\"} 2");
	has_line(text,
	    "sje_job_wait_seconds_bucket{function=\"calculate_data\","
	    "le=\"0.005\"} 3");
	has_line(text,
	    "sje_job_wait_seconds_bucket{function=\"calculate_data\","
	    "le=\"1\"} 3");
	has_line(text,
	    "sje_job_wait_seconds_bucket{function=\"calculate_data\","
	    "le=\"+Inf\"} 4");
	has_line(
	    text, "sje_job_wait_seconds_sum{function=\"calculate_data\"} 2.5");
	has_line(
	    text, "sje_job_wait_seconds_count{function=\"calculate_data\"} 4");
	has_line(text,
	    "sje_job_run_seconds_bucket{function=\"calculate_data\","
	    "le=\"1\"} 3");
	has_line(text,
	    "sje_job_run_seconds_sum{function=\"calculate_data\"} 1.2345");
	// Label values are escaped; a function with no histograms has none.
	has_line(text,
	    "sje_jobs_submitted_total{function=\"we\\\"ird\\\\fn\\n\"} 0");
	assert_null(strstr(text, "sje_job_wait_seconds_count{function=\"we"));
	// Every family has HELP before TYPE; the text ends with a newline.
	assert_non_null(strstr(text, "# HELP sje_workers "));
	assert_true(len > 0 && text[len - 1] == '\n');
	free(text);
}

static void
test_metrics_skip_a_histogram_whose_counts_do_not_fit(void **state)
{
	(void) state;
	double             bounds[]   = { 1, 5 };
	uint64_t           counts[]   = { 1, 1 }; // should be 3 long
	Sje__V1__Histogram h          = SJE__V1__HISTOGRAM__INIT;
	h.n_bounds_ms                 = 2;
	h.bounds_ms                   = bounds;
	h.n_counts                    = 2;
	h.counts                      = counts;
	Sje__V1__FunctionStats f      = SJE__V1__FUNCTION_STATS__INIT;
	f.function                    = "f";
	f.served                      = true;
	f.wait                        = &h;
	Sje__V1__FunctionStats *fns[] = { &f };
	Sje__V1__StatsReply     st    = SJE__V1__STATS_REPLY__INIT;
	st.n_functions                = 1;
	st.functions                  = fns;
	char  *text;
	size_t len;
	assert_int_equal(sje__metrics_render(&st, &text, &len), SJE_OK);
	assert_null(strstr(text, "sje_job_wait_seconds_bucket"));
	assert_null(strstr(text, "sje_start_time_seconds"));
	has_line(text, "sje_workers 0");
	free(text);
	assert_int_equal(sje__metrics_render(NULL, &text, &len), SJE_EINVAL);
}

static void
test_metrics_sum_unserved_functions_into_other(void **state)
{
	(void) state;
	// 5,000 functions no worker serves, one that a worker serves: the
	// text has series for the served one and one "(other)" sum.
	enum { N = 5000 };
	double                   bounds[] = { 1, 5 };
	uint64_t                 counts[] = { 1, 0, 2 };
	Sje__V1__Histogram       h        = SJE__V1__HISTOGRAM__INIT;
	Sje__V1__FunctionStats  *fs       = calloc(N + 1, sizeof(*fs));
	Sje__V1__FunctionStats **fp       = calloc(N + 1, sizeof(*fp));
	char(*names)[32]                  = calloc(N + 1, sizeof(*names));
	assert_non_null(fs);
	assert_non_null(fp);
	assert_non_null(names);
	h.n_bounds_ms = 2;
	h.bounds_ms   = bounds;
	h.n_counts    = 3;
	h.counts      = counts;
	h.sum_ms      = 30;
	h.count       = 3;
	for (size_t i = 0; i <= N; i++) {
		sje__v1__function_stats__init(&fs[i]);
		snprintf(names[i], sizeof(names[i]), "fn-%zu", i);
		fs[i].function  = names[i];
		fs[i].queued    = 1;
		fs[i].submitted = 2;
		fs[i].wait      = &h;
		fp[i]           = &fs[i];
	}
	fs[N].served                    = true;
	Sje__V1__ReasonCount  r1        = SJE__V1__REASON_COUNT__INIT;
	Sje__V1__ReasonCount *reasons[] = { &r1 };
	r1.reason                       = "lease";
	r1.count                        = 10000;
	Sje__V1__StatsReply st          = SJE__V1__STATS_REPLY__INIT;
	st.n_functions                  = N + 1;
	st.functions                    = fp;
	st.worker_refusals              = reasons;
	st.n_worker_refusals            = 1;
	st.worker_sessions_replaced     = 2;
	st.unserved_functions           = N;
	st.unserved_refused             = 7;
	char  *text;
	size_t len;
	assert_int_equal(sje__metrics_render(&st, &text, &len), SJE_OK);
	has_line(text, "sje_jobs{state=\"QUEUED\",function=\"fn-5000\"} 1");
	has_line(text, "sje_jobs{state=\"QUEUED\",function=\"(other)\"} 5000");
	has_line(text, "sje_jobs_submitted_total{function=\"(other)\"} 10000");
	has_line(text,
	    "sje_job_wait_seconds_bucket{function=\"(other)\",le=\"+Inf\"} "
	    "15000");
	has_line(
	    text, "sje_job_wait_seconds_count{function=\"(other)\"} 15000");
	assert_null(strstr(text, "function=\"fn-0\""));
	has_line(
	    text, "sje_worker_reports_refused_total{reason=\"lease\"} 10000");
	has_line(text, "sje_worker_sessions_replaced_total 2");
	has_line(text, "sje_functions_unserved 5000");
	has_line(text, "sje_submits_refused_unserved_total 7");
	// Two functions' worth of series and the fixed families: small.
	assert_true(len < 8000);
	free(text);
	free(names);
	free(fp);
	free(fs);
}

static void
test_http_statuses_come_from_one_table(void **state)
{
	(void) state;
	static const struct {
		int code, http;
	} want[] = {
		{ SJE__V1__STATUS_CODE__OK, 200 },
		{ SJE__V1__STATUS_CODE__INVALID_ARGUMENT, 400 },
		{ SJE__V1__STATUS_CODE__NOT_FOUND, 404 },
		{ SJE__V1__STATUS_CODE__ALREADY_EXISTS, 409 },
		{ SJE__V1__STATUS_CODE__FAILED_PRECONDITION, 409 },
		{ SJE__V1__STATUS_CODE__UNAUTHENTICATED, 401 },
		{ SJE__V1__STATUS_CODE__PERMISSION_DENIED, 403 },
		{ SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED, 429 },
		{ SJE__V1__STATUS_CODE__UNAVAILABLE, 503 },
		{ SJE__V1__STATUS_CODE__UNIMPLEMENTED, 501 },
		{ SJE__V1__STATUS_CODE__INTERNAL, 500 },
		{ SJE__V1__STATUS_CODE__UNKNOWN, 500 },
		{ SJE__V1__STATUS_CODE__DATA_LOSS, 500 },
		{ 999, 500 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(
		    sje__gw_http_status(want[i].code), want[i].http);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_render_every_family),
		cmocka_unit_test(
		    test_metrics_skip_a_histogram_whose_counts_do_not_fit),
		cmocka_unit_test(
		    test_metrics_sum_unserved_functions_into_other),
		cmocka_unit_test(test_http_statuses_come_from_one_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
