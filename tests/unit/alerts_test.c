// alerts_test.c — unit tests of monitoring.alerts (server/events/alerts.c):
// rule parsing and its errors, firing and resolving once each, for_s, and the
// failure rate over the window.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/alerts.h"

#include <jansson.h>

// A config with the given monitoring section, loaded from a file.
static sje_config *
load(const char *yaml)
{
	char        path[] = "/tmp/sje-alerts-test.XXXXXX";
	int         fd     = mkstemp(path);
	sje_config *cfg    = NULL;
	char        err[512];

	assert_true(fd >= 0);
	assert_int_equal(
	    write(fd, yaml, strlen(yaml)), (ssize_t) strlen(yaml));
	close(fd);
	if (sje_config_load(path, &cfg, err, sizeof(err)) != SJE_OK) {
		fail_msg("config: %s", err);
	}
	unlink(path);
	return cfg;
}

// open_err opens the rules of yaml and returns the error line ("" when
// they parse).
static void
open_err(const char *yaml, char *err, size_t len)
{
	sje_config  *cfg = load(yaml);
	sje__alerts *a   = NULL;

	err[0] = '\0';
	if (sje__alerts_open(cfg, &a, err, len) == SJE_OK) {
		err[0] = '\0';
	}
	sje__alerts_free(a);
	sje_config_free(cfg);
}

// A log of changes, "name:status:value" joined by spaces.
typedef struct changes {
	char text[2048];
	int  n;
} changes;

static void
record(void *arg, const sje_alert *al, const char *notify)
{
	changes *c = arg;
	char     one[256];
	json_t  *j;

	// Every change carries its JSON, which must parse and agree.
	j = json_loads(al->alert_json, 0, NULL);
	assert_non_null(j);
	assert_string_equal(
	    json_string_value(json_object_get(j, "alert")), al->name);
	assert_string_equal(
	    json_string_value(json_object_get(j, "status")), al->status);
	assert_string_equal(
	    json_string_value(json_object_get(j, "notify")), notify);
	json_decref(j);
	snprintf(one, sizeof(one), "%s%s:%s:%g", c->n > 0 ? " " : "", al->name,
	    al->status, al->value);
	strncat(c->text, one, sizeof(c->text) - strlen(c->text) - 1);
	c->n++;
}

static void
test_rules_parse_with_every_operator(void **state)
{
	char err[512];

	(void) state;
	open_err("monitoring:\n  alerts:\n"
	         "    - {name: a, when: \"queue_depth > 1\"}\n"
	         "    - {name: b, when: \"running>=2\"}\n"
	         "    - {name: c, when: \"  workers_online < 1 \"}\n"
	         "    - {name: d, when: \"slots_free <= 0\"}\n"
	         "    - {name: e, when: \"failure_rate == 0.5\"}\n"
	         "    - {name: f, when: \"pending != 3e2\"}\n",
	    err, sizeof(err));
	assert_string_equal(err, "");
}

static void
test_unknown_metric_is_refused_naming_line_and_key(void **state)
{
	char err[512];

	(void) state;
	open_err("monitoring:\n  alerts:\n"
	         "    - {name: ok, when: \"running > 1\"}\n"
	         "    - {name: bad, when: \"queue > 1\"}\n",
	    err, sizeof(err));
	assert_non_null(strstr(err,
	    ":4: monitoring.alerts[1].when: "
	    "unknown metric 'queue'"));
	assert_non_null(strstr(err, "known: queue_depth"));
}

static void
test_bad_operator_number_and_trailer_are_refused(void **state)
{
	char err[512];

	(void) state;
	open_err(
	    "monitoring:\n  alerts:\n    - {name: a, when: \"running = 1\"}\n",
	    err, sizeof(err));
	assert_non_null(strstr(err, "expected one of > >= < <= == !="));
	open_err(
	    "monitoring:\n  alerts:\n    - {name: a, when: \"running > x\"}\n",
	    err, sizeof(err));
	assert_non_null(strstr(err, "expected a number"));
	open_err("monitoring:\n  alerts:\n"
	         "    - {name: a, when: \"running > 1 and failed > 2\"}\n",
	    err, sizeof(err));
	assert_non_null(strstr(err, "unexpected 'and failed > 2'"));
	open_err(
	    "monitoring:\n  alerts:\n    - {name: a, when: \"running > nan\"}\n",
	    err, sizeof(err));
	assert_non_null(strstr(err, "expected a number"));
}

static void
test_alert_fires_once_and_resolves_once(void **state)
{
	sje_config      *cfg;
	sje__alerts     *a;
	changes          c = { 0 };
	char             err[256];
	sje__alert_input in;
	sje_time_ms      t = 1000000;

	(void) state;
	cfg = load("monitoring:\n  check_interval_s: 1\n  alerts:\n"
	           "    - {name: backlog, when: \"queue_depth > 10\", notify: "
	           "log}\n");
	assert_int_equal(sje__alerts_open(cfg, &a, err, sizeof(err)), SJE_OK);
	assert_int_equal(sje__alerts_count(a), 1);
	memset(&in, 0, sizeof(in));
	for (int i = 0; i < 3; i++) {
		in.queued = 5;
		sje__alerts_check(a, &in, t += 1000, record, &c);
	}
	assert_int_equal(c.n, 0);
	for (int i = 0; i < 5; i++) {
		in.queued = 11 + (uint64_t) i;
		sje__alerts_check(a, &in, t += 1000, record, &c);
	}
	assert_string_equal(c.text, "backlog:firing:11");
	for (int i = 0; i < 5; i++) {
		in.queued = 10;
		sje__alerts_check(a, &in, t += 1000, record, &c);
	}
	assert_string_equal(c.text, "backlog:firing:11 backlog:resolved:10");
	in.queued = 50;
	sje__alerts_check(a, &in, t += 1000, record, &c);
	assert_int_equal(c.n, 3); // it may fire again later: a new episode
	sje__alerts_free(a);
	sje_config_free(cfg);
}

static void
test_for_s_waits_until_the_condition_held_that_long(void **state)
{
	sje_config      *cfg;
	sje__alerts     *a;
	changes          c = { 0 };
	char             err[256];
	sje__alert_input in;
	sje_time_ms      t = 5000000;

	(void) state;
	cfg = load(
	    "monitoring:\n  alerts:\n"
	    "    - {name: idle, when: \"workers_online < 1\", for_s: 3}\n");
	assert_int_equal(sje__alerts_open(cfg, &a, err, sizeof(err)), SJE_OK);
	memset(&in, 0, sizeof(in));
	sje__alerts_check(a, &in, t, record, &c);        // holds since t
	sje__alerts_check(a, &in, t + 2000, record, &c); // 2 s
	assert_int_equal(c.n, 0);
	in.workers = 1; // a blip resets the clock
	sje__alerts_check(a, &in, t + 2500, record, &c);
	in.workers = 0;
	sje__alerts_check(a, &in, t + 3000, record, &c);
	sje__alerts_check(a, &in, t + 5000, record, &c); // 2 s again
	assert_int_equal(c.n, 0);
	sje__alerts_check(a, &in, t + 6000, record, &c); // 3 s
	assert_string_equal(c.text, "idle:firing:0");
	sje__alerts_free(a);
	sje_config_free(cfg);
}

static void
test_failure_rate_looks_back_over_the_window(void **state)
{
	sje_config      *cfg;
	sje__alerts     *a;
	changes          c = { 0 };
	char             err[256];
	sje__alert_input in;
	sje_time_ms      t = 9000000;

	(void) state;
	cfg = load("monitoring:\n  check_interval_s: 10\n  window_s: 60\n"
	           "  alerts:\n"
	           "    - {name: failing, when: \"failure_rate > 0.5\"}\n"
	           "    - {name: many, when: \"failed >= 100\"}\n");
	assert_int_equal(sje__alerts_open(cfg, &a, err, sizeof(err)), SJE_OK);
	memset(&in, 0, sizeof(in));
	// Long ago: 1000 failures. They are outside the window soon.
	in.failed_total = 1000;
	sje__alerts_check(a, &in, t, record, &c);
	assert_int_equal(c.n, 0); // nothing finished within the window yet
	// Within the next minute: 40 succeed, 60 fail.
	in.succeeded_total = 40;
	in.failed_total    = 1060;
	sje__alerts_check(a, &in, t += 10000, record, &c);
	assert_string_equal(c.text, "failing:firing:0.6");
	// Then only successes: at 60 to 60 the rate is 0.5, no longer above.
	in.succeeded_total += 20;
	sje__alerts_check(a, &in, t += 10000, record, &c);
	assert_string_equal(c.text, "failing:firing:0.6 failing:resolved:0.5");
	// The 1000 early failures came before the window's base, so `many`
	// (failed >= 100) never fired; a minute on, none are left in it.
	for (int i = 0; i < 7; i++) {
		in.succeeded_total += 20;
		sje__alerts_check(a, &in, t += 10000, record, &c);
	}
	assert_int_equal(c.n, 2);
	in.failed_total += 100;
	sje__alerts_check(a, &in, t += 10000, record, &c);
	assert_string_equal(
	    c.text, "failing:firing:0.6 failing:resolved:0.5 many:firing:100");
	sje__alerts_free(a);
	sje_config_free(cfg);
}

static void
test_no_rules_means_no_alerts(void **state)
{
	sje_config      *cfg;
	sje__alerts     *a = (sje__alerts *) 1;
	char             err[64];
	sje__alert_input in;
	changes          c = { 0 };

	(void) state;
	cfg = load("monitoring:\n  metrics: true\n");
	assert_int_equal(sje__alerts_open(cfg, &a, err, sizeof(err)), SJE_OK);
	assert_null(a);
	assert_int_equal(sje__alerts_count(a), 0);
	memset(&in, 0, sizeof(in));
	sje__alerts_check(a, &in, 1, record, &c);
	assert_int_equal(c.n, 0);
	sje_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_parse_with_every_operator),
		cmocka_unit_test(
		    test_unknown_metric_is_refused_naming_line_and_key),
		cmocka_unit_test(
		    test_bad_operator_number_and_trailer_are_refused),
		cmocka_unit_test(test_alert_fires_once_and_resolves_once),
		cmocka_unit_test(
		    test_for_s_waits_until_the_condition_held_that_long),
		cmocka_unit_test(test_failure_rate_looks_back_over_the_window),
		cmocka_unit_test(test_no_rules_means_no_alerts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
