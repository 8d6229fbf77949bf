// print.h — sje-client's output: JSON documents for --json, text made
// safe for a terminal, times, durations and ages, the key: value block of
// a job, and tables with aligned columns.
//
// Results go to stdout. Not thread-safe: the text functions return
// strings from one ring (the CLI has one thread).
#ifndef SJE_CLI_PRINT_H
#define SJE_CLI_PRINT_H

#include <sje/v1/coordinator.pb-c.h>

#include "clock.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

// sje__print_doc prints j as the one JSON document of --json (indented
// when tty) and releases it (NULL: reported as an error). Returns CLI_OK
// or CLI_FAILED.
int sje__print_doc(bool tty, json_t *j);

// sje__print_msg prints a protobuf message as the one JSON document, as
// sje__pb_to_json renders it.
int sje__print_msg(bool tty, const ProtobufCMessage *m);

// sje__print_text returns s (NULL: "") made safe for a terminal: control
// characters and ill-formed UTF-8 escaped (sje__text_escape: "\\n",
// "\\x1b"), so text from jobs and workers can neither move the cursor
// nor forge lines. The result is borrowed until 16 further calls of the
// text functions (enough for one printf); "(out of memory)" when out of
// memory.
const char *sje__print_text(const char *s);

// sje__print_json_text returns JSON text as jansson wrote it (no raw C0
// controls: those are escaped already) with DEL and the C1 controls,
// which JSON allows raw but a terminal may obey, written as JSON escapes
// ("\\u009b"), so it stays the same JSON. Borrowed like
// sje__print_text's.
const char *sje__print_json_text(const char *s);

// sje__print_time writes a Timestamp as RFC 3339 into buf (len bytes) and
// returns it, or returns "-" when unset.
const char *sje__print_time(
    const Sje__V1__Timestamp *t, char *buf, size_t len);

// sje__print_duration writes ms as "850 ms", "12.3 s", "4m 05s" or
// "2h 03m 04s" into buf and returns it; negative counts as 0.
const char *sje__print_duration(sje_dur_ms ms, char *buf, size_t len);

// sje__print_age writes how long ago t was ("3s ago", "5m ago", "2h ago",
// "4d ago") into buf and returns it, or returns "just now" or "-" (unset).
const char *sje__print_age(const Sje__V1__Timestamp *t, char *buf, size_t len);

// sje__print_key prints the label of a status line ("key:" padded).
void sje__print_key(const char *key);

// sje__print_line prints a status line: the label, then fmt.
void sje__print_line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// sje__print_value prints a JSON value after its key: on one line when it
// fits (compact with spaces when pretty), else indented under the key.
void sje__print_value(const char *key, const json_t *v, bool pretty);

// sje__print_job prints a job for people: an aligned block of key: value.
// Returns CLI_OK, or CLI_FAILED (reported) when it cannot be rendered.
int sje__print_job(const Sje__V1__Job *job);

// sje__table is a grid of owned cells printed with aligned columns. Set
// ncols (at most 16 are aligned) and zero the rest; fill it with
// sje__table_row; sje__table_print prints and frees it.
typedef struct sje__table {
	size_t ncols;
	size_t nrows;
	size_t cap;   // rows allocated
	char **cells; // nrows * ncols
	bool   oom;   // a row was lost: the table prints an error instead
} sje__table;

// sje__table_row appends a row of t->ncols cells (const char *, copied
// through sje__print_text).
void sje__table_row(sje__table *t, ...);

// sje__table_print prints t (or, when memory ran out, an error) and frees
// its cells. Returns CLI_OK or CLI_FAILED.
int sje__table_print(sje__table *t);

#endif // SJE_CLI_PRINT_H
