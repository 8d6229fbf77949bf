// validate_test.c — the doors' checks before posting (server/door/validate.c):
// refusals answered at once with the scheduler's codes, fields and
// messages; what passes is marked checked; other calls pass unmarked.
#include "door/validate.h"
#include "methods.h"
#include "util.h"

#include <sje/v1/coordinator.pb-c.h>
#include <sje/v1/worker_hub.pb-c.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cmocka.h needs these first.
#include <setjmp.h>

#include <cmocka.h>

// tcall is a call whose answer the test reads.
typedef struct tcall {
	sje__call base;
	bool      answered;
	int       code;
	char      message[512];
	char      field[160];
} tcall;

static void
tcall_send(sje__call *base, int code, const char *message, const char *field,
    const uint8_t *body, size_t len)
{
	(void) body;
	(void) len;
	tcall *c    = (tcall *) base;
	c->answered = true;
	c->code     = code;
	snprintf(c->message, sizeof(c->message), "%s",
	    message != NULL ? message : "");
	snprintf(c->field, sizeof(c->field), "%s", field != NULL ? field : "");
}

// submit checks a SubmitRequest of the n specs given; the call is the
// caller's (no input of its own to free).
static tcall
submit(Sje__V1__JobSpec **specs, size_t n)
{
	static Sje__V1__SubmitRequest req;
	sje__v1__submit_request__init(&req);
	req.jobs       = specs;
	req.n_jobs     = n;
	tcall c        = { 0 };
	c.base.send    = tcall_send;
	c.base.service = &sje__v1__coordinator__descriptor;
	c.base.method  = SJE__COORD_SUBMIT;
	c.base.input   = &req.base;
	bool passed    = sje__validate_call(&c.base);
	assert_true(passed == !c.answered);
	return c;
}

static void
spec_init(Sje__V1__JobSpec *s, const char *id, const char *fn)
{
	sje__v1__job_spec__init(s);
	s->task_id  = (char *) id;
	s->function = (char *) fn;
}

static void
test_a_good_submit_passes_marked_checked(void **state)
{
	(void) state;
	Sje__V1__JobSpec  a, b;
	Sje__V1__JobSpec *v[] = { &a, &b };
	spec_init(&a, "a", "echo");
	spec_init(&b, "", "echo"); // no id: the scheduler makes one
	tcall c = submit(v, 2);
	assert_false(c.answered);
	assert_true(c.base.checked);
}

static void
test_one_bad_spec_is_refused_naming_its_field_plainly(void **state)
{
	(void) state;
	Sje__V1__JobSpec  a;
	Sje__V1__JobSpec *v[] = { &a };
	spec_init(&a, "a", "");
	tcall c = submit(v, 1);
	assert_true(c.answered);
	assert_int_equal(c.code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_string_equal(c.field, "function");
	assert_false(c.base.checked);
}

static void
test_a_bad_spec_in_a_batch_is_named_by_its_index(void **state)
{
	(void) state;
	Sje__V1__JobSpec  a, b;
	Sje__V1__JobSpec *v[] = { &a, &b };
	spec_init(&a, "a", "echo");
	spec_init(&b, "b c", "echo"); // a space is not allowed in an id
	tcall c = submit(v, 2);
	assert_true(c.answered);
	assert_int_equal(c.code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_string_equal(c.field, "jobs[1].task_id");
}

static void
test_a_task_id_twice_is_refused_at_its_second_place(void **state)
{
	(void) state;
	Sje__V1__JobSpec  a, b, d;
	Sje__V1__JobSpec *v[] = { &a, &b, &d };
	spec_init(&a, "x", "echo");
	spec_init(&b, "y", "echo");
	spec_init(&d, "x", "echo");
	tcall c = submit(v, 3);
	assert_true(c.answered);
	assert_string_equal(c.field, "jobs[2].task_id");
	assert_string_equal(
	    c.message, "task_id 'x' appears twice in the request");
}

static void
test_no_jobs_and_too_many_jobs_are_refused(void **state)
{
	(void) state;
	tcall c = submit(NULL, 0);
	assert_true(c.answered);
	assert_int_equal(c.code, SJE__V1__STATUS_CODE__INVALID_ARGUMENT);
	assert_string_equal(c.field, "jobs");

	size_t             n = SJE_MAX_JOBS_PER_CALL + 1;
	Sje__V1__JobSpec  *s = calloc(n, sizeof(*s));
	Sje__V1__JobSpec **v = calloc(n, sizeof(*v));
	assert_non_null(s);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		spec_init(&s[i], "", "echo");
		v[i] = &s[i];
	}
	c = submit(v, n);
	assert_true(c.answered);
	assert_int_equal(c.code, SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED);
	assert_string_equal(c.field, "jobs");
	free(v);
	free(s);
}

static void
test_too_many_dependencies_in_one_request_are_refused(void **state)
{
	(void) state;
	// Jobs of 10,000 distinct parents each: past 100,000 at the eleventh.
	size_t             n = SJE_MAX_EDGES_PER_CALL / SJE_MAX_DEPENDS + 1;
	char              *names = calloc(SJE_MAX_DEPENDS, 8);
	char             **deps  = calloc(SJE_MAX_DEPENDS, sizeof(*deps));
	Sje__V1__JobSpec  *s     = calloc(n, sizeof(*s));
	Sje__V1__JobSpec **v     = calloc(n, sizeof(*v));
	char              *ids   = calloc(n, 16);
	assert_non_null(names);
	assert_non_null(deps);
	assert_non_null(s);
	assert_non_null(v);
	assert_non_null(ids);
	for (size_t k = 0; k < SJE_MAX_DEPENDS; k++) {
		snprintf(names + 8 * k, 8, "p%zu", k);
		deps[k] = names + 8 * k;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ids + 16 * i, 16, "j%zu", i);
		spec_init(&s[i], ids + 16 * i, "echo");
		s[i].depends_on   = deps;
		s[i].n_depends_on = SJE_MAX_DEPENDS;
		v[i]              = &s[i];
	}
	tcall c = submit(v, n);
	assert_true(c.answered);
	assert_int_equal(c.code, SJE__V1__STATUS_CODE__RESOURCE_EXHAUSTED);
	char want[32];
	snprintf(want, sizeof(want), "jobs[%zu].depends_on", n - 1);
	assert_string_equal(c.field, want);
	// One job fewer passes.
	c = submit(v, n - 1);
	assert_false(c.answered);
	free(ids);
	free(v);
	free(s);
	free(deps);
	free(names);
}

// complete checks a Complete whose outcomes carry the results given
// (NULL: none).
static tcall
complete(const char **results, size_t n)
{
	static Sje__V1__ReportRequest req;
	static Sje__V1__JobOutcome    o[4];
	static Sje__V1__JobOutcome   *op[4];
	static Sje__V1__Json          r[4];
	sje__v1__report_request__init(&req);
	for (size_t i = 0; i < n; i++) {
		sje__v1__job_outcome__init(&o[i]);
		sje__v1__json__init(&r[i]);
		o[i].task_id  = "t";
		o[i].lease_id = 1;
		if (results[i] != NULL) {
			r[i].text   = (char *) results[i];
			o[i].result = &r[i];
		}
		op[i] = &o[i];
	}
	req.outcomes   = op;
	req.n_outcomes = n;
	tcall c        = { 0 };
	c.base.send    = tcall_send;
	c.base.service = &sje__v1__worker_hub__descriptor;
	c.base.method  = SJE__HUB_COMPLETE;
	c.base.input   = &req.base;
	assert_true(sje__validate_call(&c.base));
	assert_false(c.answered); // never refused here: its leases decide
	return c;
}

static void
test_a_complete_whose_results_are_json_is_marked(void **state)
{
	(void) state;
	const char *results[] = { "{\"sum\": 3}", NULL, "" };
	assert_true(complete(results, 3).base.checked);
}

static void
test_a_complete_with_a_result_that_is_not_json_goes_on_unmarked(void **state)
{
	(void) state;
	const char *results[] = { "[1, 2]", "{not json" };
	assert_false(complete(results, 2).base.checked);
	// Past the size limit, too.
	char *big = malloc(SJE_MAX_PARAMS_BYTES + 3);
	assert_non_null(big);
	big[0] = '"';
	memset(big + 1, 'x', SJE_MAX_PARAMS_BYTES);
	big[SJE_MAX_PARAMS_BYTES + 1] = '"';
	big[SJE_MAX_PARAMS_BYTES + 2] = '\0';
	const char *one[]             = { big };
	assert_false(complete(one, 1).base.checked);
	free(big);
}

// fetch checks a Fetch that carries one outcome with result (NULL: none).
static tcall
fetch(const char *result)
{
	static Sje__V1__FetchRequest req;
	static Sje__V1__JobOutcome   o;
	static Sje__V1__JobOutcome  *op;
	static Sje__V1__Json         r;
	sje__v1__fetch_request__init(&req);
	sje__v1__job_outcome__init(&o);
	sje__v1__json__init(&r);
	o.task_id  = "t";
	o.lease_id = 1;
	if (result != NULL) {
		r.text   = (char *) result;
		o.result = &r;
	}
	op             = &o;
	req.max_jobs   = 1;
	req.outcomes   = &op;
	req.n_outcomes = 1;
	tcall c        = { 0 };
	c.base.send    = tcall_send;
	c.base.service = &sje__v1__worker_hub__descriptor;
	c.base.method  = SJE__HUB_FETCH;
	c.base.input   = &req.base;
	assert_true(sje__validate_call(&c.base));
	assert_false(c.answered);
	return c;
}

static void
test_a_fetch_carrying_outcomes_is_marked_only_when_their_results_are_json(
    void **state)
{
	(void) state;
	assert_true(fetch("{\"sum\": 3}").base.checked);
	assert_true(fetch(NULL).base.checked);
	assert_false(fetch("{not json").base.checked);
}

static void
test_other_calls_pass_unmarked(void **state)
{
	(void) state;
	Sje__V1__GetStatusRequest req = SJE__V1__GET_STATUS_REQUEST__INIT;
	tcall                     c   = { 0 };
	c.base.send                   = tcall_send;
	c.base.service                = &sje__v1__coordinator__descriptor;
	c.base.method                 = SJE__COORD_GET_STATUS;
	c.base.input                  = &req.base;
	assert_true(sje__validate_call(&c.base));
	assert_false(c.answered);
	assert_false(c.base.checked);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_good_submit_passes_marked_checked),
		cmocka_unit_test(
		    test_one_bad_spec_is_refused_naming_its_field_plainly),
		cmocka_unit_test(
		    test_a_bad_spec_in_a_batch_is_named_by_its_index),
		cmocka_unit_test(
		    test_a_task_id_twice_is_refused_at_its_second_place),
		cmocka_unit_test(test_no_jobs_and_too_many_jobs_are_refused),
		cmocka_unit_test(
		    test_too_many_dependencies_in_one_request_are_refused),
		cmocka_unit_test(
		    test_a_complete_whose_results_are_json_is_marked),
		cmocka_unit_test(
		    test_a_complete_with_a_result_that_is_not_json_goes_on_unmarked),
		cmocka_unit_test(
		    test_a_fetch_carrying_outcomes_is_marked_only_when_their_results_are_json),
		cmocka_unit_test(test_other_calls_pass_unmarked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
