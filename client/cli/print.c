// print.c — sje-client's output: JSON documents, terminal-safe text,
// times, the key: value block of a job, aligned tables.
//
// With --json a command prints one JSON document: the server's messages
// through sje__pb_to_json, so `status --json` prints exactly what GET
// /status returns. Text for people goes through sje__print_text, which
// keeps text from jobs and workers from driving the terminal.
#include "print.h"

#include "args.h"

#include "pbjson.h"
#include "util.h"

#include <sje/client.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// print_dumps renders j (any value) as text; caller frees. NULL: no memory.
// Reals get the fewest digits that read back exactly (0.1, 100.0).
static char *
print_dumps(const json_t *j, size_t flags)
{
	return sje__json_dumps(j, flags);
}

int
sje__print_doc(bool tty, json_t *j)
{
	char *text = j != NULL
	    ? print_dumps(j, tty ? JSON_INDENT(2) : JSON_COMPACT)
	    : NULL;
	json_decref(j);
	if (text == NULL) {
		fputs("error: cannot render the reply as JSON\n", stderr);
		return CLI_FAILED;
	}
	puts(text);
	free(text);
	return CLI_OK;
}

int
sje__print_msg(bool tty, const ProtobufCMessage *m)
{
	return sje__print_doc(tty, sje__pb_to_json(m));
}

#define CLI_TEXT_RING 16 // sje__print_text results alive at once

// sje__print_text returns s (NULL: "") made safe for a terminal: control
// characters and ill-formed UTF-8 escaped (sje__text_escape: "\\n",
// "\\x1b"), so text from jobs and workers can neither move the cursor
// nor forge lines. The result is borrowed until CLI_TEXT_RING further
// calls (enough for one printf); "(out of memory)" when out of memory.
// Not thread-safe (the CLI has one thread).
static const char *print_text_hold(char *t);

const char *
sje__print_text(const char *s)
{
	sje__buf b = { 0 };

	if (s == NULL) {
		return "";
	}
	sje__text_escape(&b, s, strlen(s));
	char *t = sje__buf_take(&b, NULL);
	if (t == NULL) {
		return "(out of memory)";
	}
	return print_text_hold(t);
}

// print_text_hold keeps t (taken) in the ring of sje__print_text's results,
// freeing the oldest, and returns it.
static const char *
print_text_hold(char *t)
{
	static char    *ring[CLI_TEXT_RING];
	static unsigned next;

	free(ring[next]);
	ring[next] = t;
	next       = (next + 1) % CLI_TEXT_RING;
	return t;
}

const char *
sje__print_json_text(const char *s)
{
	sje__buf b     = { 0 };
	size_t   start = 0, i = 0, len = strlen(s);

	for (; i < len; i++) {
		unsigned char c = (unsigned char) s[i];
		unsigned      cp;
		if (c == 0x7f) {
			cp = c;
		} else if (c == 0xc2 && i + 1 < len &&
		    (unsigned char) s[i + 1] < 0xa0 &&
		    (unsigned char) s[i + 1] >= 0x80) {
			cp = (unsigned char) s[i + 1];
		} else {
			continue;
		}
		sje__buf_put(&b, s + start, i - start);
		sje__buf_printf(&b, "\\u%04x", cp);
		i += cp == 0x7f ? 0 : 1;
		start = i + 1;
	}
	sje__buf_put(&b, s + start, len - start);
	char *t = sje__buf_take(&b, NULL);
	if (t == NULL) {
		return "(out of memory)";
	}
	return print_text_hold(t);
}

const char *
sje__print_time(const Sje__V1__Timestamp *t, char *buf, size_t len)
{
	if (t == NULL || t->unix_ms == 0) {
		return "-";
	}
	sje__rfc3339(t->unix_ms, buf, len);
	return buf;
}

const char *
sje__print_duration(sje_dur_ms ms, char *buf, size_t len)
{
	if (ms < 0) {
		ms = 0;
	}
	if (ms < 1000) {
		sje__snprintf(buf, len, "%" PRId64 " ms", ms);
	} else if (ms < 60000) {
		sje__snprintf(buf, len, "%.3g s", (double) ms / 1000.0);
	} else if (ms < 3600000) {
		sje__snprintf(buf, len, "%" PRId64 "m %02" PRId64 "s",
		    ms / 60000, ms / 1000 % 60);
	} else {
		sje__snprintf(buf, len,
		    "%" PRId64 "h %02" PRId64 "m %02" PRId64 "s", ms / 3600000,
		    ms / 60000 % 60, ms / 1000 % 60);
	}
	return buf;
}

const char *
sje__print_age(const Sje__V1__Timestamp *t, char *buf, size_t len)
{
	if (t == NULL || t->unix_ms == 0) {
		return "-";
	}
	int64_t s = (sje_now_ms() - t->unix_ms) / 1000;
	if (s < 1) {
		return "just now";
	}
	if (s < 120) {
		sje__snprintf(buf, len, "%" PRId64 "s ago", s);
	} else if (s < 7200) {
		sje__snprintf(buf, len, "%" PRId64 "m ago", s / 60);
	} else if (s < 172800) {
		sje__snprintf(buf, len, "%" PRId64 "h ago", s / 3600);
	} else {
		sje__snprintf(buf, len, "%" PRId64 "d ago", s / 86400);
	}
	return buf;
}

#define KEY_WIDTH 13 // "depends_on:" and two spaces
#define LINE_WIDTH 100

void
sje__print_key(const char *key)
{
	printf("%s:%*s", key, (int) (KEY_WIDTH - strlen(key) - 1), "");
}

void
sje__print_line(const char *key, const char *fmt, ...)
{
	va_list ap;
	sje__print_key(key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
sje__print_value(const char *key, const json_t *v, bool pretty)
{
	char *text = print_dumps(v, pretty ? 0 : JSON_COMPACT);
	if (text == NULL) {
		return;
	}
	if (!pretty || strlen(text) + KEY_WIDTH <= LINE_WIDTH) {
		sje__print_line(key, "%s", sje__print_json_text(text));
		free(text);
		return;
	}
	free(text);
	if ((text = print_dumps(v, JSON_INDENT(2))) == NULL) {
		return;
	}
	sje__print_key(key);
	for (char *line = text, *nl; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL) {
			*nl++ = '\0';
		}
		printf("%*s%s\n", line == text ? 0 : KEY_WIDTH, "",
		    sje__print_json_text(line));
	}
	free(text);
}

int
sje__print_job(const Sje__V1__Job *job)
{
	json_t *j = sje__pb_to_json(&job->base);
	if (j == NULL) {
		fputs("error: the server sent a job that cannot be shown\n",
		    stderr);
		return CLI_FAILED;
	}
	char buf[64];
	sje__print_line("task_id", "%s", sje__print_text(job->task_id));
	sje__print_line("function", "%s", sje__print_text(job->function));
	sje__print_line("state", "%s%s", sje_job_state_name(job->state),
	    job->cancel_requested && !sje_job_state_is_terminal(job->state)
	        ? " (cancel requested)"
	        : "");
	if (job->max_attempts > 0) {
		sje__print_line("attempt", "%" PRIu32 "/%" PRIu32,
		    job->attempt, job->max_attempts);
	} else {
		sje__print_line("attempt", "%" PRIu32, job->attempt);
	}
	if (job->worker[0] != '\0') {
		sje__print_line("worker", "%s", sje__print_text(job->worker));
	}
	if (job->priority != 0) {
		sje__print_line("priority", "%" PRId32, job->priority);
	}
	if (job->n_depends_on > 0) {
		sje__print_key("depends_on");
		for (size_t i = 0; i < job->n_depends_on; i++) {
			printf("%s%s", i > 0 ? ", " : "",
			    sje__print_text(job->depends_on[i]));
		}
		putchar('\n');
	}
	if (job->n_labels > 0) {
		sje__print_key("labels");
		for (size_t i = 0; i < job->n_labels; i++) {
			printf("%s%s=%s", i > 0 ? ", " : "",
			    sje__print_text(job->labels[i]->key),
			    sje__print_text(job->labels[i]->value));
		}
		putchar('\n');
	}
	sje__print_line("created", "%s",
	    sje__print_time(job->created_at, buf, sizeof(buf)));
	if (job->started_at != NULL && job->started_at->unix_ms != 0) {
		sje__print_line("started", "%s",
		    sje__print_time(job->started_at, buf, sizeof(buf)));
	}
	if (job->finished_at != NULL && job->finished_at->unix_ms != 0) {
		sje__print_line("finished", "%s",
		    sje__print_time(job->finished_at, buf, sizeof(buf)));
		if (job->started_at != NULL && job->started_at->unix_ms != 0) {
			sje__print_line("duration", "%s",
			    sje__print_duration(job->finished_at->unix_ms -
			            job->started_at->unix_ms,
			        buf, sizeof(buf)));
		}
	} else if (job->started_at != NULL && job->started_at->unix_ms != 0 &&
	    !sje_job_state_is_terminal(job->state)) {
		sje__print_line("duration", "%s so far",
		    sje__print_duration(
		        sje_now_ms() - job->started_at->unix_ms, buf,
		        sizeof(buf)));
	}
	if (job->timeout_s != 0) {
		sje__print_line("timeout", "%" PRIu32 " s", job->timeout_s);
	}
	sje__print_value("params", json_object_get(j, "params"), false);
	if (!json_is_null(json_object_get(j, "result"))) {
		sje__print_value("result", json_object_get(j, "result"), true);
	}
	if (job->error != NULL) {
		sje__print_line("error", "%s: %s",
		    sje__print_text(job->error->type),
		    sje__print_text(job->error->message));
	}
	if (job->progress != NULL) {
		sje__print_line("progress", "%.0f%%%s%s",
		    job->progress->percent,
		    job->progress->message[0] != '\0' ? " " : "",
		    sje__print_text(job->progress->message));
	}
	json_decref(j);
	return CLI_OK;
}

void
sje__table_row(sje__table *t, ...)
{
	if (t->oom) {
		return;
	}
	if (t->nrows == t->cap) {
		size_t cap = t->cap > 0 ? 2 * t->cap : 16;
		char **cells =
		    realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (cells == NULL) {
			t->oom = true;
			return;
		}
		t->cells = cells;
		t->cap   = cap;
	}
	va_list ap;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		char *s =
		    sje__strdup(sje__print_text(va_arg(ap, const char *)));
		t->cells[t->nrows * t->ncols + i] = s;
		t->oom |= s == NULL;
	}
	va_end(ap);
	t->nrows++;
}

int
sje__table_print(sje__table *t)
{
	int rc = CLI_OK;
	if (t->oom) {
		fputs("error: out of memory\n", stderr);
		rc = CLI_FAILED;
	} else {
		size_t width[16] = { 0 };
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < t->ncols && i < 16; i++) {
				size_t l = strlen(t->cells[r * t->ncols + i]);
				width[i] = l > width[i] ? l : width[i];
			}
		}
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t i = 0; i < t->ncols; i++) {
				const char *s = t->cells[r * t->ncols + i];
				if (i + 1 == t->ncols) {
					puts(s);
				} else {
					printf("%-*s  ", (int) width[i], s);
				}
			}
		}
	}
	for (size_t k = 0; k < t->nrows * t->ncols; k++) {
		free(t->cells[k]);
	}
	free(t->cells);
	return rc;
}
