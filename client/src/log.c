// log.c — the daemons' logger.
//
// One line per call, written with a single write(2) so that lines from
// different threads never interleave. Text lines look like
//   2026-11-27T22:00:00.123Z info  sje-server: [task_1] message
// and JSON lines like
//   {"ts":"...","level":"info","program":"sje-server","task_id":"task_1",
//    "msg":"..."}
// The destination is fixed before threads start; the level may be read
// from any thread without a lock.
#include "log.h"
#include "pbjson.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
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

// log_json_escape appends s to buf[*off..len) as JSON string content.
static void
log_json_escape(char *buf, size_t len, size_t *off, const char *s)
{
	for (; *s != '\0' && *off + 7 < len; s++) {
		unsigned char c = (unsigned char) *s;
		if (c == '"' || c == '\\') {
			buf[(*off)++] = '\\';
			buf[(*off)++] = (char) c;
		} else if (c < 0x20) {
			*off += (size_t) snprintf(
			    buf + *off, len - *off, "\\u%04x", c);
		} else {
			buf[(*off)++] = (char) c;
		}
	}
	buf[*off] = '\0';
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

	if (log_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
			LOG_DEBUG };
		if (task_id != NULL) {
			syslog(prio[lvl], "[%s] %s", task_id, msg);
		} else {
			syslog(prio[lvl], "%s", msg);
		}
		return;
	}

	char ts[32];
	sje__rfc3339(sje_now_ms(), ts, sizeof(ts));
	char   line[4096];
	size_t off = 0;
	if (log_json) {
		off = (size_t) snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"program\":\"%s\",", ts,
		    level_names[lvl], log_program);
		if (task_id != NULL) {
			off += (size_t) snprintf(
			    line + off, sizeof(line) - off, "\"task_id\":\"");
			log_json_escape(line, sizeof(line), &off, task_id);
			off += (size_t) snprintf(
			    line + off, sizeof(line) - off, "\",");
		}
		off += (size_t) snprintf(
		    line + off, sizeof(line) - off, "\"msg\":\"");
		log_json_escape(line, sizeof(line) - 3, &off, msg);
		off +=
		    (size_t) snprintf(line + off, sizeof(line) - off, "\"}\n");
	} else {
		if (task_id != NULL) {
			off = (size_t) snprintf(line, sizeof(line),
			    "%s %-5s %s: [%s] %s\n", ts, level_names[lvl],
			    log_program, task_id, msg);
		} else {
			off = (size_t) snprintf(line, sizeof(line),
			    "%s %-5s %s: %s\n", ts, level_names[lvl],
			    log_program, msg);
		}
	}
	if (off >= sizeof(line)) {
		off           = sizeof(line) - 1;
		line[off - 1] = '\n';
	}
	ssize_t n = write(log_fd, line, off);
	(void) n; // Nothing sensible to do when logging itself fails.
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
