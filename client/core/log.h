// log.h — the daemons' logger (internal to SJE's programs).
//
// libsje's public functions never log; sje-server, sje-worker and
// sje-client do, through SJE_LOG, which checks the level before formatting.
// A line about a job names it with SJE_LOG_JOB so that every such line
// carries its task_id. Output goes to stderr until sje__log_open says
// otherwise. The formatted text and the task_id are escaped on the way
// out (text: control characters as \n, \xHH; JSON: as JSON, ill-formed
// UTF-8 as U+FFFD), so callers may pass text from jobs and workers as
// is. Thread-safe: each line is written with one write(2).
#ifndef SJE_LOG_H
#define SJE_LOG_H

#include <sje/sje.h>

#include "../../plugins/sje_plugin.h" // sje_log_level

// sje__log_level is the current threshold; read without a lock.
extern volatile int sje__log_level;

// sje__log_open sets the level ("error", "warn", "info", "debug"), the
// format ("text" or "json") and the destination ("stderr", "syslog" or a
// file path, appended to) and the program name. Returns SJE_EINVAL for an
// unknown level or format, SJE_EIO when the file cannot be opened.
// Call before starting threads.
sje_err sje__log_open(const char *program, const char *level,
    const char *format, const char *destination);

// sje__log_close flushes and closes the destination.
void sje__log_close(void);

// sje__log writes one line; task_id may be NULL. Use the macros.
void sje__log(sje_log_level level, const char *task_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// sje__log_plugin writes a plugin's line (the host API's log_job): level
// is clamped to the known levels, message may be NULL.
void sje__log_plugin(
    const char *task_id, sje_log_level level, const char *message);

#define SJE_LOG(lvl, ...)                                   \
	do {                                                \
		if ((int) (lvl) <= sje__log_level)          \
			sje__log((lvl), NULL, __VA_ARGS__); \
	} while (0)

#define SJE_LOG_JOB(lvl, task_id, ...)                           \
	do {                                                     \
		if ((int) (lvl) <= sje__log_level)               \
			sje__log((lvl), (task_id), __VA_ARGS__); \
	} while (0)

#define SJE_ERROR(...) SJE_LOG(SJE_LOG_ERROR, __VA_ARGS__)
#define SJE_WARN(...) SJE_LOG(SJE_LOG_WARN, __VA_ARGS__)
#define SJE_INFO(...) SJE_LOG(SJE_LOG_INFO, __VA_ARGS__)
#define SJE_DEBUG(...) SJE_LOG(SJE_LOG_DEBUG, __VA_ARGS__)

#endif // SJE_LOG_H
