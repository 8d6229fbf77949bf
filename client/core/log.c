// log.c — the daemons' logger.
//
// One line per call, written with a single write(2) so that lines from
// different threads never interleave. Text lines look like
//   2026-11-27T22:00:00.123Z info  sje-server: [task_1] message
// and JSON lines like
//   {"ts":"...","level":"info","program":"sje-server","task_id":"task_1",
//    "msg":"..."}
// The text that goes into a line may come from a job or a worker (an error
// message, a task_id, a name): in text lines (and syslog) every control
// character is escaped (\n, \xHH: sje__text_escape), so a line can never
// be forged or drive a terminal; JSON lines escape as JSON and replace
// ill-formed UTF-8 with U+FFFD, so each stays one valid JSON document.
// The destination is fixed before threads start; the level may be read
// from any thread without a lock.
#include "log.h"
#include "pbjson.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

volatile int sje__log_level = SJE_LOG_INFO;

static int  log_fd          = 2;
static bool log_json        = false;
static bool log_syslog      = false;
static char log_program[64] = "sje";

static const char *level_names[] = { "error", "warn", "info", "debug" };

sje_err
sje__log_open(const char *program, const char *level, const char *format,
    const char *destination)
{
	int lvl = -1;
	for (int i = 0; i < 4; i++) {
		if (level != NULL && strcmp(level, level_names[i]) == 0) {
			lvl = i;
		}
	}
	if (level == NULL || level[0] == '\0') {
		lvl = SJE_LOG_INFO;
	}
	if (lvl < 0) {
		return SJE_EINVAL;
	}
	bool json = false;
	if (format != NULL && strcmp(format, "json") == 0) {
		json = true;
	} else if (format != NULL && format[0] != '\0' &&
	    strcmp(format, "text") != 0) {
		return SJE_EINVAL;
	}
	if (program != NULL) {
		sje__snprintf(log_program, sizeof(log_program), "%s", program);
	}
	if (destination != NULL && strcmp(destination, "syslog") == 0) {
		openlog(log_program, LOG_PID, LOG_DAEMON);
		log_syslog = true;
	} else if (destination != NULL && destination[0] != '\0' &&
	    strcmp(destination, "stderr") != 0) {
		int fd = open(destination,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0) {
			return SJE_EIO;
		}
		log_fd = fd;
	}
	log_json       = json;
	sje__log_level = lvl;
	return SJE_OK;
}

void
sje__log_close(void)
{
	if (log_fd > 2) {
		close(log_fd);
		log_fd = 2;
	}
	if (log_syslog) {
		closelog();
		log_syslog = false;
	}
}

// log_json_escape appends s to b as JSON string content. Ill-formed
// UTF-8 (a job's text from an older store, a message cut at the end of
// the buffer) becomes U+FFFD, so that the line stays valid JSON.
static void
log_json_escape(sje__buf *b, const char *s)
{
	sje__buf r = { 0 };
	sje__utf8_repair(&r, s, strlen(s));
	char *t = sje__buf_take(&r, NULL);
	if (t == NULL) {
		b->failed = true;
		return;
	}
	for (const char *p = t; *p != '\0'; p++) {
		unsigned char c = (unsigned char) *p;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char) c };
			sje__buf_put(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			sje__buf_printf(b, "\\u%04x", c);
		} else {
			sje__buf_put(b, p, 1);
		}
	}
	free(t);
}

// log_text_escape appends s to b for a text line (util.h): no newline or
// control character of a job's text can forge a line or reach a terminal.
static void
log_text_escape(sje__buf *b, const char *s)
{
	sje__text_escape(b, s, strlen(s));
}

void
sje__log(sje_log_level level, const char *task_id, const char *fmt, ...)
{
	char    msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int lvl = (int) level;
	if (lvl < 0 || lvl > 3) {
		lvl = SJE_LOG_INFO;
	}

	// Everything that may come from a job, a worker or a peer (task_id,
	// names, error text) reaches msg through the caller's format: escape
	// the whole of it here, once, rather than at every call.
	sje__buf b = { 0 };
	if (log_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
			LOG_DEBUG };
		if (task_id != NULL) {
			sje__buf_puts(&b, "[");
			log_text_escape(&b, task_id);
			sje__buf_puts(&b, "] ");
		}
		log_text_escape(&b, msg);
		char *t = sje__buf_take(&b, NULL);
		syslog(prio[lvl], "%s", t != NULL ? t : "(out of memory)");
		free(t);
		return;
	}

	char ts[32];
	sje__rfc3339(sje_now_ms(), ts, sizeof(ts));
	if (log_json) {
		sje__buf_printf(&b,
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"program\":\"", ts,
		    level_names[lvl]);
		log_json_escape(&b, log_program);
		sje__buf_puts(&b, "\",");
		if (task_id != NULL) {
			sje__buf_puts(&b, "\"task_id\":\"");
			log_json_escape(&b, task_id);
			sje__buf_puts(&b, "\",");
		}
		sje__buf_puts(&b, "\"msg\":\"");
		log_json_escape(&b, msg);
		sje__buf_puts(&b, "\"}\n");
	} else {
		sje__buf_printf(&b, "%s %-5s ", ts, level_names[lvl]);
		log_text_escape(&b, log_program);
		sje__buf_puts(&b, ": ");
		if (task_id != NULL) {
			sje__buf_puts(&b, "[");
			log_text_escape(&b, task_id);
			sje__buf_puts(&b, "] ");
		}
		log_text_escape(&b, msg);
		sje__buf_puts(&b, "\n");
	}
	size_t off;
	char  *line = sje__buf_take(&b, &off);
	if (line == NULL) {
		static const char oom[] = "sje: out of memory while logging\n";
		ssize_t           n     = write(log_fd, oom, sizeof(oom) - 1);
		(void) n;
		return;
	}
	ssize_t n = write(log_fd, line, off);
	(void) n; // Nothing sensible to do when logging itself fails.
	free(line);
}

void
sje__log_plugin(const char *task_id, sje_log_level level, const char *message)
{
	int lvl = (int) level;

	if (lvl < (int) SJE_LOG_ERROR) {
		lvl = SJE_LOG_ERROR;
	} else if (lvl > (int) SJE_LOG_DEBUG) {
		lvl = SJE_LOG_DEBUG;
	}
	SJE_LOG_JOB((sje_log_level) lvl, task_id, "%s",
	    message != NULL ? message : "");
}
