// cron_test.c — unit tests of five-field cron expressions
// (client/core/cron.c): what parses, what is refused with which words,
// and the next matching minute across hours, days, months and years.
#include "cron.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

// cmocka.h needs these first.
#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

// at is the UTC time y-mo-d h:mi:00 in ms.
static sje_time_ms
at(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900,
		.tm_mon           = mo - 1,
		.tm_mday          = d,
		.tm_hour          = h,
		.tm_min           = mi };
	return (sje_time_ms) timegm(&tm) * 1000;
}

static sje_cron
parse(const char *text)
{
	sje_cron c;
	char     why[160] = "";
	if (!sje_cron_parse(text, &c, why, sizeof(why))) {
		fail_msg("'%s' did not parse: %s", text, why);
	}
	return c;
}

// refused checks that text is refused with a reason holding want.
static void
refused(const char *text, const char *want)
{
	sje_cron c;
	char     why[160] = "";
	if (sje_cron_parse(text, &c, why, sizeof(why))) {
		fail_msg("'%s' parsed, but should be refused", text);
	}
	if (strstr(why, want) == NULL) {
		fail_msg("'%s': reason \"%s\" lacks \"%s\"", text, why, want);
	}
}

static void
test_cron_parses_stars_values_ranges_steps_lists_and_names(void **state)
{
	(void) state;
	sje_cron c = parse("*/15 2 * * *");
	assert_int_equal(c.minutes,
	    (1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45));
	assert_int_equal(c.hours, 1u << 2);
	c = parse("0 9-17/4 1,15 jan-mar mon-fri");
	assert_int_equal(c.hours, (1u << 9) | (1u << 13) | (1u << 17));
	assert_int_equal(c.mdays, (1u << 1) | (1u << 15));
	assert_int_equal(c.months, (1u << 1) | (1u << 2) | (1u << 3));
	assert_int_equal(c.wdays, 0x3e);
	c = parse("0 0 * * 7");
	assert_int_equal(c.wdays, 1u); // 7 is Sunday
	c = parse("  5  4\t* * SUN  ");
	assert_int_equal(c.minutes, 1ull << 5);
	assert_int_equal(c.wdays, 1u);
	c = parse("5/20 * * * *");
	assert_int_equal(c.minutes, (1ull << 5) | (1ull << 25) | (1ull << 45));
}

static void
test_cron_refuses_bad_expressions_naming_the_field(void **state)
{
	(void) state;
	refused("", "expected five fields");
	refused("* * * *", "got 4");
	refused("* * * * * *", "got more");
	refused("60 * * * *", "minute: '60' is out of range 0-59");
	refused("* 24 * * *", "hour: '24' is out of range 0-23");
	refused("* * 0 * *", "day of month: '0' is out of range 1-31");
	refused("* * * 13 *", "month: '13' is out of range 1-12");
	refused("* * * * 8", "day of week: '8' is out of range 0-7");
	refused("*/0 * * * *", "minute: '*/0' has a bad step");
	refused("*/ * * * *", "minute: '*/' has a bad step");
	refused("5-1 * * * *", "out of range");
	refused("a * * * *", "minute: 'a' is not a value");
	refused("1,,2 * * * *", "minute: '' is not a value");
	refused("* * * foo *", "month: 'foo' is not a value");
	refused("1-2-3 * * * *", "minute: '1-2-3' is not understood");
	refused("99999999 * * * *", "minute:");
}

static void
test_cron_next_is_the_first_matching_minute_strictly_after(void **state)
{
	(void) state;
	sje_cron c = parse("0 2 * * *");
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 3, 1, 59)), at(2026, 12, 3, 2, 0));
	// Exactly on a tick: the next one, not the same.
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 3, 2, 0)), at(2026, 12, 4, 2, 0));
	// Seconds into a minute count as that minute.
	assert_int_equal(sje_cron_next(&c, at(2026, 12, 3, 2, 0) + 59999),
	    at(2026, 12, 4, 2, 0));
	c = parse("*/15 * * * *");
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 31, 23, 50)), at(2027, 1, 1, 0, 0));
	c = parse("30 12 29 2 *"); // leap days only
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 3, 0, 0)), at(2028, 2, 29, 12, 30));
	c = parse("0 0 30 2 *"); // never
	assert_int_equal(sje_cron_next(&c, at(2026, 12, 3, 0, 0)), 0);
}

static void
test_cron_days_match_either_field_when_both_are_restricted(void **state)
{
	(void) state;
	// The 13th, or any Friday: 2026-12-04 is a Friday.
	sje_cron c = parse("0 0 13 * fri");
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 3, 0, 0)), at(2026, 12, 4, 0, 0));
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 11, 0, 0)), at(2026, 12, 13, 0, 0));
	// With a star in one, both must match: Mondays only.
	c = parse("0 0 * * mon");
	assert_int_equal(
	    sje_cron_next(&c, at(2026, 12, 3, 0, 0)), at(2026, 12, 7, 0, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_cron_parses_stars_values_ranges_steps_lists_and_names),
		cmocka_unit_test(
		    test_cron_refuses_bad_expressions_naming_the_field),
		cmocka_unit_test(
		    test_cron_next_is_the_first_matching_minute_strictly_after),
		cmocka_unit_test(
		    test_cron_days_match_either_field_when_both_are_restricted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
