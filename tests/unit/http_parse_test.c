// http_parse_test.c — the HTTP/1.1 request head parser
// (server/door/http_parse.c): good heads, pipelined heads, heads that arrive
// in pieces, and every refusal with its status.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "door/http_parse.h"

static const sje__http_limits lim = {
	.max_target_bytes = 2048,
	.max_head_bytes   = 16384,
	.max_fields       = 100,
};

// parse parses s whole; returns the result and fills req, consumed, err.
static sje__http_result
parse(const char *s, sje__http_request *req, size_t *consumed,
    sje__http_error *err)
{
	size_t scan = 0;
	return sje__http_parse(s, strlen(s), &lim, &scan, req, consumed, err);
}

// refused asserts that s is refused with status.
static void
refused(const char *s, int status)
{
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed = 0;
	sje__http_result  r        = parse(s, &req, &consumed, &err);
	if (r != SJE__HTTP_BAD || err.status != status) {
		print_error("'%s': expected %d, got result %d status %d\n", s,
		    status, (int) r, r == SJE__HTTP_BAD ? err.status : 0);
		fail();
	}
	assert_non_null(err.message);
	assert_non_null(err.code);
}

static void
test_parse_reads_a_simple_get(void **state)
{
	(void) state;
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed;
	const char       *s = "GET /status/a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
	assert_int_equal(parse(s, &req, &consumed, &err), SJE__HTTP_DONE);
	assert_int_equal(consumed, strlen(s));
	assert_int_equal(req.method_len, 3);
	assert_memory_equal(req.method, "GET", 3);
	assert_int_equal(req.target_len, strlen("/status/a?x=1"));
	assert_memory_equal(req.target, "/status/a?x=1", req.target_len);
	assert_int_equal(req.minor, 1);
	assert_true(req.keep_alive);
	assert_false(req.has_length);
	assert_int_equal(req.content_length, 0);
}

static void
test_parse_accepts_tab_and_space_as_ows(void **state)
{
	(void) state;
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed, n;
	const char       *s = "GET / HTTP/1.1\r\nHost:\th\r\n"
	                      "X-A: \t v a \t\r\nConnection:\tclose\r\n\r\n";
	assert_int_equal(parse(s, &req, &consumed, &err), SJE__HTTP_DONE);
	const char *v = sje__http_header(&req, "x-a", &n);
	assert_non_null(v);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "v a", 3);
	assert_false(req.keep_alive);
}

static void
test_parse_reads_content_length_and_expect(void **state)
{
	(void) state;
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed;
	const char       *s = "POST /submit HTTP/1.1\r\nHost: h\r\n"
	                      "content-length: 12\r\nExpect: 100-Continue\r\n\r\n"
	                      "{\"a\":1}xxxxx";
	assert_int_equal(parse(s, &req, &consumed, &err), SJE__HTTP_DONE);
	assert_true(req.has_length);
	assert_int_equal(req.content_length, 12);
	assert_true(req.expect_continue);
	assert_int_equal(
	    consumed, strlen(s) - 12); // the body is not the head's
}

static void
test_parse_applies_http10_keep_alive_rules(void **state)
{
	(void) state;
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed;
	assert_int_equal(
	    parse("GET / HTTP/1.0\r\n\r\n", &req, &consumed, &err),
	    SJE__HTTP_DONE);
	assert_int_equal(req.minor, 0);
	assert_false(req.keep_alive);
	assert_int_equal(
	    parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req,
	        &consumed, &err),
	    SJE__HTTP_DONE);
	assert_true(req.keep_alive);
	assert_int_equal(
	    parse(
	        "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n",
	        &req, &consumed, &err),
	    SJE__HTTP_DONE);
	assert_false(req.keep_alive);
}

static void
test_parse_reads_pipelined_heads_one_after_another(void **state)
{
	(void) state;
	const char *s  = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	                 "GET /b HTTP/1.1\nHost: h\n\n"
	                 "\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t      at = 0, len = strlen(s);
	const char *want[] = { "/a", "/b", "/c" };
	for (int i = 0; i < 3; i++) {
		sje__http_request req;
		sje__http_error   err;
		size_t            consumed = 0, scan = 0;
		assert_int_equal(sje__http_parse(s + at, len - at, &lim, &scan,
		                     &req, &consumed, &err),
		    SJE__HTTP_DONE);
		assert_int_equal(req.target_len, 2);
		assert_memory_equal(req.target, want[i], 2);
		at += consumed;
	}
	assert_int_equal(at, len);
}

static void
test_parse_asks_for_more_until_the_head_is_whole(void **state)
{
	(void) state;
	const char *s = "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 2"
	                "\r\n\r\n";
	size_t      len  = strlen(s);
	size_t      scan = 0;
	for (size_t n = 1; n < len; n++) {
		sje__http_request req;
		sje__http_error   err;
		size_t            consumed;
		assert_int_equal(
		    sje__http_parse(s, n, &lim, &scan, &req, &consumed, &err),
		    SJE__HTTP_MORE);
	}
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed;
	assert_int_equal(
	    sje__http_parse(s, len, &lim, &scan, &req, &consumed, &err),
	    SJE__HTTP_DONE);
	assert_int_equal(consumed, len);
	assert_int_equal(req.content_length, 2);
}

static void
test_parse_refuses_malformed_heads_with_400(void **state)
{
	(void) state;
	refused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	refused("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
	refused("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	refused("GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400);
	refused("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01\r\n\r\n", 400);
	refused("GET / HTTP/1.1\r\n\r\n", 400); // no Host
	refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

static void
test_parse_refuses_bad_content_lengths(void **state)
{
	(void) state;
	refused(
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400);
	refused(
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
	refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400);
	refused(
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n", 400);
	refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
	        "Content-Length: 1\r\n\r\n",
	    400);
	refused("POST / HTTP/1.1\r\nHost: h\r\n"
	        "Content-Length: 99999999999999999999\r\n\r\n",
	    400);
}

static void
test_parse_refuses_framing_it_does_not_serve(void **state)
{
	(void) state;
	refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	        "\r\n",
	    411);
	refused(
	    "POST / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n", 417);
	refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
	refused("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
}

static void
test_parse_refuses_long_targets_with_414_even_unfinished(void **state)
{
	(void) state;
	size_t n   = 10240;
	char  *big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', n);
	strcpy(big + 5 + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	refused(big, 414);
	big[5 + n] = '\0'; // the line has not ended yet
	refused(big, 414);
	free(big);
}

static void
test_parse_refuses_large_heads_with_431(void **state)
{
	(void) state;
	size_t n   = 100 * 1024;
	char  *big = malloc(n + 128);
	assert_non_null(big);
	strcpy(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	size_t at = strlen(big);
	memset(big + at, 'b', n);
	big[at + n] = '\0'; // not ended yet: 431 all the same
	refused(big, 431);
	strcpy(big + at + n, "\r\n\r\n");
	refused(big, 431);
	// Too many fields.
	char  *many = malloc(200 * 8 + 64);
	size_t o    = (size_t) sprintf(many, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 150; i++) {
		o += (size_t) sprintf(many + o, "A%d: b\r\n", i);
	}
	strcpy(many + o, "\r\n");
	refused(many, 431);
	free(many);
	free(big);
}

static void
test_has_token_finds_list_members(void **state)
{
	(void) state;
	const char *v = "keep-alive , Upgrade,close";
	assert_true(sje__http_has_token(v, strlen(v), "close"));
	assert_true(sje__http_has_token(v, strlen(v), "KEEP-ALIVE"));
	assert_false(sje__http_has_token(v, strlen(v), "clos"));
	assert_false(sje__http_has_token("", 0, "close"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reads_a_simple_get),
		cmocka_unit_test(test_parse_accepts_tab_and_space_as_ows),
		cmocka_unit_test(test_parse_reads_content_length_and_expect),
		cmocka_unit_test(test_parse_applies_http10_keep_alive_rules),
		cmocka_unit_test(
		    test_parse_reads_pipelined_heads_one_after_another),
		cmocka_unit_test(
		    test_parse_asks_for_more_until_the_head_is_whole),
		cmocka_unit_test(test_parse_refuses_malformed_heads_with_400),
		cmocka_unit_test(test_parse_refuses_bad_content_lengths),
		cmocka_unit_test(test_parse_refuses_framing_it_does_not_serve),
		cmocka_unit_test(
		    test_parse_refuses_long_targets_with_414_even_unfinished),
		cmocka_unit_test(test_parse_refuses_large_heads_with_431),
		cmocka_unit_test(test_has_token_finds_list_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
