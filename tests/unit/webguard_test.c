// webguard_test.c — the gateway's guards for browsers
// (server/door/webguard.c) and the dashboard's embedded files
// (server/door/ui.c): which requests count as cross-site state changes,
// and how the files are found, typed and matched by ETag.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "door/http_parse.h"
#include "door/ui.h"
#include "door/webguard.h"

static const sje__http_limits lim = {
	.max_target_bytes = 2048,
	.max_head_bytes   = 16384,
	.max_fields       = 100,
};

// cross parses a request head and says whether it is refused.
static bool
cross(const char *head)
{
	sje__http_request req;
	sje__http_error   err;
	size_t            consumed = 0, scan = 0;
	char              why[200] = "";
	assert_int_equal(sje__http_parse(head, strlen(head), &lim, &scan, &req,
	                     &consumed, &err),
	    SJE__HTTP_DONE);
	bool refused = sje__web_cross_site(&req, why, sizeof(why));
	assert_true(refused == (why[0] != '\0'));
	return refused;
}

static void
test_a_post_without_origin_goes_on(void **state)
{
	(void) state;
	assert_false(cross("POST /submit HTTP/1.1\r\nHost: h:8080\r\n"
	                   "Content-Length: 0\r\n\r\n"));
}

static void
test_a_post_from_the_servers_own_origin_goes_on(void **state)
{
	(void) state;
	assert_false(cross("POST /submit HTTP/1.1\r\nHost: H:8080\r\n"
	                   "Origin: http://h:8080\r\n"
	                   "Sec-Fetch-Site: same-origin\r\n\r\n"));
	assert_false(cross("DELETE /jobs/a HTTP/1.1\r\nHost: h\r\n"
	                   "Origin: https://h\r\n\r\n"));
}

static void
test_a_post_from_another_origin_is_refused(void **state)
{
	(void) state;
	assert_true(cross("POST /submit HTTP/1.1\r\nHost: h:8080\r\n"
	                  "Origin: http://evil:8080\r\n\r\n"));
	assert_true(cross("POST /submit HTTP/1.1\r\nHost: h:8080\r\n"
	                  "Origin: http://h:8081\r\n\r\n"));
	assert_true(cross("POST /submit HTTP/1.1\r\nHost: h:8080\r\n"
	                  "Origin: http://h:8080.evil\r\n\r\n"));
	assert_true(cross("PUT /functions/f/limits HTTP/1.1\r\nHost: h\r\n"
	                  "Origin: null\r\n\r\n"));
	assert_true(cross("POST /submit HTTP/1.1\r\nHost: h\r\n"
	                  "Origin: ftp://h\r\n\r\n"));
}

static void
test_sec_fetch_site_cross_site_is_refused(void **state)
{
	(void) state;
	assert_true(cross("POST /submit HTTP/1.1\r\nHost: h\r\n"
	                  "Sec-Fetch-Site: cross-site\r\n\r\n"));
	assert_false(cross("POST /submit HTTP/1.1\r\nHost: h\r\n"
	                   "Sec-Fetch-Site: none\r\n\r\n"));
}

static void
test_reads_are_never_refused(void **state)
{
	(void) state;
	assert_false(cross("GET /jobs HTTP/1.1\r\nHost: h\r\n"
	                   "Origin: http://evil\r\n"
	                   "Sec-Fetch-Site: cross-site\r\n\r\n"));
	assert_false(cross("HEAD /ui/ HTTP/1.1\r\nHost: h\r\n"
	                   "Origin: http://evil\r\n\r\n"));
}

static void
test_the_dashboard_files_are_found_by_path(void **state)
{
	(void) state;
	const sje__ui_asset *index = sje__ui_find("/ui/", 4);
	assert_non_null(index);
	assert_string_equal(index->name, "index.html");
	assert_ptr_equal(sje__ui_find("/ui/index.html", 14), index);
	const sje__ui_asset *js = sje__ui_find("/ui/app.js", 10);
	assert_non_null(js);
	assert_true(js->len > 0);
	assert_int_equal(js->data[js->len], 0);
	assert_non_null(sje__ui_find("/ui/app.css", 11));
	assert_null(sje__ui_find("/ui/app.jsx", 11));
	assert_null(sje__ui_find("/ui/../app.js", 13));
	assert_null(sje__ui_find("/app.js", 7));
	assert_null(sje__ui_find("/ui", 3));
	// Every ETag is quoted and differs from the others.
	for (unsigned i = 0; i < sje__ui_n_assets; i++) {
		const char *t = sje__ui_assets[i].etag;
		assert_true(t[0] == '"' && t[strlen(t) - 1] == '"');
		for (unsigned k = 0; k < i; k++) {
			assert_string_not_equal(t, sje__ui_assets[k].etag);
		}
	}
}

static void
test_content_types_follow_the_name(void **state)
{
	(void) state;
	assert_string_equal(
	    sje__ui_content_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(
	    sje__ui_content_type("app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(
	    sje__ui_content_type("app.css"), "text/css; charset=utf-8");
	assert_string_equal(
	    sje__ui_content_type("x.bin"), "application/octet-stream");
}

static void
test_if_none_match_compares_entity_tags(void **state)
{
	(void) state;
	const char *tag   = "\"abc\"";
	const char *yes[] = { "\"abc\"", "W/\"abc\"", "*", "\"x\", \"abc\"",
		" \"abc\" " };
	const char *no[]  = { "\"abcd\"", "abc", "", "\"x\", W/\"ab\"" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_true(sje__ui_etag_matches(yes[i], strlen(yes[i]), tag));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_false(sje__ui_etag_matches(no[i], strlen(no[i]), tag));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_post_without_origin_goes_on),
		cmocka_unit_test(
		    test_a_post_from_the_servers_own_origin_goes_on),
		cmocka_unit_test(test_a_post_from_another_origin_is_refused),
		cmocka_unit_test(test_sec_fetch_site_cross_site_is_refused),
		cmocka_unit_test(test_reads_are_never_refused),
		cmocka_unit_test(test_the_dashboard_files_are_found_by_path),
		cmocka_unit_test(test_content_types_follow_the_name),
		cmocka_unit_test(test_if_none_match_compares_entity_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
