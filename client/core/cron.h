// cron.h — five-field cron expressions, as crontab(5) writes them:
//
//   minute hour day-of-month month day-of-week
//
// each field a list (",") of items: "*", a number, a range "a-b", any of
// those with a step "/n"; months also by name (jan..dec), days of the
// week by name (sun..sat) or number (0..7, 0 and 7 both Sunday), names in
// any case. As in cron, when both day fields are restricted (neither
// begins with "*") a day matches either; else it must match both. Times
// are UTC. Pure and thread-safe.
#ifndef SJE_CORE_CRON_H
#define SJE_CORE_CRON_H

#include <sje/sje.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// sje_cron is a parsed expression: one bit per allowed value.
typedef struct sje_cron {
	uint64_t minutes;              // bit 0..59
	uint32_t hours;                // bit 0..23
	uint32_t mdays;                // bit 1..31
	uint16_t months;               // bit 1..12
	uint8_t  wdays;                // bit 0..6, Sunday 0
	bool     mday_star, wday_star; // the field began with "*"
} sje_cron;

// sje_cron_parse reads text into *out. On failure it returns false,
// leaves *out untouched and writes why (one line naming the field, e.g.
// "hour: 24 is out of range 0-23") into why (whylen bytes, cut to fit).
bool sje_cron_parse(const char *text, sje_cron *out, char *why, size_t whylen);

// sje_cron_next is the first minute strictly after after_ms at which c
// matches, in ms since the epoch (a whole minute); 0 when none comes
// within five years (an expression such as "0 0 30 2 *").
sje_time_ms sje_cron_next(const sje_cron *c, sje_time_ms after_ms);

#endif // SJE_CORE_CRON_H
