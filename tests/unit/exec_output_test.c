// exec_output_test.c — unit tests of the exec plugin's output handling
// (plugins/exec/output.c): bounded stdout, the stderr tail, UTF-8
// cleaning, stdout as a result, exit statuses and error messages.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "output.h"

// result_is checks exec_result_json(in) against want.
static void
result_is(const char *in, const char *want)
{
	char *got = exec_result_json(in, strlen(in));

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_buf_keeps_up_to_max_and_flags_overflow(void **state)
{
	exec_buf b;

	(void) state;
	exec_buf_init(&b, 10);
	assert_true(exec_buf_append(&b, "hello", 5));
	assert_true(exec_buf_append(&b, "", 0));
	assert_true(exec_buf_append(&b, "world", 5));
	assert_false(b.overflow);
	assert_string_equal(b.data, "helloworld");
	assert_false(exec_buf_append(&b, "!", 1));
	assert_true(b.overflow);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	exec_buf_fini(&b);

	exec_buf_init(&b, 4);
	assert_false(exec_buf_append(&b, "abcdef", 6)); // keeps what fits
	assert_string_equal(b.data, "abcd");
	exec_buf_fini(&b);
}

static void
test_tail_keeps_the_last_bytes_whatever_the_chunks(void **state)
{
	static const size_t chunks[] = { 1, 3, 7, 16, 17, 40, 5, 2, 33, 1 };
	char                stream[4096];
	size_t              len = 0;
	size_t              cap;

	(void) state;
	for (cap = 1; cap <= 40; cap++) {
		exec_tail   t;
		const char *p;
		size_t      n;
		size_t      i;
		size_t      want;

		assert_true(exec_tail_init(&t, cap));
		len = 0;
		for (i = 0; i < 60; i++) {
			size_t c = chunks[i % 10];
			size_t k;
			for (k = 0; k < c; k++) {
				stream[len + k] =
				    (char) ('a' + (len + k) % 26);
			}
			exec_tail_append(&t, stream + len, c);
			len += c;
			want = len < cap ? len : cap;
			n    = exec_tail_get(&t, &p);
			assert_int_equal(n, want);
			assert_memory_equal(p, stream + len - want, want);
		}
		assert_int_equal(t.total, len);
		exec_tail_fini(&t);
	}
}

static void
test_utf8_clean_replaces_invalid_bytes(void **state)
{
	static const char bad[] = "a\x80"
	                          "b\xe2\x82"
	                          "c\xc0\xaf"
	                          "d\xed\xa0\x80"
	                          "e\0f";
	size_t            n;
	char             *s;

	(void) state;
	s = exec_utf8_clean("h\xc3\xa9llo", 6, &n);
	assert_string_equal(s, "h\xc3\xa9llo");
	assert_int_equal(n, 6);
	free(s);
	// A lone continuation byte, a cut sequence, an overlong form, a
	// surrogate and a NUL all become U+FFFD.
	s = exec_utf8_clean(bad, sizeof(bad) - 1, &n);
	assert_string_equal(s,
	    "a\xef\xbf\xbd"
	    "b\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd"
	    "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "e\xef\xbf\xbd"
	    "f");
	free(s);
}

static void
test_result_json_passes_json_through_trimmed(void **state)
{
	(void) state;
	result_is("{\"a\": [1, 2.50, 12345678901234567]}\n",
	    "{\"a\": [1, 2.50, 12345678901234567]}");
	result_is("  \"x\"\r\n", "\"x\"");
	result_is("42", "42");
	result_is("true\n", "true");
}

static void
test_result_json_of_empty_output_is_null(void **state)
{
	(void) state;
	result_is("", "null");
	result_is(" \n\t\r\n", "null");
}

static void
test_result_json_turns_text_into_a_string(void **state)
{
	(void) state;
	result_is("hello world\n", "\"hello world\"");
	result_is("two\nlines\r\n", "\"two\\nlines\"");
	result_is("  spaced  ", "\"  spaced  \"");
	result_is("say \"hi\"\n\n", "\"say \\\"hi\\\"\\n\"");
	result_is("{\"a\": 1} trailing", "\"{\\\"a\\\": 1} trailing\"");
	// Duplicate keys are refused as JSON, as the worker refuses them.
	result_is("{\"a\": 1, \"a\": 2}", "\"{\\\"a\\\": 1, \\\"a\\\": 2}\"");
	result_is("bad \xff byte", "\"bad \xef\xbf\xbd byte\"");
}

static void
test_describe_status_says_exit_or_signal(void **state)
{
	char buf[96];

	(void) state;
	assert_string_equal(exec_describe_status(3 << 8, buf, sizeof(buf)),
	    "exited with status 3");
	assert_string_equal(exec_describe_status(SIGKILL, buf, sizeof(buf)),
	    "killed by signal 9 (SIGKILL)");
	assert_string_equal(
	    exec_describe_status(SIGSEGV | 0x80, buf, sizeof(buf)),
	    "killed by signal 11 (SIGSEGV), core dumped");
}

static void
test_error_message_is_whole_when_it_fits(void **state)
{
	char buf[256];

	(void) state;
	assert_string_equal(exec_error_message(buf, sizeof(buf),
	                        "exited with status 1", "oops\n", 5, 5),
	    "exited with status 1; stderr: oops");
	assert_string_equal(exec_error_message(buf, sizeof(buf),
	                        "exited with status 1", "", 0, 0),
	    "exited with status 1 (no output on stderr)");
}

static void
test_error_message_keeps_the_end_within_its_size(void **state)
{
	char        buf[64];
	char        tail[100];
	const char *msg;

	(void) state;
	memset(tail, 'x', sizeof(tail));
	memcpy(tail + sizeof(tail) - 4, "END\n", 4);
	msg = exec_error_message(
	    buf, sizeof(buf), "exited with status 2", tail, sizeof(tail), 100);
	assert_true(strlen(msg) < sizeof(buf));
	assert_non_null(strstr(msg, "exited with status 2; stderr (last "));
	assert_non_null(strstr(msg, " of 100 bytes): x"));
	assert_string_equal(msg + strlen(msg) - 3, "END");

	// More was written than the tail holds: it says so even when the
	// tail fits.
	msg = exec_error_message(
	    buf, sizeof(buf), "exited with status 2", "abc", 3, 5000);
	assert_string_equal(
	    msg, "exited with status 2; stderr (last 3 of 5000 bytes): abc");

	// A cut never splits a character.
	memset(tail, 0, sizeof(tail));
	for (size_t i = 0; i + 2 <= 90; i += 2) {
		memcpy(tail + i, "\xc3\xa9", 2);
	}
	msg = exec_error_message(buf, sizeof(buf), "hh", tail, 90, 90);
	assert_true(strlen(msg) < sizeof(buf));
	msg = strstr(msg, "): ") + 3;
	assert_true((unsigned char) msg[0] == 0xc3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_keeps_up_to_max_and_flags_overflow),
		cmocka_unit_test(
		    test_tail_keeps_the_last_bytes_whatever_the_chunks),
		cmocka_unit_test(test_utf8_clean_replaces_invalid_bytes),
		cmocka_unit_test(test_result_json_passes_json_through_trimmed),
		cmocka_unit_test(test_result_json_of_empty_output_is_null),
		cmocka_unit_test(test_result_json_turns_text_into_a_string),
		cmocka_unit_test(test_describe_status_says_exit_or_signal),
		cmocka_unit_test(test_error_message_is_whole_when_it_fits),
		cmocka_unit_test(
		    test_error_message_keeps_the_end_within_its_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
