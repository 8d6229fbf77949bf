// cron.c — five-field cron expressions (cron.h): the parser, one field at
// a time into a bit set, and the search for the next matching minute,
// which skips a whole month, day or hour at a time when that field does
// not match, so it takes a few hundred steps at most.
#include "cron.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

// cron_field describes one of the five fields.
typedef struct cron_field {
	const char        *name;
	int                lo, hi; // the values allowed
	const char *const *names;  // names for lo, lo + 1, ...; NULL: none
} cron_field;

static const char *const cron_month_names[] = { "jan", "feb", "mar", "apr",
	"may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const cron_day_names[]   = { "sun", "mon", "tue", "wed",
	  "thu", "fri", "sat", NULL };

static const cron_field cron_fields[5] = {
	{ "minute", 0, 59, NULL }, { "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL }, { "month", 1, 12, cron_month_names },
	{ "day of week", 0, 7, cron_day_names }, // 7: Sunday again
};

// cron_value reads a number or a name at *p (advancing it) into *v.
static bool
cron_value(const cron_field *f, const char **p, int *v)
{
	const char *s = *p;
	if (*s >= '0' && *s <= '9') {
		long n = 0;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s++ - '0');
			if (n > 1000) {
				return false;
			}
		}
		*v = (int) n;
		*p = s;
		return true;
	}
	for (int i = 0; f->names != NULL && f->names[i] != NULL; i++) {
		if (strncasecmp(s, f->names[i], 3) == 0) {
			*v = f->lo + i;
			*p = s + 3;
			return true;
		}
	}
	return false;
}

// cron_parse_field reads one field (text[0..len)) into *bits.
static bool
cron_parse_field(const cron_field *f, const char *text, size_t len,
    uint64_t *bits, char *why, size_t whylen)
{
	char buf[128];
	if (len == 0 || len >= sizeof(buf)) {
		snprintf(why, whylen, "%s: %s", f->name,
		    len == 0 ? "missing" : "too long");
		return false;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	*bits    = 0;
	for (char *item = buf; item != NULL;) {
		char *comma = strchr(item, ',');
		if (comma != NULL) {
			*comma = '\0';
		}
		const char *p = item;
		int         a = f->lo, b = f->hi, step = 1;
		if (*p == '*') {
			p++;
		} else {
			if (!cron_value(f, &p, &a)) {
				snprintf(why, whylen,
				    "%s: '%s' is not a value, a range or *",
				    f->name, item);
				return false;
			}
			b = a;
			if (*p == '-') {
				p++;
				if (!cron_value(f, &p, &b)) {
					snprintf(why, whylen,
					    "%s: '%s' is not a range", f->name,
					    item);
					return false;
				}
			}
		}
		if (*p == '/') {
			p++;
			const char *d = p;
			if (!cron_value(&(cron_field) { .name = f->name }, &p,
			        &step) ||
			    step == 0 || p == d) {
				snprintf(why, whylen,
				    "%s: '%s' has a bad step", f->name, item);
				return false;
			}
			if (item[0] != '*' && b == a) {
				b = f->hi; // "5/15": from 5 to the end
			}
		}
		if (*p != '\0') {
			snprintf(why, whylen, "%s: '%s' is not understood",
			    f->name, item);
			return false;
		}
		if (a < f->lo || b > f->hi || a > b) {
			snprintf(why, whylen, "%s: '%s' is out of range %d-%d",
			    f->name, item, f->lo, f->hi);
			return false;
		}
		for (int v = a; v <= b; v += step) {
			*bits |= (uint64_t) 1 << v;
		}
		item = comma != NULL ? comma + 1 : NULL;
	}
	return true;
}

bool
sje_cron_parse(const char *text, sje_cron *out, char *why, size_t whylen)
{
	uint64_t    bits[5];
	bool        star[5];
	const char *p = text != NULL ? text : "";
	int         i = 0;

	for (; i < 5; i++) {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		const char *start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			p++;
		}
		if (p == start) {
			snprintf(why, whylen,
			    "expected five fields (minute hour day-of-month "
			    "month day-of-week), got %d",
			    i);
			return false;
		}
		star[i] = *start == '*';
		if (!cron_parse_field(&cron_fields[i], start,
		        (size_t) (p - start), &bits[i], why, whylen)) {
			return false;
		}
	}
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	if (*p != '\0') {
		snprintf(why, whylen,
		    "expected five fields (minute hour day-of-month month "
		    "day-of-week), got more");
		return false;
	}
	if (bits[4] & (1u << 7)) {
		bits[4] = (bits[4] | 1u) & 0x7f; // 7 is Sunday
	}
	out->minutes   = bits[0];
	out->hours     = (uint32_t) bits[1];
	out->mdays     = (uint32_t) bits[2];
	out->months    = (uint16_t) bits[3];
	out->wdays     = (uint8_t) bits[4];
	out->mday_star = star[2];
	out->wday_star = star[4];
	return true;
}

// cron_day_matches applies cron's rule for the two day fields.
static bool
cron_day_matches(const sje_cron *c, const struct tm *tm)
{
	bool md = (c->mdays >> tm->tm_mday) & 1u;
	bool wd = (c->wdays >> tm->tm_wday) & 1u;
	if (!c->mday_star && !c->wday_star) {
		return md || wd;
	}
	return md && wd;
}

sje_time_ms
sje_cron_next(const sje_cron *c, sje_time_ms after_ms)
{
	// The next whole minute after after_ms, in seconds.
	int64_t t     = (after_ms / 60000 + 1) * 60;
	int64_t limit = t + (int64_t) 5 * 366 * 86400;

	while (t <= limit) {
		time_t    tt = (time_t) t;
		struct tm tm;
		if (gmtime_r(&tt, &tm) == NULL) {
			return 0;
		}
		if (!((c->months >> (tm.tm_mon + 1)) & 1u)) {
			// The first minute of the next month.
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = (int64_t) timegm(&tm);
			continue;
		}
		if (!cron_day_matches(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			t = (int64_t) timegm(&tm);
			continue;
		}
		if (!((c->hours >> tm.tm_hour) & 1u)) {
			t += (int64_t) (60 - tm.tm_min) * 60;
			continue;
		}
		int m = tm.tm_min;
		while (m < 60 && !((c->minutes >> m) & 1u)) {
			m++;
		}
		if (m == 60) {
			t += (int64_t) (60 - tm.tm_min) * 60; // the next hour
			continue;
		}
		return (t + (int64_t) (m - tm.tm_min) * 60) * 1000;
	}
	return 0;
}
