// rest_input_test.c — the REST gateway's requests -> inputs
// (server/door/rest_input.c): percent-decoding, and query strings read
// into JSON for the method's input, with the refusals they record.
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
		cmocka_unit_test(test_no_query_refuses_any_parameter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
