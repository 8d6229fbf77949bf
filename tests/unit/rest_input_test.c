// rest_input_test.c — the REST gateway's requests -> inputs
// (server/door/rest_input.c): routes matched by method and path,
// percent-decoding, query strings read into JSON for the method's input,
// the inputs built from a path parameter and a body, and the refusals
// they record.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door/rest_input.h"
#include "pbjson.h"

// decoded asserts that n bytes of s decode to want (NULL: refused).
static void
decoded(const char *s, size_t n, bool plus, const char *want)
{
	char *got = sje__rest_pct_decode(s, n, plus);
	if (want == NULL) {
		if (got != NULL) {
			print_error("'%s' decoded to '%s'\n", s, got);
		}
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_pct_decode_reads_escapes_in_either_case(void **state)
{
	(void) state;
	decoded("a%20b", 5, false, "a b");
	decoded("%41%6a%6A", 9, false, "Ajj");
	decoded("t-1_x.y:z", 9, false, "t-1_x.y:z");
	decoded("", 0, false, "");
}

static void
test_pct_decode_reads_plus_as_space_only_in_queries(void **state)
{
	(void) state;
	decoded("a+b", 3, true, "a b");
	decoded("a+b", 3, false, "a+b");
	decoded("a%2Bb", 5, true, "a+b");
}

static void
test_pct_decode_refuses_bad_escapes_and_nul(void **state)
{
	(void) state;
	decoded("%zz", 3, false, NULL);
	decoded("a%2", 3, false, NULL);
	decoded("%", 1, false, NULL);
	decoded("a%00b", 5, false, NULL);
}

static void
test_pct_decode_reads_only_n_bytes(void **state)
{
	(void) state;
	decoded("abc%20", 3, false, "abc");
	// The escape is cut by n: refused, never read past it.
	decoded("%41", 2, false, NULL);
}

// query runs sje__rest_query for q against d; on success *out is the
// JSON text (caller frees), else c's refusal is left in *c.
static bool
query(const char *q, const ProtobufCMessageDescriptor *d, sje__rest_call *c,
    char **out)
{
	memset(c, 0, sizeof(*c));
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", q);
	c->query   = buf;
	json_t *o  = json_object();
	bool    ok = sje__rest_query(c, d, o);
	c->query   = NULL;
	*out       = ok ? sje__json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return ok;
}

// read_as asserts that q reads as the JSON text want.
static void
read_as(const char *q, const ProtobufCMessageDescriptor *d, const char *want)
{
	sje__rest_call c;
	char          *got;
	if (!query(q, d, &c, &got)) {
		print_error("'%s' refused: %s: %s\n", q, c.e_field, c.e_msg);
		fail();
	}
	assert_string_equal(got, want);
	free(got);
}

// refused asserts that q is refused 400 naming field, with msg.
static void
refused(const char *q, const ProtobufCMessageDescriptor *d, const char *field,
    const char *msg)
{
	sje__rest_call c;
	char          *got;
	if (query(q, d, &c, &got)) {
		print_error("'%s' read as %s\n", q, got);
		free(got);
		fail();
	}
	assert_int_equal(c.e_status, 400);
	assert_string_equal(c.e_code, "INVALID_ARGUMENT");
	assert_string_equal(c.e_field, field);
	assert_string_equal(c.e_msg, msg);
}

static const ProtobufCMessageDescriptor *const jobs =
    &sje__v1__list_jobs_request__descriptor;
static const ProtobufCMessageDescriptor *const events =
    &sje__v1__list_events_request__descriptor;

static void
test_query_reads_scalar_fields_by_name(void **state)
{
	(void) state;
	read_as("state=QUEUED&function=calc%20data&limit=5", jobs,
	    "{\"state\":\"QUEUED\",\"function\":\"calc data\",\"limit\":5}");
	read_as("function=a+b", jobs, "{\"function\":\"a b\"}");
	read_as("", jobs, "{}");
}

static void
test_query_leaves_what_does_not_read_as_a_number_to_the_mapping(void **state)
{
	(void) state;
	read_as("limit=abc", jobs, "{\"limit\":\"abc\"}");
	read_as("limit=-3", jobs, "{\"limit\":-3}");
	// 64-bit integers travel as strings in JSON.
	read_as("after=10", events, "{\"after\":\"10\"}");
	read_as(
	    "from_now=1&limit=2", events, "{\"from_now\":true,\"limit\":2}");
	read_as("from_now=false", events, "{\"from_now\":false}");
	read_as("from_now=yes", events, "{\"from_now\":\"yes\"}");
}

static void
test_query_reads_an_empty_value_as_absent_and_skips_empty_pairs(void **state)
{
	(void) state;
	read_as(
	    "state=&function=f", jobs, "{\"state\":null,\"function\":\"f\"}");
	read_as(
	    "limit=1&&function=f", jobs, "{\"limit\":1,\"function\":\"f\"}");
	read_as("function", jobs, "{\"function\":null}");
}

static void
test_query_reads_wait_s_as_wait_ms_where_the_method_has_it(void **state)
{
	(void) state;
	read_as("wait_s=5", events, "{\"wait_ms\":5000}");
	read_as("wait_s=0", events, "{\"wait_ms\":0}");
	read_as("wait_s=600", events, "{\"wait_ms\":600000}");
	read_as("wait_s=", events, "{\"wait_ms\":null}");
	refused("wait_s=601", events, "wait_s",
	    "expected whole seconds from 0 to 600");
	refused("wait_s=-1", events, "wait_s",
	    "expected whole seconds from 0 to 600");
	refused("wait_s=1.5", events, "wait_s",
	    "expected whole seconds from 0 to 600");
	refused("wait_s=5", jobs, "wait_s", "unknown query parameter");
}

static void
test_query_refuses_unknown_repeated_and_badly_encoded_parameters(void **state)
{
	(void) state;
	refused("colour=red", jobs, "colour", "unknown query parameter");
	refused("limit=1&limit=2", jobs, "limit", "given twice");
	refused(
	    "function=%zz", jobs, "function", "not valid percent-encoding");
	refused(
	    "fun%zztion=x", jobs, "fun%zztion", "not valid percent-encoding");
	// The raw name is made printable for the error.
	refused("a%0Ab=1", jobs, "a%0Ab", "unknown query parameter");
	refused("a\tb=1", jobs, "a?b", "unknown query parameter");
}

static void
test_query_reads_a_time_as_its_text_and_a_label_after_its_first_equals(
    void **state)
{
	(void) state;
	// The mapping reads the time (pbjson.h), and names the field if
	// it is not RFC 3339.
	read_as(
	    "after=2026-11-27T22:00:00Z&before=2026-11-28T00:00:00%2B01:00",
	    jobs,
	    "{\"after\":\"2026-11-27T22:00:00Z\",\"before\":"
	    "\"2026-11-28T00:00:00+01:00\"}");
	read_as("after=yesterday", jobs, "{\"after\":\"yesterday\"}");
	read_as("label=team=etl&worker=w-1", jobs,
	    "{\"label\":\"team=etl\",\"worker\":\"w-1\"}");
	read_as("label=tier%3D1", jobs, "{\"label\":\"tier=1\"}");
	// A message field other than a time is still no parameter.
	refused("params=1", &sje__v1__run_workflow_request__descriptor,
	    "params", "unknown query parameter");
}

static void
test_no_query_refuses_any_parameter(void **state)
{
	(void) state;
	sje__rest_call c = { 0 };
	assert_true(sje__rest_no_query(&c));
	char empty[] = "";
	c.query      = empty;
	assert_true(sje__rest_no_query(&c));
	char q[] = "x=1&y=2";
	c.query  = q;
	assert_false(sje__rest_no_query(&c));
	assert_int_equal(c.e_status, 400);
	assert_string_equal(c.e_field, "x");
	assert_string_equal(c.e_msg, "unknown query parameter");
}

// A route table like gateway.c's, with a bulk route that shares its
// path with a parameter route, and a PUT.
static const sje__rest_route routes[] = {
	{ "GET", "/status/", "task_id", "", "GetStatus", NULL, NULL },
	{ "GET", "/jobs", NULL, NULL, "ListJobs", NULL, NULL },
	{ "DELETE", "/jobs/", "task_id", "", "DeleteJob", NULL, NULL },
	{ "GET", "/jobs/", "task_id", "/explain", "Explain", NULL, NULL },
	{ "POST", "/jobs/cancel", NULL, NULL, "Cancel", NULL, NULL },
	{ "POST", "/functions/", "name", "/pause", "SetFunction", NULL, NULL },
	{ "PUT", "/functions/", "name", "/limits", "SetFunction", NULL, NULL },
	{ "GET", "/functions/", "name", "/limits", "ListFunctions", NULL,
	    NULL },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

// matched asserts that method and path take route i (-1: none), with
// the raw parameter param (NULL: none), and that the path's methods are
// allow.
static void
matched(const char *method, const char *path, int i, const char *param,
    const char *allow)
{
	sje__rest_match m;
	memset(&m, 0x5a, sizeof(m)); // it must write every field
	sje__rest_route_match(
	    routes, N_ROUTES, method, path, strlen(path), &m);
	if (i < 0) {
		assert_null(m.route);
	} else {
		assert_ptr_equal(m.route, &routes[i]);
	}
	if (param == NULL) {
		assert_null(m.param);
	} else {
		assert_non_null(m.param);
		assert_int_equal(m.param_len, strlen(param));
		assert_memory_equal(m.param, param, m.param_len);
	}
	assert_string_equal(m.allow, allow);
	assert_true((m.first == NULL) == (allow[0] == '\0'));
}

static void
test_route_match_takes_a_parameter_between_a_path_and_its_suffix(void **state)
{
	(void) state;
	matched("GET", "/status/t-1", 0, "t-1", "GET, HEAD");
	matched("GET", "/jobs/a%3Ab/explain", 3, "a%3Ab", "GET, HEAD");
	matched("DELETE", "/jobs/t-1", 2, "t-1", "DELETE");
	matched("POST", "/functions/resize/pause", 5, "resize", "POST");
	matched("GET", "/jobs", 1, NULL, "GET, HEAD");
}

static void
test_route_match_wants_a_whole_non_empty_segment_and_the_exact_suffix(
    void **state)
{
	(void) state;
	matched("GET", "/status/", -1, NULL, "");
	matched("GET", "/status/a/b", -1, NULL, "");
	matched("GET", "/jobs//explain", -1, NULL, "");
	matched("GET", "/jobs/x/nosuch", -1, NULL, "");
	matched("GET", "/jobs/x/explain/more", -1, NULL, "");
	matched("GET", "/jobs/x/explainx", -1, NULL, "");
	matched("POST", "/functions/x", -1, NULL, "");
	matched("POST", "/functions/x/", -1, NULL, "");
	matched("GET", "/jobsx", -1, NULL, "");
	matched("GET", "/job", -1, NULL, "");
}

static void
test_route_match_prefers_an_exact_path_to_a_parameter(void **state)
{
	(void) state;
	// POST /jobs/cancel is the bulk route, not job "cancel" ...
	matched("POST", "/jobs/cancel", 4, NULL, "DELETE, POST");
	// ... but the parameter route still serves its own method there.
	matched("DELETE", "/jobs/cancel", 2, "cancel", "DELETE, POST");
}

static void
test_route_match_lists_every_method_of_the_path_for_a_405(void **state)
{
	(void) state;
	matched("PUT", "/jobs/x/explain", -1, NULL, "GET, HEAD");
	matched("POST", "/jobs/x", -1, NULL, "DELETE");
	matched("DELETE", "/jobs", -1, NULL, "GET, HEAD");
	matched("GET", "/jobs/cancel", -1, NULL, "DELETE, POST");
	matched("POST", "/functions/x/limits", -1, NULL, "PUT, GET, HEAD");
	matched("PUT", "/functions/x/limits", 6, "x", "PUT, GET, HEAD");
	// Methods are case-sensitive tokens.
	matched("delete", "/jobs/x", -1, NULL, "DELETE");
}

static void
test_route_match_serves_head_on_get_routes_only(void **state)
{
	(void) state;
	matched("HEAD", "/jobs/x/explain", 3, "x", "GET, HEAD");
	matched("HEAD", "/jobs", 1, NULL, "GET, HEAD");
	matched("HEAD", "/jobs/x", -1, NULL, "DELETE");
	matched("HEAD", "/functions/x/pause", -1, NULL, "POST");
}

// param_of runs sje__rest_param on raw for route i: true with the
// decoded parameter in *out (caller frees), else c's refusal in *c.
static bool
param_of(int i, const char *raw, sje__rest_call *c, char **out)
{
	memset(c, 0, sizeof(*c));
	c->route = &routes[i];
	bool ok  = sje__rest_param(c, raw, strlen(raw));
	*out     = c->param;
	return ok;
}

static void
test_param_is_decoded_but_never_holds_a_slash(void **state)
{
	(void) state;
	sje__rest_call c;
	char          *p;
	assert_true(param_of(0, "a%2Eb%3Ac", &c, &p));
	assert_string_equal(p, "a.b:c");
	free(p);
	assert_false(param_of(0, "a%2Fb", &c, &p));
	assert_null(p);
	assert_int_equal(c.e_status, 400);
	assert_string_equal(c.e_code, "INVALID_ARGUMENT");
	assert_string_equal(c.e_field, "task_id");
	assert_string_equal(
	    c.e_msg, "a task_id cannot hold '/' (the path has %2F)");
	assert_false(param_of(5, "x%2f", &c, &p));
	assert_string_equal(c.e_field, "name");
	assert_false(param_of(5, "%zz", &c, &p));
	assert_string_equal(c.e_field, "name");
	assert_string_equal(
	    c.e_msg, "the path's name holds a bad percent-escape");
	assert_false(param_of(0, "a%00", &c, &p));
	assert_string_equal(c.e_field, "task_id");
}

// prepared runs prepare for a call of route r with path parameter param
// and body (NULL: none): true with the input as JSON text in *out
// (caller frees), else c's refusal in *c.
static bool
prepared(const sje__rest_route *r, const char *param, const char *body,
    sje__rest_call *c, char **out)
{
	memset(c, 0, sizeof(*c));
	char pbuf[128];
	snprintf(pbuf, sizeof(pbuf), "%s", param);
	c->route    = r;
	c->param    = pbuf;
	c->body     = (const uint8_t *) body;
	c->body_len = body != NULL ? strlen(body) : 0;
	*out        = NULL;
	assert_true(sje__rest_method(c));
	bool ok  = r->prepare(c);
	c->param = NULL;
	if (ok) {
		json_t *j = sje__pb_to_json(c->base.input);
		*out      = sje__json_dumps(j, JSON_COMPACT);
		json_decref(j);
		protobuf_c_message_free_unpacked(c->base.input, NULL);
		c->base.input = NULL;
	} else {
		assert_null(c->base.input);
	}
	return ok;
}

// input_is asserts that r prepares param and body into an input whose
// fields named in want (a JSON object) have want's values; its other
// fields are at their defaults, as the JSON shows them.
static void
input_is(const sje__rest_route *r, const char *param, const char *body,
    const char *want)
{
	sje__rest_call c;
	char          *got;
	if (!prepared(r, param, body, &c, &got)) {
		print_error("refused: %s: %s\n", c.e_field, c.e_msg);
		fail();
	}
	json_t *g = json_loads(got, 0, NULL);
	json_t *w = json_loads(want, 0, NULL);
	assert_non_null(g);
	assert_non_null(w);
	const char *k;
	json_t     *v;
	json_object_foreach (w, k, v) {
		if (!json_equal(json_object_get(g, k), v)) {
			print_error("%s: got %s, want %s\n", k, got, want);
			fail();
		}
	}
	json_decref(g);
	json_decref(w);
	free(got);
}

// refused_as asserts that r refuses param and body 400 naming field.
static void
refused_as(const sje__rest_route *r, const char *param, const char *body,
    const char *field)
{
	sje__rest_call c;
	char          *got;
	if (prepared(r, param, body, &c, &got)) {
		print_error("prepared as %s\n", got);
		free(got);
		fail();
	}
	assert_int_equal(c.e_status, 400);
	assert_string_equal(c.e_code, "INVALID_ARGUMENT");
	assert_string_equal(c.e_field, field);
	assert_true(c.e_msg[0] != '\0');
}

static const sje__rest_route retry    = { "POST", "/retry/", "task_id", "",
	   "Retry", sje__rest_prep_body, NULL };
static const sje__rest_route workflow = { "POST", "/workflows/", "name", "",
	"RunWorkflow", sje__rest_prep_body, NULL };
static const sje__rest_route pause = { "POST", "/functions/", "name", "/pause",
	"SetFunction", sje__rest_prep_pause, NULL };
static const sje__rest_route resume  = { "POST", "/functions/", "name",
	 "/resume", "SetFunction", sje__rest_prep_resume, NULL };
static const sje__rest_route explain = { "GET", "/jobs/", "task_id",
	"/explain", "Explain", sje__rest_prep_id, NULL };
static const sje__rest_route limits  = { "PUT", "/functions/", "name",
	 "/limits", "SetFunction", sje__rest_prep_limits, NULL };

static void
test_prep_body_fills_the_route_s_field_from_the_path(void **state)
{
	(void) state;
	input_is(&retry, "t-1", NULL,
	    "{\"task_id\":\"t-1\",\"descendants\":false}");
	input_is(&retry, "t-1", "{}",
	    "{\"task_id\":\"t-1\",\"descendants\":false}");
	input_is(&retry, "t-1", "{\"descendants\": true}",
	    "{\"task_id\":\"t-1\",\"descendants\":true}");
	input_is(&explain, "a:b", "ignored", "{\"task_id\":\"a:b\"}");
}

static void
test_prep_body_refuses_the_path_s_field_in_the_body_and_bad_bodies(
    void **state)
{
	(void) state;
	refused_as(&retry, "t-1", "{\"task_id\":\"t-2\"}", "task_id");
	refused_as(&retry, "t-1", "{\"descendants\":\"yes\"}", "descendants");
	refused_as(&retry, "t-1", "descendants=true", "");
	refused_as(&retry, "t-1", "[true]", "");
	refused_as(&retry, "t-1", "{\"colour\":1}", "colour");
	refused_as(&workflow, "etl", "{\"name\":\"other\"}", "name");
}

static void
test_prep_pause_and_resume_take_the_name_from_the_path_and_no_body(
    void **state)
{
	(void) state;
	input_is(&pause, "resize", NULL,
	    "{\"name\":\"resize\",\"pause\":\"PAUSE_CHANGE_PAUSE\"}");
	input_is(&resume, "resize", "{}",
	    "{\"name\":\"resize\",\"pause\":\"PAUSE_CHANGE_RESUME\"}");
	input_is(&pause, "resize", " { } ",
	    "{\"name\":\"resize\",\"pause\":\"PAUSE_CHANGE_PAUSE\"}");
	refused_as(&pause, "resize", "{\"paused\":true}", "paused");
	refused_as(&resume, "resize", "{\"name\":\"x\"}", "name");
	refused_as(&pause, "resize", "pause", "");
	refused_as(&pause, "resize", "[]", "");
}

static void
test_prep_limits_sets_what_the_body_names_and_null_removes_it(void **state)
{
	(void) state;
	input_is(&limits, "resize", "{\"concurrency\": 3}",
	    "{\"name\":\"resize\",\"pause\":\"PAUSE_CHANGE_UNCHANGED\","
	    "\"set_concurrency\":true,\"concurrency\":3,"
	    "\"set_rate\":false,\"rate\":\"\"}");
	input_is(&limits, "resize", "{\"rate\": \"4/s\"}",
	    "{\"set_concurrency\":false,\"concurrency\":0,"
	    "\"set_rate\":true,\"rate\":\"4/s\"}");
	input_is(&limits, "resize",
	    "{\"rate\": \"100/m\", \"concurrency\": 10}",
	    "{\"set_concurrency\":true,\"concurrency\":10,"
	    "\"set_rate\":true,\"rate\":\"100/m\"}");
	input_is(&limits, "resize", "{\"concurrency\": null}",
	    "{\"set_concurrency\":true,\"concurrency\":0,"
	    "\"set_rate\":false}");
	input_is(&limits, "resize", "{\"concurrency\": null, \"rate\": null}",
	    "{\"set_concurrency\":true,\"concurrency\":0,"
	    "\"set_rate\":true,\"rate\":\"\"}");
	input_is(&limits, "resize", "{\"concurrency\": 4294967295}",
	    "{\"concurrency\":4294967295}");
	// The scheduler judges the text of a rate.
	input_is(&limits, "resize", "{\"rate\": \"fast\"}",
	    "{\"set_rate\":true,\"rate\":\"fast\"}");
}

static void
test_prep_limits_refuses_an_empty_body_other_keys_and_bad_values(void **state)
{
	(void) state;
	sje__rest_call c;
	char          *got;
	assert_false(prepared(&limits, "resize", NULL, &c, &got));
	assert_int_equal(c.e_status, 400);
	assert_string_equal(c.e_field, "");
	assert_string_equal(c.e_msg, "give concurrency, rate or both");
	refused_as(&limits, "resize", "{}", "");
	refused_as(&limits, "resize", " { } ", "");
	refused_as(&limits, "resize", "{\"concurrency\": -1}", "concurrency");
	refused_as(&limits, "resize", "{\"concurrency\": 0}", "concurrency");
	refused_as(&limits, "resize", "{\"concurrency\": 2.5}", "concurrency");
	refused_as(
	    &limits, "resize", "{\"concurrency\": \"2\"}", "concurrency");
	refused_as(
	    &limits, "resize", "{\"concurrency\": 4294967296}", "concurrency");
	refused_as(
	    &limits, "resize", "{\"concurrency\": true}", "concurrency");
	refused_as(&limits, "resize", "{\"rate\": 4}", "rate");
	refused_as(&limits, "resize", "{\"rate\": \"\"}", "rate");
	refused_as(&limits, "resize", "{\"rate\": [\"4/s\"]}", "rate");
	refused_as(
	    &limits, "resize", "{\"rate\": \"4/s\", \"colour\": 1}", "colour");
	refused_as(&limits, "resize", "{\"pause\": true}", "pause");
	refused_as(&limits, "resize", "{\"name\": \"x\"}", "name");
	refused_as(&limits, "resize", "{\"set_rate\": true, \"rate\": null}",
	    "set_rate");
	refused_as(&limits, "resize", "concurrency=2", "");
	refused_as(&limits, "resize", "[]", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_decode_reads_escapes_in_either_case),
		cmocka_unit_test(
		    test_pct_decode_reads_plus_as_space_only_in_queries),
		cmocka_unit_test(test_pct_decode_refuses_bad_escapes_and_nul),
		cmocka_unit_test(test_pct_decode_reads_only_n_bytes),
		cmocka_unit_test(test_query_reads_scalar_fields_by_name),
		cmocka_unit_test(
		    test_query_leaves_what_does_not_read_as_a_number_to_the_mapping),
		cmocka_unit_test(
		    test_query_reads_an_empty_value_as_absent_and_skips_empty_pairs),
		cmocka_unit_test(
		    test_query_reads_wait_s_as_wait_ms_where_the_method_has_it),
		cmocka_unit_test(
		    test_query_refuses_unknown_repeated_and_badly_encoded_parameters),
		cmocka_unit_test(
		    test_query_reads_a_time_as_its_text_and_a_label_after_its_first_equals),
		cmocka_unit_test(test_no_query_refuses_any_parameter),
		cmocka_unit_test(
		    test_route_match_takes_a_parameter_between_a_path_and_its_suffix),
		cmocka_unit_test(
		    test_route_match_wants_a_whole_non_empty_segment_and_the_exact_suffix),
		cmocka_unit_test(
		    test_route_match_prefers_an_exact_path_to_a_parameter),
		cmocka_unit_test(
		    test_route_match_lists_every_method_of_the_path_for_a_405),
		cmocka_unit_test(
		    test_route_match_serves_head_on_get_routes_only),
		cmocka_unit_test(
		    test_param_is_decoded_but_never_holds_a_slash),
		cmocka_unit_test(
		    test_prep_body_fills_the_route_s_field_from_the_path),
		cmocka_unit_test(
		    test_prep_body_refuses_the_path_s_field_in_the_body_and_bad_bodies),
		cmocka_unit_test(
		    test_prep_pause_and_resume_take_the_name_from_the_path_and_no_body),
		cmocka_unit_test(
		    test_prep_limits_sets_what_the_body_names_and_null_removes_it),
		cmocka_unit_test(
		    test_prep_limits_refuses_an_empty_body_other_keys_and_bad_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
